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
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use super::raw::{id_of, Header};

/// Ids a thread takes from the process-wide counter at once.
const ID_BLOCK: u64 = 1024;

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
    /// The next unused id. Each thread takes a block of [`ID_BLOCK`] ids
    /// from the process-wide counter at a time, so spawning on several
    /// threads does not bounce one cache line between them; ids stay
    /// unique (blocks never overlap), only not ordered across threads.
    pub(crate) fn next() -> Id {
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            /// The next id of this thread's block, and the end of the block.
            static BLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        let take_block = || NEXT_BLOCK.fetch_add(ID_BLOCK, Ordering::Relaxed);
        let n = BLOCK
            .try_with(|b| {
                let (mut next, mut end) = b.get();
                if next == end {
                    next = take_block();
                    end = next + ID_BLOCK;
                }
                b.set((next + 1, end));
                next
            })
            // Thread teardown: a block of one.
            .unwrap_or_else(|_| take_block());
        Id(NonZeroU64::new(n).expect("moduvex-runtime: task ids exhausted"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

thread_local! {
    /// The task whose future this thread is polling or dropping. Its id is
    /// read only when asked for ([`try_id`]), so a poll touches nothing of
    /// the task beyond what it already uses.
    ///
    /// # Invariant
    /// A header stored here is live: only [`IdGuard::enter`] stores one,
    /// whose caller keeps that task alive until the guard drops, and the
    /// guard puts the previous value back when it drops.
    static CURRENT: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// Makes `task` the current task until dropped, then restores the
/// previous one (a task may run another task's future inside its own, as
/// a runtime dropped from a task does).
pub(crate) struct IdGuard(Option<NonNull<Header>>);

impl IdGuard {
    /// # Safety
    /// `task` is a live task header, and the caller keeps the task alive
    /// (holds a reference to it) until the guard drops.
    pub(crate) unsafe fn enter(task: NonNull<Header>) -> IdGuard {
        IdGuard(CURRENT.try_with(|c| c.replace(Some(task))).ok().flatten())
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
///
/// ```
/// use moduvex_runtime::{spawn, task};
///
/// moduvex_runtime::block_on(async {
///     // `block_on`'s own future is not a task.
///     assert_eq!(task::try_id(), None);
///     let t = spawn(async { task::try_id() });
///     let id = t.id();
///     assert_eq!(t.await.unwrap(), Some(id));
/// });
/// ```
pub fn try_id() -> Option<Id> {
    let task = CURRENT.try_with(Cell::get).ok().flatten()?;
    // SAFETY: a header in `CURRENT` is live while it is there (the invariant on `CURRENT`).
    Some(unsafe { id_of(task) })
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
    fn the_current_id_is_the_polled_task_s() {
        assert_eq!(try_id(), None);
        let (outer, inner, after) = crate::block_on(async {
            let task = crate::spawn(async {
                let outer = id();
                let inner = crate::spawn(async { id() }).await.unwrap();
                (outer, inner, try_id())
            });
            let expected = task.id();
            let got = task.await.unwrap();
            assert_eq!(got.0, expected);
            got
        });
        assert_ne!(outer, inner);
        assert_eq!(
            after,
            Some(outer),
            "the task's own id once the inner one is joined"
        );
        assert_eq!(try_id(), None);
    }
}
