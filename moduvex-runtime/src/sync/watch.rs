//! A single-value channel: receivers see the latest value and can wait for
//! it to change.
//!
//! The one idea: every change bumps a version number, and each receiver
//! remembers the version it last saw; [`Receiver::changed`] waits until the
//! two differ. Intermediate values may be skipped, never the latest one. The
//! value sits behind a blocking `RwLock` held only for the length of a
//! borrow, so keep [`Ref`]s short and never hold one across an `.await`.
//!
//! ```
//! use moduvex_runtime::sync::watch;
//!
//! moduvex_runtime::block_on(async {
//!     let (tx, mut rx) = watch::channel("v1");
//!     tx.send("v2").unwrap();
//!     tx.send("v3").unwrap();
//!     rx.changed().await.unwrap();
//!     assert_eq!(*rx.borrow_and_update(), "v3", "only the latest is kept");
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::loom_facade::{Arc, AtomicUsize, Mutex, Ordering, RwLock, RwLockReadGuard};
use super::wait_queue::WaitQueue;
use super::wake_list::{register, WakeList};

/// Errors of the `watch` channel.
///
/// ```
/// use moduvex_runtime::sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// drop(rx);
/// let err: watch::error::SendError<i32> = tx.send(1).unwrap_err();
/// assert_eq!(err.0, 1);
/// ```
pub mod error {
    use std::fmt;

    /// Every receiver is gone; the value comes back in field `0`.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// drop(rx);
    /// let err = tx.send(5).unwrap_err();
    /// assert_eq!(err.0, 5);
    /// ```
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// Every sender is gone and the latest value has been seen.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     drop(tx);
    ///     let err: watch::error::RecvError = rx.changed().await.unwrap_err();
    ///     assert_eq!(err.to_string(), "channel closed");
    /// });
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(crate) ());

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

pub use error::{RecvError, SendError};

struct Shared<T> {
    value: RwLock<T>,
    /// Bumped on every change while `value` is write-locked.
    version: AtomicUsize,
    rx_count: AtomicUsize,
    tx_count: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    tx_closed: bool,
    /// Receivers in `changed`.
    rx: WaitQueue<Option<Waker>>,
    /// Senders in `closed`.
    tx: WaitQueue<Option<Waker>>,
}

/// Publishes values to every [`Receiver`].
///
/// ```
/// use moduvex_runtime::sync::watch;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = watch::channel("starting");
///     let watcher = moduvex_runtime::spawn(async move {
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     });
///     tx.send("ready").unwrap();
///     assert_eq!(watcher.await.unwrap(), "ready");
/// });
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Observes the latest value of a watch channel.
///
/// ```
/// use moduvex_runtime::sync::watch;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = watch::channel(1);
///     tx.send(2).unwrap();
///     tx.send(3).unwrap();
///     // Only the latest value is kept.
///     rx.changed().await.unwrap();
///     assert_eq!(*rx.borrow_and_update(), 3);
///     drop(tx);
///     assert!(rx.changed().await.is_err());
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: usize,
}

/// A borrow of the current value; holds a read lock until dropped.
///
/// ```
/// use moduvex_runtime::sync::watch;
///
/// let (tx, rx) = watch::channel(vec![1, 2]);
/// tx.send(vec![3]).unwrap();
/// let r = rx.borrow();
/// assert_eq!(*r, [3]);
/// assert!(r.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

/// A watch channel starting with `init`, which receivers consider seen.
///
/// ```
/// use moduvex_runtime::sync::watch;
///
/// let (tx, rx) = watch::channel(10);
/// assert_eq!(*rx.borrow(), 10);
/// assert!(!rx.has_changed().unwrap(), "the initial value counts as seen");
/// tx.send(11).unwrap();
/// assert!(rx.has_changed().unwrap());
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicUsize::new(0),
        rx_count: AtomicUsize::new(1),
        tx_count: AtomicUsize::new(1),
        waiters: Mutex::new(Waiters {
            tx_closed: false,
            rx: WaitQueue::new(),
            tx: WaitQueue::new(),
        }),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver { shared, seen: 0 },
    )
}

impl<T> Shared<T> {
    fn wake_receivers(&self) {
        let mut wakers = WakeList::new();
        self.waiters
            .lock()
            .rx
            .drain_linked(|w| wakers.push_opt(w.take()));
        wakers.wake_all();
    }
}

impl<T> Ref<'_, T> {
    /// Whether this value was new to the receiver that borrowed it.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel('a');
    /// tx.send('b').unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow_and_update().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Sender<T> {
    /// Replaces the value and notifies receivers.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver exists.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.rx_count.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Replaces the value even if no receiver exists; returns the old one.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        self.send_modify(|v| {
            if let Some(new) = value.take() {
                value = Some(std::mem::replace(v, new));
            }
        });
        match value {
            Some(old) => old,
            None => unreachable!("send_modify runs its closure"),
        }
    }

    /// Modifies the value in place and notifies receivers, even if no
    /// receiver exists. `modify` runs under the write lock: keep it short.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Runs `modify`; notifies receivers only if it returns `true`.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| std::mem::replace(v, 5) != 5));
    /// assert!(!rx.has_changed().unwrap(), "unchanged: nobody was notified");
    /// assert!(tx.send_if_modified(|v| std::mem::replace(v, 6) != 6));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut guard = self.shared.value.write();
            if !modify(&mut guard) {
                return false;
            }
            self.shared.version.fetch_add(1, Ordering::Release);
        }
        self.shared.wake_receivers();
        true
    }

    /// Borrows the current value (a read lock: keep it short).
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(String::from("v1"));
    /// tx.send("v2".into()).unwrap();
    /// assert_eq!(*tx.borrow(), "v2");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// A new receiver that considers the current value seen.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// let late = tx.subscribe();
    /// assert_eq!(*late.borrow(), 1);
    /// assert!(!late.has_changed().unwrap());
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        let guard = self.shared.value.read();
        let seen = self.shared.version.load(Ordering::Acquire);
        drop(guard);
        Receiver {
            shared: Arc::clone(&self.shared),
            seen,
        }
    }

    /// Number of receivers.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Ordering::Relaxed)
    }

    /// Whether every receiver is gone.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes when every receiver is gone.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = watch::channel(());
    ///     moduvex_runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        TxClosed {
            shared: &self.shared,
            key: None,
        }
        .await;
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tx_count.fetch_add(1, Ordering::Relaxed);
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.tx_count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut wakers = WakeList::new();
        {
            let mut w = self.shared.waiters.lock();
            w.tx_closed = true;
            w.rx.drain_linked(|w| wakers.push_opt(w.take()));
        }
        wakers.wake_all();
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// // `borrow` does not mark the value seen.
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.version.load(Ordering::Acquire);
        Ref {
            guard,
            has_changed: version != self.seen,
        }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.version.load(Ordering::Acquire);
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether a value not yet seen is present.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.waiters.lock().tx_closed {
            return Err(RecvError(()));
        }
        Ok(self.shared.version.load(Ordering::Acquire) != self.seen)
    }

    /// Marks the current value unseen, so `changed` completes at once.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (_tx, mut rx) = watch::channel(0);
    ///     rx.mark_changed();
    ///     rx.changed().await.unwrap(); // completes at once
    ///     assert_eq!(*rx.borrow(), 0);
    /// });
    /// ```
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version.load(Ordering::Acquire).wrapping_sub(1);
    }

    /// Marks the current value seen.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(Ordering::Acquire);
    }

    /// Waits for a value not yet seen and marks it seen.
    ///
    /// Cancel safety: cancel-safe; dropping the future loses no change.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and no unseen value remains.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     moduvex_runtime::spawn(async move {
    ///         for i in 1..=3 {
    ///             tx.send(i).unwrap();
    ///             moduvex_runtime::task::yield_now().await;
    ///         }
    ///     });
    ///     let mut last = 0;
    ///     while rx.changed().await.is_ok() {
    ///         last = *rx.borrow_and_update();
    ///     }
    ///     assert_eq!(last, 3);
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            key: None,
        }
        .await
    }

    /// Waits until the value satisfies `f`, checking the current value
    /// first, and returns it borrowed (and marked seen).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone before a value satisfies `f`.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     moduvex_runtime::spawn(async move {
    ///         for i in 1..=5 {
    ///             tx.send(i).unwrap();
    ///             moduvex_runtime::task::yield_now().await;
    ///         }
    ///     });
    ///     let v = rx.wait_for(|v| *v >= 3).await.unwrap();
    ///     assert!(*v >= 3);
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, seen } = self;
        let shared: &Shared<T> = shared;
        loop {
            {
                let guard = shared.value.read();
                let version = shared.version.load(Ordering::Acquire);
                let has_changed = version != *seen;
                *seen = version;
                if f(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            Changed {
                shared,
                seen: &mut *seen,
                key: None,
            }
            .await?;
        }
    }

    /// Whether both receivers watch the same channel.
    ///
    /// ```
    /// use moduvex_runtime::sync::watch;
    ///
    /// let (_tx, rx) = watch::channel(0);
    /// let (_tx2, other) = watch::channel(0);
    /// assert!(rx.same_channel(&rx.clone()));
    /// assert!(!rx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        Receiver {
            shared: Arc::clone(&self.shared),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.rx_count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut wakers = WakeList::new();
        self.shared
            .waiters
            .lock()
            .tx
            .drain_linked(|w| wakers.push_opt(w.take()));
        wakers.wake_all();
    }
}

struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    key: Option<usize>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_changed_keyed(this.shared, this.seen, &mut this.key, cx)
    }
}

impl<T> Receiver<T> {
    /// One poll of [`changed`](Self::changed) whose waiter slot is kept in
    /// `*key` by the caller (a stream that outlives many waits), under the
    /// task's budget. The caller gives the slot back with
    /// [`drop_waiter`](Self::drop_waiter) when it stops waiting.
    pub(crate) fn poll_changed_keyed(
        &mut self,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), RecvError>> {
        poll_changed_keyed(&self.shared, &mut self.seen, key, cx)
    }

    /// Gives back the waiter slot a wait kept in `*key`, if any.
    pub(crate) fn drop_waiter(&self, key: &mut Option<usize>) {
        drop_rx_waiter(&self.shared, key);
    }
}

/// One poll of a `changed` wait, under the task's budget: a change or the
/// end spends one unit.
fn poll_changed_keyed<T>(
    shared: &Shared<T>,
    seen: &mut usize,
    key: &mut Option<usize>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), RecvError>> {
    crate::coop::budgeted(cx, |cx| poll_changed(shared, seen, key, cx))
}

fn poll_changed<T>(
    shared: &Shared<T>,
    seen: &mut usize,
    key: &mut Option<usize>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), RecvError>> {
    // Declared before the guard, so dropped after it is released: a
    // waker's `Drop` may use this channel.
    let mut _displaced = None;
    let mut w = shared.waiters.lock();
    // Read under the waiter lock: a sender bumps the version before it
    // takes this lock to wake us, so we either see it or get woken.
    let version = shared.version.load(Ordering::Acquire);
    let out = if version != *seen {
        *seen = version;
        Ok(())
    } else if w.tx_closed {
        Err(RecvError(()))
    } else {
        match *key {
            Some(k) if w.rx.is_linked(k) => {
                _displaced = register(w.rx.get_mut(k), cx.waker());
            }
            Some(k) => {
                // Woken, but the change was already consumed by a
                // `borrow_and_update`: wait again.
                _displaced = w.rx.remove(k);
                *key = Some(w.rx.push_back(Some(cx.waker().clone())));
            }
            None => *key = Some(w.rx.push_back(Some(cx.waker().clone()))),
        }
        return Poll::Pending;
    };
    if let Some(k) = key.take() {
        _displaced = w.rx.remove(k);
    }
    Poll::Ready(out)
}

fn drop_rx_waiter<T>(shared: &Shared<T>, key: &mut Option<usize>) {
    if let Some(k) = key.take() {
        // The guard is a temporary of this statement: unlocked first.
        let waker = shared.waiters.lock().rx.remove(k);
        drop(waker);
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        drop_rx_waiter(self.shared, &mut self.key);
    }
}

struct TxClosed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

impl<T> Future for TxClosed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Declared before the guard, so dropped after it is released.
        let mut _displaced = None;
        let mut w = this.shared.waiters.lock();
        if this.shared.rx_count.load(Ordering::Acquire) == 0 {
            if let Some(key) = this.key.take() {
                _displaced = w.tx.remove(key);
            }
            return Poll::Ready(());
        }
        match this.key {
            Some(key) if w.tx.is_linked(key) => {
                _displaced = register(w.tx.get_mut(key), cx.waker());
            }
            Some(key) => {
                _displaced = w.tx.remove(key);
                this.key = Some(w.tx.push_back(Some(cx.waker().clone())));
            }
            None => this.key = Some(w.tx.push_back(Some(cx.waker().clone()))),
        }
        Poll::Pending
    }
}

impl<T> Drop for TxClosed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The guard is a temporary of this statement: unlocked first.
            let waker = self.shared.waiters.lock().tx.remove(key);
            drop(waker);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
