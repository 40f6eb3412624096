//! Timers on every runtime flavor: each worker drives its own wheel, and a
//! timer reaches its task wherever that task runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moduvex_runtime::time::{interval, sleep, sleep_until, timeout, Instant};
use moduvex_runtime::{spawn, Flavor, Runtime};

const FLAVORS: [Flavor; 3] = [
    Flavor::CurrentThread,
    Flavor::ThreadPerCore,
    Flavor::WorkStealing,
];

fn rt(flavor: Flavor) -> Runtime {
    Runtime::builder()
        .flavor(flavor)
        .worker_threads(2)
        .build()
        .unwrap()
}

#[test]
fn sleeps_in_many_tasks_complete_on_every_flavor() {
    for flavor in FLAVORS {
        let rt = rt(flavor);
        let done = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let start = Instant::now();
            let handles: Vec<_> = (0..200u64)
                .map(|i| {
                    let done = done.clone();
                    spawn(async move {
                        let deadline = start + Duration::from_micros(250 * (i % 40));
                        sleep_until(deadline).await;
                        assert!(Instant::now() >= deadline);
                        done.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 200, "{flavor:?}");
    }
}

#[test]
fn timeouts_and_intervals_in_tasks_on_every_flavor() {
    for flavor in FLAVORS {
        let rt = rt(flavor);
        rt.block_on(async {
            let pending = spawn(timeout(
                Duration::from_millis(5),
                std::future::pending::<()>(),
            ));
            let ready = spawn(timeout(Duration::from_secs(5), async {
                sleep(Duration::from_millis(1)).await;
                4
            }));
            let ticks = spawn(async {
                let mut i = interval(Duration::from_millis(2));
                let first = i.tick().await;
                let mut last = first;
                for _ in 0..3 {
                    last = i.tick().await;
                }
                last - first
            });
            assert!(pending.await.unwrap().is_err(), "{flavor:?}");
            assert_eq!(ready.await.unwrap(), Ok(4), "{flavor:?}");
            assert_eq!(ticks.await.unwrap(), Duration::from_millis(6), "{flavor:?}");
        });
    }
}

#[test]
fn sleep_in_block_on_of_a_multi_thread_runtime() {
    for flavor in FLAVORS {
        let rt = rt(flavor);
        let deadline = rt.block_on(async {
            let s = sleep(Duration::from_millis(5));
            let d = s.deadline();
            s.await;
            d
        });
        assert!(Instant::now() >= deadline, "{flavor:?}");
    }
}
