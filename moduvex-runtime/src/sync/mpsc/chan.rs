//! The state shared by the senders and the receiver of one `mpsc` channel.
//!
//! One mutex guards the whole state: the message queue, the receiver's
//! waker, the close flags and, for a bounded channel, a [`SemState`] whose
//! permits are the free slots. The one idea: *a slot is a semaphore permit*.
//! A sender takes a permit before pushing; the receiver gives the permit back
//! when it pops. The semaphore's FIFO hand-over makes blocked senders fair
//! and makes dropping a waiting `send`/`reserve` lossless (a slot it had been
//! handed passes to the next sender). Closing the receiver closes the
//! semaphore, which fails every waiting sender at once.
//!
//! Nothing is woken and no message or waker is dropped while the lock is
//! held: a message's or a waker's `Drop` may itself use this channel.

use std::collections::VecDeque;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::loom_facade::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::sync::sem_core::{SemState, Start};
use crate::sync::wait_queue::WaitQueue;
use crate::sync::wake_list::{register, WakeList};

struct State<T> {
    queue: VecDeque<T>,
    /// Free slots of a bounded channel; unused (always 0) when unbounded.
    slots: SemState,
    rx_waker: Option<Waker>,
    /// `Receiver::close` was called or the receiver was dropped.
    rx_closed: bool,
    /// The receiver was dropped: nobody will ever read the queue.
    rx_dropped: bool,
    /// Every sender was dropped.
    tx_closed: bool,
    /// Tasks in `Sender::closed`.
    closed_waiters: WaitQueue<Option<Waker>>,
}

/// The shared core of a channel; `cap` is `None` for an unbounded one.
pub(crate) struct Chan<T> {
    state: Mutex<State<T>>,
    tx_count: AtomicUsize,
    /// Weak sender handles (counted only to report `weak_count`).
    weak_count: AtomicUsize,
    cap: Option<usize>,
}

impl<T> State<T> {
    /// Slots handed to senders that have not yet pushed (or given back).
    fn outstanding(&self, cap: Option<usize>) -> usize {
        match cap {
            Some(cap) => cap - self.slots.available() - self.queue.len(),
            None => 0,
        }
    }

    /// Whether no message can ever arrive again once the queue is empty.
    fn finished(&self, cap: Option<usize>) -> bool {
        self.tx_closed || (self.rx_closed && self.outstanding(cap) == 0)
    }

    /// Returns `n` slots; a closed receiver may be waiting for the last
    /// outstanding slot to come back, so it is woken too.
    fn release_slots(&mut self, n: usize, wakers: &mut WakeList) {
        self.slots.release(n, wakers);
        if self.rx_closed {
            wakers.push_opt(self.rx_waker.take());
        }
    }
}

impl<T> Chan<T> {
    /// A channel with one sender; bounded to `cap` messages if `Some`.
    pub(crate) fn new(cap: Option<usize>) -> Self {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                slots: SemState::new(cap.unwrap_or(0)),
                rx_waker: None,
                rx_closed: false,
                rx_dropped: false,
                tx_closed: false,
                closed_waiters: WaitQueue::new(),
            }),
            tx_count: AtomicUsize::new(1),
            weak_count: AtomicUsize::new(0),
            cap,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    // ----- senders -------------------------------------------------------

    /// Registers one more sender handle.
    pub(crate) fn add_sender(&self) {
        self.tx_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Registers one more sender handle unless none is left (a weak
    /// sender cannot reopen a channel whose last sender is gone).
    pub(crate) fn try_add_sender(&self) -> bool {
        let mut n = self.tx_count.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return false;
            }
            match self.tx_count.compare_exchange_weak(
                n,
                n + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => n = actual,
            }
        }
    }

    /// Sender handles alive right now.
    pub(crate) fn strong_count(&self) -> usize {
        self.tx_count.load(Ordering::Relaxed)
    }

    /// Weak sender handles alive right now.
    pub(crate) fn weak_count(&self) -> usize {
        self.weak_count.load(Ordering::Relaxed)
    }

    /// Registers one more weak sender handle.
    pub(crate) fn add_weak(&self) {
        self.weak_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Unregisters a weak sender handle.
    pub(crate) fn drop_weak(&self) {
        self.weak_count.fetch_sub(1, Ordering::Relaxed);
    }

    /// Unregisters a sender; the last one closes the channel.
    pub(crate) fn drop_sender(&self) {
        if self.tx_count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut st = self.lock();
            st.tx_closed = true;
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Pushes into an unbounded channel.
    pub(crate) fn send_unbounded(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut st = self.lock();
            if st.rx_closed {
                drop(st);
                return Err(SendError(value));
            }
            st.queue.push_back(value);
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Takes a slot and pushes, if a slot is free and no sender is queued.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut st = self.lock();
            if st.rx_closed {
                drop(st);
                return Err(TrySendError::Closed(value));
            }
            if st.slots.try_acquire(1).is_err() {
                drop(st);
                return Err(TrySendError::Full(value));
            }
            st.queue.push_back(value);
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Takes `n` free slots now, without pushing.
    pub(crate) fn try_reserve(&self, n: usize) -> Result<(), TrySendError<()>> {
        let mut st = self.lock();
        if st.rx_closed {
            return Err(TrySendError::Closed(()));
        }
        st.slots.try_acquire(n).map_err(|_| TrySendError::Full(()))
    }

    /// Waits for `n` slots at once (FIFO with the other senders: a sender
    /// waiting for many is not overtaken by later ones waiting for one).
    /// `n` must not exceed the capacity.
    pub(crate) fn reserve(&self, n: usize) -> Reserve<'_, T> {
        debug_assert!(n <= self.max_capacity());
        Reserve {
            chan: self,
            n,
            key: None,
        }
    }

    /// Pushes into a slot taken earlier. If the receiver is gone the value
    /// is dropped (after unlocking) and the slot returned.
    pub(crate) fn push_reserved(&self, value: T) {
        let mut wakers = WakeList::new();
        let mut st = self.lock();
        if st.rx_dropped {
            st.release_slots(1, &mut wakers);
            drop(st);
            drop(value);
        } else {
            st.queue.push_back(value);
            wakers.push_opt(st.rx_waker.take());
            drop(st);
        }
        wakers.wake_all();
    }

    /// Gives back `n` slots taken earlier and never used.
    pub(crate) fn release_reserved(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeList::new();
        self.lock().release_slots(n, &mut wakers);
        wakers.wake_all();
    }

    /// Whether the receiver closed the channel or is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().rx_closed
    }

    /// The receiver's view: closed by [`close_rx`](Self::close_rx), or
    /// every sender is gone (tokio's `Receiver::is_closed`).
    pub(crate) fn is_closed_rx(&self) -> bool {
        let st = self.lock();
        st.rx_closed || st.tx_closed
    }

    /// Free slots right now.
    pub(crate) fn capacity(&self) -> usize {
        self.lock().slots.available()
    }

    /// The bound given at creation (0 when unbounded).
    pub(crate) fn max_capacity(&self) -> usize {
        self.cap.unwrap_or(0)
    }

    /// Waits until the receiver closes the channel or is dropped.
    pub(crate) fn closed(&self) -> Closed<'_, T> {
        Closed {
            chan: self,
            key: None,
        }
    }

    // ----- receiver ------------------------------------------------------

    /// Pops a message, or registers the receiver's waker. A `Ready` (a
    /// message or the end) spends one unit of the task's budget.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        crate::coop::budgeted(cx, |cx| self.poll_recv_inner(cx))
    }

    fn poll_recv_inner(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut wakers = WakeList::new();
        let mut st = self.lock();
        if let Some(v) = st.queue.pop_front() {
            if self.cap.is_some() {
                st.release_slots(1, &mut wakers);
            }
            drop(st);
            wakers.wake_all();
            return Poll::Ready(Some(v));
        }
        if st.finished(self.cap) {
            return Poll::Ready(None);
        }
        let displaced = register(&mut st.rx_waker, cx.waker());
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Moves up to `limit` messages into `buf`; `Ready(0)` means the channel
    /// is finished (or `limit` is 0). One batch spends one unit of budget.
    pub(crate) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        crate::coop::budgeted(cx, |cx| self.poll_recv_many_inner(cx, buf, limit))
    }

    fn poll_recv_many_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        let mut wakers = WakeList::new();
        let mut st = self.lock();
        let n = limit.min(st.queue.len());
        if n > 0 {
            buf.extend(st.queue.drain(..n));
            if self.cap.is_some() {
                st.release_slots(n, &mut wakers);
            }
            drop(st);
            wakers.wake_all();
            return Poll::Ready(n);
        }
        if st.finished(self.cap) {
            return Poll::Ready(0);
        }
        let displaced = register(&mut st.rx_waker, cx.waker());
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Pops a message without waiting.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wakers = WakeList::new();
        let mut st = self.lock();
        match st.queue.pop_front() {
            Some(v) => {
                if self.cap.is_some() {
                    st.release_slots(1, &mut wakers);
                }
                drop(st);
                wakers.wake_all();
                Ok(v)
            }
            None if st.finished(self.cap) => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Messages queued right now.
    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Stops further sends; queued messages and reserved slots still arrive.
    pub(crate) fn close_rx(&self) {
        let mut wakers = WakeList::new();
        Self::close_locked(&mut self.lock(), &mut wakers);
        wakers.wake_all();
    }

    fn close_locked(st: &mut State<T>, wakers: &mut WakeList) {
        if st.rx_closed {
            return;
        }
        st.rx_closed = true;
        st.slots.close(wakers);
        st.closed_waiters
            .drain_linked(|w| wakers.push_opt(w.take()));
    }

    /// The receiver is gone: close, and drop the queued messages unlocked.
    pub(crate) fn drop_rx(&self) {
        let mut wakers = WakeList::new();
        let (queue, rx_waker) = {
            let mut st = self.lock();
            Self::close_locked(&mut st, &mut wakers);
            st.rx_dropped = true;
            let n = st.queue.len();
            if self.cap.is_some() {
                st.slots.release(n, &mut wakers);
            }
            (mem::take(&mut st.queue), st.rx_waker.take())
        };
        drop(rx_waker);
        wakers.wake_all();
        drop(queue);
    }
}

/// Future of [`Chan::reserve`]: `n` slots, or `Err` once the receiver
/// closed.
pub(crate) struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    n: usize,
    key: Option<usize>,
}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::coop::budgeted(cx, |cx| this.poll_reserve(cx))
    }
}

impl<T> Reserve<'_, T> {
    fn poll_reserve(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let this = self;
        // Declared before the guard, so dropped after it is released.
        let mut displaced = None;
        let mut st = this.chan.lock();
        let res = match this.key {
            None => match st.slots.start_acquire(this.n, cx.waker()) {
                Start::Done(res) => res,
                Start::Queued(key) => {
                    this.key = Some(key);
                    return Poll::Pending;
                }
            },
            Some(key) => {
                let res = std::task::ready!(st.slots.poll_waiter(key, cx.waker(), &mut displaced));
                this.key = None;
                res
            }
        };
        Poll::Ready(res.map_err(|_| ()))
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut wakers = WakeList::new();
            let mut st = self.chan.lock();
            let waker = st.slots.cancel(key, &mut wakers);
            if st.rx_closed {
                wakers.push_opt(st.rx_waker.take());
            }
            drop(st);
            drop(waker);
            wakers.wake_all();
        }
    }
}

/// Future of [`Chan::closed`].
pub(crate) struct Closed<'a, T> {
    chan: &'a Chan<T>,
    key: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Declared before the guard, so dropped after it is released.
        let _displaced;
        let mut st = this.chan.lock();
        if let Some(key) = this.key {
            if !st.closed_waiters.is_linked(key) {
                _displaced = st.closed_waiters.remove(key);
                this.key = None;
                return Poll::Ready(());
            }
            _displaced = register(st.closed_waiters.get_mut(key), cx.waker());
            return Poll::Pending;
        }
        if st.rx_closed {
            return Poll::Ready(());
        }
        this.key = Some(st.closed_waiters.push_back(Some(cx.waker().clone())));
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The guard is a temporary of this statement: unlocked first.
            let waker = self.chan.lock().closed_waiters.remove(key);
            drop(waker);
        }
    }
}
