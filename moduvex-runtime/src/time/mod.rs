//! Timers: [`sleep()`], [`timeout()`] and [`interval()`], driven by a hierarchical
//! timer wheel per runtime thread.
//!
//! The one idea: each runtime thread owns a timer wheel, and its park loop
//! blocks in the reactor exactly until the wheel's earliest deadline (no
//! periodic wake-ups: an idle thread with no timers sleeps without a
//! timeout). Timers are filed lazily, on the first poll that finds them not
//! yet due, on the wheel of the thread that polls them.
//!
//! - the wheel (private): the data structure, O(1) insert and cancel.
//! - the driver (private): the per-thread wheel and the executor's two
//!   hooks, `next_timeout` and `process_timers`.
//! - [`Sleep`], [`Timeout`], [`Interval`]: the futures.
//!
//! Precision: the reactor waits with a nanosecond timeout (`epoll_pwait2`,
//! or `epoll_wait` rounded up to the next millisecond on kernels before
//! 5.11), and a thread's first timer sets its timer slack to 1 ns, so a
//! wake-up is not deferred by the kernel's default 50 µs slack. A wait of
//! 0.6–20 ms ends 300 µs early and finishes with a short second wait,
//! because a long-idle (virtual) CPU wakes up late; longer waits, such as
//! a timer an hour away, still wake once.
//!
//! Deadlines are [`Instant`]s (std's). Durations too large to add, such as
//! [`Duration::MAX`](std::time::Duration::MAX), saturate to about 30 years
//! from now: they never panic and never wrap into the past.

use std::time::{Duration, Instant as StdInstant};

pub(crate) mod driver;
mod interval;
mod sleep;
mod timeout;
mod wheel;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// About 30 years: later than any real deadline, small enough to add to any
/// `Instant` the OS hands out.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `base + d`, saturating far in the future instead of overflowing.
pub(crate) fn saturating_add(base: StdInstant, d: Duration) -> StdInstant {
    base.checked_add(d)
        .or_else(|| base.checked_add(FAR_FUTURE))
        .or_else(|| base.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(base)
}
