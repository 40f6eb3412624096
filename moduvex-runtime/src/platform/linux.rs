//! Linux system layer: epoll event buffers, readiness interest, pipes and
//! eventfd, and one checked-syscall helper.
//!
//! Every descriptor created here is non-blocking and close-on-exec from the
//! syscall that creates it, so no window exists where a concurrent `fork` +
//! `exec` could inherit it.
//!
//! ```
//! use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
//!
//! let (r, w) = create_pipe()?; // non-blocking, close-on-exec
//! let events = events_with_capacity(32);
//! assert!(events.is_empty() && Interest::BOTH.is_readable());
//! # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
//! # unsafe { libc::close(r); libc::close(w) };
//! # Ok::<_, std::io::Error>(())
//! ```

use std::fmt;
use std::io;
use std::os::fd::RawFd;

pub use super::readiness::{Event, Interest};

/// A raw OS handle that can be registered with the reactor (a file descriptor).
///
/// ```
/// use moduvex_runtime::platform::sys::{create_pipe, RawSource};
///
/// let (r, w): (RawSource, RawSource) = create_pipe()?;
/// assert_ne!(r, w);
/// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
/// # unsafe { libc::close(r); libc::close(w) };
/// # Ok::<_, std::io::Error>(())
/// ```
pub type RawSource = RawFd;

/// Runs a libc call and turns a `-1` return into the thread's `errno` as an
/// [`io::Error`].
macro_rules! syscall {
    ($fn:ident ( $($arg:expr_2021),* $(,)? )) => {{
        // SAFETY: the caller of the macro upholds the contract of the named
        // libc function; every use site documents it.
        #[allow(clippy::macro_metavars_in_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
pub(crate) use syscall;

/// Like [`syscall!`], but retries while the call fails with `EINTR`.
///
/// Only for calls that are safe to repeat unchanged (`read`, `write`,
/// `epoll_wait` with a fresh timeout computed by the caller is *not* one:
/// the reactor handles its own `EINTR`).
macro_rules! syscall_retry {
    ($fn:ident ( $($arg:expr_2021),* $(,)? )) => {{
        loop {
            match $crate::platform::sys::syscall!($fn($($arg),*)) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use syscall_retry;

impl Interest {
    pub(crate) fn to_epoll(self) -> u32 {
        let mut bits = 0;
        if self.is_readable() {
            bits |= (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
        }
        if self.is_writable() {
            bits |= libc::EPOLLOUT as u32;
        }
        if self.is_priority() {
            bits |= libc::EPOLLPRI as u32;
        }
        bits
    }
}

impl Event {
    fn from_raw(raw: &libc::epoll_event) -> Event {
        let bits = raw.events;
        let has = |flag: libc::c_int| bits & flag as u32 != 0;
        let error = has(libc::EPOLLERR);
        let hup = has(libc::EPOLLHUP);
        let rdhup = has(libc::EPOLLRDHUP);
        Event {
            token: raw.u64 as usize,
            // HUP and ERR wake both directions: the next read or write will
            // not block, it will report EOF or the error.
            readable: has(libc::EPOLLIN) || has(libc::EPOLLPRI) || hup || rdhup || error,
            writable: has(libc::EPOLLOUT) || hup || error,
            read_closed: hup || rdhup,
            write_closed: hup,
            error,
            priority: has(libc::EPOLLPRI),
        }
    }
}

/// A reusable buffer of readiness events filled by the reactor's poll.
///
/// ```
/// use moduvex_runtime::platform::sys::events_with_capacity;
/// use moduvex_runtime::reactor::Reactor;
///
/// let reactor = Reactor::new()?;
/// let mut events = events_with_capacity(64);
/// assert_eq!(reactor.poll(&mut events, Some(0))?, 0);
/// assert!(events.is_empty());
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct Events {
    raw: Vec<libc::epoll_event>,
}

/// An empty event buffer able to hold `capacity` events per poll (at least 1).
///
/// ```
/// use moduvex_runtime::platform::sys::events_with_capacity;
///
/// assert!(events_with_capacity(16).capacity() >= 16);
/// assert!(events_with_capacity(0).capacity() >= 1);
/// ```
pub fn events_with_capacity(capacity: usize) -> Events {
    Events {
        raw: Vec::with_capacity(capacity.max(1)),
    }
}

impl Events {
    /// How many events one poll can return at most.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// reactor.register(w, 1, Interest::WRITABLE)?;
    /// let mut events = events_with_capacity(4);
    /// reactor.poll(&mut events, Some(1000))?;
    /// assert!(events.capacity() >= 4);
    /// assert!(events.len() <= events.capacity());
    /// # reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// How many events the last poll returned.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// reactor.register(w, 1, Interest::WRITABLE)?;
    /// let mut events = events_with_capacity(4);
    /// reactor.poll(&mut events, Some(1000))?;
    /// assert_eq!(events.len(), 1);
    /// # reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the last poll returned no events.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// reactor.register(w, 1, Interest::WRITABLE)?;
    /// let mut events = events_with_capacity(4);
    /// reactor.poll(&mut events, Some(1000))?;
    /// assert!(!events.is_empty());
    /// # reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Forget all events.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// reactor.register(w, 1, Interest::WRITABLE)?;
    /// let mut events = events_with_capacity(4);
    /// reactor.poll(&mut events, Some(1000))?;
    /// events.clear();
    /// assert!(events.is_empty());
    /// # reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// The events of the last poll, decoded.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// reactor.register(w, 1, Interest::WRITABLE)?;
    /// let mut events = events_with_capacity(4);
    /// reactor.poll(&mut events, Some(1000))?;
    /// let ev = events.iter().next().unwrap();
    /// assert_eq!((ev.token, ev.writable), (1, true));
    /// # reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.raw.iter().map(Event::from_raw)
    }

    /// Spare room for the kernel to fill: pointer and length.
    pub(crate) fn spare(&mut self) -> (*mut libc::epoll_event, libc::c_int) {
        self.raw.clear();
        let cap = self.raw.capacity().min(libc::c_int::MAX as usize);
        (self.raw.as_mut_ptr(), cap as libc::c_int)
    }

    /// Records that the kernel wrote `n` events into the spare room.
    ///
    /// # Safety
    /// The first `n` slots returned by the last `spare` call must have been
    /// initialised by `epoll_wait`, and `n` must not exceed its capacity.
    pub(crate) unsafe fn set_len(&mut self, n: usize) {
        debug_assert!(n <= self.raw.capacity());
        // SAFETY: guaranteed by the caller (the kernel initialised n slots).
        unsafe { self.raw.set_len(n) }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Creates a pipe `(read_end, write_end)`, both non-blocking and
/// close-on-exec. The caller owns both descriptors and must close them.
///
/// ```
/// use moduvex_runtime::platform::sys::create_pipe;
///
/// let (r, w) = create_pipe()?;
/// let mut buf = [0u8; 2];
/// // SAFETY: r and w are open pipe descriptors and each buffer is valid for the length passed.
/// unsafe {
///     assert_eq!(libc::write(w, b"hi".as_ptr().cast(), 2), 2);
///     assert_eq!(libc::read(r, buf.as_mut_ptr().cast(), 2), 2);
///     // Non-blocking: an empty pipe says "would block" at once.
///     assert_eq!(libc::read(r, buf.as_mut_ptr().cast(), 2), -1);
///     libc::close(r);
///     libc::close(w);
/// }
/// assert_eq!(&buf, b"hi");
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn create_pipe() -> io::Result<(RawSource, RawSource)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid, writable array of two ints.
    syscall!(pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC))?;
    Ok((fds[0], fds[1]))
}

/// Puts `fd` in non-blocking mode.
///
/// ```
/// use std::os::fd::AsRawFd;
/// use moduvex_runtime::platform::sys::set_nonblocking;
///
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// set_nonblocking(a.as_raw_fd())?;
/// let err = (&a).read(&mut [0; 1]).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
/// # use std::io::Read;
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn set_nonblocking(fd: RawSource) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on any descriptor value is memory-safe; a bad
    // descriptor yields EBADF.
    let flags = syscall!(fcntl(fd, libc::F_GETFL))?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        syscall!(fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// Marks `fd` close-on-exec.
///
/// ```
/// use std::os::fd::AsRawFd;
/// use moduvex_runtime::platform::sys::set_cloexec;
///
/// let file = std::fs::File::open("/dev/null")?;
/// set_cloexec(file.as_raw_fd())?;
/// // SAFETY: F_GETFD only reads the descriptor flags of an open descriptor.
/// let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFD) };
/// assert_ne!(flags & libc::FD_CLOEXEC, 0);
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn set_cloexec(fd: RawSource) -> io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD on any descriptor value is memory-safe.
    let flags = syscall!(fcntl(fd, libc::F_GETFD))?;
    if flags & libc::FD_CLOEXEC == 0 {
        // SAFETY: as above.
        syscall!(fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC))?;
    }
    Ok(())
}

/// Sets the calling thread's timer slack to `nanos` (`PR_SET_TIMERSLACK`).
///
/// The kernel may extend a timed wait by the slack (50 µs by default) to
/// batch wake-ups; a thread whose timed waits are timer deadlines wants
/// them to end on time. Zero would mean "reset to the default", so the
/// smallest slack is 1 ns.
#[cfg(not(miri))]
#[doc(hidden)]
pub fn set_timer_slack(nanos: u64) -> io::Result<()> {
    let nanos = nanos.max(1) as libc::c_ulong;
    // SAFETY: PR_SET_TIMERSLACK takes an integer argument; no memory is passed.
    syscall!(prctl(libc::PR_SET_TIMERSLACK, nanos, 0, 0, 0))?;
    Ok(())
}

/// Under Miri, which emulates `prctl` only for thread names, the slack is
/// left alone: it changes when a timed wait ends, never what it returns.
#[cfg(miri)]
#[doc(hidden)]
pub fn set_timer_slack(_nanos: u64) -> io::Result<()> {
    Ok(())
}

/// An owned eventfd used to wake a thread blocked in `epoll_wait`.
///
/// Registered edge-triggered: every `notify` produces a fresh edge, so the
/// counter never has to be read on the hot path. It is only drained when it
/// would overflow.
#[derive(Debug)]
#[doc(hidden)]
pub struct EventFd {
    fd: RawFd,
}

impl EventFd {
    /// A new non-blocking, close-on-exec eventfd with a zero counter.
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes plain integers.
        let fd = syscall!(eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC))?;
        Ok(EventFd { fd })
    }

    /// The descriptor, for registration.
    pub fn as_raw(&self) -> RawSource {
        self.fd
    }

    /// Adds one to the counter, waking any poller.
    pub fn notify(&self) {
        let one: u64 = 1;
        loop {
            // SAFETY: writes 8 bytes from a live u64 to a descriptor we own.
            let res = syscall_retry!(write(self.fd, (&one as *const u64).cast(), 8));
            match res {
                Ok(_) => return,
                // The counter is at its maximum: drain it and write again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.drain(),
                // Nothing sensible can be done; a wake-up may still arrive
                // through the saturated counter's readiness.
                Err(_) => return,
            }
        }
    }

    /// Resets the counter to zero.
    pub fn drain(&self) {
        let mut buf: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from a descriptor we own.
        let _ = syscall_retry!(read(self.fd, (&mut buf as *mut u64).cast(), 8));
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor and nobody uses it after drop.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_combines_and_never_empties() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable());
        assert_eq!(both, Interest::BOTH);
        assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
        assert_eq!(format!("{:?}", Interest::BOTH), "READABLE | WRITABLE");
    }

    #[test]
    fn pipe_is_nonblocking_and_cloexec() {
        let (r, w) = create_pipe().unwrap();
        for fd in [r, w] {
            // SAFETY: fd is a descriptor we just created.
            let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            assert!(fl & libc::O_NONBLOCK != 0);
            // SAFETY: as above.
            let fdfl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            assert!(fdfl & libc::FD_CLOEXEC != 0);
        }
        let mut b = [0u8; 1];
        // SAFETY: reading into a live 1-byte buffer.
        let n = unsafe { libc::read(r, b.as_mut_ptr().cast(), 1) };
        assert_eq!(n, -1, "empty non-blocking pipe must not block");
        // SAFETY: closing descriptors we own.
        unsafe {
            libc::close(r);
            libc::close(w);
        }
    }

    #[test]
    fn eventfd_notify_and_drain() {
        let efd = EventFd::new().unwrap();
        efd.notify();
        efd.notify();
        efd.drain();
        efd.drain(); // already empty: must not block
    }

    #[test]
    fn checked_syscall_reports_errno() {
        // SAFETY: closing an invalid descriptor is memory-safe; it fails.
        let err = syscall!(close(-1)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }
}
