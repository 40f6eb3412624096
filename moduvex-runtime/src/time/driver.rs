//! The timer driver: which shard a thread files its timers on, and the
//! park loop's two hooks.
//!
//! Each thread has a *timer home*: the shard of the scheduler running on it
//! now, installed by that scheduler for as long as it runs here (a
//! [`HomeGuard`]). A thread running no scheduler — a plain thread polling a
//! `Sleep` with another executor, a blocking-pool thread — has the
//! process-wide fallback shard as its home, which the foster thread turns.
//!
//! The park loop asks [`begin_wait`] how long it may block, and calls
//! [`turn_home`] when the reactor returns; both act on the calling thread's
//! home.
//!
//! See the `time` module docs for who turns which shard when.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::time::Duration;

use super::shard::Shard;
use crate::reactor::Unparker;

thread_local! {
    /// The shard timers polled on this thread are filed on (`None`: the
    /// fallback shard).
    static HOME: RefCell<Option<Arc<Shard>>> = const { RefCell::new(None) };
}

/// The shard of timers polled outside any scheduler, turned by the foster
/// thread.
static FALLBACK: OnceLock<Arc<Shard>> = OnceLock::new();

fn fallback_shard() -> &'static Arc<Shard> {
    FALLBACK.get_or_init(|| Arc::new(Shard::new()))
}

/// The fallback shard, with its driver (the foster thread) started.
fn fallback() -> &'static Arc<Shard> {
    let shard = fallback_shard();
    if crate::reactor::start_foster().is_err() {
        // No thread can turn it: a `Sleep` polled here would never fire.
        panic!(
            "moduvex-runtime: a timer was polled outside any moduvex runtime, and the \
             background thread that drives such timers could not be started"
        );
    }
    shard
}

/// Runs `f` with this thread's timer home.
pub(crate) fn with_home<R>(f: impl FnOnce(&Arc<Shard>) -> R) -> R {
    let mut f = Some(f);
    let here = HOME.try_with(|home| {
        home.borrow()
            .as_ref()
            .map(|shard| (f.take().expect("called once"))(shard))
    });
    match here {
        Ok(Some(r)) => r,
        // No scheduler here (or the thread is exiting).
        _ => (f.take().expect("called once"))(fallback()),
    }
}

/// Panics with a message naming the problem unless the caller runs inside
/// a moduvex runtime.
#[track_caller]
pub(crate) fn assert_in_runtime() {
    assert!(
        crate::executor::in_runtime(),
        "moduvex-runtime: timers must be used inside a moduvex runtime; \
         call this from `moduvex_runtime::block_on` or a spawned task \
         (the returned future may then be polled anywhere, by any executor)"
    );
}

#[cfg(target_os = "linux")]
thread_local! {
    static SLACK_SET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// This thread's reactor waits now end at timer deadlines: do not let the
/// kernel stretch them by its default 50 µs slack (one syscall per thread).
/// Linux only: other systems have no per-thread slack to set.
fn set_timer_slack_once() {
    #[cfg(target_os = "linux")]
    if !SLACK_SET.with(|s| s.replace(true)) {
        let _ = crate::platform::sys::set_timer_slack(1);
    }
}

/// What happens to the timers of a shard when its scheduler leaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnLeave {
    /// They stay for the scheduler's next run (a current-thread runtime's
    /// next `block_on`, on whichever thread).
    Keep,
    /// Nobody turns this shard again: its timers are woken now, and each
    /// `Sleep` files itself wherever it is polled next.
    Drain,
}

/// Makes a shard this thread's timer home, and this thread its driver,
/// while it lives.
pub(crate) struct HomeGuard {
    shard: Arc<Shard>,
    prev: Option<Arc<Shard>>,
    on_leave: OnLeave,
}

/// Installs `shard` as this thread's timer home, turned by the thread
/// behind `unparker` (this one).
pub(crate) fn enter(shard: Arc<Shard>, unparker: Unparker, on_leave: OnLeave) -> HomeGuard {
    drop(shard.set_driver(Some(unparker)));
    set_timer_slack_once();
    let prev = HOME.with(|home| home.borrow_mut().replace(shard.clone()));
    HomeGuard {
        shard,
        prev,
        on_leave,
    }
}

impl Drop for HomeGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = HOME.try_with(|home| *home.borrow_mut() = prev);
        drop(self.shard.set_driver(None));
        if self.on_leave == OnLeave::Drain {
            let mut left = Vec::new();
            self.shard.drain(&mut left);
            crate::executor::park::wake_all(&mut left);
        }
    }
}

/// How long this thread's park may block for its home's timers (`None`:
/// no timer), recording the wait (see `Shard::begin_wait`).
pub(crate) fn begin_wait() -> Option<Duration> {
    with_home(|shard| shard.begin_wait(|| shard.now()))
}

/// Fires this thread's home timers that are due into `fired` (after a
/// [`begin_wait`] if `waited`), and counts a poll of this thread's reactor.
pub(crate) fn turn_home(waited: bool, fired: &mut Vec<Waker>) {
    with_home(|shard| {
        shard.note_drive();
        shard.turn(waited, || shard.now(), fired);
    });
}

/// The foster thread's part: it turns the fallback shard, woken early by
/// `unparker` when a timer is filed before its current wait.
pub(crate) mod foster {
    use super::*;

    /// Called once by the foster thread before its loop.
    pub(crate) fn start(unparker: Unparker) {
        drop(fallback_shard().set_driver(Some(unparker)));
        set_timer_slack_once();
    }

    /// How long the foster thread may block for the fallback timers.
    pub(crate) fn begin_wait() -> Option<Duration> {
        fallback_shard().begin_wait(std::time::Instant::now)
    }

    /// Fires the fallback timers that are due into `fired`.
    pub(crate) fn turn(fired: &mut Vec<Waker>) {
        fallback_shard().turn(true, std::time::Instant::now, fired);
    }
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod shard_tests;
