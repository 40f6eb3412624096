//! The blocking pool behind `spawn_blocking`.
//!
//! Threads are created on demand, up to a maximum, and exit after sitting
//! idle for the keep-alive time. A blocking closure runs as an ordinary
//! task (one poll), so its `JoinHandle`, panic capture and cancellation
//! are the executor's own. After shutdown the pool refuses new work: the
//! handle of a closure spawned then reports a cancelled `JoinError`.
//!
//! A runtime's pool threads enter that runtime (as tokio's do): in a
//! closure, `spawn`, `Handle::current()`, timers and `spawn_blocking` use
//! the runtime the closure was spawned from.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::builder::ThreadHooks;
use crate::executor::context;
use crate::executor::owned::OwnedTasks;
use crate::executor::task::{new_task, Notified, Schedule, Task};
use crate::executor::SchedulerHandle;
use crate::time::clock::AutoAdvanceInhibit;
use crate::JoinHandle;

/// Default maximum number of blocking threads (tokio's figure).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;
/// Default idle time after which a blocking thread exits.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

struct State {
    queue: VecDeque<Notified<Scheduler>>,
    num_threads: usize,
    num_idle: usize,
    /// Notifications sent to idle threads and not yet consumed.
    num_notify: usize,
    shutdown: bool,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for work.
    work: Condvar,
    /// Shutdown waits here for the last thread to exit.
    exited: Condvar,
    owned: OwnedTasks<Scheduler>,
    max_threads: usize,
    keep_alive: Duration,
    hooks: ThreadHooks,
    /// The runtime this pool belongs to (unset for the global pool), set
    /// once before any closure can be spawned. Pool threads enter it.
    runtime: OnceLock<SchedulerHandle>,
    /// The runtime's tokio runtime (feature `tokio-compat`), set before
    /// any closure can be spawned. Pool threads enter it too.
    #[cfg(feature = "tokio-compat")]
    tokio: OnceLock<tokio::runtime::Handle>,
}

/// A pool of threads for blocking work. Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

/// The scheduler handle of blocking tasks: "queue it on the pool".
pub(crate) struct Scheduler {
    pool: Arc<Inner>,
    /// Set for a task spawned from a current-thread runtime: its clock
    /// does not auto-advance until the task completes (tokio's rule, see
    /// `time/clock.rs`).
    inhibit: Option<AutoAdvanceInhibit>,
}

impl Schedule for Scheduler {
    fn schedule(&self, task: Notified<Scheduler>) {
        self.pool.push(task);
    }

    fn release(&self, task: &Task<Scheduler>) -> Option<Task<Scheduler>> {
        let released = self.pool.owned.remove(task);
        // After the `JoinHandle` was woken (`release` follows completion):
        // the park loop that sees the clock free to jump also sees the
        // joining task queued.
        if let Some(inhibit) = &self.inhibit {
            inhibit.release();
        }
        released
    }
}

/// A closure run once as a future.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(f())
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(self: &Arc<Self>, task: Notified<Scheduler>) {
        let mut state = self.lock();
        if state.shutdown {
            return;
        }
        state.queue.push_back(task);
        if state.num_idle > state.num_notify {
            state.num_notify += 1;
            drop(state);
            self.work.notify_one();
        } else if state.num_threads < self.max_threads {
            state.num_threads += 1;
            drop(state);
            if let Err(e) = self.spawn_thread() {
                let mut state = self.lock();
                state.num_threads -= 1;
                if state.num_threads == 0 {
                    // No thread will ever take the queue: fail loudly
                    // rather than leave every caller waiting forever.
                    panic!("moduvex-runtime: failed to spawn a blocking thread: {e}");
                }
            }
        }
    }

    fn spawn_thread(self: &Arc<Self>) -> std::io::Result<()> {
        let mut builder =
            std::thread::Builder::new().name(format!("{}-blocking", (self.hooks.name)()));
        if let Some(size) = self.hooks.stack_size {
            builder = builder.stack_size(size);
        }
        let inner = self.clone();
        builder.spawn(move || inner.run_thread())?;
        Ok(())
    }

    fn run_thread(self: Arc<Self>) {
        if let Some(start) = &self.hooks.on_start {
            start();
        }
        let entered = self.runtime.get().cloned().map(context::enter);
        let blocking = super::handle::enter_blocking(&BlockingPool {
            inner: self.clone(),
        });
        #[cfg(feature = "tokio-compat")]
        let tokio = crate::tokio_compat::enter(self.tokio.get());
        self.work_loop();
        #[cfg(feature = "tokio-compat")]
        drop(tokio);
        drop(blocking);
        drop(entered);
        self.finish_thread();
    }

    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            let deadline = Instant::now() + self.keep_alive;
            let mut timed_out = false;
            while state.num_notify == 0 && !state.shutdown && !timed_out {
                let now = Instant::now();
                if now >= deadline {
                    timed_out = true;
                    break;
                }
                state = self
                    .work
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            state.num_idle -= 1;
            if state.num_notify > 0 {
                state.num_notify -= 1;
            } else if timed_out && state.queue.is_empty() {
                break;
            }
        }
        drop(state);
    }

    fn finish_thread(&self) {
        let mut state = self.lock();
        state.num_threads -= 1;
        let last = state.num_threads == 0;
        drop(state);
        if let Some(stop) = &self.hooks.on_stop {
            stop();
        }
        if last {
            self.exited.notify_all();
        }
    }
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        hooks: ThreadHooks,
    ) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                owned: OwnedTasks::new(),
                max_threads,
                keep_alive,
                hooks,
                runtime: OnceLock::new(),
                #[cfg(feature = "tokio-compat")]
                tokio: OnceLock::new(),
            }),
        }
    }

    /// Makes this the blocking pool of `runtime`: its threads enter it.
    pub(crate) fn set_runtime(&self, runtime: SchedulerHandle) {
        let _ = self.inner.runtime.set(runtime);
    }

    /// Makes `handle` the tokio runtime of this pool's runtime: its threads,
    /// and the threads entering the runtime, enter it.
    #[cfg(feature = "tokio-compat")]
    pub(crate) fn set_tokio(&self, handle: tokio::runtime::Handle) {
        let _ = self.inner.tokio.set(handle);
    }

    /// The tokio runtime of this pool's runtime (none for the global pool).
    #[cfg(feature = "tokio-compat")]
    pub(crate) fn tokio(&self) -> Option<&tokio::runtime::Handle> {
        self.inner.tokio.get()
    }

    /// The pool used outside any `Runtime` (the free `block_on`).
    pub(crate) fn global() -> &'static BlockingPool {
        static GLOBAL: OnceLock<BlockingPool> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            BlockingPool::new(
                DEFAULT_MAX_THREADS,
                DEFAULT_KEEP_ALIVE,
                ThreadHooks::default(),
            )
        })
    }

    /// Runs `f` on a pool thread; while it is in flight, the clock behind
    /// `inhibit` (a current-thread runtime's) does not auto-advance.
    pub(crate) fn spawn<F, R>(&self, f: F, inhibit: Option<AutoAdvanceInhibit>) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let scheduler = Scheduler {
            pool: self.inner.clone(),
            inhibit,
        };
        let (task, notified, join) = new_task(BlockingTask(Some(f)), scheduler);
        if let Some(notified) = self.inner.owned.bind(task, notified) {
            self.inner.push(notified);
        }
        join
    }

    /// Refuses new work, cancels queued closures, and waits up to
    /// `timeout` for running ones to finish.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let queued = {
            let mut state = self.inner.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.inner.work.notify_all();
        drop(queued);
        self.inner.owned.close_and_shutdown_all();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = self.inner.lock();
        while state.num_threads > 0 {
            match deadline {
                None => {
                    state = self
                        .inner
                        .exited
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return;
                    }
                    state = self
                        .inner
                        .exited
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}
