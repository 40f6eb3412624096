//! [`Interval`]: ticks at a fixed period.
//!
//! The one idea: an interval is one [`Sleep`] reset after each tick to the
//! next scheduled instant, which [`MissedTickBehavior`] computes from the tick
//! just taken, the current time and the period (a pure function, tested on
//! its own).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;

use super::sleep::{sleep_until, Sleep};

/// Creates an interval whose first tick completes at once and whose ticks
/// then follow every `period`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::interval;
///
/// moduvex_runtime::block_on(async {
///     let mut ticks = interval(Duration::from_millis(5));
///     let first = ticks.tick().await; // at once
///     assert_eq!(ticks.tick().await, first + Duration::from_millis(5));
/// });
/// ```
///
/// # Panics
///
/// If `period` is zero, and outside a moduvex runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` period must be non-zero");
    interval_at(Instant::now(), period)
}

/// Creates an interval whose first tick completes at `start` and whose ticks
/// then follow every `period`.
///
/// # Panics
///
/// If `period` is zero, and outside a moduvex runtime.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, interval_at, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let start = Instant::now() + Duration::from_secs(5);
///     let mut ticks = interval_at(start, Duration::from_secs(1));
///     assert_eq!(ticks.tick().await, start);
///     assert_eq!(ticks.tick().await, start + Duration::from_secs(1));
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval_at` period must be non-zero");
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed, that is when a tick is
/// taken so late that the following scheduled instant has already passed.
///
/// Ticks that were not missed always follow the schedule `start + k * period`.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, interval, Instant, MissedTickBehavior};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let mut ticks = interval(Duration::from_secs(1));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     let t0 = ticks.tick().await;
///     time::advance(Duration::from_millis(3500)).await; // ticks at 1, 2 and 3 s missed
///     assert_eq!(ticks.tick().await, t0 + Duration::from_secs(1)); // late, at once
///     // The ticks of 2 and 3 s are dropped; 4 s is the next one to come.
///     assert_eq!(ticks.tick().await, t0 + Duration::from_secs(4));
///     # let _ = Instant::now();
/// });
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one per `tick()`, until the schedule is
    /// caught up; the schedule never shifts. The default.
    #[default]
    Burst,
    /// Shift the schedule: the next tick comes `period` after the late tick
    /// was taken, and later ticks follow from there.
    Delay,
    /// Drop the missed ticks: the next tick is the first instant of the
    /// original schedule that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The instant of the tick after the one scheduled at `scheduled`, taken
    /// at `now`.
    pub(crate) fn next_tick(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let next = super::saturating_add(scheduled, period);
        if next > now {
            return next;
        }
        match self {
            MissedTickBehavior::Burst => next,
            MissedTickBehavior::Delay => super::saturating_add(now, period),
            MissedTickBehavior::Skip => {
                // The first `scheduled + k * period` strictly after `now`.
                let late = now.duration_since(scheduled).as_nanos();
                let period_ns = period.as_nanos();
                let k = late / period_ns + 1;
                let ahead = k.saturating_mul(period_ns);
                let secs = u64::try_from(ahead / 1_000_000_000).unwrap_or(u64::MAX);
                let nanos = (ahead % 1_000_000_000) as u32;
                super::saturating_add(scheduled, Duration::new(secs, nanos))
            }
        }
    }
}

/// A stream of ticks at a fixed period, created by [`interval`] or
/// [`interval_at`].
///
/// `tick()` is cancel-safe: dropping its future before it completes loses
/// no tick.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, interval, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     let mut ticks = interval(Duration::from_millis(100));
///     for _ in 0..3 {
///         ticks.tick().await; // the first tick completes at once
///     }
///     assert_eq!(start.elapsed(), Duration::from_millis(200));
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next scheduled tick.
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(2));
    ///     let first = ticks.tick().await;
    ///     assert_eq!(first, Instant::now());
    ///     assert_eq!(ticks.tick().await, first + Duration::from_secs(2));
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: the scheduled instant once it has come.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(1));
    ///     let first = std::future::poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     let second = std::future::poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     assert_eq!(second - first, Duration::from_secs(1));
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = self
            .missed_tick_behavior
            .next_tick(scheduled, now, self.period);
        // The clock was just read: the next poll need not read it again.
        self.delay.reset_at_now(next, now);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick comes one `period` from now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(1));
    ///     ticks.tick().await;
    ///     time::advance(Duration::from_millis(500)).await;
    ///     ticks.reset();
    ///     let start = Instant::now();
    ///     ticks.tick().await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(1));
    /// });
    /// ```
    pub fn reset(&mut self) {
        self.reset_at(super::saturating_add(Instant::now(), self.period));
    }

    /// Restarts the schedule: the next tick comes at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(60));
    ///     ticks.tick().await;
    ///     ticks.reset_immediately();
    ///     let start = Instant::now();
    ///     ticks.tick().await;
    ///     assert_eq!(start.elapsed(), Duration::ZERO);
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick comes `after` from now, and
    /// the following ones a `period` apart from it (tokio's
    /// `reset_after`; the missed-tick behaviour plays no part here).
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(60));
    ///     ticks.tick().await;
    ///     ticks.reset_after(Duration::from_secs(5));
    ///     let start = Instant::now();
    ///     ticks.tick().await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(super::saturating_add(Instant::now(), after));
    }

    /// Restarts the schedule: the next tick comes at `deadline`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(60));
    ///     ticks.tick().await;
    ///     let at = Instant::now() + Duration::from_secs(7);
    ///     ticks.reset_at(at);
    ///     assert_eq!(ticks.tick().await, at);
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// The behaviour when ticks are missed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, MissedTickBehavior};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let ticks = interval(Duration::from_secs(1));
    ///     assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// });
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the behaviour when ticks are missed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval, Instant, MissedTickBehavior};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut ticks = interval(Duration::from_secs(1));
    ///     ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ///     ticks.tick().await;
    ///     time::advance(Duration::from_millis(2500)).await;
    ///     ticks.tick().await; // late
    ///     let late = Instant::now();
    ///     // Delay: the schedule restarts one period after the late tick.
    ///     assert_eq!(ticks.tick().await, late + Duration::from_secs(1));
    /// });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period between ticks.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, interval};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     assert_eq!(interval(Duration::from_millis(250)).period(), Duration::from_millis(250));
    /// });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// Each tick is an item, the instant it was scheduled for, as
/// [`tick`](Interval::tick) returns it; the stream never ends (tokio-stream's
/// `IntervalStream`, without the wrapper: see
/// [`stream::IntervalStream`](crate::stream::IntervalStream) for that name).
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
/// use moduvex_runtime::time::interval;
///
/// moduvex_runtime::block_on(async {
///     let ticks: Vec<_> = interval(Duration::from_millis(1)).take(3).collect().await;
///     assert_eq!(ticks[2] - ticks[0], Duration::from_millis(2));
/// });
/// ```
impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(10);

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn on_time_ticks_follow_the_schedule_for_every_behavior() {
        let t0 = Instant::now();
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            // Taken on time, or late by less than a period: nothing missed.
            assert_eq!(b.next_tick(t0, t0, P), at(t0, 10), "{b:?}");
            assert_eq!(b.next_tick(t0, at(t0, 9), P), at(t0, 10), "{b:?}");
        }
    }

    #[test]
    fn burst_keeps_the_schedule() {
        let t0 = Instant::now();
        let b = MissedTickBehavior::Burst;
        assert_eq!(b.next_tick(t0, at(t0, 35), P), at(t0, 10));
        // Catching up: each tick is still the next slot of the schedule.
        assert_eq!(b.next_tick(at(t0, 10), at(t0, 35), P), at(t0, 20));
        assert_eq!(b.next_tick(at(t0, 30), at(t0, 35), P), at(t0, 40));
    }

    #[test]
    fn delay_shifts_the_schedule_to_now() {
        let t0 = Instant::now();
        let b = MissedTickBehavior::Delay;
        assert_eq!(b.next_tick(t0, at(t0, 35), P), at(t0, 45));
        assert_eq!(b.next_tick(t0, at(t0, 10), P), at(t0, 20));
    }

    #[test]
    fn skip_jumps_to_the_next_future_slot_of_the_schedule() {
        let t0 = Instant::now();
        let b = MissedTickBehavior::Skip;
        assert_eq!(b.next_tick(t0, at(t0, 35), P), at(t0, 40));
        // Exactly on a slot: that slot is not in the future, the next one is.
        assert_eq!(b.next_tick(t0, at(t0, 30), P), at(t0, 40));
        let odd = Duration::from_nanos(7);
        assert_eq!(
            b.next_tick(t0, t0 + Duration::from_nanos(100), odd),
            t0 + Duration::from_nanos(105)
        );
    }

    #[test]
    fn schedules_saturate_instead_of_overflowing() {
        let t0 = Instant::now();
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let next = b.next_tick(t0, t0, Duration::MAX);
            assert!(next > t0, "{b:?}");
        }
    }
}
