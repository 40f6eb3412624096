//! Multi-producer, single-consumer channels, bounded and unbounded.
//!
//! The one idea: in a bounded channel *a free slot is a semaphore permit*
//! (see `chan.rs`). Senders waiting on a full channel queue in FIFO order,
//! and cancelling a waiting [`Sender::reserve`] or [`Receiver::recv`] never
//! loses a slot, a wake-up or a message.
//!
//! ```
//! use moduvex_runtime::sync::mpsc;
//! let (tx, mut rx) = mpsc::channel(4);
//! tx.try_send(1).unwrap();
//! drop(tx);
//! assert_eq!(rx.try_recv(), Ok(1));
//! assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
//! ```

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{OwnedPermit, Permit, PermitIterator, Receiver, Sender, WeakSender};
pub use error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use unbounded::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

/// A bounded channel holding at most `buffer` queued (or reserved) messages.
///
/// # Panics
///
/// If `buffer` is 0 (a channel with no slot could never carry a message), or
/// exceeds `Semaphore::MAX_PERMITS`.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel(8);
///     for i in 0..3 {
///         let tx = tx.clone();
///         moduvex_runtime::spawn(async move { tx.send(i).await.unwrap() });
///     }
///     drop(tx);
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     got.sort();
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    assert!(
        buffer <= crate::sync::Semaphore::MAX_PERMITS,
        "mpsc bounded channel buffer must not exceed Semaphore::MAX_PERMITS"
    );
    bounded::new_pair(buffer)
}

/// An unbounded channel: sends never wait.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     for i in 0..1000 {
///         tx.send(i).unwrap(); // never waits
///     }
///     assert_eq!(rx.len(), 1000);
///     assert_eq!(rx.recv().await, Some(0));
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    unbounded::new_pair()
}
