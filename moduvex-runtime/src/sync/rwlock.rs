//! An asynchronous, fair, write-preferring reader-writer lock.
//!
//! The lock is a semaphore from `sem_core` holding `max_readers` permits: a
//! reader takes one, a writer takes all of them. Because the semaphore hands
//! permits to the oldest waiter first, a queued writer collects permits as
//! readers leave and every reader arriving after it queues behind it, so
//! writers are never starved and nobody jumps the queue.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::Arc;

use super::mutex::TryLockError;
use super::sem_core::RawSemaphore;

/// Default and largest number of concurrent readers.
const MAX_READS: u32 = u32::MAX >> 3;

/// An asynchronous reader-writer lock; waiters are served in FIFO order.
///
/// ```
/// use moduvex_runtime::sync::RwLock;
/// let lock = RwLock::new(5);
/// {
///     let a = lock.try_read().unwrap();
///     let b = lock.try_read().unwrap();
///     assert_eq!(*a + *b, 10);
///     assert!(lock.try_write().is_err());
/// }
/// *lock.try_write().unwrap() += 1;
/// assert_eq!(lock.into_inner(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    sem: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: a writer gets `&mut T` on whichever thread holds the guard, so
// moving the lock needs `T: Send`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` (needs `T: Sync`) and a
// writer may take `&mut T` on another thread (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to the data of a [`RwLock`] (or to a part of it, after
/// [`RwLockWriteGuard::downgrade_map`]); released on drop.
///
/// ```
/// use moduvex_runtime::sync::RwLock;
///
/// moduvex_runtime::block_on(async {
///     let lock = RwLock::new(5);
///     let (a, b) = (lock.read().await, lock.read().await); // readers share
///     assert_eq!(*a + *b, 10);
/// });
/// ```
#[must_use = "dropping the guard releases the lock immediately"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    sem: &'a RawSemaphore,
    /// # Invariant
    ///
    /// Points into the data of the `RwLock` that owns `sem` (the whole
    /// value, or a part of it a map chose), valid for `'a`; while this
    /// guard holds its one read permit of `sem` no writer exists, so the
    /// pointee is only ever shared.
    data: NonNull<T>,
    _marker: PhantomData<&'a T>,
}

// SAFETY: the guard is a shared borrow of `T` (see `data`'s invariant):
// sending it to another thread shares `&T` with that thread, which needs
// `T: Sync`; the permit it returns on drop may be released from any thread.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: sharing the guard shares only `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard for the whole data of `lock`; the caller holds one read
    /// permit of `lock.sem` and hands it to the guard.
    fn new(lock: &'a RwLock<T>) -> Self {
        // SAFETY: `UnsafeCell::get` on a reference is never null. The invariant of `data` holds: the caller's permit keeps writers out.
        let data = unsafe { NonNull::new_unchecked(lock.data.get()) };
        RwLockReadGuard {
            sem: &lock.sem,
            data,
            _marker: PhantomData,
        }
    }
}

/// Exclusive access to the data of a [`RwLock`]; released on drop.
///
/// ```
/// use moduvex_runtime::sync::RwLock;
///
/// moduvex_runtime::block_on(async {
///     let lock = RwLock::new(vec![1]);
///     let mut w = lock.write().await;
///     w.push(2);
///     assert!(lock.try_read().is_err(), "the writer is alone");
///     drop(w);
///     assert_eq!(*lock.read().await, [1, 2]);
/// });
/// ```
#[must_use = "dropping the guard releases the lock immediately"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

/// Shared access to the data of an `Arc<RwLock<T>>`; released on drop.
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::RwLock;
///
/// moduvex_runtime::block_on(async {
///     let lock = Arc::new(RwLock::new(String::from("shared")));
///     let guard = lock.clone().read_owned().await;
///     let len = moduvex_runtime::spawn(async move { guard.len() }).await.unwrap();
///     assert_eq!(len, 6);
/// });
/// ```
#[must_use = "dropping the guard releases the lock immediately"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    _marker: PhantomData<T>,
}

/// Exclusive access to the data of an `Arc<RwLock<T>>`; released on drop.
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::RwLock;
///
/// moduvex_runtime::block_on(async {
///     let lock = Arc::new(RwLock::new(0));
///     let mut guard = lock.clone().write_owned().await;
///     moduvex_runtime::spawn(async move { *guard = 3 }).await.unwrap();
///     assert_eq!(*lock.read().await, 3);
/// });
/// ```
#[must_use = "dropping the guard releases the lock immediately"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    _marker: PhantomData<T>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`, allowing up to `u32::MAX >> 3`
    /// readers at once.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = RwLock::new(1);
    ///     *lock.write().await += 1;
    ///     assert_eq!(*lock.read().await, 2);
    /// });
    /// ```
    pub fn new(value: T) -> Self {
        Self::with_max_readers(value, MAX_READS)
    }

    /// An unlocked lock allowing at most `max_readers` readers at once.
    ///
    /// # Panics
    ///
    /// If `max_readers` exceeds `u32::MAX >> 3` (tokio's limit and
    /// message), or is 0: a lock no reader could ever take, whose writers
    /// would need no permit (tokio does not check 0; see `docs/PORTING.md`).
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers((), 2);
    /// let _a = lock.try_read().unwrap();
    /// let _b = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err(), "at most two readers");
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_readers: u32) -> Self {
        assert!(
            max_readers <= MAX_READS,
            "a RwLock may not be created with more than {MAX_READS} readers \
             (RwLock::with_max_readers takes at most u32::MAX >> 3)"
        );
        assert!(
            max_readers != 0,
            "a RwLock may not be created with 0 readers \
             (RwLock::with_max_readers needs at least 1)"
        );
        RwLock {
            max_readers,
            sem: RawSemaphore::new(max_readers as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Like [`new`](Self::new), usable in a `static`.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     static CONFIG: RwLock<u32> = RwLock::const_new(8);
    ///     assert_eq!(*CONFIG.read().await, 8);
    /// });
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        RwLock {
            max_readers: MAX_READS,
            sem: RawSemaphore::new(MAX_READS as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning its data.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// assert_eq!(RwLock::new("v").into_inner(), "v");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

fn never_closed<T>(r: Result<(), T>) {
    if r.is_err() {
        unreachable!("the semaphore of a RwLock is never closed");
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access. Queues behind any earlier waiter, including
    /// writers.
    ///
    /// Cancel safety: dropping the future gives up its place; nothing is lost.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = Arc::new(RwLock::new(7));
    ///     let readers: Vec<_> = (0..3)
    ///         .map(|_| {
    ///             let lock = lock.clone();
    ///             moduvex_runtime::spawn(async move { *lock.read().await })
    ///         })
    ///         .collect();
    ///     for r in readers {
    ///         assert_eq!(r.await.unwrap(), 7);
    ///     }
    /// });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        never_closed(self.sem.acquire(1).await);
        RwLockReadGuard::new(self)
    }

    /// Waits for exclusive access.
    ///
    /// Cancel safety: dropping the future gives up its place; reader permits
    /// it had collected pass on to the waiters behind it.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = RwLock::new(String::new());
    ///     lock.write().await.push_str("written");
    ///     assert_eq!(*lock.read().await, "written");
    /// });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        never_closed(self.sem.acquire(self.max_readers as usize).await);
        RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Shared access now, if no writer holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(RwLockReadGuard::new(self))
    }

    /// Exclusive access now, if nobody holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// *lock.try_write().unwrap() = 2;
    /// let _r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err(), "a reader holds it");
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem
            .try_acquire(self.max_readers as usize)
            .map_err(|_| TryLockError(()))?;
        Ok(RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Shared access from synchronous code, parking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`read`](Self::read)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let reader = std::thread::spawn({
    ///     let lock = lock.clone();
    ///     move || *lock.blocking_read()
    /// });
    /// assert_eq!(reader.join().unwrap(), 1);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        super::block::block_on(self.read())
    }

    /// Exclusive access from synchronous code, parking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`write`](Self::write)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    /// let lock = RwLock::new(1);
    /// *lock.blocking_write() += 1;
    /// assert_eq!(*lock.blocking_read(), 2);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        super::block::block_on(self.write())
    }

    /// [`read`](Self::read) for an `Arc<RwLock<T>>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = Arc::new(RwLock::new(1));
    ///     let g = lock.clone().read_owned().await;
    ///     assert_eq!(*g, 1);
    ///     assert!(lock.try_write().is_err());
    /// });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        never_closed(self.sem.acquire(1).await);
        OwnedRwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// [`write`](Self::write) for an `Arc<RwLock<T>>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = Arc::new(RwLock::new(1));
    ///     let mut g = lock.clone().write_owned().await;
    ///     *g = 2;
    ///     drop(g);
    ///     assert_eq!(*lock.read().await, 2);
    /// });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        never_closed(self.sem.acquire(self.max_readers as usize).await);
        OwnedRwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Access through a unique borrow: no locking needed.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// let mut lock = RwLock::new(1);
    /// *lock.get_mut() = 10;
    /// assert_eq!(lock.into_inner(), 10);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// `Deref`, `Drop` (returning `$permits(lock)` permits), `Debug` and
/// `Display` for one guard type.
macro_rules! guard_impls {
    ([$($gen:tt)*] $guard:ty, $permits:ident) => {
        impl<$($gen)*> Deref for $guard {
            type Target = T;
            fn deref(&self) -> &T {
                // SAFETY: the guard holds semaphore permits: a read guard one (so no writer holds all of them meanwhile), a write guard all of them (so nobody else holds any). Either way no `&mut T` from another guard can alias this borrow.
                unsafe { &*self.lock.data.get() }
            }
        }

        impl<$($gen)*> Drop for $guard {
            fn drop(&mut self) {
                let n = $permits(&self.lock);
                self.lock.sem.release(n);
            }
        }

        impl<$($gen)*> fmt::Debug for $guard where T: fmt::Debug {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($gen)*> fmt::Display for $guard where T: fmt::Display {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

fn one<T: ?Sized>(_: &RwLock<T>) -> usize {
    1
}

fn all<T: ?Sized>(lock: &RwLock<T>) -> usize {
    lock.max_readers as usize
}

guard_impls!(['a, T: ?Sized] RwLockWriteGuard<'a, T>, all);
guard_impls!([T: ?Sized] OwnedRwLockReadGuard<T>, one);
guard_impls!([T: ?Sized] OwnedRwLockWriteGuard<T>, all);

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: by the invariant of `data`, it is valid for the guard's lifetime and only shared while the guard holds its read permit.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a write guard holds every permit, so no other guard exists; `&mut self` makes this borrow unique too.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a write guard holds every permit, so no other guard exists; `&mut self` makes this borrow unique too.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting a queued
    /// writer in between.
    ///
    /// ```
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = RwLock::new(1);
    ///     let mut w = lock.write().await;
    ///     *w = 2;
    ///     let r = w.downgrade(); // no writer can slip in between
    ///     assert_eq!(*r, 2);
    ///     assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    /// });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        // Keep one permit, hand the rest to the queue (readers behind us).
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard::new(lock)
    }

    /// Downgrades to shared access to the part of the data `f` picks, as
    /// [`downgrade`](Self::downgrade) does (no queued writer gets in
    /// between). An associated function (`RwLockWriteGuard::downgrade_map(guard, f)`)
    /// so as not to shadow a method of `T`.
    ///
    /// ```
    /// use moduvex_runtime::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new((1, String::from("a")));
    /// let mut w = lock.try_write().unwrap();
    /// w.1.push('b');
    /// let s = RwLockWriteGuard::downgrade_map(w, |v| &v.1);
    /// assert_eq!(&*s, "ab");
    /// assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    /// ```
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> RwLockReadGuard<'a, U> {
        let lock = this.lock;
        // Mapped while still exclusive; if `f` panics, `this` is dropped
        // normally and releases the write permits.
        let data = NonNull::from(f(&*this));
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        // The invariant of `data` holds: it points into `lock`'s data (a
        // shared borrow of it `f` returned), and the one permit kept keeps
        // writers out for `'a`.
        RwLockReadGuard {
            sem: &lock.sem,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`downgrade_map`](Self::downgrade_map), but `f` may decline by
    /// returning `None`: then the write guard comes back unchanged in
    /// `Err`, still exclusive.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returned `None`.
    ///
    /// ```
    /// use moduvex_runtime::sync::{RwLock, RwLockWriteGuard};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = RwLock::new(vec![1, 2]);
    ///     let w = lock.write().await;
    ///     let first = RwLockWriteGuard::try_downgrade_map(w, |v| v.first()).ok().unwrap();
    ///     assert_eq!(*first, 1);
    ///     drop(first);
    ///     let w = lock.write().await;
    ///     assert!(RwLockWriteGuard::try_downgrade_map(w, |v| v.get(9)).is_err());
    /// });
    /// ```
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        let lock = this.lock;
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        // The invariant of `data` holds, as in `downgrade_map`.
        Ok(RwLockReadGuard {
            sem: &lock.sem,
            data,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns exclusive access into shared access without letting a queued
    /// writer in between.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::RwLock;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lock = Arc::new(RwLock::new(1));
    ///     let mut w = lock.clone().write_owned().await;
    ///     *w += 1;
    ///     let r = w.downgrade();
    ///     assert_eq!(*r, 2);
    ///     assert!(lock.try_write().is_err());
    /// });
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out exactly once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.sem.release(lock.max_readers as usize - 1);
        OwnedRwLockReadGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::RwLock;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn downgrade_lets_queued_readers_in_but_not_writers() {
        let lock = RwLock::with_max_readers(vec![1u32], 4);
        {
            let mut w = lock.try_write().unwrap();
            w.push(2);
            let mut cx = Context::from_waker(Waker::noop());
            let mut reader = pin!(lock.read());
            assert!(reader.as_mut().poll(&mut cx).is_pending());
            let r = w.downgrade();
            let Poll::Ready(r2) = reader.as_mut().poll(&mut cx) else {
                panic!("the queued reader gets in after the downgrade");
            };
            assert_eq!((&*r, &*r2), (&vec![1, 2], &vec![1, 2]));
            assert!(lock.try_write().is_err());
            drop((r, r2));
            lock.try_write().unwrap().push(3);
        }
        assert_eq!(lock.into_inner(), [1, 2, 3]);
    }

    #[test]
    fn mapped_read_guards_share_the_data_across_threads() {
        let lock = Arc::new(RwLock::with_max_readers((0u32, vec![1u8, 2, 3]), 2));
        let mut w = lock.try_write().unwrap();
        w.1.push(4);
        w.0 = 1;
        let tail = super::RwLockWriteGuard::downgrade_map(w, |v| &v.1[1..]);
        let l2 = Arc::clone(&lock);
        let th = std::thread::spawn(move || {
            let r = super::super::block::block_on(l2.read());
            assert_eq!(r.0, 1);
            r.1.len()
        });
        assert_eq!(&*tail, [2, 3, 4]);
        assert_eq!(th.join().unwrap(), 4);
        let w = match super::RwLockWriteGuard::try_downgrade_map(
            {
                drop(tail);
                lock.try_write().unwrap()
            },
            |v| v.1.get(7),
        ) {
            Err(w) => w,
            Ok(_) => panic!("no element 7"),
        };
        let first = super::RwLockWriteGuard::try_downgrade_map(w, |v| v.1.first()).unwrap();
        assert_eq!(*first, 1);
        drop(first);
        lock.try_write().unwrap().1.clear();
        assert!(lock.try_read().unwrap().1.is_empty());
    }

    #[test]
    fn owned_guards_and_downgrade_across_threads() {
        let lock = Arc::new(RwLock::new(0u32));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let mut w = super::super::block::block_on(Arc::clone(&lock).write_owned());
                        *w += 1;
                        let r = w.downgrade();
                        assert!(*r > 0);
                        drop(r);
                        *lock.blocking_write() += 1;
                        assert!(*lock.blocking_read() > 0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let r = super::super::block::block_on(Arc::clone(&lock).read_owned());
        assert_eq!(*r, 60);
    }
}
