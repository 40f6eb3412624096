//! A single-value channel: receivers see the latest value and can wait for
//! it to change.
//!
//! The one idea: every change bumps a version number, and each receiver
//! remembers the version it last saw; [`Receiver::changed`] waits until the
//! two differ. Intermediate values may be skipped, never the latest one. The
//! value sits behind a blocking `RwLock` held only for the length of a
//! borrow, so keep [`Ref`]s short and never hold one across an `.await`.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::loom_facade::{Arc, AtomicUsize, Mutex, Ordering, RwLock, RwLockReadGuard};
use super::wait_queue::WaitQueue;
use super::wake_list::{register, WakeList};

/// Errors of the `watch` channel.
pub mod error {
    use std::fmt;

    /// Every receiver is gone; the value comes back in field `0`.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// Every sender is gone and the latest value has been seen.
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
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Observes the latest value of a watch channel.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: usize,
}

/// A borrow of the current value; holds a read lock until dropped.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

/// A watch channel starting with `init`, which receivers consider seen.
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
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.rx_count.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Replaces the value even if no receiver exists; returns the old one.
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
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Runs `modify`; notifies receivers only if it returns `true`.
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
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// A new receiver that considers the current value seen.
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
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Ordering::Relaxed)
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes when every receiver is gone.
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
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.version.load(Ordering::Acquire);
        Ref {
            guard,
            has_changed: version != self.seen,
        }
    }

    /// Borrows the current value and marks it seen.
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
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.waiters.lock().tx_closed {
            return Err(RecvError(()));
        }
        Ok(self.shared.version.load(Ordering::Acquire) != self.seen)
    }

    /// Marks the current value unseen, so `changed` completes at once.
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version.load(Ordering::Acquire).wrapping_sub(1);
    }

    /// Marks the current value seen.
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
