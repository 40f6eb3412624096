//! The runtime API as tokio has it: entering a runtime, `Handle::block_on`,
//! runtime work from blocking threads, the builder's tunables and hooks,
//! and the default flavor.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use moduvex_runtime::time::sleep;
use moduvex_runtime::{spawn, Builder, Flavor, Handle, Runtime};

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

fn panic_message(err: Box<dyn std::any::Any + Send>) -> String {
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

// ── enter ──────────────────────────────────────────────────────────────────

#[test]
fn spawn_and_handle_current_work_while_entered() {
    let rt = multi(2);
    assert!(Handle::try_current().is_err());
    let task = {
        let _guard = rt.enter();
        let h = Handle::current();
        assert_eq!(h.flavor(), Flavor::WorkStealing);
        assert_eq!(h.worker_threads(), 2);
        spawn(async { 40 + 2 })
    };
    assert!(Handle::try_current().is_err(), "the guard left the context");
    assert_eq!(rt.block_on(task).unwrap(), 42);
}

#[test]
fn a_timer_made_while_entered_belongs_to_the_runtime() {
    let rt = current_thread();
    // Outside any runtime, making a timer panics; entered, it does not.
    let sleep = {
        let _guard = rt.enter();
        sleep(Duration::from_millis(1))
    };
    rt.block_on(sleep);
    assert!(catch_unwind(|| drop(moduvex_runtime::time::sleep(Duration::ZERO))).is_err());
}

#[test]
fn guards_nest_and_the_inner_runtime_wins() {
    let outer = current_thread();
    let inner = multi(1);
    let g1 = outer.enter();
    assert_eq!(Handle::current().flavor(), Flavor::CurrentThread);
    {
        let _g2 = inner.enter();
        assert_eq!(Handle::current().flavor(), Flavor::WorkStealing);
        let _g3 = outer.enter();
        assert_eq!(Handle::current().flavor(), Flavor::CurrentThread);
    }
    assert_eq!(Handle::current().flavor(), Flavor::CurrentThread);
    drop(g1);
    assert!(Handle::try_current().is_err());
}

#[test]
fn dropping_guards_out_of_order_panics() {
    let a = current_thread();
    let b = current_thread();
    let ga = a.enter();
    let gb = b.enter();
    let err = catch_unwind(AssertUnwindSafe(move || drop(ga))).unwrap_err();
    let msg = panic_message(err);
    assert!(msg.contains("dropped out of order"), "{msg}");
    assert!(msg.contains("reverse order"), "says what to do: {msg}");
    drop(gb);
}

#[test]
fn entering_inside_a_runtime_targets_the_entered_one() {
    let home = current_thread();
    let other = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("entered-worker")
        .build()
        .unwrap();
    let name = home.block_on(async {
        let task = {
            let _guard = other.enter();
            spawn(async { thread::current().name().map(str::to_string) })
        };
        // Without a guard, `spawn` targets the running runtime again.
        let here = spawn(async { thread::current().id() }).await.unwrap();
        assert_eq!(here, thread::current().id());
        task.await.unwrap()
    });
    assert_eq!(name.as_deref(), Some("entered-worker"));
}

#[test]
fn block_on_hides_an_outer_guard() {
    let entered = multi(1);
    let running = current_thread();
    let _guard = entered.enter();
    let flavor = running.block_on(async { Handle::current().flavor() });
    assert_eq!(flavor, Flavor::CurrentThread);
    assert_eq!(Handle::current().flavor(), Flavor::WorkStealing);
}

// ── Handle::block_on ───────────────────────────────────────────────────────

#[test]
fn handle_block_on_drives_a_current_thread_runtime() {
    let rt = current_thread();
    let handle = rt.handle().clone();
    let task = rt.spawn(async {
        sleep(Duration::from_millis(1)).await;
        9
    });
    // From another thread: the handle drives the runtime's tasks and timers.
    let got = thread::spawn(move || handle.block_on(task)).join().unwrap();
    assert_eq!(got.unwrap(), 9);
}

#[test]
fn handle_block_on_on_multi_thread_runs_here_with_the_context_entered() {
    let rt = multi(2);
    let handle = rt.handle().clone();
    let (caller, ran_on, spawned) = thread::spawn(move || {
        let caller = thread::current().id();
        handle.block_on(async move {
            let spawned = spawn(async { thread::current().id() }).await.unwrap();
            (caller, thread::current().id(), spawned)
        })
    })
    .join()
    .unwrap();
    assert_eq!(caller, ran_on, "the future runs on the calling thread");
    assert_ne!(caller, spawned, "its tasks run on the workers");
}

#[test]
fn handle_block_on_inside_a_runtime_panics() {
    let rt = current_thread();
    let handle = rt.handle().clone();
    let err = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move { handle.block_on(async {}) })
    }))
    .unwrap_err();
    let msg = panic_message(err);
    assert!(msg.contains("cannot block the runtime"), "{msg}");
}

// ── blocking threads ───────────────────────────────────────────────────────

#[test]
fn spawn_works_from_a_spawn_blocking_thread() {
    for rt in [current_thread(), multi(2)] {
        let flavor = rt.handle().flavor();
        let got = rt.block_on(async {
            let inner = moduvex_runtime::spawn_blocking(move || {
                assert_eq!(Handle::current().flavor(), flavor);
                // `spawn` from the blocking thread, then wait for it there.
                let task = spawn(async { 5 });
                Handle::current().block_on(task).unwrap()
            });
            inner.await.unwrap()
        });
        assert_eq!(got, 5, "{flavor:?}");
    }
}

#[test]
fn task_spawn_blocking_is_the_same_function() {
    let rt = multi(1);
    let got = rt.block_on(async {
        moduvex_runtime::task::spawn_blocking(|| spawn(async { 3 }))
            .await
            .unwrap()
            .await
            .unwrap()
    });
    assert_eq!(got, 3);
}

// ── Builder ────────────────────────────────────────────────────────────────

#[test]
fn park_hooks_run_around_each_park() {
    for flavor in [
        Flavor::CurrentThread,
        Flavor::WorkStealing,
        Flavor::ThreadPerCore,
    ] {
        let parks = Arc::new(AtomicUsize::new(0));
        let unparks = Arc::new(AtomicUsize::new(0));
        let (p, u) = (parks.clone(), unparks.clone());
        let rt = Builder::new(flavor)
            .worker_threads(1)
            .on_thread_park(move || {
                p.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_unpark(move || {
                u.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        // A task that waits for a timer: its thread parks, then wakes.
        rt.block_on(rt.spawn(async { sleep(Duration::from_millis(2)).await }))
            .unwrap();
        let p = parks.load(Ordering::SeqCst);
        let u = unparks.load(Ordering::SeqCst);
        assert!(p >= 1 && u >= 1, "{flavor:?}: {p} parks, {u} unparks");
        drop(rt);
        // Every park is paired with its unpark once the threads are gone.
        assert_eq!(
            parks.load(Ordering::SeqCst),
            unparks.load(Ordering::SeqCst),
            "{flavor:?}"
        );
    }
}

#[test]
fn zero_intervals_panic_with_the_call_named() {
    let err = catch_unwind(|| {
        Builder::new_multi_thread().global_queue_interval(0);
    })
    .unwrap_err();
    let msg = panic_message(err);
    assert!(
        msg.contains("global_queue_interval must be greater than 0"),
        "{msg}"
    );
    let err = catch_unwind(|| {
        Builder::new_current_thread().event_interval(0);
    })
    .unwrap_err();
    let msg = panic_message(err);
    assert!(
        msg.contains("event_interval must be greater than 0"),
        "{msg}"
    );
}

#[test]
fn small_intervals_still_run_every_task() {
    for flavor in [Flavor::CurrentThread, Flavor::WorkStealing] {
        let rt = Builder::new(flavor)
            .worker_threads(2)
            .event_interval(1)
            .global_queue_interval(1)
            .enable_io()
            .enable_time()
            .build()
            .unwrap();
        let sum = rt.block_on(async {
            let tasks: Vec<_> = (0..100).map(|i| spawn(async move { i })).collect();
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..100).sum::<i32>(), "{flavor:?}");
    }
}

#[test]
fn an_interval_of_one_still_runs_remote_work_beside_a_busy_task() {
    // With `global_queue_interval(1)` the remote queue is looked at before
    // every local task: a task woken from another thread still runs beside
    // a local one that keeps itself runnable forever.
    let rt = Builder::new_current_thread()
        .global_queue_interval(1)
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    rt.block_on(async move {
        let spinner = spawn(async {
            loop {
                moduvex_runtime::yield_now().await;
            }
        });
        let remote = thread::spawn(move || tx.send(()).unwrap());
        let task = spawn(async move {
            remote.join().unwrap();
            rx.recv().unwrap()
        });
        task.await.unwrap();
        spinner.abort();
    });
}

// ── default flavor ─────────────────────────────────────────────────────────

#[test]
fn runtime_new_and_builder_default_to_work_stealing() {
    assert_eq!(
        Runtime::new().unwrap().handle().flavor(),
        Flavor::WorkStealing
    );
    assert_eq!(
        Runtime::builder().build().unwrap().handle().flavor(),
        Flavor::WorkStealing
    );
    let tpc = Runtime::builder()
        .flavor(Flavor::ThreadPerCore)
        .build()
        .unwrap();
    assert_eq!(tpc.handle().flavor(), Flavor::ThreadPerCore);
}

#[moduvex_runtime::main]
async fn default_main() -> Flavor {
    Handle::current().flavor()
}

#[test]
fn main_without_a_flavor_is_work_stealing() {
    assert_eq!(default_main(), Flavor::WorkStealing);
}

#[moduvex_runtime::test(worker_threads = 2)]
async fn worker_threads_alone_is_work_stealing() {
    assert_eq!(Handle::current().flavor(), Flavor::WorkStealing);
    assert_eq!(Handle::current().worker_threads(), 2);
}

#[moduvex_runtime::test(flavor = "multi_thread")]
async fn multi_thread_is_work_stealing() {
    assert_eq!(Handle::current().flavor(), Flavor::WorkStealing);
}

#[moduvex_runtime::test(flavor = "thread_per_core", worker_threads = 1)]
async fn thread_per_core_is_one_word_away() {
    assert_eq!(Handle::current().flavor(), Flavor::ThreadPerCore);
}

// ── #[track_caller] ────────────────────────────────────────────────────────

/// Runs each probe on a helper thread and returns the file each one's
/// panic was reported at (only that thread's panics are recorded; others
/// go to the previous hook).
/// A named misuse that must panic.
type Probe = (&'static str, Box<dyn FnOnce() + Send>);

fn panic_locations(probes: Vec<Probe>) -> Vec<(String, String)> {
    use std::sync::Mutex;
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let prev = Arc::new(std::panic::take_hook());
    let (seen2, prev2) = (seen.clone(), prev.clone());
    std::panic::set_hook(Box::new(move |info| {
        if thread::current().name() == Some("track-caller-probe") {
            *seen2.lock().unwrap() = info.location().map(|l| l.file().to_string());
        } else {
            prev2(info);
        }
    }));
    let mut out = Vec::new();
    for (name, probe) in probes {
        let r = thread::Builder::new()
            .name("track-caller-probe".into())
            .spawn(probe)
            .unwrap()
            .join();
        assert!(r.is_err(), "{name} did not panic");
        out.push((
            name.to_string(),
            seen.lock().unwrap().take().unwrap_or_default(),
        ));
    }
    drop(std::panic::take_hook());
    match Arc::try_unwrap(prev) {
        Ok(prev) => std::panic::set_hook(prev),
        Err(_) => std::panic::set_hook(Box::new(|_| {})),
    }
    out
}

#[test]
fn misuse_panics_point_at_the_caller() {
    let probes: Vec<Probe> = vec![
        ("spawn", Box::new(|| drop(spawn(async {})))),
        (
            "spawn_local",
            Box::new(|| drop(moduvex_runtime::spawn_local(async {}))),
        ),
        ("Handle::current", Box::new(|| drop(Handle::current()))),
        (
            "task::id",
            Box::new(|| {
                let _ = moduvex_runtime::task::id();
            }),
        ),
        ("sleep", Box::new(|| drop(sleep(Duration::ZERO)))),
        (
            "block_in_place on current-thread",
            Box::new(|| {
                moduvex_runtime::block_on(async { moduvex_runtime::task::block_in_place(|| ()) })
            }),
        ),
        (
            "nested block_on",
            Box::new(|| moduvex_runtime::block_on(async { moduvex_runtime::block_on(async {}) })),
        ),
        (
            "nested Runtime::block_on",
            Box::new(|| {
                let rt = current_thread();
                rt.block_on(async { current_thread().block_on(async {}) })
            }),
        ),
        (
            "global_queue_interval(0)",
            Box::new(|| {
                Builder::new_multi_thread().global_queue_interval(0);
            }),
        ),
        (
            "event_interval(0)",
            Box::new(|| {
                Builder::new_multi_thread().event_interval(0);
            }),
        ),
        (
            "mpsc::channel(0)",
            Box::new(|| drop(moduvex_runtime::sync::mpsc::channel::<()>(0))),
        ),
    ];
    for (name, file) in panic_locations(probes) {
        assert!(file.ends_with("rt_api.rs"), "{name}: reported at {file}");
    }
}
