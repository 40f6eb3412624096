//! [`HyperExecutor`]: hyper's executor hook, spawning on the current runtime.
//!
//! The one idea: hyper spawns background work (an HTTP/2 connection's
//! streams, a pooled client's connection tasks) through `rt::Executor`;
//! each such future becomes a task of the runtime the call is made on.

use std::future::Future;

/// [`hyper::rt::Executor`](::hyper::rt::Executor) that spawns each future
/// with [`crate::spawn`]: on the runtime of the thread hyper calls it from.
///
/// hyper-util's `TokioExecutor` for this runtime. HTTP/2 needs `Send`
/// futures, and so does this executor. Cheap to clone (it holds nothing).
///
/// # Panics
///
/// `execute` panics outside a moduvex runtime, as [`crate::spawn`] does:
/// build servers and clients inside `block_on` or a task.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// use moduvex_runtime::hyper::HyperExecutor;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = moduvex_runtime::sync::oneshot::channel();
///     HyperExecutor::new().execute(async move { tx.send(7).unwrap() });
///     assert_eq!(rx.await.unwrap(), 7);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct HyperExecutor;

impl HyperExecutor {
    /// An executor for the current runtime.
    ///
    /// ```
    /// use hyper::rt::Executor;
    /// use moduvex_runtime::hyper::HyperExecutor;
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = oneshot::channel();
    ///     // What hyper calls to run a connection's background work.
    ///     HyperExecutor::new().execute(async move { tx.send("ran").unwrap() });
    ///     assert_eq!(rx.await.unwrap(), "ran");
    /// });
    /// ```
    pub fn new() -> HyperExecutor {
        HyperExecutor
    }
}

impl<F> ::hyper::rt::Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, fut: F) {
        // Detached, as hyper expects: the task runs to its end on its own.
        drop(crate::spawn(fut));
    }
}
