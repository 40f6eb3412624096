//! A timer shard: one timer wheel behind a lock, shared by every thread that
//! files, cancels or turns its timers.
//!
//! The one idea: a wheel belongs to a scheduler, not to a thread, and any
//! thread may lock it. Its owner (the scheduler thread whose timer home it
//! is) files and cancels without contention and turns it in its park loop;
//! another thread locks it to cancel or move a timer it no longer wants
//! here, or — an idle worker standing in for a busy sibling — to turn it
//! (with `try_lock`, never waiting on the owner).
//!
//! Three values are readable without the lock, each written only under it:
//! - `last_turn`, the wheel time the last turn fired up to. A timer is only
//!   filed if its deadline is later, so a filed timer whose deadline is at
//!   or before `last_turn` has fired: a `Sleep` learns that from one load.
//! - `next`, the earliest pending deadline as far as the shard knows
//!   (never later than the real one; a cancel may leave it early), for a
//!   sibling deciding how long it may nap.
//! - `drives`, bumped each time the owner polls its own reactor, for a
//!   sibling deciding whether the owner still delivers its sockets.
//!
//! And one value that only the lock guards, `wait`: the wheel time until
//! which the turning thread is blocked. Filing (or moving) a timer earlier
//! than that writes the turning thread's eventfd, so a thread blocked on a
//! shard always wakes for its earliest timer, whoever filed it.
//!
//! Wakers are cloned under the lock, but woken and dropped after it is
//! released: a waker may run any code, including code that locks this
//! shard.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::task::Waker;
use std::time::{Duration, Instant};

use super::clock::Clock;
use super::wheel::{TimerKey, Wheel};
use crate::reactor::Unparker;

/// `next` and `wait` when nothing is pending: no deadline.
const NONE: u64 = u64::MAX;

/// One timer wheel and what other threads need to share it.
pub(crate) struct Shard {
    /// Time zero of the wheel: wheel deadlines are nanoseconds since it.
    origin: Instant,
    inner: Mutex<Inner>,
    /// The wheel time the last turn fired up to (see the module docs).
    ///
    /// # Invariant
    /// Written only under `inner`'s lock, after the wheel has fired every
    /// timer due at that time, and never decreases: a deadline at or before
    /// it is not in the wheel.
    last_turn: AtomicU64,
    /// The earliest pending deadline (`NONE`: none), never later than the
    /// wheel's real one. Written under the lock.
    next: AtomicU64,
    /// Reactor polls of the owning thread (written only by it).
    drives: AtomicU64,
    /// The clock its timers are due by: std's unless a current-thread
    /// runtime's clock was paused (see `clock.rs`).
    clock: Clock,
}

struct Inner {
    wheel: Wheel<Waker>,
    /// Until when (wheel time) the turning thread is blocked; 0 while it
    /// is awake (it turns the shard before it blocks again), `NONE` if it
    /// is blocked without a timeout.
    wait: u64,
    /// Interrupts the turning thread's blocking poll (`None`: nobody turns
    /// this shard now).
    unparker: Option<Unparker>,
}

/// Locks `m`, ignoring poison: nothing here panics half-way through an
/// update, so a poisoned lock still guards sound data.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shard {
    /// An empty shard that nobody turns yet.
    pub(crate) fn new() -> Shard {
        Shard {
            origin: Instant::now(),
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                wait: 0,
                unparker: None,
            }),
            last_turn: AtomicU64::new(0),
            next: AtomicU64::new(NONE),
            drives: AtomicU64::new(0),
            clock: Clock::new(),
        }
    }

    /// The clock this shard's timers are due by.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The time now by this shard's clock.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The exact earliest pending deadline (under the lock), for a paused
    /// clock to jump to.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        let next = lock(&self.inner).wheel.next_deadline()?;
        Some(self.instant_at(next))
    }

    /// Interrupts the turning thread's blocking poll, if a thread turns
    /// this shard now (the unparker is woken after the lock is released).
    pub(crate) fn unpark_driver(&self) {
        let unparker = lock(&self.inner).unparker.clone();
        if let Some(u) = unparker {
            u.unpark();
        }
    }

    /// Makes the thread behind `unparker` the one that turns this shard
    /// (`None`: nobody turns it until the next call). Returns the unparker
    /// it replaces, to be dropped by the caller.
    pub(crate) fn set_driver(&self, unparker: Option<Unparker>) -> Option<Unparker> {
        let mut inner = lock(&self.inner);
        inner.wait = 0;
        std::mem::replace(&mut inner.unparker, unparker)
    }

    /// `t` as wheel time: nanoseconds since the origin, clamped to
    /// `0..=u64::MAX - 1` (an instant before the origin is due at once;
    /// `NONE` is never a deadline).
    pub(crate) fn nanos_at(&self, t: Instant) -> u64 {
        t.checked_duration_since(self.origin)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(NONE))
            .min(NONE - 1)
    }

    /// Wheel time `nanos` as an instant (saturating far in the future).
    fn instant_at(&self, nanos: u64) -> Instant {
        super::saturating_add_std(self.origin, Duration::from_nanos(nanos))
    }

    /// Whether `deadline` is at or before the last turn: a timer filed for
    /// it has fired. One atomic load, no lock.
    pub(crate) fn has_passed(&self, deadline: Instant) -> bool {
        // Acquire: pairs with the turn's release store, so a caller that
        // sees the timer fired also sees the wheel without it.
        self.nanos_at(deadline) <= self.last_turn.load(Ordering::Acquire)
    }

    /// The earliest pending deadline, as published (may be early).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match self.next.load(Ordering::Acquire) {
            NONE => None,
            next => Some(self.instant_at(next)),
        }
    }

    /// Counts one poll of the owning thread's own reactor (owner only).
    pub(crate) fn note_drive(&self) {
        let n = self.drives.load(Ordering::Relaxed);
        self.drives.store(n.wrapping_add(1), Ordering::Release);
    }

    /// How many times the owning thread has polled its own reactor.
    pub(crate) fn drives(&self) -> u64 {
        self.drives.load(Ordering::Acquire)
    }

    /// Lowers the published earliest deadline to `nanos` if it is earlier,
    /// and returns the unparker to wake if the turning thread is blocked
    /// past it (under the lock).
    fn note_added(&self, inner: &Inner, nanos: u64) -> Option<Unparker> {
        if nanos < self.next.load(Ordering::Relaxed) {
            self.next.store(nanos, Ordering::Release);
        }
        if nanos < inner.wait {
            inner.unparker.clone()
        } else {
            None
        }
    }

    /// Files a timer for `deadline` that wakes (a clone of) `waker`; `None`,
    /// filing nothing, if the deadline is at or before the last turn (it is
    /// due).
    pub(crate) fn file(&self, deadline: Instant, waker: &Waker) -> Option<TimerKey> {
        let nanos = self.nanos_at(deadline);
        let waker = waker.clone();
        let mut inner = lock(&self.inner);
        if nanos <= self.last_turn.load(Ordering::Relaxed) {
            drop(inner);
            drop(waker);
            return None;
        }
        let key = inner.wheel.insert(nanos, waker);
        let unpark = self.note_added(&inner, nanos);
        drop(inner);
        if let Some(u) = unpark {
            u.unpark();
        }
        Some(key)
    }

    /// Moves the timer `key`, filed for `old`, to `deadline`, keeping its
    /// waker, and returns its new key. `None` if it is not pending any more:
    /// it fired at `old`, or `deadline` is at or before the last turn, in
    /// which case it is fired now (woken after the lock is released).
    pub(crate) fn reschedule(
        &self,
        key: TimerKey,
        old: Instant,
        deadline: Instant,
    ) -> Option<TimerKey> {
        let (old, nanos) = (self.nanos_at(old), self.nanos_at(deadline));
        let mut inner = lock(&self.inner);
        let last = self.last_turn.load(Ordering::Relaxed);
        if old <= last {
            // Fired (its waker was woken): nothing is filed.
            return None;
        }
        if nanos <= last {
            let waker = inner.wheel.cancel(key);
            drop(inner);
            if let Some(w) = waker {
                w.wake();
            }
            return None;
        }
        let key = inner.wheel.reschedule(key, nanos);
        let unpark = key.and_then(|_| self.note_added(&inner, nanos));
        drop(inner);
        if let Some(u) = unpark {
            u.unpark();
        }
        key
    }

    /// Makes the timer `key`, filed for `deadline`, wake (a clone of)
    /// `waker`; false if it is not pending (it has fired).
    pub(crate) fn update_waker(&self, key: TimerKey, deadline: Instant, waker: &Waker) -> bool {
        let new = waker.clone();
        let nanos = self.nanos_at(deadline);
        let mut inner = lock(&self.inner);
        // The replaced waker (or the unused clone) is dropped unlocked.
        let (found, unused) = match inner.wheel.get_mut(key) {
            Some(slot) if nanos > self.last_turn.load(Ordering::Relaxed) => {
                (true, std::mem::replace(slot, new))
            }
            _ => (false, new),
        };
        drop(inner);
        drop(unused);
        found
    }

    /// Cancels the timer `key`, filed for `deadline`, unless it has fired;
    /// returns its waker, to be dropped (or woken) by the caller.
    pub(crate) fn cancel(&self, key: TimerKey, deadline: Instant) -> Option<Waker> {
        if self.has_passed(deadline) {
            // Fired: its entry is gone (the key may name another timer now).
            return None;
        }
        let nanos = self.nanos_at(deadline);
        let mut inner = lock(&self.inner);
        if nanos <= self.last_turn.load(Ordering::Relaxed) {
            return None;
        }
        inner.wheel.cancel(key)
    }

    /// Called by the turning thread before it blocks: returns how long it
    /// may block (until the earliest timer; `None`: no timer) and records
    /// that wait, so a timer filed earlier meanwhile unparks it. The clock
    /// (`now`) is read only if a timer is pending.
    pub(crate) fn begin_wait(&self, now: impl FnOnce() -> Instant) -> Option<Duration> {
        let mut inner = lock(&self.inner);
        let next = inner.wheel.next_deadline();
        inner.wait = next.unwrap_or(NONE);
        drop(inner);
        Some(self.instant_at(next?).saturating_duration_since(now()))
    }

    /// One turn at `now()` by the turning thread: it is awake again (after
    /// a [`begin_wait`](Shard::begin_wait) if `waited`), and every timer due
    /// is fired into `fired` (in deadline order) for the caller to wake.
    /// The clock is read only if a timer is pending, and the lock taken
    /// only if one is or a wait was recorded: a busy thread's periodic
    /// non-blocking poll costs one atomic load here.
    pub(crate) fn turn(&self, waited: bool, now: impl FnOnce() -> Instant, fired: &mut Vec<Waker>) {
        if !waited && self.next.load(Ordering::Acquire) == NONE {
            // No timer pending (`next` is never later than the earliest),
            // or one being filed right now, which the next turn sees.
            return;
        }
        let mut inner = lock(&self.inner);
        inner.wait = 0;
        self.advance(&mut inner, now, fired);
    }

    /// A turn by a thread standing in for the owner: skipped (false) if
    /// the lock is held, since whoever holds it is not stuck.
    pub(crate) fn try_turn(&self, now: impl FnOnce() -> Instant, fired: &mut Vec<Waker>) -> bool {
        let mut inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return false,
        };
        self.advance(&mut inner, now, fired);
        true
    }

    fn advance(&self, inner: &mut Inner, now: impl FnOnce() -> Instant, fired: &mut Vec<Waker>) {
        if inner.wheel.is_empty() {
            // Cancels may have left `next` early: a napping sibling must
            // not keep waking for it.
            if self.next.load(Ordering::Relaxed) != NONE {
                self.next.store(NONE, Ordering::Release);
            }
            return;
        }
        let last = self.last_turn.load(Ordering::Relaxed);
        let now = self.nanos_at(now()).max(last);
        inner.wheel.advance(now, fired);
        // See the invariant on `last_turn`: the wheel has fired up to `now`.
        self.last_turn.store(now, Ordering::Release);
        let next = inner.wheel.next_deadline().unwrap_or(NONE);
        self.next.store(next, Ordering::Release);
    }

    /// Removes every pending timer into `out`, for a shard that nobody
    /// will turn again: the caller wakes them (a spurious wake-up, after
    /// which each `Sleep` files itself wherever it is polled next).
    pub(crate) fn drain(&self, out: &mut Vec<Waker>) {
        let mut inner = lock(&self.inner);
        inner.wait = 0;
        if inner.wheel.is_empty() {
            return;
        }
        // `last_turn` stays: these timers did not fire, and their `Sleep`s
        // must not take the wake-up for their deadline.
        inner.wheel.advance(NONE - 1, out);
        self.next.store(NONE, Ordering::Release);
    }

    /// Number of pending timers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).wheel.len()
    }

    /// The turning thread's recorded wait, in wheel time.
    #[cfg(test)]
    pub(crate) fn wait(&self) -> u64 {
        lock(&self.inner).wait
    }
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("next", &self.next_deadline())
            .field("last_turn", &self.last_turn.load(Ordering::Relaxed))
            .field("timers", &self.inner.try_lock().map(|i| i.wheel.len()).ok())
            .finish()
    }
}
