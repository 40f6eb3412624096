//! One `block_on` call on a current-thread scheduler: take the core (or
//! wait for it), run tasks, park in the reactor, hand the core on.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::local::{self, LocalHandle, LocalSet};
use super::wake::BlockOnWaker;
use super::{Handle, RunQueue, Shared};
use crate::coop;
use crate::executor::context::{self, Current};
use crate::executor::park::{self, Parker};
use crate::executor::task::{JoinHandle, Notified};
use crate::reactor::DrivingGuard;
use crate::time::driver::{self as timers, HomeGuard, OnLeave};
use crate::time::shard::Shard;

/// A runnable task: one of the runtime's, or one of this thread's local ones.
enum Next {
    Shared(Notified<Handle>),
    Local(Notified<LocalHandle>),
}

/// The state of one `block_on` call (lives on its thread's stack).
pub(crate) struct Core {
    pub(crate) shared: Handle,
    /// The core's run queue while this call drives; `None` while it waits
    /// for another call to hand it over.
    queue: RefCell<Option<RunQueue>>,
    /// This thread's local tasks of this runtime (made on first use).
    locals: RefCell<Option<Rc<LocalSet>>>,
    /// Whether the local set outlives the call (a `Runtime`'s).
    keep_locals: bool,
    main: Arc<BlockOnWaker>,
    /// Ticks (task polls) since the reactor was last polled.
    ticks: Cell<u32>,
    parker: RefCell<Option<Parker>>,
    /// While this call holds the core: the runtime's timers are this
    /// thread's timer home, turned by its park loop.
    timers: RefCell<Option<HomeGuard>>,
}

/// Runs `f` with the timer shard (and so the clock) of the current-thread
/// runtime whose `block_on` runs on this thread (`None`: none does).
pub(crate) fn with_current_timers<R>(f: impl FnOnce(Option<&Arc<Shard>>) -> R) -> R {
    match context::current() {
        Current::CurrentThread(core) => {
            // SAFETY: while set, the context points to the Core of the `block_on` running on this thread, which outlives this call (it is on that call's stack, below us).
            let core = unsafe { &*core };
            f(Some(&core.shared.timers))
        }
        _ => f(None),
    }
}

impl Core {
    /// The `block_on` call of `shared` running on this thread, if any.
    pub(crate) fn current_for<'a>(shared: &Handle) -> Option<&'a Core> {
        match context::current() {
            Current::CurrentThread(core) => {
                // SAFETY: while set, the context points to the Core of the `block_on` running on this thread, which outlives this call (it is on that call's stack, below us).
                let core = unsafe { &*core };
                Arc::ptr_eq(&core.shared, shared).then_some(core)
            }
            _ => None,
        }
    }

    /// Queues a woken task on this call's run queue; `Err` if this call is
    /// not driving (or the queue is busy), for the remote queue instead.
    pub(crate) fn push_local(&self, task: Notified<Handle>) -> Result<(), Notified<Handle>> {
        match self.queue.try_borrow_mut() {
            Ok(mut queue) => match queue.as_mut() {
                Some(queue) => {
                    queue.push_back(task);
                    Ok(())
                }
                None => Err(task),
            },
            Err(_) => Err(task),
        }
    }

    /// This call's local set, if it is the one `handle` belongs to.
    pub(crate) fn local_set_if(&self, handle: &LocalHandle) -> Option<Rc<LocalSet>> {
        let locals = self.locals.try_borrow().ok()?;
        let set = locals.as_ref()?;
        Arc::ptr_eq(set.handle(), handle).then(|| set.clone())
    }

    /// Spawns a task whose future stays on this thread.
    pub(crate) fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let set = self.local_set();
        set.spawn(future)
    }

    /// Spawns a `Send` task on this runtime.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future)
    }

    fn local_set(&self) -> Rc<LocalSet> {
        let mut locals = self.locals.borrow_mut();
        locals
            .get_or_insert_with(|| {
                let set = LocalSet::new();
                if self.keep_locals {
                    self.shared.register_local_set(local::registry_entry(&set));
                }
                set
            })
            .clone()
    }

    fn is_driving(&self) -> bool {
        self.queue.borrow().is_some()
    }

    /// Takes the core if it is free; otherwise queues this call to be
    /// handed it (registering first, then looking again, so a release in
    /// between is never missed).
    fn try_drive(&self) {
        let unparker = &self.main.thread.unparker;
        let queue = match self.shared.take_core(unparker) {
            Some(queue) => Some(queue),
            None => {
                self.shared.add_waiter(&self.main);
                self.shared.take_core(unparker)
            }
        };
        if let Some(queue) = queue {
            self.shared.remove_waiter(&self.main);
            *self.queue.borrow_mut() = Some(queue);
            // The waiting phase's own timers are woken, to refile on the
            // runtime's shard, which this thread turns from now on.
            drop(self.timers.borrow_mut().take());
            *self.timers.borrow_mut() = Some(timers::enter(
                self.shared.timers.clone(),
                unparker.clone(),
                OnLeave::Keep,
            ));
            // Whatever was woken while no one drove is in the remote queue.
            self.shared.remote_pending.store(true, Ordering::SeqCst);
        }
    }

    fn pop_remote(&self) -> Option<Notified<Handle>> {
        if !self.shared.remote_pending.load(Ordering::Acquire) {
            return None;
        }
        // Move every remote task over at once: one lock for the batch.
        self.shared.remote_pending.store(false, Ordering::SeqCst);
        let mut remote = super::lock(&self.shared.remote);
        let mut queue = self.queue.borrow_mut();
        let queue = queue.as_mut()?;
        queue.extend(remote.tasks.drain(..));
        queue.pop_front()
    }

    fn pop_queue(&self) -> Option<Notified<Handle>> {
        self.queue.borrow_mut().as_mut()?.pop_front()
    }

    fn pop_local(&self) -> Option<Notified<LocalHandle>> {
        let set = self.locals.borrow().clone()?;
        set.pop()
    }

    fn next_task(&self) -> Option<Next> {
        let tick = self.ticks.get();
        if self.shared.remote_every.divides(tick) {
            if let Some(t) = self.pop_remote() {
                return Some(Next::Shared(t));
            }
        }
        // Alternate which of the two queues goes first, so neither a busy
        // local task nor a busy shared one starves the other.
        let next = if tick % 2 == 0 {
            self.pop_queue()
                .map(Next::Shared)
                .or_else(|| self.pop_local().map(Next::Local))
        } else {
            self.pop_local()
                .map(Next::Local)
                .or_else(|| self.pop_queue().map(Next::Shared))
        };
        next.or_else(|| self.pop_remote().map(Next::Shared))
    }

    /// Runs ready tasks until the queues are empty or a reactor poll is due.
    fn run_tasks(&self) {
        while self.ticks.get() < self.shared.config.event_interval {
            match self.next_task() {
                Some(task) => {
                    self.ticks.set(self.ticks.get() + 1);
                    match task {
                        Next::Shared(task) => coop::with_budget(|| task.run()),
                        Next::Local(task) => coop::with_budget(|| task.run()),
                    }
                }
                None => return,
            }
        }
    }

    fn has_work(&self) -> bool {
        self.main.woken.load(Ordering::SeqCst)
            || self.queue.borrow().as_ref().is_some_and(|q| !q.is_empty())
            || self.shared.remote_pending.load(Ordering::SeqCst)
            || self.locals.borrow().as_ref().is_some_and(|s| s.has_work())
    }

    /// Polls the reactor as the driver: blocking if there is nothing to do.
    fn park(&self, may_block: bool) {
        let hooks = &self.shared.config;
        if let (true, Some(hook)) = (may_block, &hooks.on_park) {
            hook();
        }
        self.park_inner(may_block);
        if let (true, Some(hook)) = (may_block, &hooks.on_unpark) {
            hook();
        }
    }

    fn park_inner(&self, may_block: bool) {
        let thread = &self.main.thread;
        let mut block = false;
        if may_block {
            self.shared.parked.store(true, Ordering::SeqCst);
            thread.parked.store(true, Ordering::SeqCst);
            // Re-check after announcing: see `wake.rs`.
            block = !self.has_work();
        }
        let awake = || {
            self.shared.parked.store(false, Ordering::SeqCst);
            thread.parked.store(false, Ordering::SeqCst);
        };
        // A paused clock (one relaxed load) may jump instead of blocking.
        if block && self.shared.timers.clock().is_paused() && self.auto_advance() {
            awake();
        } else {
            park::park(&self.parker, block, awake);
        }
        self.ticks.set(0);
    }

    /// The clock is paused and nothing is ready to run: polls I/O once
    /// without blocking and, if that finds nothing and no blocking task of
    /// this runtime is in flight, jumps the clock to the next timer and
    /// fires it. False if the thread should block after all: no timer to
    /// jump to (it blocks as with a running clock: only I/O or a wake-up
    /// from another thread can come), or blocking work in flight (it waits
    /// for that, or the timer, in real time; see `time/clock.rs`).
    fn auto_advance(&self) -> bool {
        if park::park_counting(&self.parker, false, || {}) > 0 {
            return true;
        }
        let timers = &self.shared.timers;
        // The count first, then the queues: see the handshake in
        // `time/clock.rs`.
        if timers.clock().auto_advance_inhibited() {
            return false;
        }
        if self.has_work() {
            return true;
        }
        let Some(next) = timers.next_timer() else {
            return false;
        };
        timers.clock().advance_to(next);
        let mut fired = Vec::new();
        timers.turn(false, || timers.now(), &mut fired);
        park::wake_all(&mut fired);
        true
    }

    /// While this call waits for the core, its future's timers are its
    /// own: a shard of the call's, turned by its own park loop (a waiting
    /// thread must not turn the runtime's, which its driver turns).
    fn ensure_waiting_timers(&self) {
        let mut timers = self.timers.borrow_mut();
        if timers.is_none() {
            *timers = Some(timers::enter(
                Arc::new(Shard::new()),
                self.main.thread.unparker.clone(),
                OnLeave::Drain,
            ));
        }
    }

    /// Waits (driving only this thread's own reactor) until this call's
    /// future is woken or the core is handed to it.
    fn park_waiting(&self) {
        let thread = &self.main.thread;
        thread.parked.store(true, Ordering::SeqCst);
        let block = !self.main.woken.load(Ordering::SeqCst);
        park::park(&self.parker, block, || {
            thread.parked.store(false, Ordering::SeqCst)
        });
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

/// Cancels or keeps tasks, hands the core on and restores the context,
/// also when unwinding.
struct ExitGuard<'a> {
    core: &'a Core,
    prev: Current,
    on_exit: OnExit,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let core = self.core;
        let locals = core.locals.borrow_mut().take();
        match self.on_exit {
            OnExit::Shutdown => {
                core.shared.shutdown();
                // Cancelled on this thread, with the Core still current.
                drop(locals);
                // Tasks woken while their siblings were dropped.
                while let Some(task) = core.pop_queue() {
                    drop(task);
                }
            }
            OnExit::Keep => {
                if let Some(set) = locals {
                    local::keep_thread_set(&core.shared, set);
                }
            }
        }
        // This thread stops turning the runtime's timers with the core.
        drop(core.timers.borrow_mut().take());
        let queue = core.queue.borrow_mut().take();
        match queue {
            Some(queue) => core.shared.release_core(queue),
            None => core.shared.leave_waiting(&core.main),
        }
        context::replace(self.prev);
    }
}

thread_local! {
    /// The scheduler, buffers and waker left by this thread's last
    /// `block_on`, reused when nothing else holds them.
    static SPARE: Cell<Option<Spare>> = const { Cell::new(None) };
}

struct Spare {
    shared: Handle,
    parker: Option<Parker>,
    main: Arc<BlockOnWaker>,
}

/// Runs `future` on this thread with `shared`'s tasks.
#[track_caller]
pub(crate) fn block_on_in<F: Future>(
    shared: Handle,
    parker: Option<Parker>,
    on_exit: OnExit,
    future: F,
) -> (F::Output, Handle, Option<Parker>) {
    let main = BlockOnWaker::for_this_thread();
    let (output, shared, parker, _) = block_on_with(shared, parker, main, on_exit, future);
    (output, shared, parker)
}

#[track_caller]
fn block_on_with<F: Future>(
    shared: Handle,
    parker: Option<Parker>,
    main: Arc<BlockOnWaker>,
    on_exit: OnExit,
    future: F,
) -> (F::Output, Handle, Option<Parker>, Arc<BlockOnWaker>) {
    context::assert_not_in_runtime();
    main.woken.store(true, Ordering::SeqCst);
    let locals = match on_exit {
        OnExit::Keep => local::take_thread_set(&shared),
        OnExit::Shutdown => {
            local::sweep_closed();
            None
        }
    };
    let core = Core {
        shared,
        queue: RefCell::new(None),
        locals: RefCell::new(locals),
        keep_locals: on_exit == OnExit::Keep,
        main,
        ticks: Cell::new(0),
        parker: RefCell::new(parker),
        timers: RefCell::new(None),
    };
    let output = {
        // Dropped last: tasks cancelled on exit close their sockets first.
        let _driving = DrivingGuard::enter();
        // An entered runtime is hidden while this one runs (its tasks
        // spawn here).
        let _hidden = context::HideEntered::new();
        let prev = context::replace(Current::CurrentThread(&core));
        let guard = ExitGuard {
            core: &core,
            prev,
            on_exit,
        };
        let output = run(&core, pin!(future));
        drop(guard);
        output
    };
    let Core {
        shared,
        parker,
        main,
        ..
    } = core;
    (output, shared, parker.into_inner(), main)
}

/// Runs `future` to completion on this thread; cancels what it spawned
/// and did not finish.
#[track_caller]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    context::assert_not_in_runtime();
    let (shared, parker, main) = match SPARE.with(Cell::take) {
        Some(spare) => {
            let main = if Arc::strong_count(&spare.main) == 1 {
                spare.main
            } else {
                BlockOnWaker::for_this_thread()
            };
            // A scheduler whose clock was paused keeps its timers' wheel
            // time ahead of std's, and one whose blocking work is still in
            // flight would not let a paused clock jump: the next call gets
            // a fresh one.
            let clock = spare.shared.timers.clock();
            if Arc::strong_count(&spare.shared) == 1
                && !clock.was_paused()
                && !clock.auto_advance_inhibited()
            {
                spare.shared.reopen();
                (spare.shared, spare.parker, main)
            } else {
                (Shared::new(), spare.parker, main)
            }
        }
        None => (Shared::new(), None, BlockOnWaker::for_this_thread()),
    };
    // This call's own tokio runtime, entered while it runs and stopped
    // (its tasks dropped, its thread joined) before the call returns.
    #[cfg(feature = "tokio-compat")]
    let mut tokio = crate::tokio_compat::Background::for_block_on(crate::Handle {
        scheduler: crate::executor::SchedulerHandle::CurrentThread(shared.clone()),
        blocking: crate::runtime::BlockingPool::global().clone(),
    });
    #[cfg(feature = "tokio-compat")]
    let entered = crate::tokio_compat::enter(Some(tokio.handle()));
    let (output, shared, parker, main) =
        block_on_with(shared, parker, main, OnExit::Shutdown, future);
    #[cfg(feature = "tokio-compat")]
    {
        drop(entered);
        tokio.shutdown(None);
    }
    SPARE.with(|s| {
        s.set(Some(Spare {
            shared,
            parker,
            main,
        }))
    });
    output
}

fn run<F: Future>(core: &Core, mut future: Pin<&mut F>) -> F::Output {
    let waker = Waker::from(core.main.clone());
    let mut cx = Context::from_waker(&waker);
    core.try_drive();
    if !core.is_driving() {
        core.ensure_waiting_timers();
    }
    loop {
        if core.main.woken.swap(false, Ordering::AcqRel) {
            core.ticks.set(core.ticks.get() + 1);
            if let Poll::Ready(out) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
                return out;
            }
        }
        // After the poll, which may have consumed the wake that handed the
        // core to this call: look again (registering as a waiter) right
        // before deciding to park.
        if !core.is_driving() {
            core.try_drive();
        }
        if core.is_driving() {
            core.run_tasks();
            if !core.has_work() {
                core.park(true);
            } else if core.ticks.get() >= core.shared.config.event_interval {
                core.park(false);
            }
        } else {
            core.ensure_waiting_timers();
            core.park_waiting();
        }
    }
}
