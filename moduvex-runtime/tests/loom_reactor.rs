//! Loom models of the waker registry: token generations and the waiter
//! list. They drive the real registry code (its atomics and locks are
//! loom's under `--cfg loom`, through `reactor::loom_hooks`).
//!
//! * A poll that read an event for a source may deliver it after the
//!   source was removed and a new one took its slab key: the token's
//!   generation must keep the old readiness away from the new source.
//! * Any number of futures wait on one direction: a readiness event must
//!   wake every one of them, and a future that gives its place up (dropped
//!   before or after being woken) must never take another's wake-up.
//!
//! * A `WouldBlock` clears the readiness it looked at only if no edge
//!   arrived since (the tick check), and a wait for a mask (both
//!   directions, or the priority bit alone) is woken by any edge it names.
//!
//! A lost wake-up leaves a waiting thread parked with nobody left to
//! unpark it: loom reports a deadlock.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_reactor`
#![cfg(loom)]

use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::{Arc, Mutex};
use loom::thread;
use moduvex_runtime::platform::sys::Event;
use moduvex_runtime::reactor::loom_hooks::{self, Source, SourceWaiter};
use moduvex_runtime::reactor::{Direction, WakerRegistry};

const BOUND: usize = 3;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(BOUND);
    b.check(f);
}

struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }
}

fn this_thread_waker() -> Waker {
    Waker::from(StdArc::new(Unpark(thread::current())))
}

fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

/// Waits in `waiter`'s place until the source is readable, parking
/// between polls as a task would sleep between wake-ups.
fn wait_readable(waiter: &mut SourceWaiter<'_>) {
    let waker = this_thread_waker();
    let mut cx = Context::from_waker(&waker);
    while waiter.poll_ready(&mut cx).is_pending() {
        thread::park();
    }
}

fn hang_up(token: usize) -> Event {
    Event {
        token,
        readable: true,
        writable: true,
        read_closed: true,
        write_closed: true,
        error: false,
        priority: false,
    }
}

/// The poll thread has read the old source's hang-up from the kernel and
/// delivers it; meanwhile the old source is dropped and a new one is
/// registered, taking the same slab key.
#[test]
fn a_stale_event_never_reaches_the_source_that_reuses_its_key() {
    model(|| {
        let registry = Arc::new(WakerRegistry::new());
        let (old, _old_source) = loom_hooks::insert(&registry);
        let poller = {
            let registry = registry.clone();
            thread::spawn(move || wake_all(loom_hooks::deliver(&registry, hang_up(old))))
        };
        registry.remove_token(old);
        let (new, new_source) = loom_hooks::insert(&registry);
        poller.join().unwrap();
        assert_eq!(
            loom_hooks::key(new),
            loom_hooks::key(old),
            "the key is reused"
        );
        assert!(
            new_source.ready(Direction::Read).is_none(),
            "the new source got the old one's hang-up"
        );
        assert!(new_source.ready(Direction::Write).is_none());
    });
}

/// Two futures wait on one direction; one readiness event wakes both.
#[test]
fn one_event_wakes_every_waiting_future() {
    model(|| {
        let source = Arc::new(Source::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let source = source.clone();
                thread::spawn(move || wait_readable(&mut source.waiter(Direction::Read)))
            })
            .collect();
        wake_all(source.set_readable());
        for w in waiters {
            w.join().unwrap();
        }
    });
}

/// One future is cancelled (polled once, then dropped) while another
/// waits and the event arrives: the remaining one is woken.
#[test]
fn a_cancelled_future_takes_no_wake_up_from_the_remaining_one() {
    model(|| {
        let source = Arc::new(Source::new());
        let cancelled = {
            let source = source.clone();
            thread::spawn(move || {
                let waker = this_thread_waker();
                let mut waiter = source.waiter(Direction::Read);
                let _ = waiter.poll_ready(&mut Context::from_waker(&waker));
            })
        };
        let remaining = {
            let source = source.clone();
            thread::spawn(move || wait_readable(&mut source.waiter(Direction::Read)))
        };
        wake_all(source.set_readable());
        cancelled.join().unwrap();
        remaining.join().unwrap();
    });
}

/// A future woken by an event is dropped (its task lost interest) while a
/// second future, woken by the same event, finds nothing to read and
/// waits again, perhaps in the very place the first was woken from: the
/// first giving its place up must not withdraw the second's waker, or the
/// next event wakes nobody.
#[test]
fn a_place_freed_and_taken_again_is_never_given_up_by_its_old_owner() {
    model(|| {
        let source = Arc::new(Source::new());
        let queued = Arc::new(Mutex::new(false));
        let first = {
            let source = source.clone();
            thread::spawn(move || {
                let mut waiter = source.waiter(Direction::Read);
                wait_readable(&mut waiter);
                drop(waiter);
            })
        };
        let second = {
            let (source, queued) = (source.clone(), queued.clone());
            thread::spawn(move || read_queued(&source, &queued))
        };
        // A spurious edge, then data and its edge.
        wake_all(source.set_readable());
        *queued.lock().unwrap() = true;
        wake_all(source.set_readable());
        first.join().unwrap();
        second.join().unwrap();
    });
}

/// `IoSource::poll_io` in one future: waits until readable, runs the
/// operation (takes the queued data, or would block: clears the readiness
/// it saw and waits again) until it has the data.
fn read_queued(source: &Source, queued: &Mutex<bool>) {
    let waker = this_thread_waker();
    let mut cx = Context::from_waker(&waker);
    let mut waiter = source.waiter(Direction::Read);
    loop {
        let ev = loop {
            match waiter.poll_ready(&mut cx) {
                Poll::Ready(ev) => break ev,
                Poll::Pending => thread::park(),
            }
        };
        if std::mem::take(&mut *queued.lock().unwrap()) {
            return;
        }
        source.clear(ev);
    }
}

/// The `WouldBlock` path (`IoSource::poll_io`): a source readable from
/// the start (optimistically, with nothing queued) is polled; the operation
/// would block, so the future clears the readiness it saw and waits again,
/// while the peer queues data and its edge arrives. The edge is not lost.
#[test]
fn a_future_that_waits_again_after_would_block_gets_the_next_edge() {
    model(|| {
        let source = Arc::new(Source::new());
        // The peer's data (a lock, not an atomic: only the handshake of the
        // readiness word is under test here).
        let queued = Arc::new(Mutex::new(false));
        wake_all(source.set_readable());
        let reader = {
            let (source, queued) = (source.clone(), queued.clone());
            thread::spawn(move || read_queued(&source, &queued))
        };
        *queued.lock().unwrap() = true;
        wake_all(source.set_readable());
        reader.join().unwrap();
    });
}

/// `try_read` (`IoSource::try_io`): looks at the readiness, runs the
/// operation, which would block, and clears what it looked at; meanwhile
/// the peer queues data and its edge arrives. The clear must not forget
/// that edge (the tick check: a clear of an older observation does
/// nothing), or the reader's `readable()` sleeps forever.
#[test]
fn a_would_block_never_clears_an_edge_that_arrived_after_the_look() {
    model(|| {
        let source = Arc::new(Source::new());
        let queued = Arc::new(Mutex::new(false));
        // Readable from an earlier (spurious, or optimistic) edge.
        wake_all(source.set_readable());
        let reader = {
            let (source, queued) = (source.clone(), queued.clone());
            thread::spawn(move || {
                let ev = source.ready(Direction::Read).expect("readable at first");
                if std::mem::take(&mut *queued.lock().unwrap()) {
                    return;
                }
                // WouldBlock.
                source.clear(ev);
                read_queued(&source, &queued);
            })
        };
        *queued.lock().unwrap() = true;
        wake_all(source.set_readable());
        reader.join().unwrap();
    });
}

/// `ready(READABLE | WRITABLE)` waits in one place per direction; an edge
/// in either direction ends the wait.
#[test]
fn a_wait_on_both_directions_is_woken_by_either() {
    model(|| {
        let source = Arc::new(Source::new());
        let both = {
            let source = source.clone();
            thread::spawn(move || {
                let waker = this_thread_waker();
                let mut cx = Context::from_waker(&waker);
                let mut read = source.waiter(Direction::Read);
                let mut write = source.waiter(Direction::Write);
                while read.poll_ready(&mut cx).is_pending()
                    && write.poll_ready(&mut cx).is_pending()
                {
                    thread::park();
                }
            })
        };
        wake_all(source.set_writable());
        both.join().unwrap();
        assert!(source.peek_any().is_some());
    });
}

/// A waiter for the priority bit alone is woken by a priority event, and
/// a plain readable edge before it does not end its wait for good.
#[test]
fn a_priority_waiter_waits_for_the_priority_bit() {
    model(|| {
        let source = Arc::new(Source::new());
        let waiter = {
            let source = source.clone();
            thread::spawn(move || wait_readable(&mut source.priority_waiter()))
        };
        wake_all(source.set_readable());
        wake_all(source.set_priority());
        waiter.join().unwrap();
    });
}
