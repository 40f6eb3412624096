//! The clock a runtime's timers read: std's, or a paused test clock.
//!
//! The one idea: every timer shard carries a [`Clock`], and a current-thread
//! runtime's is the one `pause`, `resume` and `advance` act on. Until it is
//! first paused a clock *is* std's (one relaxed load says so, and a process
//! that never pauses any clock answers `Instant::now()` with one relaxed
//! load of a global flag). Once paused, time stands still except when
//! `advance` moves it, or when the runtime's park loop, finding nothing to
//! run and no I/O ready, jumps it to the next timer (auto-advance).
//! Resumed, it runs again from where it stood, as tokio's does.
//!
//! Multi-thread runtimes cannot pause (tokio's rule): their workers' shards
//! keep std's clock, and `pause` there panics saying what to do instead.
//!
//! # Auto-advance and blocking work
//!
//! While a `spawn_blocking` closure of the runtime is in flight, its result
//! is work that may come, so the clock does not jump (tokio's rule): the
//! park loop blocks (for the next timer's distance, in real time) instead.
//! The handshake with the blocking thread finishing:
//!
//! - the blocking thread completes the task (waking its `JoinHandle`, which
//!   queues the joining task on the runtime's remote queue), *then*
//!   decrements the inhibit count, *then* writes the driver's eventfd if
//!   the clock is paused;
//! - the park loop reads the inhibit count, *then* looks at its queues, and
//!   only if the count was zero and the queues empty jumps the clock.
//!
//! All four accesses are `SeqCst`: a park loop that sees the count at zero
//! also sees the joining task queued (so it runs it rather than jumping past
//! the joiner's timeout), and one that saw the count non-zero and blocks is
//! woken by the eventfd write that follows the decrement. A loom model of
//! this is in `tests/loom_clock.rs`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant as StdInstant};

use super::shard::Shard;
use crate::executor::context::{self, Current};

/// Set once any clock in the process was paused: until then
/// `Instant::now()` is std's without looking at the context.
static ANY_SHIFTED: AtomicBool = AtomicBool::new(false);

/// One runtime's clock.
pub(crate) struct Clock {
    /// Whether this clock ever left std's (it was paused). Never cleared:
    /// after `resume` it runs from where it stood, which need not be std's.
    shifted: AtomicBool,
    /// Paused now (written under `inner`'s lock; read without it).
    paused: AtomicBool,
    inner: Mutex<Frozen>,
    /// Blocking tasks in flight that keep the clock from jumping (see the
    /// module docs).
    inhibit: AtomicUsize,
}

/// What the clock reads: `base`, plus the std time elapsed since
/// `unfrozen` while running (`None`: paused).
///
/// # Invariant
/// The value read never decreases: `pause` stores the current reading as
/// `base`, `resume` restarts from it, and `advance` only adds.
struct Frozen {
    base: StdInstant,
    unfrozen: Option<StdInstant>,
}

impl Frozen {
    fn now(&self) -> StdInstant {
        match self.unfrozen {
            None => self.base,
            Some(at) => super::saturating_add_std(self.base, at.elapsed()),
        }
    }
}

/// Why a clock operation was refused (the caller panics with its message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    AlreadyPaused,
    NotPaused,
}

fn lock(m: &Mutex<Frozen>) -> MutexGuard<'_, Frozen> {
    // Nothing panics while the lock is held.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Clock {
    /// A clock that is std's until paused.
    pub(crate) fn new() -> Clock {
        let now = StdInstant::now();
        Clock {
            shifted: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            inner: Mutex::new(Frozen {
                base: now,
                unfrozen: Some(now),
            }),
            inhibit: AtomicUsize::new(0),
        }
    }

    /// The time now by this clock. One relaxed load for a clock that was
    /// never paused.
    pub(crate) fn now(&self) -> StdInstant {
        if !self.shifted.load(Ordering::Relaxed) {
            return StdInstant::now();
        }
        lock(&self.inner).now()
    }

    /// Whether the clock is paused now (a cheap, relaxed look: the park
    /// loop's fast path).
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Whether the clock ever left std's.
    pub(crate) fn was_paused(&self) -> bool {
        self.shifted.load(Ordering::Relaxed)
    }

    /// Stops the clock where it reads now.
    pub(crate) fn pause(&self) -> Result<(), Refused> {
        let mut inner = lock(&self.inner);
        if inner.unfrozen.is_none() {
            return Err(Refused::AlreadyPaused);
        }
        let now = if self.shifted.load(Ordering::Relaxed) {
            inner.now()
        } else {
            StdInstant::now()
        };
        inner.base = now;
        inner.unfrozen = None;
        self.shifted.store(true, Ordering::Relaxed);
        self.paused.store(true, Ordering::SeqCst);
        drop(inner);
        ANY_SHIFTED.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Lets the clock run again from where it stands.
    pub(crate) fn resume(&self) -> Result<(), Refused> {
        let mut inner = lock(&self.inner);
        if inner.unfrozen.is_some() {
            return Err(Refused::NotPaused);
        }
        inner.unfrozen = Some(StdInstant::now());
        self.paused.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Moves a paused clock forward by `by` (saturating far in the future).
    pub(crate) fn advance(&self, by: Duration) -> Result<(), Refused> {
        let mut inner = lock(&self.inner);
        if inner.unfrozen.is_some() {
            return Err(Refused::NotPaused);
        }
        inner.base = super::saturating_add_std(inner.base, by);
        Ok(())
    }

    /// Moves a paused clock forward to `to`, if that is later; false (and
    /// nothing moved) if the clock is running.
    pub(crate) fn advance_to(&self, to: StdInstant) -> bool {
        let mut inner = lock(&self.inner);
        if inner.unfrozen.is_some() {
            return false;
        }
        if to > inner.base {
            inner.base = to;
        }
        true
    }

    /// Counts a blocking task in flight (see the module docs).
    pub(crate) fn inhibit_auto_advance(&self) {
        self.inhibit.fetch_add(1, Ordering::SeqCst);
    }

    /// A blocking task in flight finished; true if the clock is paused,
    /// so the caller must wake the park loop to let it jump.
    fn allow_auto_advance(&self) -> bool {
        let prev = self.inhibit.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(prev > 0, "auto-advance allowed more often than inhibited");
        self.paused.load(Ordering::SeqCst)
    }

    /// Whether a blocking task is in flight (read before the park loop
    /// looks at its queues, see the module docs).
    pub(crate) fn auto_advance_inhibited(&self) -> bool {
        self.inhibit.load(Ordering::SeqCst) != 0
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .field("inhibit", &self.inhibit.load(Ordering::Relaxed))
            .finish()
    }
}

/// Keeps a runtime's clock from auto-advancing while one blocking task is
/// in flight; [`release`](AutoAdvanceInhibit::release)d when the task
/// completes (after its `JoinHandle` was woken), or dropped at the latest.
pub(crate) struct AutoAdvanceInhibit {
    shard: Arc<Shard>,
    released: AtomicBool,
}

impl AutoAdvanceInhibit {
    /// Inhibits the clock of `shard` (a current-thread runtime's).
    pub(crate) fn new(shard: Arc<Shard>) -> AutoAdvanceInhibit {
        shard.clock().inhibit_auto_advance();
        AutoAdvanceInhibit {
            shard,
            released: AtomicBool::new(false),
        }
    }

    /// For a blocking task spawned here: inhibits the clock of the
    /// current-thread runtime this thread has entered (`Runtime::enter`)
    /// or runs, if any — the runtime whose blocking pool takes the task
    /// (tokio inhibits only for current-thread runtimes: the others cannot
    /// pause).
    pub(crate) fn for_current() -> Option<AutoAdvanceInhibit> {
        let entered = context::with_entered(|h| match h {
            Some(crate::executor::SchedulerHandle::CurrentThread(shared)) => {
                Some(shared.timers().clone())
            }
            _ => None,
        });
        let shard = entered.or_else(|| {
            with_runtime(|rt| match rt {
                Rt::CurrentThread(shard) => Some(shard.clone()),
                _ => None,
            })
        })?;
        Some(AutoAdvanceInhibit::new(shard))
    }

    /// The task is done: the clock may jump again (once; later calls do
    /// nothing). Wakes the park loop if the clock is paused.
    pub(crate) fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) && self.shard.clock().allow_auto_advance() {
            self.shard.unpark_driver();
        }
    }
}

impl Drop for AutoAdvanceInhibit {
    fn drop(&mut self) {
        self.release();
    }
}

/// The runtime the calling thread is in, as the clock sees it.
pub(crate) enum Rt<'a> {
    /// A current-thread runtime (or the free `block_on`), with its shard.
    CurrentThread(&'a Arc<Shard>),
    /// A multi-thread runtime: its clock cannot pause.
    MultiThread,
    /// No runtime.
    Outside,
}

/// Runs `f` with the runtime the calling thread is in.
pub(crate) fn with_runtime<R>(f: impl FnOnce(Rt<'_>) -> R) -> R {
    match context::current() {
        Current::None => f(Rt::Outside),
        Current::CurrentThread(_) => {
            crate::executor::current_thread::with_current_timers(|shard| match shard {
                Some(shard) => f(Rt::CurrentThread(shard)),
                None => f(Rt::Outside),
            })
        }
        #[allow(unreachable_patterns)]
        _ => f(Rt::MultiThread),
    }
}

/// `Instant::now()`: the paused clock of this thread's current-thread
/// runtime, std's otherwise.
pub(crate) fn now() -> StdInstant {
    if !ANY_SHIFTED.load(Ordering::Relaxed) {
        return StdInstant::now();
    }
    with_runtime(|rt| match rt {
        Rt::CurrentThread(shard) => shard.clock().now(),
        _ => StdInstant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_is_std_until_paused() {
        let clock = Clock::new();
        assert!(!clock.is_paused() && !clock.was_paused());
        let before = StdInstant::now();
        let now = clock.now();
        assert!(now >= before && now <= StdInstant::now());
    }

    #[test]
    fn a_paused_clock_stands_still_and_moves_only_when_advanced() {
        let clock = Clock::new();
        clock.pause().unwrap();
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0, "paused: real time does not move it");
        clock.advance(Duration::from_secs(3600)).unwrap();
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        // Jumps forward only.
        assert!(clock.advance_to(t0));
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        assert!(clock.advance_to(t0 + Duration::from_secs(7200)));
        assert_eq!(clock.now(), t0 + Duration::from_secs(7200));
    }

    #[test]
    fn resumed_it_runs_on_from_where_it_stood() {
        let clock = Clock::new();
        clock.pause().unwrap();
        let t0 = clock.now();
        clock.advance(Duration::from_secs(60)).unwrap();
        clock.resume().unwrap();
        assert!(!clock.is_paused() && clock.was_paused());
        let t1 = clock.now();
        assert!(t1 >= t0 + Duration::from_secs(60), "kept the advance");
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() > t1, "runs again");
        // Paused again, from the running reading.
        clock.pause().unwrap();
        assert!(clock.now() > t1);
    }

    #[test]
    fn misuse_is_refused() {
        let clock = Clock::new();
        assert_eq!(clock.resume(), Err(Refused::NotPaused));
        assert_eq!(
            clock.advance(Duration::from_secs(1)),
            Err(Refused::NotPaused)
        );
        assert!(!clock.advance_to(StdInstant::now() + Duration::from_secs(1)));
        clock.pause().unwrap();
        assert_eq!(clock.pause(), Err(Refused::AlreadyPaused));
        clock.resume().unwrap();
        assert_eq!(clock.resume(), Err(Refused::NotPaused));
    }

    #[test]
    fn saturating_advance_never_panics() {
        let clock = Clock::new();
        clock.pause().unwrap();
        let t0 = clock.now();
        clock.advance(Duration::MAX).unwrap();
        assert!(clock.now() > t0);
    }

    #[test]
    fn a_paused_block_on_jumps_to_its_timers_and_advances() {
        // Through the runtime context (`with_runtime`), as `Instant::now()`
        // and `pause` reach it.
        crate::block_on(async {
            crate::time::pause();
            let t0 = crate::time::Instant::now();
            let task = crate::spawn(crate::time::sleep(Duration::from_secs(60)));
            crate::time::advance(Duration::from_secs(30)).await;
            assert!(!task.is_finished());
            crate::time::sleep(Duration::from_secs(3600)).await;
            assert!(task.is_finished());
            assert_eq!(t0.elapsed(), Duration::from_secs(3630));
        });
    }

    #[test]
    fn the_inhibit_count_reports_a_paused_clock_to_wake() {
        let shard = Arc::new(Shard::new());
        let first = AutoAdvanceInhibit::new(shard.clone());
        assert!(shard.clock().auto_advance_inhibited());
        let second = AutoAdvanceInhibit::new(shard.clone());
        first.release();
        first.release();
        assert!(shard.clock().auto_advance_inhibited(), "released once");
        drop(first);
        assert!(shard.clock().auto_advance_inhibited());
        drop(second);
        assert!(!shard.clock().auto_advance_inhibited());
    }
}
