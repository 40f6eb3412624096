//! [`CancellationToken`]: a cancellation signal shared by a tree of tasks.
//!
//! The one idea: **a token points up to its parent, never down to its
//! children.** A token is cancelled if it or any ancestor was cancelled,
//! so cancelling a parent reaches every descendant without the parent
//! knowing them (and dropped children leave nothing behind). A task
//! waiting on a token parks its waker in the token's node *and in each
//! ancestor's*, so whichever of them is cancelled wakes it. Each node
//! keeps its flag and waiters under one short lock; wakers are taken under
//! it and woken after it is released.
//!
//! Runtime-agnostic: nothing here needs a running runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use slab::Slab;

/// One token's node: shared by its clones, referenced by its children.
struct Node {
    parent: Option<Arc<Node>>,
    /// Mirrors `waiters.cancelled` for lock-free checks. Set only under
    /// the lock, and never cleared.
    cancelled: AtomicBool,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    cancelled: bool,
    /// Wakers of tasks waiting on this node or a descendant, by key.
    wakers: Slab<Option<Waker>>,
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, Waiters> {
        // Plain data that no panic leaves half-written.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This node or an ancestor was cancelled.
    fn is_cancelled(&self) -> bool {
        let mut node = Some(self);
        while let Some(n) = node {
            if n.cancelled.load(Ordering::Acquire) {
                return true;
            }
            node = n.parent.as_deref();
        }
        false
    }

    fn cancel(&self) {
        let wakers: Vec<Waker> = {
            let mut w = self.lock();
            if w.cancelled {
                return;
            }
            w.cancelled = true;
            self.cancelled.store(true, Ordering::Release);
            w.wakers.iter_mut().filter_map(|(_, w)| w.take()).collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

/// A token that tasks can wait on and anyone can cancel.
///
/// Clones share the same state. [`child_token`](Self::child_token) makes a
/// token that is cancelled with its parent, but whose own cancellation
/// does not touch the parent.
///
/// ```
/// use moduvex_runtime::task::CancellationToken;
/// moduvex_runtime::block_on(async {
///     let token = CancellationToken::new();
///     let child = token.child_token();
///     let task = moduvex_runtime::spawn(async move {
///         child.cancelled().await;
///         "stopped"
///     });
///     token.cancel();
///     assert_eq!(task.await.unwrap(), "stopped");
/// });
/// ```
#[derive(Clone)]
pub struct CancellationToken {
    node: Arc<Node>,
}

impl CancellationToken {
    /// A new, uncancelled root token.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let token = CancellationToken::new();
    ///     let worker = moduvex_runtime::spawn({
    ///         let token = token.clone();
    ///         async move {
    ///             token.cancelled().await;
    ///             "stopped"
    ///         }
    ///     });
    ///     token.cancel();
    ///     assert_eq!(worker.await.unwrap(), "stopped");
    /// });
    /// ```
    pub fn new() -> CancellationToken {
        CancellationToken::with_parent(None)
    }

    fn with_parent(parent: Option<Arc<Node>>) -> CancellationToken {
        CancellationToken {
            node: Arc::new(Node {
                parent,
                cancelled: AtomicBool::new(false),
                waiters: Mutex::new(Waiters {
                    cancelled: false,
                    wakers: Slab::new(),
                }),
            }),
        }
    }

    /// A token cancelled whenever this one is (already cancelled if this
    /// one is). Cancelling the child does not cancel this token.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// let parent = CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel(); // does not reach the parent
    /// assert!(!parent.is_cancelled());
    /// let other = parent.child_token();
    /// parent.cancel(); // reaches every child
    /// assert!(other.is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        CancellationToken::with_parent(Some(self.node.clone()))
    }

    /// Cancels this token and all its descendants, waking every task
    /// waiting on them. Cancelling again does nothing.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// let token = CancellationToken::new();
    /// let clone = token.clone();
    /// token.cancel();
    /// assert!(clone.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// Whether this token (or an ancestor) was cancelled.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// let token = CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// A future that completes once the token is cancelled.
    ///
    /// Cancel-safe, and cheap to drop.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let token = CancellationToken::new();
    ///     token.cancel();
    ///     token.cancelled().await; // completes at once once cancelled
    /// });
    /// ```
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        WaitForCancellationFuture {
            token: self,
            wait: Wait::default(),
        }
    }

    /// Like [`cancelled`](Self::cancelled), but owning a clone of the
    /// token, so the future is `'static` (for spawning or storing).
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let token = CancellationToken::new();
    ///     let wait = token.clone().cancelled_owned(); // 'static: may move into a task
    ///     let t = moduvex_runtime::spawn(wait);
    ///     token.cancel();
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn cancelled_owned(self) -> WaitForCancellationFutureOwned {
        WaitForCancellationFutureOwned {
            token: self,
            wait: Wait::default(),
        }
    }

    /// A guard that cancels this token when dropped, unless
    /// [`disarm`](DropGuard::disarm)ed.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// let token = CancellationToken::new();
    /// {
    ///     let _guard = token.clone().drop_guard();
    /// } // cancelled here
    /// assert!(token.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }

    /// Runs `future` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and the future is dropped). Cancellation wins
    /// if both are ready.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let token = CancellationToken::new();
    ///     assert_eq!(token.run_until_cancelled(async { 1 }).await, Some(1));
    ///     token.cancel();
    ///     let never = std::future::pending::<u8>();
    ///     assert_eq!(token.run_until_cancelled(never).await, None);
    /// });
    /// ```
    pub async fn run_until_cancelled<F: Future>(&self, future: F) -> Option<F::Output> {
        let mut future = std::pin::pin!(future);
        let mut cancelled = self.cancelled();
        std::future::poll_fn(|cx| {
            if Pin::new(&mut cancelled).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

impl Default for CancellationToken {
    fn default() -> CancellationToken {
        CancellationToken::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

/// One waiting future's registrations: its key in each node it parked in.
#[derive(Default)]
struct Wait {
    registered: Vec<(Arc<Node>, usize)>,
}

impl Wait {
    fn poll(&mut self, token: &CancellationToken, cx: &mut Context<'_>) -> Poll<()> {
        if token.node.is_cancelled() {
            self.unregister();
            return Poll::Ready(());
        }
        if self.registered.is_empty() {
            let mut node = Some(&token.node);
            while let Some(n) = node {
                let mut w = n.lock();
                // Checked under the lock that `cancel` takes to set it:
                // either we see the flag or `cancel` sees our waker.
                if w.cancelled {
                    drop(w);
                    self.unregister();
                    return Poll::Ready(());
                }
                let key = w.wakers.insert(Some(cx.waker().clone()));
                drop(w);
                self.registered.push((n.clone(), key));
                node = n.parent.as_ref();
            }
            return Poll::Pending;
        }
        for (n, key) in &self.registered {
            let mut w = n.lock();
            if w.cancelled {
                drop(w);
                self.unregister();
                return Poll::Ready(());
            }
            let replaced = match &mut w.wakers[*key] {
                Some(old) if old.will_wake(cx.waker()) => None,
                slot => slot.replace(cx.waker().clone()),
            };
            drop(w);
            // The old waker is dropped unlocked: its drop may run any code.
            drop(replaced);
        }
        Poll::Pending
    }

    fn unregister(&mut self) {
        for (n, key) in self.registered.drain(..) {
            let waker = n.lock().wakers.remove(key);
            // Dropped outside the lock.
            drop(waker);
        }
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// The future returned by [`CancellationToken::cancelled`].
///
/// ```
/// use moduvex_runtime::task::CancellationToken;
///
/// moduvex_runtime::block_on(async {
///     let token = CancellationToken::new();
///     let mut wait = std::pin::pin!(token.cancelled());
///     assert!(futures_lite::future::poll_once(wait.as_mut()).await.is_none());
///     token.cancel();
///     wait.await;
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellationFuture<'a> {
    token: &'a CancellationToken,
    wait: Wait,
}

impl Future for WaitForCancellationFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(this.token, cx)
    }
}

impl fmt::Debug for WaitForCancellationFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationFuture")
            .field("token", self.token)
            .finish()
    }
}

/// The future returned by [`CancellationToken::cancelled_owned`].
///
/// ```
/// use moduvex_runtime::task::CancellationToken;
///
/// moduvex_runtime::block_on(async {
///     let token = CancellationToken::new();
///     let wait = token.child_token().cancelled_owned();
///     token.cancel();
///     wait.await;
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellationFutureOwned {
    token: CancellationToken,
    wait: Wait,
}

impl Future for WaitForCancellationFutureOwned {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(&this.token, cx)
    }
}

impl fmt::Debug for WaitForCancellationFutureOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationFutureOwned")
            .field("token", &self.token)
            .finish()
    }
}

/// Cancels its token when dropped; made by
/// [`CancellationToken::drop_guard`].
///
/// ```
/// use moduvex_runtime::task::CancellationToken;
///
/// let token = CancellationToken::new();
/// let guard = token.clone().drop_guard();
/// drop(guard);
/// assert!(token.is_cancelled());
/// ```
#[must_use = "dropping the guard at once cancels the token"]
pub struct DropGuard {
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    ///
    /// ```
    /// use moduvex_runtime::task::CancellationToken;
    ///
    /// let token = CancellationToken::new();
    /// let guard = token.clone().drop_guard();
    /// let kept = guard.disarm(); // dropping it no longer cancels
    /// drop(kept);
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("the token is taken only here or in drop")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = &self.token {
            token.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
