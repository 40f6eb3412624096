//! `block_in_place` on a work-stealing worker: a relief thread runs the
//! runtime's tasks while the worker's own thread is blocked.
//!
//! The one idea: **the blocked worker gives up its tasks, and a relief
//! thread stands in for it until it is back.** On entering
//! `block_in_place` the worker moves its LIFO slot and local queue to the
//! injection queue (where any worker may take them), and registers a
//! [`Relief`]; a thread of the runtime's blocking pool then runs
//! [`relieve`]: it takes injected tasks (and steals from the workers'
//! queues) and runs them, and on each wake-up stands in for the blocked
//! worker — turns its timer shard and polls its reactor, as a napping
//! sibling does (see `watch.rs`) — so that worker's timers and sockets are
//! delivered too; for that it blocks at most `NAP` (1 ms) at a time, or
//! until the blocked worker's earliest timer, while the worker is out.
//! With one worker the relief thread is the runtime. Tasks
//! homed on the blocked worker (`spawn_local` ones, `spawn_on_each_worker`
//! ones) cannot move and wait for it.
//!
//! # The park handshake
//!
//! A relief thread with nothing to run announces `parked`, re-checks the
//! injection queue, the workers' queues and `done`, and only then blocks in
//! its reactor. A publisher pushes first and then swaps `parked` off,
//! writing the relief thread's eventfd if it was on; the worker leaving
//! `block_in_place` sets `done` first, then does the same. Each side's
//! store comes before its load (`SeqCst`, Dekker), so one of two racing
//! sides sees the other: no task and no `done` is missed. The loom models
//! beside this file check it, and that dropping the re-check loses a
//! wake-up.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, OnceLock};

use super::{lock, Shared};
use crate::coop;
use crate::executor::context::{self, Current};
use crate::executor::loom_facade::{AtomicUsize, Ordering};
use crate::executor::park::{self, Parker};
use crate::reactor::{with_reactor, DrivingGuard, Unparker};
use crate::time::driver::{self as timers, OnLeave};
use crate::time::shard::Shard;

const AWAKE: usize = 0;
const PARKED: usize = 1;

/// The relief thread's side of the park handshake (see the module docs).
pub(crate) struct Signal {
    /// `PARKED` while the relief thread is in (or about to enter) a
    /// blocking reactor poll.
    parked: AtomicUsize,
    /// Non-zero once the worker has left `block_in_place`.
    done: AtomicUsize,
}

impl Signal {
    pub(crate) fn new() -> Signal {
        Signal {
            parked: AtomicUsize::new(AWAKE),
            done: AtomicUsize::new(0),
        }
    }

    /// Relief thread: about to block. Re-check for work after this.
    pub(crate) fn announce_park(&self) {
        let _ = self.parked.swap(PARKED, Ordering::SeqCst);
    }

    /// Relief thread: awake again (or decided not to block).
    pub(crate) fn awake(&self) {
        self.parked.store(AWAKE, Ordering::SeqCst);
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst) != 0
    }

    /// Publisher, after its push: whether the relief thread was parked
    /// (then the caller writes its eventfd).
    pub(crate) fn take_parked(&self) -> bool {
        self.parked.swap(AWAKE, Ordering::SeqCst) == PARKED
    }

    /// The worker left `block_in_place`: whether the relief thread must
    /// be woken to see it.
    pub(crate) fn finish(&self) -> bool {
        let _ = self.done.swap(1, Ordering::SeqCst);
        self.take_parked()
    }
}

/// One worker's stand-in while it is inside `block_in_place`.
pub(crate) struct Relief {
    /// The blocked worker.
    index: usize,
    signal: Signal,
    /// The relief thread's reactor, set before it first announces `parked`.
    unparker: OnceLock<Unparker>,
}

impl Relief {
    fn unpark_if_parked(&self) {
        if self.signal.take_parked() {
            if let Some(u) = self.unparker.get() {
                u.unpark();
            }
        }
    }
}

/// The relief threads of a runtime, woken with its parked workers.
pub(crate) struct Relievers {
    list: Mutex<Vec<Arc<Relief>>>,
    /// `list.len()`, read without the lock on every notification.
    count: std::sync::atomic::AtomicUsize,
}

impl Relievers {
    pub(crate) fn new() -> Relievers {
        Relievers {
            list: Mutex::new(Vec::new()),
            count: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Wakes one parked relief thread, if any (an awake one re-checks the
    /// queues before it parks). Called after every publication that
    /// notifies a parked worker.
    pub(crate) fn notify(&self) {
        if self.count.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            return;
        }
        let parked = lock(&self.list)
            .iter()
            .find(|r| r.signal.take_parked())
            .cloned();
        if let Some(u) = parked.as_ref().and_then(|r| r.unparker.get()) {
            u.unpark();
        }
    }

    /// Wakes every relief thread (shutdown).
    pub(crate) fn wake_all(&self) {
        let list: Vec<Arc<Relief>> = lock(&self.list).clone();
        for relief in &list {
            relief.unpark_if_parked();
        }
    }

    fn register(&self, relief: Arc<Relief>) {
        let mut list = lock(&self.list);
        list.push(relief);
        self.count
            .store(list.len(), std::sync::atomic::Ordering::SeqCst);
    }

    fn deregister(&self, relief: &Arc<Relief>) {
        let removed = {
            let mut list = lock(&self.list);
            let at = list.iter().position(|r| Arc::ptr_eq(r, relief));
            let removed = at.map(|i| list.swap_remove(i));
            self.count
                .store(list.len(), std::sync::atomic::Ordering::SeqCst);
            removed
        };
        drop(removed);
    }
}

/// Held by the blocked worker's thread while its closure runs; dropping it
/// (also when the closure panics) ends the relief.
pub(crate) struct ReliefGuard {
    shared: Arc<Shared>,
    relief: Arc<Relief>,
}

impl Drop for ReliefGuard {
    fn drop(&mut self) {
        self.shared.relievers.deregister(&self.relief);
        if self.relief.signal.finish() {
            if let Some(u) = self.relief.unparker.get() {
                u.unpark();
            }
        }
    }
}

/// Worker `index` of `shared` enters `block_in_place`: registers its
/// relief, and returns the guard plus the job to run on a blocking thread.
pub(crate) fn begin(
    shared: &Arc<Shared>,
    index: usize,
) -> (ReliefGuard, impl FnOnce() + Send + 'static + use<>) {
    let relief = Arc::new(Relief {
        index,
        signal: Signal::new(),
        unparker: OnceLock::new(),
    });
    shared.relievers.register(relief.clone());
    let job = {
        let (shared, relief) = (shared.clone(), relief.clone());
        move || relieve(&shared, &relief)
    };
    (
        ReliefGuard {
            shared: shared.clone(),
            relief,
        },
        job,
    )
}

thread_local! {
    /// On a relief thread: the worker it stands in for.
    static RELIEVING: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The worker this thread stands in for, if it is a relief thread (a task
/// it runs may block in place in turn: then another relief thread takes
/// over, for the same worker).
pub(crate) fn relieving() -> Option<usize> {
    RELIEVING.try_with(Cell::get).ok().flatten()
}

/// The relief thread's loop (see the module docs): runs until the worker
/// is back or the runtime shuts down.
fn relieve(shared: &Arc<Shared>, relief: &Relief) {
    struct Unmark(Option<usize>);
    impl Drop for Unmark {
        fn drop(&mut self) {
            let _ = RELIEVING.try_with(|r| r.set(self.0));
        }
    }
    let _unmark = Unmark(RELIEVING.with(|r| r.replace(Some(relief.index))));
    let _driving = DrivingGuard::enter();
    let unparker = with_reactor(|r| r.unparker());
    // The timers its tasks poll here: this thread's own shard, turned by
    // its park loop; when it leaves, they move to wherever they are
    // polled next.
    let _timers = timers::enter(Arc::new(Shard::new()), unparker.clone(), OnLeave::Drain);
    let _ = relief.unparker.set(unparker);
    let _ctx = context::SchedulerGuard::enter(Current::Caller(shared));
    let parker: RefCell<Option<Parker>> = RefCell::new(None);
    let lookout = super::watch::Lookout::new(shared.workers());
    let mut ticks: u32 = 0;
    let work_visible = || shared.work_pending() || relief.signal.is_done() || shared.is_shutdown();
    while !relief.signal.is_done() && !shared.is_shutdown() {
        if let Some(task) = shared.pop_inject(1, drop).or_else(|| shared.steal_one()) {
            ticks = ticks.wrapping_add(1);
            coop::with_budget(|| task.run());
            if shared.event_interval.divides(ticks) {
                park::park(&parker, false, || {});
                shared.watch.stand_in_for(relief.index, &lookout);
            }
            continue;
        }
        // It parks as the worker it stands in for would: with its hooks.
        if let Some(hook) = &shared.on_park {
            hook();
        }
        relief.signal.announce_park();
        // Re-check after announcing (see the module docs).
        let block = !work_visible();
        let cap = shared.watch.relief_nap(relief.index);
        park::park_capped(&parker, block, Some(cap), || relief.signal.awake());
        if let Some(hook) = &shared.on_unpark {
            hook();
        }
        shared.watch.stand_in_for(relief.index, &lookout);
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
