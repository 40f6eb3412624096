//! A current-thread `Runtime` driven from several threads: one driver at a
//! time, local tasks that never leave their thread, shutdown from any
//! thread, and remote work that a busy local task cannot starve.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

use moduvex_runtime::sync::oneshot;
use moduvex_runtime::{spawn, spawn_local, yield_now, Builder, Runtime};

/// Runs `f` on a thread and fails the test if it has not finished within
/// a generous bound (a hang guard, not a speed check).
fn within_bound<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("{what}: hung"))
}

fn runtime() -> Arc<Runtime> {
    Arc::new(Builder::new_current_thread().build().unwrap())
}

#[test]
fn a_local_task_is_never_polled_on_another_thread() {
    within_bound("local task across threads", || {
        let rt = runtime();
        let polled_elsewhere = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        {
            let (polled_elsewhere, polls) = (polled_elsewhere.clone(), polls.clone());
            let rt = rt.clone();
            thread::spawn(move || {
                let home = thread::current().id();
                rt.block_on(async move {
                    let counter = Rc::new(Cell::new(0u64));
                    let task_polls = polls.clone();
                    spawn_local(async move {
                        loop {
                            counter.set(counter.get() + 1);
                            if thread::current().id() != home {
                                polled_elsewhere.store(true, Ordering::SeqCst);
                            }
                            task_polls.fetch_add(1, Ordering::SeqCst);
                            yield_now().await;
                        }
                    });
                    while polls.load(Ordering::SeqCst) < 10 {
                        yield_now().await;
                    }
                });
            })
            .join()
            .unwrap();
        }
        // Another thread drives the runtime now: the local task must wait
        // for its own thread (which has exited), never run here.
        let before = polls.load(Ordering::SeqCst);
        rt.block_on(async {
            for _ in 0..100 {
                yield_now().await;
            }
        });
        assert!(
            !polled_elsewhere.load(Ordering::SeqCst),
            "polled on another thread"
        );
        assert_eq!(polls.load(Ordering::SeqCst), before);
    });
}

#[test]
fn concurrent_block_on_calls_each_finish() {
    within_bound("concurrent block_on", || {
        let rt = runtime();
        let threads = 4;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (rt, start) = (rt.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    rt.block_on(async move {
                        let mut sum = 0;
                        for round in 0..50u64 {
                            // A task of the runtime, woken from a plain thread.
                            let (tx, rx) = oneshot::channel::<u64>();
                            thread::spawn(move || {
                                let _ = tx.send(round);
                            });
                            let task = spawn(async move { rx.await.unwrap() * 2 });
                            sum += task.await.unwrap();
                            // This call's own future, woken from a plain thread.
                            let (tx, rx) = oneshot::channel::<u64>();
                            thread::spawn(move || {
                                let _ = tx.send(i as u64);
                            });
                            sum += rx.await.unwrap();
                        }
                        sum
                    })
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            let expected: u64 = (0..50u64).map(|r| r * 2 + i as u64).sum();
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}

#[test]
fn dropping_the_runtime_on_another_thread_cancels_every_task() {
    within_bound("drop on another thread", || {
        let rt = Builder::new_current_thread().build().unwrap();
        let local_dropped = Arc::new(AtomicBool::new(false));
        struct SetOnDrop(Arc<AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let (rt, pending) = {
            let local_dropped = local_dropped.clone();
            thread::spawn(move || {
                let pending = rt.block_on(async move {
                    let guard = (SetOnDrop(local_dropped), Rc::new(()));
                    spawn_local(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                    let pending = spawn(std::future::pending::<()>());
                    yield_now().await;
                    // Returned, not awaited: it must resolve after the drop.
                    Some(pending)
                });
                (rt, pending)
            })
            .join()
            .unwrap()
        };
        // The local task's thread has exited: its task went with it.
        assert!(local_dropped.load(Ordering::SeqCst));
        drop(rt);
        let res = futures_lite::future::block_on(pending.unwrap());
        assert!(res.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_local_task_is_cancelled_on_its_thread_when_the_runtime_drops_elsewhere() {
    within_bound("local cancelled on its thread", || {
        let rt = Arc::new(Builder::new_current_thread().build().unwrap());
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<thread::ThreadId>();
        let owner = {
            let rt = rt.clone();
            thread::spawn(move || {
                struct Report(mpsc::Sender<thread::ThreadId>);
                impl Drop for Report {
                    fn drop(&mut self) {
                        let _ = self.0.send(thread::current().id());
                    }
                }
                rt.block_on(async move {
                    let report = (Report(done_tx), Rc::new(()));
                    spawn_local(async move {
                        let _report = report;
                        std::future::pending::<()>().await;
                    });
                    yield_now().await;
                });
                drop(rt);
                go_rx.recv().unwrap();
                // Entering any runtime cancels the closed set here.
                moduvex_runtime::block_on(async {});
                thread::current().id()
            })
        };
        // Drop the last runtime handle on this thread, with the owner alive.
        while Arc::strong_count(&rt) > 1 {
            thread::yield_now();
        }
        drop(rt);
        go_tx.send(()).unwrap();
        let owner_id = owner.join().unwrap();
        assert_eq!(
            done_rx.recv().unwrap(),
            owner_id,
            "dropped on its own thread"
        );
    });
}

#[test]
fn a_busy_local_task_does_not_starve_remote_work() {
    within_bound("remote work starved", || {
        let rt = runtime();
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let stop = Rc::new(Cell::new(false));
            let spinner = {
                let stop = stop.clone();
                spawn_local(async move {
                    while !stop.get() {
                        yield_now().await;
                    }
                })
            };
            // Woken from another thread.
            let (tx, rx) = oneshot::channel::<u32>();
            thread::spawn(move || {
                let _ = tx.send(1);
            });
            let remote = spawn(async move { rx.await.unwrap() });
            // Spawned from outside the runtime.
            let (htx, hrx) = mpsc::channel();
            thread::spawn(move || {
                let _ = htx.send(handle.spawn(async { 2u32 }));
            });
            // A blocking-pool completion.
            let blocking = moduvex_runtime::spawn_blocking(|| 3u32);
            let from_outside = loop {
                match hrx.try_recv() {
                    Ok(h) => break h,
                    Err(_) => yield_now().await,
                }
            };
            let total =
                remote.await.unwrap() + from_outside.await.unwrap() + blocking.await.unwrap();
            stop.set(true);
            spinner.await.unwrap();
            assert_eq!(total, 6);
        });
    });
}

#[test]
fn a_busy_shared_task_does_not_starve_a_remote_wake_of_the_main_future() {
    within_bound("main future starved", || {
        let rt = runtime();
        rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let spinner = {
                let stop = stop.clone();
                spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        yield_now().await;
                    }
                })
            };
            let (tx, rx) = oneshot::channel::<u32>();
            thread::spawn(move || {
                let _ = tx.send(5);
            });
            assert_eq!(rx.await.unwrap(), 5);
            stop.store(true, Ordering::SeqCst);
            spinner.await.unwrap();
        });
    });
}

#[test]
#[should_panic(expected = "Cannot drop a runtime in a context where blocking is not allowed")]
fn dropping_a_runtime_inside_an_async_context_panics_with_what_to_do() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    moduvex_runtime::block_on(async move {
        drop(rt);
    });
}
