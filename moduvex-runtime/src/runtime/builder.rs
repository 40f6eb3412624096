//! `Builder`: configure and build a [`Runtime`](super::Runtime).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::blocking::{DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};
use super::{Flavor, Runtime};
use crate::executor::SchedConfig;

type Hook = Arc<dyn Fn() + Send + Sync + 'static>;
type NameFn = Arc<dyn Fn() -> String + Send + Sync + 'static>;

/// The smallest [`Builder::thread_stack_size`] a runtime accepts, in bytes.
///
/// ```
/// use moduvex_runtime::runtime::MIN_THREAD_STACK_SIZE;
/// use moduvex_runtime::Builder;
///
/// let too_small = Builder::new_multi_thread().thread_stack_size(MIN_THREAD_STACK_SIZE - 1).build();
/// assert_eq!(too_small.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
/// ```
pub const MIN_THREAD_STACK_SIZE: usize = 128 * 1024;

/// The name of a runtime's threads unless [`Builder::thread_name`] says
/// otherwise.
pub(crate) const DEFAULT_THREAD_NAME: &str = "moduvex-runtime-worker";

/// Thread settings shared by workers and blocking threads.
#[derive(Clone)]
pub(crate) struct ThreadHooks {
    pub(crate) name: NameFn,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<Hook>,
    pub(crate) on_stop: Option<Hook>,
}

impl Default for ThreadHooks {
    fn default() -> Self {
        ThreadHooks {
            name: Arc::new(|| DEFAULT_THREAD_NAME.to_string()),
            stack_size: None,
            on_start: None,
            on_stop: None,
        }
    }
}

/// Builds a [`Runtime`] with custom settings.
///
/// [`Runtime::builder`] and [`Builder::new_multi_thread`] start from
/// [`Flavor::WorkStealing`] (tokio's `multi_thread`); choose
/// [`Flavor::ThreadPerCore`] for a program that places its work on each
/// core itself (one `SO_REUSEPORT` accept loop per worker), see the
/// [`runtime`](super) module docs.
///
/// ```
/// use moduvex_runtime::{Builder, Flavor};
///
/// let rt = Builder::new(Flavor::WorkStealing)
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    keep_alive: Duration,
    event_capacity: usize,
    hooks: ThreadHooks,
    sched: SchedConfig,
    start_paused: bool,
}

impl Builder {
    /// A builder for the given flavor with default settings.
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Flavor};
    ///
    /// let rt = Builder::new(Flavor::WorkStealing).worker_threads(2).build()?;
    /// assert_eq!(rt.handle().worker_threads(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            max_blocking_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            event_capacity: crate::executor::park::DEFAULT_EVENT_CAPACITY,
            hooks: ThreadHooks::default(),
            sched: SchedConfig::default(),
            start_paused: false,
        }
    }

    /// A current-thread runtime builder (tokio's name).
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Flavor};
    ///
    /// let rt = Builder::new_current_thread().build()?;
    /// assert_eq!(rt.handle().flavor(), Flavor::CurrentThread);
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// A work-stealing multi-threaded runtime builder (tokio's name).
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Flavor};
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).build()?;
    /// assert_eq!(rt.handle().flavor(), Flavor::WorkStealing);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::WorkStealing)
    }

    /// Sets the scheduling flavor.
    ///
    /// ```
    /// use moduvex_runtime::{Builder, Flavor};
    ///
    /// let rt = Builder::new_multi_thread().flavor(Flavor::CurrentThread).build()?;
    /// assert_eq!(rt.handle().flavor(), Flavor::CurrentThread);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flavor(&mut self, flavor: Flavor) -> &mut Self {
        self.flavor = flavor;
        self
    }

    /// Number of worker threads (multi-threaded flavors). Defaults to the
    /// number of available cores. Zero makes `build` fail.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(3).build()?;
    /// assert_eq!(rt.handle().worker_threads(), 3);
    /// assert!(Builder::new_multi_thread().worker_threads(0).build().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Name of the runtime's threads.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).thread_name("app-worker").build()?;
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().map(str::to_owned)
    /// }));
    /// assert_eq!(name.unwrap().as_deref(), Some("app-worker"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.hooks.name = Arc::new(move || name.clone());
        self
    }

    /// A function producing the name of each new runtime thread.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use moduvex_runtime::Builder;
    ///
    /// static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// let rt = Builder::new_current_thread()
    ///     .thread_name_fn(|| format!("blocking-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    ///     .build()?;
    /// let name = rt.block_on(rt.spawn_blocking(|| std::thread::current().name().map(str::to_owned)));
    /// assert!(name.unwrap().unwrap().starts_with("blocking-"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.hooks.name = Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads, in bytes (default: the
    /// standard library's, 2 MiB). [`build`](Self::build) refuses less than
    /// [`MIN_THREAD_STACK_SIZE`]: a worker's own frames need about half of
    /// that before any task runs.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).thread_stack_size(4 << 20).build()?;
    /// // A task with a 1 MiB local fits on the 4 MiB worker stack.
    /// let len = rt.block_on(rt.spawn(async { std::hint::black_box([0u8; 1 << 20]).len() }));
    /// assert_eq!(len.unwrap(), 1 << 20);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.hooks.stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each runtime thread (workers and blocking threads) when
    /// it starts.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use moduvex_runtime::Builder;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let count = started.clone();
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         count.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// assert!(started.load(Ordering::SeqCst) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.on_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each runtime thread just before it exits.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use moduvex_runtime::Builder;
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let count = stopped.clone();
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .on_thread_stop(move || {
    ///         count.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// rt.shutdown_timeout(Duration::from_secs(5));
    /// assert_eq!(stopped.load(Ordering::SeqCst), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.on_stop = Some(Arc::new(f));
        self
    }

    /// Maximum number of threads for `spawn_blocking` (default 512).
    /// Zero makes `build` fail.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().max_blocking_threads(1).build()?;
    /// // One thread: the two closures run one after the other, on the same thread.
    /// let a = rt.spawn_blocking(|| std::thread::current().id());
    /// let b = rt.spawn_blocking(|| std::thread::current().id());
    /// let (a, b) = rt.block_on(async { (a.await.unwrap(), b.await.unwrap()) });
    /// assert_eq!(a, b);
    /// assert!(Builder::new_current_thread().max_blocking_threads(0).build().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before exiting
    /// (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().thread_keep_alive(Duration::from_millis(100)).build()?;
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 4)).unwrap(), 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.keep_alive = d;
        self
    }

    /// Events one reactor poll can return per worker (default 1024).
    /// Zero makes `build` fail.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().event_capacity(64).build()?;
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// assert!(Builder::new_current_thread().event_capacity(0).build().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn event_capacity(&mut self, n: usize) -> &mut Self {
        self.event_capacity = n;
        self
    }

    /// Runs `f` on each worker thread (and on the thread driving a
    /// current-thread runtime in `block_on`) just before it parks — blocks
    /// waiting for I/O, a timer or a wake-up — as tokio's
    /// `on_thread_park`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counter = parks.clone();
    /// let rt = moduvex_runtime::Builder::new_current_thread()
    ///     .on_thread_park(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// rt.block_on(async {
    ///     moduvex_runtime::time::sleep(std::time::Duration::from_millis(1)).await
    /// });
    /// assert!(parks.load(Ordering::SeqCst) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.sched.on_park = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each worker thread (and on the thread driving a
    /// current-thread runtime) right after it wakes from a park, as tokio's
    /// `on_thread_unpark`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let unparks = Arc::new(AtomicUsize::new(0));
    /// let counter = unparks.clone();
    /// let rt = moduvex_runtime::Builder::new_current_thread()
    ///     .on_thread_unpark(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// rt.block_on(async { moduvex_runtime::time::sleep(std::time::Duration::from_millis(1)).await });
    /// assert!(unparks.load(Ordering::SeqCst) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.sched.on_unpark = Some(Arc::new(f));
        self
    }

    /// How many tasks a worker runs between two looks at the runtime-wide
    /// (global) queue before its own, so work queued from other threads is
    /// not starved by local work (default 31, tokio's figure). On a
    /// current-thread runtime: between two looks at the queue of tasks
    /// woken from other threads.
    ///
    /// # Panics
    /// Panics if `n` is 0, as tokio's does.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).global_queue_interval(8).build()?;
    /// assert_eq!(rt.block_on(rt.spawn(async { 8 })).unwrap(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, n: u32) -> &mut Self {
        assert!(
            n > 0,
            "global_queue_interval must be greater than 0: `Builder::global_queue_interval(0)`              would never look at the global queue"
        );
        self.sched.global_queue_interval = n;
        self
    }

    /// How many tasks a scheduler thread runs between two non-blocking
    /// polls of its reactor and timers while it always has work (default
    /// 61, tokio's figure): lower favours I/O latency, higher throughput.
    ///
    /// # Panics
    /// Panics if `n` is 0.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().event_interval(16).build()?;
    /// assert_eq!(rt.block_on(async { 16 }), 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn event_interval(&mut self, n: u32) -> &mut Self {
        assert!(
            n > 0,
            "event_interval must be greater than 0: `Builder::event_interval(0)` would never              poll for I/O events between tasks"
        );
        self.sched.event_interval = n;
        self
    }

    /// Whether the runtime's clock starts paused (default: no), as if its
    /// first task called [`time::pause`](crate::time::pause): timers then
    /// complete as soon as nothing else can run (auto-advance), and
    /// [`time::advance`](crate::time::advance) moves the clock. For tests.
    ///
    /// Only a current-thread runtime's clock can pause (as tokio's):
    /// [`build`](Self::build) fails with `InvalidInput` for another flavor
    /// given `start_paused(true)` (tokio's `build` panics there instead).
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::{time, Builder};
    ///
    /// let rt = Builder::new_current_thread().start_paused(true).build()?;
    /// rt.block_on(async {
    ///     let start = time::Instant::now();
    ///     time::sleep(Duration::from_secs(3600)).await; // at once
    ///     assert!(start.elapsed() >= Duration::from_secs(3600));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Self {
        self.start_paused = start_paused;
        self
    }

    /// Accepted for tokio compatibility: I/O and timers are always on.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// // Code written for tokio's builder compiles unchanged.
    /// let rt = Builder::new_current_thread().enable_all().build()?;
    /// rt.block_on(async { moduvex_runtime::time::sleep(std::time::Duration::from_millis(1)).await });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility: the I/O driver is always on (every
    /// runtime thread has its reactor), so this changes nothing.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// // Code written for tokio's builder compiles unchanged.
    /// let rt = Builder::new_current_thread().enable_io().build()?;
    /// rt.block_on(async { moduvex_runtime::time::sleep(std::time::Duration::from_millis(1)).await });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility: timers are always on, so this
    /// changes nothing.
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// // Code written for tokio's builder compiles unchanged.
    /// let rt = Builder::new_current_thread().enable_time().build()?;
    /// rt.block_on(async { moduvex_runtime::time::sleep(std::time::Duration::from_millis(1)).await });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Builds the runtime, starting its worker threads.
    ///
    /// Fails with `InvalidInput` for a zero worker, blocking-thread or
    /// event count or a stack below [`MIN_THREAD_STACK_SIZE`], and with the
    /// OS error if a worker thread cannot be spawned or cannot open its
    /// reactor (out of threads or file descriptors).
    ///
    /// ```
    /// use moduvex_runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(2).build()?;
    /// assert_eq!(rt.block_on(rt.spawn(async { 2 })).unwrap(), 2);
    /// let err = Builder::new_multi_thread().worker_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let invalid = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("moduvex-runtime Builder: {what}"),
            )
        };
        if self.worker_threads == Some(0) {
            return Err(invalid(
                "worker_threads(0): a runtime needs at least one worker thread to run tasks",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(invalid(
                "max_blocking_threads(0): spawn_blocking needs at least one thread",
            ));
        }
        if let Some(size) = self.hooks.stack_size.filter(|&s| s < MIN_THREAD_STACK_SIZE) {
            return Err(invalid(&format!(
                "thread_stack_size({size}): below the {MIN_THREAD_STACK_SIZE}-byte minimum \
                 a runtime thread needs"
            )));
        }
        if self.event_capacity == 0 {
            return Err(invalid(
                "event_capacity(0): a reactor poll must return at least one event",
            ));
        }
        if self.start_paused && self.flavor != Flavor::CurrentThread {
            return Err(invalid(&format!(
                "start_paused(true) on a {:?} runtime: only a current-thread runtime's clock \
                 can be paused; use `Builder::new_current_thread().start_paused(true)`",
                self.flavor
            )));
        }
        let workers = self
            .worker_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Runtime::from_config(super::Config {
            flavor: self.flavor,
            workers,
            max_blocking_threads: self.max_blocking_threads,
            keep_alive: self.keep_alive,
            event_capacity: self.event_capacity,
            hooks: self.hooks.clone(),
            sched: self.sched.clone(),
            start_paused: self.start_paused,
        })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("event_capacity", &self.event_capacity)
            .field("event_interval", &self.sched.event_interval)
            .field("global_queue_interval", &self.sched.global_queue_interval)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
