//! Linux system layer: epoll event records, the eventfd that unparks an
//! epoll wait, and the thread timer slack. The rest is shared with every
//! Unix (`unix.rs`) and every OS (`interest.rs`).
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

use std::io;
use std::os::fd::RawFd;

pub use super::readiness::{Event, Interest};
pub use super::unix::*;
pub(crate) use super::unix::{syscall, syscall_retry};

/// The kernel's record of one event, as `epoll_wait` fills it.
pub(crate) type RawEvent = libc::epoll_event;

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

/// Decodes one `epoll_event`.
pub(crate) fn decode(raw: &libc::epoll_event) -> Event {
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
    fn eventfd_notify_and_drain() {
        let efd = EventFd::new().unwrap();
        efd.notify();
        efd.notify();
        efd.drain();
        efd.drain(); // already empty: must not block
    }
}
