//! [`JoinSet`]: a set of spawned tasks joined in the order they finish.
//!
//! The one idea: **each task's handle is polled with its own waker, and
//! that waker only records "this entry may be ready".** The set keeps a
//! queue of such entries; `join_next` polls only the queued handles, so a
//! wake-up costs O(1) no matter how many tasks the set holds, and results
//! come out in completion order. A new entry starts queued, so its first
//! poll registers its waker with the task.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use super::LocalSet;
use crate::executor::AbortHandle;
use crate::{Handle, JoinError, JoinHandle};

/// A collection of spawned tasks, joined in completion order.
///
/// Every task has the same output type `T`. Dropping the set aborts the
/// tasks still in it (use [`detach_all`](JoinSet::detach_all) first to
/// keep them running).
///
/// ```
/// use moduvex_runtime::task::JoinSet;
/// moduvex_runtime::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..3u32 {
///         set.spawn(async move { i * 10 });
///     }
///     let mut total = 0;
///     while let Some(res) = set.join_next().await {
///         total += res.expect("task failed");
///     }
///     assert_eq!(total, 30);
/// });
/// ```
pub struct JoinSet<T> {
    entries: Slab<Entry<T>>,
    shared: Arc<Shared>,
    /// Source of entry ids, which tell a reused slab key's new entry from
    /// a stale notification for the old one.
    next_id: u64,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Arc<EntryWaker>,
}

/// What the entry wakers share with the set.
struct Shared {
    inner: Mutex<SharedInner>,
}

struct SharedInner {
    /// Entries that were woken (or are new) and must be polled.
    ready: VecDeque<(usize, u64)>,
    /// The task waiting in `join_next`, if any.
    waiter: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, SharedInner> {
        // Plain data that no panic leaves half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The waker given to one entry's `JoinHandle`.
struct EntryWaker {
    key: usize,
    id: u64,
    /// Already in the ready queue: further wakes add nothing.
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let waiter = {
            let mut inner = self.shared.lock();
            inner.ready.push_back((self.key, self.id));
            inner.waiter.take()
        };
        // Outside the lock.
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     for i in 0..3 {
    ///         set.spawn(async move { i * 2 });
    ///     }
    ///     let mut out = set.join_all().await;
    ///     out.sort();
    ///     assert_eq!(out, [0, 2, 4]);
    /// });
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Slab::new(),
            shared: Arc::new(Shared {
                inner: Mutex::new(SharedInner {
                    ready: VecDeque::new(),
                    waiter: None,
                }),
            }),
            next_id: 0,
        }
    }

    /// The number of tasks in the set (finished ones count until joined).
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async {});
    ///     set.spawn(async {});
    ///     assert_eq!(set.len(), 2);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the set holds no tasks.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     assert!(set.is_empty());
    ///     set.spawn(async {});
    ///     assert!(!set.is_empty());
    ///     while set.join_next().await.is_some() {}
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an already spawned task's handle to the set; returns a handle
    /// that aborts that task.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let handle = moduvex_runtime::spawn(async { "adopted" });
    ///     let mut set = JoinSet::new();
    ///     set.insert(handle);
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "adopted");
    /// });
    /// ```
    pub fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let id = self.next_id;
        self.next_id += 1;
        let entry = self.entries.vacant_entry();
        let waker = Arc::new(EntryWaker {
            key: entry.key(),
            id,
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        self.shared.lock().ready.push_back((entry.key(), id));
        entry.insert(Entry { handle, waker });
        abort
    }

    /// Waits for the next task to finish and returns its result; `None`
    /// once the set is empty.
    ///
    /// Cancel-safe: if the future is dropped before it completes, no
    /// result is lost; it stays in the set.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     set.spawn(async { panic!("task failed") });
    ///     let (mut ok, mut failed) = (0, 0);
    ///     while let Some(res) = set.join_next().await {
    ///         match res {
    ///             Ok(v) => ok += v,
    ///             Err(e) => failed += e.is_panic() as u32,
    ///         }
    ///     }
    ///     assert_eq!((ok, failed), (1, 1));
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task: `Ready(None)` when the set is
    /// empty, `Pending` (with `cx`'s waker registered) when no task has
    /// finished yet.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 5 });
    ///     let res = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(res.unwrap().unwrap(), 5);
    ///     assert!(std::future::poll_fn(|cx| set.poll_join_next(cx)).await.is_none());
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.entries.is_empty() {
            return Poll::Ready(None);
        }
        // One unit of budget per result returned (the handles inside are
        // polled without charging again).
        crate::coop::budgeted(cx, |cx| match self.poll_ready_entries(Some(cx)) {
            Some(res) => Poll::Ready(Some(res)),
            None => Poll::Pending,
        })
    }

    /// Returns a finished task's result without waiting; `None` if no
    /// task has finished (or the set is empty).
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 3 });
    ///     let v = loop {
    ///         match set.try_join_next() {
    ///             Some(res) => break res.unwrap(),
    ///             None => moduvex_runtime::task::yield_now().await, // not finished yet
    ///         }
    ///     };
    ///     assert_eq!(v, 3);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.poll_ready_entries(None)
    }

    /// Polls the queued entries until one yields. With `cx`, registers its
    /// waker *before* looking at the queue, so a wake racing with the scan
    /// is never lost.
    fn poll_ready_entries(&mut self, cx: Option<&mut Context<'_>>) -> Option<Result<T, JoinError>> {
        if let Some(cx) = cx.as_ref() {
            let mut inner = self.shared.lock();
            let replaced = match &inner.waiter {
                Some(w) if w.will_wake(cx.waker()) => None,
                _ => inner.waiter.replace(cx.waker().clone()),
            };
            drop(inner);
            // The old waker is dropped unlocked: its drop may run any code.
            drop(replaced);
        }
        // Bound the work per call: an entry re-queued while we scan waits
        // for the next call (the waker above, or the caller, sees to it).
        let mut budget = self.shared.lock().ready.len();
        while budget > 0 {
            budget -= 1;
            let Some((key, id)) = self.shared.lock().ready.pop_front() else {
                break;
            };
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            if entry.waker.id != id {
                continue;
            }
            // Cleared before polling, so a wake during the poll re-queues.
            entry.waker.queued.store(false, Ordering::Release);
            let waker = Waker::from(entry.waker.clone());
            let mut entry_cx = Context::from_waker(&waker);
            if let Poll::Ready(res) = entry.handle.poll_output(&mut entry_cx) {
                self.entries.remove(key);
                return Some(res);
            }
        }
        None
    }

    /// Aborts every task in the set. They stay in the set: joining them
    /// yields their results, or cancelled [`JoinError`]s for those that
    /// had not finished.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     while let Some(res) = set.join_next().await {
    ///         assert!(res.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        for (_, entry) in self.entries.iter() {
            entry.handle.abort();
        }
    }

    /// Aborts every task and waits until all have stopped, discarding
    /// their results. The set is empty afterwards.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await; // aborts and waits for every task
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without aborting it: the tasks keep
    /// running detached, and their outputs are dropped.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = moduvex_runtime::sync::oneshot::channel();
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async move { tx.send("still ran").unwrap() });
    ///     set.detach_all();
    ///     drop(set); // the detached task is not aborted
    ///     assert_eq!(rx.await.unwrap(), "still ran");
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.shared.lock().ready.clear();
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    /// If a task panicked, resumes that panic; if a task was cancelled,
    /// panics saying so. Join with [`join_next`](JoinSet::join_next) to
    /// handle failures instead.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 'a' });
    ///     set.spawn(async { 'b' });
    ///     let mut all = set.join_all().await;
    ///     all.sort();
    ///     assert_eq!(all, ['a', 'b']);
    /// });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("`JoinSet::join_all`: a task failed: {e}"),
            }
        }
        out
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime (see
    /// [`spawn`](crate::spawn)) and adds it to the set; returns a handle
    /// that aborts that one task.
    ///
    /// # Panics
    /// Panics if no runtime is running on this thread.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let abort = set.spawn(std::future::pending::<u8>());
    ///     set.spawn(async { 1 });
    ///     abort.abort();
    ///     let mut got = Vec::new();
    ///     while let Some(res) = set.join_next().await {
    ///         got.push(res.ok());
    ///     }
    ///     got.sort();
    ///     assert_eq!(got, [None, Some(1)]);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future))
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the runtime of `handle` and adds it to the set;
    /// returns a handle that aborts that one task.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    /// let rt = moduvex_runtime::Runtime::new().unwrap();
    /// let mut set = JoinSet::new();
    /// set.spawn_on(async { 1 }, rt.handle());
    /// let n = rt.block_on(set.join_next()).unwrap().unwrap();
    /// assert_eq!(n, 1);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs the blocking closure `f` on the current runtime's blocking pool
    /// (see [`spawn_blocking`](crate::spawn_blocking)) and adds it to the
    /// set. Aborting a closure that has started does not stop it.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    /// moduvex_runtime::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn_blocking(|| 6 * 7);
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 42);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(crate::spawn_blocking(f))
    }

    /// Runs the blocking closure `f` on the blocking pool of `handle`'s
    /// runtime and adds it to the set.
    ///
    /// ```
    /// use moduvex_runtime::task::JoinSet;
    /// use moduvex_runtime::Runtime;
    ///
    /// let rt = Runtime::builder().worker_threads(1).build()?;
    /// let mut set = JoinSet::new();
    /// set.spawn_blocking_on(|| 6 * 7, rt.handle());
    /// let out = rt.block_on(set.join_all());
    /// assert_eq!(out, [42]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(handle.spawn_blocking(f))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a future that is not `Send` on the current thread and adds it
    /// to the set; returns a handle that aborts that one task.
    ///
    /// Inside a [`LocalSet`] the task joins that set; otherwise it goes
    /// where [`spawn_local`](crate::spawn_local) puts it.
    ///
    /// # Panics
    /// Outside a `LocalSet`, if no runtime is running on this thread.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use moduvex_runtime::task::{JoinSet, LocalSet};
    ///
    /// let local = LocalSet::new();
    /// let out = moduvex_runtime::block_on(local.run_until(async {
    ///     let mut set = JoinSet::new();
    ///     let shared = Rc::new(5); // !Send: fine for local tasks
    ///     let s = shared.clone();
    ///     set.spawn_local(async move { *s + 1 });
    ///     set.join_all().await
    /// }));
    /// assert_eq!(out, [6]);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(crate::spawn_local(future))
    }

    /// Spawns a future that is not `Send` onto `local` and adds it to the
    /// set. The task runs when `local` is polled (for instance by its
    /// [`run_until`](LocalSet::run_until)).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use moduvex_runtime::task::{JoinSet, LocalSet};
    /// let local = LocalSet::new();
    /// let mut set = JoinSet::new();
    /// let rc = Rc::new(3);
    /// set.spawn_local_on(async move { *rc }, &local);
    /// let n = moduvex_runtime::block_on(local.run_until(set.join_next()));
    /// assert_eq!(n.unwrap().unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local: &LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local.spawn_local(future))
    }
}

/// Spawns each future on the current runtime, as [`JoinSet::spawn`]
/// (tokio's behaviour).
///
/// ```
/// use moduvex_runtime::task::JoinSet;
/// moduvex_runtime::block_on(async {
///     let set: JoinSet<u32> = (0..4u32).map(|i| async move { i }).collect();
///     let mut all = set.join_all().await;
///     all.sort();
///     assert_eq!(all, [0, 1, 2, 3]);
/// });
/// ```
///
/// # Panics
/// Panics if no runtime is running on this thread.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns each future on the current runtime, as [`JoinSet::spawn`].
///
/// # Panics
/// Panics if no runtime is running on this thread.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

/// Each finished task's result is an item, in completion order, as
/// [`join_next`](JoinSet::join_next) returns it; the stream ends (`None`)
/// when the set is empty. Tasks spawned into the set after that make it
/// yield again. (tokio-stream has no `JoinSet` stream.)
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::task::JoinSet;
///
/// moduvex_runtime::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 1..=3u32 {
///         set.spawn(async move { i });
///     }
///     let mut sum = 0;
///     while let Some(res) = set.next().await {
///         sum += res.expect("task failed");
///     }
///     assert_eq!(sum, 6);
///     assert!(set.is_empty());
/// });
/// ```
impl<T> futures_core::Stream for JoinSet<T> {
    type Item = Result<T, JoinError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, JoinError>>> {
        self.get_mut().poll_join_next(cx)
    }

    /// Exactly the tasks in the set now, unless more are spawned.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
