//! Multi-threaded runtimes: both flavors, spawning from everywhere,
//! cross-thread wake-ups, the blocking pool, the cooperative budget and
//! shutdown.

use std::future::poll_fn;
use std::io::{Read, Write};
#[cfg(windows)]
use std::net::TcpStream as PairStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream as PairStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use moduvex_runtime::reactor::IoSource;
use moduvex_runtime::sync::{mpsc, oneshot};
use moduvex_runtime::{spawn, spawn_blocking, yield_now, Builder, Flavor, Handle, Runtime};

fn rt(flavor: Flavor, workers: usize) -> Runtime {
    Runtime::builder()
        .flavor(flavor)
        .worker_threads(workers)
        .build()
        .unwrap()
}

const MULTI: [Flavor; 2] = [Flavor::ThreadPerCore, Flavor::WorkStealing];

#[cfg(unix)]
fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn a_million_tasks_across_workers_all_complete() {
    for flavor in MULTI {
        let rt = rt(flavor, 2);
        let n: u64 = 1_000_000;
        let sum = rt.block_on(async move {
            // Spawn from inside the workers too: 1000 spawners × 1000 tasks.
            let spawners: Vec<_> = (0..1000u64)
                .map(|s| {
                    spawn(async move {
                        let hs: Vec<_> = (0..1000u64)
                            .map(|i| spawn(async move { s * 1000 + i }))
                            .collect();
                        let mut sum = 0u64;
                        for h in hs {
                            sum += h.await.unwrap();
                        }
                        sum
                    })
                })
                .collect();
            let mut sum = 0u64;
            for s in spawners {
                sum += s.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, n * (n - 1) / 2, "{flavor:?}");
    }
}

#[test]
fn spawn_from_outside_the_workers_spreads_and_runs() {
    for flavor in MULTI {
        let rt = rt(flavor, 2);
        let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let threads = threads.clone();
                rt.spawn(async move {
                    threads.lock().unwrap().insert(std::thread::current().id());
                    yield_now().await;
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        if flavor == Flavor::ThreadPerCore {
            assert_eq!(
                threads.lock().unwrap().len(),
                2,
                "round-robin over both workers"
            );
        }
        // And from a plain std thread through a Handle.
        let handle = rt.handle().clone();
        let out = std::thread::spawn(move || handle.spawn(async { 5 }))
            .join()
            .unwrap();
        assert_eq!(rt.block_on(out).unwrap(), 5);
    }
}

#[test]
fn thread_per_core_keeps_a_task_on_its_worker() {
    let rt = rt(Flavor::ThreadPerCore, 2);
    let moved = rt.block_on(async {
        spawn(async {
            let home = std::thread::current().id();
            let mut moved = false;
            for _ in 0..200 {
                // Wake-ups from another thread must bring it back home.
                let (tx, rx) = oneshot::channel();
                std::thread::spawn(move || tx.send(()).unwrap());
                rx.await.unwrap();
                moved |= std::thread::current().id() != home;
            }
            moved
        })
        .await
        .unwrap()
    });
    assert!(!moved);
}

#[test]
fn cross_thread_ping_pong() {
    for flavor in MULTI {
        let rt = rt(flavor, 2);
        let rounds = rt.block_on(async {
            let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
            let ponger = spawn(async move {
                while let Some(v) = ping_rx.recv().await {
                    pong_tx.send(v + 1).await.unwrap();
                }
            });
            let pinger = spawn(async move {
                let mut v = 0;
                for _ in 0..10_000 {
                    ping_tx.send(v).await.unwrap();
                    v = pong_rx.recv().await.unwrap();
                }
                v
            });
            let v = pinger.await.unwrap();
            ponger.await.unwrap();
            v
        });
        assert_eq!(rounds, 10_000, "{flavor:?}");
    }
}

#[test]
fn wakers_from_foreign_threads_after_the_task_moved() {
    let rt = rt(Flavor::WorkStealing, 2);
    let total = rt.block_on(async {
        let hs: Vec<_> = (0..200)
            .map(|_| {
                spawn(async {
                    let mut count = 0;
                    for _ in 0..20 {
                        let slot: Arc<Mutex<(bool, Option<Waker>)>> =
                            Arc::new(Mutex::new((false, None)));
                        let remote = slot.clone();
                        std::thread::spawn(move || {
                            let w = {
                                let mut s = remote.lock().unwrap();
                                s.0 = true;
                                s.1.take()
                            };
                            if let Some(w) = w {
                                w.wake();
                            }
                        });
                        poll_fn(|cx| {
                            let mut s = slot.lock().unwrap();
                            if s.0 {
                                Poll::Ready(())
                            } else {
                                s.1 = Some(cx.waker().clone());
                                Poll::Pending
                            }
                        })
                        .await;
                        count += 1;
                        yield_now().await;
                    }
                    count
                })
            })
            .collect();
        let mut total = 0;
        for h in hs {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, 4000);
}

#[test]
fn io_registered_on_one_thread_wakes_a_task_on_another() {
    for flavor in MULTI {
        let rt = rt(flavor, 2);
        rt.block_on(async {
            for _ in 0..50 {
                let (a, b) = stream_pair();
                a.set_nonblocking(true).unwrap();
                // Registered on the block_on thread's reactor ...
                let src = IoSource::new(a).unwrap();
                // ... read by a task on a worker, dropped there.
                let reader = spawn(async move {
                    let mut buf = [0u8; 8];
                    let n = src.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
                    buf[..n].to_vec()
                });
                let writer = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(1));
                    (&b).write_all(b"hi").unwrap();
                    b
                });
                assert_eq!(reader.await.unwrap(), b"hi");
                drop(writer.join().unwrap());
            }
        });
    }
}

#[test]
fn an_always_ready_reader_cannot_starve_a_timer_on_its_worker() {
    for flavor in [Flavor::CurrentThread, Flavor::ThreadPerCore] {
        let rt = rt(flavor, 1);
        let reads = rt.block_on(async {
            let (a, b) = stream_pair();
            a.set_nonblocking(true).unwrap();
            b.set_nonblocking(true).unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let stop2 = stop.clone();
            let reader = spawn(async move {
                let src = IoSource::new(a).unwrap();
                let writer = IoSource::new(b).unwrap();
                let mut reads = 0u64;
                // Keep the socket readable forever: echo back what was read.
                writer
                    .write_with(|s| (&*s).write(&[0u8; 1024]))
                    .await
                    .unwrap();
                let mut buf = [0u8; 1024];
                while !stop2.load(Ordering::SeqCst) {
                    let n = src.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
                    let mut sent = 0;
                    while sent < n {
                        sent += writer
                            .write_with(|s| (&*s).write(&buf[sent..n]))
                            .await
                            .unwrap();
                    }
                    reads += 1;
                }
                reads
            });
            let timer = spawn(async move {
                moduvex_runtime::time::sleep(Duration::from_millis(20)).await;
                stop.store(true, Ordering::SeqCst);
            });
            timer.await.unwrap();
            reader.await.unwrap()
        });
        assert!(reads > 0);
    }
}

struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(unix)]
#[test]
fn shutdown_drops_every_waiting_task_once_and_closes_fds() {
    // Start the process's one foster thread (one epoll fd, kept for the
    // process's life) before counting: a socket registered outside any
    // runtime is handed to it, then taken back when dropped.
    let (warm, _peer) = stream_pair();
    warm.set_nonblocking(true).unwrap();
    drop(IoSource::new(warm).unwrap());
    for flavor in [
        Flavor::CurrentThread,
        Flavor::ThreadPerCore,
        Flavor::WorkStealing,
    ] {
        let baseline = fd_count();
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = rt(flavor, 2);
        let (keep_tx, keep_rx) = mpsc::channel::<()>(1);
        let keep_rx = Arc::new(Mutex::new(Some(keep_rx)));
        let spawned = rt.block_on({
            let drops = drops.clone();
            async move {
                let mut n = 0;
                for i in 0..30 {
                    let guard = DropCount(drops.clone());
                    let keep_rx = keep_rx.clone();
                    match i % 3 {
                        // Waiting on I/O.
                        0 => drop(spawn(async move {
                            let _g = guard;
                            let (a, _b) = stream_pair();
                            a.set_nonblocking(true).unwrap();
                            let src = IoSource::new(a).unwrap();
                            let _ = src.read_with(|s| (&*s).read(&mut [0u8; 1])).await;
                            std::future::pending::<()>().await;
                        })),
                        // Waiting on a timer.
                        1 => drop(spawn(async move {
                            let _g = guard;
                            moduvex_runtime::time::sleep(Duration::from_secs(3600)).await;
                        })),
                        // Waiting on a channel.
                        _ => drop(spawn(async move {
                            let _g = guard;
                            let rx = keep_rx.lock().unwrap().take();
                            match rx {
                                Some(mut rx) => {
                                    let _ = rx.recv().await;
                                }
                                None => std::future::pending::<()>().await,
                            }
                        })),
                    }
                    n += 1;
                }
                // Let them all start waiting.
                moduvex_runtime::time::sleep(Duration::from_millis(20)).await;
                n
            }
        });
        drop(rt);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            spawned,
            "{flavor:?}: each future dropped once"
        );
        drop(keep_tx);
        // Worker threads (and their reactors) are gone; this thread keeps
        // its own reactor, which existed before only if it was used.
        let after = fd_count();
        assert!(
            after <= baseline + 2,
            "{flavor:?}: fds {baseline} -> {after}"
        );
    }
}

#[test]
fn a_panicking_task_does_not_kill_its_worker() {
    for flavor in MULTI {
        let rt = rt(flavor, 1);
        rt.block_on(async {
            for _ in 0..10 {
                let err = spawn(async { panic!("task failure") }).await.unwrap_err();
                assert!(err.is_panic());
            }
            assert_eq!(spawn(async { 9 }).await.unwrap(), 9);
        });
    }
}

#[test]
fn spawn_local_on_a_worker_stays_there() {
    for flavor in MULTI {
        let rt = rt(flavor, 2);
        let ok = rt.block_on(async {
            spawn(async {
                let rc = std::rc::Rc::new(std::thread::current().id());
                let here = moduvex_runtime::spawn_local(async move {
                    yield_now().await;
                    *rc == std::thread::current().id()
                });
                here.await.unwrap()
            })
            .await
            .unwrap()
        });
        assert!(ok);
    }
}

#[test]
fn spawn_blocking_runs_catches_panics_and_is_cancelled_after_shutdown() {
    let rt = rt(Flavor::WorkStealing, 2);
    let handle = rt.handle().clone();
    rt.block_on(async {
        let v = spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(5));
            7
        })
        .await
        .unwrap();
        assert_eq!(v, 7);
        let err = spawn_blocking(|| panic!("blocking failure"))
            .await
            .unwrap_err();
        assert!(err.is_panic());
        // Many at once, from tasks.
        let hs: Vec<_> = (0..32).map(|i| spawn_blocking(move || i * 2)).collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, (0..32).map(|i| i * 2).sum::<i32>());
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    let late = handle.spawn_blocking(|| 1);
    let err = moduvex_runtime::block_on(late).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn shutdown_timeout_returns_despite_a_stuck_task() {
    let rt = rt(Flavor::ThreadPerCore, 1);
    rt.spawn(async {
        // Blocks its worker: the wrong thing to do, but shutdown must not hang on it forever.
        std::thread::sleep(Duration::from_millis(300));
    });
    std::thread::sleep(Duration::from_millis(20));
    rt.shutdown_timeout(Duration::from_millis(10));
}

#[test]
fn worker_threads_zero_is_a_build_error() {
    let err = Builder::new(Flavor::WorkStealing)
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads(0)"), "{err}");
    let err = Runtime::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("max_blocking_threads"), "{err}");
}

#[test]
#[should_panic(expected = "cannot block the runtime from within an async context")]
fn block_on_inside_a_worker_panics() {
    let rt = rt(Flavor::ThreadPerCore, 1);
    let inner = Runtime::builder()
        .flavor(Flavor::CurrentThread)
        .build()
        .unwrap();
    let res = rt.block_on(async move {
        spawn(async move {
            inner.block_on(async {});
        })
        .await
    });
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
fn handle_current_and_thread_hooks() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let rt = {
        let (s, t) = (started.clone(), stopped.clone());
        Runtime::builder()
            .flavor(Flavor::WorkStealing)
            .worker_threads(2)
            .thread_name("hooked")
            .on_thread_start(move || {
                s.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_stop(move || {
                t.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    let name = rt.block_on(async {
        let h = Handle::current();
        assert_eq!(h.worker_threads(), 2);
        h.spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("hooked"));
    assert!(Handle::try_current().is_err());
    let outside = std::panic::catch_unwind(Handle::current).unwrap_err();
    let msg = outside
        .downcast_ref::<String>()
        .map(String::as_str)
        .or(outside.downcast_ref::<&str>().copied());
    assert!(
        msg.unwrap_or("").contains("outside a moduvex runtime"),
        "{msg:?}"
    );
    drop(rt);
    assert_eq!(
        started.load(Ordering::SeqCst),
        stopped.load(Ordering::SeqCst)
    );
    assert!(started.load(Ordering::SeqCst) >= 2);
}

#[test]
fn current_thread_runtime_keeps_tasks_between_block_ons() {
    let rt = rt(Flavor::CurrentThread, 1);
    let (tx, rx) = oneshot::channel::<u32>();
    let h = rt.spawn(async move { rx.await.unwrap() + 1 });
    rt.block_on(async { yield_now().await });
    tx.send(41).unwrap();
    assert_eq!(rt.block_on(h).unwrap(), 42);
}

#[test]
fn spawn_on_each_worker_pins_one_task_per_worker() {
    let rt = rt(Flavor::WorkStealing, 2);
    let ids = rt.block_on(async {
        let hs = Handle::current()
            .spawn_on_each_worker(|i| async move { (i, std::thread::current().id()) });
        let mut ids = Vec::new();
        for h in hs {
            ids.push(h.await.unwrap());
        }
        ids
    });
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0].1, ids[1].1);
}

#[test]
fn idle_blocking_threads_are_reaped_and_recreated_on_demand() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let rt = {
        let stopped = stopped.clone();
        Runtime::builder()
            .flavor(Flavor::CurrentThread)
            .thread_keep_alive(Duration::from_millis(20))
            .on_thread_stop(move || {
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1);
    // The idle thread exits after its keep-alive; wait for that event
    // (bounded), without asserting how long it took.
    for _ in 0..500 {
        if stopped.load(Ordering::SeqCst) == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        1,
        "the idle blocking thread was reaped"
    );
    // A new closure gets a new thread.
    assert_eq!(
        rt.block_on(async { spawn_blocking(|| 2).await }).unwrap(),
        2
    );
}

#[test]
fn a_tiny_thread_stack_is_a_build_error() {
    for size in [0, 1, moduvex_runtime::runtime::MIN_THREAD_STACK_SIZE - 1] {
        let err = Runtime::builder()
            .thread_stack_size(size)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("thread_stack_size"), "{err}");
    }
    let rt = Runtime::builder()
        .worker_threads(2)
        .thread_stack_size(moduvex_runtime::runtime::MIN_THREAD_STACK_SIZE)
        .build()
        .unwrap();
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}

#[test]
fn a_runtime_dropped_by_its_own_task_shuts_down_in_the_background() {
    for flavor in MULTI {
        let rt = rt(flavor, 2);
        let handle = rt.handle().clone();
        let drops = Arc::new(AtomicUsize::new(0));
        // A task parked on a timer, to be cancelled by the shutdown.
        let guard = DropCount(drops.clone());
        handle.spawn(async move {
            let _g = guard;
            moduvex_runtime::time::sleep(Duration::from_secs(3600)).await;
        });
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let dropper_guard = DropCount(drops.clone());
        handle.spawn(async move {
            let _g = dropper_guard;
            // Dropping inside a task panics with what to do (as in tokio),
            // after stopping the runtime in the background.
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
            let msg = dropped.expect_err("dropping inside a task must panic");
            let msg = msg.downcast_ref::<&str>().copied().unwrap_or_default();
            assert!(msg.contains("Cannot drop a runtime"), "{msg}");
            // Dropping did not block on this very thread.
            done_tx.send(()).unwrap();
            moduvex_runtime::yield_now().await;
            unreachable!("cancelled at its next await");
        });
        done_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("dropping the runtime from its own task returned");
        // Both tasks are dropped exactly once as the workers wind down.
        let give_up = std::time::Instant::now() + Duration::from_secs(60);
        while drops.load(Ordering::SeqCst) < 2 {
            assert!(
                std::time::Instant::now() < give_up,
                "tasks were not dropped"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(drops.load(Ordering::SeqCst), 2, "{flavor:?}");
    }
}

/// Runs `scenario` on a helper thread and fails if it has not finished
/// after a generous bound (a hang guard, not a speed assertion).
fn within_20s(what: &str, scenario: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let helper = std::thread::spawn(move || {
        scenario();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => helper.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(helper.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still not done after 20 s")
        }
    }
}

/// The waker of some other executor, which panics when woken (after
/// saying so on `woken`).
struct PanickingWaker(Mutex<std::sync::mpsc::Sender<()>>);

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
        panic!("a foreign waker panics when woken");
    }
}

/// Polls `fut` once with a [`PanickingWaker`], leaving that waker
/// registered wherever `fut` waits.
fn poll_with_panicking_waker<F: std::future::Future>(
    fut: std::pin::Pin<&mut F>,
    woken: &std::sync::mpsc::Sender<()>,
) {
    let waker = Waker::from(Arc::new(PanickingWaker(Mutex::new(woken.clone()))));
    let polled = fut.poll(&mut std::task::Context::from_waker(&waker));
    assert!(polled.is_pending());
}

#[derive(Clone, Copy, Debug)]
enum WakeSource {
    Timer,
    Socket,
    Channel,
}

#[test]
fn a_foreign_waker_panicking_on_a_worker_loses_no_task_and_never_hangs_shutdown() {
    use WakeSource::*;
    for flavor in MULTI {
        for source in [Timer, Socket, Channel] {
            within_20s(&format!("{flavor:?}, {source:?}"), move || {
                let rt = rt(flavor, 2);
                let (woken_tx, woken_rx) = std::sync::mpsc::channel();
                // Tasks that wait for good, spread over the workers: the
                // shutdown cancels every one of them.
                let mut senders = Vec::new();
                let waiting: Vec<_> = (0..8)
                    .map(|_| {
                        let (tx, rx) = oneshot::channel::<()>();
                        senders.push(tx);
                        rt.spawn(async move {
                            let _ = rx.await;
                        })
                    })
                    .collect();
                let (peer_tx, peer_rx) = std::sync::mpsc::channel();
                // Leaves the foreign waker where a worker (the reactor, the
                // timer wheel or a task) wakes it.
                let victim = rt.spawn(async move {
                    match source {
                        Timer => {
                            drop(peer_tx);
                            let mut sleep =
                                Box::pin(moduvex_runtime::time::sleep(Duration::from_millis(1)));
                            poll_with_panicking_waker(sleep.as_mut(), &woken_tx);
                            std::future::pending::<()>().await;
                        }
                        Socket => {
                            let (a, b) = stream_pair();
                            a.set_nonblocking(true).unwrap();
                            let src = IoSource::new(a).unwrap();
                            let mut buf = [0u8; 8];
                            let mut read = Box::pin(src.read_with(|s| (&*s).read(&mut buf)));
                            poll_with_panicking_waker(read.as_mut(), &woken_tx);
                            peer_tx.send(b).unwrap();
                            std::future::pending::<()>().await;
                        }
                        Channel => {
                            drop(peer_tx);
                            let (tx, rx) = oneshot::channel::<u32>();
                            let mut rx = Box::pin(rx);
                            poll_with_panicking_waker(rx.as_mut(), &woken_tx);
                            // The send wakes the foreign waker on a worker.
                            let sent = spawn(async move { tx.send(1) }).await;
                            assert!(sent.unwrap_err().is_panic());
                            std::future::pending::<()>().await;
                        }
                    }
                });
                if let Ok(peer) = peer_rx.recv_timeout(Duration::from_secs(20)) {
                    (&peer).write_all(b"wake").unwrap();
                    std::mem::forget(peer);
                }
                woken_rx
                    .recv_timeout(Duration::from_secs(20))
                    .expect("the foreign waker is woken");
                // The runtime still runs new tasks (on a thread-per-core
                // runtime one homed on a worker that died is cancelled).
                for _ in 0..4 {
                    match rt.block_on(rt.spawn(async { 7 })) {
                        Ok(v) => assert_eq!(v, 7),
                        Err(e) => {
                            assert!(flavor == Flavor::ThreadPerCore && e.is_cancelled(), "{e:?}")
                        }
                    }
                }
                drop(rt);
                for h in waiting {
                    let err = moduvex_runtime::block_on(h).unwrap_err();
                    assert!(err.is_cancelled(), "{flavor:?}, {source:?}: {err:?}");
                }
                assert!(moduvex_runtime::block_on(victim).is_err());
                drop(senders);
            });
        }
    }
}

#[test]
fn a_task_queued_behind_a_blocked_task_is_stolen_by_the_idle_worker() {
    within_20s("a task left on a blocked worker's queue", || {
        let rt = rt(Flavor::WorkStealing, 2);
        for round in 0..300 {
            let stolen = rt.block_on(async {
                // Work from outside first, so the sibling may be spinning
                // (or between a failed steal and its park) at the push.
                spawn(async {}).await.unwrap();
                spawn(async {
                    let (ran_tx, ran_rx) = std::sync::mpsc::channel();
                    // Onto this worker's local queue ...
                    drop(spawn(async move { ran_tx.send(()).unwrap() }));
                    // ... which it cannot run itself until this returns.
                    ran_rx.recv_timeout(Duration::from_secs(30)).is_ok()
                })
                .await
                .unwrap()
            });
            assert!(
                stolen,
                "round {round}: the idle worker never stole the task"
            );
        }
    });
}

#[test]
fn a_panicking_thread_stop_hook_does_not_hang_the_drop() {
    for flavor in MULTI {
        within_20s(&format!("{flavor:?}"), move || {
            let rt = Builder::new(flavor)
                .worker_threads(2)
                .on_thread_stop(|| panic!("a thread-stop hook panics"))
                .build()
                .unwrap();
            let (_tx, rx) = oneshot::channel::<()>();
            let waiting = rt.spawn(async move {
                let _ = rx.await;
            });
            assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
            drop(rt);
            assert!(moduvex_runtime::block_on(waiting)
                .unwrap_err()
                .is_cancelled());
        });
    }
}

/// A connected stream pair: Unix-domain on Unix, loopback TCP on Windows
/// (which has no socketpair).
#[cfg(unix)]
fn stream_pair() -> (PairStream, PairStream) {
    PairStream::pair().unwrap()
}

/// A connected stream pair: Unix-domain on Unix, loopback TCP on Windows
/// (which has no socketpair).
#[cfg(windows)]
fn stream_pair() -> (PairStream, PairStream) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = PairStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}
