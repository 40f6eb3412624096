//! `IoSource`: an I/O object registered with a reactor.
//!
//! The source owns the object (and so its descriptor) and its
//! registration. It registers once, edge-triggered, for both directions,
//! and caches readiness: an operation runs while the cached readiness says
//! it may, and the readiness it observed is cleared only when the operation
//! returns `WouldBlock`. Dropping the source deregisters it from its own
//! reactor, on whatever thread the drop happens, and only then closes the
//! descriptor.

use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{with_reactor, Direction, Reactor, ReadyEvent, ScheduledIo};
use crate::platform::sys::Interest;

/// An I/O object registered with the current thread's reactor.
///
/// It may be moved to and used from any thread: readiness wakes the task
/// wherever it runs. If the creating thread is not running a scheduler
/// (now, or later when its `block_on` returns or the thread exits), the
/// runtime's foster thread delivers the source's events instead.
///
/// One task may wait per direction at a time (a reader and a writer can
/// make progress concurrently on the same source); a second task polling
/// the same direction replaces the first one's waker.
pub struct IoSource<T: AsRawFd> {
    /// `None` only after `into_inner` took it.
    io: Option<T>,
    token: usize,
    sched: Arc<ScheduledIo>,
    reactor: Reactor,
}

impl<T: AsRawFd> IoSource<T> {
    /// Registers `io` with this thread's reactor.
    ///
    /// `io` should already be non-blocking. Fails if the descriptor is
    /// already registered or cannot be polled (e.g. a regular file).
    pub fn new(io: T) -> io::Result<Self> {
        let reactor = with_reactor(Reactor::clone);
        let (token, sched) = reactor.wakers().insert();
        if let Err(e) = reactor.register(io.as_raw_fd(), token, Interest::BOTH) {
            reactor.wakers().remove_token(token);
            return Err(e);
        }
        let source = IoSource {
            io: Some(io),
            token,
            sched,
            reactor,
        };
        // Registered outside any scheduler: have it driven anyway (on
        // failure the source is dropped here, and so deregistered).
        source.reactor.ensure_driven()?;
        Ok(source)
    }

    /// Registers a connected stream with this thread's reactor, assuming
    /// it readable and writable until an operation returns `WouldBlock`.
    ///
    /// A freshly accepted connection usually has its first request queued
    /// already: the first read runs at once instead of waiting for the
    /// reactor to report the registration's initial edge. Sound with
    /// edge-triggered epoll: `EPOLL_CTL_ADD` still reports the descriptor's
    /// current readiness as an event, and a `WouldBlock` clears only what an
    /// operation observed, so no edge is lost; a wrong guess costs one
    /// syscall that returns `WouldBlock`.
    pub(crate) fn new_optimistic(io: T) -> io::Result<Self> {
        let src = Self::new(io)?;
        src.sched.assume_ready();
        Ok(src)
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("IoSource used after into_inner")
    }

    /// The wrapped object, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("IoSource used after into_inner")
    }

    /// Deregisters and returns the object (still non-blocking).
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("IoSource used after into_inner");
        self.reactor
            .deregister_with_token(io.as_raw_fd(), self.token)?;
        Ok(io)
    }

    /// Ready when the cached readiness allows an operation in `dir`;
    /// otherwise registers the task's waker for `dir`.
    ///
    /// Each `Ready` spends one unit of the task's cooperative budget; once
    /// it is spent this returns `Pending` and reschedules the task, so an
    /// always-ready source cannot starve the other tasks on its thread.
    pub fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        match self.sched.poll_readiness(cx, dir) {
            Poll::Ready(ev) => crate::coop::poll_proceed(cx).map(|()| ev),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Forgets the readiness `event` reported (after a `WouldBlock`).
    pub fn clear_ready(&self, event: ReadyEvent) {
        self.sched.clear_readiness(event)
    }

    /// Waits until the source may be readable.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_ready(cx, Direction::Read)).await;
        Ok(())
    }

    /// Waits until the source may be writable.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_ready(cx, Direction::Write)).await;
        Ok(())
    }

    /// Runs `op` once the source is ready in `dir`, retrying after each
    /// `WouldBlock` (which clears the readiness it observed).
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, dir) {
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
    pub fn try_io<R>(&self, dir: Direction, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        let Some(event) = self.sched.peek_readiness(dir) else {
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

    /// Runs `op` until it does not return `WouldBlock`, waiting for read
    /// readiness between attempts.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, Direction::Read, &mut op)).await
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for write
    /// readiness between attempts.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, Direction::Write, &mut op)).await
    }
}

impl<T: AsRawFd> Drop for IoSource<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister first, then close the descriptor by dropping `io`:
            // a closed descriptor number can be reused at once by another
            // thread, and must not inherit this registration.
            let _ = self
                .reactor
                .deregister_with_token(io.as_raw_fd(), self.token);
            drop(io);
        }
    }
}

impl<T: AsRawFd + std::fmt::Debug> std::fmt::Debug for IoSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoSource")
            .field("io", &self.io)
            .field("token", &self.token)
            .finish()
    }
}
