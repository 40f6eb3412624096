//! `Handle`: spawn onto a runtime from anywhere.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use super::blocking::BlockingPool;
use crate::executor::current_thread::{self, OnExit};
use crate::executor::multi_thread::{self, Mode};
use crate::executor::{context, current_scheduler, SchedulerHandle};
use crate::time::clock::AutoAdvanceInhibit;
use crate::JoinHandle;

thread_local! {
    /// The blocking pool of the `Runtime` entered on this thread.
    static BLOCKING: RefCell<Option<BlockingPool>> = const { RefCell::new(None) };
}

/// Makes `pool` this thread's blocking pool until the guard drops.
pub(crate) fn enter_blocking(pool: &BlockingPool) -> BlockingRestore {
    BlockingRestore(BLOCKING.with(|b| b.borrow_mut().replace(pool.clone())))
}

pub(crate) fn current_blocking_pool() -> BlockingPool {
    BLOCKING
        .try_with(|b| b.borrow().clone())
        .ok()
        .flatten()
        .unwrap_or_else(|| BlockingPool::global().clone())
}

/// A cloneable, `Send` handle to a runtime: spawn tasks onto it from any
/// thread, inside or outside the runtime.
///
/// ```
/// use moduvex_runtime::Runtime;
///
/// let rt = Runtime::builder().worker_threads(2).build()?;
/// let handle = rt.handle().clone();
/// let sum = std::thread::spawn(move || {
///     let tasks: Vec<_> = (1..=3).map(|i| handle.spawn(async move { i })).collect();
///     handle.block_on(async {
///         let mut sum = 0;
///         for t in tasks {
///             sum += t.await.unwrap();
///         }
///         sum
///     })
/// })
/// .join()
/// .unwrap();
/// assert_eq!(sum, 6);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) scheduler: SchedulerHandle,
    pub(crate) blocking: BlockingPool,
}

/// While alive, this thread is in a runtime's context: made by
/// [`Runtime::enter`](super::Runtime::enter) and [`Handle::enter`].
///
/// Guards nest and must be dropped in the reverse order of their creation
/// (dropping one out of order panics, as tokio's do). Not `Send`: it
/// restores the state of the thread that made it.
///
/// ```compile_fail
/// fn assert_send<T: Send>(_: &T) {}
/// let rt = moduvex_runtime::Runtime::new().unwrap();
/// let guard = rt.enter();
/// assert_send(&guard);
/// ```
#[must_use = "the runtime is entered only while the guard is alive"]
pub struct EnterGuard<'a> {
    _entered: context::EnterGuard,
    _blocking: BlockingRestore,
    #[cfg(feature = "tokio-compat")]
    _tokio: Option<tokio::runtime::EnterGuard<'a>>,
    _handle: PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// Restores the previous blocking pool when dropped.
pub(crate) struct BlockingRestore(Option<BlockingPool>);

impl Drop for BlockingRestore {
    fn drop(&mut self) {
        let prev = self.0.take();
        let _ = BLOCKING.try_with(|b| *b.borrow_mut() = prev);
    }
}

/// [`Handle::try_current`] found no runtime on this thread.
///
/// ```
/// use moduvex_runtime::Handle;
///
/// let err = Handle::try_current().unwrap_err();
/// assert!(err.to_string().contains("runtime"));
/// ```
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("there is no moduvex runtime running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Panics outside a runtime; see [`try_current`](Handle::try_current).
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Handle};
    ///
    /// let rt = Builder::new_current_thread().build()?;
    /// let n = rt.block_on(async {
    ///     let handle = Handle::current();
    ///     handle.spawn(async { 9 }).await.unwrap()
    /// });
    /// assert_eq!(n, 9);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(_) => panic!(
                "`Handle::current()` called outside a moduvex runtime: call it from inside \
                 `block_on` or a task, enter a runtime with `Runtime::enter()`, or keep the \
                 `Runtime`'s `handle()`"
            ),
        }
    }

    /// The handle of the runtime running on this thread, if any.
    ///
    /// ```
    /// use moduvex_runtime::Handle;
    ///
    /// assert!(Handle::try_current().is_err(), "not inside a runtime");
    /// moduvex_runtime::block_on(async {
    ///     assert!(Handle::try_current().is_ok());
    /// });
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match current_scheduler() {
            Some(scheduler) => Ok(Handle {
                scheduler,
                blocking: current_blocking_pool(),
            }),
            None => Err(TryCurrentError(())),
        }
    }

    /// Enters the runtime's context on this thread until the guard drops;
    /// see [`Runtime::enter`](super::Runtime::enter).
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Handle};
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).build()?;
    /// let handle = rt.handle().clone();
    /// let _guard = handle.enter();
    /// assert!(Handle::try_current().is_ok());
    /// let task = moduvex_runtime::spawn(async { 1 });
    /// assert_eq!(handle.block_on(task).unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _entered: context::enter(self.scheduler.clone()),
            _blocking: enter_blocking(&self.blocking),
            #[cfg(feature = "tokio-compat")]
            _tokio: crate::tokio_compat::enter(self.blocking.tokio()),
            _handle: PhantomData,
        }
    }

    /// Runs `future` to completion on the calling thread, as tokio's
    /// `Handle::block_on`.
    ///
    /// On a current-thread runtime this drives the runtime (its tasks,
    /// timers and sockets) while it waits, exactly as
    /// [`Runtime::block_on`](super::Runtime::block_on). On a
    /// multi-threaded runtime the future runs here with the runtime's
    /// context entered, its spawned tasks run on the workers; so a thread
    /// that only holds a handle — a `spawn_blocking` closure, a
    /// [`block_in_place`](crate::task::block_in_place) closure, a plain
    /// thread — can wait for async work.
    ///
    /// ```
    /// use moduvex_runtime::Runtime;
    ///
    /// let rt = Runtime::new()?;
    /// let handle = rt.handle().clone();
    /// let n = std::thread::spawn(move || {
    ///     handle.block_on(async { moduvex_runtime::spawn(async { 5 }).await.unwrap() })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(n, 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Panics when called from a thread that is running a runtime (inside
    /// `block_on` or a task): `.await` the future instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _blocking = enter_blocking(&self.blocking);
        #[cfg(feature = "tokio-compat")]
        let _tokio = crate::tokio_compat::enter(self.blocking.tokio());
        match &self.scheduler {
            SchedulerHandle::CurrentThread(shared) => {
                current_thread::block_on_in(shared.clone(), None, OnExit::Keep, future).0
            }
            SchedulerHandle::MultiThread(shared) => multi_thread::block_on(shared, future),
        }
    }

    /// Spawns a future onto the runtime.
    ///
    /// On a current-thread runtime the task runs the next time the
    /// runtime's thread is in `block_on`.
    ///
    /// ```
    /// use moduvex_runtime::Runtime;
    ///
    /// let rt = Runtime::builder().worker_threads(1).build()?;
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { "from a plain thread" }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "from a plain thread");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.spawn(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().build()?;
    /// let task = rt.handle().spawn_blocking(|| (1..=10).sum::<u32>());
    /// assert_eq!(rt.block_on(task).unwrap(), 55);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let inhibit = match &self.scheduler {
            SchedulerHandle::CurrentThread(shared) => {
                Some(AutoAdvanceInhibit::new(shared.timers().clone()))
            }
            SchedulerHandle::MultiThread(_) => None,
        };
        self.blocking.spawn(f, inhibit)
    }

    /// The flavor of the runtime this handle belongs to.
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Flavor};
    ///
    /// let rt = Builder::new(Flavor::ThreadPerCore).worker_threads(1).build()?;
    /// assert_eq!(rt.handle().flavor(), Flavor::ThreadPerCore);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flavor(&self) -> crate::Flavor {
        match &self.scheduler {
            SchedulerHandle::CurrentThread(_) => crate::Flavor::CurrentThread,
            SchedulerHandle::MultiThread(shared) => match shared.mode() {
                Mode::ThreadPerCore => crate::Flavor::ThreadPerCore,
                Mode::WorkStealing => crate::Flavor::WorkStealing,
            },
        }
    }

    /// Number of worker threads (1 for a current-thread runtime).
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// assert_eq!(Builder::new_current_thread().build()?.handle().worker_threads(), 1);
    /// assert_eq!(Builder::new_multi_thread().worker_threads(2).build()?.handle().worker_threads(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn worker_threads(&self) -> usize {
        match &self.scheduler {
            SchedulerHandle::CurrentThread(_) => 1,
            SchedulerHandle::MultiThread(shared) => shared.workers(),
        }
    }

    /// Starts one task per worker, `make(worker_index)` homed on each —
    /// on a work-stealing runtime too, these tasks never migrate. A server
    /// uses this to run one accept loop per worker on its own
    /// `SO_REUSEPORT` listener. On a current-thread runtime `make(0)` runs
    /// once.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(2).build()?;
    /// let tasks = rt.handle().spawn_on_each_worker(|i| async move { i * 10 });
    /// let mut out = rt.block_on(async {
    ///     let mut out = Vec::new();
    ///     for t in tasks {
    ///         out.push(t.await.unwrap());
    ///     }
    ///     out
    /// });
    /// out.sort();
    /// assert_eq!(out, [0, 10]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_on_each_worker<M, F>(&self, make: M) -> Vec<JoinHandle<F::Output>>
    where
        M: Fn(usize) -> F,
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.scheduler {
            SchedulerHandle::CurrentThread(shared) => vec![shared.spawn(make(0))],
            SchedulerHandle::MultiThread(shared) => (0..shared.workers())
                .map(|i| shared.spawn_on(i, make(i)))
                .collect(),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("worker_threads", &self.worker_threads())
            .finish_non_exhaustive()
    }
}
