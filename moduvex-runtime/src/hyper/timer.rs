//! [`HyperTimer`]: hyper's timer hook, on the runtime's timer wheel.
//!
//! The one idea: a hyper sleep is one of our [`Sleep`]s in a box, so hyper's
//! `reset` (every keep-alive or header timeout re-arm) moves that timer on
//! its wheel in place instead of boxing a new one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use crate::time::{Instant, Sleep};

/// [`hyper::rt::Timer`](::hyper::rt::Timer) on this runtime's timer wheel.
///
/// hyper-util's `TokioTimer` for this runtime: header read timeouts,
/// HTTP/2 keep-alive pings and a pooled client's idle timeouts run on
/// [`crate::time::sleep`], and follow a paused clock
/// ([`crate::time::pause`]) as everything else here does. `reset` re-arms
/// the same [`Sleep`] ([`Sleep::reset`]): no allocation.
///
/// # Panics
///
/// `sleep` and `sleep_until` panic outside a moduvex runtime, as
/// [`crate::time::sleep`] does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer;
/// use moduvex_runtime::hyper::HyperTimer;
///
/// moduvex_runtime::block_on(async {
///     let timer = HyperTimer::new();
///     let mut sleep = timer.sleep(Duration::from_secs(3600));
///     timer.reset(&mut sleep, timer.now()); // due now, same allocation
///     sleep.await;
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct HyperTimer;

impl HyperTimer {
    /// A timer on the current runtime's wheel.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hyper::rt::Timer;
    /// use moduvex_runtime::hyper::HyperTimer;
    /// use moduvex_runtime::time::{self, Instant};
    ///
    /// moduvex_runtime::block_on(async {
    ///     time::pause();
    ///     let start = Instant::now();
    ///     // What hyper calls for its timeouts: a sleep on this runtime's wheel.
    ///     HyperTimer::new().sleep(Duration::from_secs(30)).await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(30));
    /// });
    /// ```
    pub fn new() -> HyperTimer {
        HyperTimer
    }
}

/// The boxed sleep hyper holds: our [`Sleep`] (which is `Unpin`).
struct HyperSleep(Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for HyperSleep {}

impl ::hyper::rt::Timer for HyperTimer {
    #[track_caller]
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep(duration)))
    }

    #[track_caller]
    fn sleep_until(&self, deadline: StdInstant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep_until(Instant::from_std(
            deadline,
        ))))
    }

    fn now(&self) -> StdInstant {
        Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: StdInstant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => Pin::new(&mut ours.get_mut().0).reset(Instant::from_std(new_deadline)),
            // A sleep from another timer: replace it, as hyper's default.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
