//! `join!` and `try_join!`: concurrency on one task, output order, early
//! error return, borrowing and `!Send` futures, wake-ups from other threads.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use moduvex_runtime::sync::oneshot;
use moduvex_runtime::{join, try_join, yield_now};

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[moduvex_runtime::test]
async fn outputs_come_in_argument_order_whatever_order_they_finish_in() {
    let order = Rc::new(Cell::new(0u32));
    let step = |yields: u32| {
        let order = order.clone();
        async move {
            for _ in 0..yields {
                yield_now().await;
            }
            order.set(order.get() * 10 + yields);
            yields
        }
    };
    let (a, b, c) = join!(step(3), step(1), step(2));
    assert_eq!((a, b, c), (3, 1, 2));
    assert_eq!(order.get(), 123, "they ran concurrently: 1 finished first");
}

#[moduvex_runtime::test]
async fn futures_that_wait_on_each_other_both_finish() {
    let (to_b, from_a) = oneshot::channel::<u32>();
    let (to_a, from_b) = oneshot::channel::<u32>();
    let a = async move {
        to_b.send(1).unwrap();
        from_b.await.unwrap()
    };
    let b = async move {
        let got = from_a.await.unwrap();
        to_a.send(got + 1).unwrap();
        got
    };
    assert_eq!(join!(a, b), (2, 1));
}

#[moduvex_runtime::test]
async fn futures_may_borrow_and_need_not_be_send() {
    let local = Rc::new(5u32);
    let borrowed = &local;
    let (x,) = join!(async { **borrowed + 1 });
    assert_eq!(x, 6);
    let many = join!(
        async { 1 },
        async { 2 },
        async { 3 },
        async { 4 },
        async { 5 },
        async { 6 },
        async { 7 },
        async { 8 },
        async { 9 },
        async { 10 },
        async { 11 },
        async { 12 },
    );
    assert_eq!(many.11, 12);
}

#[moduvex_runtime::test]
async fn a_wake_from_another_thread_reaches_the_joined_future() {
    let (tx, rx) = oneshot::channel::<u32>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        tx.send(7).unwrap();
    });
    let (a, b) = join!(rx, async { 1 });
    assert_eq!((a.unwrap(), b), (7, 1));
    t.join().unwrap();
}

#[moduvex_runtime::test]
async fn try_join_returns_every_value_when_all_succeed() {
    let out: Result<(u8, &str), String> = try_join!(async { Ok(1) }, async { Ok("two") });
    assert_eq!(out, Ok((1, "two")));
}

#[moduvex_runtime::test]
async fn try_join_returns_the_first_error_at_once_and_drops_the_rest() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone());
    let never = async move {
        let _g = guard;
        std::future::pending::<Result<u8, &str>>().await
    };
    let fails = async {
        yield_now().await;
        Err::<u8, &str>("broken")
    };
    let out = try_join!(never, fails);
    assert_eq!(out, Err("broken"));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the pending future was dropped"
    );
}
