//! The system layer shared by every Unix: descriptors as sources, one
//! checked-syscall helper, pipes, descriptor flags, and the event buffer
//! each backend fills with its own kernel records.
//!
//! Every descriptor created here is non-blocking and close-on-exec. Where
//! the OS can set both in the creating syscall (`pipe2` on Linux and
//! FreeBSD) it does, so no window exists where a concurrent `fork` + `exec`
//! could inherit it; on macOS the flags are set right after creation.

use std::fmt;
use std::io;
use std::os::fd::RawFd;

use super::readiness::Event;
use super::sys::{decode, RawEvent};

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
#[allow(unused_macros)]
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
        self.raw.iter().map(decode)
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
    /// initialised by the kernel, and `n` must not exceed its capacity.
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
#[cfg(not(target_vendor = "apple"))]
pub fn create_pipe() -> io::Result<(RawSource, RawSource)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid, writable array of two ints.
    syscall!(pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC))?;
    Ok((fds[0], fds[1]))
}

/// Creates a pipe `(read_end, write_end)`, both non-blocking and
/// close-on-exec (macOS has no `pipe2`: the flags are set after `pipe`).
/// The caller owns both descriptors and must close them.
#[cfg(target_vendor = "apple")]
pub fn create_pipe() -> io::Result<(RawSource, RawSource)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid, writable array of two ints.
    syscall!(pipe(fds.as_mut_ptr()))?;
    let set = |fd| set_nonblocking(fd).and_then(|()| set_cloexec(fd));
    if let Err(e) = set(fds[0]).and_then(|()| set(fds[1])) {
        // SAFETY: both descriptors were just created here and are not shared.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(e);
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
