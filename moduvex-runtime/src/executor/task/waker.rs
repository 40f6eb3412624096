//! Task wakers: a `RawWaker` whose data pointer is the task's own
//! allocation pointer (never one rebuilt from a reference, so a waker may
//! free the task).
//!
//! Cloning takes a task reference, dropping releases one, and waking asks
//! the state word whether the task must be handed to its scheduler. A waker
//! that submits the task keeps a reference of its own until the scheduler
//! has taken it (see `raw.rs`): the task may run and finish on another
//! thread the moment it is queued.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::Header;
use super::state::ToNotified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake_by_val, wake_by_ref, drop_waker);

/// A waker that borrows the caller's reference instead of owning one.
///
/// # Safety
/// The task must stay alive as long as the returned waker (clones made
/// from it take their own references and may outlive it).
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(ptr.as_ptr() as *const (), &VTABLE);
    // SAFETY: VTABLE's functions uphold the RawWaker contract for task headers; ManuallyDrop keeps us from releasing a reference we never took.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// The task pointer a waker carries: the allocation's own pointer, with
/// the provenance to free it.
///
/// # Safety
/// `data` came from one of our wakers.
unsafe fn task_ptr(data: *const ()) -> NonNull<Header> {
    // SAFETY: non-null: every waker is made from a `NonNull` task pointer.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

/// # Safety
/// `ptr` is a live task: the waker holds (or borrows) a reference.
unsafe fn header<'a>(ptr: NonNull<Header>) -> &'a Header {
    // SAFETY: the caller's reference keeps the task alive.
    unsafe { ptr.as_ref() }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: RawWaker contract: `data` is our task, alive.
    unsafe { header(task_ptr(data)) }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_by_val(data: *const ()) {
    // SAFETY: RawWaker contract: `data` is our task, alive.
    let ptr = unsafe { task_ptr(data) };
    // SAFETY: this waker's reference keeps the task alive.
    let vtable = unsafe { header(ptr) }.vtable;
    // SAFETY: as above.
    match unsafe { header(ptr) }.state.transition_to_notified_by_val() {
        ToNotified::Nothing => {}
        ToNotified::Submit => unreachable!("a by-value wake submits, then releases"),
        ToNotified::SubmitThenRelease => {
            // SAFETY: the transition counted a reference for the Notified; this waker's own reference keeps the task alive meanwhile.
            unsafe { (vtable.schedule)(ptr) };
            // SAFETY: this waker's reference, given up now, after `schedule`.
            unsafe { release(ptr, vtable) };
        }
        // SAFETY: that was the last reference; `ptr` owns the allocation.
        ToNotified::Dealloc => unsafe { (vtable.dealloc)(ptr) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: RawWaker contract: `data` is our task, alive.
    let ptr = unsafe { task_ptr(data) };
    // SAFETY: this waker's reference keeps the task alive throughout.
    let header = unsafe { header(ptr) };
    match header.state.transition_to_notified_by_ref() {
        ToNotified::Nothing | ToNotified::Dealloc => {}
        // SAFETY: the transition counted a reference for the Notified, and this waker keeps its own.
        ToNotified::Submit => unsafe { (header.vtable.schedule)(ptr) },
        ToNotified::SubmitThenRelease => unreachable!("a by-reference wake keeps its reference"),
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: RawWaker contract: `data` is our task, alive.
    let ptr = unsafe { task_ptr(data) };
    // SAFETY: as above.
    let vtable = unsafe { header(ptr) }.vtable;
    // SAFETY: this waker's reference.
    unsafe { release(ptr, vtable) };
}

/// Drops one reference.
///
/// # Safety
/// The caller holds a counted reference to the task at `ptr` and does not
/// use it afterwards.
unsafe fn release(ptr: NonNull<Header>, vtable: &'static super::raw::Vtable) {
    // SAFETY: the caller's reference keeps the task alive until the count drops; no reference into it is held past this call.
    if unsafe { header(ptr) }.state.ref_dec() {
        // SAFETY: that was the last reference; `ptr` is the allocation's own pointer.
        unsafe { (vtable.dealloc)(ptr) };
    }
}
