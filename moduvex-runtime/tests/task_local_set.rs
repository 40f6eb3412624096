//! `task::LocalSet` as tokio has it: `!Send` tasks driven by `run_until`,
//! by awaiting the set or by `LocalSet::block_on`; `spawn_local` inside a
//! set; wakes from other threads; a set inside a multi-thread runtime's
//! task; dropping a set; `JoinSet`'s spawn variants; misuse panics.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use moduvex_runtime::sync::{oneshot, Notify};
use moduvex_runtime::task::{self, JoinSet, LocalSet};
use moduvex_runtime::{block_on, yield_now, Flavor, Runtime};

/// Runs `f` on a helper thread; fails (rather than hangs) if it has not
/// finished after a generous bound.
fn hang_guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(v)) => {
            worker.join().unwrap();
            v
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what}: did not finish within 20 s (hang)"),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Records the thread its future is dropped on.
struct DropProbe(Arc<Mutex<Vec<ThreadId>>>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

/// A future that never completes.
async fn forever() {
    std::future::pending::<()>().await
}

#[test]
fn run_until_runs_rc_tasks_and_nested_spawn_local() {
    hang_guard("run_until", || {
        let local = LocalSet::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let out = block_on(local.run_until({
            let log = log.clone();
            async move {
                let inner = log.clone();
                let outer = task::spawn_local(async move {
                    inner.borrow_mut().push("outer");
                    let nested_log = inner.clone();
                    let nested = task::spawn_local(async move {
                        yield_now().await;
                        nested_log.borrow_mut().push("nested");
                        7
                    });
                    nested.await.unwrap() * 6
                });
                outer.await.unwrap()
            }
        }));
        assert_eq!(out, 42);
        assert_eq!(*log.borrow(), ["outer", "nested"]);
    });
}

#[test]
fn nested_spawn_local_goes_to_the_same_set() {
    hang_guard("nested set", || {
        let drops = Arc::new(Mutex::new(Vec::new()));
        block_on(async {
            let local = LocalSet::new();
            let probe = drops.clone();
            local
                .run_until(async move {
                    task::spawn_local(async move {
                        task::spawn_local(async move {
                            let _probe = DropProbe(probe);
                            forever().await
                        });
                    })
                    .await
                    .unwrap();
                    yield_now().await;
                })
                .await;
            assert!(drops.lock().unwrap().is_empty(), "still pending in the set");
            // The nested task belongs to the set, not to this `block_on`:
            // dropping the set drops it, here and now.
            drop(local);
            assert_eq!(*drops.lock().unwrap(), [thread::current().id()]);
        });
    });
}

#[test]
fn innermost_set_wins() {
    hang_guard("nested sets", || {
        let drops = Arc::new(Mutex::new(Vec::new()));
        let outer = LocalSet::new();
        block_on(outer.run_until(async {
            let inner = LocalSet::new();
            let probe = drops.clone();
            inner
                .run_until(async move {
                    task::spawn_local(async move {
                        let _probe = DropProbe(probe);
                        forever().await
                    });
                    yield_now().await;
                })
                .await;
            drop(inner);
            assert_eq!(drops.lock().unwrap().len(), 1, "spawned onto the inner set");
        }));
    });
}

#[test]
fn awaiting_the_set_waits_for_every_task() {
    hang_guard("await set", || {
        let local = LocalSet::new();
        let done = Rc::new(Cell::new(0));
        for i in 0..3u64 {
            let done = done.clone();
            local.spawn_local(async move {
                for _ in 0..i {
                    yield_now().await;
                }
                moduvex_runtime::time::sleep(Duration::from_millis(5 * i)).await;
                done.set(done.get() + 1);
            });
        }
        block_on(local);
        assert_eq!(done.get(), 3);
    });
}

#[test]
fn spawned_before_running_starts_when_the_set_runs() {
    hang_guard("spawn before run", || {
        let local = LocalSet::new();
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        let handle = local.spawn_local(async move {
            flag.set(true);
            5
        });
        assert!(!ran.get(), "a set's task runs only while the set is polled");
        // Not polled by a plain `block_on` either.
        block_on(yield_now());
        assert!(!ran.get());
        assert_eq!(block_on(local.run_until(handle)).unwrap(), 5);
        assert!(ran.get());
    });
}

#[test]
fn a_wake_from_another_thread_reaches_the_set() {
    hang_guard("cross-thread wake", || {
        let local = LocalSet::new();
        let (tx, rx) = oneshot::channel::<u32>();
        let rc = Rc::new(1);
        let handle = local.spawn_local(async move { rx.await.unwrap() + *rc });
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tx.send(41).unwrap();
        });
        assert_eq!(block_on(local.run_until(handle)).unwrap(), 42);
        sender.join().unwrap();
    });
}

#[test]
fn a_set_inside_a_multi_thread_runtime() {
    hang_guard("multi-thread", || {
        let rt = Runtime::builder()
            .flavor(Flavor::WorkStealing)
            .worker_threads(2)
            .build()
            .unwrap();
        // In a worker's task.
        let n = rt.block_on(async {
            moduvex_runtime::spawn(async {
                moduvex_runtime::spawn_local(async {
                    let local = LocalSet::new();
                    let (tx, rx) = oneshot::channel::<u32>();
                    let rc = Rc::new(2);
                    local
                        .run_until(async move {
                            let h = task::spawn_local(async move { rx.await.unwrap() * *rc });
                            thread::spawn(move || tx.send(21).unwrap());
                            h.await.unwrap()
                        })
                        .await
                })
                .await
                .unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(n, 42);
        // In `Runtime::block_on` of the multi-thread runtime.
        let local = LocalSet::new();
        let rc = Rc::new(3);
        let out = local.block_on(&rt, async move {
            let sent = rt_spawned().await;
            task::spawn_local(async move { *rc + sent }).await.unwrap()
        });
        assert_eq!(out, 4);
    });
}

async fn rt_spawned() -> u32 {
    moduvex_runtime::spawn(async { 1 }).await.unwrap()
}

#[test]
fn a_busy_set_task_does_not_starve_its_host() {
    hang_guard("busy set task", || {
        let local = LocalSet::new();
        let stop = Rc::new(Cell::new(false));
        let flag = stop.clone();
        local.spawn_local(async move {
            while !flag.get() {
                yield_now().await;
            }
        });
        block_on(local.run_until(async {
            // A task of the host runtime, not of the set.
            moduvex_runtime::spawn(async {}).await.unwrap();
            stop.set(true);
        }));
    });
}

#[test]
fn drop_drops_pending_tasks_on_the_owning_thread() {
    hang_guard("drop", || {
        let drops = Arc::new(Mutex::new(Vec::new()));
        let local = LocalSet::new();
        let (done_tx, done_rx) = mpsc::channel();
        let mut waiters = Vec::new();
        for _ in 0..3 {
            let probe = DropProbe(drops.clone());
            let handle = local.spawn_local(async move {
                let _probe = probe;
                forever().await
            });
            let done_tx = done_tx.clone();
            // Awaited from another thread: it gets a cancelled JoinError.
            waiters.push(thread::spawn(move || {
                let res = block_on(handle);
                done_tx.send(res.unwrap_err().is_cancelled()).unwrap();
            }));
        }
        let finished = local.spawn_local(async { 9u8 });
        block_on(local.run_until(yield_now()));
        let here = thread::current().id();
        assert!(drops.lock().unwrap().is_empty());
        drop(local);
        assert_eq!(*drops.lock().unwrap(), [here, here, here]);
        for _ in 0..3 {
            assert!(done_rx.recv().unwrap(), "cancelled");
        }
        for w in waiters {
            w.join().unwrap();
        }
        // A finished task's result is still there after the drop, for any thread.
        assert_eq!(
            thread::spawn(move || block_on(finished))
                .join()
                .unwrap()
                .unwrap(),
            9
        );
    });
}

#[test]
fn a_task_woken_after_the_set_is_dropped_is_ignored() {
    hang_guard("wake after drop", || {
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let local = LocalSet::new();
        let stash = slot.clone();
        let handle = local.spawn_local(poll_fn(move |cx: &mut Context<'_>| {
            *stash.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        block_on(local.run_until(yield_now()));
        drop(local);
        let waker = slot.lock().unwrap().take().expect("polled once");
        waker.wake_by_ref();
        thread::spawn(move || waker.wake()).join().unwrap();
        assert!(block_on(handle).unwrap_err().is_cancelled());
    });
}

#[test]
fn join_set_spawn_variants() {
    hang_guard("JoinSet", || {
        let rt = Runtime::builder()
            .flavor(Flavor::WorkStealing)
            .worker_threads(2)
            .build()
            .unwrap();
        let local = LocalSet::new();
        let mut set = JoinSet::new();
        let rc = Rc::new(1u32);
        let one = rc.clone();
        set.spawn_local_on(async move { *one }, &local);
        set.spawn_on(async { 10 }, rt.handle());
        set.spawn_blocking_on(|| 100, rt.handle());
        let total = local.block_on(&rt, async move {
            let two = rc.clone();
            // Inside the set: joins the set.
            set.spawn_local(async move { *two + 999 });
            set.spawn_blocking(|| 1000);
            set.extend([10_000u32, 100_000].map(|n| async move { n }));
            let mut total = 0;
            while let Some(res) = set.join_next().await {
                total += res.unwrap();
            }
            total
        });
        assert_eq!(total, 1 + 10 + 100 + 1000 + 1000 + 10_000 + 100_000);
        let collected: JoinSet<u32> =
            rt.block_on(async { (1..=4u32).map(|i| async move { i }).collect() });
        let mut all = rt.block_on(collected.join_all());
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3, 4]);
    });
}

#[test]
fn join_set_spawn_local_outside_a_set_uses_the_thread() {
    let n = block_on(async {
        let mut set = JoinSet::new();
        let rc = Rc::new(5);
        set.spawn_local(async move { *rc });
        set.join_next().await.unwrap().unwrap()
    });
    assert_eq!(n, 5);
}

#[test]
fn enter_makes_spawn_local_target_the_set() {
    let local = LocalSet::new();
    let handle = {
        let _guard = local.enter();
        task::spawn_local(async { 3 })
    };
    assert_eq!(block_on(local.run_until(handle)).unwrap(), 3);
}

#[test]
fn spawn_local_with_no_runtime_and_no_set_panics() {
    let err = catch_unwind(|| drop(task::spawn_local(async {}))).unwrap_err();
    let msg = panic_message(&*err);
    assert!(
        msg.contains("`spawn_local` called from outside of a `task::LocalSet`")
            && msg.contains("LocalSet::run_until"),
        "{msg}"
    );
}

/// Polls `fut` once with a no-op waker, as a foreign executor would.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn polling_a_set_outside_a_runtime_panics() {
    let local = LocalSet::new();
    // Spawning outside a runtime is fine: the task is queued.
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let _handle = local.spawn_local(async move { flag.store(true, Ordering::SeqCst) });
    let err = catch_unwind(AssertUnwindSafe(|| poll_once(local.run_until(async {})))).unwrap_err();
    let msg = panic_message(&*err);
    assert!(
        msg.contains("`LocalSet::run_until` polled outside a moduvex runtime")
            && msg.contains("LocalSet::block_on"),
        "{msg}"
    );
    let err = catch_unwind(AssertUnwindSafe(|| poll_once(&mut { local }))).unwrap_err();
    let msg = panic_message(&*err);
    assert!(
        msg.contains("`LocalSet` polled outside a moduvex runtime"),
        "{msg}"
    );
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn spawning_from_outside_the_set_wakes_its_poller() {
    hang_guard("spawn from outside", || {
        block_on(async {
            let local = Rc::new(LocalSet::new());
            let notify = Rc::new(Notify::new());
            let (set, ping) = (local.clone(), notify.clone());
            // A task of the thread, not of the set: it spawns onto the set
            // while the set's host waits for nothing but that spawned task.
            moduvex_runtime::spawn_local(async move {
                yield_now().await;
                set.spawn_local(async move { ping.notify_one() });
            });
            local.run_until(notify.notified()).await;
            // The same through `enter` and `task::spawn_local`.
            let (set, ping) = (local.clone(), notify.clone());
            moduvex_runtime::spawn_local(async move {
                yield_now().await;
                let _entered = set.enter();
                task::spawn_local(async move { ping.notify_one() });
            });
            local.run_until(notify.notified()).await;
        });
    });
}

#[test]
fn a_set_is_reusable_across_run_until_calls() {
    let local = LocalSet::new();
    let count = Rc::new(AtomicUsize::new(0));
    let c = count.clone();
    let (tx, rx) = oneshot::channel::<()>();
    local.spawn_local(async move {
        c.fetch_add(1, Ordering::SeqCst);
        rx.await.unwrap();
        c.fetch_add(1, Ordering::SeqCst);
    });
    block_on(local.run_until(yield_now()));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    tx.send(()).unwrap();
    block_on(local);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn a_set_in_a_thread_local_is_dropped_at_thread_exit() {
    thread_local! {
        static KEPT: RefCell<Option<LocalSet>> = const { RefCell::new(None) };
    }
    let drops = Arc::new(Mutex::new(Vec::new()));
    let probe = drops.clone();
    let owner = thread::spawn(move || {
        // Touched first, so it is torn down after the runtime's own
        // thread-locals.
        KEPT.with(|_| ());
        let local = LocalSet::new();
        local.spawn_local(async move {
            let _probe = DropProbe(probe);
            forever().await
        });
        block_on(local.run_until(yield_now()));
        KEPT.with(|k| *k.borrow_mut() = Some(local));
        thread::current().id()
    });
    let owner = owner.join().unwrap();
    assert_eq!(*drops.lock().unwrap(), [owner]);
}
