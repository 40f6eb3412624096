//! One door to every shared-memory primitive the `sync` module uses.
//!
//! Under `--cfg loom` the same names resolve to loom's instrumented types, so
//! the loom models in `tests/loom_sync.rs` explore the real channel and lock
//! code rather than a copy of it. Locks never report poisoning here: the state
//! they guard is only changed by code in this module, which does not panic
//! halfway through an update, so a poisoned lock still holds consistent state.

#[cfg(loom)]
use loom::sync as imp;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicUsize;
#[cfg(loom)]
pub(crate) use loom::sync::Arc;

#[cfg(not(loom))]
use std::sync as imp;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::AtomicUsize;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

pub(crate) use std::sync::atomic::Ordering;

/// The guard of [`Mutex`].
pub(crate) type MutexGuard<'a, T> = imp::MutexGuard<'a, T>;
/// The shared guard of [`RwLock`].
pub(crate) type RwLockReadGuard<'a, T> = imp::RwLockReadGuard<'a, T>;
/// The exclusive guard of [`RwLock`].
pub(crate) type RwLockWriteGuard<'a, T> = imp::RwLockWriteGuard<'a, T>;

/// A blocking mutex whose `lock` ignores poisoning.
#[derive(Debug)]
pub(crate) struct Mutex<T>(imp::Mutex<T>);

impl<T> Mutex<T> {
    /// Wraps `value`.
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        Mutex(imp::Mutex::new(value))
    }

    /// Wraps `value`.
    #[cfg(loom)]
    pub(crate) fn new(value: T) -> Self {
        Mutex(imp::Mutex::new(value))
    }

    /// Locks, blocking the thread for the (short) critical section of another.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A blocking reader-writer lock whose methods ignore poisoning.
#[derive(Debug)]
pub(crate) struct RwLock<T>(imp::RwLock<T>);

impl<T> RwLock<T> {
    /// Wraps `value`.
    pub(crate) fn new(value: T) -> Self {
        RwLock(imp::RwLock::new(value))
    }

    /// Shared access.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}
