//! Readiness, as every backend speaks it: the [`Interest`] a source is
//! registered for and the [`Event`] a poll reports, decoded from the
//! kernel's representation by each system module.

use std::fmt;
use std::num::NonZeroU8;

/// Readiness a source is registered for: readable, writable, both, and
/// optionally priority (`EPOLLPRI`) or errors alone.
///
/// It cannot be empty: an empty interest would register a source that can
/// never become ready, which is always a bug. Errors and hang-ups are
/// reported for every registration (epoll always reports `EPOLLERR` and
/// `EPOLLHUP`), so [`Interest::ERROR`] adds no kernel interest: it lets a
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
    /// changed `/proc/self/mounts`, ...).
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
    /// The peer closed its write side (`EPOLLRDHUP` / `EPOLLHUP`).
    pub read_closed: bool,
    /// The write side is closed (`EPOLLHUP`) or the descriptor has an error.
    pub write_closed: bool,
    /// `EPOLLERR`: a pending error; both directions are woken so the next
    /// operation reports it.
    pub error: bool,
    /// `EPOLLPRI`: urgent (out-of-band or exceptional) data, reported only
    /// to sources registered with [`Interest::PRIORITY`]. It also counts as
    /// readable, as mio reports it.
    pub priority: bool,
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
}
