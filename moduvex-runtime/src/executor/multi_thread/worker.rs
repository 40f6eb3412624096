//! One worker thread's loop: find a task, run it, poll I/O now and then,
//! park when there is nothing to do.
//!
//! However the loop ends — shutdown, or a panic unwinding out of it (a
//! foreign waker woken by the reactor or a timer) — the worker's [`Stop`]
//! guard settles it on its own thread: its homed tasks (`spawn_local`
//! ones among them) are cancelled there, its stealable tasks go to the
//! injection queue for the other workers, its inbox is closed and its
//! idle-protocol state released, so no task is lost and shutdown never
//! waits for it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Worker as Deque};

use super::{lock, Handle, Mode, Shared, WorkerSeed, LOCAL_QUEUE_CAP, NO_HOME};
use crate::coop;
use crate::executor::context::{self, Current};
use crate::executor::park::{self, Parker};
use crate::executor::task::Notified;
use crate::reactor::{with_reactor, DrivingGuard};
use crate::time::driver::{self as timers, OnLeave};

use super::watch::Lookout;

/// Polls of LIFO-slot tasks in a row before the slot yields to the queue
/// (two tasks pinging each other must not starve the rest).
const MAX_LIFO_STREAK: u8 = 3;

/// How long a worker that just ran work from another thread watches for
/// more before it parks. Parking and being woken through the eventfd costs
/// a syscall on each side and, on an idle machine, tens of microseconds of
/// wake-up latency; spinning for about that long first costs at most as
/// much CPU as the park it might avoid (the ski-rental bound), and turns a
/// cross-worker message exchange into plain memory traffic.
const SPIN: Duration = Duration::from_micros(20);

/// Owner-thread state of one worker.
pub(crate) struct Worker {
    pub(crate) shared: Arc<Shared>,
    index: usize,
    /// Stealable tasks (work-stealing mode).
    deque: Option<Deque<Notified<Handle>>>,
    /// Tasks homed on this worker.
    pinned: RefCell<VecDeque<Notified<Handle>>>,
    /// The task most recently woken by the running task.
    lifo: Cell<Option<Notified<Handle>>>,
    lifo_streak: Cell<u8>,
    /// Header of the task being polled (to tell a yield from a wake).
    running: Cell<Option<NonNull<()>>>,
    ticks: Cell<u32>,
    /// Counted as searching in the idle protocol: out of its own work and
    /// stealing or spinning, or woken by a notifier, and not yet settled
    /// (work-stealing mode).
    searching: Cell<bool>,
    /// On the idle protocol's sleepers list (between `Idle::sleep` and
    /// `Idle::wake`), so a worker unwinding out of its park can leave it.
    asleep: Cell<bool>,
    /// Ran a task that came from another thread since the last park or
    /// spin: more is likely to follow soon (see [`SPIN`]).
    ran_remote_work: Cell<bool>,
    parker: RefCell<Option<Parker>>,
    /// What this worker saw of busy siblings when it last stood in.
    lookout: Lookout,
}

impl Worker {
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    fn remote(&self) -> &super::Remote {
        &self.shared.remotes[self.index]
    }

    /// Queues a task spawned on this thread (FIFO, behind the others).
    pub(crate) fn push_spawned(&self, task: Notified<Handle>, home: u32) {
        match (home, self.deque.as_ref()) {
            (NO_HOME, Some(deque)) => self.push_stealable(deque, task),
            (h, _) if h as usize == self.index => self.pinned.borrow_mut().push_back(task),
            (h, _) => self.shared.schedule_remote(task, h),
        }
    }

    /// Queues a task woken on this thread: into the LIFO slot if the
    /// running task woke it (locality), at the back if it woke itself.
    pub(crate) fn push_woken(&self, task: Notified<Handle>, home: u32) {
        let is_yield = self.running.get() == Some(task.addr());
        match (home, self.deque.as_ref()) {
            (NO_HOME, Some(deque)) => {
                if is_yield || self.running.get().is_none() {
                    self.push_stealable(deque, task);
                } else if let Some(prev) = self.lifo.replace(Some(task)) {
                    self.push_stealable(deque, prev);
                }
            }
            (h, _) if h as usize == self.index => self.pinned.borrow_mut().push_back(task),
            (h, _) => self.shared.schedule_remote(task, h),
        }
    }

    fn push_stealable(&self, deque: &Deque<Notified<Handle>>, task: Notified<Handle>) {
        deque.push(task);
        if deque.len() > LOCAL_QUEUE_CAP {
            // Overflow: move half to the injection queue for others.
            let mut inject = lock(&self.shared.inject);
            if !inject.closed {
                for _ in 0..LOCAL_QUEUE_CAP / 2 {
                    match deque.pop() {
                        Some(t) => inject.tasks.push_back(t),
                        None => break,
                    }
                }
                self.shared
                    .inject_len
                    .store(inject.tasks.len(), Ordering::SeqCst);
            }
        }
        self.shared.notify_parked();
    }

    /// Tasks from other threads: the inbox (homed here), then the
    /// injection queue.
    fn pop_remote(&self) -> Option<Notified<Handle>> {
        let remote = self.remote();
        if remote.inbox_pending.load(Ordering::Acquire) {
            remote.inbox_pending.store(false, Ordering::SeqCst);
            let mut inbox = lock(&remote.inbox);
            let mut pinned = self.pinned.borrow_mut();
            pinned.extend(inbox.tasks.drain(..));
            if let Some(t) = pinned.pop_front() {
                self.ran_remote_work.set(true);
                return Some(t);
            }
        }
        let batch = match self.deque.as_ref() {
            Some(_) => (self.shared.inject_len.load(Ordering::Relaxed) / self.shared.workers())
                .clamp(1, 32),
            None => 1,
        };
        let task = self
            .shared
            .pop_inject(batch, |t| match self.deque.as_ref() {
                Some(deque) => deque.push(t),
                None => self.pinned.borrow_mut().push_back(t),
            });
        if task.is_some() {
            self.ran_remote_work.set(true);
        }
        task
    }

    fn next_task(&self) -> Option<Notified<Handle>> {
        if self.shared.global_queue_interval.divides(self.ticks.get()) {
            if let Some(t) = self.pop_remote() {
                return Some(t);
            }
        }
        if self.lifo_streak.get() < MAX_LIFO_STREAK {
            if let Some(t) = self.lifo.take() {
                self.lifo_streak.set(self.lifo_streak.get() + 1);
                return Some(t);
            }
        } else if let Some(t) = self.lifo.take() {
            // Streak over: the slot's task waits its turn in the queue.
            match self.deque.as_ref() {
                Some(deque) => deque.push(t),
                None => self.pinned.borrow_mut().push_back(t),
            }
        }
        self.lifo_streak.set(0);
        if let Some(t) = self.pinned.borrow_mut().pop_front() {
            return Some(t);
        }
        if let Some(t) = self.deque.as_ref().and_then(Deque::pop) {
            return Some(t);
        }
        self.pop_remote()
    }

    /// Steals half of another worker's queue (work-stealing mode).
    /// The worker counts as searching from here until it finds a task or
    /// parks (see `idle.rs`).
    fn steal(&self) -> Option<Notified<Handle>> {
        let deque = self.deque.as_ref()?;
        if !self.searching.replace(true) {
            self.shared.idle.begin_search();
        }
        let n = self.shared.workers();
        let start = self.ticks.get() as usize;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            let Some(stealer) = self.shared.remotes[victim].stealer.as_ref() else {
                continue;
            };
            loop {
                match stealer.steal_batch_and_pop(deque) {
                    Steal::Success(t) => return Some(t),
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        self.shared.pop_inject(16, |t| deque.push(t))
    }

    fn run_task(&self, task: Notified<Handle>) {
        if self.searching.replace(false) && self.shared.idle.found_work() {
            // The last searcher found work: there may be more for others.
            self.shared.notify_parked();
        }
        self.ticks.set(self.ticks.get().wrapping_add(1));
        self.running.set(Some(task.addr()));
        coop::with_budget(|| task.run());
        self.running.set(None);
        if self.shared.event_interval.divides(self.ticks.get()) {
            park::park(&self.parker, false, || {});
        }
    }

    fn has_local_work(&self) -> bool {
        let lifo = self.lifo.take();
        let has = lifo.is_some();
        self.lifo.set(lifo);
        has || !self.pinned.borrow().is_empty()
            || self.deque.as_ref().is_some_and(|d| !d.is_empty())
    }

    /// Whether another thread has queued work this worker may run: its
    /// inbox, the injection queue or (work-stealing mode) a sibling's
    /// local queue. Only loads and fences; no locks, no syscalls.
    fn work_visible(&self) -> bool {
        self.remote().inbox_pending.load(Ordering::Acquire)
            || self.shared.inject_len.load(Ordering::Acquire) > 0
            || self.shared.is_shutdown()
            || (self.deque.is_some() && self.shared.siblings_have_work(self.index))
    }

    /// Out of work right after running work from another thread: watch
    /// for more for up to [`SPIN`] before parking. Returns true if some
    /// appeared. The worker stays unparked meanwhile, so whoever queues
    /// work for it skips the eventfd write; in work-stealing mode it is
    /// still counted as searching (since [`Worker::steal`]), so a sibling
    /// pushing a task skips waking a sleeper, and it parks as a searcher
    /// (re-checking every queue if it is the last one).
    ///
    /// I/O readiness and timers are not watched here; they wait at most
    /// one spin, and a worker that only runs its own I/O never spins.
    fn spin_for_work(&self) -> bool {
        if !self.ran_remote_work.replace(false) {
            return false;
        }
        let deadline = Instant::now() + SPIN;
        loop {
            for _ in 0..32 {
                if self.work_visible() {
                    return true;
                }
                std::hint::spin_loop();
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
    }

    /// Whether there is work for this worker (the re-check after
    /// announcing `parked`; `notified` is consumed only if `take`).
    fn has_work_to_wake_for(&self, take: bool) -> bool {
        let remote = self.remote();
        let notified = if take {
            remote.notified.swap(false, Ordering::SeqCst)
        } else {
            remote.notified.load(Ordering::SeqCst)
        };
        notified
            || remote.inbox_pending.load(Ordering::SeqCst)
            || self.shared.inject_len.load(Ordering::SeqCst) > 0
            || self.shared.is_shutdown()
            || self.has_local_work()
    }

    /// Blocks in the reactor until I/O, a timer or a notification. While a
    /// sibling is busy and no other worker naps, it naps instead, standing
    /// in for the busy siblings on each wake-up (see `watch.rs`), until
    /// work arrives or no sibling is busy.
    fn park(&self) {
        if let Some(hook) = &self.shared.on_park {
            hook();
        }
        self.park_inner();
        if let Some(hook) = &self.shared.on_unpark {
            hook();
        }
    }

    fn park_inner(&self) {
        let stealing = self.shared.mode == Mode::WorkStealing;
        if stealing {
            // Idle protocol (see `idle.rs`): the last searcher re-checks.
            let last = (self.shared.idle).sleep(self.index, self.searching.replace(false));
            self.asleep.set(true);
            if last && self.shared.work_pending() {
                self.shared.notify_parked();
            }
        }
        let remote = self.remote();
        let watch = &self.shared.watch;
        watch.election.enter(self.index);
        loop {
            remote.parked.store(true, Ordering::SeqCst);
            // Re-check after announcing (see the module docs).
            let has_work = self.has_work_to_wake_for(true);
            let nap = !has_work && watch.election.should_nap(self.index);
            let cap = nap.then(|| watch.nap(self.index));
            park::park_capped(&self.parker, !has_work, cap, || {
                remote.parked.store(false, Ordering::SeqCst)
            });
            if nap {
                watch.stand_in(self.index, &self.lookout);
            }
            if has_work || !watch.election.is_napper(self.index) || self.has_work_to_wake_for(false)
            {
                break;
            }
        }
        watch.leave(self.index);
        remote.notified.store(false, Ordering::SeqCst);
        if stealing {
            self.searching.set(self.shared.idle.wake(self.index));
            self.asleep.set(false);
        }
        self.ticks.set(0);
    }

    /// Entering `block_in_place`: moves the LIFO slot and the local queue
    /// to the injection queue, waking a worker (or relief thread) for
    /// them, so no stealable task waits for this thread (see `relief.rs`).
    pub(crate) fn hand_off(&self) {
        let mut tasks = Vec::new();
        tasks.extend(self.lifo.take());
        self.lifo_streak.set(0);
        if let Some(deque) = self.deque.as_ref() {
            tasks.extend(std::iter::from_fn(|| deque.pop()));
        }
        if !tasks.is_empty() {
            self.shared.inject_all(tasks);
        }
    }

    /// Runs until shutdown; [`Stop`] settles the worker afterwards.
    fn run(&self) {
        while !self.shared.is_shutdown() {
            if let Some(task) = self.next_task().or_else(|| self.steal()) {
                self.run_task(task);
            } else if !self.spin_for_work() {
                self.park();
            }
        }
    }

    /// Leaves the runtime: releases this worker's part of the idle
    /// protocol, cancels the tasks homed here (on this thread, so
    /// `spawn_local` futures are dropped where they ran), closes the inbox
    /// and hands the stealable tasks to the injection queue, where the
    /// other workers run them (or, once the runtime shuts down, where
    /// they are dropped).
    fn stop(&self) {
        let remote = self.remote();
        remote.parked.store(false, Ordering::SeqCst);
        if self.asleep.replace(false) {
            // Unwound out of a park: leave the sleepers list (a notifier
            // that already took us off counted us as searching).
            self.searching.set(self.shared.idle.wake(self.index));
        }
        if self.searching.replace(false) && self.shared.idle.found_work() {
            // The last searcher leaves, maybe with a notification meant for
            // it: pass it on, as a searcher going to sleep would.
            if self.shared.work_pending() {
                self.shared.notify_parked();
            }
        }
        remote.owned.close_and_shutdown_all();
        let inbox = {
            let mut inbox = lock(&remote.inbox);
            inbox.closed = true;
            std::mem::take(&mut inbox.tasks)
        };
        drop(inbox);
        loop {
            let task = self.pinned.borrow_mut().pop_front();
            match task {
                Some(t) => drop(t),
                None => break,
            }
        }
        // Dropping the tasks above may have spawned or woken more: drain
        // until the local queues stay empty.
        let mut stealable = Vec::new();
        loop {
            stealable.extend(self.lifo.take());
            if let Some(deque) = self.deque.as_ref() {
                stealable.extend(std::iter::from_fn(|| deque.pop()));
            }
            if stealable.is_empty() {
                break;
            }
            self.shared.inject_all(std::mem::take(&mut stealable));
        }
    }
}

/// Settles its worker (see [`Worker::stop`]) when the worker loop ends,
/// by returning or by unwinding.
struct Stop<'a>(&'a Worker);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A second panic here would abort the process: contain it and
            // let the first one go on unwinding.
            let _ = catch_unwind(AssertUnwindSafe(|| self.0.stop()));
        } else {
            self.0.stop();
        }
    }
}

/// Runs worker `seed.index` of `shared` on the calling thread until the
/// runtime shuts down.
pub(crate) fn run_worker(shared: Arc<Shared>, seed: WorkerSeed, event_capacity: usize) {
    let WorkerSeed { index, deque } = seed;
    let unparker = with_reactor(|r| r.unparker());
    let _ = shared.remotes[index].unparker.set(unparker.clone());
    with_reactor(|r| shared.watch.start(index, r));
    let workers = shared.workers();
    let worker = Worker {
        shared,
        index,
        deque,
        pinned: RefCell::new(VecDeque::new()),
        lifo: Cell::new(None),
        lifo_streak: Cell::new(0),
        running: Cell::new(None),
        ticks: Cell::new(0),
        searching: Cell::new(false),
        asleep: Cell::new(false),
        ran_remote_work: Cell::new(false),
        parker: RefCell::new(Some(Parker::with_capacity(event_capacity))),
        lookout: Lookout::new(workers),
    };
    context::assert_not_in_runtime();
    let _driving = DrivingGuard::enter();
    let _timers = timers::enter(
        worker.shared.watch.timers(index).clone(),
        unparker,
        OnLeave::Keep,
    );
    let _restore = context::SchedulerGuard::enter(Current::Worker(&worker));
    // Dropped before `_restore`: the worker settles as the thread's
    // scheduler.
    let _stop = Stop(&worker);
    worker.run();
}
