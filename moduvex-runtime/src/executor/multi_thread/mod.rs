//! The multi-threaded scheduler: N workers, each with its own reactor,
//! timer wheel and run queues, in one of two modes.
//!
//! * **Thread-per-core**: every task has a home worker and only ever runs
//!   there. `spawn` on a worker keeps the task on that worker; `spawn` from
//!   outside picks workers round-robin. Wakes from other threads go to the
//!   home worker's inbox.
//! * **Work-stealing**: `Send` tasks have no home. A worker runs its LIFO
//!   slot (the task it just woke, for message-passing locality), then its
//!   local queue, then — every `global_queue_interval` ticks first, for
//!   fairness — the global injection queue; an idle worker steals half of
//!   another worker's queue. `spawn_local` tasks are pinned to their worker
//!   in both modes.
//!
//! # I/O and timers live where their task first waits on them
//!
//! A socket registers with the reactor of the thread that creates it, and
//! its first poll moves it to the reactor of the worker running its task
//! (so a connection accepted on one worker and stolen by another is driven
//! by the thief); a timer is filed on the timer shard of the worker that
//! polls it (moving there if it was filed elsewhere). That worker delivers
//! their events: it polls its reactor and turns its shard whenever it
//! parks, and every `event_interval` ticks while busy; a wake-up reaches
//! the task wherever it runs (wakers are `Send`).
//!
//! When that worker cannot — a task blocks its thread, or runs long
//! between two yields — a parked sibling stands in: while any worker is
//! busy, one parked worker naps (blocks at most 1 ms, or until a busy
//! sibling's earliest timer), turns each busy sibling's shard and polls
//! the reactor of each busy sibling that has stopped polling it. So while
//! any worker of the runtime is idle, no timer or socket event waits for
//! another worker to be free; when every worker is parked, nobody naps
//! (see `watch.rs`). This holds in both modes: in thread-per-core mode the
//! tasks still run only on their home worker, but their wake-ups are
//! delivered on time. A socket whose reactor no thread drives any more
//! (made outside any runtime, in a `block_on` that has returned, on a
//! thread that has exited) is delivered by the foster thread instead (see
//! `reactor/foster.rs`), which also turns the timers polled outside any
//! runtime. The `time` module docs hold the whole table.
//!
//! A work-stealing worker that enters `task::block_in_place` does not wait
//! for a sibling: it hands its queued tasks to the injection queue and a
//! relief thread runs tasks and stands in for its timers and reactor until
//! it is back (see `relief.rs`).
//!
//! # Parking
//!
//! A worker with nothing to do announces `parked`, re-checks its inbox,
//! the injection queue and its notification flag, and only then blocks in
//! its reactor. Publishers push first and then swap `parked` off, writing
//! the worker's eventfd if it was on (the same handshake as the
//! current-thread scheduler), so no wake-up is lost.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crossbeam_deque::{Stealer, Worker as Deque};

use super::context::{self, Current};
use super::owned::OwnedTasks;
use super::task::{new_local_task, new_task, JoinHandle, Notified, Schedule, Task};
use super::{Every, Hook, SchedConfig};
use crate::reactor::Unparker;

mod block_on;
mod idle;
pub(crate) mod relief;
mod watch;
mod worker;

pub(crate) use block_on::block_on;
pub(crate) use worker::{run_worker, Worker};

use idle::Idle;
use relief::Relievers;
use watch::Watch;

/// Local queue length past which half the queue moves to the injection
/// queue (the local queue is bounded in practice by this).
const LOCAL_QUEUE_CAP: usize = 256;

/// How tasks are placed on workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Tasks stay on the worker that runs them.
    ThreadPerCore,
    /// Idle workers steal.
    WorkStealing,
}

const NO_HOME: u32 = u32::MAX;

/// The scheduler handle stored in each task: the runtime, and the task's
/// home worker (`NO_HOME` for stealable tasks).
#[derive(Clone)]
pub(crate) struct Handle {
    pub(crate) shared: Arc<Shared>,
    home: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No task code runs under these locks; recover from poisoning anyway.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Queue {
    tasks: VecDeque<Notified<Handle>>,
    closed: bool,
}

impl Queue {
    fn new() -> Mutex<Queue> {
        Mutex::new(Queue {
            tasks: VecDeque::new(),
            closed: false,
        })
    }
}

/// What other threads may touch of one worker.
pub(crate) struct Remote {
    /// Tasks homed here, woken or spawned from other threads.
    inbox: Mutex<Queue>,
    inbox_pending: AtomicBool,
    /// The worker is in (or about to enter) a blocking reactor poll.
    parked: AtomicBool,
    /// A notifier chose this worker to search for new work.
    notified: AtomicBool,
    /// Set by the worker thread when it starts.
    unparker: OnceLock<Unparker>,
    /// Tasks homed here; shut down by this worker on its own thread.
    owned: OwnedTasks<Handle>,
    /// Steals from this worker's local queue (work-stealing mode).
    stealer: Option<Stealer<Notified<Handle>>>,
}

impl Remote {
    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            if let Some(u) = self.unparker.get() {
                u.unpark();
            }
        }
    }
}

/// The state of one multi-threaded runtime shared by its workers, its
/// handles and its tasks.
pub(crate) struct Shared {
    mode: Mode,
    remotes: Box<[Remote]>,
    /// Stealable tasks from outside the workers (and local overflow).
    inject: Mutex<Queue>,
    inject_len: AtomicUsize,
    /// Stealable tasks (work-stealing mode); pinned ones live in `Remote::owned`.
    owned: OwnedTasks<Handle>,
    idle: Idle,
    /// The workers' timer shards and reactors, and who stands in for a
    /// busy worker (see `watch.rs`).
    watch: Watch,
    shutdown: AtomicBool,
    next_worker: AtomicUsize,
    /// Relief threads of workers inside `block_in_place` (see `relief.rs`).
    relievers: Relievers,
    /// Ticks between two non-blocking reactor polls of a busy worker.
    event_interval: Every,
    /// Ticks between two looks at remote work before local work.
    global_queue_interval: Every,
    on_park: Option<Hook>,
    on_unpark: Option<Hook>,
}

/// The part of a worker that moves to its thread.
pub(crate) struct WorkerSeed {
    index: usize,
    deque: Option<Deque<Notified<Handle>>>,
}

impl Shared {
    /// A scheduler for `workers` workers; returns one seed per worker
    /// thread to pass to [`run_worker`].
    pub(crate) fn new(
        mode: Mode,
        workers: usize,
        config: SchedConfig,
    ) -> (Arc<Shared>, Vec<WorkerSeed>) {
        assert!(workers > 0 && workers < NO_HOME as usize);
        assert!(config.event_interval > 0 && config.global_queue_interval > 0);
        let mut seeds = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for index in 0..workers {
            let deque = (mode == Mode::WorkStealing).then(Deque::new_fifo);
            remotes.push(Remote {
                inbox: Queue::new(),
                inbox_pending: AtomicBool::new(false),
                parked: AtomicBool::new(false),
                notified: AtomicBool::new(false),
                unparker: OnceLock::new(),
                owned: OwnedTasks::new(),
                stealer: deque.as_ref().map(Deque::stealer),
            });
            seeds.push(WorkerSeed { index, deque });
        }
        let shared = Arc::new(Shared {
            mode,
            remotes: remotes.into_boxed_slice(),
            inject: Queue::new(),
            inject_len: AtomicUsize::new(0),
            // Spawned on one worker, completed on another: shard the list.
            owned: OwnedTasks::with_shards(workers * 4),
            idle: Idle::new(workers),
            watch: Watch::new(workers),
            shutdown: AtomicBool::new(false),
            next_worker: AtomicUsize::new(0),
            relievers: Relievers::new(),
            event_interval: Every::new(config.event_interval),
            global_queue_interval: Every::new(config.global_queue_interval),
            on_park: config.on_park,
            on_unpark: config.on_unpark,
        });
        (shared, seeds)
    }

    /// How tasks are placed on workers.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Number of workers.
    pub(crate) fn workers(&self) -> usize {
        self.remotes.len()
    }

    /// Whether the calling thread is one of this runtime's workers.
    pub(crate) fn is_current_worker(self: &Arc<Self>) -> bool {
        self.current_worker().is_some()
    }

    /// The worker of this runtime running on this thread, if any.
    fn current_worker(self: &Arc<Self>) -> Option<&Worker> {
        match context::current() {
            Current::Worker(w) => {
                // SAFETY: the context points to this thread's live worker.
                let w = unsafe { &*w };
                Arc::ptr_eq(&w.shared, self).then_some(w)
            }
            _ => None,
        }
    }

    /// Spawns a `Send` future: stealable in work-stealing mode, homed on
    /// the current (or a round-robin) worker in thread-per-core mode.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let home = match (self.mode, self.current_worker()) {
            (Mode::WorkStealing, _) => NO_HOME,
            (Mode::ThreadPerCore, Some(w)) => w.index() as u32,
            (Mode::ThreadPerCore, None) => {
                (self.next_worker.fetch_add(1, Ordering::Relaxed) % self.workers()) as u32
            }
        };
        // SAFETY: the future is `Send`, so any worker may poll and drop it.
        unsafe { self.spawn_with_home(future, home, false) }
    }

    /// Spawns a `Send` future homed on worker `index`.
    pub(crate) fn spawn_on<F>(self: &Arc<Self>, index: usize, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        assert!(index < self.workers());
        // SAFETY: the future is `Send`.
        unsafe { self.spawn_with_home(future, index as u32, false) }
    }

    /// # Safety
    /// If `F` is not `Send`, `home` must be the worker of the calling
    /// thread (the future is then only polled and dropped there) and
    /// `local` true (the task then records its thread, and refuses to be
    /// polled on any other).
    pub(crate) unsafe fn spawn_with_home<F>(
        self: &Arc<Self>,
        future: F,
        home: u32,
        local: bool,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = Handle {
            shared: self.clone(),
            home,
        };
        let owned = handle.owned();
        let (task, notified, join) = if local {
            new_local_task(future, handle.clone())
        } else {
            new_task(future, handle.clone())
        };
        if let Some(notified) = owned.bind(task, notified) {
            match self.current_worker() {
                Some(w) => w.push_spawned(notified, home),
                None => self.schedule_remote(notified, home),
            }
        }
        join
    }

    /// Queues a task from a thread that is not one of this runtime's
    /// workers (or for another worker).
    ///
    /// Once `task` is queued another thread may run and free it: `self`
    /// must be kept alive by the caller, not by the task (see
    /// `Handle::schedule`), and nothing of the task is touched after the
    /// push.
    fn schedule_remote(&self, task: Notified<Handle>, home: u32) {
        if home == NO_HOME {
            {
                let mut inject = lock(&self.inject);
                if inject.closed {
                    return;
                }
                inject.tasks.push_back(task);
                self.inject_len.fetch_add(1, Ordering::SeqCst);
            }
            self.notify_parked();
        } else {
            let remote = &self.remotes[home as usize];
            {
                let mut inbox = lock(&remote.inbox);
                if inbox.closed {
                    return;
                }
                inbox.tasks.push_back(task);
            }
            remote.inbox_pending.store(true, Ordering::SeqCst);
            remote.unpark_if_parked();
        }
    }

    /// Wakes one sleeping worker to look for stealable work, unless a
    /// worker is already searching.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            let remote = &self.remotes[index];
            remote.notified.store(true, Ordering::SeqCst);
            remote.unpark_if_parked();
        }
        self.relievers.notify();
    }

    /// Steals one task from any worker's local queue (a relief thread's
    /// search, see `relief.rs`).
    fn steal_one(&self) -> Option<Notified<Handle>> {
        for remote in self.remotes.iter() {
            let Some(stealer) = remote.stealer.as_ref() else {
                continue;
            };
            loop {
                match stealer.steal() {
                    crossbeam_deque::Steal::Success(t) => return Some(t),
                    crossbeam_deque::Steal::Empty => break,
                    crossbeam_deque::Steal::Retry => continue,
                }
            }
        }
        None
    }

    /// Queues stealable tasks of a worker that is leaving (dropped if the
    /// runtime is shutting down), and wakes a worker for them.
    fn inject_all(&self, tasks: Vec<Notified<Handle>>) {
        let refused = {
            let mut inject = lock(&self.inject);
            if inject.closed {
                tasks
            } else {
                self.inject_len.fetch_add(tasks.len(), Ordering::SeqCst);
                inject.tasks.extend(tasks);
                Vec::new()
            }
        };
        if refused.is_empty() {
            self.notify_parked();
        }
        drop(refused);
    }

    /// Moves up to `max` injected tasks out (one lock). If tasks remain
    /// behind the batch, wakes another worker for them: their publishers
    /// may have skipped the wake-up because this worker was searching.
    fn pop_inject(
        &self,
        max: usize,
        mut sink: impl FnMut(Notified<Handle>),
    ) -> Option<Notified<Handle>> {
        if self.inject_len.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let (first, more) = {
            let mut inject = lock(&self.inject);
            let first = inject.tasks.pop_front()?;
            let mut taken = 1;
            while taken < max {
                match inject.tasks.pop_front() {
                    Some(t) => sink(t),
                    None => break,
                }
                taken += 1;
            }
            self.inject_len.fetch_sub(taken, Ordering::SeqCst);
            (first, !inject.tasks.is_empty())
        };
        if more {
            self.notify_parked();
        }
        Some(first)
    }

    /// Whether a worker other than `index` has tasks in its local queue
    /// (work-stealing mode).
    fn siblings_have_work(&self, index: usize) -> bool {
        self.remotes
            .iter()
            .enumerate()
            .any(|(i, r)| i != index && r.stealer.as_ref().is_some_and(|s| !s.is_empty()))
    }

    /// Whether any stealable task waits: in the injection queue or in a
    /// worker's local queue. The last searcher's re-check before it parks
    /// (see `idle.rs`); its own inbox it checks in the park itself.
    fn work_pending(&self) -> bool {
        // After the caller's drop of its searching count (see `idle.rs`).
        std::sync::atomic::fence(Ordering::SeqCst);
        self.inject_len.load(Ordering::SeqCst) > 0 || self.siblings_have_work(usize::MAX)
    }

    /// Starts shutdown: workers cancel their tasks and exit.
    pub(crate) fn begin_shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        let injected = {
            let mut inject = lock(&self.inject);
            inject.closed = true;
            self.inject_len.store(0, Ordering::SeqCst);
            std::mem::take(&mut inject.tasks)
        };
        drop(injected);
        for remote in self.remotes.iter() {
            remote.parked.store(false, Ordering::SeqCst);
            if let Some(u) = remote.unparker.get() {
                u.unpark();
            }
        }
        self.relievers.wake_all();
    }

    /// Cancels the stealable tasks left after the workers stopped.
    pub(crate) fn finish_shutdown(&self) {
        self.owned.close_and_shutdown_all();
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

impl Handle {
    fn owned(&self) -> &OwnedTasks<Handle> {
        if self.home == NO_HOME {
            &self.shared.owned
        } else {
            &self.shared.remotes[self.home as usize].owned
        }
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified<Handle>) {
        match self.shared.current_worker() {
            // The worker's own `Arc<Shared>` outlives the push.
            Some(w) => w.push_woken(task, self.home),
            None => {
                // `self` lives in the task's allocation: once the task is
                // queued, a worker may run, complete and free it (and with
                // it maybe the last other `Arc<Shared>`) while
                // `schedule_remote` still wakes a worker. Keep the runtime
                // alive through our own reference, never through the task.
                let (shared, home) = (self.shared.clone(), self.home);
                shared.schedule_remote(task, home);
            }
        }
    }

    fn release(&self, task: &Task<Handle>) -> Option<Task<Handle>> {
        self.owned().remove(task)
    }
}
