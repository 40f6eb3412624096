//! One door to the atomics and locks of the executor's lock-free core.
//!
//! Under `--cfg loom` the same names resolve to loom's instrumented types,
//! so the `loom_tests` modules beside the task state word and the idle
//! protocol explore the real code rather than a copy of it. Only the
//! pieces that have loom models go through here; the rest of the executor
//! keeps `std` types.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

pub(crate) use std::sync::atomic::Ordering;
