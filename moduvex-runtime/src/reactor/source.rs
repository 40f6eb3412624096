//! `IoSource`: an I/O object registered with a reactor.
//!
//! The source owns the object (and so its descriptor) and its
//! registration. It registers once, edge-triggered, for both directions
//! (or the interest it was given), and caches readiness: an operation runs
//! while the cached readiness says it may, and the readiness it observed is
//! cleared only when the operation returns `WouldBlock`. Dropping the
//! source deregisters it from its own reactor, on whatever thread the drop
//! happens, and only then closes the descriptor.
//!
//! # Budget
//!
//! Operations (`poll_ready`, `poll_io` and the futures built on them)
//! spend one unit of the task's cooperative budget each time they find the
//! source ready, through `crate::coop::poll_proceed`. Pure readiness waits
//! ([`readable`](IoSource::readable), [`writable`](IoSource::writable),
//! `ready`) spend none, as tokio's: they move no data, and the operation
//! that follows them is what a loop repeats.
//!
//! # The first poll settles the registration
//!
//! A source registers with the reactor of the thread that creates it, but
//! it is often *used* elsewhere: a connection accepted on one worker and
//! stolen by another, a listener bound in `Runtime::block_on` and served by
//! a worker. So the first poll (in either direction) settles where the
//! source lives: if it runs on a thread that drives another reactor, the
//! source moves there — registered on the new reactor first, then removed
//! from the old — and its events arrive on the thread that runs its task.
//! Nothing waits on the source before its first poll, so no waker is
//! stranded; the new registration reports the descriptor's current
//! readiness, and the source assumes itself ready once more, so no edge is
//! lost. It never moves again.

use std::cell::UnsafeCell;
use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::waker_registry::Waiter;
use super::{is_driving_here, with_reactor, Direction, Reactor, ReadyEvent, ScheduledIo};
use crate::platform::sys::{Interest, RawSource};
use crate::platform::AsRawSource;

/// Not polled yet: the registration may still move.
const FRESH: u8 = 0;
/// A first poll is moving the registration.
const MOVING: u8 = 1;
/// Polled: the registration is final.
const SETTLED: u8 = 2;

/// Where a source is registered, and for what.
struct Registration {
    token: usize,
    sched: Arc<ScheduledIo>,
    reactor: Reactor,
    interest: Interest,
}

impl Registration {
    /// Registers `fd` with `reactor` for `interest`.
    fn new(fd: RawSource, reactor: Reactor, interest: Interest) -> io::Result<Registration> {
        let (token, sched) = reactor.wakers().insert()?;
        if let Err(e) = reactor.register(fd, token, interest) {
            reactor.wakers().remove_token(token);
            return Err(e);
        }
        Ok(Registration {
            token,
            sched,
            reactor,
            interest,
        })
    }
}

/// An I/O object registered with the current thread's reactor.
///
/// It may be moved to and used from any thread: readiness wakes the task
/// wherever it runs. If the creating thread is not running a scheduler
/// (now, or later when its `block_on` returns or the thread exits), the
/// runtime's foster thread delivers the source's events instead.
///
/// Any number of tasks may wait on one direction at once through the
/// futures ([`readable`](Self::readable), [`read_with`](Self::read_with),
/// ...): each future keeps its own place among the source's waiters, a
/// readiness event wakes every waiter of its direction, and a future that
/// is dropped gives its place up. The poll methods ([`poll_ready`],
/// [`poll_io`]) have no state to keep a place in: as with tokio's `poll_*`
/// methods, only the waker of the latest call in a direction is woken.
///
/// [`poll_ready`]: Self::poll_ready
/// [`poll_io`]: Self::poll_io
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use moduvex_runtime::reactor::{Direction, IoSource};
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     b.set_nonblocking(true)?;
///     let a = IoSource::new(a)?;
///     (&b).write_all(b"hi")?;
///     let mut buf = [0; 2];
///     let n = a.read_with(|s| (&*s).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"hi");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct IoSource<T: AsRawSource> {
    /// `None` only after `into_inner` took it.
    io: Option<T>,
    /// Written only by the first poll, while `state` is `MOVING` (see the
    /// module docs); read once `state` is `SETTLED`, or through `&mut self`.
    reg: UnsafeCell<Registration>,
    state: AtomicU8,
}

// SAFETY: `reg` is written only by the one thread that moved `state` from
// FRESH to MOVING, and read by others only after they saw SETTLED with
// Acquire (which the writer publishes with Release); everything else in
// the source is `Sync` when `T` is.
unsafe impl<T: AsRawSource + Sync> Sync for IoSource<T> {}

impl<T: AsRawSource> IoSource<T> {
    /// Registers `io` with this thread's reactor.
    ///
    /// `io` should already be non-blocking. Fails if the descriptor is
    /// already registered or cannot be polled (e.g. a regular file).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_io(Direction::Write, |s| (&*s).write(b"x"))?, 1);
    ///     // A descriptor registers once.
    ///     let fd = std::os::fd::AsRawFd::as_raw_fd(a.get_ref());
    ///     // SAFETY: fd is `a`'s open descriptor, and `a` outlives `again`.
    ///     let again = IoSource::new(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) });
    ///     assert!(again.is_err());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn new(io: T) -> io::Result<Self> {
        Self::with_interest(io, Interest::BOTH)
    }

    /// Registers `io` with this thread's reactor for `interest` only
    /// (errors and hang-ups are always reported).
    ///
    /// Fails with the OS error if the descriptor cannot be registered: a
    /// regular file on Linux (`EPERM`: epoll refuses them; kqueue accepts
    /// them, always ready), a closed descriptor (`EBADF`), one already
    /// registered (`AlreadyExists`).
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    /// use moduvex_runtime::reactor::IoSource;
    ///
    /// let (r, _w) = std::os::unix::net::UnixStream::pair()?;
    /// r.set_nonblocking(true)?;
    /// let src = IoSource::with_interest(r, Interest::READABLE)?;
    /// assert!(src.get_ref().peer_addr().is_ok());
    /// // Regular files cannot be polled on Linux: epoll refuses them.
    /// # #[cfg(target_os = "linux")] {
    /// let file = std::fs::File::open("Cargo.toml")?;
    /// assert!(IoSource::with_interest(file, Interest::READABLE).is_err());
    /// # }
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn with_interest(io: T, interest: Interest) -> io::Result<Self> {
        let reactor = with_reactor(Reactor::clone);
        let reg = Registration::new(io.as_raw_source(), reactor, interest)?;
        let mut source = IoSource {
            io: Some(io),
            reg: UnsafeCell::new(reg),
            state: AtomicU8::new(FRESH),
        };
        // Registered outside any scheduler: have it driven anyway (on
        // failure the source is dropped here, and so deregistered).
        source.reg_mut().reactor.ensure_driven()?;
        Ok(source)
    }

    /// Registers a connected stream with this thread's reactor, assuming
    /// it readable and writable until an operation returns `WouldBlock`.
    ///
    /// A freshly accepted connection usually has its first request queued
    /// already: the first read runs at once instead of waiting for the
    /// reactor to report the registration's initial edge. Sound with
    /// edge-triggered epoll and kqueue: `EPOLL_CTL_ADD` (`EV_ADD`) still
    /// reports the descriptor's current readiness as an event, and a `WouldBlock` clears only what an
    /// operation observed, so no edge is lost; a wrong guess costs one
    /// syscall that returns `WouldBlock`.
    pub(crate) fn new_optimistic(io: T) -> io::Result<Self> {
        let mut src = Self::new(io)?;
        src.reg_mut().sched.assume_ready();
        Ok(src)
    }

    fn reg_mut(&mut self) -> &mut Registration {
        self.reg.get_mut()
    }

    /// The registration, settled (see the module docs).
    #[inline]
    fn reg(&self) -> &Registration {
        if self.state.load(Ordering::Acquire) == SETTLED {
            // SAFETY: SETTLED: no one writes `reg` any more.
            return unsafe { &*self.reg.get() };
        }
        self.settle()
    }

    #[cold]
    fn settle(&self) -> &Registration {
        loop {
            match self
                .state
                .compare_exchange(FRESH, MOVING, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => {
                    // SAFETY: winning FRESH -> MOVING grants sole access until SETTLED.
                    let reg = unsafe { &mut *self.reg.get() };
                    self.move_here(reg);
                    self.state.store(SETTLED, Ordering::Release);
                    return reg;
                }
                // SAFETY: SETTLED: no one writes `reg` any more.
                Err(SETTLED) => return unsafe { &*self.reg.get() },
                // Another thread's first poll is moving it: two epoll_ctl calls.
                Err(_) => std::hint::spin_loop(),
            }
        }
    }

    /// Moves `reg` to this thread's reactor if this thread drives a
    /// different one. On any failure the source stays where it is.
    fn move_here(&self, reg: &mut Registration) {
        if !is_driving_here() {
            return;
        }
        let here = with_reactor(Reactor::clone);
        if here.same_as(&reg.reactor) {
            return;
        }
        let fd = self.get_ref().as_raw_source();
        let Ok(moved) = Registration::new(fd, here, reg.interest) else {
            return;
        };
        let old = std::mem::replace(reg, moved);
        let _ = old.reactor.deregister_with_token(fd, old.token);
        reg.sched.assume_ready();
    }

    /// The wrapped object.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     assert!(a.get_ref().peer_addr().is_ok());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("IoSource used after into_inner")
    }

    /// The wrapped object, mutably.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let mut a = IoSource::new(a)?;
    ///     a.get_mut().write_all(b"x")?;
    ///     let mut buf = [0; 1];
    ///     (&b).read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"x");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("IoSource used after into_inner")
    }

    /// Deregisters and returns the object (still non-blocking).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     let a: UnixStream = a.into_inner()?;
    ///     // Deregistered: it can be registered again.
    ///     let a = IoSource::new(a)?;
    ///     # drop((a, b));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("IoSource used after into_inner");
        let reg = self.reg_mut();
        reg.reactor
            .deregister_with_token(io.as_raw_source(), reg.token)?;
        Ok(io)
    }

    /// Deregisters and returns the object whatever the deregistration
    /// says: a descriptor closed behind the source's back (`EBADF`) still
    /// gives its owner back (`AsyncFd::into_inner`).
    // Used by `io::unix::AsyncFd` only.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn into_inner_always(mut self) -> T {
        let io = self.io.take().expect("IoSource used after into_inner");
        let reg = self.reg_mut();
        let _ = reg
            .reactor
            .deregister_with_token(io.as_raw_source(), reg.token);
        io
    }

    /// Ready when the cached readiness allows an operation in `dir`;
    /// otherwise stores the task's waker as the direction's `poll_*` waker:
    /// only the latest caller in a direction is woken (tokio's rule for
    /// `poll_*` methods). Tasks that wait side by side should await the
    /// futures instead ([`readable`](Self::readable), ...), each of which
    /// keeps its own place among the waiters.
    ///
    /// Each `Ready` spends one unit of the task's cooperative budget; once
    /// it is spent this returns `Pending` and reschedules the task, so an
    /// always-ready source cannot starve the other tasks on its thread
    /// (see "Budget" in the module docs).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     let ev = std::future::poll_fn(|cx| a.poll_ready(cx, Direction::Write)).await;
    ///     assert!(!ev.is_write_closed());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        self.poll_ready_with(cx, dir, None)
    }

    /// A place among this source's waiters in `dir` for one future, given
    /// up when it is dropped (see the type docs).
    pub(crate) fn waiter(&self, dir: Direction) -> Waiter<'_> {
        Waiter::new(&self.reg().sched, dir)
    }

    /// [`poll_ready`](Self::poll_ready), waiting in `waiter`'s place when
    /// one is given (its direction must be `dir`).
    #[inline]
    fn poll_ready_with(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        waiter: Option<&mut Waiter<'_>>,
    ) -> Poll<ReadyEvent> {
        let ready = match waiter {
            None => self.reg().sched.poll_readiness(cx, dir),
            Some(w) => {
                debug_assert_eq!(w.direction(), dir);
                w.poll_ready(cx)
            }
        };
        match ready {
            Poll::Ready(ev) => crate::coop::poll_proceed(cx).map(|coop| {
                coop.made_progress();
                ev
            }),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Forgets the readiness `event` reported (after a `WouldBlock`).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     (&b).write_all(b"x")?;
    ///     let ev = std::future::poll_fn(|cx| a.poll_ready(cx, Direction::Read)).await;
    ///     (&*a.get_ref()).read_exact(&mut [0; 1])?;
    ///     // Drained: the next read would block, so forget the readiness seen.
    ///     a.clear_ready(ev);
    ///     assert!(a.try_io(Direction::Read, |_| Ok(())).is_err());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn clear_ready(&self, event: ReadyEvent) {
        let reg = self.reg();
        reg.sched.clear_readiness(event);
        // Where readiness comes from one-shot polls (IOCP), the cleared
        // directions are polled for again; a poll armed while the socket
        // is already ready completes at once, so no edge is lost. Nothing
        // happens on epoll.
        reg.reactor
            .rearm(|| self.get_ref().as_raw_source(), reg.token, event);
    }

    /// Waits until the source may be readable. Spends no budget (see
    /// "Budget" in the module docs).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     (&b).write_all(b"x")?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_io(Direction::Read, |s| (&*s).read(&mut [0; 4]))?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.ready_mask(Direction::Read.mask()).await;
        Ok(())
    }

    /// Waits until the source may be writable. Spends no budget.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_io(Direction::Write, |s| (&*s).write(b"abc"))?, 3);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.ready_mask(Direction::Write.mask()).await;
        Ok(())
    }

    /// Waits until any readiness bit of `mask` (the registry's constants,
    /// in either direction) is set, and returns what was observed: every
    /// bit of `mask` set in one reading of the readiness word. Spends no
    /// budget.
    ///
    /// Waits in one place per direction `mask` touches, so a wake-up for
    /// either direction ends the wait.
    pub(crate) async fn ready_mask(&self, mask: usize) -> ReadyEvent {
        let sched = &self.reg().sched;
        if let Some(ev) = sched.peek_mask(mask) {
            return ev;
        }
        let read = mask & Direction::Read.wake_mask();
        let write = mask & Direction::Write.wake_mask() & !read;
        let mut waiters = [
            (read != 0).then(|| Waiter::with_mask(sched, Direction::Read, read)),
            (write != 0).then(|| Waiter::with_mask(sched, Direction::Write, write)),
        ];
        poll_fn(|cx| {
            for waiter in waiters.iter_mut().flatten() {
                if let Poll::Ready(ev) = waiter.poll_ready(cx) {
                    // Report both directions when both are ready, from one
                    // reading of the word.
                    return Poll::Ready(sched.peek_mask(mask).unwrap_or(ev));
                }
            }
            Poll::Pending
        })
        .await
    }

    /// The readiness within `mask` now, without waiting or spending budget.
    // Used by `io::unix::AsyncFd` only.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn peek_mask(&self, mask: usize) -> Option<ReadyEvent> {
        self.reg().sched.peek_mask(mask)
    }

    /// Runs `op` once the source is ready in `dir`, retrying after each
    /// `WouldBlock` (which clears the readiness it observed). Waits as the
    /// direction's `poll_*` waker (see [`poll_ready`](Self::poll_ready)).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     (&b).write_all(b"hey")?;
    ///     let mut buf = [0; 8];
    ///     let n = std::future::poll_fn(|cx| a.poll_io(cx, Direction::Read, |s| (&*s).read(&mut buf))).await?;
    ///     assert_eq!(&buf[..n], b"hey");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_with(cx, dir, None, op)
    }

    /// [`poll_io`](Self::poll_io), waiting in `waiter`'s place when one is
    /// given (its direction must be `dir`).
    pub(crate) fn poll_io_with<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut waiter: Option<&mut Waiter<'_>>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready_with(cx, dir, waiter.as_deref_mut()) {
                Poll::Ready(ev) => ev,
                Poll::Pending => return Poll::Pending,
            };
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(event),
                res => return Poll::Ready(res),
            }
        }
    }

    /// Runs `op` now if the cached readiness allows it; `WouldBlock`
    /// otherwise (clearing readiness when `op` itself would block).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     // Nothing was sent: the read would block, and `try_io` says so.
    ///     let err = a.try_io(Direction::Read, |s| (&*s).read(&mut [0; 1])).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     (&b).write_all(b"x")?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_io(Direction::Read, |s| (&*s).read(&mut [0; 1]))?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_io<R>(&self, dir: Direction, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        self.try_io_mask(dir.mask(), op)
    }

    /// [`try_io`](Self::try_io) for any readiness bit of `mask` (see
    /// [`ready_mask`](Self::ready_mask)): a `WouldBlock` from `op` clears
    /// what was observed within `mask`.
    pub(crate) fn try_io_mask<R>(
        &self,
        mask: usize,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(event) = self.reg().sched.peek_mask(mask) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        match op(self.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready(event);
                Err(e)
            }
            res => res,
        }
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting (without
    /// spending budget, see [`ready_mask`](Self::ready_mask)) for any bit of
    /// `mask` between attempts; each `WouldBlock` clears what it ran on.
    pub(crate) async fn async_io_mask<R>(
        &self,
        mask: usize,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let ev = self.ready_mask(mask).await;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(ev),
                res => return res,
            }
        }
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for read
    /// readiness between attempts.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     let writer = std::thread::spawn(move || (&b).write_all(b"late"));
    ///     let mut buf = [0; 4];
    ///     let n = a.read_with(|s| (&*s).read(&mut buf)).await?;
    ///     assert!(n > 0 && buf.starts_with(b"l"));
    ///     writer.join().unwrap()?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.io_with(Direction::Read, op).await
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for write
    /// readiness between attempts.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     b.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     let n = a.write_with(|s| (&*s).write(b"data")).await?;
    ///     assert_eq!(n, 4);
    ///     let mut buf = [0; 4];
    ///     (&b).read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"data");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.io_with(Direction::Write, op).await
    }

    async fn io_with<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut waiter = self.waiter(dir);
        poll_fn(|cx| self.poll_io_with(cx, dir, Some(&mut waiter), &mut op)).await
    }
}

impl<T: AsRawSource> Drop for IoSource<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister first, then close the descriptor by dropping `io`:
            // a closed descriptor number can be reused at once by another
            // thread, and must not inherit this registration.
            let reg = self.reg.get_mut();
            let _ = reg
                .reactor
                .deregister_with_token(io.as_raw_source(), reg.token);
            drop(io);
        }
    }
}

impl<T: AsRawSource + std::fmt::Debug> std::fmt::Debug for IoSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoSource")
            .field("io", &self.io)
            .field("settled", &(self.state.load(Ordering::Acquire) == SETTLED))
            .finish()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::net::UnixStream;
    use std::task::Waker;

    use super::*;

    fn this_threads_reactor() -> Reactor {
        with_reactor(Reactor::clone)
    }

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    #[test]
    fn the_first_poll_on_a_driving_thread_moves_the_source_there() {
        let (a, _b) = pair();
        // Made outside any scheduler (and so fostered).
        let src = IoSource::new(a).unwrap();
        let origin = this_threads_reactor();
        // SAFETY: not polled yet, and no other thread has the source.
        assert!(unsafe { &*src.reg.get() }.reactor.same_as(&origin));
        let src = std::thread::spawn(move || {
            crate::block_on(async {
                let mut cx = Context::from_waker(Waker::noop());
                let _ = src.poll_ready(&mut cx, Direction::Read);
                assert!(src.reg().reactor.same_as(&this_threads_reactor()));
            });
            src
        })
        .join()
        .unwrap();
        assert!(!src.reg().reactor.same_as(&origin), "never moves back");
        assert_eq!(origin.wakers().count(), 0, "gone from the first reactor");
        assert!(!origin.inner.foster.is_fostered(), "and from foster care");
    }

    #[test]
    fn a_first_poll_outside_any_scheduler_leaves_the_source_in_place() {
        let (a, _b) = pair();
        let (src, origin) = std::thread::spawn(move || {
            crate::block_on(async { (IoSource::new(a).unwrap(), this_threads_reactor()) })
        })
        .join()
        .unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let _ = src.poll_ready(&mut cx, Direction::Write);
        assert!(src.reg().reactor.same_as(&origin));
    }

    #[test]
    fn a_moved_source_still_reports_data_that_arrived_before_the_move() {
        let (a, mut b) = pair();
        let src = IoSource::new(a).unwrap();
        std::io::Write::write_all(&mut b, b"x").unwrap();
        let got = std::thread::spawn(move || {
            crate::block_on(src.read_with(|s| {
                let mut buf = [0u8; 1];
                std::io::Read::read(&mut &*s, &mut buf).map(|_| buf[0])
            }))
        })
        .join()
        .unwrap()
        .unwrap();
        assert_eq!(got, b'x');
    }
}
