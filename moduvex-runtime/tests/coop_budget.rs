//! The cooperative budget: every always-ready resource makes a task that
//! loops over it yield now and then, so its siblings (and timers) run on a
//! current-thread runtime; `unconstrained` lifts the budget,
//! `consume_budget` spends it by hand, and an operation that turns out not
//! ready costs nothing.
//!
//! Each loop is bounded (1000 operations, far more than one poll's budget):
//! without the budget it would simply finish without the sibling having
//! run, and the assertion says so. The loops that wait for a timer are not
//! bounded and run under a hang guard.
#![cfg(not(loom))]

mod sync_common;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use moduvex_runtime::sync::Semaphore;
use moduvex_runtime::sync::{broadcast, mpsc, oneshot, watch, Barrier, Mutex, Notify, RwLock};
use moduvex_runtime::task::{consume_budget, unconstrained, JoinSet};
use moduvex_runtime::{block_on, spawn, time, yield_now};
use sync_common::hang_guard;

/// Far more operations than one poll's budget.
const OPS: usize = 1000;

/// Spawns a sibling task that raises the returned flag when it runs.
fn sibling() -> Arc<AtomicBool> {
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    spawn(async move { r.store(true, Ordering::SeqCst) });
    ran
}

/// Runs `body` (a loop of always-ready operations) on a current-thread
/// runtime with a sibling task spawned first; records `what` in `failed`
/// unless the sibling ran (`constrained`) or did not (inside
/// `unconstrained`).
fn check<F: Future<Output = ()>>(
    failed: &mut Vec<String>,
    what: &str,
    constrained: bool,
    body: impl FnOnce() -> F,
) {
    let ran = block_on(async {
        let ran = sibling();
        if constrained {
            body().await;
        } else {
            unconstrained(body()).await;
        }
        ran.load(Ordering::SeqCst)
    });
    if ran != constrained {
        failed.push(what.to_owned());
    }
}

/// Every ready path of the sync primitives and timers, as one loop each.
fn all_loops(constrained: bool) -> Vec<String> {
    let mut failed = Vec::new();
    let f = &mut failed;
    check(f, "mpsc bounded send+recv", constrained, || async {
        let (tx, mut rx) = mpsc::channel(1);
        for i in 0..OPS {
            tx.send(i).await.unwrap();
            assert_eq!(rx.recv().await, Some(i));
        }
    });
    check(f, "mpsc reserve", constrained, || async {
        let (tx, mut rx) = mpsc::channel(1);
        for i in 0..OPS {
            tx.reserve().await.unwrap().send(i);
            assert_eq!(rx.try_recv(), Ok(i));
        }
    });
    check(f, "mpsc unbounded recv", constrained, || async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..OPS {
            tx.send(i).unwrap();
        }
        for i in 0..OPS {
            assert_eq!(rx.recv().await, Some(i));
        }
    });
    check(f, "mpsc recv_many", constrained, || async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut buf = Vec::new();
        for i in 0..OPS {
            tx.send(i).unwrap();
            assert_eq!(rx.recv_many(&mut buf, 4).await, 1);
        }
    });
    check(f, "oneshot recv", constrained, || async {
        for i in 0..OPS {
            let (tx, rx) = oneshot::channel();
            tx.send(i).unwrap();
            assert_eq!(rx.await, Ok(i));
        }
    });
    check(f, "oneshot Sender::closed", constrained, || async {
        let (mut tx, rx) = oneshot::channel::<u8>();
        drop(rx);
        for _ in 0..OPS {
            tx.closed().await;
        }
    });
    check(f, "broadcast recv", constrained, || async {
        let (tx, mut rx) = broadcast::channel(4);
        for i in 0..OPS {
            tx.send(i).unwrap();
            assert_eq!(rx.recv().await, Ok(i));
        }
    });
    check(f, "watch changed", constrained, || async {
        let (tx, mut rx) = watch::channel(0);
        for i in 0..OPS {
            tx.send_replace(i);
            rx.changed().await.unwrap();
        }
    });
    check(f, "Notify notified", constrained, || async {
        let notify = Notify::new();
        for _ in 0..OPS {
            notify.notify_one();
            notify.notified().await;
        }
    });
    check(f, "Semaphore acquire", constrained, || async {
        let sem = Semaphore::new(1);
        for _ in 0..OPS {
            drop(sem.acquire().await.unwrap());
        }
    });
    check(f, "Mutex lock", constrained, || async {
        let m = Mutex::new(0);
        for _ in 0..OPS {
            *m.lock().await += 1;
        }
    });
    check(f, "RwLock read and write", constrained, || async {
        let l = RwLock::new(0);
        for _ in 0..OPS / 2 {
            *l.write().await += 1;
            assert!(*l.read().await > 0);
        }
    });
    check(f, "Barrier wait", constrained, || async {
        let b = Barrier::new(1);
        for _ in 0..OPS {
            assert!(b.wait().await.is_leader());
        }
    });
    check(f, "elapsed sleep", constrained, || async {
        let mut s = pin!(time::sleep(Duration::ZERO));
        for _ in 0..OPS {
            s.as_mut().await;
        }
    });
    check(f, "consume_budget", constrained, || async {
        for _ in 0..OPS {
            consume_budget().await;
        }
    });
    failed
}

#[test]
fn every_ready_path_spends_budget_and_yields() {
    let failed = all_loops(true);
    assert!(
        failed.is_empty(),
        "{OPS} ready operations in a row never yielded: {failed:?}"
    );
}

#[test]
fn unconstrained_lifts_the_budget() {
    let failed = all_loops(false);
    assert!(
        failed.is_empty(),
        "yielded inside unconstrained: {failed:?}"
    );
}

/// Spawns `OPS` trivial tasks and waits (yielding) until all have run.
async fn finished_tasks() -> Vec<moduvex_runtime::JoinHandle<usize>> {
    let done = Arc::new(AtomicUsize::new(0));
    let handles = (0..OPS)
        .map(|i| {
            let done = Arc::clone(&done);
            spawn(async move {
                done.fetch_add(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < OPS {
        yield_now().await;
    }
    handles
}

#[test]
fn join_handles_of_finished_tasks_spend_budget() {
    block_on(async {
        let handles = finished_tasks().await;
        let ran = sibling();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i);
        }
        assert!(
            ran.load(Ordering::SeqCst),
            "awaiting finished JoinHandles never yielded"
        );
    });
}

#[test]
fn join_set_join_next_spends_budget() {
    block_on(async {
        let mut set = JoinSet::new();
        for h in finished_tasks().await {
            set.insert(h);
        }
        let ran = sibling();
        let mut n = 0;
        while let Some(res) = set.join_next().await {
            res.unwrap();
            n += 1;
        }
        assert_eq!(n, OPS);
        assert!(
            ran.load(Ordering::SeqCst),
            "join_next over finished tasks never yielded"
        );
    });
}

/// Spawns a sibling task that raises the returned flag once a timer
/// fires: a loop waiting for it hangs unless it yields (the hang guard
/// reports that).
fn timer_fired() -> Arc<AtomicBool> {
    let fired = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&fired);
    spawn(async move {
        time::sleep(Duration::from_millis(1)).await;
        f.store(true, Ordering::SeqCst);
    });
    fired
}

#[test]
fn always_ready_channel_loops_let_a_timer_task_run() {
    hang_guard("mpsc loop vs a sibling timer", || {
        block_on(async {
            let fired = timer_fired();
            let (tx, mut rx) = mpsc::channel(1);
            while !fired.load(Ordering::SeqCst) {
                tx.send(1u8).await.unwrap();
                rx.recv().await.unwrap();
            }
        })
    });
    hang_guard("watch loop vs a sibling timer", || {
        block_on(async {
            let fired = timer_fired();
            let (tx, mut rx) = watch::channel(0u32);
            while !fired.load(Ordering::SeqCst) {
                tx.send_modify(|v| *v += 1);
                rx.changed().await.unwrap();
            }
        })
    });
    hang_guard("broadcast loop vs a sibling timer", || {
        block_on(async {
            let fired = timer_fired();
            let (tx, mut rx) = broadcast::channel(2);
            while !fired.load(Ordering::SeqCst) {
                tx.send(1u8).unwrap();
                rx.recv().await.unwrap();
            }
        })
    });
}

/// Counts how many ready receives one poll may still complete.
fn ready_ops_left(
    cx: &mut std::task::Context<'_>,
    rx: &mut mpsc::UnboundedReceiver<usize>,
) -> usize {
    let mut n = 0;
    while pin!(rx.recv()).poll(cx).is_ready() {
        n += 1;
    }
    n
}

#[test]
fn operations_that_are_not_ready_cost_no_budget() {
    let (baseline, after) = hang_guard("refund on pending", || {
        block_on(async {
            let (tx, mut full) = mpsc::unbounded_channel();
            for i in 0..10 * OPS {
                tx.send(i).unwrap();
            }
            // Sources that are not ready, each polled many times in one poll.
            let (_etx, mut empty) = mpsc::channel::<u8>(1);
            let sem = Semaphore::new(0);
            let notify = Notify::new();
            let (_wtx, mut wrx) = watch::channel(0);
            let (_btx, mut brx) = broadcast::channel::<u8>(1);
            let (_otx, mut orx) = oneshot::channel::<u8>();
            let (mut ctx, _crx) = oneshot::channel::<u8>();
            let barrier = Barrier::new(2);
            let lock = Mutex::new(());
            let _held = lock.try_lock().unwrap();
            let mut long = pin!(time::sleep(Duration::from_secs(3600)));
            let mut set = JoinSet::new();
            set.spawn(std::future::pending::<()>());
            let mut baseline = None;
            let after = poll_fn(|cx| {
                if baseline.is_none() {
                    // Spent: the refused receive woke this task, which is
                    // polled again with a fresh budget.
                    baseline = Some(ready_ops_left(cx, &mut full));
                    return Poll::Pending;
                }
                for _ in 0..OPS {
                    assert!(pin!(empty.recv()).poll(cx).is_pending());
                    assert!(pin!(sem.acquire()).poll(cx).is_pending());
                    assert!(pin!(notify.notified()).poll(cx).is_pending());
                    assert!(pin!(wrx.changed()).poll(cx).is_pending());
                    assert!(pin!(brx.recv()).poll(cx).is_pending());
                    assert!(pin!(&mut orx).poll(cx).is_pending());
                    assert!(ctx.poll_closed(cx).is_pending());
                    assert!(pin!(barrier.wait()).poll(cx).is_pending());
                    assert!(pin!(lock.lock()).poll(cx).is_pending());
                    assert!(long.as_mut().poll(cx).is_pending());
                    assert!(set.poll_join_next(cx).is_pending());
                }
                Poll::Ready(ready_ops_left(cx, &mut full))
            })
            .await;
            (baseline.unwrap_or(0), after)
        })
    });
    assert!(
        baseline > 0 && baseline < 10 * OPS,
        "one poll completes a bounded number of receives, got {baseline}"
    );
    assert_eq!(
        after, baseline,
        "operations that were not ready spent budget"
    );
}
