//! A cell written once, possibly by an async initializer.
//!
//! The one idea: the value lives in a `std::sync::OnceLock` (lock-free
//! reads), and a one-permit semaphore serializes initializers. The task
//! holding the permit runs its initializer; on success it stores the value
//! and *closes* the semaphore, which releases every queued initializer at
//! once to find the value present. If the initializer fails or is
//! cancelled, the permit passes to the next queued task, which tries its own.

use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

use super::sem_core::RawSemaphore;

/// A thread-safe cell initialized at most once, with async initialization.
///
/// ```
/// use moduvex_runtime::sync::OnceCell;
/// let cell = OnceCell::new();
/// assert!(cell.get().is_none());
/// cell.set(3).unwrap();
/// assert_eq!(cell.get(), Some(&3));
/// assert!(cell.set(4).is_err());
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    init: RawSemaphore,
}

/// The error of [`OnceCell::set`]; hands the value back.
#[derive(PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// Another task is initializing the cell right now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell already held a value.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another task was initializing the cell.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }

    /// The value that was not stored.
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitializedError(v) | SetError::InitializingError(v) => v,
        }
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError(..)"),
            SetError::InitializingError(_) => f.write_str("InitializingError(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("cell already initialized"),
            SetError::InitializingError(_) => f.write_str("cell is being initialized"),
        }
    }
}

impl<T> std::error::Error for SetError<T> {}

/// Returns the init permit on drop, unless the value was stored.
struct InitPermit<'a>(&'a RawSemaphore);

impl Drop for InitPermit<'_> {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> Self {
        OnceCell {
            value: OnceLock::new(),
            init: RawSemaphore::new(1),
        }
    }

    /// Like [`new`](Self::new), usable in a `static`.
    #[cfg(not(loom))]
    pub const fn const_new() -> Self {
        OnceCell {
            value: OnceLock::new(),
            init: RawSemaphore::new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> Self {
        let cell = Self::new();
        if let Some(v) = value {
            let _ = cell.value.set(v);
            cell.init.close();
        }
        cell
    }

    /// The value, if initialized.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, mutably, if initialized.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Stores `value` if the cell is empty and nobody is initializing it.
    ///
    /// # Errors
    ///
    /// [`SetError`] with the value otherwise.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.init.try_acquire(1) {
            Ok(()) => {
                let permit = InitPermit(&self.init);
                self.store(permit, value);
                Ok(())
            }
            Err(super::TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
            Err(super::TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
        }
    }

    fn store(&self, permit: InitPermit<'_>, value: T) -> &T {
        // Holding the permit means nobody else is storing, and the value is
        // only ever stored with the permit held, so `set` cannot fail.
        let stored = self.value.set(value).is_ok();
        debug_assert!(stored, "OnceCell stored twice");
        std::mem::forget(permit);
        self.init.close();
        match self.value.get() {
            Some(v) => v,
            None => unreachable!("OnceCell value vanished after being stored"),
        }
    }

    /// The value, running `f` to initialize it first if the cell is empty.
    /// Concurrent callers wait for one initializer instead of racing.
    ///
    /// Cancel safety: if the initializing task is cancelled, the next
    /// waiting caller runs its own initializer.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](Self::get_or_init) with a fallible initializer.
    /// On `Err` the cell stays empty and the next waiting caller tries.
    ///
    /// # Errors
    ///
    /// The initializer's error.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        if self.init.acquire(1).await.is_err() {
            // Closed: a value was stored.
            return match self.get() {
                Some(v) => Ok(v),
                None => unreachable!("OnceCell semaphore closed without a value"),
            };
        }
        let permit = InitPermit(&self.init);
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let value = f().await?;
        Ok(self.store(permit, value))
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        let v = self.value.take();
        self.init = RawSemaphore::new(1);
        v
    }

    /// Consumes the cell, returning its value.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::new_with(Some(value))
    }
}
