//! [`timeout`]: bound the time a future may take.
//!
//! The one idea: a [`Timeout`] owns the future and a lazily registered
//! [`Sleep`], and polls the future first. A future that is ready at once
//! costs no timer at all; on expiry the future is dropped with the
//! `Timeout`.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;

use super::sleep::{sleep, sleep_until, Sleep};

/// Requires `future` to complete within `duration`.
///
/// Resolves to `Ok(output)` if the future completes first, else to
/// `Err(Elapsed)`. The future is polled before the deadline is checked, so a
/// future that is ready succeeds even with a zero duration. A duration too
/// large to add (such as [`Duration::MAX`]) saturates.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::timeout;
///
/// moduvex_runtime::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     let never = std::future::pending::<()>();
///     assert!(timeout(Duration::from_millis(1), never).await.is_err());
/// });
/// ```
///
/// # Panics
///
/// Outside a moduvex runtime (`block_on` or a spawned task).
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep(duration),
    }
}

/// Requires `future` to complete before `deadline`; see [`timeout`].
///
/// # Panics
///
/// Outside a moduvex runtime (`block_on` or a spawned task).
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, timeout_at, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let deadline = Instant::now() + Duration::from_secs(1);
///     assert_eq!(timeout_at(deadline, async { 5 }).await, Ok(5));
///     let never = std::future::pending::<()>();
///     assert!(timeout_at(deadline, never).await.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep_until(deadline),
    }
}

/// Future returned by [`timeout`] and [`timeout_at`].
///
/// It owns the inner future: dropping the `Timeout` (for example after it
/// returned `Err(Elapsed)`) drops the inner future and cancels the timer.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, timeout};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let slow = time::sleep(Duration::from_secs(10));
///     let res = timeout(Duration::from_secs(1), slow).await;
///     assert!(res.is_err(), "gave up after one second");
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Timeout<F> {
    /// Structurally pinned: never moved while the `Timeout` is pinned.
    value: F,
    /// `Unpin`: never treated as pinned.
    delay: Sleep,
}

impl<F> Timeout<F> {
    /// The inner future.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::sync::oneshot;
    /// use moduvex_runtime::time::timeout;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = oneshot::channel();
    ///     let t = timeout(Duration::from_secs(1), rx);
    ///     assert!(t.get_ref().is_empty());
    ///     tx.send(3).unwrap();
    ///     assert_eq!(t.await, Ok(Ok(3)));
    /// });
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably (only for an unpinned `Timeout`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::sync::oneshot;
    /// use moduvex_runtime::time::timeout;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (tx, rx) = oneshot::channel::<u8>();
    ///     let mut t = timeout(Duration::from_secs(1), rx);
    ///     t.get_mut().close();
    ///     assert_eq!(tx.send(1), Err(1));
    /// });
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Consumes the `Timeout`, returning the inner future and cancelling the
    /// timer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, timeout};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let t = timeout(Duration::from_secs(1), async { "kept" });
    ///     // Drop the deadline, keep the future.
    ///     assert_eq!(t.into_inner().await, "kept");
    /// });
    /// ```
    pub fn into_inner(self) -> F {
        self.value
    }

    /// The instant at which this timeout expires.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::time::{self, timeout, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let t = timeout(Duration::from_secs(4), async {});
    ///     assert_eq!(t.deadline(), Instant::now() + Duration::from_secs(4));
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.delay.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of the pinned `Timeout`: `value` is only reached through the `Pin` made below, `Timeout` has no `Drop` impl, and `into_inner` / `get_mut` need an unpinned `Timeout`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `value` is structurally pinned (see above); it stays where it is until the `Timeout` is dropped.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        if let Poll::Ready(output) = value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut this.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`Timeout`] whose deadline passed before its future
/// completed.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, timeout, Elapsed};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let err: Elapsed = timeout(Duration::from_millis(5), std::future::pending::<()>())
///         .await
///         .unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    /// An error of kind [`io::ErrorKind::TimedOut`].
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
