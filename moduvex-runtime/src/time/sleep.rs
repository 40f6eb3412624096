//! [`Sleep`]: a future that completes at a deadline.
//!
//! The one idea: registration is lazy. A `Sleep` is only a deadline until it
//! is polled while not yet due; only then does it file a timer on the
//! polling thread's wheel. A `timeout` whose future finishes on its first
//! poll never touches a wheel at all. If a registered `Sleep` is later
//! polled on another runtime thread, its timer moves to that thread's wheel,
//! so it is always fired by a thread that is running.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::driver::{self, Driver, WakerUpdate};
use super::wheel::TimerKey;

/// Waits until `duration` has passed.
///
/// Equivalent to `sleep_until(Instant::now() + duration)`, except that a
/// duration too large to add (such as [`Duration::MAX`]) saturates to a
/// deadline about 30 years away instead of panicking.
///
/// # Panics
///
/// Outside a moduvex runtime (`block_on` or a spawned task).
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
    Sleep::new(super::saturating_add(Instant::now(), duration))
}

/// Waits until `deadline`; a deadline in the past completes on first poll.
///
/// # Panics
///
/// Outside a moduvex runtime (`block_on` or a spawned task).
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    driver::assert_in_runtime();
    Sleep::new(deadline)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// Dropping a `Sleep` cancels its timer in O(1). A `Sleep` is `Send` and
/// `Unpin`: it may be created, polled and dropped on different threads.
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    /// The timer filed for this sleep, once it was polled while not due.
    registration: Option<Registration>,
}

/// A timer filed on one driver's wheel.
struct Registration {
    driver: Arc<Driver>,
    key: TimerKey,
}

impl Sleep {
    /// A sleep until `deadline`, not yet registered anywhere.
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            registration: None,
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline <= Instant::now()
    }

    /// Moves the deadline, in place: a filed timer is moved on its wheel
    /// without a new allocation, and keeps waking the task that last polled
    /// this sleep. A sleep that had completed can run again.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        let Some(reg) = this.registration.take() else {
            // Not filed: the next poll reads the new deadline.
            return;
        };
        if deadline <= Instant::now() {
            // Already due: fire it now, as its wheel would at its next turn
            // (the waker is woken after the wheel's lock is released).
            if let Some(waker) = reg.driver.cancel(reg.key) {
                waker.wake();
            }
        } else if let Some(key) = reg.driver.reschedule(reg.key, deadline) {
            this.registration = Some(Registration {
                driver: reg.driver,
                key,
            });
        }
        // Else it had fired: the next poll files a new timer.
    }

    /// Cancels the filed timer, if any.
    fn deregister(&mut self) {
        if let Some(reg) = self.registration.take() {
            // The returned waker is dropped here, after the wheel's lock.
            drop(reg.driver.cancel(reg.key));
        }
    }

    /// Files a timer for this sleep on this thread's wheel, waking `waker`,
    /// after cancelling any timer filed on another thread's wheel.
    fn register(&mut self, waker: &Waker) {
        self.deregister();
        driver::with_current(|here| {
            let key = here.register(self.deadline, waker.clone());
            self.registration = Some(Registration {
                driver: Arc::clone(here),
                key,
            });
        });
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Some(reg) = &this.registration {
            if driver::is_current(&reg.driver) {
                // Filed here: this thread's park loop fires it on time, so
                // the wheel, not the clock, says whether it is due.
                return match reg.driver.update_waker(reg.key, cx.waker()) {
                    // Any replaced waker is dropped here, unlocked.
                    WakerUpdate::Pending(_old) => Poll::Pending,
                    WakerUpdate::Fired => {
                        this.registration = None;
                        Poll::Ready(())
                    }
                };
            }
        }
        if this.deadline <= Instant::now() {
            this.deregister();
            return Poll::Ready(());
        }
        // Not filed yet, or filed on another thread's wheel: file it here,
        // where the task runs now and a live park loop fires it.
        this.register(cx.waker());
        Poll::Pending
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
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
