//! Loom models of the idle protocol.
//!
//! The real [`Idle`] (its atomics and lock routed through loom by the
//! executor's `loom_facade`) is driven by workers that copy the
//! work-stealing parts of `worker.rs` (`run`, `run_task`, `park`) and a
//! notifier that copies `Shared::schedule_remote` and `notify_parked`. Each
//! worker's reactor is reduced to its eventfd: a write makes the current or
//! next poll return, and any poll consumes it.
//!
//! A lost notification leaves a task in the injection queue while every
//! worker blocks in its reactor: loom reports the deadlock. The models also
//! check that the searching count matches the workers that believe they
//! are searching, so it drops to zero once they settle.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --lib loom_tests`

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::{Idle, Ordering};

const WORKERS: usize = 2;

// Loom models `SeqCst` accesses as acquire/release (see its README), which
// would let it invent lost wake-ups that `SeqCst` rules out: the parking
// handshake is a store-then-load on each side (Dekker). Two adjustments
// give the model the guarantee the real memory model gives, without
// changing what any thread can observe: every `SeqCst` store of the
// handshake is written as a swap whose result is ignored (loom keeps
// read-modify-writes of one atomic in a single order, as `SeqCst` keeps
// all its accesses), and each atomic's initial value is stored again with
// `SeqCst` (loom lets a `SeqCst` load skip back to a non-`SeqCst` store,
// which a constructor's is).

/// A `SeqCst` store, written as a swap for loom (see above).
fn sc_store(a: &AtomicBool, value: bool) {
    let _ = a.swap(value, Ordering::SeqCst);
}

fn sc_init_usize(a: &AtomicUsize) {
    a.store(a.load(Ordering::SeqCst), Ordering::SeqCst);
}

fn sc_bool(value: bool) -> AtomicBool {
    let a = AtomicBool::new(value);
    a.store(value, Ordering::SeqCst);
    a
}

/// A worker's eventfd.
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

    /// `Unparker::unpark`.
    fn write(&self) {
        *self.written.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// One reactor poll: blocks until a write if `block`, and consumes it.
    fn poll(&self, block: bool) {
        let mut written = self.written.lock().unwrap();
        while block && !*written {
            written = self.cv.wait(written).unwrap();
        }
        *written = false;
    }
}

/// `multi_thread::Remote`, without the inbox.
struct Remote {
    parked: AtomicBool,
    notified: AtomicBool,
    eventfd: EventFd,
}

impl Remote {
    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            self.eventfd.write();
        }
    }
}

/// `multi_thread::Shared`, with tasks reduced to a count.
struct Shared {
    remotes: Vec<Remote>,
    inject: Mutex<usize>,
    inject_len: AtomicUsize,
    idle: Idle,
    shutdown: AtomicBool,
    /// Tasks run so far, and how many the model pushes.
    ran: AtomicUsize,
    tasks: usize,
}

impl Shared {
    fn new(tasks: usize) -> Arc<Shared> {
        let idle = Idle::new(WORKERS);
        sc_init_usize(&idle.num_sleepers);
        sc_init_usize(&idle.num_searching);
        let inject_len = AtomicUsize::new(0);
        sc_init_usize(&inject_len);
        Arc::new(Shared {
            remotes: (0..WORKERS)
                .map(|_| Remote {
                    parked: sc_bool(false),
                    notified: sc_bool(false),
                    eventfd: EventFd::new(),
                })
                .collect(),
            inject: Mutex::new(0),
            inject_len,
            idle,
            shutdown: sc_bool(false),
            ran: AtomicUsize::new(0),
            tasks,
        })
    }

    /// `schedule_remote` of a stealable task.
    fn push(&self) {
        {
            let mut inject = self.inject.lock().unwrap();
            *inject += 1;
            self.inject_len.fetch_add(1, Ordering::SeqCst);
        }
        self.notify_parked();
    }

    /// `notify_parked`.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            let remote = &self.remotes[index];
            sc_store(&remote.notified, true);
            remote.unpark_if_parked();
        }
    }

    /// `pop_inject` of one task.
    fn pop_inject(&self) -> bool {
        if self.inject_len.load(Ordering::SeqCst) == 0 {
            return false;
        }
        let mut inject = self.inject.lock().unwrap();
        if *inject == 0 {
            return false;
        }
        *inject -= 1;
        self.inject_len.fetch_sub(1, Ordering::SeqCst);
        true
    }

    /// `begin_shutdown`, without the queue draining.
    fn begin_shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        for remote in &self.remotes {
            sc_store(&remote.parked, false);
            remote.eventfd.write();
        }
    }
}

/// `Worker::run` until shutdown; returns whether the worker was still
/// searching when it stopped.
fn worker(shared: &Shared, index: usize) -> bool {
    let mut searching = false;
    while !shared.shutdown.load(Ordering::SeqCst) {
        // `next_task` and `steal` both end in the injection queue here.
        if shared.pop_inject() {
            // `run_task`.
            if std::mem::replace(&mut searching, false) && shared.idle.found_work() {
                shared.notify_parked();
            }
            // The last task's completion ends the runtime.
            if shared.ran.fetch_add(1, Ordering::SeqCst) + 1 == shared.tasks {
                shared.begin_shutdown();
            }
        } else {
            park(shared, index, &mut searching);
        }
    }
    searching
}

/// `Worker::park`.
fn park(shared: &Shared, index: usize, searching: &mut bool) {
    shared
        .idle
        .sleep(index, std::mem::replace(searching, false));
    let remote = &shared.remotes[index];
    sc_store(&remote.parked, true);
    let has_work = remote.notified.swap(false, Ordering::SeqCst)
        || shared.inject_len.load(Ordering::SeqCst) > 0
        || shared.shutdown.load(Ordering::SeqCst);
    remote.eventfd.poll(!has_work);
    sc_store(&remote.parked, false);
    sc_store(&remote.notified, false);
    *searching = shared.idle.wake(index);
}

/// Two workers start (and go to sleep) while another thread pushes
/// `tasks` tasks; every task runs and the searching count settles.
fn check(tasks: usize, bound: Option<usize>) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = bound;
    b.check(move || {
        let shared = Shared::new(tasks);
        let workers: Vec<_> = (0..WORKERS)
            .map(|index| {
                let shared = shared.clone();
                thread::spawn(move || worker(&shared, index))
            })
            .collect();
        for _ in 0..tasks {
            shared.push();
        }
        let still_searching = workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .filter(|&s| s)
            .count();
        assert_eq!(shared.ran.load(Ordering::SeqCst), tasks);
        assert_eq!(
            shared.idle.num_searching.load(Ordering::SeqCst),
            still_searching,
            "searching count out of step with the workers"
        );
        // `Worker::shutdown` settles those; then nobody is counted.
        for _ in 0..still_searching {
            let _ = shared.idle.found_work();
        }
        assert_eq!(shared.idle.num_searching.load(Ordering::SeqCst), 0);
        assert_eq!(shared.idle.num_sleepers.load(Ordering::SeqCst), 0);
        assert!(shared.idle.lock().is_empty());
    });
}

#[test]
fn one_task_wakes_a_sleeper() {
    check(1, Some(4));
}

#[test]
fn two_tasks_fan_out() {
    check(2, Some(4));
}
