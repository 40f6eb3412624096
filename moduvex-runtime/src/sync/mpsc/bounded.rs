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
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives values from the [`Sender`]s of a bounded channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// One reserved slot of a bounded channel; [`send`](Permit::send) fills it
/// without waiting. Dropping it unused gives the slot back.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

/// A reserved slot that owns its [`Sender`], from
/// [`Sender::reserve_owned`].
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
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let value = match self.chan.try_send(value) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(v)) => return Err(SendError(v)),
            Err(TrySendError::Full(v)) => v,
        };
        match self.chan.reserve().await {
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
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.reserve().await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(()) => Err(SendError(())),
        }
    }

    /// Takes a free slot now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`].
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve()?;
        Ok(Permit { chan: &self.chan })
    }

    /// Like [`reserve`](Self::reserve), but the permit owns the sender.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the sender if the receiver closed or was dropped.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<Self>> {
        match self.chan.reserve().await {
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
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_reserve() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Completes when the receiver closes the channel or is dropped.
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver closed the channel or is dropped.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The bound given to [`channel`](super::channel).
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// A [`WeakSender`] for this channel, which does not keep it open.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: Arc::clone(&self.chan),
        }
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

/// A sender that does not keep the channel open: the channel closes when
/// the last [`Sender`] is dropped, weak ones or not. Made by
/// [`Sender::downgrade`]; [`upgrade`](Self::upgrade) turns it back into a
/// sender while one still exists.
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// A sender, if the channel still has one (else `None`: it is closed
    /// for good).
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: Arc::clone(&self.chan),
        })
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            chan: Arc::clone(&self.chan),
        }
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
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Waits for messages and moves up to `limit` of them into `buffer`;
    /// returns how many. Returns 0 only if `limit` is 0 or the channel is
    /// closed and drained.
    ///
    /// Cancel safety: cancel-safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes the next message if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] or [`TryRecvError::Disconnected`].
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
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::block::block_on(self.recv_many(buffer, limit))
    }

    /// Polls for the next message, for hand-written futures and streams.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Closes the channel: sends fail from now on, while queued messages
    /// and values sent through already-reserved slots can still be received.
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed for senders.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Messages queued right now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is queued right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The bound given to [`channel`](super::channel).
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
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        chan.push_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl<T> OwnedPermit<T> {
    /// Fills the reserved slot with `value` and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.push_reserved(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.release_reserved();
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
            sender.chan.release_reserved();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}
