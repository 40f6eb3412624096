//! Parking a scheduler thread: block in the reactor until I/O, a timer or
//! a wake-up from another thread arrives, then wake what became ready.
//!
//! The timers are those of the thread's timer home (the shard its
//! scheduler installed, see `time/driver.rs`); each park also counts a
//! poll of the thread's own reactor there, which is how an idle sibling
//! tells a worker that still delivers its sockets from a stuck one.
//!
//! Every collected waker is woken under `catch_unwind`: a foreign waker
//! that panics (the panic hook has printed it) costs neither the other
//! wake-ups nor the scheduler thread.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;
use std::time::Duration;

use crate::platform::sys::{events_with_capacity, Events};
use crate::reactor::with_reactor;
use crate::time::driver::{begin_wait, turn_home};

/// Events one reactor poll can return.
pub(crate) const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// The per-thread buffers a scheduler reuses across parks.
pub(crate) struct Parker {
    events: Events,
    wakers: Vec<Waker>,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker::with_capacity(DEFAULT_EVENT_CAPACITY)
    }

    /// Buffers for up to `events` readiness events per poll.
    pub(crate) fn with_capacity(events: usize) -> Parker {
        Parker {
            events: events_with_capacity(events),
            wakers: Vec::new(),
        }
    }

    /// Polls this thread's reactor — blocking until something happens if
    /// `block`, else only collecting what is ready — and returns the wakers
    /// it satisfied. The caller releases any borrow of the parker before
    /// waking them (see [`park`]).
    ///
    /// A blocking poll lasts at most until this thread's earliest timer
    /// (no timers: no timeout), and at most `cap`.
    fn poll(&mut self, block: bool, cap: Option<Duration>) -> Vec<Waker> {
        let timeout = if block {
            match (begin_wait().map(wake_early), cap) {
                (Some(t), Some(cap)) => Some(t.min(cap)),
                (t, cap) => t.or(cap),
            }
        } else {
            Some(Duration::ZERO)
        };
        let res = with_reactor(|r| r.poll_collect(&mut self.events, timeout, &mut self.wakers));
        if let Err(e) = res {
            // epoll_wait only fails on a broken epoll descriptor or buffer:
            // a bug, and looping on it would spin forever.
            panic!("moduvex-runtime: polling the reactor failed: {e}");
        }
        std::mem::take(&mut self.wakers)
    }
}

/// How much earlier than a timer's deadline a long wait ends.
const EARLY_WAKE: Duration = Duration::from_micros(300);
/// Waits up to this long end early; longer ones do not (an idle thread
/// with a timer far away still wakes once).
const EARLY_WAKE_MAX: Duration = Duration::from_millis(20);

/// Shortens a wait for a timer between 0.6 and 20 ms by [`EARLY_WAKE`];
/// the scheduler, finding nothing due, waits the short rest. A virtual
/// CPU halted for a long wait wakes up late (on the 2-vCPU VM measured,
/// 150–250 µs at p99 for a 1 ms wait), while a short wait keeps it
/// responsive (~50 µs): two waits land closer to the deadline than one
/// (`sleep(1ms)` p99 lateness 137–157 µs → 56–62 µs there), at the cost
/// of one extra wake-up and no spinning.
fn wake_early(wait: Duration) -> Duration {
    if wait > 2 * EARLY_WAKE && wait <= EARLY_WAKE_MAX {
        wait - EARLY_WAKE
    } else {
        wait
    }
}

/// Parks the calling scheduler thread on its reactor (see
/// [`Parker::poll`]), runs `awake` (the scheduler clears its `parked` flag
/// there, so the wake-ups below do not write its eventfd for nothing),
/// then — with the parker no longer borrowed — wakes the tasks whose I/O
/// became ready and fires the home timers that are due.
///
/// The parker is created on first use.
pub(crate) fn park(parker: &RefCell<Option<Parker>>, block: bool, awake: impl FnOnce()) {
    park_capped(parker, block, None, awake);
}

/// [`park`], blocking at most `cap` (a napping worker's bound).
pub(crate) fn park_capped(
    parker: &RefCell<Option<Parker>>,
    block: bool,
    cap: Option<Duration>,
    awake: impl FnOnce(),
) {
    park_counting_capped(parker, block, cap, awake);
}

/// [`park`], returning how many wakers it woke (I/O and timers): a paused
/// clock's park loop polls without blocking and jumps only if none.
pub(crate) fn park_counting(
    parker: &RefCell<Option<Parker>>,
    block: bool,
    awake: impl FnOnce(),
) -> usize {
    park_counting_capped(parker, block, None, awake)
}

fn park_counting_capped(
    parker: &RefCell<Option<Parker>>,
    block: bool,
    cap: Option<Duration>,
    awake: impl FnOnce(),
) -> usize {
    let mut ready = parker
        .borrow_mut()
        .get_or_insert_with(Parker::new)
        .poll(block, cap);
    awake();
    let mut woken = ready.len();
    wake_all(&mut ready);
    turn_home(block, &mut ready);
    woken += ready.len();
    // In deadline order, with no shard locked.
    wake_all(&mut ready);
    if let Some(p) = parker.borrow_mut().as_mut() {
        // Keep the vector's allocation for the next poll.
        p.wakers = ready;
    }
    woken
}

/// Wakes (and so consumes) every waker in `wakers`, each under
/// `catch_unwind`: a panicking waker loses no other wake-up. Its payload
/// is dropped under `catch_unwind` too (and so is the payload of a panic
/// in that drop, until one drops quietly, as a `panic!` message does).
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    for waker in wakers.drain(..) {
        let mut res = catch_unwind(AssertUnwindSafe(|| waker.wake()));
        while let Err(payload) = res {
            res = catch_unwind(AssertUnwindSafe(|| drop(payload)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[test]
    fn a_panicking_waker_loses_no_other_wake_up() {
        struct Counting(AtomicUsize);
        impl Wake for Counting {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        struct Panicking;
        impl Wake for Panicking {
            fn wake(self: Arc<Self>) {
                panic!("a foreign waker panics");
            }
        }
        /// A payload whose drop panics too.
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("and so does its payload's drop");
            }
        }
        struct Worse;
        impl Wake for Worse {
            fn wake(self: Arc<Self>) {
                std::panic::panic_any(Bomb);
            }
        }
        let count = Arc::new(Counting(AtomicUsize::new(0)));
        let mut wakers = vec![
            Waker::from(count.clone()),
            Waker::from(Arc::new(Panicking)),
            Waker::from(count.clone()),
            Waker::from(Arc::new(Worse)),
            Waker::from(count.clone()),
        ];
        wake_all(&mut wakers);
        assert!(wakers.is_empty());
        assert_eq!(count.0.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn only_waits_between_the_bounds_end_early() {
        let us = Duration::from_micros;
        // Short waits: one wait, already responsive.
        assert_eq!(wake_early(us(100)), us(100));
        assert_eq!(wake_early(2 * EARLY_WAKE), 2 * EARLY_WAKE);
        // In range: the first wait ends EARLY_WAKE before the deadline.
        assert_eq!(wake_early(us(1000)), us(1000) - EARLY_WAKE);
        assert_eq!(wake_early(EARLY_WAKE_MAX), EARLY_WAKE_MAX - EARLY_WAKE);
        // Long waits: a far-away timer still costs a single wake-up.
        assert_eq!(wake_early(EARLY_WAKE_MAX + us(1)), EARLY_WAKE_MAX + us(1));
        assert_eq!(
            wake_early(Duration::from_secs(3600)),
            Duration::from_secs(3600)
        );
    }
}
