//! Many tasks waiting on one socket in the same direction: every `&self`
//! future (`accept`, `recv`, `recv_from`, `readable`, ...) keeps its own
//! place among the socket's waiters, an event wakes all of them, and a
//! cancelled future gives its place up without taking anyone's wake-up.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

#[cfg(unix)]
use moduvex_runtime::net::UnixDatagram;
use moduvex_runtime::net::{TcpListener, TcpStream, UdpSocket};
use moduvex_runtime::sync::mpsc;
use moduvex_runtime::{block_on, spawn, Flavor, Runtime};

type Result<T = ()> = std::io::Result<T>;

/// Runs `f` on a helper thread and fails if it has not finished after a
/// generous bound: a waiter that is never woken must fail the test, not
/// hang the suite.
fn hang_guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let helper = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => {
            helper.join().unwrap();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s: a waiting task was never woken")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The helper panicked: report its panic.
            std::panic::resume_unwind(helper.join().unwrap_err())
        }
    }
}

/// Awaits `fut`, sending on `pending` the first time it returns `Pending`
/// (so the test knows the task waits before it makes the event happen).
async fn announce_pending<F: Future>(fut: F, pending: mpsc::UnboundedSender<()>) -> F::Output {
    let mut fut = pin!(fut);
    let mut announced = false;
    poll_fn(|cx| {
        let res = fut.as_mut().poll(cx);
        if res.is_pending() && !announced {
            announced = true;
            let _ = pending.send(());
        }
        res
    })
    .await
}

/// Two tasks accept on one shared listener; two connections arrive; both
/// tasks get one.
async fn two_acceptors() -> Result {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await?);
    let addr = listener.local_addr()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let acceptors: Vec<_> = (0..2)
        .map(|_| {
            let (listener, tx) = (listener.clone(), tx.clone());
            spawn(async move { announce_pending(listener.accept(), tx).await.map(drop) })
        })
        .collect();
    for _ in 0..2 {
        rx.recv().await.unwrap();
    }
    let _c1 = TcpStream::connect(addr).await?;
    let _c2 = TcpStream::connect(addr).await?;
    for a in acceptors {
        a.await.unwrap()?;
    }
    Ok(())
}

#[test]
fn two_tasks_accepting_on_one_listener_both_get_a_connection() -> Result {
    hang_guard(
        "two acceptors, current thread",
        || block_on(two_acceptors()),
    )
}

#[test]
fn two_tasks_accepting_on_one_listener_across_workers() -> Result {
    hang_guard("two acceptors, 2 workers", || {
        let rt = Runtime::builder()
            .flavor(Flavor::WorkStealing)
            .worker_threads(2)
            .build()?;
        rt.block_on(two_acceptors())
    })
}

#[test]
fn two_readers_of_one_udp_socket_both_get_a_datagram() -> Result {
    hang_guard("two UDP readers", || {
        block_on(async {
            let rx_sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
            let tx_sock = UdpSocket::bind("127.0.0.1:0").await?;
            let to = rx_sock.local_addr()?;
            let (tx, mut pending) = mpsc::unbounded_channel();
            // One reader through `recv_from`, one through `recv` after `readable`.
            let a = spawn({
                let (s, tx) = (rx_sock.clone(), tx.clone());
                async move {
                    let mut buf = [0u8; 16];
                    announce_pending(s.recv_from(&mut buf), tx)
                        .await
                        .map(|(n, _)| n)
                }
            });
            let b = spawn({
                let (s, tx) = (rx_sock.clone(), tx.clone());
                async move {
                    let mut buf = [0u8; 16];
                    loop {
                        announce_pending(s.readable(), tx.clone()).await?;
                        match s.try_recv_from(&mut buf) {
                            Ok((n, _)) => return Ok(n),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                            Err(e) => return Err(e),
                        }
                    }
                }
            });
            for _ in 0..2 {
                pending.recv().await.unwrap();
            }
            tx_sock.send_to(b"one", to).await?;
            tx_sock.send_to(b"two", to).await?;
            assert_eq!(a.await.unwrap()? + b.await.unwrap()?, 6);
            Ok(())
        })
    })
}

#[cfg(unix)]
#[test]
fn two_readers_of_one_unix_datagram_socket_both_get_a_datagram() -> Result {
    hang_guard("two UnixDatagram readers", || {
        block_on(async {
            let (left, right) = UnixDatagram::pair()?;
            let right = Arc::new(right);
            let (tx, mut pending) = mpsc::unbounded_channel();
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let (s, tx) = (right.clone(), tx.clone());
                    spawn(async move {
                        let mut buf = [0u8; 16];
                        announce_pending(s.recv(&mut buf), tx).await
                    })
                })
                .collect();
            for _ in 0..2 {
                pending.recv().await.unwrap();
            }
            left.send(b"one").await?;
            left.send(b"three").await?;
            let mut total = 0;
            for r in readers {
                total += r.await.unwrap()?;
            }
            assert_eq!(total, 8);
            Ok(())
        })
    })
}

/// The first task waits, a second waits after it and is cancelled; the
/// connection that then arrives reaches the first.
#[test]
fn a_cancelled_acceptor_does_not_take_the_remaining_ones_wake_up() -> Result {
    hang_guard("cancelled acceptor", || {
        block_on(async {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await?);
            let addr = listener.local_addr()?;
            let (tx, mut pending) = mpsc::unbounded_channel();
            let first = spawn({
                let (l, tx) = (listener.clone(), tx.clone());
                async move { announce_pending(l.accept(), tx).await.map(drop) }
            });
            pending.recv().await.unwrap();
            let cancelled = spawn({
                let (l, tx) = (listener.clone(), tx.clone());
                async move { announce_pending(l.accept(), tx).await.map(drop) }
            });
            pending.recv().await.unwrap();
            cancelled.abort();
            assert!(cancelled.await.unwrap_err().is_cancelled());
            let _c = TcpStream::connect(addr).await?;
            first.await.unwrap()
        })
    })
}

/// `select!`-style use: an `accept()` polled once and dropped, over and
/// over, leaves no waiter behind; a real `accept` afterwards still works.
#[test]
fn accept_futures_polled_and_dropped_in_a_loop_leave_the_listener_usable() -> Result {
    hang_guard("polled and dropped accepts", || {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            for _ in 0..10_000 {
                let mut accept = pin!(listener.accept());
                poll_fn(|cx| {
                    assert!(accept.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
            }
            let _c = TcpStream::connect(addr).await?;
            listener.accept().await.map(drop)
        })
    })
}
