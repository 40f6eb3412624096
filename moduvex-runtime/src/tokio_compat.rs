//! Feature `tokio-compat`: crates bound to tokio's runtime (reqwest,
//! tower-http's timeouts, `axum::serve`, axum's WebSocket upgrade,
//! `tokio::spawn`, `tokio::time`, `tokio::net`, ...) run inside moduvex
//! tasks as they are, with no wrapper.
//!
//! The one idea: every moduvex runtime owns a *background tokio runtime*
//! (a tokio current-thread runtime with its I/O and time drivers), driven
//! by one thread of its own, and every thread that is in the moduvex
//! runtime is also in the tokio runtime's context. tokio's free functions
//! (`tokio::spawn`, `tokio::time::sleep`, `tokio::net::TcpStream::connect`,
//! `tokio::runtime::Handle::current`, ...) look for that context and find
//! it; the tokio thread runs the tokio tasks and drives tokio's sockets and
//! timers, and wakes the moduvex tasks that wait on them with their own
//! wakers. The other way round, the tokio thread has the moduvex runtime
//! entered for its whole life, so a moduvex timer, socket or
//! [`spawn`](crate::spawn) used inside a tokio task (an axum WebSocket
//! handler, a task started by `tokio::spawn`) works too.
//!
//! ```
//! # #[cfg(feature = "tokio-compat")] {
//! use std::time::Duration;
//!
//! let rt = moduvex_runtime::Runtime::builder().worker_threads(2).build()?;
//! let out = rt.block_on(async {
//!     // A tokio task, run by the runtime's tokio thread...
//!     let task = tokio::spawn(async {
//!         tokio::time::sleep(Duration::from_millis(1)).await;
//!         // ...that uses moduvex's timers and spawns a moduvex task.
//!         moduvex_runtime::time::sleep(Duration::from_millis(1)).await;
//!         moduvex_runtime::spawn(async { 40 }).await.unwrap() + 2
//!     });
//!     task.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Which threads are in the tokio context
//!
//! | thread | in the tokio context |
//! |---|---|
//! | a worker of a multi-thread runtime | for its whole life |
//! | the caller of `Runtime::block_on` / `Handle::block_on` | while inside it |
//! | a blocking-pool thread of a `Runtime` (`spawn_blocking`, `block_in_place` relief) | for its whole life |
//! | a thread inside `Runtime::enter` / `Handle::enter` | while the guard lives |
//! | the caller of the free [`block_on`](crate::block_on) | while inside it (that call's own tokio runtime) |
//! | the tokio thread, named like the runtime's threads plus `-tokio` | always; it has the moduvex runtime entered too |
//!
//! The guards are tokio's `Handle::enter` guards, made and dropped in
//! nested order on each thread (tokio's rule), so a program that enters a
//! tokio runtime of its own inside a moduvex task sees its own runtime
//! until it leaves it again.
//!
//! # Lifetime
//!
//! A [`Runtime`](crate::Runtime)'s tokio runtime starts when the runtime
//! is built (before any of its threads runs user code, so the first
//! `tokio::spawn` already finds it) and stops when the runtime shuts down:
//! after the moduvex workers have stopped (so moduvex tasks holding tokio
//! sockets drop them while tokio still runs), the tokio thread drops every
//! unfinished tokio task and waits for tokio's blocking threads (bounded by
//! `shutdown_timeout`, not at all by `shutdown_background`), then exits
//! and is joined; no thread is left behind. The free
//! [`block_on`](crate::block_on) is a runtime of its own for each call, and
//! so is its tokio runtime: tokio tasks it spawned and did not finish are
//! dropped when it returns, as its moduvex tasks are.
//!
//! It is not started lazily on first use: tokio's free functions find a
//! runtime only through a context entered beforehand, and the context needs
//! the runtime built.
//!
//! # Cost
//!
//! Measured by `ecosystem/examples/compat_cost.rs` in release, built with
//! and without the feature, on 2 cores shared with other work (medians;
//! take them as orders of magnitude):
//!
//! | what | without the feature | with it |
//! |---|---|---|
//! | threads of a built current-thread / 2-worker runtime | 0 / 2 | 1 / 3: the tokio thread (tokio's blocking threads, named like it plus `-blocking`, come on demand; reqwest resolves host names on one) |
//! | resident memory per live runtime, current-thread / 2 workers | 4 / 50 KiB | 27 / 57 KiB (plus the tokio thread's untouched 2 MiB stack reservation) |
//! | `Runtime` build + drop, current-thread / 2 workers | 35–38 / 140–185 µs | 120–145 / 250–310 µs |
//! | free `block_on(async {})` | 0.1 µs | 60–85 µs: a tokio runtime and its thread started and joined per call (use a `Runtime` for repeated calls) |
//!
//! | TCP ping-pong round trip (1 byte each way, loopback), median | current-thread | 2 workers |
//! |---|---|---|
//! | moduvex `TcpStream` in a moduvex task | 12–16 µs | 16 µs |
//! | `tokio::net::TcpStream` in a moduvex task | 17–20 µs | 51–56 µs |
//! | native tokio, same flavor | 12–16 µs | 13–16 µs |
//!
//! A tokio socket used from a moduvex task costs a thread hop per
//! readiness event: tokio's thread receives the event and wakes the
//! moduvex task, which runs on a moduvex thread (on a multi-thread runtime
//! a parked worker is woken for it, a second hop). Prefer moduvex's own
//! sockets (and the `hyper` feature's glue) on hot paths; the compat layer
//! is for the crates that insist on tokio.
//!
//! # What differs from running on tokio
//!
//! - tokio tasks run on the one tokio thread, not on the moduvex workers:
//!   CPU-heavy work started with `tokio::spawn` does not spread over the
//!   workers (spawn it with [`spawn`](crate::spawn) instead).
//! - `tokio::task::block_in_place` on a moduvex thread runs its closure in
//!   place with no hand-off (to tokio the thread is outside its runtime),
//!   blocking that worker's tasks; in a tokio task it panics (a
//!   current-thread runtime). Use
//!   [`task::block_in_place`](crate::task::block_in_place).
//! - `tokio::runtime::Handle::current()` is the background runtime's
//!   handle: its `runtime_flavor()` is `CurrentThread` on every moduvex
//!   flavor.
//! - tokio's test clock (`tokio::time::pause`) is tokio's: a paused moduvex
//!   clock does not pause tokio's timers. tokio's time functions read
//!   tokio's clock, moduvex's read moduvex's.
//! - A blocking-pool thread of the process-wide pool (the free
//!   `block_on`'s `spawn_blocking`) is not in any tokio context, as it is in
//!   no moduvex runtime's.

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crate::runtime::ThreadHooks;
use crate::sync::oneshot;

/// How the tokio thread shuts its runtime down: `None` waits for tokio's
/// blocking threads, `Some(d)` at most `d`.
type Stop = Option<Duration>;

/// A moduvex runtime's tokio runtime and the thread that drives it.
pub(crate) struct Background {
    handle: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<Stop>>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
    exited: Arc<Exited>,
}

/// Set by the tokio thread as it ends, so a bounded shutdown can wait for
/// it with a deadline.
#[derive(Default)]
struct Exited {
    done: Mutex<bool>,
    cv: Condvar,
}

/// Marks the tokio thread as ended when dropped (on return and unwind).
struct ExitMark(Arc<Exited>);

impl Drop for ExitMark {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.0.cv.notify_all();
    }
}

impl Background {
    /// Builds a tokio current-thread runtime and starts the thread named
    /// `name` that drives it with `ours` entered.
    pub(crate) fn start(
        name: String,
        stack_size: Option<usize>,
        ours: crate::Handle,
    ) -> io::Result<Background> {
        // tokio's own threads are its blocking pool's.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(format!("{name}-blocking"))
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<Stop>();
        let exited = Arc::new(Exited::default());
        let mark = ExitMark(exited.clone());
        let mut builder = std::thread::Builder::new().name(name);
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        let thread = builder.spawn(move || {
            let _mark = mark;
            let _ours = ours.enter();
            // A dropped sender (the owner unwound) stops it too.
            let stop = rt.block_on(stopped).unwrap_or(None);
            match stop {
                Some(timeout) => rt.shutdown_timeout(timeout),
                None => drop(rt),
            }
        })?;
        Ok(Background {
            handle,
            stop: Some(stop),
            thread_id: thread.thread().id(),
            thread: Some(thread),
            exited,
        })
    }

    /// The tokio runtime of the runtime behind `ours`, whose threads are
    /// configured by `hooks`; its threads (and `ours.enter()`) enter it
    /// from now on.
    pub(crate) fn for_runtime(ours: &crate::Handle, hooks: &ThreadHooks) -> io::Result<Background> {
        let name = format!("{}-tokio", (hooks.name)());
        let background = Background::start(name, hooks.stack_size, ours.clone())?;
        ours.blocking.set_tokio(background.handle.clone());
        Ok(background)
    }

    /// The tokio runtime behind the free `block_on`'s call: started now,
    /// stopped when dropped.
    #[track_caller]
    pub(crate) fn for_block_on(ours: crate::Handle) -> Background {
        let name = format!("{}-tokio", crate::runtime::DEFAULT_THREAD_NAME);
        match Background::start(name, None, ours) {
            Ok(background) => background,
            Err(e) => panic!(
                "moduvex-runtime (feature tokio-compat): cannot start the tokio runtime of \
                 `block_on`: {e}"
            ),
        }
    }

    /// The tokio runtime's handle, for the threads to enter.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Stops the tokio runtime (its unfinished tasks are dropped) and
    /// waits up to `timeout` (`None`: for as long as it takes) for its
    /// thread to end; a thread still busy then ends in the background. On
    /// the tokio thread itself (a tokio task shutting the runtime down) it
    /// only asks.
    pub(crate) fn shutdown(&mut self, timeout: Option<Duration>) {
        let Some(stop) = self.stop.take() else {
            return;
        };
        let _ = stop.send(timeout);
        let Some(thread) = self.thread.take() else {
            return;
        };
        if std::thread::current().id() == self.thread_id {
            return;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        if self.wait_exited(deadline) {
            let _ = thread.join();
        }
    }

    fn wait_exited(&self, deadline: Option<Instant>) -> bool {
        let mut done = self.exited.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            match deadline {
                None => done = self.exited.cv.wait(done).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    done = self
                        .exited
                        .cv
                        .wait_timeout(done, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        true
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

/// Enters `handle`'s tokio context on this thread until the guard drops.
pub(crate) fn enter(
    handle: Option<&tokio::runtime::Handle>,
) -> Option<tokio::runtime::EnterGuard<'_>> {
    handle.map(tokio::runtime::Handle::enter)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::{Builder, Runtime};

    /// Runs `f` on a helper thread and fails if it hangs (a bound, not a
    /// speed check).
    fn guard(what: &str, f: impl FnOnce() + Send + 'static) {
        let (tx, rx) = mpsc::channel();
        let t = std::thread::spawn(move || {
            f();
            let _ = tx.send(());
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(()) => t.join().unwrap(),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::panic::resume_unwind(t.join().unwrap_err())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: hangs"),
        }
    }

    fn runtimes() -> Vec<Runtime> {
        vec![
            Builder::new_current_thread().build().unwrap(),
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap(),
        ]
    }

    /// A tokio task that blocks the tokio thread until `release` is sent.
    fn block_tokio_thread(rt: &Runtime) -> mpsc::Sender<()> {
        let (release, blocked) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<()>();
        let _task = rt.handle().blocking.tokio().unwrap().spawn(async move {
            started_tx.send(()).unwrap();
            let _ = blocked.recv();
        });
        started.recv().unwrap();
        release
    }

    #[test]
    fn shutdown_timeout_does_not_wait_for_a_blocked_tokio_thread() {
        guard("shutdown_timeout", || {
            for rt in runtimes() {
                let release = block_tokio_thread(&rt);
                // Returns although the tokio thread cannot stop until
                // released (which happens only after it returned).
                rt.shutdown_timeout(Duration::from_millis(10));
                release.send(()).unwrap();
            }
        });
    }

    #[test]
    fn shutdown_background_does_not_wait_for_a_blocked_tokio_thread() {
        guard("shutdown_background", || {
            for rt in runtimes() {
                let release = block_tokio_thread(&rt);
                rt.shutdown_background();
                release.send(()).unwrap();
            }
        });
    }

    #[test]
    fn a_runtime_dropped_by_its_own_tokio_task_does_not_wait_for_itself() {
        guard("dropped by its own tokio task", || {
            for rt in runtimes() {
                let tokio = rt.handle().blocking.tokio().unwrap().clone();
                let (done_tx, done) = mpsc::channel();
                tokio.spawn(async move {
                    drop(rt);
                    done_tx.send(()).unwrap();
                });
                done.recv().unwrap();
            }
        });
    }

    #[test]
    fn unfinished_tokio_tasks_are_dropped_at_shutdown() {
        guard("unfinished tokio tasks", || {
            for rt in runtimes() {
                let (dropped_tx, dropped) = mpsc::channel::<()>();
                struct SendOnDrop(mpsc::Sender<()>);
                impl Drop for SendOnDrop {
                    fn drop(&mut self) {
                        let _ = self.0.send(());
                    }
                }
                let witness = SendOnDrop(dropped_tx);
                rt.block_on(async move {
                    tokio::spawn(async move {
                        let _witness = witness;
                        std::future::pending::<()>().await
                    });
                });
                assert!(dropped.try_recv().is_err(), "dropped too early");
                drop(rt);
                // Dropped (and so sent) before the drop returned.
                dropped.try_recv().unwrap();
            }
        });
    }
}
