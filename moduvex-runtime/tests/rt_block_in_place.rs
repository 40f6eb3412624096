//! `task::block_in_place`: the closure blocks its thread, the runtime's
//! other tasks keep running.
//!
//! Each scenario would deadlock if the blocked worker's tasks (or its
//! timers) waited for it: the closure waits on a std channel that only
//! another task of the runtime fills. So each runs under a hang guard and
//! fails with a clear message instead of hanging; none looks at the clock.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use moduvex_runtime::task::{self, block_in_place};
use moduvex_runtime::time::sleep;
use moduvex_runtime::{spawn, Flavor, Handle, Runtime};

/// The hang guard: generous; a passing run takes milliseconds.
const GUARD: Duration = Duration::from_secs(20);

/// Runs `f` on a helper thread and fails clearly if it has not finished
/// within [`GUARD`].
fn guarded(name: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(GUARD) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(e) = t.join() {
                std::panic::resume_unwind(e);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: hung for {GUARD:?} (the tasks of the blocked worker stalled)")
        }
    }
}

fn rt(flavor: Flavor, workers: usize) -> Runtime {
    Runtime::builder()
        .flavor(flavor)
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn one_worker_keeps_running_tasks_while_blocked() {
    guarded("one worker", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let got = rt.block_on(rt.spawn(async {
            let (tx, rx) = mpsc::channel();
            // Queued on this (only) worker, behind the blocking task.
            spawn(async move { tx.send(7).unwrap() });
            block_in_place(|| rx.recv().unwrap())
        }));
        assert_eq!(got.unwrap(), 7);
    });
}

#[test]
fn two_workers_the_blocked_workers_queue_still_runs() {
    guarded("two workers", || {
        let rt = rt(Flavor::WorkStealing, 2);
        // Worker X: blocked (plainly, not in place) until the filler runs.
        let (x_started_tx, x_started) = mpsc::channel();
        let (x_release_tx, x_release) = mpsc::channel::<()>();
        let x = rt.spawn(async move {
            x_started_tx.send(()).unwrap();
            x_release.recv().unwrap();
        });
        x_started.recv().unwrap();
        // Worker Y: the task that blocks in place. Its filler is spawned
        // on Y's own queue; X cannot steal it, so only the hand-off can
        // run it.
        let y = rt.spawn(async move {
            let (tx, rx) = mpsc::channel();
            spawn(async move {
                tx.send(5).unwrap();
                x_release_tx.send(()).unwrap();
            });
            block_in_place(|| rx.recv().unwrap())
        });
        assert_eq!(rt.block_on(y).unwrap(), 5);
        rt.block_on(x).unwrap();
    });
}

#[test]
fn timers_of_the_blocked_worker_still_fire() {
    guarded("timers", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let got = rt.block_on(rt.spawn(async {
            let (tx, rx) = mpsc::channel();
            let sleeper = spawn(async move {
                sleep(Duration::from_millis(5)).await;
                tx.send("woke").unwrap();
            });
            // Let the sleeper file its timer on this worker first.
            moduvex_runtime::yield_now().await;
            moduvex_runtime::yield_now().await;
            let got = block_in_place(|| rx.recv().unwrap());
            sleeper.await.unwrap();
            got
        }));
        assert_eq!(got.unwrap(), "woke");
    });
}

#[test]
fn the_closure_may_spawn_and_block_on_through_the_handle() {
    guarded("handle inside", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let got = rt.block_on(rt.spawn(async {
            block_in_place(|| {
                let inner = spawn(async { 20 });
                let handle = Handle::current();
                assert_eq!(handle.flavor(), Flavor::WorkStealing);
                handle.block_on(async move { inner.await.unwrap() + 1 })
            })
        }));
        assert_eq!(got.unwrap(), 21);
    });
}

#[test]
fn nested_and_repeated_calls_return_to_the_task() {
    guarded("nested", || {
        let rt = rt(Flavor::WorkStealing, 2);
        let got = rt.block_on(rt.spawn(async {
            let mut sum = 0;
            for i in 0..50 {
                sum += block_in_place(|| block_in_place(|| i));
                moduvex_runtime::yield_now().await;
            }
            // Back on a worker: the task may await again.
            sum + spawn(async { 1 }).await.unwrap()
        }));
        assert_eq!(got.unwrap(), (0..50).sum::<i32>() + 1);
    });
}

#[test]
fn a_panicking_closure_leaves_the_worker_usable() {
    guarded("panic", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let err = rt
            .block_on(rt.spawn(async {
                block_in_place(|| panic!("blocked and failed"));
            }))
            .unwrap_err();
        assert!(err.is_panic());
        // The worker runs tasks again, with no relief left behind.
        for i in 0..20 {
            assert_eq!(rt.block_on(rt.spawn(async move { i })).unwrap(), i);
        }
    });
}

#[test]
fn thread_per_core_runs_the_closure_in_place() {
    guarded("thread per core", || {
        let rt = rt(Flavor::ThreadPerCore, 2);
        let got = rt.block_on(rt.spawn(async {
            // Runs here; the closure can still reach the runtime.
            block_in_place(|| Handle::current().block_on(spawn(async { 3 })).unwrap())
        }));
        assert_eq!(got.unwrap(), 3);
    });
}

#[test]
fn outside_a_task_it_just_runs_the_closure() {
    assert_eq!(block_in_place(|| 1), 1);
    let rt = rt(Flavor::WorkStealing, 1);
    // `Runtime::block_on`'s own future, and a blocking thread.
    assert_eq!(rt.block_on(async { block_in_place(|| 2) }), 2);
    let on_blocking = rt.block_on(rt.spawn_blocking(|| block_in_place(|| 3)));
    assert_eq!(on_blocking.unwrap(), 3);
}

#[test]
fn on_a_current_thread_runtime_it_panics_with_tokios_message() {
    let rt = Runtime::builder()
        .flavor(Flavor::CurrentThread)
        .build()
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { block_in_place(|| ()) });
    }))
    .unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(
        msg.contains("can call blocking only when running on the multi-threaded runtime"),
        "{msg}"
    );
    assert!(msg.contains("spawn_blocking"), "names what to do: {msg}");
    // In a task too, where the panic becomes the task's error.
    let err = rt
        .block_on(rt.spawn(async { block_in_place(|| ()) }))
        .unwrap_err();
    assert!(err.is_panic());
}

#[test]
fn the_free_block_on_is_current_thread_too() {
    let res = catch_unwind(|| moduvex_runtime::block_on(async { task::block_in_place(|| ()) }));
    assert!(res.is_err());
}

#[test]
fn many_tasks_block_in_place_at_once() {
    guarded("many", || {
        let rt = rt(Flavor::WorkStealing, 2);
        let got = rt.block_on(async {
            let (tx, rx) = mpsc::channel::<usize>();
            let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
            let mut waiters = Vec::new();
            for _ in 0..8 {
                let rx = rx.clone();
                waiters.push(spawn(async move {
                    block_in_place(|| rx.lock().unwrap().recv().unwrap())
                }));
            }
            // The senders only run if the blocked workers' roles moved on.
            for i in 0..8 {
                let tx = tx.clone();
                spawn(async move { tx.send(i).unwrap() });
            }
            let mut sum = 0;
            for w in waiters {
                sum += w.await.unwrap();
            }
            sum
        });
        assert_eq!(got, (0..8).sum::<usize>());
    });
}

#[test]
fn a_task_blocking_in_place_on_the_relief_thread_hands_on_too() {
    guarded("chained", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let got = rt.block_on(rt.spawn(async {
            let (tx_a, rx_a) = mpsc::channel();
            // B runs while A blocks (on the stand-in) and blocks in turn,
            // until C, spawned by B, has run.
            spawn(async move {
                let (tx_b, rx_b) = mpsc::channel();
                spawn(async move { tx_b.send(1).unwrap() });
                let one = block_in_place(|| rx_b.recv().unwrap());
                tx_a.send(one + 1).unwrap();
            });
            block_in_place(|| rx_a.recv().unwrap())
        }));
        assert_eq!(got.unwrap(), 2);
    });
}

#[test]
fn shutting_down_while_a_task_blocks_in_place_does_not_hang() {
    guarded("shutdown", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let (entered_tx, entered) = mpsc::channel();
        let (release_tx, release) = mpsc::channel::<()>();
        let _blocked = rt.spawn(async move {
            block_in_place(|| {
                entered_tx.send(()).unwrap();
                let _ = release.recv();
            })
        });
        entered.recv().unwrap();
        // The relief thread is running; the runtime stops without waiting
        // for the blocked worker, then the closure is let go.
        rt.shutdown_background();
        release_tx.send(()).unwrap();
    });
}

#[test]
fn dropping_the_runtime_waits_for_the_closure_and_its_relief() {
    guarded("drop", || {
        let rt = rt(Flavor::WorkStealing, 2);
        let (entered_tx, entered) = mpsc::channel();
        let (release_tx, release) = mpsc::channel::<()>();
        let _blocked = rt.spawn(async move {
            block_in_place(|| {
                entered_tx.send(()).unwrap();
                release.recv().unwrap();
            })
        });
        entered.recv().unwrap();
        let releaser = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            release_tx.send(()).unwrap();
        });
        drop(rt);
        releaser.join().unwrap();
    });
}

#[test]
fn blocking_calls_are_allowed_inside_the_closure() {
    guarded("blocking_recv", || {
        let rt = rt(Flavor::WorkStealing, 1);
        let got = rt.block_on(rt.spawn(async {
            let (tx, mut rx) = moduvex_runtime::sync::mpsc::channel(1);
            spawn(async move { tx.send(11).await.unwrap() });
            // On a worker `blocking_recv` panics; in place it may block.
            block_in_place(|| rx.blocking_recv().unwrap())
        }));
        assert_eq!(got.unwrap(), 11);
    });
}
