//! [`Sleep`]: a future that completes at a deadline.
//!
//! The one idea: registration is lazy. A `Sleep` is only a deadline until it
//! is polled while not yet due; only then does it file a timer on the
//! polling thread's timer home (the shard of the scheduler running there,
//! or the fallback shard the foster thread turns). A `timeout` whose future
//! finishes on its first poll never touches a wheel at all. If a filed
//! `Sleep` is later polled where another shard is home, its timer moves
//! there (cancelled on the old shard, under its lock, and filed on the new
//! one), so it is always filed where a running scheduler turns it.
//!
//! A [`sleep`] reads the clock once, to compute its deadline, and not again
//! on its first poll; a [`sleep_until`] reads it on its first poll (a
//! deadline in the past completes there). A filed `Sleep` learns that its
//! timer fired by comparing its deadline with its shard's last turn (one
//! atomic load), and a re-poll with the same waker leaves the wheel alone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use std::sync::Arc;

use super::driver;
use super::shard::Shard;
use super::wheel::TimerKey;
use super::Instant;

/// Waits until `duration` has passed.
///
/// Equivalent to `sleep_until(Instant::now() + duration)`, except that a
/// duration too large to add (such as [`Duration::MAX`]) saturates to a
/// deadline about 30 years away instead of panicking.
///
/// Time is the runtime's clock: with it paused ([`pause`](super::pause)),
/// the sleep completes once the clock reaches the deadline, by
/// [`advance`](super::advance) or as soon as the runtime has nothing else
/// to do (auto-advance), as tokio's.
///
/// # Panics
///
/// When called outside a moduvex runtime (`block_on` or a spawned task), as
/// tokio's does. The returned `Sleep` may then be polled anywhere, by any
/// executor.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{sleep, Instant};
///
/// moduvex_runtime::block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    driver::assert_in_runtime();
    let now = Instant::now();
    Sleep::known_at(super::saturating_add(now, duration), now)
}

/// Waits until `deadline`; a deadline in the past completes on first poll.
///
/// # Panics
///
/// When called outside a moduvex runtime (`block_on` or a spawned task).
/// The returned `Sleep` may then be polled anywhere.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, sleep_until, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let deadline = Instant::now() + Duration::from_secs(60);
///     sleep_until(deadline).await;
///     assert_eq!(Instant::now(), deadline);
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    driver::assert_in_runtime();
    Sleep {
        deadline,
        filed: None,
        known: Known::Nothing,
    }
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// Dropping a `Sleep` cancels its timer in O(1). A `Sleep` is `Send` and
/// `Unpin`: it may be created, polled and dropped on different threads, and
/// polled by any executor (outside a moduvex runtime, the foster thread
/// fires it).
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, sleep, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     let a = sleep(Duration::from_secs(1));
///     let b = sleep(Duration::from_secs(2));
///     moduvex_runtime::join!(a, b);
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    /// The timer filed for this sleep, if any.
    filed: Option<Registration>,
    /// While not filed: what is known of the deadline.
    known: Known,
}

/// What a [`Sleep`] that has no timer filed knows of its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// Nothing: the next poll compares the deadline with the clock.
    Nothing,
    /// The deadline was later than the clock when it was set: the next poll
    /// files it without reading the clock again. Time may have passed
    /// since, so it may be due by then; the wheel then fires it at its next
    /// turn, never early.
    NotDueWhenSet,
    /// Completed; it stays completed until reset.
    Elapsed,
}

/// A timer filed on a shard (32 bytes, so a `Sleep` is 56).
struct Registration {
    /// The shard it is filed on; kept alive while the timer may be there.
    shard: Arc<Shard>,
    key: TimerKey,
    /// `(data, vtable)` addresses of the waker the wheel holds: a re-poll
    /// with the same waker ([`Waker::will_wake`]) leaves the wheel alone.
    /// The wheel's clone keeps that waker alive, so the addresses cannot be
    /// reused by another waker meanwhile.
    waker: (usize, usize),
}

/// The identity [`Waker::will_wake`] compares.
fn waker_id(waker: &Waker) -> (usize, usize) {
    (
        waker.data() as usize,
        waker.vtable() as *const std::task::RawWakerVTable as usize,
    )
}

/// What a poll found for a filed timer.
enum Filed {
    Fired,
    Pending,
    Missing,
}

impl Sleep {
    /// A sleep until `deadline`, given that the clock read `now` (no later
    /// than the current time).
    fn known_at(deadline: Instant, now: Instant) -> Sleep {
        Sleep {
            deadline,
            filed: None,
            known: Known::at(deadline, now),
        }
    }

    /// The instant at which this sleep completes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, sleep, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let s = sleep(Duration::from_secs(5));
    ///     assert_eq!(s.deadline(), Instant::now() + Duration::from_secs(5));
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, sleep};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let s = sleep(Duration::from_secs(5));
    ///     assert!(!s.is_elapsed());
    ///     time::advance(Duration::from_secs(5)).await;
    ///     assert!(s.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.deadline <= Instant::now()
    }

    /// Moves the deadline, in place: a filed timer is moved on its wheel
    /// without a new allocation, and keeps waking the task that last polled
    /// this sleep. A sleep that had completed can run again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, sleep, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let mut s = std::pin::pin!(sleep(Duration::from_secs(3600)));
    ///     let sooner = Instant::now() + Duration::from_secs(1);
    ///     s.as_mut().reset(sooner);
    ///     s.await;
    ///     assert_eq!(Instant::now(), sooner);
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().reset_with(deadline, None);
    }

    /// [`reset`](Sleep::reset), with the clock already read at `now`.
    pub(crate) fn reset_at_now(&mut self, deadline: Instant, now: Instant) {
        self.reset_with(deadline, Some(now));
    }

    fn reset_with(&mut self, deadline: Instant, now: Option<Instant>) {
        let old = std::mem::replace(&mut self.deadline, deadline);
        let Some(reg) = self.filed.take() else {
            // Not filed: the next poll looks at the new deadline.
            self.known = now.map_or(Known::Nothing, |now| Known::at(deadline, now));
            return;
        };
        let now = now.unwrap_or_else(Instant::now);
        if deadline <= now {
            // Already due: fire it now, as its wheel would at its next turn
            // (unless it has fired already).
            if let Some(waker) = reg.shard.cancel(reg.key, old.into_std()) {
                waker.wake();
            }
        } else if let Some(key) = reg
            .shard
            .reschedule(reg.key, old.into_std(), deadline.into_std())
        {
            // Moved in place, wherever it is filed (a shard whose driver
            // waits past the new deadline is unparked).
            self.filed = Some(Registration { key, ..reg });
            return;
        }
        self.known = Known::at(deadline, now);
    }

    /// Cancels the filed timer, if any (its waker is dropped unlocked).
    fn deregister(&mut self) {
        if let Some(reg) = self.filed.take() {
            drop(reg.shard.cancel(reg.key, self.deadline.into_std()));
        }
    }

    /// Files a timer for this sleep on this thread's timer home, waking
    /// `waker`, after cancelling any timer filed elsewhere.
    fn file(&mut self, waker: &Waker) -> Poll<()> {
        self.deregister();
        let deadline = self.deadline.into_std();
        let filed = driver::with_home(|home| {
            let key = home.file(deadline, waker)?;
            Some(Registration {
                shard: home.clone(),
                key,
                waker: waker_id(waker),
            })
        });
        match filed {
            Some(reg) => {
                self.filed = Some(reg);
                Poll::Pending
            }
            None => {
                // Due by the wheel's last turn.
                self.known = Known::Elapsed;
                Poll::Ready(())
            }
        }
    }

    /// Polls a filed timer; `None` if it is filed on a shard that is not
    /// this thread's timer home (it must move here).
    fn poll_filed(&mut self, waker: &Waker) -> Option<Filed> {
        let reg = self.filed.as_mut()?;
        let deadline = self.deadline.into_std();
        // Whoever turns its shard fires it on time, so the shard's last
        // turn, not the clock, says whether it is due.
        if reg.shard.has_passed(deadline) {
            return Some(Filed::Fired);
        }
        if !driver::with_home(|home| Arc::ptr_eq(home, &reg.shard)) {
            return None;
        }
        let id = waker_id(waker);
        if id != reg.waker {
            if !reg.shard.update_waker(reg.key, deadline, waker) {
                // Fired meanwhile by a thread standing in for the owner,
                // or woken by a shard nobody turns any more.
                return Some(if reg.shard.has_passed(deadline) {
                    Filed::Fired
                } else {
                    Filed::Missing
                });
            }
            reg.waker = id;
        }
        Some(Filed::Pending)
    }
}

impl Known {
    fn at(deadline: Instant, now: Instant) -> Known {
        if deadline <= now {
            Known::Elapsed
        } else {
            Known::NotDueWhenSet
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // An elapsed timer spends one unit of the task's budget.
        let this = self.get_mut();
        crate::coop::budgeted(cx, |cx| this.poll_elapsed(cx))
    }
}

impl Sleep {
    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        let check_clock = if this.filed.is_some() {
            match this.poll_filed(cx.waker()) {
                Some(Filed::Fired) => {
                    this.filed = None;
                    this.known = Known::Elapsed;
                    return Poll::Ready(());
                }
                Some(Filed::Pending) => return Poll::Pending,
                // Gone from a drained shard, or filed on a shard that is
                // not home here: file it again here, where a running
                // scheduler (or the foster thread) turns it.
                Some(Filed::Missing) | None => true,
            }
        } else {
            match this.known {
                Known::Elapsed => return Poll::Ready(()),
                Known::NotDueWhenSet => false,
                Known::Nothing => true,
            }
        };
        if check_clock && this.deadline <= Instant::now() {
            this.deregister();
            this.known = Known::Elapsed;
            return Poll::Ready(());
        }
        this.file(cx.waker())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.filed.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sleep_fits_in_a_cache_line() {
        assert!(std::mem::size_of::<super::Sleep>() <= 64);
    }
}
