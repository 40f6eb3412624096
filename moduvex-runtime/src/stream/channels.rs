//! Streams over the sync channels, as tokio-stream's wrappers.
//!
//! [`BroadcastStream`] and [`WatchStream`] own their receiver and keep the
//! receive's waiter slot themselves (tokio-stream re-boxes a `recv()`
//! future per item instead), so each item is one poll of the channel's own
//! receive path: same wake-up handshake, same budget charge, no allocation.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::BroadcastStreamRecvError;
use crate::sync::broadcast::{self, RecvError};
use crate::sync::{mpsc, watch};

/// A [`broadcast::Receiver`] as a stream (tokio-stream's
/// `BroadcastStream`): each item is a value, or
/// [`BroadcastStreamRecvError::Lagged`] with the number of values the
/// receiver missed (the stream goes on from the oldest retained one); the
/// stream ends once every sender is gone and everything retained is read.
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::stream::{BroadcastStream, BroadcastStreamRecvError};
/// use moduvex_runtime::sync::broadcast;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = broadcast::channel(2);
///     let mut stream = BroadcastStream::new(rx);
///     for i in 0..3 {
///         tx.send(i).unwrap(); // the ring keeps the last 2: 0 is overwritten
///     }
///     drop(tx);
///     assert_eq!(stream.next().await, Some(Err(BroadcastStreamRecvError::Lagged(1))));
///     assert_eq!(stream.next().await, Some(Ok(1)));
///     assert_eq!(stream.next().await, Some(Ok(2)));
///     assert_eq!(stream.next().await, None);
/// });
/// ```
pub struct BroadcastStream<T> {
    rx: broadcast::Receiver<T>,
    /// The receive's waiter slot in the channel, while one is held.
    key: Option<usize>,
}

impl<T> BroadcastStream<T> {
    /// Streams the values `rx` receives from now on.
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::stream::BroadcastStream;
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = broadcast::channel(4);
    ///     tx.send("before").unwrap(); // already queued for `rx`: streamed too
    ///     let stream = BroadcastStream::new(rx);
    ///     tx.send("after").unwrap();
    ///     drop(tx);
    ///     let got: Vec<_> = stream.map(Result::unwrap).collect().await;
    ///     assert_eq!(got, ["before", "after"]);
    /// });
    /// ```
    pub fn new(rx: broadcast::Receiver<T>) -> Self {
        BroadcastStream { rx, key: None }
    }
}

impl<T: Clone> Stream for BroadcastStream<T> {
    type Item = Result<T, BroadcastStreamRecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.rx
            .poll_recv_keyed(&mut this.key, cx)
            .map(|res| match res {
                Ok(value) => Some(Ok(value)),
                Err(RecvError::Lagged(n)) => Some(Err(BroadcastStreamRecvError::Lagged(n))),
                Err(RecvError::Closed) => None,
            })
    }
}

impl<T> Drop for BroadcastStream<T> {
    fn drop(&mut self) {
        self.rx.drop_waiter(&mut self.key);
    }
}

impl<T> From<broadcast::Receiver<T>> for BroadcastStream<T> {
    fn from(rx: broadcast::Receiver<T>) -> Self {
        BroadcastStream::new(rx)
    }
}

impl<T> fmt::Debug for BroadcastStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastStream").finish_non_exhaustive()
    }
}

/// A [`watch::Receiver`] as a stream of its values (tokio-stream's
/// `WatchStream`): [`new`](Self::new) yields the current value first, then
/// the value after each change; [`from_changes`](Self::from_changes) only
/// the values after changes. Changes made between two polls coalesce: the
/// stream yields the latest value once. It ends once every sender is gone
/// and the latest value was yielded.
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::stream::WatchStream;
/// use moduvex_runtime::sync::watch;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = watch::channel("hello");
///     let mut stream = WatchStream::new(rx);
///     assert_eq!(stream.next().await, Some("hello"));
///     tx.send("goodbye").unwrap();
///     assert_eq!(stream.next().await, Some("goodbye"));
///     drop(tx);
///     assert_eq!(stream.next().await, None);
/// });
/// ```
pub struct WatchStream<T> {
    rx: watch::Receiver<T>,
    /// The wait's waiter slot in the channel, while one is held.
    key: Option<usize>,
    /// `new`'s first item, the current value, is still to be yielded.
    initial: bool,
}

impl<T> WatchStream<T> {
    /// Streams the current value at once, then the value after each change.
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::stream::WatchStream;
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = watch::channel(1);
    ///     let mut stream = WatchStream::new(rx);
    ///     assert_eq!(stream.next().await, Some(1), "the current value first");
    ///     tx.send(2).unwrap();
    ///     assert_eq!(stream.next().await, Some(2));
    ///     drop(tx);
    ///     assert_eq!(stream.next().await, None);
    /// });
    /// ```
    pub fn new(rx: watch::Receiver<T>) -> Self {
        WatchStream {
            rx,
            key: None,
            initial: true,
        }
    }

    /// Streams the value after each change from now on, starting with a
    /// change `rx` has not seen yet, if there is one (tokio-stream's
    /// `from_changes`).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::stream::WatchStream;
    /// use moduvex_runtime::sync::watch;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = watch::channel(0);
    ///     let mut changes = WatchStream::from_changes(rx);
    ///     tx.send(1).unwrap();
    ///     assert_eq!(changes.next().await, Some(1));
    /// });
    /// ```
    pub fn from_changes(rx: watch::Receiver<T>) -> Self {
        WatchStream {
            rx,
            key: None,
            initial: false,
        }
    }
}

impl<T: Clone> Stream for WatchStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.initial {
            // The current value is ready at once; it is an item like the
            // others, so it spends a unit of budget too.
            let coop = std::task::ready!(crate::coop::poll_proceed(cx));
            coop.made_progress();
            this.initial = false;
            return Poll::Ready(Some(this.rx.borrow_and_update().clone()));
        }
        match std::task::ready!(this.rx.poll_changed_keyed(&mut this.key, cx)) {
            Ok(()) => Poll::Ready(Some(this.rx.borrow_and_update().clone())),
            Err(_) => Poll::Ready(None),
        }
    }
}

impl<T> Drop for WatchStream<T> {
    fn drop(&mut self) {
        self.rx.drop_waiter(&mut self.key);
    }
}

impl<T> From<watch::Receiver<T>> for WatchStream<T> {
    fn from(rx: watch::Receiver<T>) -> Self {
        WatchStream::new(rx)
    }
}

impl<T> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream").finish_non_exhaustive()
    }
}

/// A channel receiver's stream wrapper; `$example`, a doc example that
/// uses its methods, is shown on each of them.
macro_rules! receiver_stream {
    ($(#[$doc:meta])* $name:ident, $rx:ty, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T> {
            inner: $rx,
        }

        impl<T> $name<T> {
            /// Wraps `recv`.
            ///
            #[doc = $example]
            pub fn new(recv: $rx) -> Self {
                $name { inner: recv }
            }

            /// The receiver back.
            ///
            #[doc = $example]
            pub fn into_inner(self) -> $rx {
                self.inner
            }

            /// Closes the channel without dropping the receiver: senders
            /// fail from now on, and the stream yields what is still
            /// queued, then ends.
            ///
            #[doc = $example]
            pub fn close(&mut self) {
                self.inner.close();
            }
        }

        impl<T> Stream for $name<T> {
            type Item = T;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.get_mut().inner.poll_recv(cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.size_bounds()
            }
        }

        impl<T> AsRef<$rx> for $name<T> {
            fn as_ref(&self) -> &$rx {
                &self.inner
            }
        }

        impl<T> AsMut<$rx> for $name<T> {
            fn as_mut(&mut self) -> &mut $rx {
                &mut self.inner
            }
        }

        impl<T> From<$rx> for $name<T> {
            fn from(recv: $rx) -> Self {
                $name::new(recv)
            }
        }
    };
}

receiver_stream!(
    /// An [`mpsc::Receiver`] as a stream (tokio-stream's `ReceiverStream`):
    /// each message is an item; the stream ends once the channel is closed
    /// and drained. (`mpsc::Receiver` is a `Stream` itself.)
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::stream::ReceiverStream;
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = mpsc::channel(8);
    ///     tx.send(1).await.unwrap();
    ///     tx.send(2).await.unwrap();
    ///     drop(tx);
    ///     let all: Vec<i32> = ReceiverStream::new(rx).collect().await;
    ///     assert_eq!(all, [1, 2]);
    /// });
    /// ```
    ReceiverStream,
    mpsc::Receiver<T>,
    "```
use futures_lite::StreamExt;
use moduvex_runtime::stream::ReceiverStream;
use moduvex_runtime::sync::mpsc;

moduvex_runtime::block_on(async {
    let (tx, rx) = mpsc::channel(4);
    let mut stream = ReceiverStream::new(rx);
    tx.try_send(1).unwrap();
    stream.close(); // no more sends; what is queued still comes
    assert!(tx.is_closed());
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(stream.next().await, None);
    let rx = stream.into_inner();
    assert!(rx.is_closed());
});
```"
);

receiver_stream!(
    /// An [`mpsc::UnboundedReceiver`] as a stream (tokio-stream's
    /// `UnboundedReceiverStream`), as [`ReceiverStream`].
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::stream::UnboundedReceiverStream;
    /// use moduvex_runtime::sync::mpsc;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = mpsc::unbounded_channel();
    ///     let mut stream = UnboundedReceiverStream::new(rx);
    ///     tx.send("a").unwrap();
    ///     stream.close(); // no more sends; what is queued still comes out
    ///     assert!(tx.send("b").is_err());
    ///     assert_eq!(stream.next().await, Some("a"));
    ///     assert_eq!(stream.next().await, None);
    /// });
    /// ```
    UnboundedReceiverStream,
    mpsc::UnboundedReceiver<T>,
    "```
use futures_lite::StreamExt;
use moduvex_runtime::stream::UnboundedReceiverStream;
use moduvex_runtime::sync::mpsc;

moduvex_runtime::block_on(async {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut stream = UnboundedReceiverStream::new(rx);
    tx.send(1).unwrap();
    stream.close(); // no more sends; what is queued still comes
    assert!(tx.is_closed());
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(stream.next().await, None);
    let rx = stream.into_inner();
    assert!(rx.is_closed());
});
```"
);

impl<T> ReceiverStream<T> {
    /// tokio-stream's bounds: the queued messages, and once the channel is
    /// closed, at most the slots still in use (queued or reserved).
    fn size_bounds(&self) -> (usize, Option<usize>) {
        let len = self.inner.len();
        if self.inner.is_closed() {
            (len, Some(self.inner.max_capacity() - self.inner.capacity()))
        } else {
            (len, None)
        }
    }
}

impl<T> UnboundedReceiverStream<T> {
    /// The queued messages; exact once the channel is closed.
    fn size_bounds(&self) -> (usize, Option<usize>) {
        let len = self.inner.len();
        (len, self.inner.is_closed().then_some(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<S: Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
        Pin::new(s).poll_next(&mut Context::from_waker(waker))
    }

    #[test]
    fn broadcast_stream_waits_wakes_and_gives_its_slot_back() {
        let (tx, rx) = broadcast::channel(2);
        let mut stream = BroadcastStream::new(rx);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        assert!(poll(&mut stream, &waker).is_pending());
        // Polled again while waiting: the same slot, no second waker.
        assert!(poll(&mut stream, &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&mut stream, &waker), Poll::Ready(Some(Ok(1))));
        // Waiting again, then dropped: the stored waker goes with it.
        assert!(poll(&mut stream, &waker).is_pending());
        drop(waker);
        assert_eq!(Arc::strong_count(&count), 2);
        drop(stream);
        assert_eq!(
            Arc::strong_count(&count),
            1,
            "the waiter's waker was dropped"
        );
    }

    #[test]
    fn watch_stream_waits_wakes_and_gives_its_slot_back() {
        let (tx, rx) = watch::channel(0);
        let mut stream = WatchStream::new(rx);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        assert_eq!(poll(&mut stream, &waker), Poll::Ready(Some(0)));
        assert!(poll(&mut stream, &waker).is_pending());
        tx.send(5).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&mut stream, &waker), Poll::Ready(Some(5)));
        assert!(poll(&mut stream, &waker).is_pending());
        drop(waker);
        drop(stream);
        assert_eq!(
            Arc::strong_count(&count),
            1,
            "the waiter's waker was dropped"
        );
        // The channel saw the stream's receiver go.
        assert!(tx.send(6).is_err());
    }
}
