//! `JoinHandle`: the owned permission to await a task's output.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::state::ToNotified;
use super::{Id, JoinError, RawTask};

/// An owned handle to a spawned task: await it for the task's output.
///
/// Dropping the handle *detaches* the task: it keeps running and its
/// output is dropped when it finishes. Call [`abort`](JoinHandle::abort)
/// to cancel it instead.
///
/// Awaiting yields `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled (aborted, or its runtime shut down first).
///
/// # Panics
/// Polling the handle again after it returned its result panics.
///
/// ```
/// use moduvex_runtime::spawn;
///
/// moduvex_runtime::block_on(async {
///     let ok = spawn(async { 2 + 2 });
///     assert_eq!(ok.await.unwrap(), 4);
///     let boom = spawn(async { panic!("boom") });
///     assert!(boom.await.unwrap_err().is_panic());
/// });
/// ```
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves a `T` out to its owner (so `T: Send` is
// needed to send it), and its other operations are atomic state changes.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: no `&self` method touches the output.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` carries the JoinHandle's counted reference to a task whose
    /// output type is `T`.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// Cancels the task.
    ///
    /// A task that has not finished is dropped at its next scheduling
    /// point (at once if idle, after its current poll if running) and the
    /// handle then yields a cancelled [`JoinError`]. Aborting a finished
    /// task, or aborting twice, does nothing.
    ///
    /// ```
    /// use moduvex_runtime::{spawn, time};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let task = spawn(time::sleep(std::time::Duration::from_secs(3600)));
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// True once the task has finished (with output, panic or cancellation).
    ///
    /// ```
    /// use moduvex_runtime::{spawn, task};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(async { 1 });
    ///     while !t.is_finished() {
    ///         task::yield_now().await;
    ///     }
    ///     assert_eq!(t.await.unwrap(), 1);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id: what [`task::id()`](crate::task::id) returns inside it.
    ///
    /// ```
    /// use moduvex_runtime::{spawn, task};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(async { task::id() });
    ///     let id = t.id();
    ///     assert_eq!(t.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.id()
    }

    /// A handle that can abort the task without owning its output: keep it
    /// where the `JoinHandle` cannot go (another task, a registry of
    /// connections). It does not keep the task alive or running.
    ///
    /// ```
    /// use moduvex_runtime::{spawn, time};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(time::sleep(std::time::Duration::from_secs(3600)));
    ///     let abort = t.abort_handle();
    ///     spawn(async move { abort.abort() }).await.unwrap();
    ///     assert!(t.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.header().state.ref_inc();
        // SAFETY: the reference was just counted for the new handle.
        unsafe { AbortHandle::from_raw(self.raw) }
    }
}

/// Permission to abort a task, without access to its output.
///
/// Made by [`JoinHandle::abort_handle`] (and returned by
/// [`JoinSet::spawn`](crate::task::JoinSet::spawn)). Cloneable, `Send` and
/// `Sync` whatever the task's output; dropping it does nothing to the task.
///
/// ```
/// use moduvex_runtime::spawn;
///
/// moduvex_runtime::block_on(async {
///     let t = spawn(std::future::pending::<()>());
///     let a = t.abort_handle();
///     let b = a.clone();
///     assert_eq!(a.id(), t.id());
///     b.abort();
///     assert!(t.await.unwrap_err().is_cancelled());
///     assert!(a.is_finished());
/// });
/// ```
pub struct AbortHandle {
    raw: RawTask,
}

// SAFETY: an AbortHandle only makes atomic state changes and hands the task
// to its own scheduler, which routes it to the thread allowed to run it.
unsafe impl Send for AbortHandle {}
// SAFETY: as above; every method takes `&self` and is atomic.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// # Safety
    /// `raw` carries a counted reference that the handle takes over.
    unsafe fn from_raw(raw: RawTask) -> AbortHandle {
        AbortHandle { raw }
    }

    /// Cancels the task, exactly as [`JoinHandle::abort`] does.
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     t.abort_handle().abort();
    ///     assert!(t.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// True once the task has finished (with output, panic or cancellation).
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(async {});
    ///     let a = t.abort_handle();
    ///     t.await.unwrap();
    ///     assert!(a.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id (the same as its [`JoinHandle::id`]).
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(async {});
    ///     assert_eq!(t.abort_handle().id(), t.id());
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.id()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        self.raw.header().state.ref_inc();
        // SAFETY: the reference was just counted for the clone.
        unsafe { AbortHandle::from_raw(self.raw) }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        let header = self.raw.header();
        if header.state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (header.vtable.dealloc)(self.raw.ptr()) };
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.raw.id())
            .field("state", &self.raw.header().state)
            .finish()
    }
}

/// Marks the task cancelled and, if it is idle, schedules it so that its
/// scheduler drops the future.
fn abort(raw: RawTask) {
    let header = raw.header();
    if let ToNotified::Submit = header.state.transition_to_notified_and_cancel() {
        // SAFETY: the transition took a reference for the Notified.
        unsafe { (header.vtable.schedule)(raw.ptr()) };
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// Taking the output spends one unit of the polling task's budget.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::coop::budgeted(cx, |cx| this.poll_output(cx))
    }
}

impl<T> JoinHandle<T> {
    /// Takes the task's output if it has finished, else registers `cx`'s
    /// waker; charges no budget (for a caller that charges its own).
    pub(crate) fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        let header = self.raw.header();
        // SAFETY: we are the JoinHandle and `out` has the task's output type.
        unsafe {
            (header.vtable.try_read_output)(
                self.raw.ptr(),
                (&mut out as *mut Poll<_>).cast(),
                cx.waker(),
            )
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the JoinHandle, giving up our reference.
        unsafe { (self.raw.header().vtable.drop_join_handle)(self.raw.ptr()) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.raw.id())
            .field("state", &self.raw.header().state)
            .finish()
    }
}
