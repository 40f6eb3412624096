//! The task's state word: flag bits low, reference count high.
//!
//! Every transition is a pure function of the current snapshot, applied
//! with a compare-and-swap loop, and returns a `#[must_use]` verdict that
//! the harness acts on. No transition ever blocks.
//!
//! | bit | set while | who sets / clears |
//! |---|---|---|
//! | `RUNNING` | the future is being polled or dropped | the runner |
//! | `COMPLETE` | the output (or error) is stored; the future is gone | the runner, once, forever |
//! | `NOTIFIED` | a `Notified` reference sits in a run queue, or the runner must repoll | wakers set, the runner clears |
//! | `CANCELLED` | abort or shutdown was requested | `abort`, shutdown |
//! | `JOIN_INTEREST` | a `JoinHandle` exists and wants the output | cleared by the handle's drop |
//! | `JOIN_WAKER` | the join waker slot is written and readable by the runner | the `JoinHandle` |
//!
//! References: each `Notified` in a queue, each `Waker`, the `JoinHandle`
//! and the owned-tasks list hold one. The task is freed when the count
//! reaches zero.

use std::fmt;

use crate::executor::loom_facade::{AtomicUsize, Ordering};

const RUNNING: usize = 1 << 0;
const COMPLETE: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const JOIN_WAKER: usize = 1 << 5;
const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;
const FLAGS: usize = REF_ONE - 1;

/// A decoded copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What the runner does after trying to start a poll.
#[must_use]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// The task was aborted: drop the future and complete as cancelled.
    Cancel,
    /// Someone else runs it or it is done; the caller's reference was
    /// released.
    Skip,
    /// As `Skip`, and that was the last reference: free the task.
    Dealloc,
}

/// What the runner does after a poll returned `Pending`.
#[must_use]
pub(crate) enum ToIdle {
    /// Idle; the runner's reference was released.
    Idle,
    /// Idle, and that was the last reference: free the task.
    Dealloc,
    /// Woken during the poll: reschedule, reusing the runner's reference.
    Notified,
    /// Aborted during the poll: cancel now (still `RUNNING`).
    Cancel,
}

/// What a waker (or `abort`) does.
#[must_use]
pub(crate) enum ToNotified {
    /// Nothing: it is queued, running, or done.
    Nothing,
    /// Submit a new `Notified` to the scheduler (a reference is taken for it).
    Submit,
    /// Nothing, and the caller's reference was the last: free the task.
    Dealloc,
}

/// The atomic state word of a task.
pub(crate) struct State(AtomicUsize);

impl State {
    /// A fresh task: scheduled once, with a `JoinHandle`, referenced by the
    /// handle, its first `Notified` and the owned-tasks list.
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(NOTIFIED | JOIN_INTEREST | (3 * REF_ONE)))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `f` until the CAS succeeds; `f` returns the new word and a verdict.
    fn update<T>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, T)) -> T {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let (next, verdict) = f(Snapshot(cur));
            let Some(next) = next else { return verdict };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return verdict,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The runner takes a `Notified` out of a queue and wants to poll.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(
                s.is_notified(),
                "running a task that is not notified: {s:?}"
            );
            if !s.is_idle() {
                // Release the Notified's reference.
                debug_assert!(s.ref_count() > 0);
                let next = s.0 - REF_ONE;
                let verdict = if Snapshot(next).ref_count() == 0 {
                    ToRunning::Dealloc
                } else {
                    ToRunning::Skip
                };
                return (Some(next), verdict);
            }
            let next = (s.0 & !NOTIFIED) | RUNNING;
            let verdict = if s.is_cancelled() {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), verdict)
        })
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            let mut next = s.0 & !RUNNING;
            if s.is_notified() {
                return (Some(next), ToIdle::Notified);
            }
            debug_assert!(s.ref_count() > 0);
            next -= REF_ONE;
            let verdict = if Snapshot(next).ref_count() == 0 {
                ToIdle::Dealloc
            } else {
                ToIdle::Idle
            };
            (Some(next), verdict)
        })
    }

    /// The output is stored: `RUNNING` → `COMPLETE`. Returns the snapshot
    /// after the change.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete(), "{prev:?}");
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Drops `count` references after completion; true if none remain.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(count * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= count, "{prev:?} minus {count}");
        prev.ref_count() == count
    }

    /// A waker consumes its reference to notify the task.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            debug_assert!(s.ref_count() > 0);
            if s.is_running() {
                // The runner repolls; this waker's reference goes away.
                return (Some((s.0 | NOTIFIED) - REF_ONE), ToNotified::Nothing);
            }
            if s.is_complete() || s.is_notified() {
                let next = s.0 - REF_ONE;
                let verdict = if Snapshot(next).ref_count() == 0 {
                    ToNotified::Dealloc
                } else {
                    ToNotified::Nothing
                };
                return (Some(next), verdict);
            }
            // The waker's reference becomes the Notified's.
            (Some(s.0 | NOTIFIED), ToNotified::Submit)
        })
    }

    /// A waker notifies the task, keeping its own reference.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() {
                (None, ToNotified::Nothing)
            } else if s.is_notified() {
                // Already due for a poll. Still write the word (unchanged):
                // the release makes what this waker published before waking
                // visible to that poll, whose transition reads this write.
                (Some(s.0), ToNotified::Nothing)
            } else if s.is_running() {
                (Some(s.0 | NOTIFIED), ToNotified::Nothing)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), ToNotified::Submit)
            }
        })
    }

    /// `abort`: mark cancelled and make sure a runner will see it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, ToNotified::Nothing)
            } else if s.is_running() || s.is_notified() {
                // The runner sees CANCELLED after its poll / when it pops it.
                (Some(s.0 | CANCELLED | NOTIFIED), ToNotified::Nothing)
            } else {
                (
                    Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE),
                    ToNotified::Submit,
                )
            }
        })
    }

    /// Shutdown: mark cancelled and, if idle, take the `RUNNING` bit so the
    /// caller may drop the future. True if the caller must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_idle() {
                (Some(s.0 | CANCELLED | RUNNING), true)
            } else {
                (Some(s.0 | CANCELLED), false)
            }
        })
    }

    /// The `JoinHandle` is dropped before completion: clear its interest
    /// (and waker bit, reclaiming the slot). `Err` if already complete: the
    /// handle must then drop the output itself.
    pub(crate) fn unset_join_interest(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() {
                (None, Err(s))
            } else {
                let next = s.0 & !(JOIN_INTEREST | JOIN_WAKER);
                (Some(next), Ok(Snapshot(next)))
            }
        })
    }

    /// Publishes the join waker written by the handle. `Err` if the task
    /// completed first (the handle keeps ownership of the slot).
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(Snapshot(s.0 | JOIN_WAKER)))
            }
        })
    }

    /// Takes the join waker slot back to replace the waker. `Err` if the
    /// task completed (the output can be read instead).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(Snapshot(s.0 & !JOIN_WAKER)))
            }
        })
    }

    /// Takes one more reference.
    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // A count this large means references are leaking in a loop.
        assert!(prev < usize::MAX / 2, "task reference count overflow");
    }

    /// Drops one reference; true if it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1, "{prev:?}");
        prev.ref_count() == 1
    }

    /// Debug view of the flags only.
    #[allow(dead_code)]
    pub(crate) fn flags(&self) -> usize {
        self.0.load(Ordering::Relaxed) & FLAGS
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_task_runs_then_idles() {
        let s = State::new();
        assert!(matches!(s.transition_to_running(), ToRunning::Poll));
        assert!(s.load().is_running() && !s.load().is_notified());
        assert!(matches!(s.transition_to_idle(), ToIdle::Idle));
        assert_eq!(s.load().ref_count(), 2);
    }

    #[test]
    fn wake_while_running_repolls() {
        let s = State::new();
        let _ = s.transition_to_running();
        assert!(matches!(
            s.transition_to_notified_by_ref(),
            ToNotified::Nothing
        ));
        assert!(matches!(s.transition_to_idle(), ToIdle::Notified));
        assert!(matches!(s.transition_to_running(), ToRunning::Poll));
    }

    #[test]
    fn wake_while_queued_is_coalesced() {
        let s = State::new();
        assert!(matches!(
            s.transition_to_notified_by_ref(),
            ToNotified::Nothing
        ));
        assert_eq!(s.load().ref_count(), 3);
    }

    #[test]
    fn abort_idle_task_submits_once() {
        let s = State::new();
        let _ = s.transition_to_running();
        let _ = s.transition_to_idle();
        assert!(matches!(
            s.transition_to_notified_and_cancel(),
            ToNotified::Submit
        ));
        assert!(matches!(
            s.transition_to_notified_and_cancel(),
            ToNotified::Nothing
        ));
        assert!(matches!(s.transition_to_running(), ToRunning::Cancel));
    }

    #[test]
    fn join_waker_cannot_be_set_after_completion() {
        let s = State::new();
        let _ = s.transition_to_running();
        let snap = s.transition_to_complete();
        assert!(snap.is_complete() && !snap.is_running());
        assert!(s.set_join_waker().is_err());
        assert!(s.unset_join_interest().is_err());
    }
}
