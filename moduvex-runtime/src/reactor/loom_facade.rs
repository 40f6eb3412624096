//! One door to the atomics and locks of the waker registry.
//!
//! Under `--cfg loom` the same names resolve to loom's instrumented types,
//! so `tests/loom_reactor.rs` explores the real token and waiter code
//! rather than a copy of it. Only the registry and its sources' readiness
//! and waiters go through here; the backends and the foster keep `std`
//! types.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicUsize;
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::AtomicUsize;
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

pub(crate) use std::sync::atomic::Ordering;

/// Locks `m`, ignoring poisoning. Nothing that can unwind runs between two
/// changes of the guarded state (a waker is cloned before anything is
/// changed, and woken or dropped only after the guard is gone), so a
/// poisoned lock still guards consistent state.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
