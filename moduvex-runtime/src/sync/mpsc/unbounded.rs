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
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives values from the [`UnboundedSender`]s.
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
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value)
    }

    /// Completes when the receiver closes the channel or is dropped.
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver closed the channel or is dropped.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// A [`WeakUnboundedSender`] for this channel, which does not keep it open.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }

    /// Number of [`UnboundedSender`] handles of this channel alive now (tokio's
    /// `strong_count`).
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of [`WeakUnboundedSender`] handles of this channel alive now.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

/// A sender that does not keep the channel open: the channel closes when
/// the last [`UnboundedSender`] is dropped, weak ones or not. Made by
/// [`UnboundedSender::downgrade`]; [`upgrade`](Self::upgrade) turns it back into a
/// sender while one still exists.
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakUnboundedSender<T> {
    /// A sender, if the channel still has one (else `None`: it is closed
    /// for good).
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.try_add_sender().then(|| UnboundedSender {
            chan: Arc::clone(&self.chan),
        })
    }

    /// Number of [`UnboundedSender`] handles of this channel alive now.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of [`WeakUnboundedSender`] handles of this channel alive now (this one
    /// included).
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

    /// Closes the channel: sends fail from now on, while queued messages can
    /// still be received.
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed: [`close`](Self::close) was called,
    /// or every sender is gone (weak senders do not count). Queued messages
    /// may still be waiting to be received.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed_rx()
    }

    /// Messages queued right now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is queued right now.
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
