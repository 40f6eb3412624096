//! `timeout` / `timeout_at`: the inner output wins when it is first,
//! `Elapsed` otherwise, and the inner future is owned and dropped.

use std::future::{pending, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use moduvex_runtime::time::{sleep, timeout, timeout_at, Elapsed, Instant};
use moduvex_runtime::{block_on, spawn, yield_now};

/// A never-ready future that raises a flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Future for DropFlag {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn inner_output_wins_when_it_finishes_first() {
    block_on(async {
        assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
        let slow_but_in_time = async {
            yield_now().await;
            sleep(Duration::from_millis(5)).await;
            "done"
        };
        assert_eq!(
            timeout(Duration::from_secs(5), slow_but_in_time).await,
            Ok("done")
        );
    });
}

#[test]
fn inner_future_is_polled_before_the_deadline() {
    block_on(async {
        // Already expired, yet a ready future still wins.
        assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
        let past = Instant::now() - Duration::from_secs(1);
        assert_eq!(timeout_at(past, async { 2 }).await, Ok(2));
        assert!(timeout_at(past, pending::<()>()).await.is_err());
    });
}

#[test]
fn pending_future_elapses() {
    let err = block_on(async {
        let t = timeout(Duration::from_millis(10), pending::<u32>());
        let deadline = t.deadline();
        let res = t.await;
        assert!(Instant::now() >= deadline);
        res.unwrap_err()
    });
    assert_eq!(err.to_string(), "deadline has elapsed");
    let io_err: io::Error = err.into();
    assert_eq!(io_err.kind(), io::ErrorKind::TimedOut);
    let as_error: &dyn std::error::Error = &err;
    assert!(as_error.source().is_none());
}

#[test]
fn timeout_owns_the_inner_future_and_drops_it_on_expiry() {
    let dropped = Arc::new(AtomicBool::new(false));
    block_on(async {
        let mut t = Box::pin(timeout(Duration::from_millis(5), DropFlag(dropped.clone())));
        let res: Result<(), Elapsed> = t.as_mut().await;
        assert!(res.is_err());
        assert!(
            !dropped.load(Ordering::SeqCst),
            "still owned by the Timeout"
        );
        drop(t);
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn timeout_in_spawned_tasks() {
    block_on(async {
        let fast = spawn(timeout(Duration::from_secs(5), async { 3 }));
        let slow = spawn(timeout(Duration::from_millis(5), pending::<()>()));
        assert_eq!(fast.await.unwrap(), Ok(3));
        assert!(slow.await.unwrap().is_err());
    });
}

#[test]
fn duration_max_timeout_saturates() {
    block_on(async {
        assert_eq!(timeout(Duration::MAX, async { 9 }).await, Ok(9));
        let t = timeout(Duration::MAX, async {
            yield_now().await;
            10
        });
        assert!(t.deadline() > Instant::now());
        assert_eq!(t.await, Ok(10));
    });
}

#[test]
#[should_panic(expected = "timers must be used inside a moduvex runtime")]
fn timeout_outside_a_runtime_panics() {
    drop(timeout(Duration::from_secs(1), async {}));
}
