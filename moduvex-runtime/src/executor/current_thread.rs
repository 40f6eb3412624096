//! The current-thread scheduler behind [`block_on`](crate::block_on) and
//! `Flavor::CurrentThread` runtimes.
//!
//! One thread runs everything: the `block_on` future, every spawned task,
//! and the reactor. Wakes from this thread push onto a local queue; wakes
//! from other threads push onto a locked remote queue and, if the thread is
//! parked in `epoll_wait`, write its eventfd. A parked, idle thread makes no
//! syscalls until something wakes it.
//!
//! # The parking handshake
//!
//! Before blocking, the thread sets `parked` and then re-checks the remote
//! queue and the main future's wake flag. A waker first publishes its work
//! (queue push or flag), then swaps `parked` to false and writes the
//! eventfd if it was set. With sequentially consistent accesses either the
//! thread sees the work, or the waker sees `parked` and wakes it: no wake-up
//! is lost.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use super::context::{self, Current};
use super::owned::OwnedTasks;
use super::park::{self, Parker};
use super::task::{new_task, JoinHandle, Notified, Schedule, Task};
use crate::coop;
use crate::reactor::{with_reactor, DrivingGuard, Unparker};
use crate::time::driver::{self as timers, OnLeave};
use crate::time::shard::Shard;

/// Tasks run between two non-blocking reactor polls when there is always
/// work (so I/O is never starved by busy tasks).
const EVENT_INTERVAL: u32 = 61;

/// The scheduler handle stored in each task.
pub(crate) type Handle = Arc<Shared>;

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
    /// The thread is in (or about to enter) a blocking reactor poll.
    parked: AtomicBool,
    /// The `block_on` future was woken and must be polled.
    main_woken: AtomicBool,
    /// A task was spawned since the last shutdown: shutdown has work.
    spawned: AtomicBool,
    /// Shutdown closed the queues; a reused scheduler must reopen them.
    closed: AtomicBool,
    /// Interrupts the reactor of the thread currently running `block_on`.
    unparker: Mutex<Unparker>,
    /// The local run queue, kept here between two `block_on` calls of a
    /// `Runtime`.
    stash: Mutex<VecDeque<Notified<Handle>>>,
    /// A `spawn_local` task exists: its future may only be dropped on the
    /// thread that spawned it.
    local_owner: Mutex<Option<std::thread::ThreadId>>,
    /// The runtime's timers: turned by whichever thread runs `block_on`,
    /// and kept between two calls (see the `time` module docs).
    timers: Arc<Shard>,
}

impl Shared {
    /// A scheduler whose wake-ups go to this thread's reactor.
    pub(crate) fn new() -> Handle {
        Arc::new(Shared {
            owned: OwnedTasks::new(),
            remote: Mutex::new(Remote {
                tasks: VecDeque::new(),
                closed: false,
            }),
            remote_pending: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            main_woken: AtomicBool::new(true),
            spawned: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            unparker: Mutex::new(with_reactor(|r| r.unparker())),
            stash: Mutex::new(VecDeque::new()),
            local_owner: Mutex::new(None),
            timers: Arc::new(Shard::new()),
        })
    }

    /// Points cross-thread wake-ups at this thread's reactor: a `Runtime`'s
    /// scheduler may be driven by a different thread on each `block_on`.
    /// (The free `block_on` reuses a scheduler made on its own thread and
    /// skips this lock.)
    pub(crate) fn drive_from_this_thread(&self) {
        *lock(&self.unparker) = with_reactor(|r| r.unparker());
    }

    /// Wakes the thread if it is parked (call after publishing work).
    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            lock(&self.unparker).unpark();
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

    /// Cancels every task and refuses new ones.
    ///
    /// Futures of `spawn_local` tasks may only be dropped on the thread
    /// that spawned them; from any other thread they are leaked instead.
    pub(crate) fn shutdown(self: &Arc<Self>) {
        if !self.spawned.load(Ordering::SeqCst) && Arc::strong_count(self) == 1 {
            // No task ever existed and no `Handle` can spawn one later: no
            // task waker can reach the queues; nothing to cancel or close.
            return;
        }
        self.closed.store(true, Ordering::SeqCst);
        let owner = *lock(&self.local_owner);
        if owner.is_none_or(|t| t == std::thread::current().id()) {
            self.owned.close_and_shutdown_all();
        }
        let stash = std::mem::take(&mut *lock(&self.stash));
        drop(stash);
        let remote = {
            let mut remote = lock(&self.remote);
            remote.closed = true;
            std::mem::take(&mut remote.tasks)
        };
        drop(remote);
    }

    /// Reuses a scheduler after a shutdown (nothing else references it).
    fn reopen(&self) {
        self.spawned.store(false, Ordering::Relaxed);
        if self.closed.swap(false, Ordering::Relaxed) {
            self.owned.reopen();
            lock(&self.remote).closed = false;
            *lock(&self.local_owner) = None;
        }
        self.main_woken.store(true, Ordering::Relaxed);
        self.remote_pending.store(false, Ordering::Relaxed);
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified<Handle>) {
        if let Current::CurrentThread(core) = context::current() {
            // SAFETY: the context points to the live Core of the `block_on` running on this thread.
            let core = unsafe { &*core };
            if Arc::ptr_eq(&core.shared, self) {
                core.local.borrow_mut().push_back(task);
                return;
            }
        }
        self.schedule_remote(task);
    }

    fn release(&self, task: &Task<Handle>) -> Option<Task<Handle>> {
        self.owned.remove(task)
    }
}

/// Wakes the `block_on` future.
impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.main_woken.store(true, Ordering::SeqCst);
        self.unpark_if_parked();
    }
}

/// Owner-thread state of one `block_on` call.
pub(crate) struct Core {
    pub(crate) shared: Handle,
    local: RefCell<VecDeque<Notified<Handle>>>,
    /// Ticks (task polls) since the reactor was last polled.
    ticks: Cell<u32>,
    parker: RefCell<Option<Parker>>,
}

thread_local! {
    /// The scheduler and buffers left by this thread's last `block_on`,
    /// reused when nothing else holds the scheduler.
    static SPARE: Cell<Option<(Handle, Option<Parker>)>> = const { Cell::new(None) };
}

impl Core {
    /// Spawns a task on this scheduler. The future is polled only on this
    /// thread, so it need not be `Send`.
    pub(crate) fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        lock(&self.shared.local_owner).get_or_insert_with(|| std::thread::current().id());
        self.spawn_unchecked(future)
    }

    /// Spawns a `Send` task.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_unchecked(future)
    }

    fn spawn_unchecked<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawned.store(true, Ordering::Relaxed);
        let (task, notified, join) = new_task(future, self.shared.clone());
        if let Some(notified) = self.shared.owned.bind(task, notified) {
            self.local.borrow_mut().push_back(notified);
        }
        join
    }

    fn next_task(&self) -> Option<Notified<Handle>> {
        if let Some(task) = self.local.borrow_mut().pop_front() {
            return Some(task);
        }
        if !self.shared.remote_pending.load(Ordering::Acquire) {
            return None;
        }
        // Move every remote task over at once: one lock for the batch.
        self.shared.remote_pending.store(false, Ordering::SeqCst);
        let mut remote = lock(&self.shared.remote);
        let mut local = self.local.borrow_mut();
        local.extend(remote.tasks.drain(..));
        local.pop_front()
    }

    /// Runs ready tasks until the queues are empty or a reactor poll is due.
    fn run_tasks(&self) {
        while self.ticks.get() < EVENT_INTERVAL {
            match self.next_task() {
                Some(task) => {
                    self.ticks.set(self.ticks.get() + 1);
                    coop::with_budget(|| task.run());
                }
                None => return,
            }
        }
    }

    fn has_work(&self) -> bool {
        self.shared.main_woken.load(Ordering::SeqCst)
            || !self.local.borrow().is_empty()
            || self.shared.remote_pending.load(Ordering::SeqCst)
    }

    /// Polls the reactor: blocking if there is nothing to do.
    fn park(&self, may_block: bool) {
        let mut block = false;
        if may_block {
            self.shared.parked.store(true, Ordering::SeqCst);
            // Re-check after announcing: see the module docs.
            block = !self.has_work();
        }
        park::park(&self.parker, block, || {
            self.shared.parked.store(false, Ordering::SeqCst)
        });
        self.ticks.set(0);
    }
}

/// What happens to unfinished tasks when `block_on` returns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnExit {
    /// Cancel them (the free `block_on`).
    Shutdown,
    /// Keep them for the next `block_on` of the same `Runtime`.
    Keep,
}

/// Restores the context and stashes or cancels tasks, also when unwinding.
struct EnterGuard<'a> {
    core: &'a Core,
    prev: Current,
    on_exit: OnExit,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        match self.on_exit {
            OnExit::Shutdown => {
                self.core.shared.shutdown();
                // Tasks woken while their siblings were dropped.
                loop {
                    let task = self.core.local.borrow_mut().pop_front();
                    match task {
                        Some(task) => drop(task),
                        None => break,
                    }
                }
            }
            OnExit::Keep => {
                let local = std::mem::take(&mut *self.core.local.borrow_mut());
                lock(&self.core.shared.stash).extend(local);
            }
        }
        context::replace(self.prev);
    }
}

/// Runs `future` on this thread with `shared`'s tasks.
#[track_caller]
pub(crate) fn block_on_in<F: Future>(
    shared: Handle,
    parker: Option<Parker>,
    on_exit: OnExit,
    future: F,
) -> (F::Output, Handle, Option<Parker>) {
    context::assert_not_in_runtime();
    shared.main_woken.store(true, Ordering::SeqCst);
    let local = std::mem::take(&mut *lock(&shared.stash));
    let core = Core {
        shared,
        local: RefCell::new(local),
        ticks: Cell::new(0),
        parker: RefCell::new(parker),
    };
    let output = {
        // Dropped last: tasks cancelled on exit close their sockets first.
        let _driving = DrivingGuard::enter();
        // This thread turns the runtime's timers while it runs them.
        let _timers = timers::enter(
            core.shared.timers.clone(),
            with_reactor(|r| r.unparker()),
            OnLeave::Keep,
        );
        let prev = context::replace(Current::CurrentThread(&core));
        let guard = EnterGuard {
            core: &core,
            prev,
            on_exit,
        };
        let output = run(&core, future);
        drop(guard);
        output
    };
    let Core { shared, parker, .. } = core;
    (output, shared, parker.into_inner())
}

/// Runs `future` to completion on this thread; cancels what it spawned
/// and did not finish.
#[track_caller]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    context::assert_not_in_runtime();
    let (shared, parker) = match SPARE.with(Cell::take) {
        Some((shared, parker)) if Arc::strong_count(&shared) == 1 => {
            shared.reopen();
            (shared, parker)
        }
        Some((_, parker)) => (Shared::new(), parker),
        None => (Shared::new(), None),
    };
    let (output, shared, parker) = block_on_in(shared, parker, OnExit::Shutdown, future);
    SPARE.with(|s| s.set(Some((shared, parker))));
    output
}

fn run<F: Future>(core: &Core, future: F) -> F::Output {
    let waker = Waker::from(core.shared.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if core.shared.main_woken.swap(false, Ordering::AcqRel) {
            core.ticks.set(core.ticks.get() + 1);
            if let Poll::Ready(out) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
                return out;
            }
        }
        core.run_tasks();
        if !core.has_work() {
            core.park(true);
        } else if core.ticks.get() >= EVENT_INTERVAL {
            core.park(false);
        }
    }
}
