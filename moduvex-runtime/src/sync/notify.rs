//! Wake one task or all waiting tasks, without sending data.
//!
//! The one idea: [`Notify::notify_one`] either hands its notification to the
//! oldest waiter or, if nobody waits, stores it as a single permit that the
//! next [`Notified`] consumes at once, so a notification sent "too early" is
//! never lost. [`Notify::notify_waiters`] instead wakes every current waiter
//! and stores nothing; a `Notified` created before that call counts as
//! waiting even if it was not yet polled (it remembers the call count at its
//! creation).
//!
//! [`Notify::notify_last`] is `notify_one` for the newest waiter instead of
//! the oldest.
//!
//! A `Notified` that is dropped after receiving a `notify_one` (or
//! `notify_last`) passes that notification on to the next waiter in the
//! same order (or back to the permit).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use std::sync::Arc;

use super::loom_facade::{AtomicUsize, Mutex, Ordering};
use super::wait_queue::WaitQueue;
use super::wake_list::{register, WakeList};

/// Notifies tasks of an event. See the module docs for the exact rules.
///
/// ```
/// # fn main() {
/// use moduvex_runtime::sync::Notify;
/// let notify = Notify::new();
/// notify.notify_one(); // stored as a permit
/// let fut = notify.notified(); // completes at once when awaited
/// # drop(fut);
/// # }
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// Number of `notify_waiters` calls; written only under `state`'s lock.
    waiters_calls: AtomicUsize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `notify_one`: the oldest waiter.
    One,
    /// `notify_last`: the newest waiter.
    Last,
    /// `notify_waiters`.
    All,
}

#[derive(Debug)]
struct Waiter {
    waker: Option<Waker>,
    notified: Option<Kind>,
}

#[derive(Debug)]
struct State {
    permit: bool,
    waiters: WaitQueue<Waiter>,
}

impl State {
    /// Notifies the oldest (`One`) or newest (`Last`) waiter, or stores the
    /// permit.
    fn notify(&mut self, kind: Kind, wakers: &mut WakeList) {
        let next = match kind {
            Kind::Last => self.waiters.pop_back(),
            _ => self.waiters.pop_front(),
        };
        match next {
            Some(key) => {
                let w = self.waiters.get_mut(key);
                w.notified = Some(kind);
                wakers.push_opt(w.waker.take());
            }
            None => self.permit = true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Not yet registered.
    Init,
    /// Queued in the slot with this key.
    Waiting(usize),
    /// Notified, but not yet returned `Ready` (only after `enable`).
    Notified(Kind),
    /// Returned `Ready`.
    Done,
}

/// The waiting state shared by [`Notified`] and [`OwnedNotified`]; each
/// method takes the `Notify` it belongs to.
#[derive(Debug)]
struct Waiting {
    calls_at_creation: usize,
    stage: Stage,
}

/// Future of [`Notify::notified`].
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::Notify;
///
/// moduvex_runtime::block_on(async {
///     let notify = Arc::new(Notify::new());
///     let waiter = moduvex_runtime::spawn({
///         let notify = notify.clone();
///         async move { notify.notified().await }
///     });
///     moduvex_runtime::task::yield_now().await;
///     notify.notify_one();
///     waiter.await.unwrap();
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    waiting: Waiting,
}

/// Future of [`Notify::notified_owned`]: a [`Notified`] that owns an
/// `Arc<Notify>`, so it is `'static` and can move into a spawned task.
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::Notify;
///
/// moduvex_runtime::block_on(async {
///     let notify = Arc::new(Notify::new());
///     let wait = notify.clone().notified_owned(); // owns its Arc: 'static
///     notify.notify_one(); // stored as a permit
///     moduvex_runtime::spawn(wait).await.unwrap();
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct OwnedNotified {
    notify: Arc<Notify>,
    waiting: Waiting,
}

impl Notify {
    /// A `Notify` with no stored permit.
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Notify::new();
    ///     notify.notify_one(); // no waiter yet: a permit is stored
    ///     notify.notified().await; // takes the permit at once
    /// });
    /// ```
    pub fn new() -> Self {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitQueue::new(),
            }),
            waiters_calls: AtomicUsize::new(0),
        }
    }

    /// Like [`new`](Self::new), usable in a `static`.
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     static READY: Notify = Notify::const_new();
    ///     READY.notify_one();
    ///     READY.notified().await;
    /// });
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Self {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitQueue::new(),
            }),
            waiters_calls: AtomicUsize::new(0),
        }
    }

    /// A future completing on the next notification meant for it.
    ///
    /// Cancel safety: dropping it loses nothing; a `notify_one` it had
    /// already received passes to the next waiter.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Arc::new(Notify::new());
    ///     let n2 = notify.clone();
    ///     let t = moduvex_runtime::spawn(async move {
    ///         n2.notified().await;
    ///         "woken"
    ///     });
    ///     moduvex_runtime::task::yield_now().await;
    ///     notify.notify_waiters();
    ///     assert_eq!(t.await.unwrap(), "woken");
    /// });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            waiting: self.waiting(),
        }
    }

    /// Like [`notified`](Self::notified), but the future owns the `Arc`
    /// and so is `'static` (tokio's `notified_owned`).
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    /// use std::sync::Arc;
    /// moduvex_runtime::block_on(async {
    ///     let notify = Arc::new(Notify::new());
    ///     let waiter = moduvex_runtime::spawn(Arc::clone(&notify).notified_owned());
    ///     notify.notify_one();
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        OwnedNotified {
            waiting: self.waiting(),
            notify: self,
        }
    }

    fn waiting(&self) -> Waiting {
        Waiting {
            calls_at_creation: self.waiters_calls.load(Ordering::SeqCst),
            stage: Stage::Init,
        }
    }

    /// Wakes the oldest waiter; with none waiting, stores one permit (at
    /// most one: repeated calls do not add up).
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Notify::new();
    ///     let mut first = std::pin::pin!(notify.notified());
    ///     let mut second = std::pin::pin!(notify.notified());
    ///     first.as_mut().enable();
    ///     second.as_mut().enable();
    ///     notify.notify_one(); // wakes the first waiter only
    ///     assert!(first.as_mut().enable());
    ///     assert!(!second.as_mut().enable());
    /// });
    /// ```
    pub fn notify_one(&self) {
        let mut wakers = WakeList::new();
        self.state.lock().notify(Kind::One, &mut wakers);
        wakers.wake_all();
    }

    /// Wakes the newest waiter (the one that started waiting last); with
    /// none waiting, stores the same single permit as
    /// [`notify_one`](Self::notify_one).
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Notify::new();
    ///     let mut first = std::pin::pin!(notify.notified());
    ///     let mut second = std::pin::pin!(notify.notified());
    ///     first.as_mut().enable();
    ///     second.as_mut().enable();
    ///     notify.notify_last(); // wakes the most recent waiter
    ///     assert!(!first.as_mut().enable());
    ///     assert!(second.as_mut().enable());
    /// });
    /// ```
    pub fn notify_last(&self) {
        let mut wakers = WakeList::new();
        self.state.lock().notify(Kind::Last, &mut wakers);
        wakers.wake_all();
    }

    /// Wakes every task waiting right now (and every [`Notified`] created
    /// before this call). Stores no permit.
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Notify::new();
    ///     let mut a = std::pin::pin!(notify.notified());
    ///     let mut b = std::pin::pin!(notify.notified());
    ///     a.as_mut().enable();
    ///     b.as_mut().enable();
    ///     notify.notify_waiters();
    ///     assert!(a.as_mut().enable() && b.as_mut().enable());
    ///     // No permit is stored for later waiters.
    ///     let mut late = std::pin::pin!(notify.notified());
    ///     assert!(!late.as_mut().enable());
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        {
            let mut st = self.state.lock();
            self.waiters_calls.fetch_add(1, Ordering::SeqCst);
            st.waiters.drain_linked(|w| {
                w.notified = Some(Kind::All);
                wakers.push_opt(w.waker.take());
            });
        }
        wakers.wake_all();
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

impl Notified<'_> {
    /// Registers as a waiter without a waker, so that `notify_one` and
    /// `notify_waiters` already count this future. Returns `true` if it has
    /// already been notified (the next poll is then `Ready`). A notification
    /// seen here is still passed on if the future is dropped unpolled.
    ///
    /// ```
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Notify::new();
    ///     let mut wait = std::pin::pin!(notify.notified());
    ///     // Registered before the notification is sent, so it is not missed.
    ///     assert!(!wait.as_mut().enable());
    ///     notify.notify_waiters();
    ///     assert!(wait.as_mut().enable());
    ///     wait.await;
    /// });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.waiting.poll_with(this.notify, None)
    }
}

impl OwnedNotified {
    /// As [`Notified::enable`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moduvex_runtime::sync::Notify;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let notify = Arc::new(Notify::new());
    ///     let mut wait = std::pin::pin!(notify.clone().notified_owned());
    ///     assert!(!wait.as_mut().enable());
    ///     notify.notify_waiters();
    ///     assert!(wait.as_mut().enable());
    /// });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.waiting.poll_with(&this.notify, None)
    }
}

impl Waiting {
    /// Advances the stage; `true` once notified. Only a real poll (with a
    /// waker) moves a notification to `Done`, i.e. consumes it.
    fn poll_with(&mut self, notify: &Notify, waker: Option<&Waker>) -> bool {
        // Declared before the guard, so dropped after it is released: a
        // waker's `Drop` may use this `Notify`.
        let mut _displaced = None;
        let mut st = notify.state.lock();
        if let Stage::Init = self.stage {
            self.stage = if notify.waiters_calls.load(Ordering::SeqCst) != self.calls_at_creation {
                Stage::Notified(Kind::All)
            } else if std::mem::take(&mut st.permit) {
                Stage::Notified(Kind::One)
            } else {
                Stage::Waiting(st.waiters.push_back(Waiter {
                    waker: waker.cloned(),
                    notified: None,
                }))
            };
        }
        if let Stage::Waiting(key) = self.stage {
            if st.waiters.is_linked(key) {
                if let Some(waker) = waker {
                    _displaced = register(&mut st.waiters.get_mut(key).waker, waker);
                }
                return false;
            }
            let w = st.waiters.remove(key);
            _displaced = w.waker;
            debug_assert!(w.notified.is_some());
            self.stage = Stage::Notified(w.notified.unwrap_or(Kind::All));
        }
        if waker.is_some() {
            self.stage = Stage::Done;
        }
        true
    }

    /// One poll under the task's budget: a notification consumed spends
    /// one unit; a spent budget leaves any notification for the next poll.
    fn poll(&mut self, notify: &Notify, cx: &mut Context<'_>) -> Poll<()> {
        crate::coop::budgeted(cx, |cx| {
            if self.poll_with(notify, Some(cx.waker())) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// The future is dropped: leave the queue, passing on a `notify_one`
    /// (or `notify_last`) it received but did not consume.
    fn cancel(&mut self, notify: &Notify) {
        let mut wakers = WakeList::new();
        // Declared before the guard below, so dropped after it is released.
        let _waker;
        match self.stage {
            Stage::Waiting(key) => {
                let mut st = notify.state.lock();
                let w = st.waiters.remove(key);
                _waker = w.waker;
                if let Some(kind @ (Kind::One | Kind::Last)) = w.notified {
                    st.notify(kind, &mut wakers);
                }
            }
            Stage::Notified(kind @ (Kind::One | Kind::Last)) => {
                notify.state.lock().notify(kind, &mut wakers)
            }
            _ => return,
        }
        wakers.wake_all();
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.waiting.poll(this.notify, cx)
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.waiting.poll(&this.notify, cx)
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.waiting.cancel(self.notify);
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.waiting.cancel(&self.notify);
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified")
            .field("stage", &self.waiting.stage)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("stage", &self.waiting.stage)
            .finish_non_exhaustive()
    }
}
