//! Task-level tools: task-local values, sets of tasks, cancellation.
//!
//! The one idea: these are built *on* tasks, not into the scheduler. A
//! task-local is a value a future carries into each of its polls
//! ([`task_local!`](crate::task_local)); a [`JoinSet`] is a set of
//! [`JoinHandle`]s polled only when their task finishes;
//! a [`LocalSet`] is a scheduler for `!Send` tasks polled as one future;
//! a [`CancellationToken`] is a flag with waiters, arranged in a tree. So
//! they work with whichever runtime spawned the tasks, and the token and
//! task-locals with none at all.
//!
//! [`spawn`], [`spawn_local`], [`spawn_blocking`] and [`yield_now`] are
//! re-exported here from the crate root for code written with
//! `task::spawn` habits; [`block_in_place`] and the task [`Id`]
//! ([`id`], [`try_id`]) live here as in tokio; [`consume_budget`] and
//! [`unconstrained`] reach the cooperative budget every task poll runs
//! under.
//!
//! ```
//! use moduvex_runtime::task::{self, JoinSet};
//!
//! moduvex_runtime::block_on(async {
//!     let mut set = JoinSet::new();
//!     for i in 0..3 {
//!         set.spawn(async move {
//!             task::yield_now().await;
//!             i
//!         });
//!     }
//!     let mut done = set.join_all().await;
//!     done.sort();
//!     assert_eq!(done, [0, 1, 2]);
//! });
//! ```

mod cancel;
mod join_set;
mod local;
mod local_set;

pub use cancel::{
    CancellationToken, DropGuard, WaitForCancellationFuture, WaitForCancellationFutureOwned,
};
pub use join_set::JoinSet;
pub use local::{AccessError, LocalKey, TaskLocalFuture};
pub use local_set::{LocalEnterGuard, LocalSet, RunUntil};

pub use crate::coop::{consume_budget, unconstrained, Unconstrained};
pub use crate::executor::{id, try_id, Id};
pub use crate::executor::{spawn, spawn_local, yield_now, AbortHandle, JoinError, JoinHandle};
pub use crate::runtime::{block_in_place, spawn_blocking};
