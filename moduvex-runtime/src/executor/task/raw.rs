//! The task allocation and the harness that drives it.
//!
//! A task is one heap allocation, a `Cell<F, S>`: the `Header` (state word,
//! vtable, owned-list slot, join waker), the scheduler handle `S`, and the
//! `Stage` (the future, then its output). Type-erased handles hold a
//! `NonNull<Header>` and reach the typed code through the header's vtable.
//!
//! # Safety argument
//!
//! * The stage is touched only by whoever holds the `RUNNING` bit (poll,
//!   cancel, complete), or — once `COMPLETE` is set — by the `JoinHandle`
//!   while `JOIN_INTEREST` is set, or by the runner that completed it when
//!   `JOIN_INTEREST` was already clear. The state word's CAS decides which.
//! * The join waker slot is written only by the `JoinHandle` while
//!   `JOIN_WAKER` is clear; the runner reads it only when the `COMPLETE`
//!   transition saw `JOIN_WAKER` set. `dealloc` drops it when no handle is left.
//! * The allocation is freed exactly once, by whoever drops the last
//!   reference (the count lives in the same state word).

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::state::{State, ToIdle, ToRunning};
use super::{waker, JoinError, Notified, Schedule, Task};

/// The type-erased operations of one task type.
pub(crate) struct Vtable {
    /// Polls (or cancels) the task; consumes the caller's `Notified` reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hands a `Notified` reference (already counted) to the scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst` (`Poll<Result<T, JoinError>>`) if ready,
    /// else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The `JoinHandle` is gone; consumes its reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Cancels the task at runtime shutdown; consumes the caller's reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// The part of every task that type-erased handles can see.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// Slot in the scheduler's owned-tasks list; written and read under
    /// that list's lock.
    pub(crate) owned_key: UnsafeCell<usize>,
    /// The `JoinHandle`'s waker (see the module's safety argument).
    join_waker: UnsafeCell<Option<Waker>>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The whole task allocation. `repr(C)` keeps the header at offset zero so
/// a `NonNull<Header>` can be cast back to the cell.
#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
}

/// Size of a task without its future and output: header plus scheduler.
pub(crate) const fn header_size<S>() -> usize {
    mem::size_of::<Header>() + mem::size_of::<S>()
}

/// Allocates a task; returns its header with the three initial references
/// (owned list, first `Notified`, `JoinHandle`) accounted for by the caller.
pub(crate) fn allocate<F, S>(future: F, scheduler: S) -> NonNull<Header>
where
    F: Future + 'static,
    S: Schedule,
{
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(),
            vtable: vtable::<F, S>(),
            owned_key: UnsafeCell::new(usize::MAX),
            join_waker: UnsafeCell::new(None),
        },
        scheduler,
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    NonNull::from(Box::leak(cell)).cast()
}

fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    }
}

/// # Safety
/// `ptr` must point to a live `Cell<F, S>`.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: the header is at offset 0 of a `repr(C)` cell (caller's contract).
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

/// # Safety
/// The caller holds a `Notified` reference to a live `Cell<F, S>`.
unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        ToRunning::Poll => {}
        ToRunning::Cancel => {
            // SAFETY: we hold RUNNING.
            unsafe { cancel_and_complete::<F, S>(ptr) };
            return;
        }
        ToRunning::Skip => return,
        ToRunning::Dealloc => {
            // SAFETY: ours was the last reference.
            unsafe { dealloc::<F, S>(ptr) };
            return;
        }
    }

    // The runner's reference keeps the task alive while polling, so this
    // waker may borrow it without taking a reference of its own.
    // SAFETY: `ptr` is a live task header for the duration of the poll.
    let waker = unsafe { waker::borrowed(ptr) };
    let mut cx = Context::from_waker(&waker);
    // SAFETY: we hold RUNNING: exclusive access to the stage.
    let stage = unsafe { &mut *cell.stage.get() };
    let res = catch_unwind(AssertUnwindSafe(|| match stage {
        // SAFETY: the future lives in the heap cell and is never moved until it is dropped in place.
        Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(&mut cx),
        _ => unreachable!("polling a task whose future is gone"),
    }));
    let output = match res {
        Ok(Poll::Pending) => {
            match cell.header.state.transition_to_idle() {
                ToIdle::Idle => {}
                // SAFETY: ours was the last reference.
                ToIdle::Dealloc => unsafe { dealloc::<F, S>(ptr) },
                // Woken while running: requeue behind the tasks already
                // waiting, reusing our reference.
                // SAFETY: our Notified reference is handed on.
                ToIdle::Notified => unsafe { schedule::<F, S>(ptr) },
                // SAFETY: still RUNNING.
                ToIdle::Cancel => unsafe { cancel_and_complete::<F, S>(ptr) },
            }
            return;
        }
        Ok(Poll::Ready(out)) => Ok(out),
        Err(panic) => Err(JoinError::panic(panic)),
    };
    // Drop the future before publishing its output; a panicking destructor
    // turns the result into a panic error.
    let output = match drop_stage(stage) {
        Ok(()) => output,
        Err(panic) => Err(JoinError::panic(panic)),
    };
    *stage = Stage::Finished(output);
    // SAFETY: still RUNNING, output stored.
    unsafe { complete::<F, S>(ptr) };
}

/// Replaces the stage with `Consumed` before dropping its old value, so a
/// panicking destructor can never cause a second drop.
fn drop_stage<F: Future>(stage: &mut Stage<F>) -> std::thread::Result<()> {
    let old = mem::replace(stage, Stage::Consumed);
    catch_unwind(AssertUnwindSafe(move || drop(old)))
}

/// # Safety
/// The caller holds RUNNING and one reference, which this consumes.
unsafe fn cancel_and_complete<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: RUNNING gives exclusive access to the stage.
    let stage = unsafe { &mut *cell.stage.get() };
    let err = match drop_stage(stage) {
        Ok(()) => JoinError::cancelled(),
        Err(panic) => JoinError::panic(panic),
    };
    *stage = Stage::Finished(Err(err));
    // SAFETY: as required by `complete`.
    unsafe { complete::<F, S>(ptr) };
}

/// Publishes completion, notifies the joiner, leaves the owned list and
/// drops the runner's reference.
///
/// # Safety
/// The caller holds RUNNING and one reference, and has stored the output.
unsafe fn complete<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    let snapshot = cell.header.state.transition_to_complete();
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !snapshot.is_join_interested() {
            // Nobody will read the output: drop it here.
            // SAFETY: no JoinHandle can reach the stage any more.
            let _ = drop_stage(unsafe { &mut *cell.stage.get() });
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER was set when COMPLETE was: the handle no longer writes the slot, so reading it is shared access.
            if let Some(w) = unsafe { &*cell.header.join_waker.get() } {
                w.wake_by_ref();
            }
        }
    }));
    // SAFETY: the reference below is borrowed, not owned: forget it.
    let me = mem::ManuallyDrop::new(unsafe { Task::<S>::from_raw(ptr) });
    let released = cell.scheduler.release(&me);
    let count = match released {
        Some(task) => {
            mem::forget(task);
            2
        }
        None => 1,
    };
    if cell.header.state.transition_to_terminal(count) {
        // SAFETY: no references remain.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// # Safety
/// The caller hands over one counted reference as a `Notified`.
unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handed-over reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: the reference is counted (caller's contract).
    let task = unsafe { Notified::from_raw(ptr) };
    cell.scheduler.schedule(task);
}

/// # Safety
/// No references remain; `ptr` came from `allocate::<F, S>`.
unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the cell was leaked from a Box in `allocate`, and no one else can reach it.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}

/// # Safety
/// The caller is the `JoinHandle<F::Output>`; `dst` points to a
/// `Poll<Result<F::Output, JoinError>>`.
unsafe fn try_read_output<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: we are the JoinHandle.
    if !unsafe { can_read_output(&cell.header, waker) } {
        return;
    }
    // SAFETY: COMPLETE with JOIN_INTEREST set: the stage is the handle's.
    let stage = unsafe { &mut *cell.stage.get() };
    let output = match mem::replace(stage, Stage::Consumed) {
        Stage::Finished(output) => output,
        _ => panic!("`JoinHandle` polled after it returned its result"),
    };
    // SAFETY: the caller passes a valid destination of this type.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(output) };
}

/// True if the output is ready; otherwise makes sure `waker` is stored.
///
/// # Safety
/// Only the `JoinHandle` may call this.
unsafe fn can_read_output(header: &Header, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    if snapshot.is_complete() {
        return true;
    }
    let res = if !snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is clear: the slot is ours.
        unsafe { set_join_waker(header, waker.clone()) }
    } else {
        // SAFETY: JOIN_WAKER is set: shared read, as the runner may read too.
        let same = unsafe { &*header.join_waker.get() }
            .as_ref()
            .is_some_and(|w| w.will_wake(waker));
        if same {
            return false;
        }
        header
            .state
            .unset_join_waker()
            // SAFETY: the unset succeeded: the slot is ours again.
            .and_then(|_| unsafe { set_join_waker(header, waker.clone()) })
    };
    match res {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

/// # Safety
/// `JOIN_WAKER` must be clear and the caller the `JoinHandle`.
unsafe fn set_join_waker(
    header: &Header,
    waker: Waker,
) -> Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: exclusive access to the slot while JOIN_WAKER is clear.
    unsafe { *header.join_waker.get() = Some(waker) };
    let res = header.state.set_join_waker();
    if res.is_err() {
        // SAFETY: the bit was not set, so the slot is still exclusively ours.
        unsafe { *header.join_waker.get() = None };
    }
    res
}

/// # Safety
/// The caller is the `JoinHandle` and gives up its reference.
unsafe fn drop_join_handle<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.unset_join_interest() {
        // SAFETY: JOIN_WAKER is now clear: the slot is ours to empty.
        Ok(_) => drop(unsafe { (*cell.header.join_waker.get()).take() }),
        Err(_) => {
            // Complete: the output is ours to drop.
            // SAFETY: COMPLETE with JOIN_INTEREST set: exclusive access.
            let _ = drop_stage(unsafe { &mut *cell.stage.get() });
        }
    }
    if cell.header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// # Safety
/// The caller hands over one counted reference (the owned list's).
unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handed-over reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        // SAFETY: we took RUNNING; `complete` consumes our reference.
        unsafe { cancel_and_complete::<F, S>(ptr) };
    } else if cell.header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
}
