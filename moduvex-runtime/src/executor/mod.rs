//! The executor: tasks, their handles, and the current-thread scheduler.
//!
//! A spawned future becomes a task: one heap allocation holding a header
//! (an atomic state word with flags and reference count), the future, and
//! later its output. Wakers, the run queue, the owned-tasks list and the
//! [`JoinHandle`] all hold counted references to that one allocation.

use std::future::Future;

mod current_thread;
mod owned;
pub(crate) mod park;
pub(crate) mod task;
mod yield_now;

pub use task::{JoinError, JoinHandle};
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
    match current_thread::with_current(|core| core.spawn(future)) {
        Some(handle) => handle,
        None => panic!(
            "`spawn` called outside a moduvex runtime: call it from inside \
             `moduvex_runtime::block_on(...)` (or a task it runs)"
        ),
    }
}

/// Spawns a future that is not `Send` onto the current thread's runtime.
/// It is polled and dropped only on this thread.
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
/// Panics if no runtime is running on this thread.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match current_thread::with_current(|core| core.spawn(future)) {
        Some(handle) => handle,
        None => panic!(
            "`spawn_local` called outside a moduvex runtime: call it from inside \
             `moduvex_runtime::block_on(...)` (or a task it runs)"
        ),
    }
}

/// Whether a runtime is running on this thread.
#[allow(dead_code)]
pub(crate) fn in_runtime() -> bool {
    current_thread::in_runtime()
}

/// Size in bytes of a task's header and scheduler handle, without its
/// future and output (exposed for benchmarks and tests).
#[doc(hidden)]
pub fn task_header_size() -> usize {
    task::header_size::<std::sync::Arc<()>>()
}
