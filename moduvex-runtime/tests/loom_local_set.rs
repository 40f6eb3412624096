//! Loom model of a `task::LocalSet`'s remote wake
//! (`executor/current_thread/local.rs`, `Notify::Poller`): wakers on other
//! threads push a set's task into its locked inbox, raise `inbox_pending`,
//! then take the poller's waker out of its slot (under the slot's lock)
//! and wake it. The poller (`run_until`, or awaiting the set) registers its
//! waker in the slot *first* and only then looks at `inbox_pending` and
//! drains the inbox. Either the drain sees the task, or the wake finds the
//! freshly registered waker. A lost wake leaves the host parked forever
//! with a task in the inbox: loom reports a deadlock.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_local_set`
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// A `SeqCst` store written as a swap (loom keeps read-modify-writes of one
/// atomic in a single order, as `SeqCst` keeps all its accesses).
fn sc_store(a: &AtomicBool, value: bool) {
    let _ = a.swap(value, Ordering::SeqCst);
}

/// The host task that polls the set, reduced to "woken" and a way to wait.
struct Host {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Host {
    /// The host's waker: `wake`.
    fn wake(&self) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// The host's runtime parks until the waker fires.
    fn wait(&self) {
        let mut woken = self.woken.lock().unwrap();
        while !*woken {
            woken = self.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}

/// `LocalShared` of a user set: the inbox, its flag, the poller's waker.
struct Set {
    inbox: Mutex<Vec<u32>>,
    inbox_pending: AtomicBool,
    /// `Some` while a poller's waker is registered.
    slot: Mutex<Option<Arc<Host>>>,
}

impl Set {
    /// `LocalShared::push_inbox` with `Notify::Poller`.
    fn push_inbox(&self, task: u32) {
        self.inbox.lock().unwrap().push(task);
        sc_store(&self.inbox_pending, true);
        let waker = self.slot.lock().unwrap().take();
        if let Some(host) = waker {
            host.wake();
        }
    }

    /// `LocalShared::register`.
    fn register(&self, host: &Arc<Host>) {
        *self.slot.lock().unwrap() = Some(host.clone());
    }

    /// `LocalSet::pop`'s inbox half: every task woken remotely.
    fn drain(&self) -> Vec<u32> {
        if !self.inbox_pending.load(Ordering::Acquire) {
            return Vec::new();
        }
        sc_store(&self.inbox_pending, false);
        std::mem::take(&mut *self.inbox.lock().unwrap())
    }
}

/// The owner thread: polls the set (`RunUntil::poll`: register, then run
/// what is queued) until `tasks` remote tasks have run, waiting for a wake
/// between polls.
fn poll_until_all_ran(set: &Set, host: &Arc<Host>, tasks: usize) {
    let mut ran = 0;
    loop {
        set.register(host);
        ran += set.drain().len();
        if ran == tasks {
            return;
        }
        host.wait();
    }
}

/// `wakers` threads each wake one task of the set while its owner polls.
fn model(wakers: u32, bound: Option<usize>) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = bound;
    b.check(move || {
        let set = Arc::new(Set {
            inbox: Mutex::new(Vec::new()),
            inbox_pending: AtomicBool::new(false),
            slot: Mutex::new(None),
        });
        sc_store(&set.inbox_pending, false);
        let host = Arc::new(Host {
            woken: Mutex::new(false),
            cv: Condvar::new(),
        });
        let threads: Vec<_> = (0..wakers)
            .map(|i| {
                let set = set.clone();
                thread::spawn(move || set.push_inbox(i))
            })
            .collect();
        poll_until_all_ran(&set, &host, wakers as usize);
        for t in threads {
            t.join().unwrap();
        }
        assert!(set.inbox.lock().unwrap().is_empty());
    });
}

#[test]
fn a_remote_wake_is_never_lost() {
    model(1, None);
}

#[test]
fn two_remote_wakes_are_never_lost() {
    model(2, Some(3));
}
