//! The list of every live task a scheduler owns, so shutdown can cancel
//! each one exactly once.

use std::sync::Mutex;

use slab::Slab;

use super::task::{Notified, Schedule, Task};

struct Inner<S: Schedule> {
    tasks: Slab<Task<S>>,
    closed: bool,
}

/// Owned tasks of one scheduler: insert on spawn, remove on completion,
/// and close-and-cancel-all on shutdown.
pub(crate) struct OwnedTasks<S: Schedule> {
    inner: Mutex<Inner<S>>,
}

impl<S: Schedule> OwnedTasks<S> {
    pub(crate) fn new() -> Self {
        OwnedTasks {
            inner: Mutex::new(Inner {
                tasks: Slab::new(),
                closed: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<S>> {
        // Task code never runs under this lock, so it cannot be poisoned by
        // a task's panic; recover anyway rather than propagate.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a freshly spawned task. Returns its first `Notified` to
    /// schedule, or `None` if the scheduler is shut down — the task is then
    /// cancelled at once and its `JoinHandle` reports cancellation.
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut inner = self.lock();
        if inner.closed {
            drop(inner);
            drop(notified);
            task.shutdown();
            return None;
        }
        let entry = inner.tasks.vacant_entry();
        // SAFETY: `owned_key` is only accessed under this lock.
        unsafe { *task.header().owned_key.get() = entry.key() };
        entry.insert(task);
        Some(notified)
    }

    /// Removes a completed task, returning the list's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let mut inner = self.lock();
        // SAFETY: `owned_key` is only accessed under this lock.
        let key = unsafe { *task.header().owned_key.get() };
        match inner.tasks.get(key) {
            Some(t) if t.ptr_eq(task) => Some(inner.tasks.remove(key)),
            _ => None,
        }
    }

    /// Refuses new tasks and cancels every task still owned. Futures are
    /// dropped here, outside the lock. The list is taken out whole, so this
    /// is linear in the number of tasks however large the list once grew.
    pub(crate) fn close_and_shutdown_all(&self) {
        let tasks = {
            let mut inner = self.lock();
            inner.closed = true;
            std::mem::take(&mut inner.tasks)
        };
        for (_, task) in tasks {
            // A task completing concurrently finds itself gone from the
            // list and releases only its own reference; this one is ours.
            task.shutdown();
        }
    }

    /// Accepts tasks again (a scheduler reused after a clean shutdown).
    pub(crate) fn reopen(&self) {
        let mut inner = self.lock();
        debug_assert!(inner.tasks.is_empty());
        inner.closed = false;
    }

    /// Number of tasks alive.
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.lock().tasks.len()
    }
}
