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
    /// One more reference.
    fn ref_inc(self) -> Snapshot {
        assert!(self.0 < usize::MAX / 2, "task reference count overflow");
        Snapshot(self.0 + REF_ONE)
    }
    /// One reference fewer; a count already at zero is a bug that would
    /// free the task twice, so it panics in every build.
    fn ref_dec(self) -> Snapshot {
        assert!(
            self.ref_count() > 0,
            "task reference count underflow: {self:?}"
        );
        Snapshot(self.0 - REF_ONE)
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
    /// Woken during the poll: a reference was taken for a new `Notified`.
    /// The runner hands it to the scheduler and only then releases its own
    /// reference, so the task (and the scheduler handle inside it) stays
    /// alive while `schedule` runs, even if another thread runs and
    /// finishes the task the moment it is queued.
    Notified,
    /// Aborted during the poll: cancel now (still `RUNNING`).
    Cancel,
}

/// What a waker (or `abort`) does.
#[must_use]
pub(crate) enum ToNotified {
    /// Nothing: it is queued, running, or done.
    Nothing,
    /// Submit a new `Notified` to the scheduler (a reference was taken
    /// for it); the caller keeps its own.
    Submit,
    /// As `Submit` (a reference was taken for the `Notified`), and then
    /// release the waker's own reference — after `schedule` returns, so the
    /// task stays alive while the scheduler touches it.
    SubmitThenRelease,
    /// Nothing, and the caller's reference was the last: free the task.
    Dealloc,
}

// ── Transitions: pure functions of a snapshot ──────────────────────────────
//
// Each returns the word to store (`None`: leave it unchanged) and the
// verdict. `State` applies them with a compare-and-swap loop; the unit
// tests below check every one of them over every flag combination.

/// The runner took a `Notified` out of a queue and wants to poll.
fn to_running(s: Snapshot) -> (Option<Snapshot>, ToRunning) {
    assert!(s.ref_count() > 0, "running a task with no reference: {s:?}");
    if !s.is_idle() {
        // Someone else runs it or it is done: release the Notified's reference.
        let next = s.ref_dec();
        let verdict = if next.ref_count() == 0 {
            ToRunning::Dealloc
        } else {
            ToRunning::Skip
        };
        return (Some(next), verdict);
    }
    let next = Snapshot((s.0 & !NOTIFIED) | RUNNING);
    let verdict = if s.is_cancelled() {
        ToRunning::Cancel
    } else {
        ToRunning::Poll
    };
    (Some(next), verdict)
}

/// The poll returned `Pending`.
fn to_idle(s: Snapshot) -> (Option<Snapshot>, ToIdle) {
    debug_assert!(s.is_running(), "{s:?}");
    if s.is_cancelled() {
        return (None, ToIdle::Cancel);
    }
    let next = Snapshot(s.0 & !RUNNING);
    if s.is_notified() {
        // A new reference for the `Notified`: the runner keeps its own
        // until the scheduler has taken the task (see `ToIdle::Notified`).
        return (Some(next.ref_inc()), ToIdle::Notified);
    }
    let next = next.ref_dec();
    let verdict = if next.ref_count() == 0 {
        ToIdle::Dealloc
    } else {
        ToIdle::Idle
    };
    (Some(next), verdict)
}

/// A waker consumes its reference to notify the task.
fn to_notified_by_val(s: Snapshot) -> (Option<Snapshot>, ToNotified) {
    assert!(s.ref_count() > 0, "waking a task with no reference: {s:?}");
    if s.is_running() {
        // The runner repolls; this waker's reference goes away (the
        // runner's own keeps the task alive).
        debug_assert!(
            s.ref_count() >= 2,
            "a running task without the runner's reference: {s:?}"
        );
        return (
            Some(Snapshot(s.0 | NOTIFIED).ref_dec()),
            ToNotified::Nothing,
        );
    }
    if s.is_complete() || s.is_notified() {
        let next = s.ref_dec();
        let verdict = if next.ref_count() == 0 {
            ToNotified::Dealloc
        } else {
            ToNotified::Nothing
        };
        return (Some(next), verdict);
    }
    // A new reference for the `Notified`; the waker keeps its own until
    // the scheduler has taken the task, and releases it then.
    (
        Some(Snapshot(s.0 | NOTIFIED).ref_inc()),
        ToNotified::SubmitThenRelease,
    )
}

/// A waker notifies the task, keeping its own reference.
fn to_notified_by_ref(s: Snapshot) -> (Option<Snapshot>, ToNotified) {
    if s.is_complete() {
        (None, ToNotified::Nothing)
    } else if s.is_notified() {
        // Already due for a poll. Still write the word (unchanged): the
        // release makes what this waker published before waking visible to
        // that poll, whose transition reads this write.
        (Some(s), ToNotified::Nothing)
    } else if s.is_running() {
        (Some(Snapshot(s.0 | NOTIFIED)), ToNotified::Nothing)
    } else {
        (Some(Snapshot(s.0 | NOTIFIED).ref_inc()), ToNotified::Submit)
    }
}

/// `abort`: mark cancelled and make sure a runner will see it.
fn to_notified_and_cancel(s: Snapshot) -> (Option<Snapshot>, ToNotified) {
    if s.is_complete() || s.is_cancelled() {
        (None, ToNotified::Nothing)
    } else if s.is_running() || s.is_notified() {
        // The runner sees CANCELLED after its poll / when it pops it.
        (
            Some(Snapshot(s.0 | CANCELLED | NOTIFIED)),
            ToNotified::Nothing,
        )
    } else {
        (
            Some(Snapshot(s.0 | CANCELLED | NOTIFIED).ref_inc()),
            ToNotified::Submit,
        )
    }
}

/// Shutdown: mark cancelled and, if idle, take `RUNNING` (true: the
/// caller must cancel the task).
fn to_shutdown(s: Snapshot) -> (Option<Snapshot>, bool) {
    if s.is_idle() {
        (Some(Snapshot(s.0 | CANCELLED | RUNNING)), true)
    } else {
        (Some(Snapshot(s.0 | CANCELLED)), false)
    }
}

/// The `JoinHandle` is dropped before completion.
fn unset_join_interest(s: Snapshot) -> (Option<Snapshot>, Result<Snapshot, Snapshot>) {
    debug_assert!(s.is_join_interested(), "{s:?}");
    if s.is_complete() {
        (None, Err(s))
    } else {
        let next = Snapshot(s.0 & !(JOIN_INTEREST | JOIN_WAKER));
        (Some(next), Ok(next))
    }
}

/// The handle publishes the join waker it wrote.
fn set_join_waker(s: Snapshot) -> (Option<Snapshot>, Result<Snapshot, Snapshot>) {
    debug_assert!(s.is_join_interested() && !s.is_join_waker_set(), "{s:?}");
    if s.is_complete() {
        (None, Err(s))
    } else {
        let next = Snapshot(s.0 | JOIN_WAKER);
        (Some(next), Ok(next))
    }
}

/// The handle takes the join waker slot back to replace the waker.
fn unset_join_waker(s: Snapshot) -> (Option<Snapshot>, Result<Snapshot, Snapshot>) {
    debug_assert!(s.is_join_interested() && s.is_join_waker_set(), "{s:?}");
    if s.is_complete() {
        (None, Err(s))
    } else {
        let next = Snapshot(s.0 & !JOIN_WAKER);
        (Some(next), Ok(next))
    }
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
    fn update<T>(&self, mut f: impl FnMut(Snapshot) -> (Option<Snapshot>, T)) -> T {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let (next, verdict) = f(Snapshot(cur));
            let Some(next) = next else { return verdict };
            match self
                .0
                .compare_exchange_weak(cur, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return verdict,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The runner takes a `Notified` out of a queue and wants to poll.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(to_running)
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(to_idle)
    }

    /// The output is stored: `RUNNING` → `COMPLETE`. Returns the snapshot
    /// after the change.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        assert!(
            prev.is_running() && !prev.is_complete(),
            "completing a task that is not running: {prev:?}"
        );
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Drops `count` references after completion; true if none remain.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(count * REF_ONE, Ordering::AcqRel));
        assert!(
            prev.ref_count() >= count,
            "task reference count underflow: {prev:?} minus {count}"
        );
        prev.ref_count() == count
    }

    /// A waker consumes its reference to notify the task.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(to_notified_by_val)
    }

    /// A waker notifies the task, keeping its own reference.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(to_notified_by_ref)
    }

    /// `abort`: mark cancelled and make sure a runner will see it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> ToNotified {
        self.update(to_notified_and_cancel)
    }

    /// Shutdown: mark cancelled and, if idle, take the `RUNNING` bit so the
    /// caller may drop the future. True if the caller must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(to_shutdown)
    }

    /// The `JoinHandle` is dropped before completion: clear its interest
    /// (and waker bit, reclaiming the slot). `Err` if already complete: the
    /// handle must then drop the output itself.
    pub(crate) fn unset_join_interest(&self) -> Result<Snapshot, Snapshot> {
        self.update(unset_join_interest)
    }

    /// Publishes the join waker written by the handle. `Err` if the task
    /// completed first (the handle keeps ownership of the slot).
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(set_join_waker)
    }

    /// Takes the join waker slot back to replace the waker. `Err` if the
    /// task completed (the output can be read instead).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(unset_join_waker)
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
        assert!(
            prev.ref_count() >= 1,
            "task reference count underflow: {prev:?}"
        );
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

    /// Every flag combination with reference counts 0..=3.
    fn all_snapshots() -> impl Iterator<Item = Snapshot> {
        (0..=FLAGS).flat_map(|flags| (0..=3).map(move |refs| Snapshot(flags | (refs * REF_ONE))))
    }

    /// Flags other than those a transition may change are left alone, and
    /// COMPLETE is only ever set by `transition_to_complete`.
    fn keeps(before: Snapshot, after: Snapshot, may_change: usize) {
        assert_eq!(
            before.0 & FLAGS & !may_change,
            after.0 & FLAGS & !may_change,
            "{before:?} -> {after:?}"
        );
        assert_eq!(before.is_complete(), after.is_complete());
    }

    fn refs_delta(before: Snapshot, after: Snapshot) -> isize {
        after.ref_count() as isize - before.ref_count() as isize
    }

    #[test]
    fn to_running_over_every_state() {
        for s in all_snapshots().filter(|s| s.ref_count() > 0) {
            let (next, verdict) = to_running(s);
            let next = next.expect("always writes");
            keeps(s, next, RUNNING | NOTIFIED);
            match verdict {
                ToRunning::Poll | ToRunning::Cancel => {
                    assert!(s.is_idle());
                    assert!(next.is_running() && !next.is_notified());
                    assert_eq!(
                        refs_delta(s, next),
                        0,
                        "the Notified's reference becomes the runner's"
                    );
                    assert_eq!(matches!(verdict, ToRunning::Cancel), s.is_cancelled());
                }
                ToRunning::Skip | ToRunning::Dealloc => {
                    assert!(!s.is_idle());
                    assert_eq!(next.0, s.0 - REF_ONE);
                    assert_eq!(matches!(verdict, ToRunning::Dealloc), next.ref_count() == 0);
                }
            }
        }
    }

    #[test]
    fn to_idle_over_every_running_state() {
        for s in all_snapshots().filter(|s| s.is_running() && !s.is_complete() && s.ref_count() > 0)
        {
            let (next, verdict) = to_idle(s);
            match verdict {
                ToIdle::Cancel => {
                    assert!(s.is_cancelled());
                    assert!(next.is_none(), "still RUNNING while it cancels");
                }
                ToIdle::Notified => {
                    let next = next.unwrap();
                    assert!(s.is_notified() && !s.is_cancelled());
                    assert!(!next.is_running() && next.is_notified());
                    assert_eq!(refs_delta(s, next), 1, "a reference for the new Notified");
                }
                ToIdle::Idle | ToIdle::Dealloc => {
                    let next = next.unwrap();
                    assert!(!s.is_notified() && !s.is_cancelled());
                    assert!(!next.is_running());
                    keeps(s, next, RUNNING);
                    assert_eq!(refs_delta(s, next), -1);
                    assert_eq!(matches!(verdict, ToIdle::Dealloc), next.ref_count() == 0);
                }
            }
        }
    }

    #[test]
    fn wakes_over_every_state() {
        // A waker holds a reference, and so does the runner of a running task.
        let possible = |s: &Snapshot| s.ref_count() > usize::from(s.is_running());
        for s in all_snapshots().filter(possible) {
            // By value: the waker's reference is always accounted for.
            let (next, verdict) = to_notified_by_val(s);
            let next = next.expect("always writes");
            keeps(s, next, NOTIFIED);
            match verdict {
                ToNotified::SubmitThenRelease => {
                    assert!(s.is_idle() && !s.is_notified());
                    assert!(next.is_notified());
                    assert_eq!(refs_delta(s, next), 1);
                }
                ToNotified::Nothing | ToNotified::Dealloc => {
                    assert_eq!(refs_delta(s, next), -1);
                    assert_eq!(
                        matches!(verdict, ToNotified::Dealloc),
                        next.ref_count() == 0
                    );
                    if s.is_running() {
                        assert!(next.is_notified(), "a wake during a poll repolls");
                    }
                }
                ToNotified::Submit => panic!("a by-value wake never submits without releasing"),
            }
            // By reference: the waker keeps its reference.
            let (next, verdict) = to_notified_by_ref(s);
            match verdict {
                ToNotified::Submit => {
                    let next = next.unwrap();
                    assert!(s.is_idle() && !s.is_notified());
                    assert!(next.is_notified());
                    assert_eq!(refs_delta(s, next), 1);
                }
                ToNotified::Nothing => {
                    if let Some(next) = next {
                        assert_eq!(refs_delta(s, next), 0);
                        keeps(s, next, NOTIFIED);
                    }
                    if s.is_running() && !s.is_complete() {
                        assert!(next.unwrap().is_notified());
                    }
                }
                other => panic!("by-reference wake answered {}", other_name(&other)),
            }
        }
    }

    fn other_name(v: &ToNotified) -> &'static str {
        match v {
            ToNotified::Nothing => "Nothing",
            ToNotified::Submit => "Submit",
            ToNotified::SubmitThenRelease => "SubmitThenRelease",
            ToNotified::Dealloc => "Dealloc",
        }
    }

    #[test]
    fn abort_and_shutdown_over_every_state() {
        for s in all_snapshots().filter(|s| s.ref_count() > 0) {
            let (next, verdict) = to_notified_and_cancel(s);
            match (next, verdict) {
                (None, ToNotified::Nothing) => assert!(s.is_complete() || s.is_cancelled()),
                (Some(next), ToNotified::Nothing) => {
                    assert!(next.is_cancelled() && next.is_notified());
                    assert_eq!(refs_delta(s, next), 0);
                }
                (Some(next), ToNotified::Submit) => {
                    assert!(s.is_idle() && !s.is_notified());
                    assert!(next.is_cancelled() && next.is_notified());
                    assert_eq!(refs_delta(s, next), 1);
                }
                (_, other) => panic!("abort answered {}", other_name(&other)),
            }
            let (next, cancel_now) = to_shutdown(s);
            let next = next.unwrap();
            assert!(next.is_cancelled());
            assert_eq!(cancel_now, s.is_idle());
            assert_eq!(next.is_running(), s.is_running() || cancel_now);
            assert_eq!(refs_delta(s, next), 0);
        }
    }

    #[test]
    fn join_transitions_over_every_state() {
        for s in all_snapshots().filter(|s| s.is_join_interested()) {
            match unset_join_interest(s) {
                (None, Err(_)) => assert!(s.is_complete()),
                (Some(next), Ok(_)) => {
                    assert!(!s.is_complete());
                    assert!(!next.is_join_interested() && !next.is_join_waker_set());
                    keeps(s, next, JOIN_INTEREST | JOIN_WAKER);
                }
                _ => panic!("{s:?}"),
            }
            let (next, res) = if s.is_join_waker_set() {
                unset_join_waker(s)
            } else {
                set_join_waker(s)
            };
            assert_eq!(res.is_err(), s.is_complete());
            if let Some(next) = next {
                assert_ne!(next.is_join_waker_set(), s.is_join_waker_set());
                keeps(s, next, JOIN_WAKER);
            }
        }
    }

    #[test]
    #[should_panic(expected = "reference count underflow")]
    fn reference_count_underflow_panics_in_every_build() {
        let s = State::new();
        for _ in 0..4 {
            let _ = s.ref_dec();
        }
    }
}
