//! Which scheduler, if any, runs on this thread, and which runtime this
//! thread has entered.
//!
//! `spawn`, `spawn_local`, timers and `Handle::current` all ask these
//! thread-locals. [`Current`] holds a raw pointer to the scheduler's
//! owner-thread state, valid exactly while that scheduler runs here (the
//! guard that set it clears it before the state is dropped).
//!
//! The *entered handle* is what `Runtime::enter` / `Handle::enter` (and a
//! blocking-pool thread, and `block_in_place`) install: a runtime this
//! thread uses without running its scheduler. When set it wins over
//! [`Current`], so an `enter` inside a task targets the entered runtime;
//! a scheduler starting on the thread hides it until it stops (its own
//! tasks spawn onto it, as tokio's `block_on` does).

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use super::current_thread;
use super::multi_thread;
use super::SchedulerHandle;

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

thread_local! {
    /// The runtime entered on this thread (see the module docs).
    static ENTERED: RefCell<Option<SchedulerHandle>> = const { RefCell::new(None) };
    /// Set once this thread has had a runtime entered (never cleared): lets
    /// `with_entered` skip the `RefCell` on threads that never enter one.
    static ANY_ENTERED: Cell<bool> = const { Cell::new(false) };
    /// How many enter guards are alive on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` with the runtime entered on this thread, if any.
#[inline]
pub(crate) fn with_entered<R>(f: impl FnOnce(Option<&SchedulerHandle>) -> R) -> R {
    // Fast path for every spawn on a thread that never entered a runtime.
    if !ANY_ENTERED.try_with(Cell::get).unwrap_or(true) {
        return f(None);
    }
    let mut f = Some(f);
    let res = ENTERED.try_with(|e| match e.try_borrow() {
        Ok(h) => (f.take().expect("called once"))(h.as_ref()),
        // Only `replace_entered` borrows mutably, and it calls no user code.
        Err(_) => (f.take().expect("called once"))(None),
    });
    match res {
        Ok(r) => r,
        Err(_) => (f.take().expect("called once"))(None),
    }
}

/// Whether this thread has entered a runtime (without running it).
pub(crate) fn has_entered() -> bool {
    with_entered(|h| h.is_some())
}

/// Installs `new` as the entered runtime and returns the previous one. The
/// caller drops what it gets back outside any borrow (dropping the last
/// handle of a runtime drops its tasks).
fn replace_entered(new: Option<SchedulerHandle>) -> Option<SchedulerHandle> {
    if new.is_some() {
        let _ = ANY_ENTERED.try_with(|a| a.set(true));
    } else if !ANY_ENTERED.try_with(Cell::get).unwrap_or(true) {
        // Nothing was ever entered here: the slot is `None` already (every
        // `block_on` hides and restores it; most threads never enter).
        return None;
    }
    ENTERED
        .try_with(|e| std::mem::replace(&mut *e.borrow_mut(), new))
        .ok()
        .flatten()
}

/// The guard of `Handle::enter`: the runtime stays entered until it drops.
/// Guards nest and must drop in the reverse order of their creation.
///
/// `!Send`: it restores this thread's state.
pub(crate) struct EnterGuard {
    prev: Option<SchedulerHandle>,
    /// Guards alive on this thread once this one was made.
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

/// Enters `handle` on this thread until the guard drops.
pub(crate) fn enter(handle: SchedulerHandle) -> EnterGuard {
    let prev = replace_entered(Some(handle));
    let depth = DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get()
    });
    EnterGuard {
        prev,
        depth,
        _not_send: PhantomData,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let depth = DEPTH.try_with(Cell::get).unwrap_or(self.depth);
        if depth != self.depth {
            if std::thread::panicking() {
                // Unwinding already: leave the state to the guards still
                // alive rather than abort the process.
                return;
            }
            panic!(
                "`EnterGuard` values dropped out of order. Guards returned by \
                 `Runtime::enter()` / `Handle::enter()` must be dropped in the reverse order \
                 as they were acquired"
            );
        }
        let _ = DEPTH.try_with(|d| d.set(depth - 1));
        let mine = replace_entered(self.prev.take());
        drop(mine);
    }
}

/// Hides the entered runtime while a scheduler runs on this thread (see
/// the module docs); restores it when dropped.
pub(crate) struct HideEntered(Option<SchedulerHandle>);

impl HideEntered {
    pub(crate) fn new() -> HideEntered {
        HideEntered(replace_entered(None))
    }
}

impl Drop for HideEntered {
    fn drop(&mut self) {
        let inner = replace_entered(self.0.take());
        drop(inner);
    }
}

/// Sets `new` as this thread's scheduler with the entered runtime hidden;
/// both are restored when the guard drops.
pub(crate) struct SchedulerGuard {
    prev: Current,
    _hidden: HideEntered,
}

impl SchedulerGuard {
    pub(crate) fn enter(new: Current) -> SchedulerGuard {
        let hidden = HideEntered::new();
        SchedulerGuard {
            prev: replace(new),
            _hidden: hidden,
        }
    }
}

impl Drop for SchedulerGuard {
    fn drop(&mut self) {
        replace(self.prev);
    }
}

/// Leaves the scheduler running on this thread (its context reads
/// [`Current::None`]) with `handle` entered instead, until dropped: the
/// state of `block_in_place`'s closure.
pub(crate) struct ExitScheduler {
    prev: Current,
    _entered: EnterGuard,
}

impl ExitScheduler {
    pub(crate) fn new(handle: SchedulerHandle) -> ExitScheduler {
        let entered = enter(handle);
        ExitScheduler {
            prev: replace(Current::None),
            _entered: entered,
        }
    }
}

impl Drop for ExitScheduler {
    fn drop(&mut self) {
        replace(self.prev);
    }
}
