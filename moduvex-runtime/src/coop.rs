//! Cooperative scheduling budget.
//!
//! A task whose socket or channel is always ready would otherwise loop
//! forever inside one poll, starving timers, I/O and every other task on
//! its thread. The scheduler gives each task poll a budget of operations;
//! every resource that completes an operation spends one unit, and once the
//! budget is spent the resource answers `Pending` (after waking the task),
//! so the task yields and is polled again after the others.
//!
//! The one idea, as in tokio: [`poll_proceed`] takes a unit *provisionally*
//! and hands back a [`RestoreOnPending`] guard. A resource that then
//! completes calls [`RestoreOnPending::made_progress`] to keep the charge;
//! one that turns out not ready drops the guard, which refunds the unit. So
//! only completed operations cost budget, and a poll pays one thread-local
//! access per operation (the refund, on the `Pending` path only, is a
//! second).
//!
//! Outside a scheduler's poll the budget is unlimited, so resources used
//! from another executor behave as if this module did not exist; inside
//! [`unconstrained`] it is unlimited too.

use std::cell::Cell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Operations one task poll may complete before it is made to yield
/// (tokio uses the same figure).
const BUDGET: u8 = 128;

thread_local! {
    /// `None`: unconstrained. `Some(n)`: `n` operations left in this poll.
    static LEFT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Sets the budget to `value` for the duration of `f`, restoring the
/// previous one afterwards (also on unwind), so nested budgets nest.
#[inline]
fn with_left<R>(value: Option<u8>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|l| l.set(self.0));
        }
    }
    let prev = LEFT.try_with(|l| l.replace(value)).unwrap_or(None);
    let _restore = Restore(prev);
    f()
}

/// Runs one task poll with a fresh budget, restoring the previous budget
/// afterwards (also on unwind).
#[inline]
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    with_left(Some(BUDGET), f)
}

/// A unit of budget taken by [`poll_proceed`]: refunded when dropped,
/// unless [`made_progress`](Self::made_progress) was called first.
#[must_use = "dropping the guard at once refunds the unit; call made_progress() when the operation completes"]
pub(crate) struct RestoreOnPending {
    /// Whether a unit was taken (false when unconstrained) and is still to
    /// be refunded on drop.
    refund: Cell<bool>,
}

impl RestoreOnPending {
    /// The operation completed: keep the unit spent.
    #[inline]
    pub(crate) fn made_progress(&self) {
        self.refund.set(false);
    }
}

impl Drop for RestoreOnPending {
    #[inline]
    fn drop(&mut self) {
        if self.refund.get() {
            let _ = LEFT.try_with(|l| {
                if let Some(n) = l.get() {
                    l.set(Some(n.saturating_add(1).min(BUDGET)));
                }
            });
        }
    }
}

impl fmt::Debug for RestoreOnPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestoreOnPending")
            .field("refund", &self.refund.get())
            .finish()
    }
}

/// Takes one unit of budget without a context, for a fast path that
/// completes on the spot: `Some(guard)` if the operation may proceed (as
/// [`poll_proceed`]'s `Ready`), `None` once the budget is spent. On `None`
/// the caller must not complete: it goes on to a path that polls with
/// [`poll_proceed`] (or [`budgeted`]), which yields.
#[inline]
pub(crate) fn try_proceed() -> Option<RestoreOnPending> {
    LEFT.try_with(|l| match l.get() {
        None => Some(false),
        Some(0) => None,
        Some(n) => {
            l.set(Some(n - 1));
            Some(true)
        }
    })
    .unwrap_or(Some(false))
    .map(|refund| RestoreOnPending {
        refund: Cell::new(refund),
    })
}

/// Takes one unit of budget: `Ready(guard)` if the operation may proceed
/// (call [`RestoreOnPending::made_progress`] once it completes, or drop the
/// guard to refund the unit); `Pending`, with the task woken to run again
/// later, once the budget is spent.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    match try_proceed() {
        Some(coop) => Poll::Ready(coop),
        None => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Runs one poll of an operation under the budget: `Pending` without
/// calling `f` once the budget is spent; otherwise `f`'s answer, charged one
/// unit only if it is `Ready`.
#[inline]
pub(crate) fn budgeted<T>(
    cx: &mut Context<'_>,
    f: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = std::task::ready!(poll_proceed(cx));
    let out = f(cx);
    if out.is_ready() {
        coop.made_progress();
    }
    out
}

/// Spends one unit of the task's cooperative budget, yielding to the
/// scheduler first if the budget is already spent.
///
/// A loop that does work without touching any resource of this runtime
/// (pure computation, or I/O through another library) never runs out of
/// budget on its own; awaiting this in it lets the other tasks on the
/// thread run once in a while, but, unlike
/// [`yield_now`](crate::yield_now), only when the budget is spent.
/// Outside a runtime (or inside [`unconstrained`]) it completes at once.
///
/// ```
/// moduvex_runtime::block_on(async {
///     let mut sum = 0u64;
///     for i in 0..10_000u64 {
///         sum += i;
///         moduvex_runtime::task::consume_budget().await;
///     }
///     assert_eq!(sum, 49_995_000);
/// });
/// ```
pub async fn consume_budget() {
    poll_fn(|cx| poll_proceed(cx).map(|coop| coop.made_progress())).await;
}

/// Runs `future` with an unlimited cooperative budget: the resources it
/// uses never make it yield for budget reasons. The budget of the task
/// around it is left as it was (also if `future` panics).
///
/// Use with care: an always-ready loop inside it can starve every other
/// task of its thread, which is what the budget prevents.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     for i in 0..1000 {
///         tx.send(i).unwrap();
///     }
///     drop(tx);
///     let sum = moduvex_runtime::task::unconstrained(async move {
///         let mut sum = 0;
///         while let Some(v) = rx.recv().await {
///             sum += v;
///         }
///         sum
///     })
///     .await;
///     assert_eq!(sum, 499_500);
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

/// Future of [`unconstrained`].
///
/// ```
/// use moduvex_runtime::task::unconstrained;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = moduvex_runtime::sync::mpsc::unbounded_channel();
///     for i in 0..1000 {
///         tx.send(i).unwrap();
///     }
///     drop(tx);
///     // Drains the channel without yielding when the budget runs out.
///     let n = unconstrained(async {
///         let mut n = 0;
///         while rx.recv().await.is_some() {
///             n += 1;
///         }
///         n
///     })
///     .await;
///     assert_eq!(n, 1000);
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Unconstrained<F> {
    /// # Invariant
    ///
    /// Structurally pinned: never moved out of a pinned `Unconstrained`
    /// (no method hands out `&mut F` or moves it, and there is no `Drop`
    /// impl).
    inner: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned (see its invariant): it is only ever reached through this pinned projection.
        let inner = unsafe { self.map_unchecked_mut(|s| &mut s.inner) };
        with_left(None, || inner.poll(cx))
    }
}

impl<F> fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::Waker;

    fn left() -> Option<u8> {
        LEFT.with(Cell::get)
    }

    #[test]
    fn unconstrained_outside_a_scheduler() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            let Poll::Ready(coop) = poll_proceed(&mut cx) else {
                panic!("no budget outside a scheduler");
            };
            coop.made_progress();
        }
        assert_eq!(left(), None);
    }

    #[test]
    fn budget_runs_out_and_is_restored() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..BUDGET {
                let Poll::Ready(coop) = poll_proceed(&mut cx) else {
                    panic!("budget left");
                };
                coop.made_progress();
            }
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert_eq!(left(), None);
    }

    #[test]
    fn a_dropped_guard_refunds_its_unit() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..1000 {
                let Poll::Ready(coop) = poll_proceed(&mut cx) else {
                    panic!("refunded units never run out");
                };
                drop(coop);
            }
            assert_eq!(left(), Some(BUDGET));
            assert_eq!(budgeted(&mut cx, |_| Poll::<()>::Pending), Poll::Pending);
            assert_eq!(left(), Some(BUDGET));
            assert_eq!(budgeted(&mut cx, |_| Poll::Ready(())), Poll::Ready(()));
            assert_eq!(left(), Some(BUDGET - 1));
        });
    }

    #[test]
    fn unconstrained_nests_and_restores_on_unwind() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            let mut fut = pin!(unconstrained(std::future::poll_fn(|cx| {
                assert_eq!(left(), None);
                for _ in 0..1000 {
                    assert!(budgeted(cx, |_| Poll::Ready(())).is_ready());
                }
                // A budget nested inside is restored to unconstrained.
                with_budget(|| assert_eq!(left(), Some(BUDGET)));
                assert_eq!(left(), None);
                Poll::Ready(())
            })));
            assert!(fut.as_mut().poll(&mut cx).is_ready());
            assert_eq!(left(), Some(BUDGET));
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut fut = pin!(unconstrained(std::future::poll_fn(|_| -> Poll<()> {
                    panic!("inner poll panics")
                })));
                let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            }));
            assert!(unwound.is_err());
            assert_eq!(left(), Some(BUDGET));
        });
        assert_eq!(left(), None);
    }
}
