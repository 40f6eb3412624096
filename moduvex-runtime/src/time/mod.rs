//! Timers: [`sleep()`], [`timeout()`] and [`interval()`], driven by
//! hierarchical timer wheels that belong to schedulers, not to threads.
//!
//! The one idea: a timer is filed on a *shard* (a wheel behind a lock), and
//! every shard has one thread that turns it while that thread can, and a
//! stand-in when it cannot. No park loop wakes periodically: a thread with
//! no timers and no busy sibling blocks without a timeout, and one whose
//! earliest timer is an hour away wakes once (the wheel reports exact
//! deadlines). Timers are filed lazily, on the first poll that finds them
//! not yet due, on the polling thread's *timer home*.
//!
//! # Which thread drives this timer, and who drives it when that thread cannot
//!
//! | shard | home of | turned by | when that thread cannot |
//! |---|---|---|---|
//! | one per worker of a multi-thread runtime | that worker's thread | the worker, in its park loop and every `Builder::event_interval` tasks | a parked sibling naps (blocks at most 1 ms, or to the shard's published earliest deadline) and turns it with `try_lock` while the owner is busy; its sockets likewise (see `executor/multi_thread/watch.rs`) |
//! | one per current-thread runtime (`current_thread::Shared`) | whichever thread runs that runtime's `block_on` | that thread's park loop | nobody drives the runtime between two `block_on` calls: its timers wait for the next one, on any thread (as tokio's) |
//! | one per multi-thread `Runtime::block_on` call | the calling thread | that call's park loop | the call has returned: what is left is woken then, and each `Sleep` refiles where it is polled next |
//! | the fallback shard, process-wide | every thread running no scheduler (a foreign executor, the blocking pool) | the foster thread (`reactor/foster.rs`) | — |
//!
//! Sockets follow the same answer: a socket is delivered by the reactor of
//! the worker running its task, by a napping sibling while that worker is
//! busy, and by the foster thread once no scheduler drives its reactor.
//!
//! The rule that keeps a timer from waiting on a busy thread: filing (or
//! moving) a timer earlier than the turning thread's current wait writes
//! that thread's eventfd, and while any worker of a runtime is busy, one
//! parked worker of it naps (at most one: when every worker is parked,
//! nobody naps). A `Sleep` polled where another shard is home moves its
//! timer there, so a timer waits only on a shard someone turns.
//!
//! # The clock, and the test clock
//!
//! Every shard reads time from its clock (`clock.rs`), which is std's until
//! a current-thread runtime's clock is paused ([`pause`], or
//! `Builder::start_paused`). [`Instant::now()`](Instant::now) reads the
//! clock of the current-thread runtime whose context the caller is in
//! (its `block_on`, on whichever thread runs it), std's clock elsewhere.
//! A paused clock stands still; [`advance`] moves it and fires what is due;
//! and when the runtime's park loop finds nothing to run and no I/O ready,
//! it jumps the clock to the shard's next timer instead of blocking
//! (auto-advance), unless blocking work of the runtime is in flight. With
//! no timer at all it blocks as a running one does. Multi-thread runtimes
//! cannot pause (as tokio's), so the fast path stays one relaxed load: a
//! shard checks whether its clock was ever paused, and `Instant::now()`
//! whether any clock in the process was.
//!
//! - the clock (private): std's or paused, and the blocking-work count.
//! - the wheel (private): the data structure, O(1) insert and cancel.
//! - the shard (private): a wheel behind a lock, with its lock-free last
//!   turn and earliest deadline.
//! - the driver (private): a thread's timer home and the park loop's two
//!   hooks, `begin_wait` and `turn_home`.
//! - [`Sleep`], [`Timeout`], [`Interval`]: the futures.
//!
//! Precision: the reactor waits with a nanosecond timeout (`epoll_pwait2`,
//! or `epoll_wait` rounded up to the next millisecond on kernels before
//! 5.11), and every thread that turns a shard sets its timer slack to 1 ns, so a
//! wake-up is not deferred by the kernel's default 50 µs slack. A wait of
//! 0.6–20 ms ends 300 µs early and finishes with a short second wait,
//! because a long-idle (virtual) CPU wakes up late; longer waits, such as
//! a timer an hour away, still wake once.
//!
//! Deadlines are [`Instant`]s: std's in a newtype, converted freely with
//! `From`. Durations too large to add, such as
//! [`Duration::MAX`](std::time::Duration::MAX), saturate to about 30 years
//! from now: they never panic and never wrap into the past.
//!
//! ```
//! use std::time::Duration;
//! use moduvex_runtime::time;
//!
//! moduvex_runtime::block_on(async {
//!     let fast = time::timeout(Duration::from_secs(1), async { 1 }).await;
//!     assert_eq!(fast, Ok(1));
//!     let slow = time::timeout(Duration::from_millis(1), time::sleep(Duration::from_secs(60))).await;
//!     assert!(slow.is_err());
//! });
//! ```

use std::time::{Duration, Instant as StdInstant};

pub(crate) mod clock;
pub(crate) mod driver;
mod instant;
mod interval;
mod pause;
pub(crate) mod shard;
mod sleep;
mod timeout;
mod wheel;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use pause::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// About 30 years: later than any real deadline, small enough to add to any
/// `Instant` the OS hands out.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `base + d`, saturating far in the future instead of overflowing.
pub(crate) fn saturating_add(base: Instant, d: Duration) -> Instant {
    Instant::from_std(saturating_add_std(base.into_std(), d))
}

/// [`saturating_add`] on std's instants.
pub(crate) fn saturating_add_std(base: StdInstant, d: Duration) -> StdInstant {
    base.checked_add(d)
        .or_else(|| base.checked_add(FAR_FUTURE))
        .or_else(|| base.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(base)
}
