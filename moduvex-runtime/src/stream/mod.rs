//! Streams: the runtime's sources of many values as `futures_core::Stream`s.
//!
//! The one idea: a stream here is the primitive's own poll method, called
//! again for each item, so an item costs what one `recv`/`tick`/`accept`
//! costs (no allocation, no boxed future), and it spends the task's
//! cooperative budget exactly as that call does: an always-ready stream
//! still lets the other tasks of its thread run.
//!
//! [`Interval`](crate::time::Interval), [`Signal`](crate::signal::unix::Signal),
//! [`JoinSet`](crate::task::JoinSet), the `mpsc` receivers and the listeners'
//! `incoming()` streams implement [`Stream`] themselves; this module holds
//! tokio-stream's wrapper types under their names, for the channels that
//! need one ([`BroadcastStream`], [`WatchStream`]) and for code written
//! against tokio-stream's `wrappers` (`SignalStream` and
//! `UnixListenerStream` on Unix only, as the types they wrap). There is no `StreamExt` here: bring
//! futures-lite's or futures' (`next`, `map`, `take`, ...).
//!
//! ```
//! use futures_lite::StreamExt;
//! use moduvex_runtime::stream::ReceiverStream;
//! use moduvex_runtime::sync::mpsc;
//!
//! moduvex_runtime::block_on(async {
//!     let (tx, rx) = mpsc::channel(4);
//!     moduvex_runtime::spawn(async move {
//!         for i in 0..3 {
//!             tx.send(i).await.unwrap();
//!         }
//!     });
//!     let got: Vec<i32> = ReceiverStream::new(rx).map(|i| i * 10).collect().await;
//!     assert_eq!(got, [0, 10, 20]);
//! });
//! ```

mod channels;
mod wrappers;

pub use channels::{BroadcastStream, ReceiverStream, UnboundedReceiverStream, WatchStream};
pub use futures_core::Stream;
pub use wrappers::{IntervalStream, TcpListenerStream};
#[cfg(unix)]
pub use wrappers::{SignalStream, UnixListenerStream};

/// The errors of this module's streams (tokio-stream's
/// `wrappers::errors`).
///
/// ```
/// use moduvex_runtime::stream::errors::BroadcastStreamRecvError;
///
/// let lag = BroadcastStreamRecvError::Lagged(3);
/// assert_eq!(lag.to_string(), "channel lagged by 3");
/// ```
pub mod errors {
    use std::fmt;

    /// An item of a [`BroadcastStream`](super::BroadcastStream) that is not
    /// a value: the receiver fell behind and this many values were
    /// overwritten before it read them. The stream goes on with the oldest
    /// value still retained.
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::stream::{BroadcastStream, BroadcastStreamRecvError};
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = broadcast::channel(1);
    ///     let mut stream = BroadcastStream::new(rx);
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    ///     assert_eq!(stream.next().await, Some(Err(BroadcastStreamRecvError::Lagged(1))));
    ///     assert_eq!(stream.next().await, Some(Ok(2)));
    /// });
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum BroadcastStreamRecvError {
        /// The number of values missed.
        Lagged(u64),
    }

    impl fmt::Display for BroadcastStreamRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                BroadcastStreamRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for BroadcastStreamRecvError {}
}

pub use errors::BroadcastStreamRecvError;
