//! The timer driver: one timer wheel per runtime thread, turned by that
//! thread's park loop.
//!
//! The one idea: the executor asks [`next_timeout`] how long it may block in
//! the reactor, and calls [`process_timers`] when the reactor returns. A
//! thread with no timers blocks without a timeout; a thread whose earliest
//! timer is an hour away wakes once, at that timer (the wheel reports exact
//! deadlines, not slot boundaries).
//!
//! A driver is shared (`Arc`, wheel behind a `Mutex`) so a timer registered
//! here can be reset or cancelled from any thread. When another thread files
//! a timer earlier than everything this driver holds, it unparks this
//! driver's reactor, which then blocks again with the shorter timeout.
//! Wakers are always woken, and replaced wakers dropped, after the lock is
//! released: a waker may run arbitrary code, including code that touches
//! this same driver.

use std::cell::OnceCell;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::{TimerKey, Wheel};
use crate::reactor::{with_reactor, Unparker};

/// The timers of one runtime thread.
pub(crate) struct Driver {
    /// Time zero of the wheel: wheel deadlines are nanoseconds since it.
    origin: Instant,
    wheel: Mutex<Wheel<Waker>>,
    /// Interrupts the owning thread's blocking reactor poll.
    unparker: Unparker,
}

thread_local! {
    /// This thread's driver, created on the first timer registered here.
    static DRIVER: OnceCell<Arc<Driver>> = const { OnceCell::new() };
}

/// Runs `f` with this thread's driver, creating it if needed.
///
/// # Panics
///
/// Outside a moduvex runtime: a timer registered there would never fire.
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Driver>) -> R) -> R {
    assert_in_runtime();
    let f = |cell: &OnceCell<Arc<Driver>>| {
        f(cell.get_or_init(|| {
            let unparker = with_reactor(|r| r.unparker());
            // This thread's reactor waits now end at timer deadlines: do not
            // let the kernel stretch them by its default 50 µs slack.
            let _ = crate::platform::sys::set_timer_slack(1);
            Arc::new(Driver::new(unparker))
        }))
    };
    DRIVER
        .try_with(f)
        .expect("moduvex-runtime: a timer was used while its thread was shutting down")
}

/// Panics with a message naming the problem unless the caller runs inside
/// a moduvex runtime.
#[track_caller]
pub(crate) fn assert_in_runtime() {
    assert!(
        crate::executor::in_runtime(),
        "moduvex-runtime: timers must be used inside a moduvex runtime; \
         call this from `moduvex_runtime::block_on` or a spawned task"
    );
}

/// Whether `driver` is this thread's driver.
pub(crate) fn is_current(driver: &Driver) -> bool {
    DRIVER
        .try_with(|cell| cell.get().is_some_and(|d| std::ptr::eq(&**d, driver)))
        .unwrap_or(false)
}

/// Runs `f` with this thread's driver, if it has one (never creates it).
fn with_existing<R>(f: impl FnOnce(&Driver) -> R) -> Option<R> {
    DRIVER
        .try_with(|cell| cell.get().map(|d| f(d)))
        .ok()
        .flatten()
}

/// Time from `now` until this thread's earliest timer, or None if it has none.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn next_timeout(now: Instant) -> Option<Duration> {
    with_existing(|driver| {
        let next = driver.lock().next_deadline()?;
        Some(driver.instant_at(next).saturating_duration_since(now))
    })
    .flatten()
}

/// Fire every timer of this thread whose deadline <= now (wake outside locks).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn process_timers(now: Instant) {
    process_timers_with(|| now)
}

/// [`next_timeout`] from the current time, reading the clock only if this
/// thread has a timer (the park path of a timer-less thread stays clock-free).
pub(crate) fn next_timeout_from_now() -> Option<Duration> {
    with_existing(|driver| {
        let next = driver.lock().next_deadline()?;
        Some(
            driver
                .instant_at(next)
                .saturating_duration_since(Instant::now()),
        )
    })
    .flatten()
}

/// [`process_timers`] at the current time, reading the clock only if this
/// thread has a timer.
pub(crate) fn process_due_timers() {
    process_timers_with(Instant::now)
}

fn process_timers_with(now: impl FnOnce() -> Instant) {
    let fired = with_existing(|driver| {
        let mut fired = Vec::new();
        let mut wheel = driver.lock();
        if !wheel.is_empty() {
            wheel.advance(driver.nanos_at(now()), &mut fired);
        }
        fired
    });
    // In deadline order, with the lock released.
    fired.into_iter().flatten().for_each(Waker::wake);
}

impl Driver {
    fn new(unparker: Unparker) -> Driver {
        Driver {
            origin: Instant::now(),
            wheel: Mutex::new(Wheel::new()),
            unparker,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Wheel<Waker>> {
        // The wheel never panics half-way through an update, so a poisoned
        // lock (a panic elsewhere while it was held) still guards a sound wheel.
        self.wheel.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `t` as wheel time: nanoseconds since the origin, clamped to
    /// `0..=u64::MAX` (an instant before the origin is due at once).
    fn nanos_at(&self, t: Instant) -> u64 {
        t.checked_duration_since(self.origin)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Wheel time `nanos` as an instant (saturating far in the future).
    fn instant_at(&self, nanos: u64) -> Instant {
        super::saturating_add(self.origin, Duration::from_nanos(nanos))
    }

    /// Files a timer for `deadline` that wakes `waker`.
    pub(crate) fn register(&self, deadline: Instant, waker: Waker) -> TimerKey {
        let nanos = self.nanos_at(deadline);
        let foreign = !is_current(self);
        let (key, earliest) = {
            let mut wheel = self.lock();
            let earlier = foreign && becomes_earliest(&mut wheel, nanos);
            (wheel.insert(nanos, waker), earlier)
        };
        if earliest {
            self.unparker.unpark();
        }
        key
    }

    /// Moves a pending timer to `deadline`, keeping its waker; `None` if it
    /// already fired or was cancelled.
    pub(crate) fn reschedule(&self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let nanos = self.nanos_at(deadline);
        let foreign = !is_current(self);
        let (key, earliest) = {
            let mut wheel = self.lock();
            let earlier = foreign && becomes_earliest(&mut wheel, nanos);
            (wheel.reschedule(key, nanos)?, earlier)
        };
        if earliest {
            self.unparker.unpark();
        }
        Some(key)
    }

    /// Makes a pending timer wake `waker`.
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> WakerUpdate {
        let mut wheel = self.lock();
        match wheel.get_mut(key) {
            None => WakerUpdate::Fired,
            Some(slot) if slot.will_wake(waker) => WakerUpdate::Pending(None),
            Some(slot) => WakerUpdate::Pending(Some(std::mem::replace(slot, waker.clone()))),
        }
    }

    /// Removes a pending timer and returns its waker (to be dropped by the
    /// caller, outside the lock); `None` if it already fired.
    pub(crate) fn cancel(&self, key: TimerKey) -> Option<Waker> {
        self.lock().cancel(key)
    }
}

/// Whether a timer at `nanos` would be earlier than every timer in `wheel`.
fn becomes_earliest(wheel: &mut Wheel<Waker>, nanos: u64) -> bool {
    match wheel.next_deadline() {
        Some(earliest) => nanos < earliest,
        None => true,
    }
}

/// The outcome of [`Driver::update_waker`].
#[must_use]
pub(crate) enum WakerUpdate {
    /// The timer already fired (its waker was woken).
    Fired,
    /// The timer is pending; holds the replaced waker, if any, for the
    /// caller to drop outside the lock.
    Pending(Option<Waker>),
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("timers", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::sys::events_with_capacity;
    use crate::reactor::Reactor;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    /// Installs a driver on this (test) thread, polled through `reactor`.
    fn install(reactor: &Reactor) -> Arc<Driver> {
        let driver = Arc::new(Driver::new(reactor.unparker()));
        let fresh = DRIVER.with(|cell| cell.set(driver.clone()).is_ok());
        assert!(fresh, "each test runs on a fresh thread");
        driver
    }

    #[test]
    fn a_thread_without_timers_has_no_timeout() {
        assert_eq!(next_timeout(Instant::now()), None);
        process_timers(Instant::now());
        let reactor = Reactor::new().unwrap();
        install(&reactor);
        assert_eq!(next_timeout(Instant::now()), None);
    }

    #[test]
    fn timeout_is_the_exact_earliest_deadline_and_fires_once() {
        let reactor = Reactor::new().unwrap();
        let driver = install(&reactor);
        let now = Instant::now();
        let hour = now + Duration::from_secs(3600);
        let (count, waker) = counting_waker();
        driver.register(hour, waker.clone());
        // Exact: the thread sleeps until the timer itself, not to a slot
        // boundary or a cascade point first.
        assert_eq!(next_timeout(now), Some(hour - now));
        driver.register(now + Duration::from_micros(100), waker);
        assert_eq!(next_timeout(now), Some(Duration::from_micros(100)));
        process_timers(now + Duration::from_micros(99));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        process_timers(now + Duration::from_micros(100));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(next_timeout(now), Some(hour - now));
        process_timers(hour);
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(next_timeout(hour), None);
    }

    #[test]
    fn past_deadline_gives_a_zero_timeout() {
        let reactor = Reactor::new().unwrap();
        let driver = install(&reactor);
        let (count, waker) = counting_waker();
        let now = Instant::now();
        driver.register(now - Duration::from_secs(5), waker);
        assert_eq!(next_timeout(now), Some(Duration::ZERO));
        process_timers(now);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_earlier_timer_from_another_thread_unparks_the_owner() {
        let reactor = Reactor::new().unwrap();
        let driver = install(&reactor);
        let (_count, waker) = counting_waker();
        let now = Instant::now();
        // Filed by the owner: no unpark (a zero-timeout poll sees nothing).
        driver.register(now + Duration::from_secs(3600), waker.clone());
        let mut events = events_with_capacity(4);
        assert_eq!(reactor.poll(&mut events, Some(0)).unwrap(), 0);
        // A later timer from elsewhere does not unpark either.
        let d = driver.clone();
        let w = waker.clone();
        std::thread::spawn(move || d.register(now + Duration::from_secs(7200), w))
            .join()
            .unwrap();
        assert_eq!(reactor.poll(&mut events, Some(0)).unwrap(), 0);
        // An earlier one does: this blocking poll would otherwise not return.
        let d = driver.clone();
        let foreign = std::thread::spawn(move || d.register(now + Duration::from_secs(60), waker));
        assert_eq!(reactor.poll(&mut events, None).unwrap(), 1);
        foreign.join().unwrap();
        assert_eq!(
            next_timeout(now),
            Some(Duration::from_secs(60)),
            "the owner re-parks with the shorter timeout"
        );
    }

    #[test]
    fn cancel_and_update_waker_report_fired_timers() {
        let reactor = Reactor::new().unwrap();
        let driver = install(&reactor);
        let (count, waker) = counting_waker();
        let (count2, waker2) = counting_waker();
        let now = Instant::now();
        let key = driver.register(now + Duration::from_millis(1), waker);
        assert!(matches!(
            driver.update_waker(key, &waker2),
            WakerUpdate::Pending(Some(_))
        ));
        process_timers(now + Duration::from_millis(1));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "replaced waker");
        assert_eq!(count2.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            driver.update_waker(key, &waker2),
            WakerUpdate::Fired
        ));
        assert!(driver.cancel(key).is_none());
        assert!(driver.reschedule(key, now).is_none());
    }
}
