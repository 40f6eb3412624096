//! [`Instant`]: a point in time as the runtime's clock sees it.
//!
//! The one idea: an `Instant` is a [`std::time::Instant`] in a newtype, and
//! only [`Instant::now`] differs from std's: inside a current-thread runtime
//! whose clock is paused (see [`pause`](super::pause)) it reads that clock,
//! which stands still until advanced. Everywhere else it is std's clock,
//! decided by one relaxed load while no clock in the process was ever paused.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of a monotonically nondecreasing clock, as tokio's
/// `tokio::time::Instant`: std's [`Instant`](std::time::Instant), except
/// that [`Instant::now`] sees the paused clock of the runtime it is called
/// in (see [`pause`](super::pause)).
///
/// Convert from and to std's with [`From`] / [`Instant::from_std`] /
/// [`Instant::into_std`]. Subtracting a later instant gives zero, as
/// tokio's (and std's since 1.60) does, rather than panicking.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // completes at once
///     assert!(start.elapsed() >= Duration::from_secs(3600));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current instant: the paused clock's if the calling thread runs
    /// a current-thread runtime whose clock is paused (or was, and has been
    /// advanced), std's otherwise.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let a = Instant::now();
    ///     time::advance(Duration::from_secs(1)).await;
    ///     assert_eq!(Instant::now() - a, Duration::from_secs(1));
    /// });
    /// ```
    pub fn now() -> Instant {
        Instant {
            std: super::clock::now(),
        }
    }

    /// The `Instant` of a std instant.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let std_now = std::time::Instant::now();
    /// let ours = Instant::from_std(std_now);
    /// assert_eq!(ours.into_std(), std_now);
    /// # let _ = Duration::ZERO;
    /// ```
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The std instant of this `Instant`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let later = Instant::from_std(std::time::Instant::now()) + Duration::from_secs(1);
    /// let std_later: std::time::Instant = later.into_std();
    /// assert!(std_later > std::time::Instant::now());
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time elapsed from `earlier` to `self`; zero if `earlier` is later.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let a = Instant::from_std(std::time::Instant::now());
    /// let b = a + Duration::from_secs(3);
    /// assert_eq!(b.duration_since(a), Duration::from_secs(3));
    /// assert_eq!(a.duration_since(b), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time elapsed from `earlier` to `self`; `None` if `earlier` is
    /// later.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let a = Instant::from_std(std::time::Instant::now());
    /// let b = a + Duration::from_secs(3);
    /// assert_eq!(b.checked_duration_since(a), Some(Duration::from_secs(3)));
    /// assert_eq!(a.checked_duration_since(b), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time elapsed from `earlier` to `self`; zero if `earlier` is later.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let a = Instant::from_std(std::time::Instant::now());
    /// let b = a + Duration::from_millis(1);
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time elapsed since this instant, by [`Instant::now`]'s clock (so
    /// under a paused clock, only what was advanced).
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let start = Instant::now();
    ///     time::sleep(Duration::from_secs(30)).await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(30));
    /// });
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that cannot be represented.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let a = Instant::from_std(std::time::Instant::now());
    /// assert!(a.checked_add(Duration::from_secs(1)).is_some());
    /// assert!(a.checked_add(Duration::MAX).is_none());
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that cannot be represented.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::Instant;
    ///
    /// let a = Instant::from_std(std::time::Instant::now());
    /// assert_eq!(a.checked_sub(Duration::ZERO), Some(a));
    /// assert!(a.checked_sub(Duration::MAX).is_none());
    /// ```
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(value: Instant) -> std::time::Instant {
        value.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result cannot be represented (as std's).
    fn add(self, other: Duration) -> Instant {
        Instant::from_std(self.std + other)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub for Instant {
    type Output = Duration;

    /// The time from `rhs` to `self`; zero if `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.std.saturating_duration_since(rhs.std)
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result cannot be represented (as std's).
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways_without_loss() {
        let std = std::time::Instant::now();
        let ours = Instant::from(std);
        assert_eq!(ours.into_std(), std);
        assert_eq!(std::time::Instant::from(ours), std);
        assert_eq!(Instant::from_std(std), ours);
    }

    #[test]
    fn arithmetic_matches_std_and_saturates_where_tokio_does() {
        let t0 = Instant::from_std(std::time::Instant::now());
        let s = Duration::from_secs(1);
        let t1 = t0 + s;
        assert_eq!(t1 - t0, s);
        assert_eq!(t0 - t1, Duration::ZERO, "a later rhs gives zero");
        assert_eq!(t1.duration_since(t0), s);
        assert_eq!(t0.duration_since(t1), Duration::ZERO);
        assert_eq!(t1.checked_duration_since(t0), Some(s));
        assert_eq!(t0.checked_duration_since(t1), None);
        assert_eq!(t0.saturating_duration_since(t1), Duration::ZERO);
        assert_eq!(t0.checked_add(s), Some(t1));
        assert_eq!(t1.checked_sub(s), Some(t0));
        assert_eq!(t0.checked_add(Duration::MAX), None);
        assert_eq!(t1 - s, t0);
        let mut t = t0;
        t += s;
        assert_eq!(t, t1);
        t -= s;
        assert_eq!(t, t0);
        assert!(t0 < t1);
        assert_eq!(format!("{t0:?}"), format!("{:?}", t0.into_std()));
    }

    #[test]
    fn outside_a_runtime_now_is_std_now() {
        let before = std::time::Instant::now();
        let now = Instant::now().into_std();
        assert!(now >= before && now <= std::time::Instant::now());
    }
}
