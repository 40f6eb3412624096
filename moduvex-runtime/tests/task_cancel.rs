//! `CancellationToken`: the parent/child rules, wake-ups and guards.

use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use moduvex_runtime::task::CancellationToken;
use moduvex_runtime::{spawn, yield_now};

#[test]
fn cancelling_a_parent_cancels_children_not_the_reverse() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    let sibling = root.child_token();

    grandchild.cancel();
    assert!(grandchild.is_cancelled());
    assert!(!child.is_cancelled() && !root.is_cancelled() && !sibling.is_cancelled());

    child.cancel();
    assert!(child.is_cancelled());
    assert!(!root.is_cancelled() && !sibling.is_cancelled());

    root.cancel();
    assert!(sibling.is_cancelled());
    assert!(
        root.child_token().is_cancelled(),
        "a child of a cancelled token starts cancelled"
    );
}

#[test]
fn clones_share_state_and_cancel_is_idempotent() {
    let a = CancellationToken::new();
    let b = a.clone();
    b.cancel();
    b.cancel();
    assert!(a.is_cancelled());
}

#[test]
fn dropped_intermediate_tokens_still_link_grandchildren() {
    let root = CancellationToken::new();
    let grandchild = root.child_token().child_token();
    root.cancel();
    assert!(grandchild.is_cancelled());
}

#[moduvex_runtime::test]
async fn a_waiting_task_wakes_when_an_ancestor_is_cancelled() {
    let root = CancellationToken::new();
    let child = root.child_token().child_token();
    let waiter = spawn(async move {
        child.cancelled().await;
        "woken"
    });
    yield_now().await;
    assert!(!waiter.is_finished());
    let canceller = {
        let root = root.clone();
        std::thread::spawn(move || root.cancel())
    };
    assert_eq!(waiter.await.unwrap(), "woken");
    canceller.join().unwrap();
}

#[moduvex_runtime::test]
async fn cancelling_a_child_does_not_wake_parent_waiters() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let mut waiting = pin!(root.cancelled());
    poll_fn(|cx| {
        assert!(waiting.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
    child.cancel();
    poll_fn(|cx| {
        assert!(waiting.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
    root.cancel();
    waiting.await;
}

#[moduvex_runtime::test]
async fn every_waiter_is_woken() {
    let token = CancellationToken::new();
    let waiters: Vec<_> = (0..50)
        .map(|i| {
            let t = if i % 2 == 0 {
                token.clone()
            } else {
                token.child_token()
            };
            spawn(t.cancelled_owned())
        })
        .collect();
    yield_now().await;
    token.cancel();
    for w in waiters {
        w.await.unwrap();
    }
}

#[moduvex_runtime::test]
async fn already_cancelled_completes_at_once() {
    let token = CancellationToken::new();
    token.cancel();
    token.cancelled().await;
    token.child_token().cancelled_owned().await;
}

#[test]
fn drop_guard_cancels_unless_disarmed() {
    let token = CancellationToken::new();
    drop(token.clone().drop_guard());
    assert!(token.is_cancelled());

    let token = CancellationToken::new();
    let back = token.clone().drop_guard().disarm();
    drop(back);
    assert!(!token.is_cancelled());
}

#[moduvex_runtime::test]
async fn run_until_cancelled_stops_the_future() {
    let token = CancellationToken::new();
    assert_eq!(token.run_until_cancelled(async { 3 }).await, Some(3));
    let canceller = token.clone();
    let stopped = spawn(async move { canceller.cancel() });
    assert_eq!(token.run_until_cancelled(pending::<u8>()).await, None);
    stopped.await.unwrap();
}

#[test]
fn futures_are_send_and_static_where_promised() {
    fn send_static<T: Send + 'static>(_: &T) {}
    let token = CancellationToken::new();
    send_static(&token.clone().cancelled_owned());
    fn send<T: Send>(_: &T) {}
    send(&token.cancelled());
}
