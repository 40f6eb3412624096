//! Standing in for busy workers: an idle worker turns the timer wheels and
//! polls the reactors of siblings that are busy, so no timer or socket
//! event waits for a worker to be free while another idles.
//!
//! The one idea: **while any worker is busy and another is parked, exactly
//! one parked worker naps** — it blocks at most [`NAP`] (or until a busy
//! sibling's published earliest deadline) and, on each wake-up, turns each
//! busy sibling's timer shard with `try_lock` and polls, without blocking,
//! the reactor of each busy sibling that has not polled it since the last
//! look. What it fires or delivers wakes tasks through their own
//! schedulers (a stealable task lands on the napper's queue and runs
//! there). When every worker is parked nobody naps: an idle runtime makes
//! no periodic wake-ups.
//!
//! # The election
//!
//! Each worker publishes `parked` (set on entering park, cleared on leaving
//! it), and `napper` names the napping worker, if any. A parking worker
//! takes the role if a sibling is busy and nobody holds it; with no busy
//! sibling it gives the role back and looks once more (a sibling may have
//! left park before seeing it given back). A worker leaving park gives the
//! role back if it held it and, if then nobody holds it while a sibling is
//! parked, claims the role for that sibling and writes its eventfd: this
//! is the hand-off that closes the gap of a worker that parked without
//! napping because every sibling was parked then, and a sibling that
//! wakes, gets busy and blocks. Each access is `SeqCst`: parking and
//! leaving are a store then loads on each side (Dekker), so at least one
//! of two racing workers sees the other. The loom models beside this file
//! check it, and that dropping the hand-off loses the napper.
//!
//! One eventfd write is made per hand-off only, that is when a worker
//! leaves park while no sibling naps — in steady state (one busy worker,
//! one napping) the napper's wake-ups are timeouts, not writes.
//!
//! # Polling another worker's reactor
//!
//! `Reactor` methods take `&self`, and `epoll_wait` on one descriptor from
//! two threads is allowed: each edge-triggered event goes to one of them,
//! and either delivers it through the registry's locks, as the owner's own
//! polls do. The one event the owner must see itself, its unpark eventfd,
//! is written again by `Reactor::poll_foreign` when the stand-in took it.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::executor::loom_facade::{AtomicUsize, Ordering};
use crate::executor::park::wake_all;
use crate::platform::sys::{events_with_capacity, Events};
use crate::reactor::{Reactor, Unparker};
use crate::time::shard::Shard;

/// The longest a napping worker blocks while a sibling is busy: the most
/// a busy worker's timer or socket event waits (plus a turn).
pub(crate) const NAP: Duration = Duration::from_millis(1);

/// `Election::napper` when nobody naps.
const NOBODY: usize = usize::MAX;
const BUSY: usize = 0;
const PARKED: usize = 1;

/// Events taken from a busy sibling's reactor per look.
const EVENTS_PER_LOOK: usize = 256;

/// Who naps (see the module docs).
pub(crate) struct Election {
    /// `PARKED` or `BUSY`, one per worker (`usize` for the loom facade).
    parked: Box<[AtomicUsize]>,
    /// The worker that naps, or `NOBODY`.
    ///
    /// # Invariant
    /// Only the worker named here sets it back to `NOBODY` (except that a
    /// claimer takes back a claim whose worker it sees has left park); any
    /// other change is a compare-exchange from `NOBODY`, so at most one
    /// worker holds the role.
    napper: AtomicUsize,
}

impl Election {
    pub(crate) fn new(workers: usize) -> Election {
        Election {
            parked: (0..workers).map(|_| AtomicUsize::new(BUSY)).collect(),
            napper: AtomicUsize::new(NOBODY),
        }
    }

    /// Whether worker `j` is busy (not parked).
    pub(crate) fn is_busy(&self, j: usize) -> bool {
        self.parked[j].load(Ordering::SeqCst) == BUSY
    }

    fn any_busy_sibling(&self, me: usize) -> bool {
        (0..self.parked.len()).any(|j| j != me && self.is_busy(j))
    }

    /// Worker `me` enters park. (Stores are swaps: see the loom models.)
    pub(crate) fn enter(&self, me: usize) {
        let _ = self.parked[me].swap(PARKED, Ordering::SeqCst);
    }

    /// Whether parked worker `me` naps in its next wait: it takes the role
    /// if a sibling is busy and nobody holds it, and gives it back if no
    /// sibling is busy.
    pub(crate) fn should_nap(&self, me: usize) -> bool {
        loop {
            if self.any_busy_sibling(me) {
                return match self.napper.compare_exchange(
                    NOBODY,
                    me,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ) {
                    Ok(_) => true,
                    Err(holder) => holder == me,
                };
            }
            if self
                .napper
                .compare_exchange(me, NOBODY, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                return false;
            }
            // Given back: a sibling that left park before seeing that did
            // not hand the role on. Look again.
            if !self.any_busy_sibling(me) {
                return false;
            }
        }
    }

    /// Whether worker `me` holds the napper role.
    pub(crate) fn is_napper(&self, me: usize) -> bool {
        self.napper.load(Ordering::SeqCst) == me
    }

    /// Worker `me` leaves park. Returns the parked sibling it handed the
    /// napper role to, whose eventfd the caller must write.
    pub(crate) fn leave(&self, me: usize) -> Option<usize> {
        let _ = self.parked[me].swap(BUSY, Ordering::SeqCst);
        let _ = self
            .napper
            .compare_exchange(me, NOBODY, Ordering::SeqCst, Ordering::SeqCst);
        let n = self.parked.len();
        for k in 1..n {
            if self.napper.load(Ordering::SeqCst) != NOBODY {
                return None;
            }
            let j = (me + k) % n;
            if self.is_busy(j) {
                continue;
            }
            if self
                .napper
                .compare_exchange(NOBODY, j, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                return None;
            }
            if !self.is_busy(j) {
                return Some(j);
            }
            // `j` left park meanwhile and may have missed the claim: take
            // it back (unless `j` gave it back itself) and try the next.
            if self
                .napper
                .compare_exchange(j, NOBODY, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                return None;
            }
        }
        None
    }
}

/// One worker as its siblings see it.
struct Slot {
    timers: Arc<Shard>,
    /// Set by the worker thread when it starts.
    reactor: OnceLock<Reactor>,
    unparker: OnceLock<Unparker>,
}

/// The workers' timer shards and reactors, and the election.
pub(crate) struct Watch {
    pub(crate) election: Election,
    slots: Box<[Slot]>,
}

/// What one worker remembers of its siblings between two looks.
pub(crate) struct Lookout {
    /// Each sibling's reactor-poll count at the last look.
    seen: Box<[Cell<u64>]>,
    events: RefCell<Option<Events>>,
    wakers: RefCell<Vec<Waker>>,
}

impl Lookout {
    pub(crate) fn new(workers: usize) -> Lookout {
        Lookout {
            seen: (0..workers).map(|_| Cell::new(0)).collect(),
            events: RefCell::new(None),
            wakers: RefCell::new(Vec::new()),
        }
    }
}

impl Watch {
    pub(crate) fn new(workers: usize) -> Watch {
        Watch {
            election: Election::new(workers),
            slots: (0..workers)
                .map(|_| Slot {
                    timers: Arc::new(Shard::new()),
                    reactor: OnceLock::new(),
                    unparker: OnceLock::new(),
                })
                .collect(),
        }
    }

    /// Worker `index`'s timer shard.
    pub(crate) fn timers(&self, index: usize) -> &Arc<Shard> {
        &self.slots[index].timers
    }

    /// Worker `index` has started on its thread, with `reactor`.
    pub(crate) fn start(&self, index: usize, reactor: &Reactor) {
        let slot = &self.slots[index];
        let _ = slot.unparker.set(reactor.unparker());
        let _ = slot.reactor.set(reactor.clone());
    }

    /// How long napping worker `me` may block: [`NAP`], or less if a busy
    /// sibling's earliest timer is due sooner.
    pub(crate) fn nap(&self, me: usize) -> Duration {
        let mut now = None;
        let mut nap = NAP;
        for (j, slot) in self.slots.iter().enumerate() {
            if j == me || !self.election.is_busy(j) {
                continue;
            }
            if let Some(next) = slot.timers.next_deadline() {
                let now = *now.get_or_insert_with(Instant::now);
                nap = nap.min(next.saturating_duration_since(now));
            }
        }
        nap
    }

    /// Napping worker `me` woke: turns each busy sibling's timers and polls
    /// the reactor of each busy sibling that has not polled it since the
    /// last look, then wakes what that fired (on this thread).
    pub(crate) fn stand_in(&self, me: usize, lookout: &Lookout) {
        let mut wakers = lookout.wakers.take();
        for (j, slot) in self.slots.iter().enumerate() {
            if j == me || !self.election.is_busy(j) {
                continue;
            }
            slot.timers.try_turn(Instant::now, &mut wakers);
            let drives = slot.timers.drives();
            if lookout.seen[j].replace(drives) != drives {
                // It still polls its reactor: it delivers its own sockets.
                continue;
            }
            if let Some(reactor) = slot.reactor.get() {
                let mut events = lookout.events.borrow_mut();
                let events = events.get_or_insert_with(|| events_with_capacity(EVENTS_PER_LOOK));
                while let Ok(EVENTS_PER_LOOK) = reactor.poll_foreign(events, &mut wakers) {}
            }
        }
        wake_all(&mut wakers);
        lookout.wakers.replace(wakers);
    }

    /// How long the relief thread of worker `j` (blocked in
    /// `block_in_place`) may block: [`NAP`], or less if `j`'s earliest
    /// timer is due sooner.
    pub(crate) fn relief_nap(&self, j: usize) -> Duration {
        match self.slots[j].timers.next_deadline() {
            Some(next) => NAP.min(next.saturating_duration_since(Instant::now())),
            None => NAP,
        }
    }

    /// The relief thread of worker `j` woke: turns `j`'s timers and polls
    /// its reactor (which `j` does not poll while blocked), then wakes what
    /// that fired, on this thread.
    pub(crate) fn stand_in_for(&self, j: usize, lookout: &Lookout) {
        let mut wakers = lookout.wakers.take();
        let slot = &self.slots[j];
        slot.timers.try_turn(Instant::now, &mut wakers);
        if let Some(reactor) = slot.reactor.get() {
            let mut events = lookout.events.borrow_mut();
            let events = events.get_or_insert_with(|| events_with_capacity(EVENTS_PER_LOOK));
            while let Ok(EVENTS_PER_LOOK) = reactor.poll_foreign(events, &mut wakers) {}
        }
        wake_all(&mut wakers);
        lookout.wakers.replace(wakers);
    }

    /// Worker `me` leaves park; hands the napper role on if needed (see
    /// the module docs).
    pub(crate) fn leave(&self, me: usize) {
        if let Some(j) = self.election.leave(me) {
            if let Some(u) = self.slots[j].unparker.get() {
                u.unpark();
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_parked_worker_naps_only_while_a_sibling_is_busy() {
        let e = Election::new(2);
        e.enter(0);
        // Worker 1 is busy: worker 0 naps.
        assert!(e.should_nap(0));
        assert!(e.is_napper(0));
        e.enter(1);
        assert!(!e.should_nap(1), "nobody else is busy");
        // Everyone parked: the napper gives the role back.
        assert!(!e.should_nap(0));
        assert!(!e.is_napper(0));
        // Worker 1 leaves while nobody naps: it hands the role to 0.
        assert_eq!(e.leave(1), Some(0));
        assert!(e.is_napper(0));
        assert!(e.should_nap(0));
        // The napper leaves: nobody is parked to take over.
        assert_eq!(e.leave(0), None);
        assert!(!e.is_napper(0));
    }

    #[test]
    fn at_most_one_napper() {
        let e = Election::new(3);
        e.enter(0);
        e.enter(1);
        assert!(e.should_nap(0));
        assert!(!e.should_nap(1));
        // Worker 2 leaves while 0 naps: no hand-off.
        e.enter(2);
        assert_eq!(e.leave(2), None);
        // The napper leaves with work: the role goes to 1.
        assert_eq!(e.leave(0), Some(1));
        assert!(e.is_napper(1));
    }
}
