//! `Stream` for the runtime's own sources: `Interval` (under the paused
//! clock), `Signal`, `JoinSet`, the listeners' `incoming()` and the
//! wrappers of `moduvex_runtime::stream` that own a listener, interval or
//! signal, as tokio-stream's wrappers behave.
//!
//! Every scenario runs on a helper thread under a hang guard (20 s): a lost
//! wake-up would otherwise hang the test. Nothing asserts on elapsed time.

// The Unix-only tests below are `cfg(unix)`; what only they use is unused elsewhere.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]
#![cfg(not(loom))]

use std::io::{Read, Write};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use futures_lite::future::poll_once;
use futures_lite::StreamExt;
use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
#[cfg(unix)]
use moduvex_runtime::net::{UnixListener, UnixStream};
#[cfg(unix)]
use moduvex_runtime::signal::unix::{signal, SignalKind};
use moduvex_runtime::stream::{IntervalStream, Stream, TcpListenerStream};
#[cfg(unix)]
use moduvex_runtime::stream::{SignalStream, UnixListenerStream};
use moduvex_runtime::sync::oneshot;
use moduvex_runtime::task::JoinSet;
use moduvex_runtime::time::{self, Instant, MissedTickBehavior};
use moduvex_runtime::{spawn, JoinError};

/// Runs `f` on a helper thread and fails if it has not finished after 20 s.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std_mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) | Err(std_mpsc::RecvTimeoutError::Disconnected) => {}
        Err(std_mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s (a wake-up was lost)")
        }
    }
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

const MS: Duration = Duration::from_millis(1);

#[moduvex_runtime::main(flavor = "current_thread", start_paused = true)]
async fn interval_ticks_are_the_scheduled_instants() {
    let start = Instant::now();
    let mut ticks = time::interval(10 * MS);
    // tokio-stream's IntervalStream: never ends, one item per tick.
    assert_eq!(ticks.size_hint(), (usize::MAX, None));
    assert_eq!(ticks.next().await, Some(start));
    assert_eq!(ticks.next().await, Some(start + 10 * MS));
    // The paused clock jumped exactly to each tick.
    assert_eq!(Instant::now(), start + 10 * MS);
    let rest: Vec<Instant> = (&mut ticks).take(3).collect().await;
    assert_eq!(rest, [start + 20 * MS, start + 30 * MS, start + 40 * MS]);
    // Not yet due: the stream is pending, not ended.
    assert!(poll_once(ticks.next()).await.is_none());
}

#[test]
fn interval_is_a_stream_of_its_ticks_under_the_paused_clock() {
    guarded("Interval stream", interval_ticks_are_the_scheduled_instants);
}

#[moduvex_runtime::main(flavor = "current_thread", start_paused = true)]
async fn interval_stream_keeps_the_missed_tick_behaviour() {
    let start = Instant::now();
    let mut inner = time::interval(10 * MS);
    inner.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut ticks = IntervalStream::new(inner);
    assert_eq!(ticks.next().await, Some(start));
    time::advance(35 * MS).await;
    // Late by 3.5 periods: the due tick at once, then Skip drops the
    // missed ones and goes on with the schedule's next future slot.
    assert_eq!(ticks.next().await, Some(start + 10 * MS));
    assert_eq!(ticks.next().await, Some(start + 40 * MS));
    assert_eq!(ticks.as_ref().period(), 10 * MS);
    let inner = ticks.into_inner();
    assert_eq!(inner.missed_tick_behavior(), MissedTickBehavior::Skip);
}

#[test]
fn interval_stream_wrapper_forwards_to_the_interval() {
    guarded(
        "IntervalStream",
        interval_stream_keeps_the_missed_tick_behaviour,
    );
}

#[cfg(unix)]
/// Raises `signum` in this process.
fn raise(signum: i32) {
    // SAFETY: raise(3) only sends the signal to this process, which has a handler installed for it (the test listens first).
    let rc = unsafe { libc::raise(signum) };
    assert_eq!(rc, 0, "raise({signum}) failed");
}

#[cfg(unix)]
#[test]
fn signal_streams_yield_one_item_per_delivery() {
    guarded("Signal stream", || {
        moduvex_runtime::block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            let mut usr2 = SignalStream::new(signal(SignalKind::user_defined2()).unwrap());
            // Nothing delivered yet: pending, not ended.
            assert!(poll_once(usr1.next()).await.is_none());
            raise(libc::SIGUSR1);
            assert_eq!(usr1.next().await, Some(()));
            raise(libc::SIGUSR2);
            assert_eq!(usr2.next().await, Some(()));
            assert_eq!(usr2.as_ref().kind(), SignalKind::user_defined2());
            // Each stream saw its own signal once; the next item needs a
            // new delivery.
            raise(libc::SIGUSR1);
            assert_eq!(usr1.next().await, Some(()));
            assert!(poll_once(usr2.next()).await.is_none());
        })
    });
}

#[test]
fn join_set_stream_yields_in_completion_order_and_ends_when_empty() {
    guarded("JoinSet stream", || {
        moduvex_runtime::block_on(async {
            let mut set = JoinSet::new();
            let mut gates = Vec::new();
            for i in 0..3u32 {
                let (tx, rx) = oneshot::channel::<()>();
                gates.push(tx);
                set.spawn(async move {
                    rx.await.unwrap();
                    i
                });
            }
            assert_eq!(set.size_hint(), (3, Some(3)));
            assert!(
                poll_once(set.next()).await.is_none(),
                "no task has finished"
            );
            let mut gates: Vec<Option<oneshot::Sender<()>>> = gates.into_iter().map(Some).collect();
            let mut order = Vec::new();
            for i in [2, 0, 1] {
                gates[i].take().unwrap().send(()).unwrap();
                let res: Result<u32, JoinError> = set.next().await.expect("a task is left");
                order.push(res.unwrap());
            }
            assert_eq!(order, [2, 0, 1]);
            // Empty: the stream ends...
            assert!(set.next().await.is_none());
            // ...until the set gets a task again; a failure is an item.
            set.spawn(async { panic!("task fails") });
            let err = set.next().await.expect("one task").unwrap_err();
            assert!(err.is_panic());
            assert!(set.next().await.is_none());
        })
    });
}

#[test]
fn tcp_incoming_accepts_three_connections() {
    guarded("TcpListener::incoming", || {
        moduvex_runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = spawn(async move {
                for i in 0..3u8 {
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    c.write_all(&[i]).await.unwrap();
                }
            });
            let mut seen = Vec::new();
            let mut incoming = listener.incoming();
            assert_eq!(incoming.size_hint(), (usize::MAX, None));
            for _ in 0..3 {
                let mut conn = incoming.next().await.expect("never ends").unwrap();
                let mut byte = [0u8];
                conn.read_exact(&mut byte).await.unwrap();
                seen.push(byte[0]);
            }
            clients.await.unwrap();
            seen.sort();
            assert_eq!(seen, [0, 1, 2]);
        })
    });
}

#[test]
fn two_incoming_streams_on_one_listener_both_wake() {
    // Each `incoming()` holds its own waiter place (as `accept()` does):
    // with a single poll waker, one of the two tasks would never wake.
    guarded("two Incoming streams", || {
        let rt = moduvex_runtime::Runtime::builder()
            .flavor(moduvex_runtime::Flavor::CurrentThread)
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..2)
                .map(|_| {
                    let l = listener.clone();
                    spawn(async move { l.incoming().next().await.unwrap().map(|_| ()) })
                })
                .collect();
            // Let both register before any connection arrives.
            for _ in 0..4 {
                moduvex_runtime::yield_now().await;
            }
            let _a = std::net::TcpStream::connect(addr).unwrap();
            let _b = std::net::TcpStream::connect(addr).unwrap();
            for a in acceptors {
                a.await.unwrap().unwrap();
            }
        })
    });
}

#[test]
fn tcp_listener_stream_owns_its_listener() {
    guarded("TcpListenerStream", || {
        moduvex_runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut incoming = TcpListenerStream::new(listener);
            assert_eq!(incoming.as_ref().local_addr().unwrap(), addr);
            let client = std::thread::spawn(move || {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(b"hi").unwrap();
            });
            let mut conn = incoming.next().await.unwrap().unwrap();
            let mut buf = [0u8; 2];
            conn.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
            client.join().unwrap();
            let listener = incoming.into_inner();
            assert_eq!(listener.local_addr().unwrap(), addr);
        })
    });
}

#[cfg(unix)]
#[test]
fn unix_incoming_and_listener_stream_accept() {
    guarded("UnixListener::incoming", || {
        let path = std::env::temp_dir().join(format!("mdx-stream-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let p = path.clone();
        moduvex_runtime::block_on(async move {
            let listener = UnixListener::bind(&p).unwrap();
            let p2 = p.clone();
            let clients = std::thread::spawn(move || {
                for i in 0..3u8 {
                    let mut c = std::os::unix::net::UnixStream::connect(&p2).unwrap();
                    c.write_all(&[i]).unwrap();
                    // Wait for the server's echo so the three stay in order.
                    let mut b = [0u8];
                    c.read_exact(&mut b).unwrap();
                    assert_eq!(b[0], i);
                }
            });
            let mut incoming = listener.incoming();
            for _ in 0..2 {
                let mut conn: UnixStream = incoming.next().await.unwrap().unwrap();
                let mut b = [0u8];
                conn.read_exact(&mut b).await.unwrap();
                conn.write_all(&b).await.unwrap();
            }
            drop(incoming);
            let mut owned = UnixListenerStream::new(listener);
            let mut conn = owned.next().await.unwrap().unwrap();
            let mut b = [0u8];
            conn.read_exact(&mut b).await.unwrap();
            assert_eq!(b[0], 2);
            conn.write_all(&b).await.unwrap();
            clients.join().unwrap();
        });
        std::fs::remove_file(&path).unwrap();
    });
}
