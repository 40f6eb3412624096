//! The bounded channel's handles: [`Sender`], [`Receiver`] and the slot
//! guards [`Permit`] / [`OwnedPermit`].

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::loom_facade::Arc;

/// Sends values to the [`Receiver`] of a bounded channel. Cheap to clone;
/// the channel closes for the receiver when the last sender is dropped.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel(2);
///     let producer = moduvex_runtime::spawn(async move {
///         for i in 0..5 {
///             tx.send(i).await.unwrap(); // waits while 2 are queued
///         }
///     });
///     let mut sum = 0;
///     while let Some(v) = rx.recv().await {
///         sum += v;
///     }
///     producer.await.unwrap();
///     assert_eq!(sum, 10);
/// });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives values from the [`Sender`]s of a bounded channel.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     tx.send("a").await.unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some("a"));
///     assert_eq!(rx.recv().await, None, "closed and drained");
/// });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// One reserved slot of a bounded channel; [`send`](Permit::send) fills it
/// without waiting. Dropping it unused gives the slot back.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     let permit = tx.reserve().await.unwrap();
///     assert_eq!(tx.capacity(), 0);
///     permit.send(1);
///     assert_eq!(rx.recv().await, Some(1));
/// });
/// ```
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

/// A reserved slot that owns its [`Sender`], from
/// [`Sender::reserve_owned`].
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     let permit = tx.reserve_owned().await.unwrap();
///     let tx = permit.send(5);
///     assert_eq!(rx.recv().await, Some(5));
///     # drop(tx);
/// });
/// ```
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

pub(super) fn new_pair<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(Some(cap)));
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver { chan },
    )
}

impl<T> Sender<T> {
    /// Waits for a free slot, then queues `value`. Senders blocked on a full
    /// channel are served in FIFO order.
    ///
    /// Cancel safety: if the future is dropped before completing, `value` is
    /// dropped with it and never sent, and a slot the future had been given
    /// passes to the next sender. Use [`reserve`](Self::reserve) to keep the
    /// value when cancelled.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     let second = moduvex_runtime::spawn(async move { tx.send(2).await });
    ///     assert_eq!(rx.recv().await, Some(1)); // frees the slot the second send waits for
    ///     assert_eq!(rx.recv().await, Some(2));
    ///     second.await.unwrap().unwrap();
    /// });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        // Fast path, one lock, no poll: a free slot. It spends one unit of
        // the task's budget; a full channel refunds it and waits in
        // `reserve`, which charges when it completes. With the budget spent
        // the slow path's first poll yields.
        let value = match crate::coop::try_proceed() {
            Some(coop) => match self.chan.try_send(value) {
                Ok(()) => {
                    coop.made_progress();
                    return Ok(());
                }
                Err(TrySendError::Closed(v)) => {
                    coop.made_progress();
                    return Err(SendError(v));
                }
                Err(TrySendError::Full(v)) => v,
            },
            None => value,
        };
        match self.chan.reserve(1).await {
            Ok(()) => {
                self.chan.push_reserved(value);
                Ok(())
            }
            Err(()) => Err(SendError(value)),
        }
    }

    /// Queues `value` if a slot is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if no slot is free (or senders are queued for
    /// one), [`TrySendError::Closed`] if the receiver closed; both hand the
    /// value back.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// use mpsc::error::TrySendError;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Sends from synchronous code, parking the thread while the channel is
    /// full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver closed or was dropped.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`send`](Self::send)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     tx.blocking_send(1).unwrap();
    ///     tx.blocking_send(2).unwrap();
    /// });
    /// let got = moduvex_runtime::block_on(async { (rx.recv().await, rx.recv().await) });
    /// assert_eq!(got, (Some(1), Some(2)));
    /// producer.join().unwrap();
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::block::block_on(self.send(value))
    }

    /// Waits for a free slot and holds it.
    ///
    /// Cancel safety: cancel-safe. Dropping the future loses nothing; a slot
    /// it had been given passes to the next sender.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     // The slot is held: a try_send now finds the channel full.
    ///     assert!(tx.try_send(0).is_err());
    ///     permit.send(1);
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.reserve(1).await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(()) => Err(SendError(())),
        }
    }

    /// Waits for `n` free slots at once and holds them, as an iterator of
    /// `n` [`Permit`]s. FIFO with the other senders: while this waits,
    /// later senders queue behind it even if they need fewer slots.
    /// `reserve_many(0)` completes at once with an empty iterator.
    ///
    /// Cancel safety: cancel-safe. Dropping the future loses nothing; slots
    /// it had been given pass to the next sender.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver closed or was dropped, or if `n`
    /// exceeds [`max_capacity`](Self::max_capacity) (such a request could
    /// never be met), as tokio's.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(4);
    ///     for (i, permit) in tx.reserve_many(3).await.unwrap().enumerate() {
    ///         permit.send(i);
    ///     }
    ///     assert!(tx.reserve_many(5).await.is_err());
    ///     assert_eq!(rx.recv().await, Some(0));
    /// });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        match self.chan.reserve(n).await {
            Ok(()) => Ok(PermitIterator {
                chan: &self.chan,
                n,
            }),
            Err(()) => Err(SendError(())),
        }
    }

    /// Takes `n` free slots now, as an iterator of `n` [`Permit`]s;
    /// `try_reserve_many(0)` gives an empty iterator.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if fewer than `n` slots are free (or senders
    /// are queued for slots), or if `n` exceeds
    /// [`max_capacity`](Self::max_capacity), as tokio's;
    /// [`TrySendError::Closed`] if the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(3);
    /// let permits = tx.try_reserve_many(2).unwrap();
    /// assert!(tx.try_reserve_many(2).is_err(), "only one slot left");
    /// for (permit, v) in permits.zip([1, 2]) {
    ///     permit.send(v);
    /// }
    /// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(1), Ok(2)));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.max_capacity() {
            return Err(TrySendError::Full(()));
        }
        self.chan.try_reserve(n)?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// Waits at most `timeout` for a free slot, then queues `value`.
    /// Needs a moduvex runtime with timers (it uses
    /// [`time::timeout`](crate::time::timeout)).
    ///
    /// Cancel safety: as [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] if no slot came free in time,
    /// [`SendTimeoutError::Closed`] if the receiver closed or was dropped;
    /// both hand the value back.
    ///
    /// [`SendTimeoutError::Timeout`]: super::error::SendTimeoutError::Timeout
    /// [`SendTimeoutError::Closed`]: super::error::SendTimeoutError::Closed
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     use std::time::Duration;
    ///
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send_timeout(1, Duration::from_millis(10)).await.unwrap();
    ///     assert!(tx.send_timeout(2, Duration::from_millis(1)).await.is_err(), "still full");
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    #[cfg(not(loom))]
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: std::time::Duration,
    ) -> Result<(), super::error::SendTimeoutError<T>> {
        use super::error::SendTimeoutError;
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Takes a free slot now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`].
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().is_err());
    /// permit.send("x");
    /// assert_eq!(rx.try_recv(), Ok("x"));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(1)?;
        Ok(Permit { chan: &self.chan })
    }

    /// Like [`reserve`](Self::reserve), but the permit owns the sender.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the sender if the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     // The permit owns its sender: it can move into a task.
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     moduvex_runtime::spawn(async move { drop(permit.send(8)) });
    ///     assert_eq!(rx.recv().await, Some(8));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<Self>> {
        match self.chan.reserve(1).await {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(()) => Err(SendError(self)),
        }
    }

    /// Like [`try_reserve`](Self::try_reserve), but the permit owns the
    /// sender.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`] with the sender.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(1);
    /// // Full: the error hands the sender back.
    /// let tx = match tx.try_reserve_owned() {
    ///     Err(mpsc::error::TrySendError::Full(tx)) => tx,
    ///     _ => unreachable!(),
    /// };
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// # drop(tx);
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Completes when the receiver closes the channel or is dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = mpsc::channel::<u8>(1);
    ///     moduvex_runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver closed the channel or is dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Free slots right now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The bound given to [`channel`](super::channel).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// A [`WeakSender`] for this channel, which does not keep it open.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak();
        WeakSender {
            chan: Arc::clone(&self.chan),
        }
    }

    /// Number of [`Sender`] handles of this channel alive now (tokio's
    /// `strong_count`).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let _tx2 = tx.clone();
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of [`WeakSender`] handles of this channel alive now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let (other, _rx2) = mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

/// A sender that does not keep the channel open: the channel closes when
/// the last [`Sender`] is dropped, weak ones or not. Made by
/// [`Sender::downgrade`]; [`upgrade`](Self::upgrade) turns it back into a
/// sender while one still exists.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel(1);
/// let weak = tx.downgrade();
/// // A weak sender does not keep the channel open ...
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
/// // ... and cannot come back once it closed.
/// assert!(weak.upgrade().is_none());
/// # let _: Option<mpsc::Sender<u8>> = weak.upgrade();
/// ```
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// A sender, if the channel still has one (else `None`: it is closed
    /// for good).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: Arc::clone(&self.chan),
        })
    }

    /// Number of [`Sender`] handles of this channel alive now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of [`WeakSender`] handles of this channel alive now (this one
    /// included).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// let _weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("max_capacity", &self.chan.max_capacity())
            .finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Waits for the next message; `None` once the channel is closed (all
    /// senders dropped, or [`close`](Self::close) called) and drained.
    ///
    /// Cancel safety: cancel-safe; a message is removed from the channel
    /// only when this future returns it.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     moduvex_runtime::spawn(async move { tx.send("hello").await.unwrap() });
    ///     assert_eq!(rx.recv().await, Some("hello"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Waits for messages and moves up to `limit` of them into `buffer`;
    /// returns how many. Returns 0 only if `limit` is 0 or the channel is
    /// closed and drained.
    ///
    /// Cancel safety: cancel-safe.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(8);
    ///     for i in 0..5 {
    ///         tx.send(i).await.unwrap();
    ///     }
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 2);
    ///     assert_eq!(buf, [0, 1, 2, 3, 4]);
    /// });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes the next message if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] or [`TryRecvError::Disconnected`].
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives from synchronous code, parking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`recv`](Self::recv)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let consumer = std::thread::spawn(move || rx.blocking_recv());
    /// moduvex_runtime::block_on(async move { tx.send(4).await.unwrap() });
    /// assert_eq!(consumer.join().unwrap(), Some(4));
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::block::block_on(self.recv())
    }

    /// [`recv_many`](Self::recv_many) from synchronous code, parking the
    /// thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`recv_many`](Self::recv_many)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.blocking_recv_many(&mut buf, 10), 2);
    /// assert_eq!(buf, [1, 2]);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::block::block_on(self.recv_many(buffer, limit))
    }

    /// Polls for the next message, for hand-written futures and streams.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send(3).await.unwrap();
    ///     let v = std::future::poll_fn(|cx| rx.poll_recv(cx)).await;
    ///     assert_eq!(v, Some(3));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Closes the channel: sends fail from now on, while queued messages
    /// and values sent through already-reserved slots can still be received.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1), "queued messages are still received");
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed: [`close`](Self::close) was called,
    /// or every sender is gone (weak senders do not count). Queued messages
    /// may still be waiting to be received.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<u8>(1);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed_rx()
    }

    /// Messages queued right now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is queued right now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// assert!(rx.is_empty());
    /// tx.try_send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots right now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The bound given to [`channel`](super::channel).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::channel::<u8>(4);
    /// assert_eq!(rx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().chan.poll_recv(cx)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("max_capacity", &self.chan.max_capacity())
            .finish_non_exhaustive()
    }
}

impl<T> Permit<'_, T> {
    /// Fills the reserved slot with `value`. Never waits and never fails; if
    /// the receiver was dropped meanwhile, `value` is dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.try_reserve().unwrap().send("filled");
    /// assert_eq!(rx.try_recv(), Ok("filled"));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        chan.push_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved(1);
    }
}

/// `n` reserved slots of a bounded channel, handed out one [`Permit`] at
/// a time; from [`Sender::reserve_many`]. Slots not taken out of the
/// iterator go back to the channel when it is dropped.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     let permits = tx.reserve_many(3).await.unwrap();
///     assert_eq!(permits.len(), 3);
///     for (i, permit) in permits.enumerate() {
///         permit.send(i);
///     }
///     assert_eq!(rx.len(), 3);
/// });
/// ```
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<T>,
    n: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved(std::mem::take(&mut self.n));
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl<T> OwnedPermit<T> {
    /// Fills the reserved slot with `value` and gives the sender back.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.push_reserved(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.release();
    /// assert_eq!(tx.capacity(), 1, "the slot is free again");
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.release_reserved(1);
        sender
    }

    fn take_sender(&mut self) -> Sender<T> {
        match self.sender.take() {
            Some(s) => s,
            None => unreachable!("an OwnedPermit holds its sender until consumed"),
        }
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.release_reserved(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}
