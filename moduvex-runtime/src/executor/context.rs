//! Which scheduler, if any, runs on this thread.
//!
//! `spawn`, `spawn_local`, timers and `Handle::current` all ask this one
//! thread-local. It holds a raw pointer to the scheduler's owner-thread
//! state, valid exactly while that scheduler runs here (the guard that
//! set it clears it before the state is dropped).

use std::cell::Cell;

use super::current_thread;
use super::multi_thread;

/// The scheduler running on this thread.
#[derive(Clone, Copy)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Current {
    /// No runtime on this thread.
    None,
    /// Inside `block_on` of a current-thread scheduler.
    CurrentThread(*const current_thread::Core),
    /// A worker thread of a multi-threaded scheduler.
    Worker(*const multi_thread::Worker),
    /// Inside `Runtime::block_on` of a multi-threaded runtime: the future
    /// runs here, spawned tasks go to that runtime's workers.
    Caller(*const std::sync::Arc<multi_thread::Shared>),
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::None) };
}

/// The scheduler on this thread (`None` during thread teardown too).
pub(crate) fn current() -> Current {
    CURRENT.try_with(Cell::get).unwrap_or(Current::None)
}

/// Installs `new` and returns what it replaced.
pub(crate) fn replace(new: Current) -> Current {
    CURRENT.with(|c| c.replace(new))
}

/// Panics unless this thread runs no scheduler yet.
#[track_caller]
pub(crate) fn assert_not_in_runtime() {
    if !matches!(current(), Current::None) {
        panic!(
            "cannot block the runtime from within an async context: `block_on` was called \
             on a thread that is already running a moduvex runtime; `.await` the future \
             instead, or spawn it"
        );
    }
}
