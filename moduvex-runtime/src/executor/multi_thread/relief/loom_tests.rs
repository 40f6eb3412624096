//! Loom models of the relief thread's park handshake.
//!
//! The real [`Signal`] (its atomics routed through loom by the executor's
//! `loom_facade`) is driven by a relief thread that copies the steps of
//! `relieve`: run what is queued, else announce `parked`, re-check the
//! queue and `done`, and only then block in its reactor (reduced to its
//! eventfd). A publisher pushes a task and then takes `parked`; the worker
//! leaving `block_in_place` sets `done` the same way.
//!
//! The property: the relief thread runs every task published before the
//! worker is back, and it always sees `done`. A lost wake-up leaves it
//! blocked forever: loom reports the deadlock.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --lib loom_tests`

use loom::sync::atomic::AtomicUsize as Count;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::{Ordering, Signal, AWAKE};

/// The relief thread's eventfd: a write makes the current or next poll
/// return, and any poll consumes it.
struct EventFd {
    written: Mutex<bool>,
    cv: Condvar,
}

impl EventFd {
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
    signal: Signal,
    fd: EventFd,
    /// Tasks in the injection queue.
    queued: Count,
    /// Tasks the relief thread ran.
    ran: Count,
}

impl Model {
    fn new() -> Arc<Model> {
        let signal = Signal::new();
        // Loom lets a `SeqCst` load read a constructor's plain store: store
        // the initial values again with `SeqCst` (see the idle models).
        let _ = signal.parked.swap(AWAKE, Ordering::SeqCst);
        let _ = signal.done.swap(0, Ordering::SeqCst);
        let queued = Count::new(0);
        let _ = queued.swap(0, Ordering::SeqCst);
        Arc::new(Model {
            signal,
            fd: EventFd {
                written: Mutex::new(false),
                cv: Condvar::new(),
            },
            queued,
            ran: Count::new(0),
        })
    }

    /// A task is queued (`schedule_remote` then `notify_parked`).
    fn publish(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        if self.signal.take_parked() {
            self.fd.write();
        }
    }

    /// The worker leaves `block_in_place` (`ReliefGuard::drop`).
    fn finish(&self) {
        if self.signal.finish() {
            self.fd.write();
        }
    }

    fn try_pop(&self) -> bool {
        let mut n = self.queued.load(Ordering::SeqCst);
        while n > 0 {
            match self
                .queued
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    /// `relieve`: runs until `done`, or until it ran `until` tasks.
    fn relieve(&self, until: usize) {
        while !self.signal.is_done() && self.ran.load(Ordering::SeqCst) < until {
            if self.try_pop() {
                self.ran.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            self.signal.announce_park();
            // The re-check after announcing.
            let block = !(self.queued.load(Ordering::SeqCst) > 0 || self.signal.is_done());
            if block {
                self.fd.poll();
            }
            self.signal.awake();
        }
    }
}

/// A task published while the relief thread parks is run.
#[test]
fn a_task_published_while_the_relief_parks_is_run() {
    loom::model(|| {
        let m = Model::new();
        let m2 = m.clone();
        let publisher = thread::spawn(move || m2.publish());
        m.relieve(1);
        publisher.join().unwrap();
        assert_eq!(m.ran.load(Ordering::SeqCst), 1);
    });
}

/// The worker comes back while the relief thread parks: it sees `done`.
#[test]
fn the_relief_sees_the_worker_come_back() {
    loom::model(|| {
        let m = Model::new();
        let m2 = m.clone();
        let worker = thread::spawn(move || m2.finish());
        m.relieve(usize::MAX);
        worker.join().unwrap();
        assert!(m.signal.is_done());
    });
}

/// Two publishers race the relief thread's parks: both tasks are run.
#[test]
fn two_publishers_and_a_parking_relief() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(|| {
        let m = Model::new();
        let publishers: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || m.publish())
            })
            .collect();
        m.relieve(2);
        for p in publishers {
            p.join().unwrap();
        }
        assert_eq!(m.ran.load(Ordering::SeqCst), 2);
    });
}
