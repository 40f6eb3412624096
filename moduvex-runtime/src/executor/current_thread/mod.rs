//! The current-thread scheduler behind [`block_on`](crate::block_on) and
//! `Flavor::CurrentThread` runtimes.
//!
//! # Per runtime, per call
//!
//! [`Shared`] is the runtime: its `Send` tasks, the queue that other
//! threads wake them into, and the **core** — the run queue of the thread
//! that drives the runtime now. One `block_on` call at a time holds the
//! core and runs the tasks, the reactor and the timers; a second thread
//! calling `block_on` on the same runtime polls only its own future (with
//! its own waker) and waits to take the core over when the driver's call
//! returns, as tokio's current-thread runtime does. Each call has its own
//! [`Core`] (its future's waker, its thread's parker); what outlives a call
//! lives in `Shared`.
//!
//! Local tasks (`spawn_local`) are not part of the core: they belong to
//! their thread's [`local::LocalSet`] and run only while that thread
//! drives (see `local.rs`).
//!
//! # Wake-ups
//!
//! Wakes on the driving thread push onto the core's queue; wakes from other
//! threads push onto the locked remote queue and, if the driver is parked
//! in its reactor, write its eventfd (the parking handshake of `wake.rs`).
//! The driver looks at the remote queue before its own every
//! `global_queue_interval` ticks, so a task that keeps itself runnable cannot
//! starve tasks woken from other threads. A parked, idle thread makes no
//! syscalls until something wakes it.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::owned::OwnedTasks;
use super::task::{new_task, thread_token, JoinHandle, Notified, Schedule, Task};
use super::{Every, SchedConfig};
use crate::reactor::Unparker;
use crate::time::shard::Shard;

mod core;
pub(crate) mod local;
mod wake;

pub(crate) use self::core::{block_on, block_on_in, with_current_timers, Core, OnExit};
use local::LocalShared;
use wake::BlockOnWaker;

/// The scheduler handle stored in each `Send` task.
pub(crate) type Handle = Arc<Shared>;

/// The run queue of the driving thread.
type RunQueue = VecDeque<Notified<Handle>>;

struct Remote {
    tasks: VecDeque<Notified<Handle>>,
    closed: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No task code runs under these locks; recover from poisoning anyway.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared with wakers and handles on any thread.
pub(crate) struct Shared {
    owned: OwnedTasks<Handle>,
    remote: Mutex<Remote>,
    /// Set when `remote` may be non-empty; lets the run loop skip the lock.
    remote_pending: AtomicBool,
    /// The driver is in (or about to enter) a blocking reactor poll.
    parked: AtomicBool,
    /// Interrupts the reactor of the driving thread.
    unparker: Mutex<Option<Unparker>>,
    /// The thread token of the last driver (skips re-pointing `unparker`
    /// when the same thread drives again).
    driver_thread: AtomicU64,
    /// The core's run queue while no `block_on` call holds it; `None` while
    /// one does.
    core: Mutex<Option<RunQueue>>,
    /// `block_on` calls waiting to take the core over.
    waiters: Mutex<Vec<Arc<BlockOnWaker>>>,
    /// A task was spawned since the last shutdown: shutdown has work.
    spawned: AtomicBool,
    /// Shutdown closed the queues; a reused scheduler must reopen them.
    closed: AtomicBool,
    /// Every thread's local set of this runtime, to close at shutdown.
    local_sets: Mutex<Vec<Weak<LocalShared>>>,
    /// The runtime's timers: turned by whichever call holds the core, and
    /// kept between two calls (see the `time` module docs).
    timers: Arc<Shard>,
    /// Tasks run between two non-blocking reactor polls when there is
    /// always work (so I/O is never starved by busy tasks), ticks between
    /// two looks at the remote queue before the local one, park hooks.
    config: SchedConfig,
    /// `config.global_queue_interval`, for the per-poll check.
    pub(super) remote_every: Every,
}

impl Shared {
    /// A scheduler nobody drives yet.
    pub(crate) fn new() -> Handle {
        Shared::with_config(SchedConfig::default())
    }

    /// A scheduler nobody drives yet, with the runtime's tunables.
    pub(crate) fn with_config(config: SchedConfig) -> Handle {
        assert!(config.event_interval > 0 && config.global_queue_interval > 0);
        Arc::new(Shared {
            owned: OwnedTasks::new(),
            remote: Mutex::new(Remote {
                tasks: VecDeque::new(),
                closed: false,
            }),
            remote_pending: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            unparker: Mutex::new(None),
            driver_thread: AtomicU64::new(0),
            core: Mutex::new(Some(VecDeque::new())),
            waiters: Mutex::new(Vec::new()),
            spawned: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            local_sets: Mutex::new(Vec::new()),
            timers: Arc::new(Shard::new()),
            remote_every: Every::new(config.global_queue_interval),
            config,
        })
    }

    /// The runtime's timers, and so its clock.
    pub(crate) fn timers(&self) -> &Arc<Shard> {
        &self.timers
    }

    /// Takes the core if no call holds it, pointing cross-thread wake-ups
    /// at this thread's reactor.
    fn take_core(&self, unparker: &Unparker) -> Option<RunQueue> {
        let queue = lock(&self.core).take()?;
        let me = thread_token();
        if self.driver_thread.swap(me, Ordering::Relaxed) != me {
            *lock(&self.unparker) = Some(unparker.clone());
        }
        Some(queue)
    }

    /// Gives the core back and wakes one waiting `block_on` call to take
    /// it over (woken after every lock is released).
    fn release_core(&self, queue: RunQueue) {
        *lock(&self.core) = Some(queue);
        self.wake_next_waiter();
    }

    fn wake_next_waiter(&self) {
        let next = {
            let mut waiters = lock(&self.waiters);
            (!waiters.is_empty()).then(|| waiters.remove(0))
        };
        if let Some(waiter) = next {
            std::task::Wake::wake(waiter);
        }
    }

    /// A call that waited for the core leaves without it (its future
    /// finished first). The core may have been handed to it just now: if
    /// the core is free, hand it to the next waiter instead. (The call
    /// leaves the waiters before it looks at the core, and a release stores
    /// the core before it picks a waiter, so one of the two sees the other.)
    fn leave_waiting(&self, waiter: &Arc<BlockOnWaker>) {
        self.remove_waiter(waiter);
        if lock(&self.core).is_some() {
            self.wake_next_waiter();
        }
    }

    /// Registers a call waiting for the core (once).
    fn add_waiter(&self, waiter: &Arc<BlockOnWaker>) {
        let mut waiters = lock(&self.waiters);
        if !waiters.iter().any(|w| Arc::ptr_eq(w, waiter)) {
            waiters.push(waiter.clone());
        }
    }

    fn remove_waiter(&self, waiter: &Arc<BlockOnWaker>) {
        let removed = {
            let mut waiters = lock(&self.waiters);
            let pos = waiters.iter().position(|w| Arc::ptr_eq(w, waiter));
            pos.map(|p| waiters.remove(p))
        };
        drop(removed);
    }

    /// Wakes the driver if it is parked (call after publishing work).
    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            if let Some(u) = lock(&self.unparker).as_ref() {
                u.unpark();
            }
        }
    }

    fn schedule_remote(&self, task: Notified<Handle>) {
        let mut remote = lock(&self.remote);
        if remote.closed {
            drop(remote);
            // The runtime is gone; the task was cancelled at shutdown.
            drop(task);
            return;
        }
        remote.tasks.push_back(task);
        drop(remote);
        self.remote_pending.store(true, Ordering::SeqCst);
        self.unpark_if_parked();
    }

    /// Spawns a `Send` future from any thread.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawned.store(true, Ordering::Relaxed);
        let (task, notified, join) = new_task(future, self.clone());
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule(notified);
        }
        join
    }

    /// Cancels every `Send` task and refuses new ones; closes every
    /// thread's local set (this thread's is cancelled now, the others' by
    /// their own threads, see `local.rs`).
    pub(crate) fn shutdown(self: &Arc<Self>) {
        if !self.spawned.load(Ordering::SeqCst) && Arc::strong_count(self) == 1 {
            // No task ever existed and no `Handle` can spawn one later: no
            // task waker can reach the queues; nothing to cancel or close.
            return;
        }
        self.closed.store(true, Ordering::SeqCst);
        self.owned.close_and_shutdown_all();
        let stash = lock(&self.core).as_mut().map(std::mem::take);
        drop(stash);
        let remote = {
            let mut remote = lock(&self.remote);
            remote.closed = true;
            std::mem::take(&mut remote.tasks)
        };
        drop(remote);
        let sets = std::mem::take(&mut *lock(&self.local_sets));
        for set in sets.iter().filter_map(Weak::upgrade) {
            set.close();
        }
        local::shutdown_thread_set(self);
    }

    /// Reuses a scheduler after a shutdown (nothing else references it).
    fn reopen(&self) {
        self.spawned.store(false, Ordering::Relaxed);
        if self.closed.swap(false, Ordering::Relaxed) {
            self.owned.reopen();
            lock(&self.remote).closed = false;
        }
        self.remote_pending.store(false, Ordering::Relaxed);
    }

    fn register_local_set(&self, set: Weak<LocalShared>) {
        let mut sets = lock(&self.local_sets);
        sets.retain(|s| s.strong_count() > 0);
        sets.push(set);
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified<Handle>) {
        if let Some(core) = Core::current_for(self) {
            if let Err(task) = core.push_local(task) {
                self.schedule_remote(task);
            }
            return;
        }
        self.schedule_remote(task);
    }

    fn release(&self, task: &Task<Handle>) -> Option<Task<Handle>> {
        self.owned.remove(task)
    }
}
