//! Loom model of auto-advance against a blocking task finishing (see the
//! handshake in `time/clock.rs`).
//!
//! A paused current-thread runtime whose only task awaits a blocking
//! closure (under a timeout) must run that task once the closure is done,
//! never jump the clock past the timeout first; and a runtime whose
//! blocking closure nobody awaits must be woken to jump once it is done,
//! never left blocked. The model copies the park loop's decision from
//! `executor/current_thread/core.rs` (`park`, `auto_advance`, `has_work`),
//! the remote wake (`Shared::schedule_remote`, `unpark_if_parked`) and the
//! blocking side (`raw::complete` waking the join waker, then the blocking
//! scheduler's `release`, then `AutoAdvanceInhibit::release`), with loom's
//! atomics and locks. The reactor is reduced to its eventfd.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_clock`
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

// As in `loom_executor.rs`: loom models `SeqCst` as acquire/release, so
// every `SeqCst` store is a swap (one order per atomic, as `SeqCst` keeps)
// and initial values are stored again with `SeqCst`.

fn sc_store(a: &AtomicBool, value: bool) {
    let _ = a.swap(value, Ordering::SeqCst);
}

fn flag(value: bool) -> AtomicBool {
    let a = AtomicBool::new(value);
    a.store(value, Ordering::SeqCst);
    a
}

fn count(value: usize) -> AtomicUsize {
    let a = AtomicUsize::new(value);
    a.store(value, Ordering::SeqCst);
    a
}

/// A reactor's eventfd.
struct EventFd {
    written: Mutex<bool>,
    cv: Condvar,
}

impl EventFd {
    fn new() -> EventFd {
        EventFd {
            written: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    fn write(&self) {
        *self.written.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// One poll: blocks until a write if `block`; consumes it. Returns
    /// whether it was written (the eventfd wakes no task by itself).
    fn poll(&self, block: bool) {
        let mut written = self.written.lock().unwrap();
        while block && !*written {
            written = self.cv.wait(written).unwrap();
        }
        *written = false;
    }
}

/// The runtime's shared state, its clock's paused flag and inhibit count.
struct Runtime {
    /// `remote_pending` (the remote queue reduced to its flag: the one
    /// task that can be woken from another thread is the joiner).
    remote_pending: AtomicBool,
    parked: AtomicBool,
    eventfd: EventFd,
    paused: AtomicBool,
    inhibit: AtomicUsize,
}

impl Runtime {
    fn new() -> Arc<Runtime> {
        Arc::new(Runtime {
            remote_pending: flag(false),
            parked: flag(false),
            eventfd: EventFd::new(),
            paused: flag(true),
            // `spawn_blocking` counted the closure on the driver thread,
            // before the blocking thread started.
            inhibit: count(1),
        })
    }

    /// `schedule_remote`: the blocking task's join waker queues the joiner.
    fn schedule_remote(&self) {
        sc_store(&self.remote_pending, true);
        if self.parked.swap(false, Ordering::SeqCst) {
            self.eventfd.write();
        }
    }

    /// The blocking thread's end of the closure: `complete` (the join wake,
    /// if someone awaits it), then `release` (the inhibit count, then the
    /// eventfd if paused, `AutoAdvanceInhibit::release`).
    fn blocking_task_finishes(&self, joined: bool) {
        if joined {
            self.schedule_remote();
        }
        self.inhibit.fetch_sub(1, Ordering::SeqCst);
        if self.paused.load(Ordering::SeqCst) {
            self.eventfd.write();
        }
    }
}

/// What the driver did.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Ran the task woken by the blocking closure's end.
    RanJoiner,
    /// Jumped the clock to the next timer (the joiner's timeout).
    Jumped,
}

/// The park loop of a paused runtime with nothing local to run and one
/// timer pending: `Core::park(true)` with `auto_advance`, repeated until it
/// runs a task or jumps.
fn drive(rt: &Runtime) -> Outcome {
    let has_work = || rt.remote_pending.load(Ordering::SeqCst);
    loop {
        // `run_tasks`: the remote queue.
        if rt.remote_pending.swap(false, Ordering::SeqCst) {
            return Outcome::RanJoiner;
        }
        // `park(true)`: announce, re-check.
        sc_store(&rt.parked, true);
        if has_work() {
            sc_store(&rt.parked, false);
            continue;
        }
        // The clock is paused: `auto_advance`. I/O once, without blocking.
        rt.eventfd.poll(false);
        // The count first, then the queues.
        if rt.inhibit.load(Ordering::SeqCst) != 0 {
            // Blocking work in flight: block (for the timer, in real time;
            // the model's timer is an hour away, so only a write ends it).
            rt.eventfd.poll(true);
            sc_store(&rt.parked, false);
            continue;
        }
        if has_work() {
            sc_store(&rt.parked, false);
            continue;
        }
        sc_store(&rt.parked, false);
        return Outcome::Jumped;
    }
}

#[test]
fn a_joined_blocking_task_is_run_before_the_clock_jumps() {
    loom::model(|| {
        let rt = Runtime::new();
        let blocking = {
            let rt = rt.clone();
            thread::spawn(move || rt.blocking_task_finishes(true))
        };
        // A jump here would fire the joiner's timeout although the
        // closure's result is queued (or about to be).
        assert_eq!(drive(&rt), Outcome::RanJoiner);
        blocking.join().unwrap();
    });
}

#[test]
fn a_detached_blocking_task_finishing_wakes_the_park_loop_to_jump() {
    loom::model(|| {
        let rt = Runtime::new();
        let blocking = {
            let rt = rt.clone();
            thread::spawn(move || rt.blocking_task_finishes(false))
        };
        // Not left blocked for the timer (loom reports a deadlock).
        assert_eq!(drive(&rt), Outcome::Jumped);
        blocking.join().unwrap();
    });
}
