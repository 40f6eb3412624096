//! The fair semaphore core shared by `Semaphore`, `Mutex`, `RwLock` and the
//! bounded `mpsc` channel.
//!
//! The one idea: *permits are handed to waiters, not grabbed by them.* A
//! release first satisfies the oldest waiter (possibly in part), so a waiter
//! needing many permits cannot be starved by a stream of small requests, and
//! a newcomer may take permits directly only while nobody is queued. As a
//! result this invariant holds after every transition:
//!
//! > **Invariant:** if any waiter is queued, `permits == 0`.
//!
//! A request for zero permits is never queued: it completes at once (or
//! fails if closed). A release walks the queue only while it has permits to
//! hand out, so a waiter queued for nothing would wait behind the others for
//! permits it does not need.
//!
//! [`SemState`] holds the pure state transitions; the caller owns the lock
//! around it and wakes the collected [`WakeList`] after unlocking. That lets
//! the bounded channel keep its slots and its queue under one lock.
//! [`RawSemaphore`] and [`Acquire`] wrap the state in its own mutex for the
//! lock types.
//!
//! Cancellation is lossless: a waiter dropped after being granted some or all
//! of its permits gives them back through [`SemState::cancel`], which hands
//! them straight to the next waiter.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::loom_facade::Mutex;
use super::semaphore::{AcquireError, TryAcquireError};
use super::wait_queue::WaitQueue;
use super::wake_list::{register, WakeList};

/// The largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

#[derive(Debug)]
struct Waiter {
    needed: usize,
    acquired: usize,
    waker: Option<Waker>,
}

/// What [`SemState::start_acquire`] did.
#[derive(Debug)]
pub(crate) enum Start {
    /// Finished at once.
    Done(Result<(), AcquireError>),
    /// Queued in the slot with this key; poll it with
    /// [`SemState::poll_waiter`], or give it up with [`SemState::cancel`].
    Queued(usize),
}

/// Permit count, closed flag and FIFO of waiters. See the module docs.
#[derive(Debug)]
pub(crate) struct SemState {
    permits: usize,
    closed: bool,
    waiters: WaitQueue<Waiter>,
}

impl SemState {
    /// A semaphore state holding `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`].
    pub(crate) const fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore cannot hold more than Semaphore::MAX_PERMITS permits"
        );
        SemState {
            permits,
            closed: false,
            waiters: WaitQueue::new(),
        }
    }

    /// Permits not held by anyone.
    pub(crate) fn available(&self) -> usize {
        self.permits
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Takes `n` permits if they are free and nobody is queued ahead; zero
    /// permits are always free (see the module docs).
    pub(crate) fn try_acquire(&mut self, n: usize) -> Result<(), TryAcquireError> {
        if self.closed {
            return Err(TryAcquireError::Closed);
        }
        if n == 0 || (self.waiters.is_empty() && self.permits >= n) {
            self.permits -= n;
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Takes `n` permits, or queues a waiter for them behind every earlier
    /// waiter. A queued waiter keeps whatever permits were free.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`MAX_PERMITS`]: such a request could never be met.
    pub(crate) fn start_acquire(&mut self, n: usize, waker: &Waker) -> Start {
        assert!(
            n <= MAX_PERMITS,
            "cannot acquire more than Semaphore::MAX_PERMITS permits at once"
        );
        match self.try_acquire(n) {
            Ok(()) => Start::Done(Ok(())),
            Err(TryAcquireError::Closed) => Start::Done(Err(AcquireError(()))),
            Err(TryAcquireError::NoPermits) => {
                debug_assert!(self.waiters.is_empty() || self.permits == 0);
                // By the invariant `permits` is 0 unless the queue is empty.
                let acquired = std::mem::take(&mut self.permits);
                debug_assert!(acquired < n);
                Start::Queued(self.waiters.push_back(Waiter {
                    needed: n,
                    acquired,
                    waker: Some(waker.clone()),
                }))
            }
        }
    }

    /// Checks the waiter in slot `key`. On `Ready` its slot is freed and the
    /// key must not be used again; on `Pending` its waker is refreshed.
    ///
    /// A waker this replaces or frees is put in `displaced`, for the caller
    /// to drop after unlocking.
    pub(crate) fn poll_waiter(
        &mut self,
        key: usize,
        waker: &Waker,
        displaced: &mut Option<Waker>,
    ) -> Poll<Result<(), AcquireError>> {
        if self.waiters.is_linked(key) {
            *displaced = register(&mut self.waiters.get_mut(key).waker, waker);
            return Poll::Pending;
        }
        let mut w = self.waiters.remove(key);
        *displaced = w.waker.take();
        if w.acquired == w.needed {
            Poll::Ready(Ok(()))
        } else {
            // Unlinked before being satisfied: only `close` does that, and
            // with the queue gone the partial grant just returns to the pool.
            debug_assert!(self.closed);
            self.permits += w.acquired;
            Poll::Ready(Err(AcquireError(())))
        }
    }

    /// Gives up the waiter in slot `key`, returning any permits it was
    /// granted so that they pass on to the next waiters. Returns the
    /// waiter's own waker, for the caller to drop after unlocking.
    #[must_use = "the waiter's waker must be dropped after the lock is released"]
    pub(crate) fn cancel(&mut self, key: usize, wakers: &mut WakeList) -> Option<Waker> {
        let w = self.waiters.remove(key);
        self.release(w.acquired, wakers);
        w.waker
    }

    /// Returns `n` permits, satisfying queued waiters oldest first.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`MAX_PERMITS`].
    pub(crate) fn release(&mut self, n: usize, wakers: &mut WakeList) {
        self.permits = match self.permits.checked_add(n) {
            Some(p) if p <= MAX_PERMITS => p,
            _ => panic!("a semaphore cannot hold more than Semaphore::MAX_PERMITS permits"),
        };
        while self.permits > 0 {
            let Some(key) = self.waiters.front() else {
                break;
            };
            let w = self.waiters.get_mut(key);
            let take = self.permits.min(w.needed - w.acquired);
            w.acquired += take;
            self.permits -= take;
            if w.acquired < w.needed {
                break;
            }
            wakers.push_opt(w.waker.take());
            self.waiters.unlink(key);
        }
    }

    /// Removes up to `n` free permits for good and returns how many.
    pub(crate) fn forget(&mut self, n: usize) -> usize {
        let k = self.permits.min(n);
        self.permits -= k;
        k
    }

    /// Fails every queued and future acquisition. Permits already held stay
    /// valid and may still be released.
    pub(crate) fn close(&mut self, wakers: &mut WakeList) {
        self.closed = true;
        self.waiters
            .drain_linked(|w| wakers.push_opt(w.waker.take()));
    }
}

/// A [`SemState`] behind its own mutex.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: Mutex<SemState>,
}

impl RawSemaphore {
    /// A semaphore holding `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`].
    #[cfg(not(loom))]
    pub(crate) const fn new(permits: usize) -> Self {
        RawSemaphore {
            state: Mutex::new(SemState::new(permits)),
        }
    }

    /// A semaphore holding `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`].
    #[cfg(loom)]
    pub(crate) fn new(permits: usize) -> Self {
        RawSemaphore {
            state: Mutex::new(SemState::new(permits)),
        }
    }

    /// Waits for `n` permits, in FIFO order with other waiters.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            key: None,
        }
    }

    /// Takes `n` permits now if possible.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireError> {
        self.state.lock().try_acquire(n)
    }

    /// Returns `n` permits.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeList::new();
        self.state.lock().release(n, &mut wakers);
        wakers.wake_all();
    }

    /// Removes up to `n` free permits for good.
    pub(crate) fn forget(&self, n: usize) -> usize {
        self.state.lock().forget(n)
    }

    /// Closes the semaphore, failing all waiters.
    pub(crate) fn close(&self) {
        let mut wakers = WakeList::new();
        self.state.lock().close(&mut wakers);
        wakers.wake_all();
    }

    /// Whether the semaphore is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().is_closed()
    }

    /// Free permits.
    pub(crate) fn available(&self) -> usize {
        self.state.lock().available()
    }
}

/// Future of [`RawSemaphore::acquire`]. Dropping it while queued passes any
/// permits it was granted on to the next waiter.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    n: usize,
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // One unit of budget per acquisition that completes (`Mutex`,
        // `RwLock` and `Semaphore` all acquire through here).
        crate::coop::budgeted(cx, |cx| this.poll_acquire(cx))
    }
}

impl Acquire<'_> {
    fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let this = self;
        // Declared before the guard, so dropped after it is released.
        let mut displaced = None;
        let mut st = this.sem.state.lock();
        match this.key {
            None => match st.start_acquire(this.n, cx.waker()) {
                Start::Done(res) => Poll::Ready(res),
                Start::Queued(key) => {
                    this.key = Some(key);
                    Poll::Pending
                }
            },
            Some(key) => {
                let res = st.poll_waiter(key, cx.waker(), &mut displaced);
                if res.is_ready() {
                    this.key = None;
                }
                res
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut wakers = WakeList::new();
            // The guard is a temporary of this statement: unlocked before
            // the waiter's waker is dropped.
            let waker = self.sem.state.lock().cancel(key, &mut wakers);
            drop(waker);
            wakers.wake_all();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{RawSemaphore, SemState, Start};
    use crate::sync::wake_list::WakeList;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    /// A waker whose drop returns a permit to `sem`: it deadlocks if dropped
    /// under the semaphore's lock.
    struct ReleaseOnDrop {
        sem: Arc<RawSemaphore>,
        dropped: Arc<AtomicBool>,
    }

    impl Wake for ReleaseOnDrop {
        // Waking only drops this handle: the type exists for its counted
        // handles and its `Drop`, which `Waker::noop` has not.
        fn wake(self: Arc<Self>) {
            drop(self);
        }
    }

    impl Drop for ReleaseOnDrop {
        fn drop(&mut self) {
            self.sem.release(1);
            self.dropped.store(true, Ordering::SeqCst);
        }
    }

    fn release_on_drop(sem: &Arc<RawSemaphore>) -> (Waker, Arc<AtomicBool>) {
        let dropped = Arc::new(AtomicBool::new(false));
        let w = Waker::from(Arc::new(ReleaseOnDrop {
            sem: Arc::clone(sem),
            dropped: Arc::clone(&dropped),
        }));
        (w, dropped)
    }

    #[test]
    fn zero_permits_never_queue() {
        let mut st = SemState::new(0);
        let w = Waker::noop();
        let Start::Queued(key) = st.start_acquire(1, w) else {
            panic!("no permit is free");
        };
        assert!(matches!(st.start_acquire(0, w), Start::Done(Ok(()))));
        assert!(st.try_acquire(0).is_ok());
        let mut wakers = WakeList::new();
        assert!(st.cancel(key, &mut wakers).is_some());
        st.close(&mut wakers);
        assert!(st.try_acquire(0).is_err());
        assert!(matches!(st.start_acquire(0, w), Start::Done(Err(_))));
    }

    #[test]
    fn displaced_and_cancelled_wakers_are_dropped_unlocked() {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut acquire = pin!(sem.acquire(2));
        let (hook, dropped) = release_on_drop(&sem);
        assert!(acquire
            .as_mut()
            .poll(&mut Context::from_waker(&hook))
            .is_pending());
        drop(hook);
        // Re-polled for another task: the stored waker is replaced.
        assert!(acquire
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending());
        assert!(dropped.load(Ordering::SeqCst));
        let (hook, dropped) = release_on_drop(&sem);
        assert!(acquire
            .as_mut()
            .poll(&mut Context::from_waker(&hook))
            .is_pending());
        drop(hook);
        // Replacing it drops it once this poll has unlocked; its drop gives
        // the second permit, so the next poll completes.
        assert!(acquire
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending());
        assert!(dropped.load(Ordering::SeqCst));
        assert!(acquire
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready());
        assert_eq!(sem.available(), 0);

        sem.release(1);
        let mut acquire = pin!(sem.acquire(3));
        let (hook, dropped) = release_on_drop(&sem);
        assert!(acquire
            .as_mut()
            .poll(&mut Context::from_waker(&hook))
            .is_pending());
        drop(hook);
        let poll = acquire
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(poll, Poll::Pending);
        assert!(dropped.load(Ordering::SeqCst));
    }
}
