//! `JoinSet`: completion order, aborts, detaching and draining.

use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use moduvex_runtime::sync::oneshot;
use moduvex_runtime::task::JoinSet;
use moduvex_runtime::yield_now;

/// Counts its drops.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Yields until `done()` or a generous number of turns has passed.
async fn yield_until(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        yield_now().await;
    }
}

#[moduvex_runtime::test]
async fn results_come_in_completion_order() {
    let mut set = JoinSet::new();
    let mut senders = Vec::new();
    for i in 0..4u32 {
        let (tx, rx) = oneshot::channel::<()>();
        senders.push(Some(tx));
        set.spawn(async move {
            rx.await.unwrap();
            i
        });
    }
    for i in [2usize, 0, 3, 1] {
        senders[i].take().unwrap().send(()).unwrap();
        let got = set.join_next().await.unwrap().unwrap();
        assert_eq!(got as usize, i);
    }
    assert!(set.join_next().await.is_none());
    assert!(set.is_empty());
}

#[moduvex_runtime::test]
async fn finished_tasks_are_joined_in_the_order_they_finished() {
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut set = JoinSet::new();
    for i in 0..5u32 {
        let order = order.clone();
        set.spawn(async move {
            // Task i finishes after 5 - i yields: the last spawned first.
            for _ in 0..(5 - i) * 3 {
                yield_now().await;
            }
            order.lock().unwrap().push(i);
            i
        });
    }
    let mut joined = Vec::new();
    while let Some(res) = set.join_next().await {
        joined.push(res.unwrap());
    }
    assert_eq!(joined, *order.lock().unwrap());
    assert_eq!(joined.len(), 5);
}

#[moduvex_runtime::test]
async fn dropping_the_set_aborts_its_tasks() {
    let drops = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let guard = DropCounter(drops.clone());
        let started = started.clone();
        set.spawn(async move {
            let _guard = guard;
            started.fetch_add(1, Ordering::SeqCst);
            pending::<()>().await;
        });
    }
    yield_until(|| started.load(Ordering::SeqCst) == 8).await;
    assert_eq!(started.load(Ordering::SeqCst), 8);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(set);
    yield_until(|| drops.load(Ordering::SeqCst) == 8).await;
    assert_eq!(drops.load(Ordering::SeqCst), 8);
}

#[moduvex_runtime::test]
async fn abort_all_yields_cancelled_errors() {
    let mut set = JoinSet::new();
    for _ in 0..3 {
        set.spawn(pending::<()>());
    }
    set.spawn(async {});
    yield_now().await;
    set.abort_all();
    let mut cancelled = 0;
    let mut ok = 0;
    while let Some(res) = set.join_next().await {
        match res {
            Ok(()) => ok += 1,
            Err(e) => {
                assert!(e.is_cancelled());
                cancelled += 1;
            }
        }
    }
    assert_eq!(cancelled + ok, 4);
    assert!(cancelled >= 3);
}

#[moduvex_runtime::test]
async fn shutdown_empties_the_set() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..5 {
        let guard = DropCounter(drops.clone());
        set.spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        });
    }
    set.shutdown().await;
    assert!(set.is_empty());
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[moduvex_runtime::test]
async fn try_join_next_only_returns_finished_tasks() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<u8>();
    set.spawn(async move { rx.await.unwrap() });
    assert!(set.try_join_next().is_none());
    assert_eq!(set.len(), 1);
    tx.send(9).unwrap();
    let mut got = None;
    yield_until(|| {
        got = set.try_join_next();
        got.is_some()
    })
    .await;
    assert_eq!(got.unwrap().unwrap(), 9);
    assert!(set.is_empty());
}

#[moduvex_runtime::test]
async fn detached_tasks_keep_running() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel::<&'static str>();
    set.spawn(async move {
        rx.await.unwrap();
        done_tx.send("finished").unwrap();
    });
    set.detach_all();
    assert!(set.is_empty());
    drop(set);
    tx.send(()).unwrap();
    assert_eq!(done_rx.await.unwrap(), "finished");
}

#[moduvex_runtime::test]
async fn panics_are_reported_and_the_rest_still_join() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("one task fails") });
    set.spawn(async { 5 });
    let mut panics = 0;
    let mut values = Vec::new();
    while let Some(res) = set.join_next().await {
        match res {
            Ok(v) => values.push(v),
            Err(e) => {
                assert!(e.is_panic());
                panics += 1;
            }
        }
    }
    assert_eq!((panics, values), (1, vec![5]));
}

#[moduvex_runtime::test]
async fn many_tasks_and_local_tasks() {
    let mut set = JoinSet::new();
    for i in 0..1000u64 {
        if i % 2 == 0 {
            set.spawn(async move { i });
        } else {
            let rc = std::rc::Rc::new(i);
            set.spawn_local(async move { *rc });
        }
    }
    assert_eq!(set.len(), 1000);
    let total: u64 = set.join_all().await.into_iter().sum();
    assert_eq!(total, 999 * 1000 / 2);
}

#[moduvex_runtime::test]
async fn a_wake_from_another_thread_reaches_join_next() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<u32>();
    set.spawn(async move { rx.await.unwrap() + 1 });
    let sender = std::thread::spawn(move || tx.send(41).unwrap());
    assert_eq!(set.join_next().await.unwrap().unwrap(), 42);
    sender.join().unwrap();
}

#[moduvex_runtime::test]
async fn abort_handle_from_spawn_aborts_only_its_task() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let stuck = set.spawn(pending::<u32>());
    let other = set.spawn(async move {
        rx.await.unwrap();
        7u32
    });
    stuck.abort();
    let first = set.join_next().await.unwrap();
    assert!(first.unwrap_err().is_cancelled());
    assert!(stuck.is_finished());
    assert!(!other.is_finished());
    tx.send(()).unwrap();
    assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
    // Aborting a finished task does nothing.
    other.abort();
    assert!(set.join_next().await.is_none());
}
