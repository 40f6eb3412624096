//! [`pause`], [`resume`] and [`advance`]: the test clock's controls.
//!
//! The one idea: each acts on the clock of the current-thread runtime the
//! caller runs in (see `clock.rs`), and misuse panics at the caller's line
//! with what to do instead, never hangs.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::sync::Arc;

use super::clock::{with_runtime, Rt};
use super::shard::Shard;
use crate::executor::park::wake_all;

const HOW_TO_PAUSE: &str = "build the runtime with \
     `Builder::new_current_thread().start_paused(true)`, or use \
     `#[moduvex_runtime::test(start_paused = true)]`";

/// Where a clock call was made, if not in a current-thread runtime.
enum Misplaced {
    MultiThread,
    Outside,
}

/// Runs `f` on the clock's shard of the current-thread runtime the caller
/// is in. (The caller panics: a closure cannot pass its caller's line on.)
fn with_clock<R>(f: impl FnOnce(&Arc<Shard>) -> R) -> Result<R, Misplaced> {
    with_runtime(|rt| match rt {
        Rt::CurrentThread(shard) => Ok(f(shard)),
        Rt::MultiThread => Err(Misplaced::MultiThread),
        Rt::Outside => Err(Misplaced::Outside),
    })
}

#[track_caller]
fn misplaced(call: &str, misplaced: Misplaced) -> ! {
    match misplaced {
        Misplaced::MultiThread => panic!(
            "`{call}` requires a current-thread runtime: a multi-thread runtime's clock \
             cannot be paused (as tokio's); {HOW_TO_PAUSE}"
        ),
        Misplaced::Outside => panic!(
            "`{call}` called outside a moduvex runtime: the clock belongs to a runtime; \
             call it from a task of a current-thread runtime, or {HOW_TO_PAUSE}"
        ),
    }
}

/// Pauses time: [`Instant::now()`](super::Instant::now) stands still until
/// [`advance`] moves it or [`resume`] lets it run again.
///
/// While paused, whenever the runtime has nothing to run (no task ready,
/// no I/O ready) it jumps the clock to the next timer's deadline instead of
/// waiting (auto-advance): `sleep(Duration::from_secs(3600))` completes at
/// once, and `Instant::now()` reports the hour passed. It does not jump
/// while a [`spawn_blocking`](crate::spawn_blocking) closure of the runtime
/// is running (its result may be what the runtime waits for), as tokio's.
///
/// Affects the current-thread runtime the caller runs in (the free
/// [`block_on`](crate::block_on) is one), on every thread that runs it.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(24 * 3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
/// });
/// ```
///
/// # Panics
///
/// If the clock is already paused, on a multi-thread runtime (tokio allows
/// pausing only a current-thread runtime), and outside any runtime.
#[track_caller]
pub fn pause() {
    match with_clock(|shard| shard.clock().pause()) {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!(
            "`time::pause()` called while the clock is already paused: call \
             `time::resume()` first to pause it again"
        ),
        Err(m) => misplaced("time::pause()", m),
    }
}

/// Resumes time: the clock runs again from where it stands (it keeps
/// whatever [`advance`] and auto-advance added), as tokio's.
///
/// # Panics
///
/// If the clock is not paused (see [`pause`]), and outside any runtime.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let frozen = Instant::now();
///     time::advance(Duration::from_secs(10)).await;
///     time::resume();
///     // Running again, from where it was advanced to.
///     assert!(Instant::now() >= frozen + Duration::from_secs(10));
/// });
/// ```
#[track_caller]
pub fn resume() {
    match with_clock(|shard| shard.clock().resume()) {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!(
            "`time::resume()` called while the clock is running: only a paused clock \
             can be resumed; call `time::pause()` first"
        ),
        Err(m) => misplaced("time::resume()", m),
    }
}

/// Advances a paused clock by `duration`: fires every timer due by then,
/// in deadline order, then yields, so the tasks those timers woke run
/// before the caller continues (tokio's semantics: the clock jumps in one
/// step, so every timer woken here sees the same [`Instant::now()`](super::Instant::now)).
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{self, Instant};
///
/// moduvex_runtime::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::advance(Duration::from_secs(5)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(5));
/// });
/// ```
///
/// # Panics
///
/// If the clock is not paused (see [`pause`]), and outside any runtime:
/// when called, and again when first polled if the clock was resumed
/// meanwhile.
#[track_caller]
pub fn advance(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
    // Checked here, where the caller's line is known (an `async fn` could
    // only panic inside its first poll).
    match with_clock(|shard| shard.clock().is_paused()) {
        Ok(true) => {}
        Ok(false) => advance_refused(),
        Err(m) => misplaced("time::advance()", m),
    }
    Advance {
        duration,
        moved: false,
    }
}

#[track_caller]
fn advance_refused() -> ! {
    panic!(
        "`time::advance()` called while the clock is running: call `time::pause()` first, \
         or {HOW_TO_PAUSE}"
    )
}

/// The future of [`advance`]: moves the clock and fires on its first poll,
/// then yields once.
struct Advance {
    duration: Duration,
    moved: bool,
}

impl Future for Advance {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.moved {
            return Poll::Ready(());
        }
        self.moved = true;
        let duration = self.duration;
        let mut fired = Vec::new();
        let moved = with_clock(|shard| {
            let moved = shard.clock().advance(duration);
            if moved.is_ok() {
                shard.turn(false, || shard.now(), &mut fired);
            }
            moved
        });
        match moved {
            Ok(Ok(())) => {}
            Ok(Err(_)) => advance_refused(),
            Err(m) => misplaced("time::advance()", m),
        }
        // In deadline order, with no shard locked: they queue behind what
        // is ready, and this task behind them.
        wake_all(&mut fired);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
