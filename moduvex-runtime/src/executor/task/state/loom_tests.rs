//! Loom models of the task state word.
//!
//! The real [`State`] (its atomic routed through loom by the executor's
//! `loom_facade`) is driven by a harness that mirrors `raw.rs` step for
//! step: [`Task::run`] is `raw::poll`, [`Task::complete`] is
//! `raw::complete`, the join methods are `can_read_output`,
//! `set_join_waker` and `drop_join_handle`. The future's stage and the
//! join-waker slot are loom cells, so an access outside the rules of
//! `raw.rs`'s safety argument fails the model, as does freeing the task
//! while another thread still touches it.
//!
//! The modelled future waits for a flag that its waker sets with `Release`
//! before waking it, and reads with `Acquire` when polled: the state word
//! alone must carry that flag's store to the poll that follows the wake.
//! Each model then checks that the task ends complete (no lost wake-up) and
//! that exactly one party freed it.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --lib loom_tests`

// Bookkeeping of the harness, invisible to loom: loom runs one thread at a
// time, so plain atomics see every earlier step of the execution.
use std::sync::atomic::{AtomicBool as StdAtomicBool, AtomicUsize as StdAtomicUsize};
use std::sync::Mutex as StdMutex;

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::Arc;
use loom::thread;

use super::{Ordering, Snapshot, State, ToIdle, ToNotified, ToRunning};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ready,
    Cancelled,
}

#[derive(Debug, PartialEq, Eq)]
enum Stage {
    Running,
    Finished(Outcome),
    Consumed,
}

/// One task: the real state word plus a model of everything `raw.rs`
/// guards with it.
struct Task {
    state: State,
    stage: UnsafeCell<Stage>,
    /// The join waker slot, holding the id of the waker the handle stored.
    join_waker: UnsafeCell<Option<usize>>,
    /// What the future waits for.
    ready: AtomicBool,
    /// Stands for the scheduler state a `schedule` call touches after it
    /// has queued the task (the parked flag, the unparker): an access loom
    /// can interleave with a runner that pops the task meanwhile.
    scheduler_flag: AtomicUsize,
    /// `Notified` references waiting in the run queue (a loom atomic: the
    /// queue is how a waker hands the task to a runner on another thread).
    queued: AtomicUsize,
    /// Stands for the allocation itself: `dealloc` writes it, and the
    /// scheduler reads it after a push. Loom reports a read that is not
    /// ordered before the free (a use-after-free) as a causality violation.
    alive: UnsafeCell<()>,
    /// The owned-tasks list still holds its reference.
    listed: StdAtomicBool,
    /// Times the allocation was freed.
    deallocs: StdAtomicUsize,
    /// Id of the join waker the completer woke (0: none).
    join_woken: StdAtomicUsize,
    /// The steps of this execution, printed when a check fails.
    trace: StdMutex<Vec<String>>,
}

impl Task {
    /// A freshly spawned task: queued once, with a `JoinHandle`, in the
    /// owned list.
    fn new() -> Arc<Task> {
        Arc::new(Task {
            state: State::new(),
            stage: UnsafeCell::new(Stage::Running),
            join_waker: UnsafeCell::new(None),
            ready: AtomicBool::new(false),
            scheduler_flag: AtomicUsize::new(0),
            queued: AtomicUsize::new(1),
            alive: UnsafeCell::new(()),
            listed: StdAtomicBool::new(true),
            deallocs: StdAtomicUsize::new(0),
            join_woken: StdAtomicUsize::new(0),
            trace: StdMutex::new(Vec::new()),
        })
    }

    /// Records that the current thread took `step`, which answered `verdict`.
    fn log(&self, step: &str, verdict: &str) {
        let line = format!("{:?}: {step} -> {verdict}", thread::current().id());
        self.trace.lock().unwrap().push(line);
    }

    fn trace(&self) -> String {
        self.trace.lock().unwrap().join("\n  ")
    }

    fn assert_live(&self) {
        assert_eq!(
            self.deallocs.load(Ordering::Relaxed),
            0,
            "task used after it was freed"
        );
    }

    fn dealloc(&self) {
        self.assert_live();
        self.deallocs.fetch_add(1, Ordering::Relaxed);
        // Freeing drops the stage and the slot: loom flags any access that
        // is not ordered before this one.
        self.stage.with_mut(|_| ());
        self.join_waker.with_mut(|_| ());
        self.alive.with_mut(|_| ());
    }

    /// `Schedule::schedule`: a `Notified` reference enters the run queue,
    /// then the scheduler's own state is touched (as `schedule_remote`
    /// swaps `parked` after its push). The caller must keep the task alive
    /// meanwhile: a runner may pop, finish and free it right after the push.
    fn schedule(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.scheduler_flag.fetch_add(1, Ordering::SeqCst);
        self.assert_live();
        self.alive.with(|_| ());
    }

    /// Runs every `Notified` in the run queue.
    fn run_queue(&self) {
        while self
            .queued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            self.run();
        }
    }

    /// `raw::poll`: consumes one `Notified` reference.
    fn run(&self) {
        self.assert_live();
        let verdict = self.state.transition_to_running();
        let name = match verdict {
            ToRunning::Poll => "Poll",
            ToRunning::Cancel => "Cancel",
            ToRunning::Skip => "Skip",
            ToRunning::Dealloc => "Dealloc",
        };
        self.log("transition_to_running", name);
        match verdict {
            ToRunning::Poll => {}
            ToRunning::Cancel => return self.cancel_and_complete(),
            ToRunning::Skip => return,
            ToRunning::Dealloc => return self.dealloc(),
        }
        let ready = self.ready.load(Ordering::Acquire);
        self.log("poll reads the flag", if ready { "set" } else { "clear" });
        self.stage.with_mut(|s| {
            // SAFETY: we hold RUNNING (loom checks the claim).
            let stage = unsafe { &*s };
            assert_eq!(stage, &Stage::Running)
        });
        if ready {
            self.stage.with_mut(|s| {
                // SAFETY: as above.
                unsafe { *s = Stage::Finished(Outcome::Ready) }
            });
            return self.complete();
        }
        let verdict = self.state.transition_to_idle();
        let name = match verdict {
            ToIdle::Idle => "Idle",
            ToIdle::Dealloc => "Dealloc",
            ToIdle::Notified => "Notified",
            ToIdle::Cancel => "Cancel",
        };
        self.log("transition_to_idle", name);
        match verdict {
            ToIdle::Idle => {}
            ToIdle::Dealloc => self.dealloc(),
            ToIdle::Notified => {
                // A reference was taken for the Notified: ours keeps the
                // task alive while it is scheduled, then goes.
                self.schedule();
                self.drop_ref();
            }
            ToIdle::Cancel => self.cancel_and_complete(),
        }
    }

    /// `raw::cancel_and_complete`: the caller holds RUNNING.
    fn cancel_and_complete(&self) {
        self.stage.with_mut(|s| {
            // SAFETY: RUNNING (loom checks the claim).
            unsafe { *s = Stage::Finished(Outcome::Cancelled) }
        });
        self.complete();
    }

    /// `raw::complete`: the caller holds RUNNING and one reference.
    fn complete(&self) {
        let snapshot = self.state.transition_to_complete();
        self.log("transition_to_complete", &format!("{snapshot:?}"));
        if !snapshot.is_join_interested() {
            // SAFETY: no JoinHandle can reach the stage any more.
            self.stage.with_mut(|s| unsafe { *s = Stage::Consumed });
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER was set when COMPLETE was: shared read.
            if let Some(id) = self.join_waker.with(|w| unsafe { *w }) {
                self.join_woken.store(id, Ordering::Relaxed);
            }
        }
        // `Schedule::release`: the owned list hands its reference back.
        let count = if self.listed.swap(false, Ordering::Relaxed) {
            2
        } else {
            1
        };
        if self.state.transition_to_terminal(count) {
            self.dealloc();
        }
    }

    /// What the future waits for happens: the waker side sets the flag.
    fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
        self.log("set the flag", "done");
    }

    /// Clones a waker.
    fn waker(&self) {
        self.assert_live();
        self.state.ref_inc();
    }

    /// `Waker::wake` on an owned waker.
    fn wake_by_val(&self) {
        self.assert_live();
        let verdict = self.state.transition_to_notified_by_val();
        self.log("transition_to_notified_by_val", notified_name(&verdict));
        match verdict {
            ToNotified::Nothing => {}
            ToNotified::Submit => unreachable!(),
            ToNotified::SubmitThenRelease => {
                self.schedule();
                self.drop_ref();
            }
            ToNotified::Dealloc => self.dealloc(),
        }
    }

    /// `Waker::wake_by_ref`.
    fn wake_by_ref(&self) {
        self.assert_live();
        let verdict = self.state.transition_to_notified_by_ref();
        self.log("transition_to_notified_by_ref", notified_name(&verdict));
        match verdict {
            ToNotified::Nothing | ToNotified::Dealloc => {}
            ToNotified::Submit => self.schedule(),
            ToNotified::SubmitThenRelease => unreachable!(),
        }
    }

    /// Drops a waker, or any other plain reference.
    fn drop_ref(&self) {
        self.assert_live();
        if self.state.ref_dec() {
            self.dealloc();
        }
    }

    /// `JoinHandle::abort`.
    fn abort(&self) {
        self.assert_live();
        let verdict = self.state.transition_to_notified_and_cancel();
        self.log("transition_to_notified_and_cancel", notified_name(&verdict));
        if let ToNotified::Submit = verdict {
            self.schedule();
        }
    }

    /// `raw::shutdown`, handed the owned list's reference.
    fn shutdown(&self) {
        self.assert_live();
        assert!(self.listed.swap(false, Ordering::Relaxed));
        if self.state.transition_to_shutdown() {
            self.cancel_and_complete();
        } else if self.state.ref_dec() {
            self.dealloc();
        }
    }

    /// Polls the `JoinHandle` with join waker `id`.
    fn join_poll(&self, id: usize) -> Option<Outcome> {
        self.assert_live();
        if !self.can_read_output(id) {
            return None;
        }
        let stage = self.stage.with_mut(|s| {
            // SAFETY: COMPLETE with JOIN_INTEREST set: the stage is the handle's.
            unsafe { std::mem::replace(&mut *s, Stage::Consumed) }
        });
        match stage {
            Stage::Finished(outcome) => Some(outcome),
            other => panic!("join handle read {other:?}"),
        }
    }

    /// `raw::can_read_output`.
    fn can_read_output(&self, id: usize) -> bool {
        let snapshot = self.state.load();
        if snapshot.is_complete() {
            return true;
        }
        let res = if !snapshot.is_join_waker_set() {
            self.set_join_waker(id)
        } else {
            // SAFETY: JOIN_WAKER is set: shared read.
            if self.join_waker.with(|w| unsafe { *w }) == Some(id) {
                return false;
            }
            self.state
                .unset_join_waker()
                .and_then(|_| self.set_join_waker(id))
        };
        match res {
            Ok(_) => false,
            Err(snapshot) => {
                assert!(snapshot.is_complete());
                true
            }
        }
    }

    /// `raw::set_join_waker`: JOIN_WAKER is clear.
    fn set_join_waker(&self, id: usize) -> Result<Snapshot, Snapshot> {
        // SAFETY: the slot is the handle's while JOIN_WAKER is clear.
        self.join_waker.with_mut(|w| unsafe { *w = Some(id) });
        let res = self.state.set_join_waker();
        if res.is_err() {
            // SAFETY: the bit was not set.
            self.join_waker.with_mut(|w| unsafe { *w = None });
        }
        res
    }

    /// `raw::drop_join_handle`.
    fn drop_join_handle(&self) {
        self.assert_live();
        match self.state.unset_join_interest() {
            // SAFETY: JOIN_WAKER is now clear: the slot is ours.
            Ok(_) => self.join_waker.with_mut(|w| unsafe { *w = None }),
            // SAFETY: COMPLETE with JOIN_INTEREST set: the stage is ours.
            Err(_) => self.stage.with_mut(|s| unsafe { *s = Stage::Consumed }),
        }
        self.drop_ref();
    }

    /// The end of every model: the scheduler runs what is still queued,
    /// the handle reads the output, and the last references go away.
    fn finish(&self, expected: Outcome) {
        self.run_queue();
        assert!(
            self.state.load().is_complete(),
            "lost wake-up: the task was woken but sits idle: {:?}\n  {}",
            self.state,
            self.trace()
        );
        assert_eq!(self.join_poll(99), Some(expected));
        self.drop_join_handle();
        assert!(!self.listed.load(Ordering::Relaxed));
        assert_eq!(self.deallocs.load(Ordering::Relaxed), 1, "freed once");
    }
}

fn notified_name(verdict: &ToNotified) -> &'static str {
    match verdict {
        ToNotified::Nothing => "Nothing",
        ToNotified::Submit => "Submit",
        ToNotified::SubmitThenRelease => "SubmitThenRelease",
        ToNotified::Dealloc => "Dealloc",
    }
}

/// Preemptions per execution for the three-thread models.
const BOUND: usize = 4;

fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(None, f);
}

fn model_bounded(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = bound;
    b.check(f);
}

/// A runner polls while another thread sets the flag and wakes with an
/// owned waker: the task is polled again after the wake.
#[test]
fn wake_by_val_during_poll_is_not_lost() {
    model(|| {
        let task = Task::new();
        task.waker();
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        task.set_ready();
        task.wake_by_val();
        runner.join().unwrap();
        task.finish(Outcome::Ready);
    });
}

/// As above with `wake_by_ref`; the waker is dropped afterwards.
#[test]
fn wake_by_ref_during_poll_is_not_lost() {
    model(|| {
        let task = Task::new();
        task.waker();
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        task.set_ready();
        task.wake_by_ref();
        task.drop_ref();
        runner.join().unwrap();
        task.finish(Outcome::Ready);
    });
}

/// Two wakers, each setting the flag in turn: the second wake lands while
/// the first one's repoll is queued or running.
#[test]
fn second_wake_during_repoll_is_not_lost() {
    model_bounded(Some(BOUND), || {
        let task = Task::new();
        task.waker();
        task.waker();
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        let t = task.clone();
        let first = thread::spawn(move || t.wake_by_val());
        task.set_ready();
        task.wake_by_ref();
        task.drop_ref();
        first.join().unwrap();
        runner.join().unwrap();
        task.finish(Outcome::Ready);
    });
}

/// `abort` racing with the runner: the future (which never becomes ready)
/// is dropped exactly once and the handle sees a cancellation.
#[test]
fn abort_races_run() {
    model(|| {
        let task = Task::new();
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        task.abort();
        runner.join().unwrap();
        task.finish(Outcome::Cancelled);
    });
}

/// `abort`, a wake and the runner, all at once.
#[test]
fn abort_races_wake_and_run() {
    model_bounded(Some(BOUND), || {
        let task = Task::new();
        task.waker();
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        let t = task.clone();
        let waker = thread::spawn(move || t.wake_by_val());
        task.abort();
        waker.join().unwrap();
        runner.join().unwrap();
        task.finish(Outcome::Cancelled);
    });
}

/// Runtime shutdown cancels an idle task while a waker submits it and the
/// runner pops it.
#[test]
fn shutdown_races_wake_and_run() {
    model(|| {
        let task = Task::new();
        task.run_queue(); // first poll: pending, idle
        task.waker();
        let t = task.clone();
        let waker = thread::spawn(move || {
            t.wake_by_val();
            t.run_queue();
        });
        task.shutdown();
        waker.join().unwrap();
        task.finish(Outcome::Cancelled);
    });
}

/// The completer reads the join waker while the handle registers one and
/// then replaces it: the last waker the handle stored before it saw
/// `Pending` is the one woken.
#[test]
fn join_waker_registration_races_completion() {
    model(|| {
        let task = Task::new();
        task.ready.store(true, Ordering::Release);
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        let first = task.join_poll(1);
        let second = match first {
            Some(outcome) => Some(outcome),
            None => task.join_poll(2),
        };
        runner.join().unwrap();
        match second {
            Some(outcome) => {
                assert_eq!(outcome, Outcome::Ready);
                task.drop_join_handle();
                assert_eq!(task.deallocs.load(Ordering::Relaxed), 1);
            }
            None => {
                assert_eq!(
                    task.join_woken.load(Ordering::Relaxed),
                    2,
                    "lost join wake-up"
                );
                task.finish(Outcome::Ready);
            }
        }
    });
}

/// The handle registers a waker and is dropped while the task completes:
/// the output is dropped by exactly one side and the task freed once.
#[test]
fn join_handle_drop_races_completion() {
    model(|| {
        let task = Task::new();
        task.ready.store(true, Ordering::Release);
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        let _ = task.join_poll(1);
        task.drop_join_handle();
        runner.join().unwrap();
        task.run_queue();
        assert_eq!(task.deallocs.load(Ordering::Relaxed), 1, "freed once");
    });
}

/// Runs the queue until the task is complete, yielding to loom between
/// attempts (a runner that keeps looking for work, as a worker does).
fn run_until_complete(task: &Task) {
    loop {
        task.run_queue();
        if task.state.load().is_complete() {
            return;
        }
        thread::yield_now();
    }
}

/// A waker on another thread submits an idle task; the owner runs it to
/// completion and drops the last handle the moment it is queued, while the
/// waker's `schedule` is still touching the scheduler. The waker's own
/// reference must keep the task alive until `schedule` returns.
#[test]
fn remote_schedule_races_completion_and_free() {
    model(|| {
        let task = Task::new();
        task.run_queue(); // first poll: pending, idle
        task.waker();
        let t = task.clone();
        let waker = thread::spawn(move || {
            t.set_ready();
            t.wake_by_val();
        });
        run_until_complete(&task);
        assert_eq!(task.join_poll(99), Some(Outcome::Ready));
        task.drop_join_handle();
        waker.join().unwrap();
        assert_eq!(task.deallocs.load(Ordering::Relaxed), 1, "freed once");
    });
}

/// A task woken during its poll is requeued by its runner while another
/// runner (a thief) pops and finishes it and drops the handle at once; the
/// first runner's `schedule` must still find the task alive.
#[test]
fn requeue_after_poll_races_a_thief() {
    model_bounded(Some(BOUND), || {
        let task = Task::new();
        task.waker();
        let t = task.clone();
        let runner = thread::spawn(move || t.run_queue());
        let t = task.clone();
        let thief = thread::spawn(move || {
            run_until_complete(&t);
            assert_eq!(t.join_poll(99), Some(Outcome::Ready));
            t.drop_join_handle();
        });
        task.set_ready();
        task.wake_by_val();
        runner.join().unwrap();
        thief.join().unwrap();
        assert_eq!(task.deallocs.load(Ordering::Relaxed), 1, "freed once");
    });
}
