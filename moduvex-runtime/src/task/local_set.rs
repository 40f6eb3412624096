//! [`LocalSet`]: a set of `!Send` tasks that run on the thread that polls
//! the set, as tokio's `LocalSet`.
//!
//! The one idea: **the set is a future-shaped scheduler.** It owns a run
//! queue that only its thread touches and an inbox that wakers on other
//! threads push into (then they wake the waker of whoever polls the set).
//! Polling the set, through [`run_until`](LocalSet::run_until) or by
//! awaiting it, runs a bounded batch of its tasks, each with a fresh
//! cooperative budget, and yields back to the host, so the set works
//! inside any task or `block_on` of our runtimes, on one thread, and never
//! starves its host. The queue machinery is the one behind the runtime's
//! own per-thread `spawn_local` sets (`executor/current_thread/local.rs`).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::coop;
use crate::executor::current_thread::local::{self, EnterGuard};
use crate::{JoinHandle, Runtime};

/// Tasks one poll of a set runs before it yields back to its host (as
/// tokio's `LocalSet`).
const MAX_TASKS_PER_TICK: usize = 61;

/// A set of tasks that all run on the same thread, so their futures need
/// not be `Send`.
///
/// Spawn onto it with [`spawn_local`](LocalSet::spawn_local) (any time,
/// also before it runs: the tasks start when the set is first polled), or
/// with [`task::spawn_local`](crate::task::spawn_local) from inside
/// [`run_until`](LocalSet::run_until) or one of the set's tasks. The set's
/// tasks run only while the set is polled: by `run_until`, by
/// [`block_on`](LocalSet::block_on), or by awaiting the set itself (which
/// completes once every task has finished).
///
/// Dropping the set drops its unfinished tasks' futures, on its thread;
/// their [`JoinHandle`]s report cancellation.
///
/// ```
/// use std::rc::Rc;
/// use moduvex_runtime::task::{self, LocalSet};
///
/// let rt = moduvex_runtime::Runtime::builder()
///     .flavor(moduvex_runtime::Flavor::CurrentThread)
///     .build()
///     .unwrap();
/// let local = LocalSet::new();
/// let shared = Rc::new(41);
/// let out = local.block_on(&rt, async move {
///     let inner = shared.clone();
///     task::spawn_local(async move { *inner + 1 }).await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
///
/// # Panics
/// Polling the set (`run_until`, awaiting it) panics on a thread that runs
/// no moduvex runtime (see `docs/PORTING.md`: tokio lets a foreign executor
/// drive a set; here its tasks would find no runtime for their timers and
/// sockets).
pub struct LocalSet {
    inner: Rc<local::LocalSet>,
}

/// The guard of [`LocalSet::enter`]: while it lives,
/// [`task::spawn_local`](crate::task::spawn_local) spawns onto the set.
///
/// ```
/// use std::rc::Rc;
/// use moduvex_runtime::task::{self, LocalSet};
///
/// let local = LocalSet::new();
/// let task = {
///     let _guard = local.enter();
///     task::spawn_local(async { Rc::new(3) })
/// };
/// let v = moduvex_runtime::block_on(local.run_until(task)).unwrap();
/// assert_eq!(*v, 3);
/// ```
#[must_use = "the set is entered only while the guard lives"]
pub struct LocalEnterGuard {
    _guard: EnterGuard,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

impl LocalSet {
    /// An empty set, owned by the calling thread.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use moduvex_runtime::task::{self, LocalSet};
    ///
    /// let local = LocalSet::new();
    /// let rc = Rc::new(1);
    /// let t = local.spawn_local({
    ///     let rc = rc.clone();
    ///     async move { *rc + 1 }
    /// });
    /// assert_eq!(moduvex_runtime::block_on(local.run_until(t)).unwrap(), 2);
    /// ```
    pub fn new() -> LocalSet {
        LocalSet {
            inner: local::LocalSet::new_polled(),
        }
    }

    /// Spawns a `!Send` future onto the set and returns its handle.
    ///
    /// Usable anywhere on the set's thread, also outside a runtime: the task
    /// is queued and starts when the set is next polled.
    ///
    /// ```
    /// use moduvex_runtime::task::LocalSet;
    /// let local = LocalSet::new();
    /// let handle = local.spawn_local(async { 7 });
    /// let n = moduvex_runtime::block_on(local.run_until(handle)).unwrap();
    /// assert_eq!(n, 7);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `future` to completion while driving the set's tasks; returns
    /// its output. Inside, [`task::spawn_local`](crate::task::spawn_local)
    /// spawns onto this set.
    ///
    /// Tasks still unfinished when `future` completes stay in the set, to
    /// run the next time it is polled.
    ///
    /// # Panics
    /// When polled on a thread that runs no moduvex runtime.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use moduvex_runtime::task::{self, LocalSet};
    ///
    /// let local = LocalSet::new();
    /// let out = moduvex_runtime::block_on(local.run_until(async {
    ///     let a = task::spawn_local(async { 1 });
    ///     let b = task::spawn_local(async { 2 });
    ///     a.await.unwrap() + b.await.unwrap()
    /// }));
    /// assert_eq!(out, 3);
    /// # let _ = Rc::new(());
    /// ```
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<'_, F> {
        RunUntil { set: self, future }
    }

    /// Runs `future` on `rt` as [`Runtime::block_on`] does, driving the
    /// set's tasks meanwhile.
    ///
    /// # Panics
    /// As [`Runtime::block_on`] (inside an async context).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use moduvex_runtime::task::{self, LocalSet};
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().build()?;
    /// let local = LocalSet::new();
    /// let n = local.block_on(&rt, async {
    ///     task::spawn_local(async { Rc::new(8) }).await.unwrap()
    /// });
    /// assert_eq!(*n, 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Enters the set: until the guard drops,
    /// [`task::spawn_local`](crate::task::spawn_local) on this thread
    /// spawns onto it (the tasks run when the set is polled).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use moduvex_runtime::task::{self, LocalSet};
    ///
    /// let local = LocalSet::new();
    /// let _guard = local.enter();
    /// let t = task::spawn_local(async { Rc::new("entered") });
    /// drop(_guard);
    /// assert_eq!(*moduvex_runtime::block_on(local.run_until(t)).unwrap(), "entered");
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _guard: local::enter(&self.inner, false),
            _not_send: PhantomData,
        }
    }

    /// Runs up to [`MAX_TASKS_PER_TICK`] tasks; true if more are runnable.
    /// The caller has registered its waker and entered the set.
    fn tick(&self) -> bool {
        for _ in 0..MAX_TASKS_PER_TICK {
            match self.inner.pop() {
                Some(task) => coop::with_budget(|| task.run()),
                None => return false,
            }
        }
        true
    }

    /// Registers `cx`'s waker (before the first look at the inbox, see
    /// `Notify::Poller`) and enters the set.
    #[track_caller]
    fn begin_poll(&self, cx: &Context<'_>, call: &str) -> EnterGuard {
        if !crate::executor::in_runtime() {
            panic!(
                "`{call}` polled outside a moduvex runtime: drive the set with \
                 `LocalSet::block_on(&runtime, ..)`, or await it inside \
                 `moduvex_runtime::block_on(...)` or a runtime's task"
            );
        }
        self.inner.handle().register(cx.waker());
        local::enter(&self.inner, true)
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").finish_non_exhaustive()
    }
}

/// Awaiting the set drives its tasks and completes once every task has
/// finished (tokio's behaviour).
impl Future for LocalSet {
    type Output = ();

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _entered = self.begin_poll(cx, "LocalSet");
        if self.tick() {
            // More work: yield to the host, and come straight back.
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if self.inner.handle().owns_none() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Entered, so a future that spawns while it is dropped spawns onto
        // this (closed) set, which cancels the newcomer at once.
        let entered = local::enter(&self.inner, true);
        self.inner.shutdown();
        drop(entered);
        self.inner.handle().clear_waker();
    }
}

/// The future of [`LocalSet::run_until`].
///
/// ```
/// use std::rc::Rc;
/// use moduvex_runtime::task::{self, LocalSet};
///
/// let local = LocalSet::new();
/// let run = local.run_until(async { task::spawn_local(async { 4 }).await.unwrap() });
/// assert_eq!(moduvex_runtime::block_on(run), 4);
/// # let _ = Rc::new(());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct RunUntil<'a, F> {
    set: &'a LocalSet,
    future: F,
}

impl<F> fmt::Debug for RunUntil<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntil").finish_non_exhaustive()
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: never moved out of `self`, and `RunUntil` has no `Drop` to move it.
        let (set, future) = unsafe {
            let me = self.get_unchecked_mut();
            (me.set, Pin::new_unchecked(&mut me.future))
        };
        let _entered = set.begin_poll(cx, "LocalSet::run_until");
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(out);
        }
        if set.tick() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}
