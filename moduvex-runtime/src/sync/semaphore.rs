//! A fair, asynchronous counting semaphore.
//!
//! Waiters are served strictly in arrival order, including waiters that ask
//! for several permits at once (see `sem_core` for how permits are handed
//! over). A permit is a guard: it returns its permits when dropped, unless
//! [`forget`](SemaphorePermit::forget) is called.

use std::fmt;
use std::sync::Arc;

use super::sem_core::{RawSemaphore, MAX_PERMITS};

/// An asynchronous counting semaphore with FIFO-fair waiters.
///
/// ```
/// # fn main() {
/// use moduvex_runtime::sync::Semaphore;
/// let sem = Semaphore::new(2);
/// let a = sem.try_acquire().unwrap();
/// let _b = sem.try_acquire().unwrap();
/// assert!(sem.try_acquire().is_err());
/// drop(a);
/// assert_eq!(sem.available_permits(), 1);
/// # }
/// ```
#[derive(Debug)]
pub struct Semaphore {
    raw: RawSemaphore,
}

/// The error of [`Semaphore::acquire`] and friends: the semaphore was closed.
///
/// ```
/// use moduvex_runtime::sync::Semaphore;
///
/// moduvex_runtime::block_on(async {
///     let sem = Semaphore::new(0);
///     sem.close();
///     let err: moduvex_runtime::sync::AcquireError = sem.acquire().await.unwrap_err();
///     assert!(!err.to_string().is_empty());
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(pub(crate) ());

/// The error of [`Semaphore::try_acquire`] and friends.
///
/// ```
/// use moduvex_runtime::sync::Semaphore;
/// use moduvex_runtime::sync::TryAcquireError;
///
/// let sem = Semaphore::new(1);
/// let _p = sem.try_acquire().unwrap();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free right now (or others are queued first).
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// Permits borrowed from a [`Semaphore`]; they return to it on drop.
///
/// ```
/// use moduvex_runtime::sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 1);
/// }
/// assert_eq!(sem.available_permits(), 2, "given back on drop");
/// ```
#[must_use = "dropping the permit releases it immediately"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
}

/// Permits taken from an `Arc<Semaphore>`; they return to it on drop.
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::Semaphore;
///
/// moduvex_runtime::block_on(async {
///     let sem = Arc::new(Semaphore::new(1));
///     let permit = sem.clone().acquire_owned().await.unwrap();
///     let task = moduvex_runtime::spawn(async move {
///         let _permit = permit; // held by the task until it ends
///     });
///     task.await.unwrap();
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[must_use = "dropping the permit releases it immediately"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold
    /// (`usize::MAX >> 3`).
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    /// assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` free permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// moduvex_runtime::block_on(async {
    ///     // At most two tasks inside at once.
    ///     let sem = Arc::new(Semaphore::new(2));
    ///     let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    ///     let tasks: Vec<_> = (0..5)
    ///         .map(|_| {
    ///             let (sem, inside) = (sem.clone(), inside.clone());
    ///             moduvex_runtime::spawn(async move {
    ///                 let _permit = sem.acquire().await.unwrap();
    ///                 let n = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    ///                 assert!(n <= 2);
    ///                 moduvex_runtime::task::yield_now().await;
    ///                 inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    ///             })
    ///         })
    ///         .collect();
    ///     for t in tasks {
    ///         t.await.unwrap();
    ///     }
    /// });
    /// ```
    pub fn new(permits: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(permits),
        }
    }

    /// Like [`new`](Self::new), usable in a `static`.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// static LIMIT: Semaphore = Semaphore::const_new(3);
    /// let p = LIMIT.try_acquire_many(3).unwrap();
    /// assert_eq!(LIMIT.available_permits(), 0);
    /// drop(p);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(permits),
        }
    }

    /// Free permits right now.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let _p = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// Adds `n` permits, waking waiters they satisfy.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// Removes up to `n` free permits for good; returns how many were removed.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// assert_eq!(sem.forget_permits(5), 3, "only the free ones");
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        self.raw.forget(n)
    }

    /// Waits for one permit.
    ///
    /// Cancel safety: dropping the future gives up its place in the queue; a
    /// permit it had already been handed passes on to the next waiter.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let sem = Semaphore::new(1);
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert!(sem.try_acquire().is_err());
    ///     drop(permit);
    ///     assert!(sem.acquire().await.is_ok());
    /// });
    /// ```
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.raw.acquire(1).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Waits for `n` permits at once. Fair: while this waits, later callers
    /// queue behind it even if they need fewer permits. Asking for 0 permits
    /// completes at once with a permit holding none, even while others are
    /// queued.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let sem = Semaphore::new(5);
    ///     let permit = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!((permit.num_permits(), sem.available_permits()), (3, 2));
    /// });
    /// ```
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.raw.acquire(n as usize).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`acquire`](Self::acquire) from synchronous code, parking the
    /// thread until a permit is handed to it (FIFO with async waiters).
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    /// let sem = Semaphore::new(1);
    /// let permit = sem.blocking_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// ```
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`acquire`](Self::acquire)`.await`
    /// there, or call this from `spawn_blocking` or a thread outside the
    /// runtime.
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::block::block_on(self.acquire())
    }

    /// [`acquire_many`](Self::acquire_many) from synchronous code, parking
    /// the thread.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire), and if `n` exceeds
    /// [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(4);
    /// let permit = sem.blocking_acquire_many(4).unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::block::block_on(self.acquire_many(n))
    }

    /// Takes one permit if one is free and nobody is queued.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(p);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued. Taking 0
    /// permits always succeeds unless the semaphore is closed.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.raw.try_acquire(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Waits for one permit, tied to an `Arc` rather than a borrow.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let sem = Arc::new(Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits, tied to an `Arc` rather than a borrow. Asking
    /// for 0 permits completes at once, as in
    /// [`acquire_many`](Self::acquire_many).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let sem = Arc::new(Semaphore::new(3));
    ///     let permit = sem.clone().acquire_many_owned(2).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 2);
    /// });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.raw.acquire(n as usize).await?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Takes one permit now, tied to an `Arc`.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(p);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits now, tied to an `Arc`. Taking 0 permits always
    /// succeeds unless the semaphore is closed.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let p = sem.clone().try_acquire_many_owned(2).unwrap();
    /// assert_eq!(p.num_permits(), 2);
    /// assert!(sem.try_acquire_many_owned(1).is_err());
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.raw.try_acquire(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Closes the semaphore: queued and future acquisitions fail. Permits
    /// already handed out stay valid.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let sem = Arc::new(Semaphore::new(0));
    ///     let waiter = moduvex_runtime::spawn({
    ///         let sem = sem.clone();
    ///         async move { sem.acquire().await.is_err() }
    ///     });
    ///     moduvex_runtime::task::yield_now().await;
    ///     sem.close(); // wakes the waiter with an error
    ///     assert!(waiter.await.unwrap());
    /// });
    /// ```
    pub fn close(&self) {
        self.raw.close();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// sem.try_acquire_many(2).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1, "the two are gone for good");
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// If the permits come from different semaphores.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut a = sem.try_acquire_many(1).unwrap();
    /// a.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Number of permits held.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let p = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(p.num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl<'a> SemaphorePermit<'a> {
    /// Moves `n` of the held permits into a new permit; `None` (and this
    /// permit unchanged) if fewer than `n` are held, as tokio's.
    ///
    /// ```
    /// use moduvex_runtime::sync::Semaphore;
    /// let sem = Semaphore::new(3);
    /// let mut p = sem.try_acquire_many(3).unwrap();
    /// let q = p.split(2).unwrap();
    /// assert_eq!((p.num_permits(), q.num_permits()), (1, 2));
    /// assert!(p.split(2).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.raw.release(self.permits as usize);
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// sem.clone().try_acquire_many_owned(2).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1, "the two are gone for good");
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// If the permits come from different semaphores.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut a = sem.clone().try_acquire_many_owned(1).unwrap();
    /// a.merge(sem.clone().try_acquire_many_owned(2).unwrap());
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Number of permits held.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let p = sem.clone().try_acquire_many_owned(2).unwrap();
    /// assert_eq!(p.num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// The semaphore these permits belong to.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl OwnedSemaphorePermit {
    /// Moves `n` of the held permits into a new permit of the same
    /// semaphore; `None` (and this permit unchanged) if fewer than `n` are
    /// held, as tokio's.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut p = sem.clone().try_acquire_many_owned(3).unwrap();
    /// let part = p.split(1).unwrap();
    /// assert_eq!((p.num_permits(), part.num_permits()), (2, 1));
    /// assert!(p.split(5).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(OwnedSemaphorePermit {
            sem: Arc::clone(&self.sem),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.raw.release(self.permits as usize);
    }
}
