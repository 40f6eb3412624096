//! What every Unix system layer shares: readiness interest, the decoded
//! event, the event buffer, pipes, descriptor flags, and the checked-syscall
//! macros. Each OS module (`linux.rs`, `bsd.rs`) re-exports this and adds
//! its kernel's event record (`RawEvent`, decoded by `Event::from_raw`) and
//! whatever else only it has.
//!
//! Every descriptor created here is non-blocking and close-on-exec. Where
//! the kernel can set both in the creating call (`pipe2`) it does, so no
//! window exists where a concurrent `fork` + `exec` could inherit it; where
//! it cannot (macOS) the flags are set right after creation.
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
use std::num::NonZeroU8;
use std::os::fd::RawFd;

use super::sys::RawEvent;

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
/// a wait with a fresh timeout computed by the caller is *not* one:
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

/// Readiness a source is registered for: readable, writable, both, and
/// optionally priority (`EPOLLPRI` on Linux) or errors alone.
///
/// It cannot be empty: an empty interest would register a source that can
/// never become ready, which is always a bug. Errors and hang-ups are
/// reported for every registration (epoll always reports `EPOLLERR` and
/// `EPOLLHUP`; kqueue reports them as `EV_EOF` / `EV_ERROR` on the filters a
/// source has), so [`Interest::ERROR`] adds no kernel interest: it lets a
/// source be registered for errors alone.
///
/// ```
/// use moduvex_runtime::platform::sys::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert_eq!(both, Interest::BOTH);
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(NonZeroU8);

const READ_BIT: u8 = 0b0001;
const WRITE_BIT: u8 = 0b0010;
const PRIORITY_BIT: u8 = 0b0100;
const ERROR_BIT: u8 = 0b1000;

impl Interest {
    /// Interest in the source becoming readable.
    pub const READABLE: Interest = Interest(match NonZeroU8::new(READ_BIT) {
        Some(v) => v,
        None => unreachable!(),
    });
    /// Interest in the source becoming writable.
    pub const WRITABLE: Interest = Interest(match NonZeroU8::new(WRITE_BIT) {
        Some(v) => v,
        None => unreachable!(),
    });
    /// Interest in both directions.
    pub const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// Interest in priority events (`EPOLLPRI`: out-of-band data, a
    /// changed `/proc/self/mounts`, ...). kqueue has no such filter: there
    /// it registers read interest, and no event is ever marked priority.
    pub const PRIORITY: Interest = Interest(match NonZeroU8::new(PRIORITY_BIT) {
        Some(v) => v,
        None => unreachable!(),
    });
    /// Interest in errors only (always reported; see the type docs).
    pub const ERROR: Interest = Interest(match NonZeroU8::new(ERROR_BIT) {
        Some(v) => v,
        None => unreachable!(),
    });

    /// The union of two interests (also spelled `a | b`).
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    ///
    /// const RW: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert_eq!(RW, Interest::BOTH);
    /// ```
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(match NonZeroU8::new(self.0.get() | other.0.get()) {
            Some(v) => v,
            None => unreachable!(),
        })
    }

    /// `self` without `other`, or `None` if nothing is left.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    ///
    /// assert_eq!(Interest::BOTH.remove(Interest::WRITABLE), Some(Interest::READABLE));
    /// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
    /// ```
    #[must_use]
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        match NonZeroU8::new(self.0.get() & !other.0.get()) {
            Some(v) => Some(Interest(v)),
            None => None,
        }
    }

    /// Whether this interest includes readability.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0.get() & READ_BIT != 0
    }

    /// Whether this interest includes writability.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    ///
    /// assert!(Interest::WRITABLE.is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0.get() & WRITE_BIT != 0
    }

    /// Whether this interest includes priority events.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    ///
    /// assert!(Interest::PRIORITY.is_priority());
    /// assert!(!Interest::READABLE.is_priority());
    /// ```
    pub const fn is_priority(self) -> bool {
        self.0.get() & PRIORITY_BIT != 0
    }

    /// Whether this interest includes errors.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::Interest;
    ///
    /// assert!(Interest::ERROR.is_error());
    /// assert!(!Interest::WRITABLE.is_error());
    /// ```
    pub const fn is_error(self) -> bool {
        self.0.get() & ERROR_BIT != 0
    }
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_priority(), "PRIORITY"),
            (self.is_error(), "ERROR"),
        ];
        let mut sep = "";
        for (_, name) in names.iter().filter(|(on, _)| *on) {
            write!(f, "{sep}{name}")?;
            sep = " | ";
        }
        Ok(())
    }
}

/// One readiness event, decoded from the kernel's representation.
///
/// ```
/// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
/// use moduvex_runtime::reactor::Reactor;
///
/// let reactor = Reactor::new()?;
/// let (r, w) = create_pipe()?;
/// reactor.register(r, 7, Interest::READABLE)?;
/// // SAFETY: w is an open pipe descriptor and the buffer holds the byte count passed.
/// unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
/// let mut events = events_with_capacity(8);
/// reactor.poll(&mut events, Some(1000))?;
/// let ev = events.iter().find(|ev| ev.token == 7).unwrap();
/// assert!(ev.readable && !ev.read_closed && !ev.error);
/// # reactor.deregister(r)?;
/// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
/// # unsafe { libc::close(r); libc::close(w) };
/// # Ok::<_, std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The token the source was registered under.
    pub token: usize,
    /// The source can be read (or the read side hung up / errored: a read
    /// will not block).
    pub readable: bool,
    /// The source can be written (or errored: a write will not block).
    pub writable: bool,
    /// The peer closed its write side (`EPOLLRDHUP` / `EPOLLHUP`; `EV_EOF`
    /// on a kqueue read filter).
    pub read_closed: bool,
    /// The write side is closed (`EPOLLHUP`; `EV_EOF` on a kqueue write
    /// filter) or the descriptor has an error.
    pub write_closed: bool,
    /// A pending error (`EPOLLERR`; `EV_ERROR`, or `EV_EOF` with an error
    /// code, on kqueue): both directions are woken so the next
    /// operation reports it.
    pub error: bool,
    /// `EPOLLPRI` (Linux only): urgent (out-of-band or exceptional) data, reported only
    /// to sources registered with [`Interest::PRIORITY`]. It also counts as
    /// readable, as mio reports it.
    pub priority: bool,
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
    raw: Vec<RawEvent>,
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
    pub(crate) fn spare(&mut self) -> (*mut RawEvent, libc::c_int) {
        self.raw.clear();
        let cap = self.raw.capacity().min(libc::c_int::MAX as usize);
        (self.raw.as_mut_ptr(), cap as libc::c_int)
    }

    /// Records that the kernel wrote `n` events into the spare room.
    ///
    /// # Safety
    /// The first `n` slots returned by the last `spare` call must have been
    /// initialised by the kernel's wait, and `n` must not exceed its capacity.
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
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    {
        // SAFETY: `fds` is a valid, writable array of two ints.
        syscall!(pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC))?;
    }
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    {
        // Apple has no pipe2: create, then set the flags (a concurrent
        // fork + exec in between could inherit the pipe).
        // SAFETY: `fds` is a valid, writable array of two ints.
        syscall!(pipe(fds.as_mut_ptr()))?;
        for fd in fds {
            if let Err(e) = set_nonblocking(fd).and_then(|()| set_cloexec(fd)) {
                // SAFETY: both descriptors were just created here and are
                // not handed out; each is closed once.
                unsafe {
                    libc::close(fds[0]);
                    libc::close(fds[1]);
                }
                return Err(e);
            }
        }
    }
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
    fn checked_syscall_reports_errno() {
        // SAFETY: closing an invalid descriptor is memory-safe; it fails.
        let err = syscall!(close(-1)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }
}
