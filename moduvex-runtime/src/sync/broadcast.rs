//! A multi-producer, multi-consumer channel where every receiver sees every
//! value, held in a bounded ring.
//!
//! The one idea: values are numbered by a global position and stored in
//! slot `position % capacity`; each receiver keeps the position it reads
//! next. Senders never wait: when the ring is full the oldest value is
//! overwritten, and a receiver that fell behind gets
//! [`RecvError::Lagged`] with the number it missed, then continues from the
//! oldest value still retained. Each slot counts the receivers that have yet
//! to read it, so the last reader moves the value out instead of cloning it
//! and memory is released as soon as everyone has read.
//!
//! ```
//! use moduvex_runtime::sync::broadcast;
//!
//! moduvex_runtime::block_on(async {
//!     let (tx, mut a) = broadcast::channel(8);
//!     let mut b = tx.subscribe();
//!     tx.send("everyone").unwrap();
//!     assert_eq!(a.recv().await.unwrap(), "everyone");
//!     assert_eq!(b.recv().await.unwrap(), "everyone");
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::loom_facade::{Arc, Mutex};
use super::wait_queue::WaitQueue;
use super::wake_list::{register, WakeList};

/// Errors of the `broadcast` channel.
///
/// ```
/// use moduvex_runtime::sync::broadcast::{self, error::TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
pub mod error {
    use std::fmt;

    /// No receiver exists; the value comes back in field `0`.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// drop(rx);
    /// assert_eq!(tx.send("lost").unwrap_err().0, "lost");
    /// ```
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// The error of [`Receiver::recv`](super::Receiver::recv).
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// moduvex_runtime::block_on(async {
    ///     use broadcast::error::RecvError;
    ///
    ///     let (tx, mut rx) = broadcast::channel(2);
    ///     for i in 0..3 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
    ///     assert_eq!(rx.recv().await, Ok(1));
    ///     assert_eq!(rx.recv().await, Ok(2));
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// });
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RecvError {
        /// Every sender is gone and every retained value has been read.
        Closed,
        /// The receiver fell behind and this many values were overwritten
        /// before it read them; the next receive continues with the oldest
        /// retained value.
        Lagged(u64),
    }

    /// The error of [`Receiver::try_recv`](super::Receiver::try_recv).
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// use broadcast::error::TryRecvError;
    ///
    /// let (tx, mut rx) = broadcast::channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No unread value right now.
        Empty,
        /// Every sender is gone and every retained value has been read.
        Closed,
        /// As [`RecvError::Lagged`].
        Lagged(u64),
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

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

pub use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    pos: u64,
    /// Receivers that have yet to read this value.
    unread: usize,
    value: Option<T>,
}

struct State<T> {
    ring: Box<[Slot<T>]>,
    /// Position of the next value to be sent.
    tail: u64,
    rx_count: usize,
    tx_count: usize,
    waiters: WaitQueue<Option<Waker>>,
    /// Tasks in `Sender::closed`, woken when `rx_count` drops to 0.
    closed_waiters: WaitQueue<Option<Waker>>,
}

impl<T> State<T> {
    fn cap(&self) -> u64 {
        self.ring.len() as u64
    }

    /// Position of the oldest value still retained.
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.cap())
    }

    fn slot(&mut self, pos: u64) -> &mut Slot<T> {
        let i = (pos % self.cap()) as usize;
        &mut self.ring[i]
    }
}

type Shared<T> = Arc<Mutex<State<T>>>;

/// Sends values to every [`Receiver`]. Cheap to clone; the channel closes
/// when the last sender is dropped.
///
/// ```
/// use moduvex_runtime::sync::broadcast;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx1) = broadcast::channel(16);
///     let mut rx2 = tx.subscribe();
///     let tx2 = tx.clone();
///     tx.send(1).unwrap();
///     tx2.send(2).unwrap();
///     for rx in [&mut rx1, &mut rx2] {
///         assert_eq!(rx.recv().await.unwrap(), 1);
///         assert_eq!(rx.recv().await.unwrap(), 2);
///     }
/// });
/// ```
pub struct Sender<T> {
    shared: Shared<T>,
}

/// Receives every value sent after it subscribed.
///
/// ```
/// use moduvex_runtime::sync::broadcast;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = broadcast::channel(4);
///     let task = moduvex_runtime::spawn(async move {
///         let mut got = Vec::new();
///         while let Ok(v) = rx.recv().await {
///             got.push(v);
///         }
///         got
///     });
///     tx.send('a').unwrap();
///     tx.send('b').unwrap();
///     drop(tx);
///     assert_eq!(task.await.unwrap(), ['a', 'b']);
/// });
/// ```
pub struct Receiver<T> {
    shared: Shared<T>,
    next: u64,
}

/// A channel retaining the last `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0 (no value could ever be retained) or exceeds
/// `usize::MAX >> 1`.
///
/// ```
/// use moduvex_runtime::sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(8);
/// assert_eq!(tx.send("hi").unwrap(), 1, "one receiver");
/// assert_eq!(rx.try_recv(), Ok("hi"));
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

impl<T> Sender<T> {
    /// A sender of a new channel retaining up to `capacity` values, with no
    /// receiver yet: [`send`](Self::send) fails until one
    /// [subscribes](Self::subscribe) (tokio's `Sender::new`).
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    /// let tx = broadcast::Sender::new(4);
    /// assert!(tx.send(1).is_err());
    /// let mut rx = tx.subscribe();
    /// assert_eq!(tx.send(2).unwrap(), 1);
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 (no value could ever be retained) or exceeds
    /// `usize::MAX >> 1`.
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "broadcast channel requires capacity > 0");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeds usize::MAX >> 1"
        );
        let ring = (0..capacity)
            .map(|_| Slot {
                pos: u64::MAX,
                unread: 0,
                value: None,
            })
            .collect();
        Sender {
            shared: Arc::new(Mutex::new(State {
                ring,
                tail: 0,
                rx_count: 0,
                tx_count: 1,
                waiters: WaitQueue::new(),
                closed_waiters: WaitQueue::new(),
            })),
        }
    }

    /// Completes once no receiver is subscribed (at once if none is).
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = broadcast::channel::<u8>(2);
    ///     let rx2 = tx.subscribe();
    ///     moduvex_runtime::spawn(async move { drop((rx, rx2)) });
    ///     tx.closed().await;
    ///     assert_eq!(tx.receiver_count(), 0);
    /// });
    /// ```
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            key: None,
        }
        .await
    }

    /// Sends `value` to every current receiver; returns how many there are.
    /// Never waits: the oldest value is overwritten when the ring is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver exists.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(2);
    /// let _rx2 = rx.resubscribe();
    /// assert_eq!(tx.send(1).unwrap(), 2);
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeList::new();
        let (old, receivers) = {
            let mut st = self.shared.lock();
            if st.rx_count == 0 {
                drop(st);
                return Err(SendError(value));
            }
            let (tail, receivers) = (st.tail, st.rx_count);
            let slot = st.slot(tail);
            slot.pos = tail;
            slot.unread = receivers;
            let old = slot.value.replace(value);
            st.tail += 1;
            st.waiters.drain_linked(|w| wakers.push_opt(w.take()));
            (old, receivers)
        };
        drop(old);
        wakers.wake_all();
        Ok(receivers)
    }

    /// A new receiver that sees values sent from now on.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2), "1 was sent before it subscribed");
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut st = self.shared.lock();
        st.rx_count += 1;
        let next = st.tail;
        drop(st);
        Receiver {
            shared: Arc::clone(&self.shared),
            next,
        }
    }

    /// Number of receivers.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<()>(1);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().rx_count
    }

    /// Retained values not yet read by the slowest receiver.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, mut fast) = broadcast::channel(4);
    /// let _slow = tx.subscribe();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// fast.try_recv().unwrap();
    /// fast.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2, "the slow receiver has read nothing");
    /// ```
    pub fn len(&self) -> usize {
        let mut st = self.shared.lock();
        let (oldest, tail) = (st.oldest(), st.tail);
        (oldest..tail).filter(|&p| st.slot(p).unread > 0).count()
    }

    /// Whether every retained value has been read by every receiver.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert!(tx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel::<u8>(1);
    /// let (other, _rx2) = broadcast::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().tx_count += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        {
            let mut st = self.shared.lock();
            st.tx_count -= 1;
            if st.tx_count == 0 {
                st.waiters.drain_linked(|w| wakers.push_opt(w.take()));
            }
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Reads the value at `*next` under the lock; `None` means "empty, open".
fn recv_locked<T: Clone>(st: &mut State<T>, next: &mut u64) -> Option<Result<T, RecvError>> {
    let oldest = st.oldest();
    if *next < oldest {
        let missed = oldest - *next;
        *next = oldest;
        return Some(Err(RecvError::Lagged(missed)));
    }
    if *next == st.tail {
        return (st.tx_count == 0).then_some(Err(RecvError::Closed));
    }
    let slot = st.slot(*next);
    debug_assert_eq!(slot.pos, *next);
    *next += 1;
    slot.unread -= 1;
    let value = if slot.unread == 0 {
        slot.value.take()
    } else {
        slot.value.clone()
    };
    match value {
        Some(v) => Some(Ok(v)),
        None => unreachable!("broadcast slot emptied before every receiver read it"),
    }
}

impl<T: Clone> Receiver<T> {
    /// Takes the next value without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], [`TryRecvError::Closed`] or
    /// [`TryRecvError::Lagged`].
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// use broadcast::error::TryRecvError;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(7).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = self.shared.lock();
        match recv_locked(&mut st, &mut self.next) {
            Some(Ok(v)) => Ok(v),
            Some(Err(RecvError::Closed)) => Err(TryRecvError::Closed),
            Some(Err(RecvError::Lagged(n))) => Err(TryRecvError::Lagged(n)),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for the next value.
    ///
    /// Cancel safety: cancel-safe; a value is consumed only when returned.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if values were overwritten before this receiver
    /// read them (the next call continues with the oldest retained value),
    /// [`RecvError::Closed`] once every sender is gone and all is read.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(4);
    ///     moduvex_runtime::spawn(async move { tx.send(String::from("news")).unwrap() });
    ///     assert_eq!(rx.recv().await.unwrap(), "news");
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            rx: self,
            key: None,
        }
        .await
    }

    /// Receives from synchronous code, parking the thread.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a moduvex runtime (inside
    /// `block_on`, a task or a worker thread), where blocking would stall
    /// every task of that thread: use [`recv`](Self::recv)`.await` there, or call this from
    /// `spawn_blocking` or a thread outside the runtime.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// let consumer = std::thread::spawn(move || rx.blocking_recv());
    /// moduvex_runtime::block_on(async move { tx.send(3).unwrap() });
    /// assert_eq!(consumer.join().unwrap(), Ok(3));
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        super::block::block_on(self.recv())
    }
}

impl<T> Receiver<T> {
    /// A new receiver that sees values sent from now on.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(fresh.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Self {
        let mut st = self.shared.lock();
        st.rx_count += 1;
        let next = st.tail;
        drop(st);
        Receiver {
            shared: Arc::clone(&self.shared),
            next,
        }
    }

    /// Values this receiver has yet to read (retained or lagged).
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        (self.shared.lock().tail - self.next) as usize
    }

    /// Whether this receiver has read everything sent so far.
    ///
    /// ```
    /// use moduvex_runtime::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut released = Vec::new();
        let mut wakers = WakeList::new();
        {
            let mut st = self.shared.lock();
            st.rx_count -= 1;
            if st.rx_count == 0 {
                st.closed_waiters
                    .drain_linked(|w| wakers.push_opt(w.take()));
            }
            for pos in self.next.max(st.oldest())..st.tail {
                let slot = st.slot(pos);
                slot.unread -= 1;
                if slot.unread == 0 {
                    released.extend(slot.value.take());
                }
            }
        }
        drop(released);
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    key: Option<usize>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.rx.poll_recv_keyed(&mut this.key, cx)
    }
}

impl<T: Clone> Receiver<T> {
    /// One poll of a receive whose waiter slot is kept in `*key` by the
    /// caller (the `recv` future, or a stream that outlives many
    /// receives), under the task's budget: a value or the end spends one
    /// unit. The caller gives the slot back with
    /// [`drop_waiter`](Self::drop_waiter) when it stops waiting.
    pub(crate) fn poll_recv_keyed(
        &mut self,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        crate::coop::budgeted(cx, |cx| self.poll_recv_unbudgeted(key, cx))
    }

    fn poll_recv_unbudgeted(
        &mut self,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        // Declared before the guard, so dropped after it is released: a
        // waker's `Drop` may use this channel.
        let mut _displaced = None;
        let mut st = self.shared.lock();
        if let Some(out) = recv_locked(&mut st, &mut self.next) {
            if let Some(key) = key.take() {
                _displaced = st.waiters.remove(key);
            }
            return Poll::Ready(out);
        }
        match *key {
            Some(k) if st.waiters.is_linked(k) => {
                _displaced = register(st.waiters.get_mut(k), cx.waker());
            }
            Some(k) => {
                _displaced = st.waiters.remove(k);
                *key = Some(st.waiters.push_back(Some(cx.waker().clone())));
            }
            None => *key = Some(st.waiters.push_back(Some(cx.waker().clone()))),
        }
        Poll::Pending
    }
}

impl<T> Receiver<T> {
    /// Gives back the waiter slot a receive kept in `*key`, if any; the
    /// waker in it is dropped after the lock is released.
    pub(crate) fn drop_waiter(&self, key: &mut Option<usize>) {
        if let Some(key) = key.take() {
            // The guard is a temporary of this statement: unlocked first.
            let waker = self.shared.lock().waiters.remove(key);
            drop(waker);
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.rx.drop_waiter(&mut self.key);
    }
}

/// Future of [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Declared before the guard, so dropped after it is released: a
        // waker's `Drop` may use this channel.
        let mut _displaced = None;
        let mut st = this.shared.lock();
        if st.rx_count == 0 {
            if let Some(key) = this.key.take() {
                _displaced = st.closed_waiters.remove(key);
            }
            return Poll::Ready(());
        }
        match this.key {
            Some(key) if st.closed_waiters.is_linked(key) => {
                _displaced = register(st.closed_waiters.get_mut(key), cx.waker());
            }
            // Woken, but a receiver subscribed again meanwhile: wait again.
            Some(key) => {
                _displaced = st.closed_waiters.remove(key);
                this.key = Some(st.closed_waiters.push_back(Some(cx.waker().clone())));
            }
            None => this.key = Some(st.closed_waiters.push_back(Some(cx.waker().clone()))),
        }
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The guard is a temporary of this statement: unlocked first.
            let waker = self.shared.lock().closed_waiters.remove(key);
            drop(waker);
        }
    }
}
