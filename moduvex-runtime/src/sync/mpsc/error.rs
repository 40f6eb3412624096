//! Errors of the `mpsc` channels. Each error that stems from a failed send
//! hands the value back.
//!
//! ```
//! use moduvex_runtime::sync::mpsc::{self, error::TrySendError};
//!
//! let (tx, rx) = mpsc::channel(1);
//! drop(rx);
//! // The failed send hands the value back.
//! assert_eq!(tx.try_send("mine"), Err(TrySendError::Closed("mine")));
//! ```

use std::fmt;

/// The receiver is gone or closed; the value comes back in field `0`.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = mpsc::channel(1);
///     drop(rx);
///     let err: mpsc::error::SendError<&str> = tx.send("kept").await.unwrap_err();
///     assert_eq!(err.0, "kept");
/// });
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// The error of `try_send`.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// use mpsc::error::TrySendError;
///
/// let (tx, rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is at capacity; the value comes back.
    Full(T),
    /// The receiver is gone or closed; the value comes back.
    Closed(T),
}

/// The error of `try_recv`.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// use mpsc::error::TryRecvError;
///
/// let (tx, mut rx) = mpsc::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No message is queued right now, but one may still arrive.
    Empty,
    /// No message is queued and none can arrive: every sender is gone, or
    /// the receiver closed the channel and no reserved slot remains.
    Disconnected,
}

impl<T> TrySendError<T> {
    /// The value that could not be sent.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send("a").unwrap();
    /// assert_eq!(tx.try_send("b").unwrap_err().into_inner(), "b");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        TrySendError::Closed(e.0)
    }
}

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

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("no available capacity"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Disconnected => f.write_str("receiving on a closed channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The error of [`Sender::send_timeout`](super::Sender::send_timeout); both
/// variants hand the value back.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     use std::time::Duration;
///     use mpsc::error::SendTimeoutError;
///
///     let (tx, rx) = mpsc::channel(1);
///     tx.send(1).await.unwrap();
///     let full = tx.send_timeout(2, Duration::from_millis(1)).await;
///     assert_eq!(full, Err(SendTimeoutError::Timeout(2)));
///     drop(rx);
///     let closed = tx.send_timeout(3, Duration::from_millis(1)).await;
///     assert_eq!(closed, Err(SendTimeoutError::Closed(3)));
/// });
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// No slot came free before the timeout.
    Timeout(T),
    /// The receiver is gone or closed.
    Closed(T),
}

impl<T> SendTimeoutError<T> {
    /// The value that could not be sent.
    ///
    /// ```
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, _rx) = mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     let err = tx.send_timeout(2, std::time::Duration::from_millis(1)).await.unwrap_err();
    ///     assert_eq!(err.into_inner(), 2);
    /// });
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out waiting on send operation"),
            SendTimeoutError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}
