//! Runtimes you build, keep and shut down: [`Runtime`], [`Builder`],
//! [`Handle`] and the blocking pool.
//!
//! | flavor | threads | where a task runs |
//! |---|---|---|
//! | [`Flavor::CurrentThread`] | the caller of `block_on` | there |
//! | [`Flavor::WorkStealing`] (default, tokio's `multi_thread`) | N workers | any worker; idle workers steal |
//! | [`Flavor::ThreadPerCore`] | one worker per core | the worker it was spawned on, always |
//!
//! Choose thread-per-core when the program itself spreads the work: one
//! accept loop per worker on its own `SO_REUSEPORT` listener
//! ([`Handle::spawn_on_each_worker`]), each connection staying on the core
//! that accepted it (no migration, caches stay warm, no cross-core
//! queues). Anything else — in particular a single accept loop spawning a
//! task per connection, tokio-style — wants work-stealing, where idle
//! workers take tasks from busy ones; on thread-per-core every such task
//! would stay on the acceptor's worker.
//!
//! A thread that is not running a runtime can still *enter* one
//! ([`Runtime::enter`], [`Handle::enter`]; the runtime's blocking threads
//! are entered for their whole life): `spawn`, [`Handle::current`] and
//! timers then use that runtime, and [`Handle::block_on`] waits for async
//! work there. [`block_in_place`] lets a task block its worker while the
//! runtime's other tasks go on.
//!
//! Each worker owns its reactor, timer wheel and run queues. Dropping a
//! runtime (or [`Runtime::shutdown_timeout`]) stops the workers, drops
//! every unfinished task exactly once, joins the threads and closes the
//! descriptors the runtime opened. A runtime dropped by one of its own
//! tasks cannot join the thread it runs on: it shuts down in the
//! background instead, as [`Runtime::shutdown_background`] does.
//!
//! ```
//! use moduvex_runtime::{Flavor, Runtime};
//!
//! let rt = Runtime::builder().flavor(Flavor::WorkStealing).worker_threads(2).build()?;
//! let task = rt.spawn(async { "on a worker" });
//! assert_eq!(rt.block_on(task).unwrap(), "on a worker");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle as ThreadHandle;
use std::time::{Duration, Instant};

mod blocking;
mod builder;
mod handle;

#[cfg(feature = "tokio-compat")]
pub(crate) use builder::DEFAULT_THREAD_NAME;
pub use builder::{Builder, MIN_THREAD_STACK_SIZE};
pub use handle::{EnterGuard, Handle, TryCurrentError};

use crate::executor::current_thread::{self, OnExit};
use crate::executor::multi_thread::{self, Mode};
use crate::executor::park::Parker;
use crate::executor::SchedulerHandle;
use crate::time::clock::AutoAdvanceInhibit;
use crate::JoinHandle;
pub(crate) use blocking::BlockingPool;
pub(crate) use builder::ThreadHooks;

/// How a runtime schedules its tasks.
///
/// ```
/// use moduvex_runtime::{Builder, Flavor};
///
/// let rt = Builder::new(Flavor::CurrentThread).build()?;
/// assert_eq!(rt.handle().flavor(), Flavor::CurrentThread);
/// let rt = Builder::new(Flavor::WorkStealing).worker_threads(2).build()?;
/// assert_eq!(rt.handle().flavor(), Flavor::WorkStealing);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Everything runs on the thread that calls `block_on`.
    CurrentThread,
    /// One worker per core; a task stays on the worker that runs it.
    /// Opt-in: for programs that place their work per core themselves
    /// (see the module docs).
    ThreadPerCore,
    /// N workers with local queues; idle workers steal. The default for a
    /// multi-threaded runtime, as tokio's `multi_thread`.
    WorkStealing,
}

pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    pub(crate) workers: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) event_capacity: usize,
    pub(crate) hooks: ThreadHooks,
    pub(crate) sched: crate::executor::SchedConfig,
    pub(crate) start_paused: bool,
}

/// Counts worker threads that have left their loop.
struct Exits {
    count: Mutex<usize>,
    cv: Condvar,
}

/// Counts its worker thread's exit when dropped: when the thread returns,
/// and when it unwinds (a panic in the worker loop or a hook), so
/// `Runtime::drop` never waits for a thread that is gone.
struct ExitGuard(Arc<Exits>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        *self.0.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.cv.notify_all();
    }
}

enum Kind {
    CurrentThread {
        shared: current_thread::Handle,
        parker: Mutex<Option<Parker>>,
    },
    MultiThread {
        shared: Arc<multi_thread::Shared>,
        threads: Vec<ThreadHandle<()>>,
        exits: Arc<Exits>,
    },
}

/// A runtime: its scheduler, its worker threads and its blocking pool.
///
/// ```
/// use moduvex_runtime::{Flavor, Runtime};
///
/// let rt = Runtime::builder().flavor(Flavor::WorkStealing).worker_threads(2).build()?;
/// let answer = rt.block_on(async {
///     let task = moduvex_runtime::spawn(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    kind: Kind,
    handle: Handle,
    /// The tokio runtime its threads enter (feature `tokio-compat`).
    #[cfg(feature = "tokio-compat")]
    tokio: Option<crate::tokio_compat::Background>,
    done: bool,
}

impl Runtime {
    /// A work-stealing runtime with one worker per available core (as
    /// tokio's `Runtime::new`, a `multi_thread` runtime).
    ///
    /// ```
    /// use moduvex_runtime::{Flavor, Runtime};
    ///
    /// let rt = Runtime::new()?;
    /// assert_eq!(rt.handle().flavor(), Flavor::WorkStealing);
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 + 1 })).unwrap(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new(Flavor::WorkStealing).build()
    }

    /// A builder, defaulting to [`Flavor::WorkStealing`]; pick
    /// [`Flavor::ThreadPerCore`] with [`Builder::flavor`] (see the module
    /// docs for when).
    ///
    /// ```
    /// use moduvex_runtime::{Flavor, Runtime};
    ///
    /// let rt = Runtime::builder().flavor(Flavor::ThreadPerCore).worker_threads(2).build()?;
    /// assert_eq!(rt.handle().worker_threads(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new(Flavor::WorkStealing)
    }

    pub(crate) fn from_config(config: Config) -> io::Result<Runtime> {
        let blocking = BlockingPool::new(
            config.max_blocking_threads,
            config.keep_alive,
            config.hooks.clone(),
        );
        let mode = match config.flavor {
            Flavor::CurrentThread => {
                let shared = current_thread::Shared::with_config(config.sched);
                if config.start_paused {
                    // A new clock is running: pausing it cannot be refused.
                    let _ = shared.timers().clock().pause();
                }
                blocking.set_runtime(SchedulerHandle::CurrentThread(shared.clone()));
                let handle = Handle {
                    scheduler: SchedulerHandle::CurrentThread(shared.clone()),
                    blocking,
                };
                #[cfg(feature = "tokio-compat")]
                let tokio = Some(crate::tokio_compat::Background::for_runtime(
                    &handle,
                    &config.hooks,
                )?);
                return Ok(Runtime {
                    handle,
                    kind: Kind::CurrentThread {
                        shared,
                        parker: Mutex::new(None),
                    },
                    #[cfg(feature = "tokio-compat")]
                    tokio,
                    done: false,
                });
            }
            Flavor::ThreadPerCore => Mode::ThreadPerCore,
            Flavor::WorkStealing => Mode::WorkStealing,
        };
        let (shared, seeds) = multi_thread::Shared::new(mode, config.workers, config.sched.clone());
        blocking.set_runtime(SchedulerHandle::MultiThread(shared.clone()));
        let handle = Handle {
            scheduler: SchedulerHandle::MultiThread(shared.clone()),
            blocking,
        };
        // Before the workers start: they enter it for their whole life.
        #[cfg(feature = "tokio-compat")]
        let tokio = match crate::tokio_compat::Background::for_runtime(&handle, &config.hooks) {
            Ok(tokio) => Some(tokio),
            Err(e) => return Err(abort_start(&shared, Vec::new(), e)),
        };
        let blocking = &handle.blocking;
        let exits = Arc::new(Exits {
            count: Mutex::new(0),
            cv: Condvar::new(),
        });
        let mut threads = Vec::with_capacity(seeds.len());
        // Each worker reports whether it could open its reactor before
        // `build` returns, so a lack of descriptors is an error here rather
        // than a dead worker later.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        for seed in seeds {
            let mut builder = std::thread::Builder::new().name((config.hooks.name)());
            if let Some(size) = config.hooks.stack_size {
                builder = builder.stack_size(size);
            }
            let (shared2, exits2, hooks, pool) = (
                shared.clone(),
                exits.clone(),
                config.hooks.clone(),
                blocking.clone(),
            );
            let capacity = config.event_capacity;
            let ready = ready_tx.clone();
            let spawned = builder.spawn(move || {
                let _exit = ExitGuard(exits2);
                let opened = crate::reactor::init_thread_reactor();
                let failed = opened.is_err();
                let _ = ready.send(opened);
                drop(ready);
                if failed {
                    return;
                }
                if let Some(start) = &hooks.on_start {
                    start();
                }
                {
                    let _blocking = handle::enter_blocking(&pool);
                    #[cfg(feature = "tokio-compat")]
                    let _tokio = crate::tokio_compat::enter(pool.tokio());
                    multi_thread::run_worker(shared2, seed, capacity);
                }
                if let Some(stop) = &hooks.on_stop {
                    stop();
                }
            });
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => return Err(abort_start(&shared, threads, e)),
            }
        }
        drop(ready_tx);
        for _ in 0..threads.len() {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                // The OS error as is (`EMFILE`, ...), so callers can match it.
                Ok(Err(e)) => return Err(abort_start(&shared, threads, e)),
                // A worker died before reporting (an `on_thread_start` hook
                // cannot run before the report, so this is not reached).
                Err(_) => break,
            }
        }
        Ok(Runtime {
            handle,
            kind: Kind::MultiThread {
                shared,
                threads,
                exits,
            },
            #[cfg(feature = "tokio-compat")]
            tokio,
            done: false,
        })
    }

    /// Runs `future` to completion on the calling thread.
    ///
    /// Tasks it spawns run on the runtime's workers (on the calling thread
    /// for a current-thread runtime, where they also survive until the
    /// next `block_on` or the runtime's drop). Sockets and timers created
    /// by `future` itself are driven by the calling thread while it waits.
    ///
    /// # Panics
    /// Panics when called from inside a runtime ("cannot block the runtime
    /// from within an async context"): `.await` the future instead.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().build()?;
    /// let n = rt.block_on(async {
    ///     let task = moduvex_runtime::spawn(async { 20 });
    ///     task.await.unwrap() + 1
    /// });
    /// assert_eq!(n, 21);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _blocking = handle::enter_blocking(&self.handle.blocking);
        #[cfg(feature = "tokio-compat")]
        let _tokio = crate::tokio_compat::enter(self.handle.blocking.tokio());
        match &self.kind {
            Kind::CurrentThread { shared, parker } => {
                let spare = parker.lock().unwrap_or_else(|e| e.into_inner()).take();
                let (out, _shared, spare) =
                    current_thread::block_on_in(shared.clone(), spare, OnExit::Keep, future);
                *parker.lock().unwrap_or_else(|e| e.into_inner()) = spare;
                out
            }
            Kind::MultiThread { shared, .. } => multi_thread::block_on(shared, future),
        }
    }

    /// Enters the runtime's context on this thread until the guard drops
    /// (tokio's `Runtime::enter`): [`spawn`](crate::spawn),
    /// [`Handle::current`], timers and sockets made meanwhile use this
    /// runtime, without running it here.
    ///
    /// ```
    /// use moduvex_runtime::{Handle, Runtime};
    ///
    /// let rt = Runtime::new()?;
    /// let task = {
    ///     let _guard = rt.enter();
    ///     assert_eq!(Handle::current().worker_threads(), rt.handle().worker_threads());
    ///     moduvex_runtime::spawn(async { 7 })
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), 7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Guards nest; dropping one while a guard made after it is still alive
    /// panics, as tokio's do.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Spawns a future onto the runtime.
    ///
    /// ```
    /// use moduvex_runtime::Runtime;
    ///
    /// let rt = Runtime::builder().worker_threads(1).build()?;
    /// // Runs on the worker, even before anyone awaits it.
    /// let task = rt.spawn(async { "done" });
    /// assert_eq!(rt.block_on(task).unwrap(), "done");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().build()?;
    /// let task = rt.spawn_blocking(|| std::thread::current().id());
    /// let there = rt.block_on(task).unwrap();
    /// assert_ne!(there, std::thread::current().id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to spawn onto this runtime from anywhere.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).build()?;
    /// let handle = rt.handle().clone();
    /// let n = std::thread::spawn(move || handle.block_on(async { 3 })).join().unwrap();
    /// assert_eq!(n, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Stops the runtime, waiting at most `timeout` for the workers and
    /// blocking threads to finish; threads still busy then are left to
    /// finish in the background.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::Runtime;
    ///
    /// let rt = Runtime::builder().worker_threads(1).build()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// rt.spawn_blocking(move || tx.send(()).unwrap());
    /// rx.recv().unwrap();
    /// // The blocking thread is idle: it is gone well within the deadline.
    /// rt.shutdown_timeout(Duration::from_secs(5));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Stops the runtime without waiting for its threads.
    ///
    /// ```
    /// use moduvex_runtime::Runtime;
    ///
    /// let rt = Runtime::builder().worker_threads(1).build()?;
    /// let (release, blocked) = std::sync::mpsc::channel::<()>();
    /// rt.spawn_blocking(move || blocked.recv().ok());
    /// // Returns at once, although the blocking closure has not finished.
    /// rt.shutdown_background();
    /// drop(release); // it finishes in the background
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_background(mut self) {
        self.shutdown(Some(Duration::ZERO));
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let mut deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        if let Kind::MultiThread { shared, .. } = &self.kind {
            if shared.is_current_worker() {
                // Dropped by one of its own tasks: this worker cannot wait
                // for itself. Stop in the background; this task is
                // cancelled at its next await, and the worker then exits.
                deadline = Some(Instant::now());
            }
        }
        match &mut self.kind {
            Kind::CurrentThread { shared, .. } => shared.shutdown(),
            Kind::MultiThread {
                shared,
                threads,
                exits,
            } => {
                shared.begin_shutdown();
                let all_exited = wait_for_exits(exits, threads.len(), deadline);
                if all_exited {
                    for t in threads.drain(..) {
                        let _ = t.join();
                    }
                } else {
                    // Detach: the stragglers exit when their task returns.
                    threads.clear();
                }
                shared.finish_shutdown();
            }
        }
        // After the workers: moduvex tasks holding tokio sockets or timers
        // have dropped them while tokio still ran.
        #[cfg(feature = "tokio-compat")]
        if let Some(tokio) = &mut self.tokio {
            tokio.shutdown(deadline.map(|d| d.saturating_duration_since(Instant::now())));
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        self.handle.blocking.shutdown(left);
    }
}

/// Stops the workers already started when `build` fails, and returns `e`.
fn abort_start(
    shared: &Arc<multi_thread::Shared>,
    threads: Vec<ThreadHandle<()>>,
    e: io::Error,
) -> io::Error {
    shared.begin_shutdown();
    for t in threads {
        let _ = t.join();
    }
    shared.finish_shutdown();
    e
}

fn wait_for_exits(exits: &Exits, n: usize, deadline: Option<Instant>) -> bool {
    let mut count = exits.count.lock().unwrap_or_else(|e| e.into_inner());
    while *count < n {
        match deadline {
            None => count = exits.cv.wait(count).unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return false;
                }
                count = exits
                    .cv
                    .wait_timeout(count, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
    true
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if crate::executor::drives_runtime() && !std::thread::panicking() {
            // Waiting for the workers here would block a thread that drives
            // tasks (or, from one of this runtime's own tasks, wait for
            // itself). Stop without waiting, then say what to do, as tokio
            // does.
            self.shutdown(Some(Duration::ZERO));
            panic!(
                "Cannot drop a runtime in a context where blocking is not allowed. This \
                 happens when a runtime is dropped from within an asynchronous context: drop \
                 it after `block_on` returns, or call `shutdown_background()`, which does not \
                 wait (the runtime was shut down in the background)"
            );
        }
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match &self.kind {
            Kind::CurrentThread { .. } => "CurrentThread",
            Kind::MultiThread { .. } => "MultiThread",
        };
        f.debug_struct("Runtime")
            .field("flavor", &flavor)
            .field("worker_threads", &self.handle.worker_threads())
            .finish()
    }
}

/// Runs a blocking closure on a thread of the current runtime's blocking
/// pool (or a process-wide pool outside any `Runtime`), so it does not
/// stall the runtime's workers.
///
/// A panic in `f` is returned as a [`JoinError`](crate::JoinError); after
/// the runtime shut down the handle reports cancellation.
///
/// `f` runs with its runtime entered (as in tokio): inside it
/// [`spawn`](crate::spawn), [`Handle::current`] and timers use that
/// runtime, and [`Handle::block_on`] waits for async work.
///
/// ```
/// let n = moduvex_runtime::block_on(async {
///     moduvex_runtime::spawn_blocking(|| std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0))
///         .await
///         .unwrap()
/// });
/// # let _ = n;
/// ```
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    handle::current_blocking_pool().spawn(f, AutoAdvanceInhibit::for_current())
}

/// Runs the blocking closure `f` on this thread without stalling the
/// runtime's other tasks (tokio's `task::block_in_place`).
///
/// On a work-stealing worker the worker first hands its queued tasks to
/// the runtime and a thread of the blocking pool takes over its role until
/// `f` returns: it runs the runtime's tasks (with one worker, it *is* the
/// runtime meanwhile) and delivers the blocked worker's timers and
/// sockets. Then the calling task goes on where it was. Unlike
/// [`spawn_blocking`], `f` need not be `Send` or `'static`.
///
/// While `f` runs, this thread has left the scheduler but kept the runtime
/// entered: [`spawn`](crate::spawn) and [`Handle::current`] work, and so
/// does [`Handle::block_on`] (the tokio pattern for calling async code
/// from `f`).
///
/// | where | what happens |
/// |---|---|
/// | a work-stealing worker | hand-off as above |
/// | a thread-per-core worker | `f` runs in place: the tasks homed on this worker never migrate, so they wait for it; the other workers keep running theirs (a deliberate difference: thread-per-core has no tokio counterpart) |
/// | `Runtime::block_on` of a multi-thread runtime, a blocking thread, no runtime | `f` runs in place (no task waits for this thread) |
/// | a current-thread runtime | panics, as tokio's |
///
/// Tasks homed on a blocked work-stealing worker (`spawn_local` and
/// `spawn_on_each_worker` tasks) wait for it too.
///
/// ```
/// use moduvex_runtime::{task, Runtime};
///
/// let rt = Runtime::builder().worker_threads(1).build()?;
/// let answer = rt.block_on(rt.spawn(async {
///     let (tx, rx) = std::sync::mpsc::channel();
///     // Another task of this one-worker runtime sends while we block.
///     moduvex_runtime::spawn(async move { tx.send(42).unwrap() });
///     task::block_in_place(|| rx.recv().unwrap())
/// }));
/// assert_eq!(answer.unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
/// Panics on a current-thread runtime ("can call blocking only when
/// running on the multi-threaded runtime"): use
/// `spawn_blocking(f).await` there.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    crate::executor::block_in_place(f, |job| {
        // Detached: the relief ends when `f` returns (or at shutdown). A
        // multi-thread runtime's clock never pauses: nothing to inhibit.
        drop(handle::current_blocking_pool().spawn(job, None));
    })
}
