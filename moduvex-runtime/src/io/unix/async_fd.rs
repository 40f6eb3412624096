//! [`AsyncFd`]: any pollable file descriptor (a pipe, an eventfd, a
//! socket from another library, a tty) registered with the reactor.
//!
//! The one idea, as tokio's: the reactor reports *readiness*, the caller
//! does the I/O. A readiness wait returns a guard that holds what was
//! observed; an operation that hits `WouldBlock` must clear it (through
//! [`AsyncFdReadyGuard::try_io`] or [`clear_ready`]) so the next wait
//! sleeps until the kernel reports a new edge. Clearing is tick-checked:
//! an edge that arrived after the observation keeps the descriptor ready,
//! so clearing never loses a wake-up.
//!
//! [`clear_ready`]: AsyncFdReadyGuard::clear_ready

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use crate::io::{Interest, Ready};
use crate::reactor::{Direction, IoSource, ReadyEvent};

/// A file descriptor (owned through `T`) registered with the reactor,
/// edge-triggered, for the readiness of [`Interest`]s (tokio's `AsyncFd`).
///
/// The descriptor should be non-blocking: `AsyncFd` never does I/O itself,
/// and an operation run after a spurious wake-up must return `WouldBlock`
/// rather than block the thread. Dropping the `AsyncFd` deregisters the
/// descriptor and then drops `T` (which usually closes it);
/// [`into_inner`](Self::into_inner) deregisters and gives `T` back
/// without closing anything.
///
/// Registration fails with the OS error for descriptors epoll cannot
/// watch: a regular file or directory (`EPERM`), a closed descriptor
/// (`EBADF`), or one already registered (`AlreadyExists`).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// use moduvex_runtime::io::unix::AsyncFd;
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let fd = AsyncFd::new(a)?;
///     b.write_all(b"hi")?;
///     let mut buf = [0; 8];
///     let n = loop {
///         let mut guard = fd.readable().await?;
///         match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
///             Ok(result) => break result?,
///             Err(_would_block) => continue,
///         }
///     };
///     assert_eq!(&buf[..n], b"hi");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    io: IoSource<T>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner` for reading and writing.
    ///
    /// Unlike tokio's, this needs no runtime: a descriptor registered
    /// outside one is driven by the reactor's fallback thread until a
    /// runtime polls it.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let n = fd.async_io(Interest::READABLE, |s| (&*s).read(&mut [0; 4])).await?;
    ///     assert_eq!(n, 1);
    ///     // Regular files cannot be watched by epoll.
    ///     assert!(AsyncFd::new(std::fs::File::open("Cargo.toml")?).is_err());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        Self::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner` for `interest` only (errors are always reported).
    ///
    /// On failure `inner` is dropped and the OS error returned (see the
    /// type docs).
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let (c, _d) = UnixStream::pair()?;
    ///     c.set_nonblocking(true)?;
    ///     let reader = AsyncFd::with_interest(c, Interest::READABLE)?;
    ///     # drop((reader, fd, b));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        Ok(AsyncFd {
            io: IoSource::with_interest(inner, interest.to_registration())?,
        })
    }

    /// The wrapped object.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     assert!(fd.get_ref().peer_addr().is_ok());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.get_ref()
    }

    /// The wrapped object, mutably.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     fd.get_mut().write_all(b"via get_mut")?;
    ///     let mut buf = [0; 11];
    ///     b.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"via get_mut");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.io.get_mut()
    }

    /// Deregisters the descriptor and returns the object, without closing
    /// it. A descriptor the owner closed meanwhile cannot be deregistered
    /// (the kernel removed it already); the object is returned all the same.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let a: UnixStream = fd.into_inner(); // deregistered, still open
    ///     b.write_all(b"x")?;
    ///     let mut buf = [0; 1];
    ///     a.set_nonblocking(false)?;
    ///     (&a).read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"x");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.io.into_inner_always()
    }

    /// Polls for read readiness (tokio's `poll_read_ready`).
    ///
    /// As with every `poll_*` method, only the task of the latest call is
    /// woken; tasks that wait side by side should each await
    /// [`readable`](Self::readable). A `Ready` spends one unit of the
    /// task's cooperative budget, as tokio's does.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut guard = std::future::poll_fn(|cx| fd.poll_read_ready(cx)).await?;
    ///     assert!(guard.ready().is_readable());
    ///     assert_eq!(guard.try_io(|fd| fd.get_ref().read(&mut [0; 4])).unwrap()?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Read));
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, ev)))
    }

    /// [`poll_read_ready`](Self::poll_read_ready), with a guard that gives
    /// `&mut` access to the object.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     // A hand-written poll loop, as in a `poll_read` implementation.
    ///     let n = std::future::poll_fn(|cx| loop {
    ///         let mut guard = std::task::ready!(fd.poll_read_ready_mut(cx))?;
    ///         if let Ok(res) = guard.try_io(|fd| fd.get_mut().read(&mut [0; 4])) {
    ///             return std::task::Poll::Ready(res);
    ///         }
    ///     })
    ///     .await?;
    ///     assert_eq!(n, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Read));
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, ev)))
    }

    /// Polls for write readiness (see [`poll_read_ready`](Self::poll_read_ready)).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let guard = std::future::poll_fn(|cx| fd.poll_write_ready(cx)).await?;
    ///     assert!(guard.ready().is_writable());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Write));
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, ev)))
    }

    /// [`poll_write_ready`](Self::poll_write_ready), with a `&mut` guard.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let n = std::future::poll_fn(|cx| loop {
    ///         let mut guard = std::task::ready!(fd.poll_write_ready_mut(cx))?;
    ///         if let Ok(res) = guard.try_io(|fd| fd.get_mut().write(b"w")) {
    ///             return std::task::Poll::Ready(res);
    ///         }
    ///     })
    ///     .await?;
    ///     assert_eq!(n, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Write));
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, ev)))
    }

    /// Waits until any readiness of `interest` is set; the guard holds
    /// what was found (within `interest`). Several tasks may wait at once;
    /// an event wakes them all. Spends no cooperative budget.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let guard = fd.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     let ready = guard.ready();
    ///     assert!(ready.is_readable() || ready.is_writable());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let ev = self.io.ready_mask(interest.to_mask()).await;
        Ok(AsyncFdReadyGuard::new(self, ev))
    }

    /// [`ready`](Self::ready), with a guard that gives `&mut` access.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let mut guard = fd.ready_mut(Interest::WRITABLE).await?;
    ///     assert_eq!(guard.try_io(|fd| fd.get_mut().write(b"m")).unwrap()?, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let ev = self.io.ready_mask(interest.to_mask()).await;
        Ok(AsyncFdReadyMutGuard::new(self, ev))
    }

    /// Waits until the descriptor may be readable: `ready(Interest::READABLE)`.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"abc")?;
    ///     let mut guard = fd.readable().await?;
    ///     let n = guard.try_io(|fd| fd.get_ref().read(&mut [0; 8])).unwrap()?;
    ///     assert_eq!(n, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`readable`](Self::readable), with a `&mut` guard.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"abc")?;
    ///     let mut guard = fd.readable_mut().await?;
    ///     let n = guard.try_io(|fd| fd.get_mut().read(&mut [0; 8])).unwrap()?;
    ///     assert_eq!(n, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the descriptor may be writable: `ready(Interest::WRITABLE)`.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let mut guard = fd.writable().await?;
    ///     assert_eq!(guard.try_io(|fd| fd.get_ref().write(b"w")).unwrap()?, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`writable`](Self::writable), with a `&mut` guard.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let mut guard = fd.writable_mut().await?;
    ///     assert_eq!(guard.try_io(|fd| fd.get_mut().write(b"w")).unwrap()?, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Runs `f` until it does not return `WouldBlock`, waiting for
    /// `interest` between attempts (each `WouldBlock` clears the readiness
    /// it ran on).
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let writer = std::thread::spawn(move || b.write_all(b"late"));
    ///     let mut buf = [0; 4];
    ///     let n = fd.async_io(Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
    ///     assert!(n > 0);
    ///     writer.join().unwrap()?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io_mask(interest.to_mask(), f).await
    }

    /// [`async_io`](Self::async_io) with `&mut` access to the object.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"m")?;
    ///     let n = fd.async_io_mut(Interest::READABLE, |s| s.read(&mut [0; 4])).await?;
    ///     assert_eq!(n, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mask = interest.to_mask();
        loop {
            let ev = self.io.ready_mask(mask).await;
            match f(self.io.get_mut()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_ready(ev),
                res => return res,
            }
        }
    }

    /// Runs `f` now if the descriptor may be ready for `interest`, else
    /// returns `WouldBlock` without calling it. A `WouldBlock` from `f`
    /// clears the readiness it ran on.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let err = fd.try_io(Interest::READABLE, |s| (&*s).read(&mut [0; 4])).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     b.write_all(b"x")?;
    ///     fd.readable().await?.retain_ready();
    ///     assert_eq!(fd.try_io(Interest::READABLE, |s| (&*s).read(&mut [0; 4]))?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_mask(interest.to_mask(), f)
    }

    /// [`try_io`](Self::try_io) with `&mut` access to the object.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     fd.readable_mut().await?.retain_ready();
    ///     assert_eq!(fd.try_io_mut(Interest::READABLE, |s| s.read(&mut [0; 4]))?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(ev) = self.io.peek_mask(interest.to_mask()) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        match f(self.io.get_mut()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.io.clear_ready(ev);
                Err(e)
            }
            res => res,
        }
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is open for as long as `self.io` owns `T`, which outlives the borrow of `self`.
        unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.io.get_ref())
            .finish()
    }
}

/// The error of a guard's `try_io` whose operation would block: the
/// guard's readiness has been cleared; wait again.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use moduvex_runtime::io::unix::AsyncFd;
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let fd = AsyncFd::new(a)?;
///     b.write_all(b"x")?;
///     let mut guard = fd.readable().await?;
///     guard.try_io(|fd| fd.get_ref().read(&mut [0; 4])).unwrap()?;
///     // Drained: the next read would block, and the guard says so.
///     let again = guard.try_io(|fd| fd.get_ref().read(&mut [0; 4]));
///     assert!(again.is_err());
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct TryIoError(());

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; readiness was cleared")
    }
}

impl std::error::Error for TryIoError {}

/// Forgets `event` on `io` (tick-checked: see the module docs).
fn clear<T: AsRawFd>(io: &IoSource<T>, event: &mut Option<ReadyEvent>) {
    if let Some(ev) = event.take() {
        io.clear_ready(ev);
    }
}

/// Forgets the bits of `ready` from `event`, keeping the rest.
fn clear_matching<T: AsRawFd>(io: &IoSource<T>, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(ev) = event.take() {
        let bits = ready.to_mask();
        io.clear_ready(ev.with_bits(bits));
        let left = ev.with_bits(!bits);
        if left.bits() != 0 {
            *event = Some(left);
        }
    }
}

/// Readiness found by [`AsyncFd::ready`] and friends, for `&` access.
///
/// Dropping the guard keeps the readiness (the next wait returns at once);
/// an operation that would block must clear it, through
/// [`try_io`](Self::try_io) or [`clear_ready`](Self::clear_ready).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use moduvex_runtime::io::unix::AsyncFd;
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let fd = AsyncFd::new(a)?;
///     b.write_all(b"x")?;
///     let guard = fd.readable().await?;
///     assert!(guard.ready().is_readable());
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "an operation that would block must clear the guard's readiness"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    /// `None` once cleared.
    event: Option<ReadyEvent>,
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    fn new(async_fd: &'a AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyGuard {
            async_fd,
            event: Some(event),
        }
    }

    /// Forgets the readiness this guard holds: the next wait sleeps until
    /// the kernel reports a new edge (or returns at once if one arrived
    /// after this guard's readiness was observed). Closed states are final
    /// and stay set.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut guard = fd.readable().await?;
    ///     (&*guard.get_inner()).read(&mut [0; 4])?; // drained by hand
    ///     guard.clear_ready(); // so the next wait sleeps until new data
    ///     drop(guard);
    ///     assert!(fd.try_io(moduvex_runtime::io::Interest::READABLE, |_| Ok(())).is_err());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn clear_ready(&mut self) {
        clear(&self.async_fd.io, &mut self.event);
    }

    /// Forgets only `ready` of this guard's readiness (e.g. readable but
    /// not writable); the rest stays, in the guard and on the descriptor.
    ///
    /// ```
    /// use moduvex_runtime::io::{Interest, Ready};
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut guard = fd.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     guard.clear_ready_matching(Ready::WRITABLE); // readable stays set
    ///     # drop(guard);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(&self.async_fd.io, &mut self.event, ready);
    }

    /// Keeps the readiness (what dropping the guard does).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     fd.readable().await?.retain_ready();
    ///     // Still ready: the next wait completes at once.
    ///     fd.readable().await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn retain_ready(&mut self) {}

    /// The readiness this guard holds ([`Ready::EMPTY`] once cleared).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let guard = fd.writable().await?;
    ///     assert!(guard.ready().is_writable());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn ready(&self) -> Ready {
        self.event
            .map_or(Ready::EMPTY, |ev| Ready::from_mask(ev.bits()))
    }

    /// Runs `f`; if it returns `WouldBlock`, clears the readiness and
    /// returns `Err(TryIoError)` (wait again), else `Ok` with its result.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     b.write_all(b"y")?;
    ///     let mut guard = fd.readable().await?;
    ///     let n = guard.try_io(|fd| fd.get_ref().read(&mut [0; 4])).unwrap()?;
    ///     assert_eq!(n, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            res => Ok(res),
        }
    }

    /// The `AsyncFd` this guard belongs to.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let guard = fd.writable().await?;
    ///     assert!(guard.get_ref().get_ref().peer_addr().is_ok());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the `AsyncFd`.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let fd = AsyncFd::new(a)?;
    ///     let guard = fd.writable().await?;
    ///     assert!(guard.get_inner().peer_addr().is_ok());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

/// Readiness found by [`AsyncFd::ready_mut`] and friends, for `&mut`
/// access (see [`AsyncFdReadyGuard`]).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use moduvex_runtime::io::unix::AsyncFd;
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let mut fd = AsyncFd::new(a)?;
///     b.write_all(b"x")?;
///     let guard = fd.readable_mut().await?;
///     assert!(guard.ready().is_readable());
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "an operation that would block must clear the guard's readiness"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<'a, T: AsRawFd> AsyncFdReadyMutGuard<'a, T> {
    fn new(async_fd: &'a mut AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyMutGuard {
            async_fd,
            event: Some(event),
        }
    }

    /// See [`AsyncFdReadyGuard::clear_ready`].
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut guard = fd.readable_mut().await?;
    ///     (&*guard.get_inner()).read(&mut [0; 4])?; // drained by hand
    ///     guard.clear_ready(); // so the next wait sleeps until new data
    ///     drop(guard);
    ///     assert!(fd.try_io(moduvex_runtime::io::Interest::READABLE, |_| Ok(())).is_err());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn clear_ready(&mut self) {
        clear(&self.async_fd.io, &mut self.event);
    }

    /// See [`AsyncFdReadyGuard::clear_ready_matching`].
    ///
    /// ```
    /// use moduvex_runtime::io::{Interest, Ready};
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut guard = fd.ready_mut(Interest::READABLE | Interest::WRITABLE).await?;
    ///     guard.clear_ready_matching(Ready::WRITABLE); // readable stays set
    ///     # drop(guard);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(&self.async_fd.io, &mut self.event, ready);
    }

    /// Keeps the readiness (what dropping the guard does).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     fd.readable_mut().await?.retain_ready();
    ///     // Still ready: the next wait completes at once.
    ///     fd.readable_mut().await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn retain_ready(&mut self) {}

    /// The readiness this guard holds ([`Ready::EMPTY`] once cleared).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let guard = fd.writable_mut().await?;
    ///     assert!(guard.ready().is_writable());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn ready(&self) -> Ready {
        self.event
            .map_or(Ready::EMPTY, |ev| Ready::from_mask(ev.bits()))
    }

    /// Runs `f`; if it returns `WouldBlock`, clears the readiness and
    /// returns `Err(TryIoError)`, else `Ok` with its result.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     b.write_all(b"y")?;
    ///     let mut guard = fd.readable_mut().await?;
    ///     let n = guard.try_io(|fd| fd.get_mut().read(&mut [0; 4])).unwrap()?;
    ///     assert_eq!(n, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            res => Ok(res),
        }
    }

    /// The `AsyncFd` this guard belongs to.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let guard = fd.writable_mut().await?;
    ///     assert!(guard.get_ref().get_ref().peer_addr().is_ok());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let mut guard = fd.writable_mut().await?;
    ///     guard.get_mut().get_mut().write_all(b"z")?;
    ///     drop(guard);
    ///     let mut buf = [0; 1];
    ///     b.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"z");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the `AsyncFd`.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let guard = fd.writable_mut().await?;
    ///     assert!(guard.get_inner().peer_addr().is_ok());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The object inside the `AsyncFd`, mutably.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::io::unix::AsyncFd;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut fd = AsyncFd::new(a)?;
    ///     let mut guard = fd.writable_mut().await?;
    ///     guard.get_inner_mut().write_all(b"z")?;
    ///     drop(guard);
    ///     let mut buf = [0; 1];
    ///     b.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"z");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", &*self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}
