//! The stage of a task: its future, then its output, then nothing.
//!
//! The one idea: **the future is pinned where it was allocated and only
//! ever dropped there.** `Stage` never hands out the future by value; the
//! only ways to end it are [`Stage::drop_in_place`] (the destructor runs
//! on the future's own address, as `Pin` promises to any future holding
//! an intrusive waiter node) and completion, which drops it the same way
//! before the output is stored.
//!
//! Every method is `unsafe` with one precondition: the caller has
//! exclusive access to the stage. Who has it is decided by the task's state
//! word (see `raw.rs`): the holder of `RUNNING` while the task is not
//! complete; afterwards the `JoinHandle` (if it still wants the output) or
//! the runner that completed it (if not).

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use super::JoinError;

enum Kind<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The future or output of one task (see the module docs).
pub(super) struct Stage<F: Future> {
    kind: UnsafeCell<Kind<F>>,
}

impl<F: Future> Stage<F> {
    pub(super) fn new(future: F) -> Stage<F> {
        Stage {
            kind: UnsafeCell::new(Kind::Running(future)),
        }
    }

    /// Polls the future in place.
    ///
    /// # Safety
    /// Exclusive access (the caller holds `RUNNING`), and the future has
    /// not been dropped: the stage is `Running`.
    pub(super) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: exclusive access (caller's contract).
        match unsafe { &mut *self.kind.get() } {
            // SAFETY: the future lives in the task's heap allocation, which never moves, and this type never moves it out: it is dropped in place (`drop_in_place`), so pinning it here is sound.
            Kind::Running(future) => unsafe { Pin::new_unchecked(future) }.poll(cx),
            _ => unreachable!("polling a task whose future is gone"),
        }
    }

    /// Drops the future or the output where it lies and leaves the stage
    /// `Consumed` — also when the destructor panics, whose payload is
    /// returned. Nothing is dropped twice and the future is never moved.
    ///
    /// # Safety
    /// Exclusive access to the stage.
    pub(super) unsafe fn drop_in_place(&self) -> std::thread::Result<()> {
        let kind = self.kind.get();
        /// Marks the stage consumed once the old value is gone, also while
        /// unwinding out of its destructor.
        struct MarkConsumed<F: Future>(*mut Kind<F>);
        impl<F: Future> Drop for MarkConsumed<F> {
            fn drop(&mut self) {
                // SAFETY: the value at this address was just dropped in place (fully, or as far as an unwinding destructor got, which also ends its fields): writing without dropping it again is the only sound way to reuse the slot.
                unsafe { ptr::write(self.0, Kind::Consumed) };
            }
        }
        catch_unwind(AssertUnwindSafe(|| {
            let _mark = MarkConsumed(kind);
            // SAFETY: exclusive access (caller's contract); the value is initialised, and `MarkConsumed` overwrites it right after.
            unsafe { ptr::drop_in_place(kind) };
        }))
    }

    /// Stores the task's output.
    ///
    /// # Safety
    /// Exclusive access, and the future was dropped (`drop_in_place`): the
    /// stage is `Consumed`.
    pub(super) unsafe fn store_output(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: exclusive access (caller's contract).
        let kind = unsafe { &mut *self.kind.get() };
        debug_assert!(matches!(kind, Kind::Consumed));
        // `Consumed` owns nothing: overwriting it drops nothing.
        *kind = Kind::Finished(output);
    }

    /// Moves the output out (an output is not pinned), leaving `Consumed`.
    ///
    /// # Safety
    /// Exclusive access (the `JoinHandle`, once the task is complete).
    ///
    /// # Panics
    /// If the output was already taken.
    pub(super) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        // SAFETY: exclusive access (caller's contract).
        let kind = unsafe { &mut *self.kind.get() };
        match mem::replace(kind, Kind::Consumed) {
            Kind::Finished(output) => output,
            _ => panic!("`JoinHandle` polled after it returned its result"),
        }
    }
}

/// Drops a panic payload without letting a second panic escape: a
/// payload whose destructor panics yields a new payload, which is dropped
/// the same way; after a few rounds the last one is leaked rather than
/// unwound into the scheduler.
pub(super) fn drop_panic_payload(mut payload: Box<dyn Any + Send>) {
    for _ in 0..4 {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(again) => payload = again,
        }
    }
    mem::forget(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::marker::PhantomPinned;
    use std::rc::Rc;

    /// A future that records its address when polled and checks, when
    /// dropped, that it was not moved since (as an intrusive waiter would).
    struct AddressBound {
        polled_at: Cell<usize>,
        moved: Rc<Cell<Option<bool>>>,
        _pin: PhantomPinned,
    }

    impl Future for AddressBound {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polled_at.set(&*self as *const Self as usize);
            Poll::Pending
        }
    }

    impl Drop for AddressBound {
        fn drop(&mut self) {
            let here = self as *const Self as usize;
            self.moved.set(Some(self.polled_at.get() != here));
        }
    }

    #[test]
    fn the_future_is_dropped_where_it_was_polled() {
        let moved = Rc::new(Cell::new(None));
        let stage = Box::new(Stage::new(AddressBound {
            polled_at: Cell::new(0),
            moved: moved.clone(),
            _pin: PhantomPinned,
        }));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        // SAFETY: this test is the only user of the stage.
        unsafe {
            assert!(stage.poll(&mut cx).is_pending());
            assert!(stage.drop_in_place().is_ok());
        }
        assert_eq!(moved.get(), Some(false), "dropped at another address");
    }

    struct PanicOnDrop(Rc<Cell<u32>>);
    impl Future for PanicOnDrop {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
            panic!("boom in drop");
        }
    }

    #[test]
    fn a_panicking_destructor_leaves_the_stage_consumed_and_runs_once() {
        let drops = Rc::new(Cell::new(0));
        let stage = Stage::new(PanicOnDrop(drops.clone()));
        // SAFETY: this test is the only user of the stage.
        unsafe {
            let payload = stage.drop_in_place().unwrap_err();
            drop_panic_payload(payload);
            assert!(matches!(&*stage.kind.get(), Kind::Consumed));
            // Dropping a consumed stage drops nothing.
            assert!(stage.drop_in_place().is_ok());
        }
        drop(stage);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn output_is_stored_and_taken_once() {
        let stage = Stage::new(std::future::ready(5u32));
        // SAFETY: this test is the only user of the stage.
        unsafe {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let Poll::Ready(v) = stage.poll(&mut cx) else {
                panic!("ready future");
            };
            stage.drop_in_place().unwrap();
            stage.store_output(Ok(v));
            assert_eq!(stage.take_output().unwrap(), 5);
            let again = catch_unwind(AssertUnwindSafe(|| stage.take_output()));
            assert!(again.is_err());
        }
    }

    /// A payload whose destructor panics, and whose second payload panics
    /// too, never escapes.
    #[test]
    fn payload_drops_never_unwind() {
        struct Nasty(u32);
        impl Drop for Nasty {
            fn drop(&mut self) {
                if self.0 > 0 {
                    std::panic::panic_any(Nasty(self.0 - 1));
                }
            }
        }
        // Three nested panics, within the rounds: nothing escapes and
        // nothing leaks (Miri and LeakSanitizer check the latter).
        drop_panic_payload(Box::new(Nasty(3)));
    }
}
