//! The unbounded channel's handles: [`UnboundedSender`] and
//! [`UnboundedReceiver`]. Sending never waits; memory is the only bound.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::error::{SendError, TryRecvError};
use crate::sync::loom_facade::Arc;

/// Sends values to the [`UnboundedReceiver`]. Cheap to clone; the channel
/// closes for the receiver when the last sender is dropped.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     let tx2 = tx.clone();
///     std::thread::spawn(move || tx2.send("from a thread").unwrap()).join().unwrap();
///     tx.send("from here").unwrap();
///     assert_eq!(rx.recv().await, Some("from a thread"));
///     assert_eq!(rx.recv().await, Some("from here"));
/// });
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives values from the [`UnboundedSender`]s.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     moduvex_runtime::spawn(async move {
///         for i in 0..3 {
///             tx.send(i).unwrap();
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

pub(super) fn new_pair<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender {
            chan: Arc::clone(&chan),
        },
        UnboundedReceiver { chan },
    )
}

impl<T> UnboundedSender<T> {
    /// Queues `value` without waiting.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value)
    }

    /// Completes when the receiver closes the channel or is dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = mpsc::unbounded_channel::<()>();
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
    /// let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// A [`WeakUnboundedSender`] for this channel, which does not keep it open.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }

    /// Number of [`UnboundedSender`] handles of this channel alive now (tokio's
    /// `strong_count`).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of [`WeakUnboundedSender`] handles of this channel alive now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
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
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let (other, _rx2) = mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

/// A sender that does not keep the channel open: the channel closes when
/// the last [`UnboundedSender`] is dropped, weak ones or not. Made by
/// [`UnboundedSender::downgrade`]; [`upgrade`](Self::upgrade) turns it back into a
/// sender while one still exists.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
/// let weak = tx.downgrade();
/// drop(tx);
/// // Only weak senders left: the channel is closed.
/// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakUnboundedSender<T> {
    /// A sender, if the channel still has one (else `None`: it is closed
    /// for good).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.try_add_sender().then(|| UnboundedSender {
            chan: Arc::clone(&self.chan),
        })
    }

    /// Number of [`UnboundedSender`] handles of this channel alive now.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of [`WeakUnboundedSender`] handles of this channel alive now (this one
    /// included).
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// let _weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for WeakUnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}

impl<T> UnboundedReceiver<T> {
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
    ///     let (tx, mut rx) = mpsc::unbounded_channel();
    ///     moduvex_runtime::spawn(async move { tx.send("hi").unwrap() });
    ///     assert_eq!(rx.recv().await, Some("hi"));
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
    ///     let (tx, mut rx) = mpsc::unbounded_channel();
    ///     for i in 0..4 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    ///     assert_eq!(buf, [0, 1, 2]);
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Empty));
    /// tx.send(1).unwrap();
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let consumer = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send(2).unwrap();
    /// assert_eq!(consumer.join().unwrap(), Some(2));
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send('a').unwrap();
    /// tx.send('b').unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.blocking_recv_many(&mut buf, 8), 2);
    /// assert_eq!(buf, ['a', 'b']);
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
    ///     let (tx, mut rx) = mpsc::unbounded_channel();
    ///     tx.send(3).unwrap();
    ///     assert_eq!(std::future::poll_fn(|cx| rx.poll_recv(cx)).await, Some(3));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Closes the channel: sends fail from now on, while queued messages can
    /// still be received.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
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
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
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
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert!(rx.is_empty());
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> futures_core::Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().chan.poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver").finish_non_exhaustive()
    }
}
