//! Runtime-agnostic synchronization for async tasks: channels, locks, a
//! semaphore and one-shot events.
//!
//! The one idea shared by every type here: *waiting is an entry in a FIFO
//! wait queue guarded by a short, blocking critical section*, and anything a
//! waiter was handed (a permit, a slot, a notification) is passed on if the
//! waiting future is dropped. Wakers are collected under the lock and woken
//! after it is released; a waker that is replaced or removed under the lock
//! is likewise moved out and dropped only after it is released, since its
//! `Drop` may call back into the same primitive. Nothing here depends on a
//! particular executor: the futures only use the `Waker` they are polled
//! with. The `blocking_*` methods park the calling thread instead, so they
//! panic on a thread that drives a moduvex runtime, where parking would
//! stall its tasks; call them from plain threads or `spawn_blocking`.
//!
//! Every operation that completes (a message received, a permit or a lock
//! taken, a notification consumed) spends one unit of the task's
//! cooperative budget (see [`task::consume_budget`](crate::task::consume_budget)),
//! so a loop over an always-ready primitive still lets the other tasks of
//! its thread run; outside a moduvex runtime the budget is unlimited.
//!
//! | type | for |
//! |---|---|
//! | [`mpsc`] | many senders, one receiver; bounded (`channel`) or unbounded |
//! | [`oneshot`] | one value, once |
//! | [`broadcast`] | many senders, many receivers, each sees every value |
//! | [`watch`] | many receivers observe the latest value |
//! | [`Mutex`], [`RwLock`] | FIFO-fair async locks (on the [`Semaphore`] core) |
//! | [`Semaphore`] | FIFO-fair counting semaphore |
//! | [`Notify`] | wake one or all waiters, no data |
//! | [`Barrier`] | wait until `n` tasks arrive |
//! | [`OnceCell`] | initialize once, asynchronously |
//!
//! ```
//! use std::sync::Arc;
//! use moduvex_runtime::sync::{mpsc, Mutex};
//!
//! moduvex_runtime::block_on(async {
//!     let total = Arc::new(Mutex::new(0));
//!     let (tx, mut rx) = mpsc::channel(4);
//!     for i in 1..=3 {
//!         let (tx, total) = (tx.clone(), total.clone());
//!         moduvex_runtime::spawn(async move {
//!             *total.lock().await += i;
//!             tx.send(()).await.unwrap();
//!         });
//!     }
//!     drop(tx);
//!     while rx.recv().await.is_some() {}
//!     assert_eq!(*total.lock().await, 6);
//! });
//! ```

mod barrier;
#[cfg(not(loom))]
mod block;
pub mod broadcast;
pub(crate) mod loom_facade;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod sem_core;
mod semaphore;
mod wait_queue;
mod wake_list;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
