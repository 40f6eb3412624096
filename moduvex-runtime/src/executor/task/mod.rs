//! Tasks: one allocation per spawned future, one atomic state word.
//!
//! # Reference kinds
//!
//! | handle | holds a reference | may |
//! |---|---|---|
//! | `Notified<S>` | yes | be run (poll) once, by the scheduler that got it |
//! | `Task<S>` | yes | sit in the owned list; be shut down |
//! | `Waker` | yes | notify (hand a new `Notified` to the scheduler) |
//! | `JoinHandle<T>` | yes | read the output, register a join waker, abort |
//! | `AbortHandle` | yes | abort |
//!
//! The state machine lives in [`state`], the typed code in [`raw`]; this
//! module holds the type-erased handles and the [`Schedule`] trait each
//! scheduler implements.

use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

mod error;
mod join;
pub(crate) mod raw;
mod stage;
mod state;
mod waker;

pub use error::JoinError;
pub use join::{AbortHandle, JoinHandle};
use raw::Header;

/// What a scheduler provides to its tasks.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a task that was woken.
    fn schedule(&self, task: Notified<Self>);

    /// Removes a completed task from the owned list, returning the list's
    /// reference (`None` if shutdown already took it out).
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;
}

/// A type-erased pointer to a task; carries no reference by itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a RawTask is a pointer into a task whose shared state is atomic;
// every handle that wraps it documents its own thread rules.
unsafe impl Send for RawTask {}
// SAFETY: as above.
unsafe impl Sync for RawTask {}

impl RawTask {
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: every RawTask in use is backed by a reference held by its wrapper, so the header is alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn ptr(&self) -> NonNull<Header> {
        self.ptr
    }
}

/// A counted reference to a task, as held by the owned-tasks list.
pub(crate) struct Task<S: Schedule> {
    raw: RawTask,
    _s: PhantomData<S>,
}

// SAFETY: a Task only changes atomic state, except `shutdown`, which drops
// the future: schedulers call it only on the thread allowed to drop it
// (the owner thread for `spawn_local` tasks; any thread for `Send` ones).
unsafe impl<S: Schedule> Send for Task<S> {}
// SAFETY: no `&self` method touches the future.
unsafe impl<S: Schedule> Sync for Task<S> {}

impl<S: Schedule> Task<S> {
    /// # Safety
    /// `ptr` carries a counted reference that the new handle takes over.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task<S> {
        Task {
            raw: RawTask { ptr },
            _s: PhantomData,
        }
    }

    pub(crate) fn header(&self) -> &Header {
        self.raw.header()
    }

    /// Cancels the task if it is idle (dropping its future here), and
    /// releases this reference.
    pub(crate) fn shutdown(self) {
        let me = ManuallyDrop::new(self);
        // SAFETY: our counted reference is handed over to `shutdown`.
        unsafe { (me.header().vtable.shutdown)(me.raw.ptr) };
    }

    /// Whether two handles point to the same task.
    pub(crate) fn ptr_eq(&self, other: &Task<S>) -> bool {
        self.raw == other.raw
    }
}

impl<S: Schedule> Drop for Task<S> {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.raw.ptr) };
        }
    }
}

/// A task that was woken and waits in a run queue.
pub(crate) struct Notified<S: Schedule>(Task<S>);

impl<S: Schedule> Notified<S> {
    /// # Safety
    /// `ptr` carries a counted reference for a notified task.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified<S> {
        // SAFETY: forwarded contract.
        Notified(unsafe { Task::from_raw(ptr) })
    }

    /// The task's address, to recognise it without a reference.
    pub(crate) fn addr(&self) -> NonNull<()> {
        self.0.raw.ptr.cast()
    }

    /// Polls the task once (or cancels it if it was aborted).
    pub(crate) fn run(self) {
        let me = ManuallyDrop::new(self);
        // SAFETY: our counted reference is consumed by `poll`.
        unsafe { (me.0.header().vtable.poll)(me.0.raw.ptr) };
    }
}

/// Allocates a task for `future`, returning the owned-list reference, the
/// first `Notified` and the `JoinHandle`.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let ptr = raw::allocate(future, scheduler);
    // SAFETY: `State::new` counts exactly these three references.
    unsafe {
        (
            Task::from_raw(ptr),
            Notified::from_raw(ptr),
            JoinHandle::from_raw(RawTask { ptr }),
        )
    }
}

/// Size in bytes of a task's header and scheduler handle, without the
/// future or its output.
pub(crate) const fn header_size<S>() -> usize {
    raw::header_size::<S>()
}

#[cfg(test)]
mod tests;
