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
///
/// ```
/// use moduvex_runtime::sync::OnceCell;
/// use moduvex_runtime::sync::SetError;
///
/// let cell = OnceCell::new();
/// cell.set(1).unwrap();
/// match cell.set(2) {
///     Err(SetError::AlreadyInitializedError(v)) => assert_eq!(v, 2),
///     _ => unreachable!(),
/// }
/// ```
#[derive(PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// Another task is initializing the cell right now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell already held a value.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let cell = OnceCell::new_with(Some(1));
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// ```
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another task was initializing the cell.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let cell = OnceCell::new();
    ///     let mut init = std::pin::pin!(cell.get_or_init(std::future::pending));
    ///     // Start the initialisation, leave it pending.
    ///     let _ = futures_lite::future::poll_once(init.as_mut()).await;
    ///     assert!(cell.set(1).unwrap_err().is_initializing_err());
    /// });
    /// ```
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }

    /// The value that was not stored.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let cell = OnceCell::new_with(Some("first"));
    /// assert_eq!(cell.set("second").unwrap_err().into_inner(), "second");
    /// ```
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
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let cell = OnceCell::<u8>::new();
    /// assert!(!cell.initialized());
    /// assert_eq!(cell.get(), None);
    /// ```
    pub fn new() -> Self {
        OnceCell {
            value: OnceLock::new(),
            init: RawSemaphore::new(1),
        }
    }

    /// Like [`new`](Self::new), usable in a `static`.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// static NAME: OnceCell<String> = OnceCell::const_new();
    /// NAME.set("app".into()).unwrap();
    /// assert_eq!(NAME.get().map(String::as_str), Some("app"));
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Self {
        OnceCell {
            value: OnceLock::new(),
            init: RawSemaphore::new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some(3)).get(), Some(&3));
    /// assert_eq!(OnceCell::<u8>::new_with(None).get(), None);
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        let cell = Self::new();
        if let Some(v) = value {
            let _ = cell.value.set(v);
            cell.init.close();
        }
        cell
    }

    /// The value, if initialized.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(5).unwrap();
    /// assert_eq!(cell.get(), Some(&5));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, mutably, if initialized.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Whether the cell holds a value.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert!(!cell.initialized());
    /// cell.set(()).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Stores `value` if the cell is empty and nobody is initializing it.
    ///
    /// # Errors
    ///
    /// [`SetError`] with the value otherwise.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert!(cell.set(2).is_err());
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
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
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let cell = OnceCell::new();
    ///     let v = cell.get_or_init(|| async { 10 }).await;
    ///     assert_eq!(*v, 10);
    ///     // Already set: the closure does not run again.
    ///     assert_eq!(*cell.get_or_init(|| async { unreachable!() }).await, 10);
    /// });
    /// ```
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
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let cell = OnceCell::new();
    ///     let failed = cell.get_or_try_init(|| async { Err("not yet") }).await;
    ///     assert_eq!(failed, Err("not yet"));
    ///     assert!(!cell.initialized(), "a failure leaves it empty");
    ///     let ok = cell.get_or_try_init(|| async { Ok::<_, &str>(1) }).await;
    ///     assert_eq!(ok, Ok(&1));
    /// });
    /// ```
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
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(!cell.initialized());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        let v = self.value.take();
        self.init = RawSemaphore::new(1);
        v
    }

    /// Consumes the cell, returning its value.
    ///
    /// ```
    /// use moduvex_runtime::sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some('x')).into_inner(), Some('x'));
    /// ```
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
