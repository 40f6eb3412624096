//! [`Interest`]: the readiness a task waits for, and [`Ready`]: the
//! readiness it found.
//!
//! The one idea: both are small bit sets with tokio's names and values, so
//! `stream.ready(Interest::READABLE | Interest::WRITABLE)` and
//! `ready.is_read_closed()` read as they do with tokio. They convert to and
//! from the reactor's readiness word at the edge (`to_mask`, `from_mask`);
//! nothing below this module knows them.

use std::fmt;
use std::ops;

use crate::platform::sys;
use crate::reactor::waker_registry as word;

const READABLE: u8 = 0b0001;
const WRITABLE: u8 = 0b0010;
const PRIORITY: u8 = 0b0100;
const ERROR: u8 = 0b1000;

/// Readiness a task is interested in: readable, writable, priority,
/// errors, or a union of them (never empty).
///
/// Used with the `ready` methods of the sockets
/// ([`TcpStream::ready`](crate::net::TcpStream::ready), ...) and with
/// [`AsyncFd`](crate::io::unix::AsyncFd), as tokio's `Interest`.
///
/// ```
/// use moduvex_runtime::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Interest in the source becoming readable (or its read half closed).
    pub const READABLE: Interest = Interest(READABLE);
    /// Interest in the source becoming writable (or its write half closed).
    pub const WRITABLE: Interest = Interest(WRITABLE);
    /// Interest in priority events (`EPOLLPRI`: out-of-band TCP data, a
    /// changed `/proc/self/mounts`, ...). Delivered only to a source
    /// registered for it ([`AsyncFd::with_interest`]); sockets are
    /// registered for reading and writing, as tokio's.
    ///
    /// [`AsyncFd::with_interest`]: crate::io::unix::AsyncFd::with_interest
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Interest = Interest(PRIORITY);
    /// Interest in error readiness (`EPOLLERR`; always reported by the
    /// kernel, whatever else the source is registered for).
    pub const ERROR: Interest = Interest(ERROR);

    /// Whether the interest includes readability.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// assert!((Interest::WRITABLE | Interest::READABLE).is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether the interest includes writability.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    ///
    /// assert!(Interest::WRITABLE.is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Whether the interest includes priority events.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    ///
    /// assert!(!Interest::READABLE.is_priority());
    /// # #[cfg(target_os = "linux")] {
    /// assert!(Interest::PRIORITY.is_priority());
    /// assert!((Interest::READABLE | Interest::PRIORITY).is_priority());
    /// # }
    /// ```
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// Whether the interest includes errors.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    ///
    /// assert!(Interest::ERROR.is_error());
    /// assert!(!Interest::WRITABLE.is_error());
    /// assert!((Interest::WRITABLE | Interest::ERROR).is_error());
    /// ```
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// The union of `self` and `other`.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert!(BOTH.is_readable() && BOTH.is_writable());
    /// assert_eq!(BOTH, Interest::READABLE | Interest::WRITABLE);
    /// ```
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`, or `None` if nothing would be left (an
    /// interest is never empty).
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    /// assert_eq!(Interest::ERROR.remove(Interest::ERROR), None);
    /// ```
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        if left == 0 {
            None
        } else {
            Some(Interest(left))
        }
    }

    /// The reactor readiness bits a wait for this interest is satisfied by
    /// (tokio's `Ready::from_interest`: a closed half counts as ready).
    pub(crate) fn to_mask(self) -> usize {
        let mut mask = 0;
        if self.is_readable() {
            mask |= word::READABLE | word::READ_CLOSED;
        }
        if self.is_writable() {
            mask |= word::WRITABLE | word::WRITE_CLOSED;
        }
        if self.is_priority() {
            mask |= word::PRIORITY | word::READ_CLOSED;
        }
        if self.is_error() {
            mask |= word::ERROR;
        }
        mask
    }

    /// The kernel registration for this interest.
    // Used by `io::unix::AsyncFd` only.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn to_registration(self) -> sys::Interest {
        let mut reg = sys::Interest::ERROR;
        if self.is_readable() {
            reg = reg.add(sys::Interest::READABLE);
        }
        if self.is_writable() {
            reg = reg.add(sys::Interest::WRITABLE);
        }
        if self.is_priority() {
            reg = reg.add(sys::Interest::PRIORITY);
        }
        reg
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    #[inline]
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    #[inline]
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
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
        write_names(f, &names)
    }
}

fn write_names(f: &mut fmt::Formatter<'_>, names: &[(bool, &str)]) -> fmt::Result {
    let mut sep = "";
    for (_, name) in names.iter().filter(|(on, _)| *on) {
        write!(f, "{sep}{name}")?;
        sep = " | ";
    }
    if sep.is_empty() {
        f.write_str("EMPTY")?;
    }
    Ok(())
}

const R_READABLE: u8 = 0b0000_0001;
const R_WRITABLE: u8 = 0b0000_0010;
const R_READ_CLOSED: u8 = 0b0000_0100;
const R_WRITE_CLOSED: u8 = 0b0000_1000;
const R_PRIORITY: u8 = 0b0001_0000;
const R_ERROR: u8 = 0b0010_0000;

/// Readiness found for a source: a set of readable, writable, read-closed,
/// write-closed, priority and error (tokio's `Ready`, with its values).
///
/// ```
/// use moduvex_runtime::io::Ready;
///
/// let ready = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(ready.is_readable() && ready.is_read_closed());
/// assert!(!ready.is_writable());
/// assert!((ready - Ready::READABLE - Ready::READ_CLOSED).is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(R_READABLE);
    /// Writable.
    pub const WRITABLE: Ready = Ready(R_WRITABLE);
    /// The read half is closed (the peer shut its writing down): reads
    /// return end-of-file. Final: never cleared.
    pub const READ_CLOSED: Ready = Ready(R_READ_CLOSED);
    /// The write half is closed. Final: never cleared.
    pub const WRITE_CLOSED: Ready = Ready(R_WRITE_CLOSED);
    /// Priority data is available (`EPOLLPRI`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Ready = Ready(R_PRIORITY);
    /// An error is pending on the source.
    pub const ERROR: Ready = Ready(R_ERROR);
    /// Every readiness.
    pub const ALL: Ready =
        Ready(R_READABLE | R_WRITABLE | R_READ_CLOSED | R_WRITE_CLOSED | R_PRIORITY | R_ERROR);

    /// Whether no readiness is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::EMPTY.is_empty());
    /// assert!(!Ready::READABLE.is_empty());
    /// assert!((Ready::ALL - Ready::ALL).is_empty());
    /// ```
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `READABLE` is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::READABLE.is_readable());
    /// assert!(Ready::ALL.is_readable());
    /// assert!(!Ready::EMPTY.is_readable());
    /// ```
    pub fn is_readable(self) -> bool {
        self.0 & R_READABLE != 0
    }

    /// Whether `WRITABLE` is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::WRITABLE.is_writable());
    /// assert!(Ready::ALL.is_writable());
    /// assert!(!Ready::EMPTY.is_writable());
    /// ```
    pub fn is_writable(self) -> bool {
        self.0 & R_WRITABLE != 0
    }

    /// Whether `READ_CLOSED` is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::READ_CLOSED.is_read_closed());
    /// assert!(Ready::ALL.is_read_closed());
    /// assert!(!Ready::EMPTY.is_read_closed());
    /// ```
    pub fn is_read_closed(self) -> bool {
        self.0 & R_READ_CLOSED != 0
    }

    /// Whether `WRITE_CLOSED` is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::WRITE_CLOSED.is_write_closed());
    /// assert!(Ready::ALL.is_write_closed());
    /// assert!(!Ready::EMPTY.is_write_closed());
    /// ```
    pub fn is_write_closed(self) -> bool {
        self.0 & R_WRITE_CLOSED != 0
    }

    /// Whether `PRIORITY` is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::PRIORITY.is_priority());
    /// assert!(Ready::ALL.is_priority());
    /// assert!(!Ready::EMPTY.is_priority());
    /// ```
    pub fn is_priority(self) -> bool {
        self.0 & R_PRIORITY != 0
    }

    /// Whether `ERROR` is set.
    ///
    /// ```
    /// use moduvex_runtime::io::Ready;
    ///
    /// assert!(Ready::ERROR.is_error());
    /// assert!(Ready::ALL.is_error());
    /// assert!(!Ready::EMPTY.is_error());
    /// ```
    pub fn is_error(self) -> bool {
        self.0 & R_ERROR != 0
    }

    /// The readiness in the reactor's word bits.
    pub(crate) fn from_mask(mask: usize) -> Ready {
        let pairs = [
            (word::READABLE, R_READABLE),
            (word::WRITABLE, R_WRITABLE),
            (word::READ_CLOSED, R_READ_CLOSED),
            (word::WRITE_CLOSED, R_WRITE_CLOSED),
            (word::PRIORITY, R_PRIORITY),
            (word::ERROR, R_ERROR),
        ];
        Ready(
            pairs
                .iter()
                .filter(|(w, _)| mask & w != 0)
                .fold(0, |acc, (_, r)| acc | r),
        )
    }

    /// This readiness as the reactor's word bits.
    // Used by `io::unix::AsyncFd` only.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn to_mask(self) -> usize {
        let pairs = [
            (word::READABLE, R_READABLE),
            (word::WRITABLE, R_WRITABLE),
            (word::READ_CLOSED, R_READ_CLOSED),
            (word::WRITE_CLOSED, R_WRITE_CLOSED),
            (word::PRIORITY, R_PRIORITY),
            (word::ERROR, R_ERROR),
        ];
        pairs
            .iter()
            .filter(|(_, r)| self.0 & r != 0)
            .fold(0, |acc, (w, _)| acc | w)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    #[inline]
    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    #[inline]
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    #[inline]
    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    #[inline]
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_read_closed(), "READ_CLOSED"),
            (self.is_write_closed(), "WRITE_CLOSED"),
            (self.is_priority(), "PRIORITY"),
            (self.is_error(), "ERROR"),
        ];
        write_names(f, &names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_masks_and_names() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
        assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
        assert_eq!(Interest::ERROR.remove(Interest::ERROR), None);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let mut i = Interest::PRIORITY;
            i |= Interest::ERROR;
            assert!(i.is_priority() && i.is_error() && !i.is_readable());
        }
        assert_eq!(
            Interest::READABLE.to_mask(),
            word::READABLE | word::READ_CLOSED
        );
    }

    #[test]
    fn ready_round_trips_through_the_word() {
        for bits in 0..=Ready::ALL.0 {
            let r = Ready(bits);
            assert_eq!(Ready::from_mask(r.to_mask()), r);
        }
        assert_eq!(format!("{:?}", Ready::EMPTY), "EMPTY");
        assert_eq!(
            format!("{:?}", Ready::READABLE | Ready::ERROR),
            "READABLE | ERROR"
        );
        assert_eq!(Ready::ALL - Ready::ALL, Ready::EMPTY);
    }
}
