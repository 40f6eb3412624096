//! The executor: tasks, their handles, and the current-thread scheduler.
//!
//! A spawned future becomes a task: one heap allocation holding a header
//! (an atomic state word with flags and reference count), the future, and
//! later its output. Wakers, the run queue, the owned-tasks list and the
//! [`JoinHandle`] all hold counted references to that one allocation.
//!
//! ```
//! use moduvex_runtime::executor::{block_on, spawn};
//!
//! block_on(async {
//!     let tasks: Vec<_> = (0..4).map(|i| spawn(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for t in tasks {
//!         sum += t.await.unwrap();
//!     }
//!     assert_eq!(sum, 14);
//! });
//! ```

use std::future::Future;
use std::sync::Arc;

pub(crate) mod context;
pub(crate) mod current_thread;
mod loom_facade;
pub(crate) mod multi_thread;
pub(crate) mod owned;
pub(crate) mod park;
pub(crate) mod task;
mod yield_now;

use context::Current;

pub use task::{id, try_id, AbortHandle, Id, JoinError, JoinHandle};
pub use yield_now::yield_now;

/// Runs a future to completion on the current thread, driving spawned
/// tasks, I/O and timers while it waits.
///
/// Tasks spawned inside (with [`spawn`] or [`spawn_local`]) run on this
/// thread; those still unfinished when `block_on` returns are cancelled and
/// their futures dropped. The thread's reactor is reused across calls.
///
/// ```
/// let answer = moduvex_runtime::block_on(async {
///     let task = moduvex_runtime::spawn(async { 40 + 2 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
/// Panics if called from inside a running runtime on the same thread
/// (blocking there would deadlock it): `.await` the future instead.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    current_thread::block_on(future)
}

/// Spawns a `Send` future onto the current runtime and returns a handle
/// to await its output.
///
/// The task starts running at the runtime's next scheduling point; it is
/// not polled inside `spawn`.
///
/// ```compile_fail
/// // An `Rc` cannot cross threads, so the future is not `Send`:
/// // use `spawn_local` for it.
/// moduvex_runtime::block_on(async {
///     let rc = std::rc::Rc::new(5);
///     moduvex_runtime::spawn(async move { *rc }).await.unwrap();
/// });
/// ```
///
/// Inside [`Runtime::enter`](crate::Runtime::enter) (and on a blocking
/// thread of a runtime, and in [`block_in_place`](crate::task::block_in_place))
/// the task goes to that runtime, as in tokio.
///
/// # Panics
/// Panics if no runtime is running on this thread or entered by it.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut future = Some(future);
    let spawned = context::with_entered(|entered| {
        entered.map(|h| h.spawn(future.take().expect("taken once")))
    });
    if let Some(join) = spawned {
        return join;
    }
    let future = future.take().expect("taken once");
    match context::current() {
        Current::CurrentThread(core) => {
            // SAFETY: the context points to the live Core of this thread's `block_on`.
            unsafe { &*core }.spawn(future)
        }
        Current::Worker(worker) => {
            // SAFETY: the context points to this thread's live worker.
            unsafe { &*worker }.shared.spawn(future)
        }
        Current::Caller(shared) => {
            // SAFETY: the context points to the Arc held by the running `block_on`.
            unsafe { &*shared }.spawn(future)
        }
        Current::None => panic!(
            "`spawn` called outside a moduvex runtime: call it from inside \
             `moduvex_runtime::block_on(...)` or `Runtime::block_on` (or a task they run), \
             enter a runtime with `Runtime::enter()`, or use `Handle::spawn`"
        ),
    }
}

/// Spawns a future that is not `Send` onto the current thread's runtime.
/// It is polled and dropped only on this thread.
///
/// Inside a [`LocalSet`](crate::task::LocalSet) (its `run_until`, one of its
/// tasks, or its `enter` guard) the task joins that set; the innermost set
/// wins. Otherwise it is available inside `block_on` of a current-thread
/// runtime and on the worker threads of multi-threaded runtimes (the task
/// stays on its worker).
///
/// ```
/// use std::rc::Rc;
/// moduvex_runtime::block_on(async {
///     let rc = Rc::new(5);
///     let n = moduvex_runtime::spawn_local(async move { *rc }).await.unwrap();
///     assert_eq!(n, 5);
/// });
/// ```
///
/// # Panics
/// Panics outside a `LocalSet` if this thread runs no current-thread
/// scheduler and is no worker.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if let Some(set) = current_thread::local::entered() {
        return set.spawn(future);
    }
    match context::current() {
        Current::CurrentThread(core) => {
            // SAFETY: the context points to the live Core of this thread's `block_on`.
            unsafe { &*core }.spawn_local(future)
        }
        Current::Worker(worker) => {
            // SAFETY: the context points to this thread's live worker.
            let worker = unsafe { &*worker };
            // SAFETY: homed on this worker: polled and dropped only here.
            unsafe {
                worker
                    .shared
                    .spawn_with_home(future, worker.index() as u32, true)
            }
        }
        Current::Caller(_) => panic!(
            "`spawn_local` called in `Runtime::block_on` of a multi-threaded runtime: the \
             calling thread runs no tasks; use `spawn`, call `spawn_local` from a task, or \
             run the future in a `task::LocalSet` (`LocalSet::block_on`)"
        ),
        Current::None => panic!(
            "`spawn_local` called from outside of a `task::LocalSet` or a moduvex runtime: \
             call it inside `LocalSet::run_until`, `moduvex_runtime::block_on(...)` (or a \
             task they run), or use `LocalSet::spawn_local`"
        ),
    }
}

/// The executor's side of `task::block_in_place`: runs `f` on this thread
/// after making sure the runtime's other tasks do not wait for it, handing
/// `start_relief` the job to run on a blocking thread when a work-stealing
/// worker needs a stand-in (see `multi_thread/relief.rs`). While `f`
/// runs, this thread is out of the scheduler (so `f` may block, call
/// `Handle::block_on`, or block in place again) with the runtime entered
/// (so `spawn` and `Handle::current` still work).
#[track_caller]
pub(crate) fn block_in_place<R>(
    f: impl FnOnce() -> R,
    start_relief: impl FnOnce(Box<dyn FnOnce() + Send + 'static>),
) -> R {
    match context::current() {
        // Outside any runtime, on a blocking thread, or already in place.
        Current::None => f(),
        Current::CurrentThread(_) => panic!(
            "can call blocking only when running on the multi-threaded runtime: \
             `task::block_in_place` was called on a current-thread runtime, whose one thread \
             would stall every task; use `spawn_blocking(f).await`, or a multi-thread runtime"
        ),
        Current::Caller(shared) => {
            // SAFETY: the context points to the Arc held by the running `block_on` (or relief thread).
            let shared = unsafe { &*shared }.clone();
            // A relief thread hands its role on to another one, as the
            // worker did; `Runtime::block_on`'s own future on a
            // multi-threaded runtime runs no task: nothing waits for it.
            let _relief = multi_thread::relief::relieving().map(|index| {
                let (guard, job) = multi_thread::relief::begin(&shared, index);
                start_relief(Box::new(job));
                guard
            });
            let _out = context::ExitScheduler::new(SchedulerHandle::MultiThread(shared));
            f()
        }
        Current::Worker(worker) => {
            // SAFETY: the context points to this thread's live worker (the one running the calling task, below us on this stack).
            let worker = unsafe { &*worker };
            let shared = worker.shared.clone();
            let _relief = (shared.mode() == multi_thread::Mode::WorkStealing).then(|| {
                let (guard, job) = multi_thread::relief::begin(&shared, worker.index());
                worker.hand_off();
                start_relief(Box::new(job));
                guard
            });
            // Thread-per-core: this worker's tasks never migrate; they wait
            // for `f`, and the other workers keep running theirs.
            let _out = context::ExitScheduler::new(SchedulerHandle::MultiThread(shared));
            f()
        }
    }
}

/// Whether a runtime is running on this thread or entered by it (timers
/// and sockets made here have a runtime).
pub(crate) fn in_runtime() -> bool {
    drives_runtime() || context::has_entered()
}

/// Whether this thread is driving a runtime's tasks now (blocking it would
/// stall them): a scheduler runs here.
pub(crate) fn drives_runtime() -> bool {
    !matches!(context::current(), Current::None)
}

/// A hook a runtime thread calls (`on_thread_park` / `on_thread_unpark`).
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// The tunables of a scheduler, from the runtime's `Builder`.
#[derive(Clone)]
pub(crate) struct SchedConfig {
    /// Task polls between two non-blocking reactor polls while busy.
    pub(crate) event_interval: u32,
    /// Task polls between two looks at remote work (the injection queue,
    /// the inbox; the remote queue of a current-thread runtime) before the
    /// local queue.
    pub(crate) global_queue_interval: u32,
    /// Called by a scheduler thread before it parks, and after it wakes.
    pub(crate) on_park: Option<Hook>,
    pub(crate) on_unpark: Option<Hook>,
}

/// "Every `n` ticks" for an interval fixed when the runtime is built:
/// `tick % n == 0` with one multiplication instead of a division (Lemire,
/// Kaser and Kurz, *Faster remainder by direct computation*, 2019). The
/// schedulers ask it on every task poll, where a 32-bit division costs more
/// than the bookkeeping around it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Every {
    /// `ceil(2^64 / n)`, wrapping to 0 for `n == 1`.
    m: u64,
}

impl Every {
    /// # Panics
    /// If `n` is zero (the builder refuses zero intervals first).
    pub(crate) const fn new(n: u32) -> Every {
        assert!(n > 0, "an interval of zero ticks");
        Every {
            m: (u64::MAX / n as u64).wrapping_add(1),
        }
    }

    /// Whether `tick` is a multiple of `n`.
    #[inline]
    pub(crate) fn divides(self, tick: u32) -> bool {
        (tick as u64).wrapping_mul(self.m) <= self.m.wrapping_sub(1)
    }
}

#[cfg(test)]
mod every_tests {
    use super::Every;

    #[test]
    fn agrees_with_the_remainder() {
        // Plain arithmetic, nothing unsafe: a token run under Miri.
        let (max_n, max_tick) = if cfg!(miri) { (4, 20) } else { (130, 2_000) };
        for n in (1..=max_n).chain([255, 256, 1000, 65_537, u32::MAX - 1, u32::MAX]) {
            let every = Every::new(n);
            let ticks = (0..max_tick).chain([u32::MAX - 2, u32::MAX - 1, u32::MAX]);
            for tick in ticks.chain((1..50).map(|k: u32| k.wrapping_mul(n))) {
                assert_eq!(every.divides(tick), tick % n == 0, "tick {tick}, n {n}");
            }
        }
    }
}

/// The default `event_interval` (tokio's figure).
pub(crate) const EVENT_INTERVAL: u32 = 61;
/// The default `global_queue_interval` (tokio's figure).
pub(crate) const GLOBAL_QUEUE_INTERVAL: u32 = 31;

impl Default for SchedConfig {
    fn default() -> SchedConfig {
        SchedConfig {
            event_interval: EVENT_INTERVAL,
            global_queue_interval: GLOBAL_QUEUE_INTERVAL,
            on_park: None,
            on_unpark: None,
        }
    }
}

/// A handle to a scheduler, usable from any thread.
#[derive(Clone)]
pub(crate) enum SchedulerHandle {
    CurrentThread(current_thread::Handle),
    MultiThread(Arc<multi_thread::Shared>),
}

impl SchedulerHandle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            SchedulerHandle::CurrentThread(shared) => shared.spawn(future),
            SchedulerHandle::MultiThread(shared) => shared.spawn(future),
        }
    }
}

/// The runtime entered on this thread, else the scheduler running on (or
/// blocked in) it.
pub(crate) fn current_scheduler() -> Option<SchedulerHandle> {
    if let Some(h) = context::with_entered(|h| h.cloned()) {
        return Some(h);
    }
    match context::current() {
        Current::None => None,
        Current::CurrentThread(core) => {
            // SAFETY: while set, the context points to the Core of the `block_on` running on this thread, which outlives this call.
            let core = unsafe { &*core };
            Some(SchedulerHandle::CurrentThread(core.shared.clone()))
        }
        Current::Worker(worker) => {
            // SAFETY: while set, the context points to the worker running on this thread, which outlives this call.
            let worker = unsafe { &*worker };
            Some(SchedulerHandle::MultiThread(worker.shared.clone()))
        }
        Current::Caller(shared) => {
            // SAFETY: the context points to the Arc held by the running `block_on`.
            Some(SchedulerHandle::MultiThread(unsafe { &*shared }.clone()))
        }
    }
}

/// Size in bytes of a task's header and scheduler handle, without its
/// future and output (exposed for benchmarks and tests).
#[doc(hidden)]
pub fn task_header_size() -> usize {
    task::header_size::<std::sync::Arc<()>>()
}

/// Size in bytes of a task's header alone, the part every queue, waker
/// and state change touches (exposed for benchmarks and tests).
#[doc(hidden)]
pub fn task_bare_header_size() -> usize {
    task::bare_header_size()
}
