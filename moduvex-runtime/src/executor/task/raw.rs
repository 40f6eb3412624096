//! The task allocation and the harness that drives it.
//!
//! A task is one heap allocation, a `Cell<F, S>`: the `Header` (state word,
//! vtable, owned-list slot, join waker), the scheduler handle `S`, the
//! task's [`Id`] (out of the header: only handles asking for it read it),
//! and the [`Stage`] (the future, then its output). Type-erased handles hold the
//! allocation's own pointer (`NonNull<Header>`, made once from the `Box`),
//! reach the typed code through the header's vtable, and project every
//! field from that pointer: no owning pointer is ever rebuilt from a
//! shared reference, so freeing the allocation through it is sound.
//!
//! # Safety argument
//!
//! * **Liveness.** Each handle holds a counted reference (see
//!   `state.rs`); the allocation is freed exactly once, by whoever drops
//!   the last one. A function that publishes a reference to another thread
//!   (a `Notified` pushed on a run queue) keeps one of its own until it has
//!   stopped touching the task and the scheduler handle inside it: once
//!   published, another thread may run, complete and release the task at
//!   once. So `schedule` is only ever called by a holder of a second
//!   reference (a waker, the runner, a join or abort handle).
//! * **The stage** is touched only by whoever holds the `RUNNING` bit (poll,
//!   cancel, complete), or — once `COMPLETE` is set — by the `JoinHandle`
//!   while `JOIN_INTEREST` is set, or by the runner that completed it when
//!   `JOIN_INTEREST` was already clear. The state word's CAS decides which.
//!   The future is dropped in place, never moved (see `stage.rs`).
//! * **The join waker slot** is written only by the `JoinHandle` while
//!   `JOIN_WAKER` is clear; the runner reads it only when the `COMPLETE`
//!   transition saw `JOIN_WAKER` set. `dealloc` drops it when no handle is left.
//! * **Panics** in the future's `poll` or `Drop`, in the output's `Drop`,
//!   or in a panic payload's `Drop`, are caught here; none unwinds into a
//!   scheduler.

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{addr_of, NonNull};
use std::task::{Context, Poll, Waker};

use super::id::{Id, IdGuard};
use super::stage::{drop_panic_payload, Stage};
use super::state::{State, ToIdle, ToRunning};
use super::{waker, JoinError, Notified, Schedule, Task};

/// The type-erased operations of one task type.
pub(crate) struct Vtable {
    /// Polls (or cancels) the task; consumes the caller's `Notified` reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hands a `Notified` reference (already counted) to the scheduler. The
    /// caller holds a reference of its own until this returns.
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
    /// The task's id; the caller holds a reference.
    pub(crate) id: unsafe fn(NonNull<Header>) -> Id,
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
    /// For a task whose future is not `Send`: the token of the one thread
    /// allowed to poll and drop it ([`super::thread_token`]); 0 for a
    /// `Send` task. Written at allocation, never changed.
    pub(crate) owner_thread: u64,
}

/// The whole task allocation. `repr(C)` keeps the header at offset zero so
/// a `NonNull<Header>` is also the cell's address.
#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    stage: Stage<F>,
    /// Written at allocation, never changed. Last, so the fields every
    /// poll and join touches (header, scheduler, stage) stay together.
    id: Id,
}

/// Size of a task without its future and output: header, scheduler and id.
pub(crate) const fn header_size<S>() -> usize {
    mem::size_of::<Header>() + mem::size_of::<S>() + mem::size_of::<Id>()
}

/// Size of the header alone: what queues, wakers and the state word touch.
pub(crate) const fn bare_header_size() -> usize {
    mem::size_of::<Header>()
}

/// Allocates a task; returns its header with the three initial references
/// (owned list, first `Notified`, `JoinHandle`) accounted for by the caller.
///
/// The returned pointer comes from the `Box` itself and so may free the
/// whole allocation; every handle keeps exactly this pointer.
pub(crate) fn allocate<F, S>(future: F, scheduler: S, owner_thread: u64) -> NonNull<Header>
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
            owner_thread,
        },
        scheduler,
        id: Id::next(),
        stage: Stage::new(future),
    });
    // SAFETY: `Box::into_raw` never returns null.
    unsafe { NonNull::new_unchecked(Box::into_raw(cell)) }.cast()
}

fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
        id: id::<F, S>,
    }
}

// ── Field projections from the allocation pointer ──────────────────────────
//
// Each returns a reference to one field only, derived from the task's own
// pointer, valid while the caller's counted reference keeps the task alive
// (every caller below holds one, as its own contract says).

/// # Safety
/// `ptr` points to a live `Cell<F, S>`.
unsafe fn header<'a>(ptr: NonNull<Header>) -> &'a Header {
    // SAFETY: the header is at offset 0 of the live cell (caller's contract).
    unsafe { ptr.as_ref() }
}

/// # Safety
/// `ptr` points to a live `Cell<F, S>`.
unsafe fn scheduler<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a S {
    let cell = ptr.cast::<Cell<F, S>>().as_ptr();
    // SAFETY: a field of the live cell (caller's contract); `S` is only ever accessed through shared references.
    unsafe { &*addr_of!((*cell).scheduler) }
}

/// # Safety
/// `ptr` points to a live `Cell<F, S>`.
unsafe fn stage<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Stage<F> {
    let cell = ptr.cast::<Cell<F, S>>().as_ptr();
    // SAFETY: a field of the live cell (caller's contract); the stage is mutated only through its `UnsafeCell`, under the rules of `stage.rs`.
    unsafe { &*addr_of!((*cell).stage) }
}

/// The id of the task at `ptr`, through its vtable.
///
/// # Safety
/// `ptr` is a live task header.
pub(crate) unsafe fn id_of(ptr: NonNull<Header>) -> Id {
    // SAFETY: a live header (caller's contract); `id` needs only that.
    unsafe { (header(ptr).vtable.id)(ptr) }
}

/// # Safety
/// `ptr` points to a live `Cell<F, S>`.
unsafe fn id<F: Future, S>(ptr: NonNull<Header>) -> Id {
    let cell = ptr.cast::<Cell<F, S>>().as_ptr();
    // SAFETY: a field of the live cell (caller's contract), written once at allocation and only read since.
    unsafe { *addr_of!((*cell).id) }
}

/// # Safety
/// The caller holds a `Notified` reference to a live `Cell<F, S>`.
unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let state = &unsafe { header(ptr) }.state;
    match state.transition_to_running() {
        ToRunning::Poll => {}
        ToRunning::Cancel => {
            // SAFETY: we hold RUNNING and the Notified's reference.
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
    // SAFETY: the runner's reference keeps the cell alive.
    let stage = unsafe { stage::<F, S>(ptr) };
    // SAFETY: the runner's reference keeps the task alive until the guard drops (below, before `complete`).
    let id_guard = unsafe { IdGuard::enter(ptr) };
    // SAFETY: the runner's reference keeps the cell alive.
    let task_id = || unsafe { id::<F, S>(ptr) };
    // SAFETY: we hold RUNNING (exclusive access) and the future is alive: a task is only polled before it completes.
    let res = catch_unwind(AssertUnwindSafe(|| unsafe { stage.poll(&mut cx) }));
    let output = match res {
        Ok(Poll::Pending) => {
            drop(id_guard);
            match state.transition_to_idle() {
                ToIdle::Idle => {}
                // SAFETY: ours was the last reference.
                ToIdle::Dealloc => unsafe { dealloc::<F, S>(ptr) },
                ToIdle::Notified => {
                    // Woken while running: requeue behind the tasks already
                    // waiting. The transition took a reference for the new
                    // Notified; ours keeps the task alive meanwhile.
                    // SAFETY: the new Notified reference is handed over and we hold our own until `schedule` returns.
                    unsafe { schedule::<F, S>(ptr) };
                    // SAFETY: our reference is still counted.
                    unsafe { release::<F, S>(ptr) };
                }
                // SAFETY: still RUNNING, with our reference.
                ToIdle::Cancel => unsafe { cancel_and_complete::<F, S>(ptr) },
            }
            return;
        }
        Ok(Poll::Ready(out)) => Ok(out),
        Err(panic) => Err(JoinError::panic(panic, task_id())),
    };
    // Drop the future (in place) before publishing its output; a panicking
    // destructor turns the result into a panic error.
    // SAFETY: we hold RUNNING.
    let output = match unsafe { stage.drop_in_place() } {
        Ok(()) => output,
        // The future's destructor panicked: that is the task's result,
        // unless its poll panicked first (the first panic is kept). The
        // value given up is dropped without letting it unwind.
        Err(panic) => match output {
            Ok(out) => {
                drop_output_safely(out);
                Err(JoinError::panic(panic, task_id()))
            }
            Err(first) => {
                drop_panic_payload(panic);
                Err(first)
            }
        },
    };
    drop(id_guard);
    // SAFETY: still RUNNING, and the future was dropped.
    unsafe { stage.store_output(output) };
    // SAFETY: still RUNNING, output stored, our reference held.
    unsafe { complete::<F, S>(ptr) };
}

/// Drops a value whose destructor might panic without unwinding further.
fn drop_output_safely<T>(value: T) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        drop_panic_payload(panic);
    }
}

/// Drops one reference the caller holds.
///
/// # Safety
/// The caller holds a counted reference to a live `Cell<F, S>` and does
/// not touch the task afterwards.
unsafe fn release<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive until here.
    if unsafe { header(ptr) }.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// # Safety
/// The caller holds RUNNING and one reference, which this consumes.
unsafe fn cancel_and_complete<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let stage = unsafe { stage::<F, S>(ptr) };
    // SAFETY: the caller's reference keeps the cell alive.
    let task_id = unsafe { id::<F, S>(ptr) };
    // The future's destructor sees its own task's id, as its polls did.
    // SAFETY: the caller's reference keeps the task alive until the guard drops (before `complete`).
    let id_guard = unsafe { IdGuard::enter(ptr) };
    // SAFETY: RUNNING gives exclusive access to the stage.
    let dropped = unsafe { stage.drop_in_place() };
    drop(id_guard);
    let err = match dropped {
        Ok(()) => JoinError::cancelled(task_id),
        Err(panic) => JoinError::panic(panic, task_id),
    };
    // SAFETY: still RUNNING, and the future was dropped.
    unsafe { stage.store_output(Err(err)) };
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
    let header = unsafe { header(ptr) };
    let snapshot = header.state.transition_to_complete();
    if !snapshot.is_join_interested() {
        // Nobody will read the output: drop it here.
        // SAFETY: COMPLETE without JOIN_INTEREST: no JoinHandle reaches the stage any more; the runner has it.
        if let Err(panic) = unsafe { stage::<F, S>(ptr).drop_in_place() } {
            drop_panic_payload(panic);
        }
    } else if snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER was set when COMPLETE was: the handle no longer writes the slot, so reading it is shared access.
        if let Some(w) = unsafe { &*header.join_waker.get() } {
            // A panicking join waker must not unwind into the scheduler.
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| w.wake_by_ref())) {
                drop_panic_payload(panic);
            }
        }
    }
    // SAFETY: the reference below is borrowed, not owned: never dropped.
    let me = mem::ManuallyDrop::new(unsafe { Task::<S>::from_raw(ptr) });
    // SAFETY: our reference keeps the cell alive.
    let released = unsafe { scheduler::<F, S>(ptr) }.release(&me);
    let count = match released {
        Some(task) => {
            // The list's reference is dropped with ours, in one step.
            mem::forget(task);
            2
        }
        None => 1,
    };
    if header.state.transition_to_terminal(count) {
        // SAFETY: no references remain.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// # Safety
/// The caller hands over one counted reference as a `Notified`, and holds
/// another reference of its own until this returns (see the module docs).
unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's own reference keeps the cell alive throughout, even after `schedule` has published the Notified.
    let scheduler = unsafe { scheduler::<F, S>(ptr) };
    // SAFETY: the reference is counted (caller's contract).
    let task = unsafe { Notified::from_raw(ptr) };
    scheduler.schedule(task);
}

/// # Safety
/// No references remain; `ptr` came from `allocate::<F, S>`.
unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: `ptr` is the pointer `Box::into_raw` returned in `allocate` (handles never rebuild it), and no one else can reach the cell.
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
    let header = unsafe { header(ptr) };
    // SAFETY: we are the JoinHandle.
    if !unsafe { can_read_output(header, waker) } {
        return;
    }
    // SAFETY: COMPLETE with JOIN_INTEREST set: the stage is the handle's.
    let output = unsafe { stage::<F, S>(ptr).take_output() };
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

/// Stores `waker` in the join slot and publishes it; on failure (the task
/// completed meanwhile) the slot is emptied again.
///
/// # Safety
/// `JOIN_WAKER` must be clear and the caller the `JoinHandle`.
unsafe fn set_join_waker(
    header: &Header,
    waker: Waker,
) -> Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: exclusive access to the slot while JOIN_WAKER is clear; the waker it replaces (if any) is dropped after the write, with no lock held.
    let old = unsafe { (*header.join_waker.get()).replace(waker) };
    drop(old);
    let res = header.state.set_join_waker();
    if res.is_err() {
        // SAFETY: the bit was not set, so the slot is still exclusively ours.
        let unused = unsafe { (*header.join_waker.get()).take() };
        drop(unused);
    }
    res
}

/// # Safety
/// The caller is the `JoinHandle` and gives up its reference.
unsafe fn drop_join_handle<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handle's reference keeps the cell alive.
    let header = unsafe { header(ptr) };
    match header.state.unset_join_interest() {
        Ok(_) => {
            // SAFETY: JOIN_WAKER is now clear: the slot is ours to empty.
            let waker = unsafe { (*header.join_waker.get()).take() };
            drop(waker);
        }
        Err(_) => {
            // Complete: the output is ours to drop (a panicking destructor
            // is contained: dropping a handle never panics).
            // SAFETY: COMPLETE with JOIN_INTEREST set: exclusive access.
            if let Err(panic) = unsafe { stage::<F, S>(ptr).drop_in_place() } {
                drop_panic_payload(panic);
            }
        }
    }
    // SAFETY: the handle's reference, given up here.
    unsafe { release::<F, S>(ptr) };
}

/// # Safety
/// The caller hands over one counted reference (the owned list's).
unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handed-over reference keeps the cell alive.
    if unsafe { header(ptr) }.state.transition_to_shutdown() {
        // SAFETY: we took RUNNING; `complete` consumes our reference.
        unsafe { cancel_and_complete::<F, S>(ptr) };
    } else {
        // SAFETY: the handed-over reference.
        unsafe { release::<F, S>(ptr) };
    }
}
