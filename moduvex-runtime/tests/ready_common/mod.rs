//! Helpers shared by the readiness tests (`net_ready`, `net_ready_udp`,
//! `io_async_fd`, `net_options`): a hang guard and a single poll.
#![allow(dead_code)]

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Runs `f` on a helper thread and fails if it has not finished after a
/// generous bound: a wait that is never woken must fail the test, not hang
/// the suite (a hang guard, not a speed assertion).
pub fn hang_guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let helper = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => {
            helper.join().unwrap();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s: a readiness wait was never woken")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(helper.join().unwrap_err())
        }
    }
}

/// Polls `fut` once with the task's own waker: `Ready` with its output, or
/// `Pending` (and `fut` is dropped, giving up its place).
pub async fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
}

/// Runs `fut` on a current-thread runtime under the hang guard.
pub fn run<T: Send + 'static>(
    what: &'static str,
    fut: impl Future<Output = T> + Send + 'static,
) -> T {
    hang_guard(what, move || moduvex_runtime::block_on(fut))
}
