//! Cooperative scheduling budget.
//!
//! A task whose socket or channel is always ready would otherwise loop
//! forever inside one poll, starving timers, I/O and every other task on
//! its thread. The scheduler gives each task poll a budget of operations;
//! every resource that completes an operation spends one unit, and once the
//! budget is spent the resource answers `Pending` (after waking the task),
//! so the task yields and is polled again after the others.
//!
//! Outside a scheduler's poll the budget is unlimited, so resources used
//! from another executor behave as if this module did not exist.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations one task poll may complete before it is made to yield
/// (tokio uses the same figure).
const BUDGET: u8 = 128;

thread_local! {
    /// `None`: unconstrained. `Some(n)`: `n` operations left in this poll.
    static LEFT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs one task poll with a fresh budget, restoring the previous budget
/// afterwards (also on unwind).
#[inline]
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|l| l.set(self.0));
        }
    }
    let prev = LEFT.with(|l| l.replace(Some(BUDGET)));
    let _restore = Restore(prev);
    f()
}

/// Spends one unit of budget: `Ready` if the operation may proceed;
/// `Pending` (with the task woken to run again later) once the budget is
/// spent.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let left = LEFT.try_with(Cell::get).unwrap_or(None);
    match left {
        None => Poll::Ready(()),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            let _ = LEFT.try_with(|l| l.set(Some(n - 1)));
            Poll::Ready(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn unconstrained_outside_a_scheduler() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            assert!(poll_proceed(&mut cx).is_ready());
        }
    }

    #[test]
    fn budget_runs_out_and_is_restored() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..BUDGET {
                assert!(poll_proceed(&mut cx).is_ready());
            }
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert!(poll_proceed(&mut cx).is_ready());
    }
}
