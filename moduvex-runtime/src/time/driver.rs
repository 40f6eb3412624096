//! The timer driver: one timer wheel per runtime thread, turned by that
//! thread's park loop.
//!
//! The one idea: a wheel belongs to its thread. It lives in a thread-local
//! and only its own thread touches it, with no lock and no reference count,
//! so filing, firing and cancelling a timer on the thread that polls it (the
//! common case) costs no atomic operation besides the waker's clone. Another
//! thread that must cancel a timer filed here (a `Sleep` dropped, reset or
//! polled elsewhere) queues the request on this driver's [`Remote`]; this
//! thread applies queued requests before it blocks and before it fires
//! timers. A `Remote` is never freed: when its thread exits it goes back to
//! a pool for the next thread's driver, under a new owner id, so a request
//! that arrives late for the old owner is recognized and dropped.
//!
//! The executor asks [`next_timeout_from_now`] how long it may block in the
//! reactor, and calls [`process_due_timers`] when the reactor returns. A
//! thread with no timers blocks without a timeout; a thread whose earliest
//! timer is an hour away wakes once, at that timer (the wheel reports exact
//! deadlines, not slot boundaries).
//!
//! Each turn records the time it fired up to ([`Driver::last_turn`]), and a
//! timer is only filed if its deadline is later than that. So a filed timer
//! whose deadline is at or before the last turn has fired: a `Sleep` learns
//! that from one comparison, without looking up its (freed) wheel entry.
//!
//! Wakers are always cloned, woken and dropped outside the wheel's borrow: a
//! waker may run arbitrary code, including code that touches this driver.

use std::cell::{Cell, OnceCell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::{TimerKey, Wheel};
use crate::reactor::{with_reactor, Unparker};

/// Identifies one thread's driver; never reused within a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DriverId(u64);

/// The timers of one runtime thread: only ever used on that thread.
pub(crate) struct Driver {
    id: DriverId,
    /// Time zero of the wheel: wheel deadlines are nanoseconds since it.
    origin: Instant,
    wheel: RefCell<Wheel<Waker>>,
    /// The time the last turn fired up to (see the module docs): the
    /// wheel's `now`, as an instant.
    last_turn: Cell<Instant>,
    /// Reused buffer of the wakers one turn fires.
    fired: Cell<Vec<Waker>>,
    /// Requests from other threads, and what they need to wake this thread.
    remote: &'static Remote,
}

/// The part of a driver other threads reach.
pub(crate) struct Remote {
    inner: Mutex<RemoteInner>,
    /// Set (under the lock) while `inner.ops` is non-empty.
    pending: AtomicBool,
}

struct RemoteInner {
    /// The id of the driver this belongs to now (0 between owners).
    owner: u64,
    ops: Vec<RemoteOp>,
    /// Interrupts the owning thread's blocking reactor poll.
    unparker: Option<Unparker>,
}

/// A request from another thread about a timer filed on this driver.
enum RemoteOp {
    /// Remove the timer; its waker is dropped.
    Cancel(TimerKey),
    /// Remove the timer and wake its waker (its `Sleep` was reset elsewhere:
    /// the task must poll it again to see the new deadline).
    CancelAndWake(TimerKey),
}

/// The [`Remote`]s of exited threads, for the next new drivers: at most as
/// many exist as threads ever had timers at the same time.
static POOL: Mutex<Vec<&'static Remote>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's driver, created on the first timer filed here.
    static DRIVER: OnceCell<Driver> = const { OnceCell::new() };
}

/// Locks `m`, ignoring poison: nothing here panics half-way through an
/// update, so a poisoned lock still guards sound data.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` with this thread's driver, creating it if needed.
///
/// # Panics
///
/// Outside a moduvex runtime: a timer filed there would never fire.
pub(crate) fn with_current<R>(f: impl FnOnce(&Driver) -> R) -> R {
    assert_in_runtime();
    DRIVER
        .try_with(|cell| f(cell.get_or_init(Driver::new_for_this_thread)))
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

/// Runs `f` with this thread's driver if it has one (never creates it; not
/// while the thread-local is being destroyed).
fn with_existing<R>(f: impl FnOnce(&Driver) -> R) -> Option<R> {
    DRIVER.try_with(|cell| cell.get().map(f)).ok().flatten()
}

/// Runs `f` with the driver `id` if it is this thread's driver.
pub(crate) fn with_owner<R>(id: DriverId, f: impl FnOnce(&Driver) -> R) -> Option<R> {
    with_existing(|d| (d.id == id).then(|| f(d))).flatten()
}

impl Remote {
    /// Queues `op` for driver `id` (on another thread), waking that thread
    /// if `unpark`. If `id` no longer owns this remote, its thread has exited
    /// and its timers are gone with it: nothing to do.
    fn send(&self, id: DriverId, op: RemoteOp, unpark: bool) {
        let unparker = {
            let mut inner = lock(&self.inner);
            if inner.owner != id.0 {
                return;
            }
            inner.ops.push(op);
            self.pending.store(true, Ordering::Release);
            if unpark {
                inner.unparker.clone()
            } else {
                None
            }
        };
        if let Some(u) = unparker {
            u.unpark();
        }
    }

    /// Cancels, from a thread other than its owner's, a timer of driver `id`.
    pub(crate) fn cancel(&self, id: DriverId, key: TimerKey) {
        self.send(id, RemoteOp::Cancel(key), false);
    }

    /// Cancels, from a thread other than its owner's, a timer of driver
    /// `id` and wakes its waker promptly.
    pub(crate) fn cancel_and_wake(&self, id: DriverId, key: TimerKey) {
        self.send(id, RemoteOp::CancelAndWake(key), true);
    }
}

/// Time from `now` until this thread's earliest timer, or None if it has none.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn next_timeout(now: Instant) -> Option<Duration> {
    with_existing(|d| d.next_timeout(|| now)).flatten()
}

/// Fire every timer of this thread whose deadline <= now (wake outside borrows).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn process_timers(now: Instant) {
    process_timers_with(|| now)
}

/// [`next_timeout`] from the current time, reading the clock only if this
/// thread has a timer (the park path of a timer-less thread stays clock-free).
pub(crate) fn next_timeout_from_now() -> Option<Duration> {
    with_existing(|d| d.next_timeout(Instant::now)).flatten()
}

/// [`process_timers`] at the current time, reading the clock only if this
/// thread has a timer.
pub(crate) fn process_due_timers() {
    process_timers_with(Instant::now)
}

fn process_timers_with(now: impl FnOnce() -> Instant) {
    let Some((mut fired, dropped)) = with_existing(|d| d.turn(now)) else {
        return;
    };
    drop(dropped);
    // In deadline order, with the wheel no longer borrowed.
    fired.drain(..).for_each(Waker::wake);
    // Keep the buffer's allocation for the next turn.
    with_existing(|d| d.fired.set(fired));
}

impl Driver {
    /// This thread's new driver.
    fn new_for_this_thread() -> Driver {
        let unparker = with_reactor(|r| r.unparker());
        // This thread's reactor waits now end at timer deadlines: do not
        // let the kernel stretch them by its default 50 µs slack.
        let _ = crate::platform::sys::set_timer_slack(1);
        Driver::new(unparker)
    }

    fn new(unparker: Unparker) -> Driver {
        let id = DriverId(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let pooled = lock(&POOL).pop();
        let remote = pooled.unwrap_or_else(|| {
            Box::leak(Box::new(Remote {
                inner: Mutex::new(RemoteInner {
                    owner: 0,
                    ops: Vec::new(),
                    unparker: None,
                }),
                pending: AtomicBool::new(false),
            }))
        });
        {
            let mut inner = lock(&remote.inner);
            inner.owner = id.0;
            inner.unparker = Some(unparker);
        }
        let origin = Instant::now();
        Driver {
            id,
            origin,
            wheel: RefCell::new(Wheel::new()),
            last_turn: Cell::new(origin),
            fired: Cell::new(Vec::new()),
            remote,
        }
    }

    pub(crate) fn id(&self) -> DriverId {
        self.id
    }

    pub(crate) fn remote(&self) -> &'static Remote {
        self.remote
    }

    /// `t` as wheel time: nanoseconds since the origin, clamped to
    /// `0..=u64::MAX` (an instant before the origin is due at once).
    pub(crate) fn nanos_at(&self, t: Instant) -> u64 {
        t.checked_duration_since(self.origin)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Wheel time `nanos` as an instant (saturating far in the future).
    fn instant_at(&self, nanos: u64) -> Instant {
        super::saturating_add(self.origin, Duration::from_nanos(nanos))
    }

    /// Whether `deadline` is at or before the last turn: a timer filed for
    /// it has fired, and it is due. (The same as comparing in wheel time:
    /// [`nanos_at`](Driver::nanos_at) is exact and monotonic.)
    pub(crate) fn has_passed(&self, deadline: Instant) -> bool {
        deadline <= self.last_turn.get()
    }

    /// Files a timer for `deadline` that wakes (a clone of) `waker`; `None`,
    /// filing nothing, if the deadline is at or before the last turn (it is
    /// due).
    pub(crate) fn file(&self, deadline: Instant, waker: &Waker) -> Option<TimerKey> {
        if self.has_passed(deadline) {
            return None;
        }
        let nanos = self.nanos_at(deadline);
        let waker = waker.clone();
        Some(self.wheel.borrow_mut().insert(nanos, waker))
    }

    /// Moves a pending timer to `deadline`, keeping its waker, and returns
    /// its new key. A deadline at or before the last turn fires the timer
    /// instead (`None`).
    pub(crate) fn reschedule(&self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        if self.has_passed(deadline) {
            if let Some(waker) = self.cancel(key) {
                waker.wake();
            }
            return None;
        }
        let nanos = self.nanos_at(deadline);
        self.wheel.borrow_mut().reschedule(key, nanos)
    }

    /// Makes a pending timer wake (a clone of) `waker`; false if there is
    /// no such timer.
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let new = waker.clone();
        let mut wheel = self.wheel.borrow_mut();
        // The replaced waker (or the unused clone) is dropped unborrowed.
        let (found, unused) = match wheel.get_mut(key) {
            Some(slot) => (true, std::mem::replace(slot, new)),
            None => (false, new),
        };
        drop(wheel);
        drop(unused);
        found
    }

    /// Removes a pending timer and returns its waker (to be dropped or woken
    /// by the caller, unborrowed); `None` if there is no such timer.
    pub(crate) fn cancel(&self, key: TimerKey) -> Option<Waker> {
        self.wheel.borrow_mut().cancel(key)
    }

    /// Applies the queued requests of other threads: cancelled timers'
    /// wakers go to `dropped`, those to wake to `wake`.
    fn apply_remote(&self, wake: &mut Vec<Waker>, dropped: &mut Vec<Waker>) {
        if !self.remote.pending.load(Ordering::Acquire) {
            return;
        }
        let ops = {
            let mut inner = lock(&self.remote.inner);
            self.remote.pending.store(false, Ordering::Relaxed);
            std::mem::take(&mut inner.ops)
        };
        let mut wheel = self.wheel.borrow_mut();
        for op in ops {
            match op {
                RemoteOp::Cancel(key) => dropped.extend(wheel.cancel(key)),
                RemoteOp::CancelAndWake(key) => wake.extend(wheel.cancel(key)),
            }
        }
    }

    /// Time from `now()` until the earliest timer; zero if other threads
    /// have queued requests (the next turn applies them).
    fn next_timeout(&self, now: impl FnOnce() -> Instant) -> Option<Duration> {
        if self.remote.pending.load(Ordering::Acquire) {
            return Some(Duration::ZERO);
        }
        let next = self.wheel.borrow_mut().next_deadline()?;
        Some(self.instant_at(next).saturating_duration_since(now()))
    }

    /// One turn: applies queued remote requests, then fires every timer due
    /// at `now()` (the clock is read only if a timer is pending). Returns the
    /// wakers to wake, in order, and those to drop.
    fn turn(&self, now: impl FnOnce() -> Instant) -> (Vec<Waker>, Vec<Waker>) {
        let mut fired = self.fired.take();
        let mut dropped = Vec::new();
        self.apply_remote(&mut fired, &mut dropped);
        let mut wheel = self.wheel.borrow_mut();
        if !wheel.is_empty() {
            let now = now().max(self.last_turn.get());
            wheel.advance(self.nanos_at(now), &mut fired);
            self.last_turn.set(now);
        }
        (fired, dropped)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Other threads can no longer queue requests for this driver; the
        // wheel (and the wakers it holds) is dropped after this.
        let (ops, unparker) = {
            let mut inner = lock(&self.remote.inner);
            inner.owner = 0;
            self.remote.pending.store(false, Ordering::Relaxed);
            (std::mem::take(&mut inner.ops), inner.unparker.take())
        };
        drop((ops, unparker));
        lock(&POOL).push(self.remote);
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("id", &self.id)
            .field("timers", &self.wheel.try_borrow().map(|w| w.len()).ok())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::sys::events_with_capacity;
    use crate::reactor::Reactor;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
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
    fn install(reactor: &Reactor) {
        DRIVER.with(|cell| {
            let driver = Driver::new(reactor.unparker());
            assert!(cell.set(driver).is_ok(), "each test runs on a fresh thread");
        });
    }

    /// Runs `f` with this thread's installed driver.
    fn with<R>(f: impl FnOnce(&Driver) -> R) -> R {
        with_existing(f).expect("installed")
    }

    fn count(c: &CountingWaker) -> usize {
        c.0.load(Ordering::SeqCst)
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
        install(&reactor);
        let now = Instant::now();
        let hour = now + Duration::from_secs(3600);
        let (count_1, waker) = counting_waker();
        with(|d| d.file(hour, &waker)).unwrap();
        // Exact: the thread sleeps until the timer itself, not to a slot
        // boundary or a cascade point first.
        assert_eq!(next_timeout(now), Some(hour - now));
        let soon = now + Duration::from_micros(100);
        let key = with(|d| d.file(soon, &waker)).unwrap();
        assert_eq!(next_timeout(now), Some(Duration::from_micros(100)));
        process_timers(now + Duration::from_micros(99));
        assert_eq!(count(&count_1), 0);
        assert!(!with(|d| d.has_passed(soon)));
        process_timers(now + Duration::from_micros(100));
        assert_eq!(count(&count_1), 1);
        // Fired: the last turn says so, and the entry is gone.
        assert!(with(|d| d.has_passed(soon)));
        assert!(with(|d| d.cancel(key)).is_none());
        assert_eq!(next_timeout(now), Some(hour - now));
        process_timers(hour);
        assert_eq!(count(&count_1), 2);
        assert_eq!(next_timeout(hour), None);
    }

    #[test]
    fn a_deadline_at_or_before_the_last_turn_is_not_filed() {
        let reactor = Reactor::new().unwrap();
        install(&reactor);
        let now = Instant::now();
        let (count_1, waker) = counting_waker();
        with(|d| d.file(now + Duration::from_millis(1), &waker)).unwrap();
        process_timers(now + Duration::from_millis(2));
        assert_eq!(count(&count_1), 1);
        with(|d| {
            assert!(d.file(now + Duration::from_millis(2), &waker).is_none());
            assert!(d.file(now - Duration::from_secs(5), &waker).is_none());
            assert!(d.file(now + Duration::from_millis(3), &waker).is_some());
        });
    }

    #[test]
    fn a_past_deadline_before_any_turn_gives_a_zero_timeout() {
        let reactor = Reactor::new().unwrap();
        install(&reactor);
        let (count_1, waker) = counting_waker();
        let now = Instant::now();
        with(|d| {
            // Before the driver's origin: due, not filed.
            assert!(d.file(d.origin - Duration::from_secs(5), &waker).is_none());
            // No turn yet: filed, and the first turn fires it.
            assert!(d.file(now, &waker).is_some());
        });
        assert_eq!(
            next_timeout(now + Duration::from_millis(1)),
            Some(Duration::ZERO)
        );
        process_timers(now);
        assert_eq!(count(&count_1), 1);
    }

    #[test]
    fn reschedule_and_update_waker() {
        let reactor = Reactor::new().unwrap();
        install(&reactor);
        let now = Instant::now();
        let (count_1, waker) = counting_waker();
        let (count_2, waker_2) = counting_waker();
        let key = with(|d| d.file(now + Duration::from_secs(60), &waker)).unwrap();
        assert!(with(|d| d.update_waker(key, &waker_2)));
        let key = with(|d| d.reschedule(key, now + Duration::from_millis(1))).unwrap();
        assert_eq!(next_timeout(now), Some(Duration::from_millis(1)));
        process_timers(now + Duration::from_millis(1));
        assert!(!with(|d| d.update_waker(key, &waker)));
        assert!(with(|d| d.cancel(key)).is_none());
        assert_eq!(count(&count_1), 0, "replaced waker");
        assert_eq!(count(&count_2), 1);
        // Rescheduled to at or before the last turn: fired at once.
        let key = with(|d| d.file(now + Duration::from_secs(60), &waker)).unwrap();
        assert!(with(|d| d.reschedule(key, now)).is_none());
        assert_eq!(count(&count_1), 1);
        assert_eq!(next_timeout(now), None);
    }

    #[test]
    fn requests_from_other_threads_are_applied_at_the_next_turn() {
        let reactor = Reactor::new().unwrap();
        install(&reactor);
        let now = Instant::now();
        let (count_1, waker) = counting_waker();
        let hour = now + Duration::from_secs(3600);
        let a = with(|d| d.file(hour, &waker)).unwrap();
        let b = with(|d| d.file(hour, &waker)).unwrap();
        let (id, remote) = with(|d| (d.id(), d.remote()));
        let mut events = events_with_capacity(4);
        // A cancel does not unpark: a zero-timeout poll sees nothing.
        std::thread::spawn(move || remote.cancel(id, a))
            .join()
            .unwrap();
        assert_eq!(reactor.poll(&mut events, Some(0)).unwrap(), 0);
        // Pending requests: the thread must not block before applying them.
        assert_eq!(next_timeout(now), Some(Duration::ZERO));
        process_timers(now);
        assert_eq!(count(&count_1), 0, "cancelled, not woken");
        assert_eq!(next_timeout(now), Some(hour - now));
        // A cancel-and-wake interrupts a blocking poll.
        let foreign = std::thread::spawn(move || remote.cancel_and_wake(id, b));
        assert_eq!(reactor.poll(&mut events, None).unwrap(), 1);
        foreign.join().unwrap();
        process_timers(now);
        assert_eq!(count(&count_1), 1);
        assert_eq!(next_timeout(now), None);
        // Requests for another owner (an exited one) are dropped.
        std::thread::spawn(move || remote.cancel(DriverId(u64::MAX), b))
            .join()
            .unwrap();
        assert!(!remote.pending.load(Ordering::SeqCst));
    }

    #[test]
    fn an_exited_threads_remote_is_released_to_a_new_owner() {
        let (id, remote) = std::thread::spawn(|| {
            let reactor = Reactor::new().unwrap();
            install(&reactor);
            with(|d| (d.id(), d.remote()))
        })
        .join()
        .unwrap();
        // Unowned, or already owned by a newer driver (tests run in
        // parallel): never by the exited one again.
        assert_ne!(lock(&remote.inner).owner, id.0);
        for _ in 0..8 {
            std::thread::spawn(|| {
                let reactor = Reactor::new().unwrap();
                install(&reactor);
                let new_id = with(|d| d.id());
                assert_eq!(lock(&with(|d| d.remote()).inner).owner, new_id.0);
            })
            .join()
            .unwrap();
        }
    }

    #[test]
    fn requests_for_a_former_owner_are_dropped() {
        let remote = Remote {
            inner: Mutex::new(RemoteInner {
                owner: 7,
                ops: Vec::new(),
                unparker: None,
            }),
            pending: AtomicBool::new(false),
        };
        remote.cancel_and_wake(DriverId(6), TimerKey::for_tests(0, 0));
        assert!(lock(&remote.inner).ops.is_empty());
        assert!(!remote.pending.load(Ordering::SeqCst));
        remote.cancel(DriverId(7), TimerKey::for_tests(0, 0));
        assert_eq!(lock(&remote.inner).ops.len(), 1);
        assert!(remote.pending.load(Ordering::SeqCst));
    }
}
