//! A channel for sending exactly one value between two tasks.
//!
//! The one idea: both halves share a small mutex-guarded cell holding the
//! value, each side's waker and two "gone" flags; each side wakes the other
//! exactly when the other could make progress (a value or a closed sender
//! for the receiver, a closed receiver for [`Sender::closed`]).
//!
//! ```
//! use moduvex_runtime::sync::oneshot;
//! let (tx, mut rx) = oneshot::channel();
//! tx.send(7).unwrap();
//! assert_eq!(rx.try_recv(), Ok(7));
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::loom_facade::{Arc, Mutex};
use super::wake_list::register;

/// Errors of the `oneshot` channel.
///
/// ```
/// use moduvex_runtime::sync::oneshot::{self, error::TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel::<u8>();
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending a value.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = oneshot::channel::<u8>();
    ///     drop(tx);
    ///     let err: oneshot::error::RecvError = rx.await.unwrap_err();
    ///     assert!(!err.to_string().is_empty());
    /// });
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(crate) ());

    /// The error of [`Receiver::try_recv`](super::Receiver::try_recv).
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// use oneshot::error::TryRecvError;
    ///
    /// let (tx, mut rx) = oneshot::channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender may still send one.
        Empty,
        /// No value, and none will come: the sender is gone, or the value
        /// was already taken.
        Closed,
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

pub use error::{RecvError, TryRecvError};

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped: nothing more will come.
    tx_done: bool,
    /// The receiver closed or was dropped.
    rx_closed: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

type Shared<T> = Arc<Mutex<State<T>>>;

/// Sends the one value; consumed by [`send`](Sender::send).
///
/// ```
/// use moduvex_runtime::sync::oneshot;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     moduvex_runtime::spawn(async move { tx.send("result").unwrap() });
///     assert_eq!(rx.await, Ok("result"));
/// });
/// ```
pub struct Sender<T> {
    shared: Shared<T>,
}

/// Receives the one value: a future of `Result<T, RecvError>`.
///
/// Once it has returned `Ready` (or [`try_recv`](Receiver::try_recv) has
/// returned the value or [`TryRecvError::Closed`]) it is terminated:
/// polling it again panics, as tokio's does; check
/// [`is_terminated`](Receiver::is_terminated) first.
///
/// ```
/// use moduvex_runtime::sync::oneshot;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     std::thread::spawn(move || tx.send(6 * 7).unwrap());
///     assert_eq!(rx.await.unwrap(), 42);
/// });
/// ```
pub struct Receiver<T> {
    shared: Shared<T>,
    /// It returned its one result (tokio's receiver drops its `inner`).
    terminated: bool,
}

/// A connected sender/receiver pair.
///
/// ```
/// use moduvex_runtime::sync::oneshot;
///
/// moduvex_runtime::block_on(async {
///     let (tx, rx) = oneshot::channel::<String>();
///     tx.send("one".into()).unwrap();
///     assert_eq!(rx.await.unwrap(), "one");
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: None,
        tx_done: false,
        rx_closed: false,
        rx_waker: None,
        tx_waker: None,
    }));
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver {
            shared,
            terminated: false,
        },
    )
}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(5), "the value comes back");
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut st = self.shared.lock();
            if st.rx_closed {
                drop(st);
                return Err(value);
            }
            st.value = Some(value);
            st.tx_done = true;
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        // `Drop` sees `tx_done` and does nothing more.
        Ok(())
    }

    /// Whether the receiver closed or was dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().rx_closed
    }

    /// Polls for the receiver closing or being dropped; `Ready` spends one
    /// unit of the task's budget, as tokio's.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<()>();
    ///     moduvex_runtime::spawn(async move { drop(rx) });
    ///     std::future::poll_fn(|cx| tx.poll_closed(cx)).await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        crate::coop::budgeted(cx, |cx| self.poll_closed_inner(cx))
    }

    fn poll_closed_inner(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.shared.lock();
        if st.rx_closed {
            return Poll::Ready(());
        }
        let displaced = register(&mut st.tx_waker, cx.waker());
        // Unlock first: the displaced waker's `Drop` may use this channel.
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Completes when the receiver closes or is dropped.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     moduvex_runtime::spawn(async move { drop(rx) });
    ///     // Stop the work once nobody wants its result.
    ///     tx.closed().await;
    ///     assert!(tx.send(1).is_err());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await;
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.shared.lock();
            if st.tx_done {
                return;
            }
            st.tx_done = true;
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if the sender may still send,
    /// [`TryRecvError::Closed`] if it never will.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// use oneshot::error::TryRecvError;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send('x').unwrap();
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.terminated {
            return Err(TryRecvError::Closed);
        }
        let mut st = self.shared.lock();
        let out = match st.value.take() {
            Some(v) => Ok(v),
            None if st.tx_done || st.rx_closed => Err(TryRecvError::Closed),
            None => return Err(TryRecvError::Empty),
        };
        drop(st);
        self.terminated = true;
        out
    }

    /// Whether this receiver has already returned its result (by `.await`,
    /// a poll, or [`try_recv`](Self::try_recv) giving the value or
    /// [`TryRecvError::Closed`]); a terminated receiver must not be polled
    /// again.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel();
    ///     tx.send(1).unwrap();
    ///     assert!(!rx.is_terminated());
    ///     assert_eq!((&mut rx).await, Ok(1));
    ///     assert!(rx.is_terminated());
    /// });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// Whether no value is waiting to be received: nothing was sent yet,
    /// the sender is gone without sending, or the receiver is terminated.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.terminated || self.shared.lock().value.is_none()
    }

    /// Waits for the value from synchronous code, parking the thread.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use `.await` on the receiver there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// let waiter = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send(9).unwrap();
    /// assert_eq!(waiter.join().unwrap(), Ok(9));
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::block::block_on(self)
    }

    /// Refuses the value: a later [`Sender::send`] fails and gives it back.
    /// A value sent before this call can still be taken with
    /// [`try_recv`](Self::try_recv).
    ///
    /// ```
    /// use moduvex_runtime::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        let waker = {
            let mut st = self.shared.lock();
            if st.rx_closed {
                return;
            }
            st.rx_closed = true;
            st.tx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Panics
    ///
    /// If polled again after it returned `Ready` ("called after complete",
    /// as tokio's).
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.terminated {
            panic!(
                "oneshot::Receiver polled after completion (called after complete): \
                 check Receiver::is_terminated before polling it again"
            );
        }
        let out = crate::coop::budgeted(cx, |cx| this.poll_inner(cx));
        if out.is_ready() {
            this.terminated = true;
        }
        out
    }
}

impl<T> Receiver<T> {
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let mut st = self.shared.lock();
        if let Some(v) = st.value.take() {
            return Poll::Ready(Ok(v));
        }
        if st.tx_done || st.rx_closed {
            return Poll::Ready(Err(RecvError(())));
        }
        let displaced = register(&mut st.rx_waker, cx.waker());
        // Unlock first: the displaced waker's `Drop` may use this channel.
        drop(st);
        drop(displaced);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (value, rx_waker, tx_waker) = {
            let mut st = self.shared.lock();
            st.rx_closed = true;
            // Our own waker goes too, so a later sender drop wakes no one.
            (st.value.take(), st.rx_waker.take(), st.tx_waker.take())
        };
        // Dropped unlocked: the value's or the waker's `Drop` may use this
        // channel.
        drop(value);
        drop(rx_waker);
        if let Some(w) = tx_waker {
            w.wake();
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
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
