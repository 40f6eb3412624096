//! The executor: tasks, their handles, and the current-thread scheduler.
//!
//! A spawned future becomes a task: one heap allocation holding a header
//! (an atomic state word with flags and reference count), the future, and
//! later its output. Wakers, the run queue, the owned-tasks list and the
//! [`JoinHandle`] all hold counted references to that one allocation.

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

pub use task::{AbortHandle, JoinError, JoinHandle};
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
/// # Panics
/// Panics if no runtime is running on this thread.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
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
             or use `Handle::spawn`"
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

/// Whether a runtime is running on this thread.
pub(crate) fn in_runtime() -> bool {
    !matches!(context::current(), Current::None)
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

/// The scheduler running on (or blocked in) this thread.
pub(crate) fn current_scheduler() -> Option<SchedulerHandle> {
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
