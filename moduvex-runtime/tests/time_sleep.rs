//! `sleep` / `sleep_until` / `Sleep`: completion, order, reset, moving
//! between threads, saturation and misuse.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use moduvex_runtime::time::{sleep, sleep_until, Instant, Sleep};
use moduvex_runtime::{block_on, spawn};

/// Polls `sleep` once with the task's own context.
async fn poll_once(sleep: &mut Sleep) -> Poll<()> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *sleep).poll(cx))).await
}

#[test]
fn sleep_in_block_on_with_nothing_else_to_do_completes() {
    // The thread has no I/O and no other task: it must park with the
    // timer's timeout and wake for it.
    let deadline = block_on(async {
        let s = sleep(Duration::from_millis(20));
        let deadline = s.deadline();
        s.await;
        deadline
    });
    assert!(Instant::now() >= deadline, "a sleep never completes early");
}

#[test]
fn past_and_zero_deadlines_complete_on_first_poll() {
    block_on(async {
        let mut past = sleep_until(Instant::now() - Duration::from_secs(1));
        assert!(past.is_elapsed());
        assert_eq!(poll_once(&mut past).await, Poll::Ready(()));
        let mut zero = sleep(Duration::ZERO);
        assert_eq!(poll_once(&mut zero).await, Poll::Ready(()));
        // A completed sleep stays completed.
        assert_eq!(poll_once(&mut zero).await, Poll::Ready(()));
    });
}

#[test]
fn sleeping_tasks_finish_in_deadline_order() {
    let order = block_on(async {
        let base = Instant::now() + Duration::from_millis(100);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        // Spawned in a scrambled order; each records its index on waking.
        for i in [7u32, 2, 9, 0, 5, 3, 8, 1, 6, 4] {
            let order = order.clone();
            let deadline = base + Duration::from_millis(3 * u64::from(i));
            handles.push(spawn(async move {
                sleep_until(deadline).await;
                order.lock().unwrap().push(i);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        order.lock().unwrap().clone()
    });
    assert_eq!(order, (0..10).collect::<Vec<_>>());
}

#[test]
fn many_timers_with_equal_deadlines_all_fire() {
    let count = block_on(async {
        let deadline = Instant::now() + Duration::from_millis(5);
        let handles: Vec<_> = (0..500)
            .map(|_| spawn(async move { sleep_until(deadline).await }))
            .collect();
        let n = handles.len();
        for h in handles {
            h.await.unwrap();
        }
        n
    });
    assert_eq!(count, 500);
}

#[test]
fn reset_moves_the_deadline_both_ways() {
    block_on(async {
        let mut s = sleep(Duration::from_secs(3600));
        assert_eq!(poll_once(&mut s).await, Poll::Pending);
        let soon = Instant::now() + Duration::from_millis(10);
        Pin::new(&mut s).reset(soon);
        assert_eq!(s.deadline(), soon);
        (&mut s).await;
        assert!(s.is_elapsed());

        // A completed sleep can be reset and run again.
        let later = Instant::now() + Duration::from_millis(5);
        Pin::new(&mut s).reset(later);
        assert_eq!(s.deadline(), later);
        (&mut s).await;
        assert!(Instant::now() >= later);

        // Reset into the past completes at once, also while filed.
        Pin::new(&mut s).reset(Instant::now() - Duration::from_secs(1));
        assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
        Pin::new(&mut s).reset(Instant::now() + Duration::from_secs(3600));
        assert_eq!(poll_once(&mut s).await, Poll::Pending);
        Pin::new(&mut s).reset(Instant::now());
        assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
    });
}

#[test]
fn dropping_a_registered_sleep_cancels_it() {
    block_on(async {
        for _ in 0..1000 {
            let mut s = sleep(Duration::from_secs(60));
            assert_eq!(poll_once(&mut s).await, Poll::Pending);
            drop(s);
        }
        // Nothing left behind wakes or blocks this short sleep.
        sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn duration_max_sleep_saturates_and_can_be_dropped() {
    block_on(async {
        let before = Instant::now();
        let mut s = sleep(Duration::MAX);
        assert!(s.deadline() > before + Duration::from_secs(86_400 * 365));
        assert!(!s.is_elapsed());
        assert_eq!(poll_once(&mut s).await, Poll::Pending);
        drop(s);

        // A far-future Instant works the same way.
        let far = before + Duration::from_secs(86_400 * 365 * 200);
        let mut s = sleep_until(far);
        assert_eq!(s.deadline(), far);
        assert_eq!(poll_once(&mut s).await, Poll::Pending);
        Pin::new(&mut s).reset(Instant::now());
        assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
    });
}

#[test]
// Handing the registered `Sleep` out of `block_on` is the point.
#[allow(clippy::async_yields_async)]
fn sleep_polled_here_then_awaited_on_another_runtime_thread() {
    // Registered on this thread's wheel, then finished by another thread's
    // `block_on`: the timer follows the thread that polls it.
    let s = block_on(async {
        let mut s = sleep(Duration::from_millis(20));
        assert_eq!(poll_once(&mut s).await, Poll::Pending);
        s
    });
    let deadline = s.deadline();
    let done = thread::spawn(move || {
        block_on(s);
        Instant::now()
    })
    .join()
    .unwrap();
    assert!(done >= deadline);
}

#[test]
fn sleep_created_here_runs_in_a_task_on_another_thread() {
    let (tx, rx) = mpsc::channel::<Sleep>();
    let worker = thread::spawn(move || {
        block_on(async move {
            let s = rx.recv().unwrap();
            let deadline = s.deadline();
            spawn(s).await.unwrap();
            assert!(Instant::now() >= deadline);
        })
    });
    block_on(async {
        tx.send(sleep(Duration::from_millis(10))).unwrap();
    });
    worker.join().unwrap();
}

#[test]
// Handing the registered `Sleep` out of `block_on` is the point.
#[allow(clippy::async_yields_async)]
fn registered_sleep_dropped_on_another_thread() {
    let s = block_on(async {
        let mut s = sleep(Duration::from_secs(60));
        assert_eq!(poll_once(&mut s).await, Poll::Pending);
        s
    });
    // Cancels on the owner's wheel from a thread with no runtime.
    thread::spawn(move || drop(s)).join().unwrap();
    block_on(async { sleep(Duration::from_millis(1)).await });
}

#[test]
fn reset_from_another_thread_wakes_a_parked_owner() {
    // The owner parks with a one-hour timeout; another thread moves the
    // timer to "soon", which must interrupt that park.
    let shared: Arc<Mutex<Option<Sleep>>> = Arc::new(Mutex::new(None));
    let (registered_tx, registered_rx) = mpsc::channel::<()>();
    let resetter = {
        let shared = shared.clone();
        thread::spawn(move || {
            registered_rx.recv().unwrap();
            let mut guard = shared.lock().unwrap();
            let s = guard.as_mut().unwrap();
            Pin::new(s).reset(Instant::now() + Duration::from_millis(20));
        })
    };
    block_on(async {
        let mut registered_tx = Some(registered_tx);
        poll_fn(|cx| {
            let mut guard = shared.lock().unwrap();
            let s = guard.get_or_insert_with(|| sleep(Duration::from_secs(3600)));
            let ready = Pin::new(s).poll(cx);
            if let Some(tx) = registered_tx.take() {
                tx.send(()).unwrap();
            }
            ready
        })
        .await;
    });
    resetter.join().unwrap();
}

#[test]
fn a_sleep_first_polled_after_its_deadline_completes_and_never_early() {
    block_on(async {
        for _ in 0..20 {
            let s = sleep(Duration::from_micros(200));
            let deadline = s.deadline();
            // The thread is busy past the deadline before the first poll.
            thread::sleep(Duration::from_millis(1));
            s.await;
            assert!(Instant::now() >= deadline);
        }
    });
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

#[test]
fn a_repoll_with_another_waker_moves_the_wake_up_to_it() {
    block_on(async {
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        let mut s = sleep(Duration::from_millis(5));
        let mut poll_with = |w: &Waker| Pin::new(&mut s).poll(&mut Context::from_waker(w));
        assert_eq!(poll_with(&first_waker), Poll::Pending);
        // The same waker again, then a clone of it (same identity): still
        // pending, nothing else changes.
        assert_eq!(poll_with(&first_waker), Poll::Pending);
        assert_eq!(poll_with(&first_waker.clone()), Poll::Pending);
        assert_eq!(poll_with(&second_waker), Poll::Pending);
        // This thread's timers keep turning while the task waits.
        sleep(Duration::from_millis(20)).await;
        assert_eq!(first.0.load(Ordering::SeqCst), 0, "replaced waker");
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_with(&first_waker), Poll::Ready(()));
    });
}

#[test]
fn reset_into_the_past_from_another_thread_completes_the_sleep() {
    let shared: Arc<Mutex<Option<Sleep>>> = Arc::new(Mutex::new(None));
    let (registered_tx, registered_rx) = mpsc::channel::<()>();
    let resetter = {
        let shared = shared.clone();
        thread::spawn(move || {
            registered_rx.recv().unwrap();
            let mut guard = shared.lock().unwrap();
            let s = guard.as_mut().unwrap();
            Pin::new(s).reset(Instant::now() - Duration::from_secs(1));
        })
    };
    let start = Instant::now();
    block_on(async {
        let mut registered_tx = Some(registered_tx);
        poll_fn(|cx| {
            let mut guard = shared.lock().unwrap();
            let s = guard.get_or_insert_with(|| sleep(Duration::from_secs(3600)));
            let ready = Pin::new(s).poll(cx);
            if let Some(tx) = registered_tx.take() {
                tx.send(()).unwrap();
            }
            ready
        })
        .await;
    });
    resetter.join().unwrap();
    // The hour-long sleep completed because the reset moved its deadline.
    let deadline = shared.lock().unwrap().as_ref().unwrap().deadline();
    assert!(deadline < start + Duration::from_secs(3600));
}

#[test]
// Handing the registered `Sleep` out of `block_on` is the point.
#[allow(clippy::async_yields_async)]
fn a_sleep_outlives_the_thread_that_filed_it() {
    let filed = || {
        thread::spawn(|| {
            block_on(async {
                let mut s = sleep(Duration::from_millis(20));
                assert_eq!(poll_once(&mut s).await, Poll::Pending);
                s
            })
        })
        .join()
        .unwrap()
    };
    // Polled on a new thread (which may reuse the exited thread's driver
    // slot): filed again there, and completes on time.
    let s = filed();
    let deadline = s.deadline();
    thread::spawn(move || block_on(s)).join().unwrap();
    assert!(Instant::now() >= deadline);
    // Dropped, here or elsewhere, without a runtime.
    drop(filed());
    let s = filed();
    thread::spawn(move || drop(s)).join().unwrap();
}

#[test]
#[should_panic(expected = "timers must be used inside a moduvex runtime")]
fn sleep_outside_a_runtime_panics() {
    drop(sleep(Duration::from_millis(1)));
}

#[test]
#[should_panic(expected = "timers must be used inside a moduvex runtime")]
fn sleep_until_outside_a_runtime_panics() {
    drop(sleep_until(Instant::now()));
}

#[test]
fn timer_types_are_send_sync_and_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<Sleep>();
    check::<moduvex_runtime::time::Interval>();
    check::<moduvex_runtime::time::Timeout<std::future::Ready<()>>>();
    check::<moduvex_runtime::time::Elapsed>();
}
