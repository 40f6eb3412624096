//! The list of every live task a scheduler owns, so shutdown can cancel
//! each one exactly once.
//!
//! The list is split into shards, each behind its own lock, and a task's
//! shard follows from its address: on a work-stealing runtime one worker
//! spawns while another completes, and with a single lock every spawn and
//! every completion would contend on it.

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

use slab::Slab;

use super::task::{Notified, Schedule, Task};

struct Inner<S: Schedule> {
    tasks: Slab<Task<S>>,
    closed: bool,
}

/// One shard, alone on its cache lines so two workers locking
/// neighbouring shards do not bounce one line between them.
#[repr(align(128))]
struct Shard<S: Schedule>(Mutex<Inner<S>>);

impl<S: Schedule> Shard<S> {
    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        // Task code never runs under this lock, so it cannot be poisoned by
        // a task's panic; recover anyway rather than propagate.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Owned tasks of one scheduler: insert on spawn, remove on completion,
/// and close-and-cancel-all on shutdown.
pub(crate) struct OwnedTasks<S: Schedule> {
    shards: Box<[Shard<S>]>,
    /// `log2(shards.len())`.
    shard_bits: u32,
}

impl<S: Schedule> OwnedTasks<S> {
    /// One shard: for lists that one thread mostly uses.
    pub(crate) fn new() -> Self {
        Self::with_shards(1)
    }

    /// At least `min` shards (rounded up to a power of two): for lists
    /// that several threads add to and remove from at once.
    pub(crate) fn with_shards(min: usize) -> Self {
        let n = min.max(1).next_power_of_two();
        let shards = (0..n)
            .map(|_| {
                Shard(Mutex::new(Inner {
                    tasks: Slab::new(),
                    closed: false,
                }))
            })
            .collect();
        OwnedTasks {
            shards,
            shard_bits: n.trailing_zeros(),
        }
    }

    /// The shard of the task at `ptr`: a multiplicative hash of its
    /// address, so neighbouring allocations spread over the shards.
    fn shard(&self, ptr: NonNull<impl Sized>) -> &Shard<S> {
        if self.shard_bits == 0 {
            return &self.shards[0];
        }
        let addr = (ptr.as_ptr() as usize as u64) >> 4;
        let index = addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.shard_bits);
        &self.shards[index as usize]
    }

    /// Adds a freshly spawned task. Returns its first `Notified` to
    /// schedule, or `None` if the scheduler is shut down — the task is then
    /// cancelled at once and its `JoinHandle` reports cancellation.
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut inner = self.shard(notified.addr()).lock();
        if inner.closed {
            drop(inner);
            drop(notified);
            task.shutdown();
            return None;
        }
        let entry = inner.tasks.vacant_entry();
        // SAFETY: `owned_key` is only accessed under this shard's lock (a
        // task's shard never changes: its address does not).
        unsafe { *task.header().owned_key.get() = entry.key() };
        entry.insert(task);
        Some(notified)
    }

    /// Removes a completed task, returning the list's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let mut inner = self.shard(NonNull::from(task.header())).lock();
        // SAFETY: `owned_key` is only accessed under this shard's lock.
        let key = unsafe { *task.header().owned_key.get() };
        match inner.tasks.get(key) {
            Some(t) if t.ptr_eq(task) => Some(inner.tasks.remove(key)),
            _ => None,
        }
    }

    /// Refuses new tasks and cancels every task still owned. Futures are
    /// dropped here, outside the locks. Each shard is taken out whole, so
    /// this is linear in the number of tasks however large the list grew.
    ///
    /// A spawn racing with this lands in a shard either before it closes
    /// (and is cancelled with it) or after (and is refused).
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            let tasks = {
                let mut inner = shard.lock();
                inner.closed = true;
                std::mem::take(&mut inner.tasks)
            };
            for (_, task) in tasks {
                // A task completing concurrently finds itself gone from the
                // list and releases only its own reference; this one is ours.
                task.shutdown();
            }
        }
    }

    /// Accepts tasks again (a scheduler reused after a clean shutdown).
    pub(crate) fn reopen(&self) {
        for shard in self.shards.iter() {
            let mut inner = shard.lock();
            debug_assert!(inner.tasks.is_empty());
            inner.closed = false;
        }
    }

    /// Number of tasks alive.
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().tasks.len()).sum()
    }
}
