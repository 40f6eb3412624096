//! Loom models of the executor's parking handshakes (and, at the end, of
//! the reactor's fostering handshake and of how a source's registration
//! settles on its first poll).
//!
//! A scheduler thread with nothing to do announces `parked`, re-checks
//! for work, and only then blocks in its reactor; a thread handing it work
//! publishes the work first, then swaps `parked` off and writes the
//! reactor's eventfd if it was on. These models copy that code from
//! `executor/current_thread.rs` (the `block_on` loop, `next_task`,
//! `has_work`, `park`, `schedule_remote`, the main-future waker) and
//! `executor/multi_thread/worker.rs` (a thread-per-core worker's
//! `pop_remote` and `park`, `Shared::schedule_remote` to its inbox), with
//! loom's atomics and locks. The reactor is reduced to its eventfd: a
//! write makes the current or next poll return, and any poll, blocking or
//! not, consumes it.
//!
//! A lost wake-up leaves the scheduler blocked in its reactor with work
//! queued and nobody left to write the eventfd: loom reports a deadlock.
//!
//! The task state word and the work-stealing idle protocol have loom
//! models beside their code (`loom_tests` modules, run with `--lib`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_executor`
#![cfg(loom)]

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

// Loom models `SeqCst` accesses as acquire/release (see its README), which
// would let it invent lost wake-ups that `SeqCst` rules out: the handshake
// is a store-then-load on each side (Dekker). Two adjustments give the
// models the guarantee the real memory model gives, without changing what
// any thread can observe: every `SeqCst` store is written as a swap whose
// result is ignored (loom keeps read-modify-writes of one atomic in a
// single order, as `SeqCst` keeps all its accesses), and each atomic's
// initial value is stored again with `SeqCst` (loom lets a `SeqCst` load
// skip back to a non-`SeqCst` store, which a constructor's is).

/// A `SeqCst` store, written as a swap for loom (see above).
fn sc_store(a: &AtomicBool, value: bool) {
    let _ = a.swap(value, Ordering::SeqCst);
}

/// A flag whose initial value is a `SeqCst` store (see above).
fn flag(value: bool) -> AtomicBool {
    let a = AtomicBool::new(value);
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

/// Preemptions per execution: three-thread models explore every
/// interleaving with up to this many forced switches (about ten seconds
/// each in release mode; unbounded takes hours).
const BOUND: usize = 5;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(BOUND);
    b.check(f);
}

// ===== current-thread scheduler =====

/// `current_thread::Shared`; a task is a number.
struct CurrentThread {
    remote: Mutex<VecDeque<u32>>,
    remote_pending: AtomicBool,
    parked: AtomicBool,
    main_woken: AtomicBool,
    eventfd: EventFd,
    /// What the main future waits for besides its tasks (set by a remote
    /// waker before it wakes it).
    signal: AtomicBool,
}

impl CurrentThread {
    fn new() -> Arc<CurrentThread> {
        Arc::new(CurrentThread {
            remote: Mutex::new(VecDeque::new()),
            remote_pending: flag(false),
            parked: flag(false),
            main_woken: flag(true),
            eventfd: EventFd::new(),
            signal: flag(false),
        })
    }

    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            self.eventfd.write();
        }
    }

    /// `schedule_remote`: a task woken on another thread.
    fn schedule_remote(&self, task: u32) {
        self.remote.lock().unwrap().push_back(task);
        sc_store(&self.remote_pending, true);
        self.unpark_if_parked();
    }

    /// `Wake for Shared`: the main future's waker.
    fn wake_main(&self) {
        sc_store(&self.main_woken, true);
        self.unpark_if_parked();
    }
}

/// `current_thread::Core` and `run`: drives a main future that is ready
/// once `tasks` tasks have run and, if `wait_signal`, the signal is set.
/// A task's completion wakes the main future from this thread, as its
/// `JoinHandle` would.
fn block_on(shared: &CurrentThread, tasks: usize, wait_signal: bool, event_interval: u32) {
    let mut local: VecDeque<u32> = VecDeque::new();
    let mut ran = 0;
    let mut ticks = 0;

    let next_task = |local: &mut VecDeque<u32>| -> Option<u32> {
        if let Some(task) = local.pop_front() {
            return Some(task);
        }
        if !shared.remote_pending.load(Ordering::Acquire) {
            return None;
        }
        sc_store(&shared.remote_pending, false);
        let mut remote = shared.remote.lock().unwrap();
        local.extend(remote.drain(..));
        local.pop_front()
    };
    let has_work = |local: &VecDeque<u32>| {
        shared.main_woken.load(Ordering::SeqCst)
            || !local.is_empty()
            || shared.remote_pending.load(Ordering::SeqCst)
    };
    let park = |local: &VecDeque<u32>, may_block: bool| {
        let mut block = false;
        if may_block {
            sc_store(&shared.parked, true);
            block = !has_work(local);
        }
        shared.eventfd.poll(block);
        sc_store(&shared.parked, false);
    };

    loop {
        if shared.main_woken.swap(false, Ordering::AcqRel) {
            ticks += 1;
            if ran == tasks && (!wait_signal || shared.signal.load(Ordering::Acquire)) {
                return;
            }
        }
        // `run_tasks`.
        while ticks < event_interval {
            match next_task(&mut local) {
                Some(_) => {
                    ticks += 1;
                    ran += 1;
                    if ran == tasks {
                        shared.wake_main();
                    }
                }
                None => break,
            }
        }
        if !has_work(&local) {
            park(&local, true);
            ticks = 0;
        } else if ticks >= event_interval {
            park(&local, false);
            ticks = 0;
        }
    }
}

/// Two threads each wake one task of a blocked `block_on`.
#[test]
fn current_thread_remote_wakes_reach_a_parked_thread() {
    model(|| {
        let shared = CurrentThread::new();
        let pushers: Vec<_> = (0..2)
            .map(|i| {
                let shared = shared.clone();
                thread::spawn(move || shared.schedule_remote(i))
            })
            .collect();
        block_on(&shared, 2, false, 61);
        for p in pushers {
            p.join().unwrap();
        }
    });
}

/// A task woken from one thread and the main future from another.
#[test]
fn current_thread_remote_task_and_main_wake() {
    model(|| {
        let shared = CurrentThread::new();
        let s = shared.clone();
        let pusher = thread::spawn(move || s.schedule_remote(0));
        let s = shared.clone();
        let waker = thread::spawn(move || {
            s.signal.store(true, Ordering::Release);
            s.wake_main();
        });
        block_on(&shared, 1, true, 61);
        pusher.join().unwrap();
        waker.join().unwrap();
    });
}

/// As the first model, with a reactor poll due after every task: the
/// non-blocking polls consume eventfd writes meant for a blocking one.
#[test]
fn current_thread_busy_polls_do_not_eat_wake_ups() {
    model(|| {
        let shared = CurrentThread::new();
        let pushers: Vec<_> = (0..2)
            .map(|i| {
                let shared = shared.clone();
                thread::spawn(move || shared.schedule_remote(i))
            })
            .collect();
        block_on(&shared, 2, false, 1);
        for p in pushers {
            p.join().unwrap();
        }
    });
}

// ===== multi-threaded worker (thread-per-core) =====

/// One worker's `Remote`, plus the runtime-wide flags its park checks.
struct WorkerRemote {
    inbox: Mutex<VecDeque<u32>>,
    inbox_pending: AtomicBool,
    parked: AtomicBool,
    notified: AtomicBool,
    eventfd: EventFd,
    inject_len: AtomicUsize,
    shutdown: AtomicBool,
}

impl WorkerRemote {
    fn new() -> Arc<WorkerRemote> {
        let inject_len = AtomicUsize::new(0);
        inject_len.store(0, Ordering::SeqCst);
        Arc::new(WorkerRemote {
            inbox: Mutex::new(VecDeque::new()),
            inbox_pending: flag(false),
            parked: flag(false),
            notified: flag(false),
            eventfd: EventFd::new(),
            inject_len,
            shutdown: flag(false),
        })
    }

    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            self.eventfd.write();
        }
    }

    /// `Shared::schedule_remote` for a task homed on this worker.
    fn schedule_remote(&self, task: u32) {
        self.inbox.lock().unwrap().push_back(task);
        sc_store(&self.inbox_pending, true);
        self.unpark_if_parked();
    }
}

/// `Worker::run` until it has run `tasks` tasks.
fn run_worker(remote: &WorkerRemote, tasks: usize) {
    let mut pinned: VecDeque<u32> = VecDeque::new();
    let mut ran = 0;
    while ran < tasks {
        // `next_task`: local queue, then `pop_remote` (the injection queue
        // stays empty here).
        let task = pinned.pop_front().or_else(|| {
            if remote.inbox_pending.load(Ordering::Acquire) {
                sc_store(&remote.inbox_pending, false);
                let mut inbox = remote.inbox.lock().unwrap();
                pinned.extend(inbox.drain(..));
                return pinned.pop_front();
            }
            None
        });
        match task {
            Some(_) => ran += 1,
            None => {
                // `park`.
                sc_store(&remote.parked, true);
                let has_work = remote.notified.swap(false, Ordering::SeqCst)
                    || remote.inbox_pending.load(Ordering::SeqCst)
                    || remote.inject_len.load(Ordering::SeqCst) > 0
                    || remote.shutdown.load(Ordering::SeqCst)
                    || !pinned.is_empty();
                remote.eventfd.poll(!has_work);
                sc_store(&remote.parked, false);
                sc_store(&remote.notified, false);
            }
        }
    }
}

/// Two threads each send a task to a worker's inbox.
#[test]
fn worker_inbox_wakes_reach_a_parked_worker() {
    model(|| {
        let remote = WorkerRemote::new();
        let pushers: Vec<_> = (0..2)
            .map(|i| {
                let remote = remote.clone();
                thread::spawn(move || remote.schedule_remote(i))
            })
            .collect();
        run_worker(&remote, 2);
        for p in pushers {
            p.join().unwrap();
        }
    });
}

// ── Fostering ────────────────────────────────────────────────────────────────
//
// Copied from `reactor/foster.rs` (`adopt`, `release_if_idle`) and
// `reactor/mod.rs` (`DrivingGuard::drop`, `Reactor::ensure_driven`,
// `Reactor::deregister_with_token`). The invariant: once everyone is done,
// a reactor is fostered exactly when it still has sources (its thread no
// longer drives it). A fostered reactor without sources would keep a dead
// thread's descriptors open for good; a live source on an unfostered one
// would never be woken.

struct FosterModel {
    /// Registered sources (the registry's lock-free count).
    count: AtomicUsize,
    /// The foster's slot for this reactor.
    slot: Mutex<bool>,
    fostered: AtomicBool,
}

impl FosterModel {
    fn new(count: usize, fostered: bool) -> Arc<FosterModel> {
        let m = Arc::new(FosterModel {
            count: AtomicUsize::new(count),
            slot: Mutex::new(fostered),
            fostered: flag(fostered),
        });
        let _ = m.count.swap(count, Ordering::SeqCst);
        m
    }

    fn adopt(&self) {
        {
            let mut slot = self.slot.lock().unwrap();
            if *slot {
                return;
            }
            *slot = true;
            sc_store(&self.fostered, true);
        }
        self.release_if_idle();
    }

    fn release_if_idle(&self) {
        let mut slot = self.slot.lock().unwrap();
        if *slot && self.count.load(Ordering::SeqCst) == 0 {
            *slot = false;
            sc_store(&self.fostered, false);
        }
    }

    /// `deregister_with_token` of the last source.
    fn drop_source(&self) {
        let _ = self.count.fetch_sub(1, Ordering::SeqCst);
        if self.count.load(Ordering::SeqCst) == 0 && self.fostered.load(Ordering::SeqCst) {
            self.release_if_idle();
        }
    }

    fn check(&self) {
        let fostered = *self.slot.lock().unwrap();
        let sources = self.count.load(Ordering::SeqCst) > 0;
        assert_eq!(fostered, sources, "fostered must mean: has sources");
    }
}

#[test]
fn foster_stopping_the_driver_races_the_last_source_drop() {
    model(|| {
        let m = FosterModel::new(1, false);
        let owner = {
            let m = m.clone();
            thread::spawn(move || {
                // DrivingGuard::drop: sources remain, so foster.
                if m.count.load(Ordering::SeqCst) > 0 {
                    m.adopt();
                }
            })
        };
        m.drop_source();
        owner.join().unwrap();
        m.check();
    });
}

#[test]
fn foster_a_new_source_races_the_last_source_drop() {
    model(|| {
        // Fostered, with one source about to be dropped elsewhere while
        // the (non-driving) owner thread registers another.
        let m = FosterModel::new(1, true);
        let owner = {
            let m = m.clone();
            thread::spawn(move || {
                let _ = m.count.fetch_add(1, Ordering::SeqCst);
                // ensure_driven on a thread that does not drive.
                m.adopt();
            })
        };
        m.drop_source();
        owner.join().unwrap();
        m.check();
    });
}

// ── Settling a source's registration ─────────────────────────────────────────
//
// Copied from `reactor/source.rs` (`IoSource::reg`, `settle`): the first
// poll, from any thread, may rewrite the registration once; two halves of
// a split stream may make their first polls at the same time. Loom's
// `UnsafeCell` reports any read that races the rewrite.

struct SettleModel {
    reg: loom::cell::UnsafeCell<usize>,
    state: loom::sync::atomic::AtomicU8,
}

// SAFETY: the model's accesses to `reg` follow the protocol under test;
// loom checks them.
unsafe impl Sync for SettleModel {}

const FRESH: u8 = 0;
const MOVING: u8 = 1;
const SETTLED: u8 = 2;

impl SettleModel {
    /// Returns the settled registration; `here` is what a first poll on
    /// this thread moves it to.
    fn reg(&self, here: usize) -> usize {
        if self.state.load(Ordering::Acquire) == SETTLED {
            // SAFETY: SETTLED: no one writes `reg` any more.
            return self.reg.with(|r| unsafe { *r });
        }
        loop {
            match self
                .state
                .compare_exchange(FRESH, MOVING, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => {
                    // SAFETY: winning FRESH -> MOVING grants the only access.
                    self.reg.with_mut(|r| unsafe { *r = here });
                    self.state.store(SETTLED, Ordering::Release);
                    return here;
                }
                // SAFETY: SETTLED: no one writes `reg` any more.
                Err(SETTLED) => return self.reg.with(|r| unsafe { *r }),
                Err(_) => thread::yield_now(),
            }
        }
    }
}

#[test]
fn a_registration_settles_once_and_every_poller_sees_it() {
    model(|| {
        let m = Arc::new(SettleModel {
            reg: loom::cell::UnsafeCell::new(0),
            state: loom::sync::atomic::AtomicU8::new(FRESH),
        });
        let other = {
            let m = m.clone();
            thread::spawn(move || m.reg(2))
        };
        let mine = m.reg(1);
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs, "both halves use one registration");
        assert_eq!(m.reg(3), mine, "it never moves again");
    });
}
