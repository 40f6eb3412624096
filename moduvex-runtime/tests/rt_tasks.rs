//! Task lifecycle on the current-thread runtime: spawn, join, wake, abort,
//! panics and shutdown.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use moduvex_runtime::{block_on, spawn, spawn_local, yield_now, JoinHandle};

#[test]
fn spawn_and_join_many() {
    let sum = block_on(async {
        let handles: Vec<JoinHandle<u64>> = (0..1000u64).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 999 * 1000 / 2);
}

#[test]
fn spawned_tasks_run_without_being_awaited() {
    let hits = Arc::new(AtomicUsize::new(0));
    block_on({
        let hits = hits.clone();
        async move {
            for _ in 0..10 {
                let hits = hits.clone();
                drop(spawn(async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                }));
            }
            // Detached tasks still run: give them a turn.
            yield_now().await;
        }
    });
    assert_eq!(hits.load(Ordering::SeqCst), 10);
}

#[test]
fn yield_now_lets_others_run_in_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    block_on({
        let log = log.clone();
        async move {
            let mut handles = Vec::new();
            for id in 0..3 {
                let log = log.clone();
                handles.push(spawn(async move {
                    for step in 0..3 {
                        log.lock().unwrap().push((step, id));
                        yield_now().await;
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    let log = log.lock().unwrap().clone();
    let expected: Vec<_> = (0..3).flat_map(|s| (0..3).map(move |id| (s, id))).collect();
    assert_eq!(log, expected, "yielding tasks must round-robin");
}

/// A future that wakes itself while being polled, `n` times.
struct SelfWake {
    left: usize,
}

impl Future for SelfWake {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn self_wake_while_running_is_not_lost() {
    block_on(async {
        spawn(SelfWake { left: 100 }).await.unwrap();
        // The main future too.
        SelfWake { left: 100 }.await;
    });
}

#[test]
fn self_wake_by_clone_while_running_is_not_lost() {
    block_on(async {
        let mut left = 50;
        spawn(poll_fn(move |cx| {
            if left == 0 {
                return Poll::Ready(());
            }
            left -= 1;
            // Deliberately wake by value (a clone), not by reference.
            #[allow(clippy::waker_clone_wake)]
            cx.waker().clone().wake();
            Poll::Pending
        }))
        .await
        .unwrap();
    });
}

#[test]
fn wake_from_another_thread_reaches_a_parked_runtime() {
    let out = block_on(async {
        let slot: Arc<Mutex<(bool, Option<Waker>)>> = Arc::new(Mutex::new((false, None)));
        let remote = slot.clone();
        let task = spawn(poll_fn(move |cx| {
            let mut s = remote.lock().unwrap();
            if s.0 {
                Poll::Ready(7)
            } else {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }));
        let setter = slot.clone();
        std::thread::spawn(move || {
            // Let the runtime run out of work and park in epoll_wait.
            std::thread::sleep(Duration::from_millis(50));
            let waker = {
                let mut s = setter.lock().unwrap();
                s.0 = true;
                s.1.take()
            };
            waker.expect("task registered its waker").wake();
        });
        task.await.unwrap()
    });
    assert_eq!(out, 7);
}

#[test]
fn main_future_woken_from_another_thread() {
    let done = Arc::new(Mutex::new((false, None::<Waker>)));
    let d2 = done.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        let w = {
            let mut g = d2.lock().unwrap();
            g.0 = true;
            g.1.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    });
    block_on(poll_fn(|cx| {
        let mut g = done.lock().unwrap();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }));
    t.join().unwrap();
}

/// Counts drops of the future it wraps.
struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn pending_forever(counter: DropCounter) {
    let _c = counter;
    std::future::pending::<()>().await
}

#[test]
fn abort_idle_task() {
    let drops = Arc::new(AtomicUsize::new(0));
    block_on({
        let drops = drops.clone();
        async move {
            let h = spawn(pending_forever(DropCounter(drops.clone())));
            yield_now().await; // let it run once and go idle
            assert!(!h.is_finished());
            h.abort();
            h.abort(); // twice: harmless
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic());
            assert_eq!(err.to_string(), format!("task {} was cancelled", err.id()));
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn abort_before_first_poll() {
    block_on(async {
        let h = spawn(async { 1 });
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn abort_running_task_from_inside_its_poll() {
    let drops = Arc::new(AtomicUsize::new(0));
    block_on({
        let drops = drops.clone();
        async move {
            let slot: Arc<Mutex<Option<JoinHandle<()>>>> = Arc::new(Mutex::new(None));
            let inner = slot.clone();
            let counter = DropCounter(drops.clone());
            let h = spawn(async move {
                let _c = counter;
                loop {
                    // Abort ourselves while running: cancelled after this poll.
                    if let Some(me) = inner.lock().unwrap().as_ref() {
                        me.abort();
                    }
                    yield_now().await;
                }
            });
            *slot.lock().unwrap() = Some(h);
            loop {
                if slot.lock().unwrap().as_ref().unwrap().is_finished() {
                    break;
                }
                yield_now().await;
            }
            let h = slot.lock().unwrap().take().unwrap();
            assert!(h.await.unwrap_err().is_cancelled());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn abort_finished_task_keeps_its_output() {
    block_on(async {
        let h = spawn(async { 5 });
        while !h.is_finished() {
            yield_now().await;
        }
        h.abort();
        h.abort();
        assert_eq!(h.await.unwrap(), 5);
    });
}

#[test]
fn abort_from_another_thread() {
    let drops = Arc::new(AtomicUsize::new(0));
    block_on({
        let drops = drops.clone();
        async move {
            let h = spawn(pending_forever(DropCounter(drops.clone())));
            yield_now().await;
            let h = std::thread::spawn(move || {
                h.abort();
                h
            })
            .join()
            .unwrap();
            assert!(h.await.unwrap_err().is_cancelled());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn panic_in_task_is_returned_through_join_handle() {
    block_on(async {
        let h = spawn(async {
            if true {
                panic!("boom");
            }
            1
        });
        let err = h.await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        assert_eq!(
            err.to_string(),
            format!("task {} panicked with message \"boom\"", err.id())
        );
        let payload = err.into_panic();
        assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "boom");
        // The runtime keeps working after a task panicked.
        assert_eq!(spawn(async { 2 }).await.unwrap(), 2);
    });
}

#[test]
fn dropping_the_runtime_drops_each_pending_future_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    block_on({
        let drops = drops.clone();
        async move {
            for _ in 0..100 {
                drop(spawn(pending_forever(DropCounter(drops.clone()))));
            }
            // Some never polled, some idle.
            yield_now().await;
            for _ in 0..100 {
                drop(spawn(pending_forever(DropCounter(drops.clone()))));
            }
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), 200);
}

#[test]
fn join_handle_of_task_dropped_at_shutdown_reports_cancelled() {
    #[allow(clippy::async_yields_async)]
    let handle = block_on(async { spawn(std::future::pending::<()>()) });
    let err = block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn waker_outliving_its_runtime_is_harmless() {
    let stash: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    block_on({
        let stash = stash.clone();
        async move {
            drop(spawn(poll_fn(move |cx| {
                *stash.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })));
            yield_now().await;
        }
    });
    let waker = stash.lock().unwrap().take().unwrap();
    waker.wake_by_ref();
    std::thread::spawn(move || waker.wake()).join().unwrap();
    // And a new runtime on this thread is unaffected.
    assert_eq!(block_on(async { spawn(async { 3 }).await.unwrap() }), 3);
}

#[test]
#[should_panic(expected = "`JoinHandle` polled after it returned its result")]
fn join_handle_polled_after_completion_panics() {
    block_on(async {
        let mut h = spawn(async { 1 });
        assert_eq!((&mut h).await.unwrap(), 1);
        let _ = (&mut h).await;
    });
}

#[test]
#[should_panic(expected = "`spawn` called outside a moduvex runtime")]
fn spawn_outside_runtime_panics() {
    drop(spawn(async {}));
}

#[test]
#[should_panic(expected = "cannot block the runtime from within an async context")]
fn nested_block_on_panics() {
    block_on(async {
        block_on(async {});
    });
}

#[test]
fn spawn_local_runs_non_send_futures() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let out = block_on(async {
        let shared = Rc::new(RefCell::new(0));
        let mut hs = Vec::new();
        for i in 0..10 {
            let shared = shared.clone();
            hs.push(spawn_local(async move {
                yield_now().await;
                *shared.borrow_mut() += i;
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        *shared.borrow()
    });
    assert_eq!(out, 45);
}

#[test]
fn join_error_is_an_error_and_send_sync() {
    fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
    assert_traits::<moduvex_runtime::JoinError>();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JoinHandle<u8>>();
}

#[test]
fn task_header_is_at_most_64_bytes() {
    let size = moduvex_runtime::executor::task_header_size();
    assert!(size <= 64, "task header is {size} bytes");
}

#[test]
fn many_sequential_block_ons_reuse_the_thread() {
    for i in 0..10_000u32 {
        assert_eq!(block_on(async move { i }), i);
    }
    for i in 0..100u32 {
        assert_eq!(
            block_on(async move { spawn(async move { i }).await.unwrap() }),
            i
        );
    }
}

#[test]
fn spawning_through_a_handle_kept_after_block_on_is_cancelled_not_hung() {
    let handle = block_on(async { moduvex_runtime::Handle::current() });
    let late = handle.spawn(async { 42 });
    let err = std::thread::spawn(move || block_on(late))
        .join()
        .unwrap()
        .unwrap_err();
    assert!(err.is_cancelled());
    // The thread's scheduler is reused cleanly afterwards.
    drop(handle);
    assert_eq!(block_on(async { spawn(async { 7 }).await.unwrap() }), 7);
    assert_eq!(block_on(async { 8 }), 8);
}

#[test]
fn abort_handle_aborts_from_another_thread_and_outlives_the_task() {
    let rt = moduvex_runtime::Runtime::builder()
        .flavor(moduvex_runtime::Flavor::CurrentThread)
        .build()
        .unwrap();
    rt.block_on(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCounter(drops.clone());
        let join = moduvex_runtime::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        let abort = join.abort_handle();
        let clone = abort.clone();
        drop(abort);
        assert!(!clone.is_finished());
        // The clone is Send even though nothing about the task is.
        std::thread::spawn(move || {
            clone.abort();
            clone
        })
        .join()
        .unwrap();
        let err = join.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn abort_handle_does_not_keep_a_task_from_finishing() {
    moduvex_runtime::block_on(async {
        let join = moduvex_runtime::spawn(async { 5 });
        let abort = join.abort_handle();
        assert_eq!(join.await.unwrap(), 5);
        assert!(abort.is_finished());
        abort.abort();
        drop(abort);
    });
}
