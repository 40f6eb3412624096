//! Loom models of the idle protocol.
//!
//! The real [`Idle`] (its atomics, fences and lock routed through loom by
//! the executor's `loom_facade`) is driven by workers that copy the
//! work-stealing parts of `worker.rs` (`run`, `steal`, `spin_for_work`,
//! `run_task`, `park`) and notifiers that copy `Shared::schedule_remote`,
//! `Worker::push_stealable` and `notify_parked`. Each worker's local queue
//! is reduced to its length (the owner's release store on push, a thief's
//! compare-and-swap), and its reactor to its eventfd: a write makes the
//! current or next poll return, and any poll consumes it.
//!
//! A lost notification leaves a task queued while every worker that could
//! run it blocks: loom reports the deadlock. The models also check that
//! the searching count matches the workers that believe they are
//! searching, so it drops to zero once they settle.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --lib loom_tests`

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::{fence, Idle, Ordering};

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

/// `multi_thread::Remote`, without the inbox, with the local queue's
/// length for its stealer.
struct Remote {
    parked: AtomicBool,
    notified: AtomicBool,
    eventfd: EventFd,
    local: AtomicUsize,
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
    /// Set with `shutdown`, for a thread blocked outside the workers' loop.
    done: Mutex<bool>,
    done_cv: Condvar,
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
                    local: AtomicUsize::new(0),
                })
                .collect(),
            inject: Mutex::new(0),
            inject_len,
            idle,
            shutdown: sc_bool(false),
            done: Mutex::new(false),
            done_cv: Condvar::new(),
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

    /// `Worker::push_stealable` on worker `index`'s thread: the deque's
    /// release store, then `notify_parked`.
    fn push_local(&self, index: usize) {
        let local = &self.remotes[index].local;
        local.store(local.load(Ordering::Relaxed) + 1, Ordering::Release);
        self.notify_parked();
    }

    /// The owner's `Deque::pop`, or a thief's steal from `index`.
    fn take_local(&self, index: usize) -> bool {
        let local = &self.remotes[index].local;
        let mut n = local.load(Ordering::Acquire);
        while n > 0 {
            match local.compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    /// `Shared::siblings_have_work`.
    fn siblings_have_work(&self, index: usize) -> bool {
        (0..WORKERS).any(|i| i != index && self.remotes[i].local.load(Ordering::Acquire) > 0)
    }

    /// `Shared::work_pending`: the last searcher's re-check.
    fn work_pending(&self) -> bool {
        fence(Ordering::SeqCst);
        self.inject_len.load(Ordering::SeqCst) > 0 || self.siblings_have_work(usize::MAX)
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
        *self.done.lock().unwrap() = true;
        self.done_cv.notify_all();
        for remote in &self.remotes {
            sc_store(&remote.parked, false);
            remote.eventfd.write();
        }
    }
}

/// `Worker::run` until shutdown; returns whether the worker was still
/// searching when it stopped. `spin` lets the worker spin (one look) when
/// it first runs out of work, as one that just ran remote work does.
fn worker(shared: &Shared, index: usize, mut spin: bool) -> bool {
    let mut searching = false;
    while !shared.shutdown.load(Ordering::SeqCst) {
        // `next_task`: the local queue, then the injection queue; then
        // `steal`, which makes the worker a searcher.
        let found =
            shared.take_local(index) || shared.pop_inject() || steal(shared, index, &mut searching);
        if found {
            // `run_task`.
            if std::mem::replace(&mut searching, false) && shared.idle.found_work() {
                shared.notify_parked();
            }
            // The last task's completion ends the runtime.
            if shared.ran.fetch_add(1, Ordering::SeqCst) + 1 == shared.tasks {
                shared.begin_shutdown();
            }
            spin = true;
        } else if std::mem::replace(&mut spin, false) {
            // `spin_for_work`, still searching: one look at every queue.
            let _visible =
                shared.inject_len.load(Ordering::Acquire) > 0 || shared.siblings_have_work(index);
        } else {
            park(shared, index, &mut searching);
        }
    }
    searching
}

/// `Worker::steal`.
fn steal(shared: &Shared, index: usize, searching: &mut bool) -> bool {
    if !std::mem::replace(searching, true) {
        shared.idle.begin_search();
    }
    (0..WORKERS).any(|victim| victim != index && shared.take_local(victim)) || shared.pop_inject()
}

/// `Worker::park`.
fn park(shared: &Shared, index: usize, searching: &mut bool) {
    let last = shared
        .idle
        .sleep(index, std::mem::replace(searching, false));
    if last && shared.work_pending() {
        shared.notify_parked();
    }
    let remote = &shared.remotes[index];
    sc_store(&remote.parked, true);
    let has_work = remote.notified.swap(false, Ordering::SeqCst)
        || shared.inject_len.load(Ordering::SeqCst) > 0
        || shared.shutdown.load(Ordering::SeqCst)
        || remote.local.load(Ordering::SeqCst) > 0;
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
                thread::spawn(move || worker(&shared, index, false))
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

/// Worker 0 runs a task that pushes one more onto worker 0's local queue
/// and then blocks until that one has run elsewhere; worker 1, which may
/// be spinning (a searcher) or between a failed steal and its park, must
/// take it. Without the last searcher's re-check in `park`, worker 1
/// sleeps with the task in worker 0's queue: a deadlock.
#[test]
fn a_task_pushed_while_the_sibling_searches_is_stolen() {
    for spin in [false, true] {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let shared = Shared::new(1);
            let sibling = {
                let shared = shared.clone();
                thread::spawn(move || worker(&shared, 1, spin))
            };
            // The blocking task on worker 0.
            shared.push_local(0);
            let mut done = shared.done.lock().unwrap();
            while !*done {
                done = shared.done_cv.wait(done).unwrap();
            }
            drop(done);
            let still_searching = usize::from(sibling.join().unwrap());
            assert_eq!(shared.ran.load(Ordering::SeqCst), 1);
            assert_eq!(
                shared.idle.num_searching.load(Ordering::SeqCst),
                still_searching
            );
        });
    }
}
