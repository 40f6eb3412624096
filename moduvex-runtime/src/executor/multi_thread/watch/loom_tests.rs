//! Loom models of the napper election.
//!
//! The real [`Election`] (its atomics routed through loom by the
//! executor's `loom_facade`) is driven by workers that copy the election
//! steps of `Worker::park`: a parked worker blocks in its reactor — reduced
//! to its eventfd — unless it naps, and a worker that wakes holding the
//! napper role (handed to it) naps. A worker that leaves park to run a task
//! that never yields is simply done.
//!
//! The property: while a worker is busy, some parked worker naps. A parked
//! worker that never naps while a sibling is busy blocks forever: loom
//! reports the deadlock. Each model also checks that at most one worker
//! naps.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --lib loom_tests`

use loom::sync::atomic::AtomicUsize as Count;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::{Election, Ordering, NOBODY, PARKED};

/// A worker's eventfd: a write makes the current or next poll return, and
/// any poll consumes it.
struct EventFd {
    written: Mutex<bool>,
    cv: Condvar,
}

impl EventFd {
    fn new() -> EventFd {
        EventFd {
            written: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    fn write(&self) {
        *self.written.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// A blocking reactor poll without a timeout.
    fn poll(&self) {
        let mut written = self.written.lock().unwrap();
        while !*written {
            written = self.cv.wait(written).unwrap();
        }
        *written = false;
    }
}

struct Model {
    election: Election,
    fds: Vec<EventFd>,
    /// Workers napping at the end of their part.
    napping: Count,
}

impl Model {
    /// `parked[i]`: whether worker `i` starts parked; `napper`: who holds
    /// the role at the start.
    fn new(parked: &[bool], napper: usize) -> Arc<Model> {
        let election = Election::new(parked.len());
        // Loom lets a `SeqCst` load read a constructor's plain store; store
        // every initial value again with `SeqCst` (see the idle models).
        for (i, &p) in parked.iter().enumerate() {
            let _ = election.parked[i].swap(usize::from(p), Ordering::SeqCst);
        }
        let _ = election.napper.swap(napper, Ordering::SeqCst);
        Arc::new(Model {
            election,
            fds: parked.iter().map(|_| EventFd::new()).collect(),
            napping: Count::new(0),
        })
    }

    /// Worker `me` leaves park with a task that never yields.
    fn leave_for_good(&self, me: usize) {
        if let Some(j) = self.election.leave(me) {
            self.fds[j].write();
        }
    }

    /// Worker `me`, parked and blocked in its reactor without napping:
    /// `Worker::park`'s loop, then the run loop's way back into park.
    /// Returns once it naps.
    fn blocked_until_napping(&self, me: usize) {
        loop {
            self.fds[me].poll();
            if !self.election.is_napper(me) {
                // Woken for nothing of its own: it leaves park, finds no
                // task, and parks again.
                if let Some(j) = self.election.leave(me) {
                    self.fds[j].write();
                }
                self.election.enter(me);
            }
            if self.election.should_nap(me) {
                self.nap(me);
                return;
            }
        }
    }

    /// Worker `me` is busy and parks.
    fn parks(&self, me: usize) {
        self.election.enter(me);
        if self.election.should_nap(me) {
            self.nap(me);
        } else {
            self.blocked_until_napping(me);
        }
    }

    fn nap(&self, me: usize) {
        assert!(self.election.is_napper(me));
        assert_eq!(
            self.napping.fetch_add(1, Ordering::SeqCst),
            0,
            "two nappers"
        );
    }
}

/// The napper leaves park with work while its busy sibling parks: one of
/// them must end up napping... the sibling, since the leaver stays busy.
#[test]
fn the_napper_leaves_while_its_sibling_parks() {
    loom::model(|| {
        let m = Model::new(&[true, false], 0);
        let m2 = m.clone();
        let leaver = thread::spawn(move || m2.leave_for_good(0));
        m.parks(1);
        leaver.join().unwrap();
        assert_eq!(m.napping.load(Ordering::SeqCst), 1);
    });
}

/// Every worker parked (nobody naps); one wakes and stays busy: the other,
/// blocked without a timeout, must be handed the role.
#[test]
fn a_worker_leaving_an_all_idle_runtime_hands_the_role_on() {
    loom::model(|| {
        let m = Model::new(&[true, true], NOBODY);
        let m2 = m.clone();
        let leaver = thread::spawn(move || m2.leave_for_good(0));
        m.blocked_until_napping(1);
        leaver.join().unwrap();
        assert!(m.election.is_napper(1));
    });
}

/// The napper wakes and finds its sibling parked (so it gives the role
/// back) just as that sibling leaves park for good: the napper's second
/// look must catch it, since the sibling saw the role still held.
#[test]
fn the_napper_gives_the_role_back_while_its_sibling_leaves() {
    loom::model(|| {
        let m = Model::new(&[true, true], 0);
        let m2 = m.clone();
        let leaver = thread::spawn(move || m2.leave_for_good(1));
        if m.election.should_nap(0) {
            m.nap(0);
        } else {
            m.blocked_until_napping(0);
        }
        leaver.join().unwrap();
        assert!(m.election.is_napper(0));
    });
}

/// Three workers, all parked: two wake at once and stay busy (the first's
/// hand-off may pick the second, which is leaving too); the third must
/// nap, and alone.
///
/// Explored with up to three preemptions (the unbounded model takes about
/// a minute and a half in release).
#[test]
fn two_workers_leave_at_once_and_the_third_naps() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(|| {
        let m = Model::new(&[true, true, true], NOBODY);
        let a = {
            let m = m.clone();
            thread::spawn(move || m.leave_for_good(0))
        };
        let b = {
            let m = m.clone();
            thread::spawn(move || m.leave_for_good(1))
        };
        m.blocked_until_napping(2);
        a.join().unwrap();
        b.join().unwrap();
        assert!(m.election.is_napper(2));
        assert_eq!(m.election.parked[2].load(Ordering::SeqCst), PARKED);
    });
}
