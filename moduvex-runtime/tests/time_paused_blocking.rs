//! Auto-advance waits for blocking work: while a `spawn_blocking` closure
//! of a paused runtime is in flight the clock does not jump (its result may
//! be what the runtime is waiting for), as tokio's; once it finishes, the
//! jump happens, also when nobody awaits the closure.
//!
//! Every scenario runs under a hang guard: a park loop that is not woken
//! when blocking work finishes would wait for its timer in real time (an
//! hour).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use moduvex_runtime::time::{pause, sleep, timeout, Instant};
use moduvex_runtime::{spawn, spawn_blocking, Builder};

const HOUR: Duration = Duration::from_secs(3600);

/// Runs `f` on a helper thread and fails if it has not finished after 20 s.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s (the park loop was not woken)")
        }
    }
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A sleeper an hour away and a blocking closure that looks whether it
/// woke while the closure ran (it must not have: the clock may not jump).
async fn sleeper_waits_for_the_blocking_closure() {
    pause();
    let start = Instant::now();
    let woke = Arc::new(AtomicBool::new(false));
    let w = woke.clone();
    let sleeper = spawn(async move {
        sleep(HOUR).await;
        w.store(true, Ordering::SeqCst);
    });
    let seen = woke.clone();
    let blocking = spawn_blocking(move || {
        // Long enough for the runtime to go idle many times over.
        std::thread::sleep(Duration::from_millis(50));
        seen.load(Ordering::SeqCst)
    });
    assert!(
        !blocking.await.unwrap(),
        "the clock jumped an hour while a blocking closure was in flight"
    );
    sleeper.await.unwrap();
    assert_eq!(Instant::now(), start + HOUR, "and jumped once it finished");
}

#[test]
fn no_jump_while_spawn_blocking_is_in_flight() {
    guarded("free block_on", || {
        moduvex_runtime::block_on(sleeper_waits_for_the_blocking_closure())
    });
}

#[test]
fn no_jump_while_a_runtime_s_blocking_task_is_in_flight() {
    guarded("Runtime::block_on", || {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(sleeper_waits_for_the_blocking_closure());
    });
}

#[test]
fn a_timeout_around_blocking_work_does_not_fire_early() {
    guarded("timeout(blocking)", || {
        let rt = Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let work = handle.spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(30));
                5
            });
            let out = timeout(Duration::from_secs(1), work).await;
            assert_eq!(out.map(Result::unwrap), Ok(5), "the clock jumped first");
        });
    });
}

#[test]
fn a_detached_blocking_task_finishing_lets_the_clock_jump() {
    // Nobody awaits the closure: its end must still wake the park loop,
    // which is blocked in real time for the hour-long timer.
    guarded("detached spawn_blocking", || {
        moduvex_runtime::block_on(async {
            pause();
            let start = Instant::now();
            drop(spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(20));
            }));
            sleep(HOUR).await;
            assert_eq!(Instant::now(), start + HOUR);
        })
    });
}

#[test]
fn a_panicking_blocking_closure_still_lets_the_clock_jump() {
    guarded("panicking spawn_blocking", || {
        moduvex_runtime::block_on(async {
            pause();
            let start = Instant::now();
            let failed = spawn_blocking(|| panic!("blocking closure fails"));
            sleep(HOUR).await;
            assert_eq!(Instant::now(), start + HOUR);
            assert!(failed.await.unwrap_err().is_panic());
        })
    });
}

#[test]
fn spawn_blocking_under_an_enter_guard_holds_the_clock_too() {
    // Spawned from outside `block_on`, with the runtime entered: the
    // closure runs on that runtime's pool, so it holds that clock.
    guarded("spawn_blocking under Runtime::enter", || {
        let rt = Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        let woke = Arc::new(AtomicBool::new(false));
        let seen = woke.clone();
        let blocking = {
            let _entered = rt.enter();
            spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(50));
                seen.load(Ordering::SeqCst)
            })
        };
        rt.block_on(async move {
            let sleeper = spawn(async move {
                sleep(HOUR).await;
                woke.store(true, Ordering::SeqCst);
            });
            assert!(
                !blocking.await.unwrap(),
                "the clock jumped an hour while a blocking closure was in flight"
            );
            sleeper.await.unwrap();
        });
    });
}
