//! Readiness on streams, as tokio's: `ready(Interest)`, `readable()`,
//! `writable()`, `poll_*_ready` and the `try_*` operations. A `try_*` that
//! returns `WouldBlock` clears the readiness it ran on, so the next wait
//! sleeps until the kernel reports a new edge; readiness waits spend no
//! cooperative budget.

// The Unix-only tests below are `cfg(unix)`; what only they use is unused elsewhere.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

mod ready_common;

use std::future::poll_fn;
use std::io::{IoSlice, IoSliceMut, Write};
#[cfg(unix)]
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use moduvex_runtime::io::{AsyncReadExt, Interest};
#[cfg(unix)]
use moduvex_runtime::net::UnixStream;
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::spawn;
use ready_common::{poll_once, run};

type Result<T = ()> = std::io::Result<T>;

fn would_block<T: std::fmt::Debug>(res: Result<T>) -> bool {
    matches!(&res, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[cfg(unix)]
/// Clears the optimistic readiness of a fresh stream: a read that finds
/// nothing, so the next `readable()` truly waits for the kernel's edge.
fn drain_optimism(s: &UnixStream) {
    let mut buf = [0; 1];
    assert!(would_block(s.try_read(&mut buf)), "nothing was written yet");
}

#[cfg(unix)]
async fn partial_reads(a: UnixStream, b: UnixStream) -> Result {
    drain_optimism(&b);
    (&a).write_all_now(b"0123456789")?;
    b.readable().await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4];
    let n = loop {
        match b.try_read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break got.len(),
            Err(e) => return Err(e),
        }
        assert!(got.len() <= 10, "more bytes than were written");
    };
    assert_eq!(n, 10);
    assert_eq!(got, b"0123456789");
    // The WouldBlock cleared the readiness: the next wait sleeps.
    assert!(
        poll_once(b.readable()).await.is_pending(),
        "readable() returned at once after try_read hit WouldBlock"
    );
    assert!(poll_once(b.ready(Interest::READABLE)).await.is_pending());
    // ... until the next write's edge.
    (&a).write_all_now(b"next")?;
    b.readable().await?;
    assert_eq!(b.try_read(&mut buf)?, 4);
    assert_eq!(&buf, b"next");
    Ok(())
}

/// A blocking-free write of a few bytes that always fit.
trait WriteNow {
    fn write_all_now(self, bytes: &[u8]) -> Result;
}

#[cfg(unix)]
#[cfg(unix)]
impl WriteNow for &UnixStream {
    fn write_all_now(self, bytes: &[u8]) -> Result {
        assert_eq!(self.try_write(bytes)?, bytes.len());
        Ok(())
    }
}

#[cfg(unix)]
#[test]
fn try_read_reads_partially_then_would_block_then_readable_waits_for_the_next_write() {
    run("partial reads", async {
        let (a, b) = UnixStream::pair()?;
        partial_reads(a, b).await
    })
    .unwrap();
}

#[test]
fn partial_reads_on_tcp() {
    run("partial reads on tcp", async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let client = TcpStream::connect(addr).await?;
        let (server, _) = listener.accept().await?;
        let mut buf = [0u8; 4];
        // Fresh streams are optimistically readable; drain that guess.
        assert!(would_block(server.try_read(&mut buf)));
        client.writable().await?;
        assert_eq!(client.try_write(b"0123456789")?, 10);
        let mut got = Vec::new();
        while got.len() < 10 {
            server.readable().await?;
            match server.try_read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        assert_eq!(got, b"0123456789");
        assert!(would_block(server.try_read(&mut buf)));
        assert!(poll_once(server.readable()).await.is_pending());
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn try_write_until_would_block_then_writable_waits_for_room() {
    run("try_write until full", async {
        let (a, b) = UnixStream::pair()?;
        let chunk = vec![7u8; 64 * 1024];
        let mut written = 0usize;
        let mut rounds = 0;
        loop {
            match a.try_write(&chunk) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
            rounds += 1;
            assert!(rounds < 100_000, "the socket buffer never filled");
        }
        assert!(written > 0);
        assert!(
            poll_once(a.writable()).await.is_pending(),
            "writable() returned at once after try_write hit WouldBlock"
        );
        // The peer drains everything: room again, and a new edge.
        let reader = spawn(async move {
            let mut b = b;
            let mut buf = vec![0u8; written];
            b.read_exact(&mut buf).await.map(|()| b)
        });
        a.writable().await?;
        assert!(a.try_write(b"more")? > 0);
        reader.await.unwrap()?;
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn ready_reports_both_directions_and_a_closed_peer() {
    run("ready both", async {
        let (a, b) = UnixStream::pair()?;
        let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        assert!(ready.is_writable(), "{ready:?}");
        drain_optimism(&a);
        let ready = a.ready(Interest::WRITABLE).await?;
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
        drop(b);
        let ready = a.ready(Interest::READABLE).await?;
        assert!(ready.is_read_closed(), "{ready:?}");
        let mut buf = [0; 4];
        assert_eq!(a.try_read(&mut buf)?, 0, "end of stream");
        // A closed half is final: clearing never forgets it.
        assert!(poll_once(a.readable()).await.is_ready());
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn vectored_and_buf_reads_and_writes() {
    run("vectored", async {
        let (a, b) = UnixStream::pair()?;
        drain_optimism(&b);
        let n = a.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])?;
        assert_eq!(n, 4);
        b.readable().await?;
        let (mut x, mut y) = ([0u8; 1], [0u8; 1]);
        let n = b.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?;
        assert_eq!((n, x, y), (2, *b"a", *b"b"));
        let mut vec = Vec::with_capacity(16);
        assert_eq!(b.try_read_buf(&mut vec)?, 2);
        assert_eq!(vec, b"cd");
        assert!(would_block(b.try_read_buf(&mut vec)));
        assert!(poll_once(b.readable()).await.is_pending());
        a.try_write(b"ef")?;
        b.readable().await?;
        let mut bytes = bytes::BytesMut::new();
        assert_eq!(b.try_read_buf(&mut bytes)?, 2);
        assert_eq!(&bytes[..], b"ef");
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn try_io_runs_a_raw_syscall_and_a_would_block_clears_readiness() {
    run("try_io", async {
        let (a, b) = UnixStream::pair()?;
        let peek = |s: &UnixStream| {
            let mut buf = [0u8; 8];
            // SAFETY: `buf` is a live, writable buffer of its length.
            let n = unsafe {
                libc::recv(
                    s.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_PEEK | libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        };
        assert!(would_block(b.try_io(Interest::READABLE, || peek(&b))));
        // Not ready: `f` is not even called.
        let called = AtomicBool::new(false);
        let res = b.try_io(Interest::READABLE, || {
            called.store(true, Ordering::SeqCst);
            Ok(())
        });
        assert!(would_block(res));
        assert!(!called.load(Ordering::SeqCst));
        a.try_write(b"xyz")?;
        let n = b.async_io(Interest::READABLE, || peek(&b)).await?;
        assert_eq!(n, 3, "peeked, still queued");
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn poll_read_ready_and_poll_write_ready() {
    run("poll ready", async {
        let (a, b) = UnixStream::pair()?;
        poll_fn(|cx| a.poll_write_ready(cx)).await?;
        drain_optimism(&b);
        let first = poll_once(poll_fn(|cx| b.poll_read_ready(cx))).await;
        assert!(first.is_pending());
        a.try_write(b"!")?;
        poll_fn(|cx| b.poll_read_ready(cx)).await?;
        let mut buf = [0; 1];
        assert_eq!(b.try_read(&mut buf)?, 1);
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
/// tokio's rule: a readiness wait that is ready at once spends no budget,
/// so a task may await `writable()` any number of times without being
/// made to yield. (An operation, such as a read, would be.)
#[test]
fn immediately_ready_waits_spend_no_budget() {
    run("budget", async {
        let (a, _b) = UnixStream::pair()?;
        let sibling_ran = Arc::new(AtomicBool::new(false));
        let flag = sibling_ran.clone();
        let waiter = spawn(async move {
            for _ in 0..1000 {
                a.writable().await?;
                a.ready(Interest::WRITABLE).await?;
            }
            Ok::<_, std::io::Error>(flag.load(Ordering::SeqCst))
        });
        let sibling = spawn(async move { sibling_ran.store(true, Ordering::SeqCst) });
        // `waiter` runs first (FIFO). Had a wait spent budget, it would
        // have been made to yield after 128 of them, and the sibling
        // would have run in between.
        let sibling_ran_first = waiter.await.unwrap()?;
        assert!(
            !sibling_ran_first,
            "an immediately ready readiness wait made the task yield"
        );
        sibling.await.unwrap();
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[test]
fn a_bad_interest_combination_is_never_empty() {
    // `remove` never produces an empty interest (tokio's Option).
    assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
    let both = Interest::READABLE | Interest::WRITABLE;
    assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    let mut i = Interest::READABLE;
    i |= Interest::ERROR;
    assert!(i.is_error() && i.is_readable() && !i.is_writable());
}

#[cfg(unix)]
#[test]
fn ready_and_write_from_std_stay_consistent() {
    // Data written by a std peer is seen through `ready`.
    run("std peer", async {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        let a = UnixStream::try_from(a)?;
        drain_optimism(&a);
        let mut b = b;
        b.write_all(b"hi")?;
        let ready = a.ready(Interest::READABLE).await?;
        assert!(ready.is_readable());
        let mut buf = [0; 2];
        assert_eq!(a.try_read(&mut buf)?, 2);
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
/// The readiness futures can be awaited in spawned (`Send`) tasks.
#[test]
fn readiness_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    run("send", async {
        let (a, _b) = UnixStream::pair()?;
        is_send(&a.ready(Interest::READABLE));
        is_send(&a.readable());
        is_send(&a.async_io(Interest::READABLE, || Ok(())));
        let u = moduvex_runtime::net::UdpSocket::bind("127.0.0.1:0").await?;
        is_send(&u.ready(Interest::WRITABLE));
        is_send(&u.peek_sender());
        let fd =
            moduvex_runtime::io::unix::AsyncFd::new(std::os::unix::net::UnixStream::pair()?.0)?;
        is_send(&fd.readable());
        is_send(&fd.ready(Interest::READABLE | Interest::WRITABLE));
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
/// Split halves carry the readiness API of their direction (tokio's).
#[test]
fn split_halves_wait_and_try_in_their_direction() {
    run("halves", async {
        let (a, b) = UnixStream::pair()?;
        let (ar, aw) = a.into_split();
        let mut b = b;
        let (br, bw) = b.split();
        assert!(would_block(br.try_read(&mut [0; 1])));
        aw.writable().await?;
        assert!(aw.ready(Interest::WRITABLE).await?.is_writable());
        assert_eq!(aw.try_write(b"half")?, 4);
        br.readable().await?;
        let mut vec = Vec::with_capacity(8);
        assert_eq!(br.try_read_buf(&mut vec)?, 4);
        assert_eq!(vec, b"half");
        assert!(would_block(br.try_read(&mut [0; 1])));
        assert!(poll_once(br.readable()).await.is_pending());
        assert_eq!(
            bw.try_write_vectored(&[IoSlice::new(b"ba"), IoSlice::new(b"ck")])?,
            4
        );
        assert!(ar.ready(Interest::READABLE).await?.is_readable());
        let mut buf = [0u8; 4];
        assert_eq!(ar.try_read(&mut buf)?, 4);
        assert_eq!(&buf, b"back");
        let (mut x, mut y) = ([0u8; 2], [0u8; 2]);
        let res = ar.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]);
        assert!(would_block(res));
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}
