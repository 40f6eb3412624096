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
mod id;
mod join;
pub(crate) mod raw;
mod stage;
mod state;
mod waker;

pub use error::JoinError;
pub use id::{id, try_id, Id};
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

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        // SAFETY: the wrapper's counted reference keeps the task alive.
        unsafe { (self.header().vtable.id)(self.ptr) }
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
    ///
    /// # Panics
    /// If the task's future is not `Send` and this is not its thread (see
    /// [`new_local_task`]): a scheduler bug, caught before it polls.
    pub(crate) fn run(self) {
        let owner = self.0.header().owner_thread;
        if owner != 0 && owner != thread_token() {
            // Forget the reference rather than drop it: dropping it here
            // could free the task, and with it the future, on this thread.
            std::mem::forget(self);
            panic!(
                "moduvex-runtime bug: a `spawn_local` task was about to be polled on a thread \
                 other than the one that spawned it"
            );
        }
        let me = ManuallyDrop::new(self);
        // SAFETY: our counted reference is consumed by `poll`.
        unsafe { (me.0.header().vtable.poll)(me.0.raw.ptr) };
    }
}

/// Allocates a task for `future`, returning the owned-list reference, the
/// first `Notified` and the `JoinHandle`. Any thread may poll it.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    new_task_owned_by(future, scheduler, 0)
}

/// As [`new_task`], for a future that is not `Send`: the task records the
/// calling thread, and [`Notified::run`] refuses to poll it anywhere else.
pub(crate) fn new_local_task<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    new_task_owned_by(future, scheduler, thread_token())
}

fn new_task_owned_by<F, S>(
    future: F,
    scheduler: S,
    owner_thread: u64,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let ptr = raw::allocate(future, scheduler, owner_thread);
    // SAFETY: `State::new` counts exactly these three references.
    unsafe {
        (
            Task::from_raw(ptr),
            Notified::from_raw(ptr),
            JoinHandle::from_raw(RawTask { ptr }),
        )
    }
}

/// A number unique to the calling thread for the life of the process
/// (never 0): cheaper to read than `std::thread::current().id()`.
pub(crate) fn thread_token() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: Cell<u64> = const { Cell::new(0) };
    }
    TOKEN.with(|t| match t.get() {
        0 => {
            let token = NEXT.fetch_add(1, Ordering::Relaxed);
            t.set(token);
            token
        }
        token => token,
    })
}

/// Size in bytes of a task's header and scheduler handle, without the
/// future or its output.
pub(crate) const fn header_size<S>() -> usize {
    raw::header_size::<S>()
}

/// Size in bytes of the header alone (state, vtable, owned slot, join
/// waker, owner thread).
pub(crate) const fn bare_header_size() -> usize {
    raw::bare_header_size()
}

#[cfg(test)]
mod tests;
