//! The current-thread scheduler behind [`block_on`](crate::block_on).
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
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::owned::OwnedTasks;
use super::park::Parker;
use super::task::{new_task, JoinHandle, Notified, Schedule, Task};
use crate::reactor::{with_reactor, Unparker};

/// Tasks run between two non-blocking reactor polls when there is always
/// work (so I/O is never starved by busy tasks).
const EVENT_INTERVAL: u32 = 61;

type Handle = Arc<Shared>;

struct Remote {
    tasks: VecDeque<Notified<Handle>>,
    closed: bool,
}

/// State shared with wakers on any thread.
pub(crate) struct Shared {
    owned: OwnedTasks<Handle>,
    remote: Mutex<Remote>,
    /// Set when `remote` may be non-empty; lets the run loop skip the lock.
    remote_pending: AtomicBool,
    /// The thread is in (or about to enter) a blocking reactor poll.
    parked: AtomicBool,
    /// The `block_on` future was woken and must be polled.
    main_woken: AtomicBool,
    unparker: Unparker,
}

impl Shared {
    fn new(unparker: Unparker) -> Shared {
        Shared {
            owned: OwnedTasks::new(),
            remote: Mutex::new(Remote {
                tasks: VecDeque::new(),
                closed: false,
            }),
            remote_pending: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            main_woken: AtomicBool::new(true),
            unparker,
        }
    }

    fn lock_remote(&self) -> std::sync::MutexGuard<'_, Remote> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the thread if it is parked (call after publishing work).
    fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            self.unparker.unpark();
        }
    }

    fn schedule_remote(&self, task: Notified<Handle>) {
        let mut remote = self.lock_remote();
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
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified<Handle>) {
        let leftover = CURRENT
            .try_with(|current| {
                let core = current.get();
                // SAFETY: CURRENT points to the live Core of the `block_on`
                // running on this thread, or is null.
                match unsafe { core.as_ref() } {
                    Some(core) if Arc::ptr_eq(&core.shared, self) => {
                        core.local.borrow_mut().push_back(task);
                        None
                    }
                    _ => Some(task),
                }
            })
            .unwrap_or(None);
        if let Some(task) = leftover {
            self.schedule_remote(task);
        }
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
    shared: Handle,
    local: RefCell<VecDeque<Notified<Handle>>>,
    /// A task was ever spawned: shutdown has work to do.
    spawned: Cell<bool>,
    /// Ticks (task polls) since the reactor was last polled.
    ticks: Cell<u32>,
    parker: RefCell<Option<Parker>>,
}

thread_local! {
    /// The `block_on` running on this thread, or null.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
    /// A scheduler left by the last `block_on`, reused when nothing else
    /// holds it (saves an allocation per call).
    static SPARE: Cell<Option<(Handle, Option<Parker>)>> = const { Cell::new(None) };
}

/// Whether a `block_on` is running on this thread.
#[allow(dead_code)]
pub(crate) fn in_runtime() -> bool {
    CURRENT.try_with(|c| !c.get().is_null()).unwrap_or(false)
}

/// Runs `f` with the current thread's scheduler, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| {
            // SAFETY: CURRENT points to the live Core of the running
            // `block_on` (cleared before that Core is dropped), or is null.
            unsafe { c.get().as_ref() }.map(f)
        })
        .ok()
        .flatten()
}

impl Core {
    /// Spawns a task on this scheduler. The future is polled only on this
    /// thread, so it need not be `Send`.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawned.set(true);
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
        let mut remote = self.shared.lock_remote();
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
                    task.run();
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
        let mut parker = self.parker.borrow_mut();
        let parker = parker.get_or_insert_with(Parker::new);
        parker.park(block);
        self.shared.parked.store(false, Ordering::SeqCst);
        self.ticks.set(0);
    }

    /// Cancels every task and empties the queues. Runs on the owner thread
    /// (futures of `spawn_local` tasks are dropped where they ran).
    fn shutdown(&self) {
        if !self.spawned.get() {
            return;
        }
        self.shared.owned.close_and_shutdown_all();
        loop {
            let task = self.local.borrow_mut().pop_front();
            match task {
                Some(task) => drop(task),
                None => break,
            }
        }
        let remote = {
            let mut remote = self.shared.lock_remote();
            remote.closed = true;
            std::mem::take(&mut remote.tasks)
        };
        drop(remote);
    }
}

/// Clears CURRENT and shuts the scheduler down, also when unwinding.
struct EnterGuard<'a> {
    core: &'a Core,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        self.core.shutdown();
        CURRENT.with(|c| c.set(ptr::null()));
    }
}

fn enter(core: &Core) -> EnterGuard<'_> {
    CURRENT.with(|c| {
        if !c.get().is_null() {
            panic!(
                "cannot block the runtime from within an async context: `block_on` was called \
                 on a thread that is already running a moduvex runtime; `.await` the future \
                 instead, or spawn it"
            );
        }
        c.set(core as *const Core);
    });
    EnterGuard { core }
}

/// Takes the spare scheduler if nothing else references it.
fn take_spare() -> (Handle, Option<Parker>) {
    if let Some((shared, parker)) = SPARE.with(|s| s.take()) {
        if Arc::strong_count(&shared) == 1 {
            shared.owned.reopen();
            shared.lock_remote().closed = false;
            shared.main_woken.store(true, Ordering::Relaxed);
            shared.remote_pending.store(false, Ordering::Relaxed);
            return (shared, parker);
        }
        return (new_shared(), parker);
    }
    (new_shared(), None)
}

fn new_shared() -> Handle {
    Arc::new(Shared::new(with_reactor(|r| r.unparker())))
}

/// Runs `future` to completion on this thread, with spawned tasks.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let (shared, parker) = take_spare();
    let core = Core {
        shared,
        local: RefCell::new(VecDeque::new()),
        spawned: Cell::new(false),
        ticks: Cell::new(0),
        parker: RefCell::new(parker),
    };
    let output = {
        let guard = enter(&core);
        let output = run(&core, future);
        drop(guard);
        output
    };
    let Core { shared, parker, .. } = core;
    SPARE.with(|s| s.set(Some((shared, parker.into_inner()))));
    output
}

fn run<F: Future>(core: &Core, future: F) -> F::Output {
    let waker = Waker::from(core.shared.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if core.shared.main_woken.swap(false, Ordering::AcqRel) {
            core.ticks.set(core.ticks.get() + 1);
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
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
