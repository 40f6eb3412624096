//! `io::copy`, `copy_buf` and `copy_bidirectional` as tokio has them: the
//! writer is flushed whenever the reader waits (a proxy through a buffering
//! writer does not deadlock), each write side is shut down when its reader
//! ends, a writer that accepts nothing is an error, and a copy between
//! always-ready ends leaves room for other tasks.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use moduvex_runtime::io::{
    copy, copy_bidirectional, copy_buf, duplex, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
    BufReader, BufWriter, DuplexStream,
};

/// Runs `f` on a helper thread; fails with a clear message instead of
/// hanging if it has not finished after a generous bound.
fn hang_guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s: the copy deadlocked or spun")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the scenario panicked"),
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    /// A round of polls in which every future stayed pending and nothing
    /// was woken: no poll can ever change anything again.
    Stuck,
}

/// Polls `proxy` and `scenario` (all in-memory, every wake-up synchronous)
/// until `scenario` finishes or nothing can move any more.
fn drive(proxy: impl Future, scenario: impl Future) -> Outcome {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut proxy = std::pin::pin!(proxy);
    let mut scenario = std::pin::pin!(scenario);
    let mut proxy_done = false;
    for _ in 0..100_000 {
        flag.0.store(false, Ordering::SeqCst);
        if scenario.as_mut().poll(&mut cx).is_ready() {
            return Outcome::Done;
        }
        if !proxy_done {
            proxy_done = proxy.as_mut().poll(&mut cx).is_ready();
        }
        if !flag.0.load(Ordering::SeqCst) {
            return Outcome::Stuck;
        }
    }
    panic!("drive: still making progress after 100000 rounds");
}

/// A client sends a request through a proxy that writes into a buffering
/// writer, and keeps its end open (it would wait for a reply); the server
/// must see the request.
fn request_through_buffering_proxy<P, F>(proxy: P) -> Outcome
where
    P: FnOnce(DuplexStream, BufWriter<DuplexStream>) -> F,
    F: Future,
{
    let (mut client, proxy_in) = duplex(64);
    let (proxy_out, mut server) = duplex(64);
    let proxy = proxy(proxy_in, BufWriter::new(proxy_out));
    let scenario = async move {
        client.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        drop(client);
    };
    drive(proxy, scenario)
}

#[test]
fn futures_lite_copy_deadlocks_a_proxy_through_a_buffering_writer() {
    // The copy these helpers replace: it flushes only at end-of-file.
    let outcome = request_through_buffering_proxy(|mut r, mut w| async move {
        futures_lite::io::copy(&mut r, &mut w).await
    });
    assert_eq!(outcome, Outcome::Stuck);
}

#[test]
fn copy_flushes_the_writer_whenever_the_reader_waits() {
    let outcome =
        request_through_buffering_proxy(|mut r, mut w| async move { copy(&mut r, &mut w).await });
    assert_eq!(outcome, Outcome::Done);
}

#[test]
fn copy_buf_flushes_the_writer_whenever_the_reader_waits() {
    let outcome = request_through_buffering_proxy(|r, mut w| async move {
        copy_buf(&mut BufReader::new(r), &mut w).await
    });
    assert_eq!(outcome, Outcome::Done);
}

#[test]
fn a_request_reply_proxy_through_a_buffering_writer_completes_on_the_runtime() {
    let reply = hang_guard("proxy round trip", || {
        moduvex_runtime::block_on(async {
            let (mut client, mut proxy_in) = duplex(64);
            let (proxy_out, mut server) = duplex(64);
            let proxy = moduvex_runtime::spawn(async move {
                let mut w = BufWriter::new(proxy_out);
                copy(&mut proxy_in, &mut w).await
            });
            let server = moduvex_runtime::spawn(async move {
                let mut req = [0u8; 4];
                server.read_exact(&mut req).await?;
                Ok::<_, io::Error>(req)
            });
            client.write_all(b"ping").await.unwrap();
            let req = server.await.unwrap().unwrap();
            client.close().await.unwrap();
            let n = proxy.await.unwrap().unwrap();
            (req, n)
        })
    });
    assert_eq!(reply, (*b"ping", 4));
}

/// Accepts nothing: every write returns `Ok(0)`.
struct WriteZero;

impl AsyncWrite for WriteZero {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_writer_that_accepts_nothing_fails_the_copy_with_write_zero() {
    let (a, b) = hang_guard("copy into a WriteZero writer", || {
        moduvex_runtime::block_on(async {
            let a = copy(&mut &b"data"[..], &mut WriteZero).await;
            let b = copy_buf(&mut BufReader::new(&b"data"[..]), &mut WriteZero).await;
            (a.unwrap_err(), b.unwrap_err())
        })
    });
    assert_eq!(a.kind(), io::ErrorKind::WriteZero, "{a}");
    assert!(a.to_string().contains("io::copy"), "{a}");
    assert_eq!(b.kind(), io::ErrorKind::WriteZero, "{b}");
}

#[test]
fn copy_bidirectional_shuts_each_write_side_down_when_its_reader_ends() {
    let (counts, seen) = hang_guard("copy_bidirectional", || {
        moduvex_runtime::block_on(async {
            let (mut client, mut a) = duplex(16);
            let (mut b, mut server) = duplex(16);
            let proxy =
                moduvex_runtime::spawn(async move { copy_bidirectional(&mut a, &mut b).await });
            // The server answers only once the client's side has ended,
            // which it can see only if the proxy shut its write side down.
            let server = moduvex_runtime::spawn(async move {
                let mut req = Vec::new();
                server.read_to_end(&mut req).await?;
                server.write_all(&[b'r'; 100]).await?;
                server.shutdown().await?;
                let mut rest = Vec::new();
                server.read_to_end(&mut rest).await?;
                Ok::<_, io::Error>((req, rest))
            });
            client.write_all(&[b'q'; 40]).await.unwrap();
            client.shutdown().await.unwrap();
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            let (req, rest) = server.await.unwrap().unwrap();
            let counts = proxy.await.unwrap().unwrap();
            (counts, (req.len(), reply.len(), rest.len()))
        })
    });
    assert_eq!(counts, (40, 100), "(a to b, b to a)");
    assert_eq!(seen, (40, 100, 0));
}

#[test]
fn copy_bidirectional_when_the_far_side_ends_first() {
    let counts = hang_guard("copy_bidirectional, server first", || {
        moduvex_runtime::block_on(async {
            let (mut client, mut a) = duplex(8);
            let (mut b, mut server) = duplex(8);
            let proxy =
                moduvex_runtime::spawn(async move { copy_bidirectional(&mut a, &mut b).await });
            server.write_all(b"banner").await.unwrap();
            server.shutdown().await.unwrap();
            let mut banner = Vec::new();
            client.read_to_end(&mut banner).await.unwrap();
            assert_eq!(banner, b"banner");
            // The client still talks after the server's side ended.
            client.write_all(b"late").await.unwrap();
            drop(client);
            let mut late = Vec::new();
            server.read_to_end(&mut late).await.unwrap();
            assert_eq!(late, b"late");
            proxy.await.unwrap().unwrap()
        })
    });
    assert_eq!(counts, (4, 6));
}

/// Fails every read.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")))
    }
}

impl AsyncWrite for Broken {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn copy_bidirectional_returns_the_first_error() {
    let err = hang_guard("copy_bidirectional error", || {
        moduvex_runtime::block_on(async {
            let (_client, mut a) = duplex(8);
            copy_bidirectional(&mut a, &mut Broken).await.unwrap_err()
        })
    });
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
}

/// Always ready; notes whether `sibling` had run by the time of a write.
struct Watch {
    sibling: Arc<AtomicBool>,
    saw_sibling: bool,
}

impl AsyncWrite for Watch {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.saw_sibling |= self.sibling.load(Ordering::SeqCst);
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[moduvex_runtime::test]
async fn a_copy_between_always_ready_ends_lets_other_tasks_run() {
    let sibling = Arc::new(AtomicBool::new(false));
    let s = sibling.clone();
    let _sibling_task = moduvex_runtime::spawn(async move { s.store(true, Ordering::SeqCst) });
    // 512 chunks: several budgets' worth.
    let mut reader = futures_lite::io::repeat(7).take(4 << 20);
    let mut w = Watch {
        sibling: sibling.clone(),
        saw_sibling: false,
    };
    assert_eq!(copy(&mut reader, &mut w).await.unwrap(), 4 << 20);
    assert!(
        w.saw_sibling,
        "the copy must spend budget per chunk and yield before it ends"
    );
}

#[test]
fn copy_bidirectional_with_sizes_copies_through_small_buffers() {
    let counts = hang_guard("copy_bidirectional_with_sizes", || {
        moduvex_runtime::block_on(async {
            let (mut client, mut a) = duplex(64);
            let (mut b, mut server) = duplex(64);
            let proxy = moduvex_runtime::spawn(async move {
                moduvex_runtime::io::copy_bidirectional_with_sizes(&mut a, &mut b, 1, 3).await
            });
            client.write_all(b"one byte at a time").await.unwrap();
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"one byte at a time");
            server.write_all(b"back").await.unwrap();
            drop(server);
            let mut back = Vec::new();
            client.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"back");
            proxy.await.unwrap().unwrap()
        })
    });
    assert_eq!(counts, (18, 4));
}

#[test]
#[should_panic(expected = "io::copy_bidirectional_with_sizes(0, 8): a buffer size of 0")]
fn copy_bidirectional_with_a_zero_buffer_panics_naming_the_call() {
    let (mut a, mut b) = duplex(8);
    drop(moduvex_runtime::io::copy_bidirectional_with_sizes(
        &mut a, &mut b, 0, 8,
    ));
}
