//! `select!`: first completion wins and the rest are dropped, patterns that
//! do not match disable their branch, preconditions, `else`, `biased;`,
//! fairness, and handlers that act on the caller's control flow.

use std::future::{pending, ready, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use moduvex_runtime::sync::{mpsc, oneshot};
use moduvex_runtime::time::sleep;
use moduvex_runtime::{select, yield_now};

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that fails the test if it is ever polled.
struct MustNotPoll;

impl Future for MustNotPoll {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        panic!("a disabled branch was polled");
    }
}

#[moduvex_runtime::test]
async fn the_first_branch_to_complete_wins_and_the_others_are_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone());
    let slow = async move {
        let _g = guard;
        pending::<u32>().await
    };
    let fast = async {
        yield_now().await;
        2u32
    };
    let got = select! {
        v = slow => v,
        v = fast => v * 10,
    };
    assert_eq!(got, 20);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the losing branch was dropped"
    );
}

#[moduvex_runtime::test]
async fn a_pattern_that_does_not_match_disables_its_branch() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    drop(tx); // recv() yields None at once
    let (done_tx, done_rx) = oneshot::channel::<u32>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        done_tx.send(9).unwrap();
    });
    let got = select! {
        Some(v) = rx.recv() => v,
        Ok(v) = done_rx => v + 100,
    };
    assert_eq!(
        got, 109,
        "the None disabled the first branch; the other won"
    );
    t.join().unwrap();
}

#[moduvex_runtime::test]
async fn else_runs_when_every_branch_is_disabled() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    drop(tx);
    let flag = false;
    let got = select! {
        Some(v) = rx.recv() => v,
        v = MustNotPoll, if flag => v,
        else => 42,
    };
    assert_eq!(got, 42);
}

#[moduvex_runtime::test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
async fn without_else_every_branch_disabled_panics() {
    let never = false;
    let _: u32 = select! {
        v = MustNotPoll, if never => v,
    };
}

#[moduvex_runtime::test]
async fn a_false_precondition_keeps_the_future_unpolled() {
    let enabled = false;
    let got = select! {
        v = MustNotPoll, if enabled => v,
        v = ready(5u32) => v,
    };
    assert_eq!(got, 5);
}

#[moduvex_runtime::test]
async fn biased_polls_in_order() {
    for _ in 0..100 {
        let got = select! {
            biased;
            v = ready(1u32) => v,
            v = ready(2u32) => v,
        };
        assert_eq!(got, 1);
    }
}

#[moduvex_runtime::test]
async fn unbiased_select_gives_every_ready_branch_its_turn() {
    let mut wins = [0u32; 3];
    for _ in 0..300 {
        let i = select! {
            i = ready(0usize) => i,
            i = ready(1usize) => i,
            i = ready(2usize) => i,
        };
        wins[i] += 1;
    }
    assert!(
        wins.iter().all(|&w| w > 0),
        "every branch won sometimes: {wins:?}"
    );
}

async fn sum_until_closed(mut rx: mpsc::Receiver<u32>) -> Result<u32, String> {
    let mut total = 0;
    loop {
        select! {
            msg = rx.recv() => match msg {
                Some(0) => continue,
                Some(u32::MAX) => return Err("poison".to_string()),
                Some(v) => total += v,
                None => break,
            },
            _ = sleep(Duration::from_secs(60)) => {
                Err("stalled".to_string())?;
            }
        }
        yield_now().await;
    }
    Ok(total)
}

#[moduvex_runtime::test]
async fn handlers_break_continue_return_and_propagate_errors_in_the_caller() {
    let (tx, rx) = mpsc::channel::<u32>(8);
    for v in [1, 0, 2, 3] {
        tx.send(v).await.unwrap();
    }
    drop(tx);
    assert_eq!(sum_until_closed(rx).await, Ok(6));
    let (tx, rx) = mpsc::channel::<u32>(8);
    tx.send(u32::MAX).await.unwrap();
    assert_eq!(sum_until_closed(rx).await, Err("poison".to_string()));
}

#[moduvex_runtime::test]
async fn branches_may_borrow_locals_and_need_not_be_send() {
    let local = Rc::new(3u32);
    let borrowed = &local;
    let got = select! {
        v = async { **borrowed + 1 } => {
            let doubled = v * 2;
            assert_eq!(doubled % 2, 0);
            doubled
        }
        _ = pending::<()>() => 0,
    };
    assert_eq!(got, 8);
}

#[moduvex_runtime::test]
async fn a_copy_value_may_be_bound_mut() {
    let got = select! {
        Some(mut n) = ready(Some(4u32)) => {
            n += 1;
            n
        },
    };
    assert_eq!(got, 5);
}

#[moduvex_runtime::test]
async fn a_wake_from_another_thread_completes_the_select() {
    let (tx, rx) = oneshot::channel::<&'static str>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        tx.send("woken").unwrap();
    });
    let got = select! {
        Ok(v) = rx => v,
        _ = sleep(Duration::from_secs(60)) => "timed out",
    };
    assert_eq!(got, "woken");
    t.join().unwrap();
}

#[moduvex_runtime::test]
async fn a_handler_may_use_what_its_branch_future_borrowed() {
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    let both = select! {
        Some(first) = rx.recv() => {
            // The branch futures are gone: `rx` is free again.
            first + rx.try_recv().unwrap()
        }
    };
    assert_eq!(both, 3);
}
