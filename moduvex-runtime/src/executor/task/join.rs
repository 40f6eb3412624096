//! `JoinHandle`: the owned permission to await a task's output.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::state::ToNotified;
use super::{JoinError, RawTask};

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
    pub fn abort(&self) {
        let header = self.raw.header();
        if let ToNotified::Submit = header.state.transition_to_notified_and_cancel() {
            // SAFETY: the transition took a reference for the Notified.
            unsafe { (header.vtable.schedule)(self.raw.ptr()) };
        }
    }

    /// True once the task has finished (with output, panic or cancellation).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
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
            .field("state", &self.raw.header().state)
            .finish()
    }
}
