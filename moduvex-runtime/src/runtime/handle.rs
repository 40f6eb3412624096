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
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.spawn(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool.
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
