//! `io::unix::AsyncFd` as tokio's: readiness guards over any pollable
//! descriptor (here a non-blocking pipe), `clear_ready` / `try_io`, the
//! descriptor given back by `into_inner` without being closed, and the OS
//! error for descriptors epoll refuses.

// Unix only: `io::unix::AsyncFd` and pipes.
#![cfg(unix)]

mod ready_common;

use std::fs::File;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use moduvex_runtime::io::unix::AsyncFd;
use moduvex_runtime::io::{Interest, Ready};
use ready_common::{poll_once, run};

/// A non-blocking, close-on-exec pipe: `(read end, write end)`.
fn pipe() -> (File, File) {
    let (r, w) = moduvex_runtime::platform::sys::create_pipe().expect("pipe");
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe { (File::from_raw_fd(r), File::from_raw_fd(w)) }
}

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Reads through the guard until the pipe is empty; returns the bytes.
async fn read_all_ready(fd: &AsyncFd<File>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut guard = fd.readable().await?;
        let mut buf = [0u8; 3];
        match guard.try_io(|inner| inner.get_ref().read(&mut buf)) {
            Ok(n) => out.extend_from_slice(&buf[..n?]),
            // Drained: the guard cleared the readiness.
            Err(_would_block) => return Ok(out),
        }
    }
}

#[test]
fn a_pipe_through_readable_guards_and_try_io() {
    run("pipe guards", async {
        let (r, mut w) = pipe();
        let r = AsyncFd::new(r)?;
        assert!(poll_once(r.readable()).await.is_pending(), "empty pipe");
        w.write_all(b"hello pipe")?;
        assert_eq!(read_all_ready(&r).await?, b"hello pipe");
        // The guard's WouldBlock cleared the readiness: the next wait sleeps.
        assert!(
            poll_once(r.readable()).await.is_pending(),
            "readable() returned at once after the guard's try_io hit WouldBlock"
        );
        w.write_all(b"more")?;
        assert_eq!(read_all_ready(&r).await?, b"more");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn clear_ready_forgets_readiness_and_dropping_a_guard_keeps_it() {
    run("clear_ready", async {
        let (r, mut w) = pipe();
        let r = AsyncFd::new(r)?;
        w.write_all(b"ab")?;
        let guard = r.readable().await?;
        assert!(guard.ready().is_readable());
        drop(guard);
        // Dropped (retained): still ready.
        let mut guard = match poll_once(r.readable()).await {
            std::task::Poll::Ready(g) => g?,
            std::task::Poll::Pending => panic!("a dropped guard forgot the readiness"),
        };
        guard.retain_ready();
        guard.clear_ready();
        assert_eq!(guard.ready(), Ready::EMPTY);
        // Cleared without reading: edge-triggered, so the queued bytes do
        // not make the descriptor ready again; a new write does.
        assert!(poll_once(r.readable()).await.is_pending());
        w.write_all(b"c")?;
        assert_eq!(read_all_ready(&r).await?, b"abc");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn clear_ready_matching_keeps_the_other_readiness() {
    run("clear_ready_matching", async {
        let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
        a.set_nonblocking(true)?;
        let a = AsyncFd::new(a)?;
        b.write_all(b"x")?;
        let mut guard = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        while !(guard.ready().is_readable() && guard.ready().is_writable()) {
            drop(guard);
            moduvex_runtime::yield_now().await;
            guard = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        }
        guard.clear_ready_matching(Ready::READABLE);
        assert_eq!(guard.ready(), Ready::WRITABLE);
        drop(guard);
        assert!(poll_once(a.readable()).await.is_pending());
        assert!(poll_once(a.writable()).await.is_ready());
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn try_io_on_the_async_fd_and_async_io() {
    run("try_io", async {
        let (r, mut w) = pipe();
        let mut r = AsyncFd::with_interest(r, Interest::READABLE)?;
        let called = AtomicBool::new(false);
        let res = r.try_io(Interest::READABLE, |_| {
            called.store(true, Ordering::SeqCst);
            Ok(())
        });
        assert!(would_block(res));
        assert!(!called.load(Ordering::SeqCst), "not ready: not called");
        w.write_all(b"12")?;
        let mut buf = [0u8; 1];
        let n = r
            .async_io(Interest::READABLE, |f| (&*f).read(&mut buf))
            .await?;
        assert_eq!((n, buf), (1, *b"1"));
        let n = r.try_io(Interest::READABLE, |f| (&*f).read(&mut buf))?;
        assert_eq!((n, buf), (1, *b"2"));
        assert!(would_block(
            r.try_io_mut(Interest::READABLE, |f| f.read(&mut buf))
        ));
        assert!(would_block(r.try_io(Interest::READABLE, |_| Ok(()))));
        w.write_all(b"3")?;
        let mut guard = r.readable_mut().await?;
        let n = guard
            .try_io(|fd| fd.get_mut().read(&mut buf))
            .expect("data is queued")?;
        assert_eq!((n, buf), (1, *b"3"));
        assert!(guard.get_inner_mut().read(&mut buf).is_err());
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn poll_read_ready_and_writable_on_the_write_end() {
    run("poll ready", async {
        let (r, w) = pipe();
        let r = AsyncFd::new(r)?;
        let w = AsyncFd::with_interest(w, Interest::WRITABLE)?;
        let mut guard = w.writable().await?;
        let n = guard
            .try_io(|w| w.get_ref().write(b"poll"))
            .expect("an empty pipe is writable")?;
        assert_eq!(n, 4);
        let mut guard = poll_fn(|cx| r.poll_read_ready(cx)).await?;
        assert!(guard.ready().is_readable());
        let mut buf = [0u8; 8];
        let n = guard.get_inner().read(&mut buf)?;
        assert_eq!(&buf[..n], b"poll");
        guard.clear_ready();
        // The write end is closed: the read end reports it, finally.
        drop(w);
        let guard = r.ready(Interest::READABLE).await?;
        assert!(guard.ready().is_read_closed(), "{:?}", guard.ready());
        assert_eq!(guard.get_inner().read(&mut buf)?, 0);
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

/// A `T` that records being dropped.
struct Tracked(OwnedFd, Arc<AtomicBool>);

impl AsRawFd for Tracked {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.store(true, Ordering::SeqCst);
    }
}

#[test]
fn into_inner_deregisters_without_closing_and_drop_drops_the_object() {
    run("into_inner", async {
        let (r, mut w) = pipe();
        let dropped = Arc::new(AtomicBool::new(false));
        let fd = AsyncFd::new(Tracked(r.into(), dropped.clone()))?;
        let inner = fd.into_inner();
        assert!(!dropped.load(Ordering::SeqCst), "into_inner drops nothing");
        // Still open, and no longer registered: it registers again.
        w.write_all(b"z")?;
        let fd = AsyncFd::new(inner)?;
        let guard = fd.readable().await?;
        let mut buf = [0u8; 1];
        assert_eq!(
            File::from(guard.get_inner().0.try_clone()?).read(&mut buf)?,
            1
        );
        drop(guard);
        drop(fd);
        assert!(
            dropped.load(Ordering::SeqCst),
            "dropping the AsyncFd drops T"
        );
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn registering_twice_is_already_exists() {
    run("twice", async {
        let (r, _w) = pipe();
        let raw = r.as_raw_fd();
        let _first = AsyncFd::new(r)?;
        struct Borrowed(RawFd);
        impl AsRawFd for Borrowed {
            fn as_raw_fd(&self) -> RawFd {
                self.0
            }
        }
        let err = AsyncFd::new(Borrowed(raw)).map(drop).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn a_regular_file_is_refused_with_the_os_error() {
    let file = File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let err = AsyncFd::new(file).map(drop).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
}

#[test]
fn a_closed_descriptor_is_an_error_not_a_panic() {
    // A descriptor number above the soft limit: never open in this process.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a writable rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let closed = lim.rlim_cur.min(i32::MAX as libc::rlim_t - 1) as RawFd + 1;
    struct Closed(RawFd);
    impl AsRawFd for Closed {
        fn as_raw_fd(&self) -> RawFd {
            self.0
        }
    }
    let err = AsyncFd::new(Closed(closed)).map(drop).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
}

// `Interest::PRIORITY` (`EPOLLPRI`) is Linux's, as in tokio.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn priority_readiness_for_out_of_band_data() {
    run("priority", async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let client = std::net::TcpStream::connect(listener.local_addr()?)?;
        let (server, _) = listener.accept()?;
        server.set_nonblocking(true)?;
        let fd = AsyncFd::with_interest(server, Interest::PRIORITY)?;
        assert!(poll_once(fd.ready(Interest::PRIORITY)).await.is_pending());
        let (raw, byte) = (client.as_raw_fd(), b"!".as_ptr().cast());
        // SAFETY: a one-byte static buffer, valid across the call; `raw` is open.
        let sent = unsafe { libc::send(raw, byte, 1, libc::MSG_OOB) };
        assert_eq!(sent, 1, "send(MSG_OOB): {}", io::Error::last_os_error());
        let guard = fd.ready(Interest::PRIORITY).await?;
        assert!(guard.ready().is_priority(), "{:?}", guard.ready());
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn two_tasks_wait_on_one_async_fd_and_both_wake() {
    run("two waiters", async {
        let (r, mut w) = pipe();
        let r = Arc::new(AsyncFd::new(r)?);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let r = r.clone();
                moduvex_runtime::spawn(async move { r.readable().await.map(|g| g.ready()) })
            })
            .collect();
        moduvex_runtime::yield_now().await;
        w.write_all(b"!")?;
        for waiter in waiters {
            assert!(waiter.await.unwrap()?.is_readable());
        }
        Ok::<_, io::Error>(())
    })
    .unwrap();
}
