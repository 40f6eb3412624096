//! Loom model of the current-thread runtime's core hand-off
//! (`executor/current_thread/{core,mod}.rs`): several `block_on` calls on
//! one runtime, one holding the core at a time, the others waiting to be
//! handed it.
//!
//! A call that finds the core taken registers as a waiter and then looks
//! at the core again; a call that takes the core leaves the waiters; a call
//! that gives the core back stores it first and then wakes the first waiter
//! (through that call's own waker: its `woken` flag, then its thread's
//! `parked` handshake and eventfd). Either the waiter's next look finds the
//! core, or the releaser finds the waiter. A lost hand-off leaves a call
//! parked forever with the core free: loom reports a deadlock.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_handoff`
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// A `SeqCst` store written as a swap (loom keeps read-modify-writes of one
/// atomic in a single order, as `SeqCst` keeps all its accesses).
fn sc_store(a: &AtomicBool, value: bool) {
    let _ = a.swap(value, Ordering::SeqCst);
}

/// A thread's reactor, reduced to its eventfd.
struct EventFd {
    written: Mutex<bool>,
    cv: Condvar,
}

impl EventFd {
    fn write(&self) {
        *self.written.lock().unwrap() = true;
        self.cv.notify_one();
    }

    fn poll(&self, block: bool) {
        let mut written = self.written.lock().unwrap();
        while block && !*written {
            written = self.cv.wait(written).unwrap();
        }
        *written = false;
    }
}

/// One `block_on` call: its `BlockOnWaker` and its thread's parker.
struct Call {
    woken: AtomicBool,
    parked: AtomicBool,
    eventfd: EventFd,
}

impl Call {
    fn new() -> Call {
        let call = Call {
            woken: AtomicBool::new(true),
            parked: AtomicBool::new(false),
            eventfd: EventFd {
                written: Mutex::new(false),
                cv: Condvar::new(),
            },
        };
        sc_store(&call.woken, true);
        sc_store(&call.parked, false);
        call
    }

    /// `BlockOnWaker::wake_by_ref`.
    fn wake(&self) {
        sc_store(&self.woken, true);
        if self.parked.swap(false, Ordering::SeqCst) {
            self.eventfd.write();
        }
    }
}

/// `current_thread::Shared`, reduced to the core and its waiters.
struct Runtime {
    core: Mutex<bool>,
    waiters: Mutex<Vec<usize>>,
    calls: Vec<Call>,
    /// Calls that ran with the core (each needs it once).
    drove: AtomicUsize,
}

impl Runtime {
    /// `Shared::take_core`.
    fn take_core(&self) -> bool {
        std::mem::replace(&mut *self.core.lock().unwrap(), false)
    }

    /// `Shared::release_core`: store the core, then wake the first waiter
    /// with no lock held.
    fn release_core(&self) {
        *self.core.lock().unwrap() = true;
        let next = {
            let mut waiters = self.waiters.lock().unwrap();
            (!waiters.is_empty()).then(|| waiters.remove(0))
        };
        if let Some(i) = next {
            self.calls[i].wake();
        }
    }

    /// `Core::try_drive`. A call that takes the core leaves the waiters,
    /// however it took it (`leave_waiters: false` removes that step: a
    /// release may then hand the core to a call that already has it).
    fn try_drive(&self, me: usize, leave_waiters: bool) -> bool {
        let took = self.take_core() || {
            let mut waiters = self.waiters.lock().unwrap();
            if !waiters.contains(&me) {
                waiters.push(me);
            }
            drop(waiters);
            self.take_core()
        };
        if took && leave_waiters {
            self.waiters.lock().unwrap().retain(|&w| w != me);
        }
        took
    }

    /// The `run` loop of one call whose future needs the core once.
    fn block_on(&self, me: usize, leave_waiters: bool) {
        let call = &self.calls[me];
        loop {
            if self.try_drive(me, leave_waiters) {
                self.drove.fetch_add(1, Ordering::SeqCst);
                self.release_core();
                return;
            }
            // `park_waiting`.
            sc_store(&call.parked, true);
            let block = !call.woken.swap(false, Ordering::SeqCst);
            call.eventfd.poll(block);
            sc_store(&call.parked, false);
        }
    }
}

fn run(calls: usize, leave_waiters: bool) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(move || {
        let rt = Arc::new(Runtime {
            core: Mutex::new(true),
            waiters: Mutex::new(Vec::new()),
            calls: (0..calls).map(|_| Call::new()).collect(),
            drove: AtomicUsize::new(0),
        });
        let threads: Vec<_> = (1..calls)
            .map(|i| {
                let rt = rt.clone();
                thread::spawn(move || rt.block_on(i, leave_waiters))
            })
            .collect();
        rt.block_on(0, leave_waiters);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(rt.drove.load(Ordering::SeqCst), calls);
        assert!(*rt.core.lock().unwrap(), "the core is handed back");
    });
}

/// Two calls: each gets the core, whoever releases it first.
#[test]
fn two_calls_each_get_the_core() {
    run(2, true);
}

/// Three calls: waiters are handed the core one after another.
#[test]
fn three_calls_each_get_the_core() {
    run(3, true);
}

/// The key step removed: a call that took the core stays registered, a
/// release wakes it instead of the call still waiting, which sleeps forever.
#[test]
#[should_panic(expected = "deadlock")]
fn a_driver_left_among_the_waiters_loses_a_hand_off() {
    run(3, false);
}
