//! An asynchronous, FIFO-fair mutual-exclusion lock.
//!
//! The lock is a one-permit semaphore from `sem_core`: `lock().await` queues
//! for the permit and the guard gives it back on drop, so tasks get the lock
//! in the order they asked for it. Hold a guard across `.await` freely;
//! that is what this lock is for (a `std::sync::Mutex` is cheaper when the
//! guard never crosses an await).

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::sem_core::RawSemaphore;

/// An asynchronous mutex; waiters acquire it in FIFO order.
///
/// ```
/// use moduvex_runtime::sync::Mutex;
/// let m = Mutex::new(1);
/// *m.try_lock().unwrap() += 1;
/// assert_eq!(m.into_inner(), 2);
/// ```
pub struct Mutex<T: ?Sized> {
    sem: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one holder at a time, possibly
// on another thread, so moving or sharing it only needs `T: Send`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above; `&Mutex<T>` never gives two threads access at once.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Exclusive access to the data of a [`Mutex`]; unlocks on drop.
///
/// Shareable across threads only when `T: Sync`:
///
/// ```compile_fail
/// fn sync<T: Sync>() {}
/// sync::<moduvex_runtime::sync::MutexGuard<'static, std::cell::Cell<u8>>>();
/// ```
#[must_use = "dropping the guard unlocks the mutex immediately"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    // Makes the guard `Sync` only when `T: Sync`, like `&mut T`.
    _marker: PhantomData<&'a mut T>,
}

/// Exclusive access to a part of a [`Mutex`]'s data, from
/// [`MutexGuard::map`]; unlocks the whole mutex on drop.
///
/// ```
/// use moduvex_runtime::sync::{Mutex, MutexGuard};
///
/// moduvex_runtime::block_on(async {
///     let m = Mutex::new((1, String::from("a")));
///     let mut name = MutexGuard::map(m.lock().await, |pair| &mut pair.1);
///     name.push('b');
///     drop(name);
///     assert_eq!(m.lock().await.1, "ab");
/// });
/// ```
#[must_use = "dropping the guard unlocks the mutex immediately"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    sem: &'a RawSemaphore,
    data: *mut T,
    // Borrows like `&mut T`: `Send`/`Sync` as below, not `Copy`.
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is a unique borrow of data behind a held lock, like
// `&mut T`: sending it sends that borrow.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: sharing the guard shares only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}

/// Exclusive access to the data of an `Arc<Mutex<T>>`; unlocks on drop.
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::Mutex;
///
/// moduvex_runtime::block_on(async {
///     let m = Arc::new(Mutex::new(0));
///     let mut guard = m.clone().lock_owned().await;
///     // The guard owns its `Arc`: it can move into a task.
///     moduvex_runtime::spawn(async move { *guard += 1 }).await.unwrap();
///     assert_eq!(*m.lock().await, 1);
/// });
/// ```
#[must_use = "dropping the guard unlocks the mutex immediately"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
    // Makes the guard `Sync` only when `T: Sync`.
    _marker: PhantomData<T>,
}

/// The error of [`Mutex::try_lock`]: the lock is held or others queue for it.
///
/// ```
/// use moduvex_runtime::sync::Mutex;
///
/// let m = Mutex::new(1);
/// let _held = m.try_lock().unwrap();
/// let err = m.try_lock().unwrap_err();
/// assert!(!err.to_string().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let m = Mutex::new(vec![1]);
    ///     m.lock().await.push(2);
    ///     assert_eq!(*m.lock().await, [1, 2]);
    /// });
    /// ```
    pub fn new(value: T) -> Self {
        Mutex {
            sem: RawSemaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Like [`new`](Self::new), usable in a `static`.
    ///
    /// ```
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// moduvex_runtime::block_on(async {
    ///     static COUNT: Mutex<u32> = Mutex::const_new(0);
    ///     *COUNT.lock().await += 1;
    ///     assert_eq!(*COUNT.lock().await, 1);
    /// });
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        Mutex {
            sem: RawSemaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning its data.
    ///
    /// ```
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// let m = Mutex::new(String::from("x"));
    /// assert_eq!(m.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock. Waiters are served in the order they first polled.
    ///
    /// Cancel safety: dropping the future gives up the place in the queue;
    /// if the lock had already been handed to it, it passes to the next
    /// waiter.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let count = Arc::new(Mutex::new(0));
    ///     let mut tasks = Vec::new();
    ///     for _ in 0..4 {
    ///         let count = count.clone();
    ///         tasks.push(moduvex_runtime::spawn(async move {
    ///             let mut n = count.lock().await;
    ///             moduvex_runtime::task::yield_now().await; // still held across the await
    ///             *n += 1;
    ///         }));
    ///     }
    ///     for t in tasks {
    ///         t.await.unwrap();
    ///     }
    ///     assert_eq!(*count.lock().await, 4);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        if self.sem.acquire(1).await.is_err() {
            unreachable!("the semaphore of a Mutex is never closed");
        }
        MutexGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Takes the lock if it is free and nobody queues for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    ///
    /// ```
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// let m = Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert_eq!(*m.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire(1) {
            Ok(()) => Ok(MutexGuard {
                lock: self,
                _marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Locks from synchronous code by parking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`lock`](Self::lock)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::Mutex;
    /// let m = std::sync::Arc::new(Mutex::new(1));
    /// let m2 = m.clone();
    /// std::thread::spawn(move || *m2.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*m.blocking_lock(), 2);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        super::block::block_on(self.lock())
    }

    /// [`blocking_lock`](Self::blocking_lock) for an `Arc<Mutex<T>>`,
    /// returning a guard that owns the `Arc`.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`lock_owned`](Self::lock_owned)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// let m = Arc::new(Mutex::new(1));
    /// let t = std::thread::spawn({
    ///     let m = m.clone();
    ///     move || *m.blocking_lock_owned() += 1
    /// });
    /// t.join().unwrap();
    /// assert_eq!(*m.blocking_lock_owned(), 2);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        super::block::block_on(self.lock_owned())
    }

    /// Waits for the lock of an `Arc<Mutex<T>>`, returning a guard that owns
    /// the `Arc`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let m = Arc::new(Mutex::new(1));
    ///     let mut g = m.clone().lock_owned().await;
    ///     *g = 5;
    ///     drop(g);
    ///     assert_eq!(*m.lock().await, 5);
    /// });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        if self.sem.acquire(1).await.is_err() {
            unreachable!("the semaphore of a Mutex is never closed");
        }
        OwnedMutexGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Takes the lock of an `Arc<Mutex<T>>` now if possible.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or others queue for it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// let m = Arc::new(Mutex::new(1));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.clone().try_lock_owned().is_err());
    /// drop(g);
    /// assert!(m.try_lock_owned().is_ok());
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                lock: self,
                _marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Access through a unique borrow: no locking needed.
    ///
    /// ```
    /// use moduvex_runtime::sync::Mutex;
    ///
    /// let mut m = Mutex::new(1);
    /// *m.get_mut() = 2; // no locking: `&mut` proves exclusive access
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use moduvex_runtime::sync::{Mutex, MutexGuard};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let m = Mutex::new(0);
    ///     let guard = m.lock().await;
    ///     assert!(std::ptr::eq(MutexGuard::mutex(&guard), &m));
    /// });
    /// ```
    pub fn mutex(this: &Self) -> &Mutex<T> {
        this.lock
    }

    /// Narrows the guard to a part of the data (a field, an element); the
    /// mutex stays locked until the returned guard is dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::{Mutex, MutexGuard};
    /// let m = Mutex::new((1, String::from("a")));
    /// let mut name = MutexGuard::map(m.try_lock().unwrap(), |pair| &mut pair.1);
    /// name.push('b');
    /// assert!(m.try_lock().is_err());
    /// drop(name);
    /// assert_eq!(m.try_lock().unwrap().1, "ab");
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        // If `f` panics, `this` still unlocks while unwinding.
        // SAFETY: the guard holds the lock: this is the only access to the data.
        let data: *mut U = f(unsafe { &mut *this.lock.data.get() });
        let sem = &this.lock.sem;
        // The lock passes to the mapped guard, which releases it.
        std::mem::forget(this);
        MappedMutexGuard {
            sem,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](Self::map), when `f` may find no part to narrow to:
    /// then the original guard comes back.
    ///
    /// ```
    /// use moduvex_runtime::sync::{Mutex, MutexGuard};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let m = Mutex::new(vec![1, 2]);
    ///     let first = MutexGuard::try_map(m.lock().await, |v| v.first_mut());
    ///     assert_eq!(*first.ok().unwrap(), 1);
    ///     let none = MutexGuard::try_map(m.lock().await, |v| v.get_mut(9));
    ///     assert!(none.is_err(), "the original guard comes back");
    /// });
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        // SAFETY: as in `map`.
        let Some(data) = f(unsafe { &mut *this.lock.data.get() }) else {
            return Err(this);
        };
        let data: *mut U = data;
        let sem = &this.lock.sem;
        std::mem::forget(this);
        Ok(MappedMutexGuard {
            sem,
            data,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further.
    ///
    /// ```
    /// use moduvex_runtime::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let m = Mutex::new((0, [0u8; 2]));
    ///     let arr = MutexGuard::map(m.lock().await, |p| &mut p.1);
    ///     let mut last = MappedMutexGuard::map(arr, |a| &mut a[1]);
    ///     *last = 9;
    ///     drop(last);
    ///     assert_eq!(m.lock().await.1, [0, 9]);
    /// });
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        // If `f` panics, `this` still unlocks while unwinding.
        // SAFETY: the guard holds the lock and `data` points into the locked data.
        let data: *mut U = f(unsafe { &mut *this.data });
        let sem = this.sem;
        std::mem::forget(this);
        MappedMutexGuard {
            sem,
            data,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into a mutex's data; this guard holds its only permit.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique too.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no other reference to the data exists while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique too.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::{Mutex, OwnedMutexGuard};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let m = Arc::new(Mutex::new(0));
    ///     let guard = m.clone().lock_owned().await;
    ///     assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &m));
    /// });
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no other reference to the data exists while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique too.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{MappedMutexGuard, Mutex, MutexGuard};
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn guards_map_and_hand_over() {
        let m = Mutex::new((1u32, (String::from("a"), 0u8)));
        let mut g = m.try_lock().unwrap();
        g.0 += 1;
        let mut inner = MutexGuard::map(g, |t| &mut t.1);
        inner.0.push('b');
        let mut byte = MappedMutexGuard::map(inner, |pair| &mut pair.1);
        *byte = 7;
        assert!(m.try_lock().is_err());
        drop(byte);
        let g = m.try_lock().unwrap();
        let g = MutexGuard::try_map(g, |_| None::<&mut u8>).unwrap_err();
        assert_eq!((g.0, g.1 .0.as_str(), g.1 .1), (2, "ab", 7));

        // A queued lock gets the mutex when the holder unlocks.
        let mut cx = Context::from_waker(Waker::noop());
        let mut waiting = pin!(m.lock());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        drop(g);
        let Poll::Ready(g) = waiting.as_mut().poll(&mut cx) else {
            panic!("the lock was handed over");
        };
        assert_eq!(g.0, 2);
    }

    #[test]
    fn owned_guards_across_threads() {
        let m = Arc::new(Mutex::new(0u32));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        *Arc::clone(&m).blocking_lock_owned() += 1;
                        *m.blocking_lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 60);
        let mut m = Arc::into_inner(m).unwrap();
        *m.get_mut() += 1;
        assert_eq!(m.into_inner(), 61);
    }
}
