//! Task wakers: a `RawWaker` whose data pointer is the task header.
//!
//! Cloning takes a task reference, dropping releases one, and waking asks
//! the state word whether the task must be handed to its scheduler.

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

/// # Safety
/// `data` is a task header pointer carried by one of our wakers.
unsafe fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: the waker holds (or borrows) a reference: the task is alive.
    unsafe { &*(data as *const Header) }
}

/// # Safety
/// `data` is a header pointer with a counted reference we may hand over.
unsafe fn submit(data: *const ()) {
    // SAFETY: non-null: it came from a NonNull in `borrowed` or `clone`.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: the counted reference becomes the scheduler's Notified.
    unsafe { (header(data).vtable.schedule)(ptr) };
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: RawWaker contract: `data` is our task header.
    unsafe { header(data) }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_by_val(data: *const ()) {
    // SAFETY: RawWaker contract: `data` is our task header.
    let h = unsafe { header(data) };
    match h.state.transition_to_notified_by_val() {
        ToNotified::Nothing => {}
        // SAFETY: the waker's reference was transferred to the Notified.
        ToNotified::Submit => unsafe { submit(data) },
        // SAFETY: that was the last reference.
        ToNotified::Dealloc => unsafe { (h.vtable.dealloc)(NonNull::from(h)) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: RawWaker contract: `data` is our task header.
    let h = unsafe { header(data) };
    match h.state.transition_to_notified_by_ref() {
        ToNotified::Nothing | ToNotified::Dealloc => {}
        // SAFETY: the transition took a new reference for the Notified.
        ToNotified::Submit => unsafe { submit(data) },
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: RawWaker contract: `data` is our task header.
    let h = unsafe { header(data) };
    if h.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (h.vtable.dealloc)(NonNull::from(h)) };
    }
}
