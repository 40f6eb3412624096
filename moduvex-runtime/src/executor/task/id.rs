//! `task::Id`: a number that names one task for the life of the process.
//!
//! Ids come from one process-wide counter, so two tasks never share one
//! (a `u64` does not wrap in practice). The id lives in the task's
//! allocation beside the scheduler handle, not in the header, so the
//! header every queue and waker touches stays small; handles reach it
//! through the task's vtable. While a task's future is polled or dropped,
//! its id is this thread's current task id ([`id`], [`try_id`]).

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque id that is unique among all tasks of the process, alive or
/// finished (tokio's `task::Id`).
///
/// ```
/// moduvex_runtime::block_on(async {
///     let a = moduvex_runtime::spawn(async { moduvex_runtime::task::id() });
///     let b = moduvex_runtime::spawn(async {});
///     assert_ne!(a.id(), b.id());
///     assert_eq!(a.id(), a.await.unwrap());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The next unused id.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("moduvex-runtime: task ids exhausted"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

thread_local! {
    /// The task whose future this thread is polling or dropping.
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Makes `id` the current task id until dropped, then restores the
/// previous one (a task may run another task's future inside its own, as
/// a runtime dropped from a task does).
pub(crate) struct IdGuard(Option<Id>);

impl IdGuard {
    pub(crate) fn enter(id: Id) -> IdGuard {
        IdGuard(CURRENT.try_with(|c| c.replace(Some(id))).ok().flatten())
    }
}

impl Drop for IdGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// The id of the task running this code.
///
/// # Panics
/// Panics outside a task (tokio's behaviour): in `block_on`'s own future
/// and on threads running no task. Use [`try_id`] there.
///
/// ```
/// moduvex_runtime::block_on(async {
///     let id = moduvex_runtime::spawn(async { moduvex_runtime::task::id() }).await.unwrap();
///     println!("the task was {id}");
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "can't get a task id when not inside a task: `task::id()` was called outside a \
         spawned task (e.g. in `block_on`'s own future); use `task::try_id()` there",
    )
}

/// The id of the task running this code, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    CURRENT.try_with(Cell::get).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_non_zero() {
        let a = Id::next();
        let b = Id::next();
        assert_ne!(a, b);
        assert!(a.0.get() != 0 && b.0.get() != 0);
        assert_eq!(a.to_string(), a.0.get().to_string());
        assert!(a < b);
    }

    #[test]
    fn the_guard_sets_and_restores_the_current_id() {
        assert_eq!(try_id(), None);
        let (a, b) = (Id::next(), Id::next());
        {
            let _outer = IdGuard::enter(a);
            assert_eq!(try_id(), Some(a));
            {
                let _inner = IdGuard::enter(b);
                assert_eq!(id(), b);
            }
            assert_eq!(try_id(), Some(a));
        }
        assert_eq!(try_id(), None);
    }
}
