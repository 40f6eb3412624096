//! The paused test clock: `pause`, `advance`, auto-advance and
//! `start_paused`, as tokio's `time::pause` behaves.
//!
//! Every scenario runs on a helper thread under a hang guard: a paused
//! clock that fails to jump would leave a test sleeping for an hour. The
//! guard bounds the wait; nothing here asserts on real elapsed time.

use std::future::pending;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use moduvex_runtime::time::{
    self, advance, interval, pause, sleep, sleep_until, timeout, Instant, MissedTickBehavior,
};
use moduvex_runtime::{spawn, Builder};

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
            panic!("{what}: not finished after 20 s (the paused clock did not jump)")
        }
    }
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[test]
fn an_hour_long_sleep_completes_at_once_and_now_reports_the_hour() {
    guarded("sleep(1h) under pause", || {
        moduvex_runtime::block_on(async {
            pause();
            let start = Instant::now();
            sleep(HOUR).await;
            // Auto-advance jumps exactly to the deadline, no further (paused
            // time: exact, not a wall-clock measurement).
            assert_eq!(Instant::now(), start + HOUR);
        })
    });
}

#[test]
fn a_paused_clock_stands_still_while_tasks_run() {
    guarded("paused clock", || {
        moduvex_runtime::block_on(async {
            pause();
            let t0 = Instant::now();
            for _ in 0..100 {
                moduvex_runtime::yield_now().await;
            }
            std::thread::sleep(Duration::from_millis(5));
            assert_eq!(Instant::now(), t0, "paused: only advance moves it");
        })
    });
}

#[test]
fn sleeps_in_several_tasks_wake_in_deadline_order_under_auto_advance() {
    let order = guarded("spawned sleeps under pause", || {
        moduvex_runtime::block_on(async {
            pause();
            let order = Arc::new(Mutex::new(Vec::new()));
            let start = Instant::now();
            let tasks: Vec<_> = [30u64, 10, 20, 50, 40]
                .into_iter()
                .map(|mins| {
                    let order = order.clone();
                    spawn(async move {
                        sleep(Duration::from_secs(mins * 60)).await;
                        assert_eq!(Instant::now(), start + Duration::from_secs(mins * 60));
                        order.lock().unwrap().push(mins);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            order.lock().unwrap().clone()
        })
    });
    assert_eq!(order, [10, 20, 30, 40, 50]);
}

#[test]
fn advance_fires_every_timer_due_in_deadline_order_then_lets_them_run() {
    guarded("advance", || {
        moduvex_runtime::block_on(async {
            pause();
            let start = Instant::now();
            let order = Arc::new(Mutex::new(Vec::new()));
            // Spawned out of order; deadlines a millisecond apart or more.
            for ms in [7u64, 3, 12, 1, 9, 5, 30] {
                let order = order.clone();
                spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    order.lock().unwrap().push((ms, Instant::now()));
                });
            }
            // Let every task file its timer.
            moduvex_runtime::yield_now().await;
            advance(Duration::from_millis(10)).await;
            let seen = order.lock().unwrap().clone();
            let ms: Vec<u64> = seen.iter().map(|&(ms, _)| ms).collect();
            assert_eq!(ms, [1, 3, 5, 7, 9], "fired in deadline order, and ran");
            // The clock jumped in one step: every woken task saw its end.
            let end = start + Duration::from_millis(10);
            assert!(seen.iter().all(|&(_, at)| at == end), "{seen:?}");
            assert_eq!(Instant::now(), end);
            advance(Duration::from_millis(5)).await;
            assert_eq!(order.lock().unwrap().len(), 6, "12 ms fired, 30 ms not");
            advance(Duration::from_millis(15)).await;
            assert_eq!(order.lock().unwrap().len(), 7);
            assert_eq!(Instant::now(), start + Duration::from_millis(30));
        })
    });
}

#[test]
fn advance_moves_the_clock_with_no_timer_at_all() {
    guarded("advance without timers", || {
        moduvex_runtime::block_on(async {
            pause();
            let t0 = Instant::now();
            advance(Duration::from_secs(90)).await;
            assert_eq!(t0.elapsed(), Duration::from_secs(90));
            advance(Duration::ZERO).await;
            assert_eq!(t0.elapsed(), Duration::from_secs(90));
        })
    });
}

#[test]
fn interval_ticks_follow_the_paused_clock() {
    guarded("interval under pause", || {
        moduvex_runtime::block_on(async {
            pause();
            let period = Duration::from_secs(60);
            let mut ticks = interval(period);
            let first = ticks.tick().await;
            assert_eq!(first, Instant::now(), "the first tick is at once");
            for k in 1..=5u32 {
                let at = ticks.tick().await;
                assert_eq!(at, first + period * k);
                assert_eq!(Instant::now(), at, "auto-advance lands on the tick");
            }
            // Missed ticks by an advance past several: Skip drops them.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
            advance(period * 3 + Duration::from_secs(1)).await;
            let late = ticks.tick().await;
            assert_eq!(late, first + period * 6, "the one missed tick, late");
            assert_eq!(ticks.tick().await, first + period * 9);
        })
    });
}

#[test]
fn timeout_elapses_on_the_paused_clock() {
    guarded("timeout under pause", || {
        moduvex_runtime::block_on(async {
            pause();
            let start = Instant::now();
            assert!(timeout(HOUR, pending::<()>()).await.is_err());
            assert_eq!(Instant::now(), start + HOUR);
            // The inner future's own timer is earlier: it wins.
            let inner = timeout(HOUR, async {
                sleep(Duration::from_secs(5)).await;
                7
            });
            assert_eq!(inner.await, Ok(7));
            assert_eq!(Instant::now(), start + HOUR + Duration::from_secs(5));
        })
    });
}

#[test]
fn sleep_until_a_deadline_made_from_a_paused_now() {
    guarded("sleep_until under pause", || {
        moduvex_runtime::block_on(async {
            pause();
            let deadline = Instant::now() + Duration::from_secs(24 * 3600);
            sleep_until(deadline).await;
            assert_eq!(Instant::now(), deadline);
            assert!(sleep_until(deadline - Duration::from_secs(1)).is_elapsed());
        })
    });
}

#[test]
fn start_paused_through_the_builder() {
    guarded("Builder::start_paused", || {
        let rt = Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        let start = rt.block_on(async { Instant::now() });
        // The clock stays paused between two `block_on` calls.
        rt.block_on(async move {
            std::thread::sleep(Duration::from_millis(2));
            assert_eq!(Instant::now(), start, "paused from the start");
            sleep(HOUR).await;
            assert_eq!(Instant::now(), start + HOUR);
            // A task spawned onto the runtime sees the same clock.
            let seen = spawn(async { Instant::now() }).await.unwrap();
            assert_eq!(seen, start + HOUR);
        });
    });
}

#[moduvex_runtime::main(flavor = "current_thread", start_paused = true)]
async fn paused_main() -> Duration {
    let start = Instant::now();
    sleep(HOUR).await;
    start.elapsed()
}

#[test]
fn start_paused_through_the_main_macro() {
    assert_eq!(guarded("main(start_paused)", paused_main), HOUR);
}

#[moduvex_runtime::main(flavor = "current_thread", start_paused = false)]
async fn running_main() -> bool {
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    Instant::now() > t0
}

#[test]
fn start_paused_false_leaves_the_clock_running() {
    assert!(guarded("main(start_paused = false)", running_main));
}

#[test]
fn resume_lets_the_clock_run_on_from_where_it_stood() {
    guarded("resume", || {
        moduvex_runtime::block_on(async {
            pause();
            let t0 = Instant::now();
            advance(HOUR).await;
            time::resume();
            let t1 = Instant::now();
            assert!(t1 >= t0 + HOUR, "kept the hour");
            // Running again: a short sleep takes real time, on this clock.
            sleep(Duration::from_millis(2)).await;
            assert!(Instant::now() >= t1 + Duration::from_millis(2));
            // And pauses again.
            pause();
            let t2 = Instant::now();
            sleep(HOUR).await;
            assert_eq!(Instant::now(), t2 + HOUR);
        })
    });
}

#[test]
fn each_free_block_on_starts_with_a_running_clock() {
    guarded("block_on after a paused one", || {
        moduvex_runtime::block_on(async {
            pause();
            sleep(HOUR).await;
        });
        moduvex_runtime::block_on(async {
            let t0 = Instant::now();
            std::thread::sleep(Duration::from_millis(2));
            assert!(Instant::now() > t0, "a fresh runtime's clock runs");
            // And its timers are not taken for fired by the last one's
            // (whose wheel time ran an hour ahead): a sleep is never early.
            let mut fresh = std::pin::pin!(sleep(Duration::from_millis(20)));
            assert!(
                futures_lite::future::poll_once(fresh.as_mut())
                    .await
                    .is_none(),
                "a 20 ms sleep was taken for fired at once"
            );
            fresh.await;
        });
    });
}

#[test]
fn outside_a_paused_runtime_instant_is_std() {
    guarded("other threads", || {
        moduvex_runtime::block_on(async {
            pause();
            advance(HOUR).await;
            let paused_now = Instant::now();
            let std_now = std::thread::spawn(Instant::now).join().unwrap();
            assert!(std_now < paused_now, "another thread reads std's clock");
        })
    });
}

#[test]
fn local_set_tasks_sleep_on_the_paused_clock() {
    guarded("LocalSet under pause", || {
        moduvex_runtime::block_on(async {
            pause();
            let start = Instant::now();
            let local = moduvex_runtime::task::LocalSet::new();
            let woke_at = local
                .run_until(async {
                    let rc = std::rc::Rc::new(HOUR);
                    moduvex_runtime::task::spawn_local(async move {
                        sleep(*rc).await;
                        Instant::now()
                    })
                    .await
                    .unwrap()
                })
                .await;
            assert_eq!(woke_at, start + HOUR);
        })
    });
}
