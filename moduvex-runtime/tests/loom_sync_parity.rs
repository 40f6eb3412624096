//! Loom models of the handshakes added for tokio's sync API: a sender
//! waiting in `reserve_many` for several slots at once, `recv_many`
//! waiting for a batch, and `broadcast::Sender::closed` waiting for the
//! last receiver. Each explores every interleaving of a tiny scenario
//! against the real code (the `sync` module routes its atomics and mutexes
//! through loom under `--cfg loom`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_sync_parity`
//!
//! A lost wake-up shows up either as loom reporting a deadlock inside
//! the parking `block_on` below, or as a failed "was woken" assertion when a
//! counting waker is used.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::thread;
use moduvex_runtime::sync::{broadcast, mpsc};

struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` on the current loom thread, parking between polls. If no
/// waker ever unparks it, loom reports a deadlock: a lost wake-up.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(StdArc::new(Unpark(thread::current())));
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        thread::park();
    }
}

/// Runs `f` under loom, exploring every interleaving.
fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(None, f);
}

/// Runs `f` under loom with at most `bound` preemptions per execution; used
/// for three-thread models, whose full state space takes minutes.
fn model_bounded(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = bound;
    b.check(f);
}

#[test]
fn loom_reserve_many_waits_for_every_slot() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        // The sender outlives the receives, so its wake-up can only come
        // from the freed slots, handed over one by one.
        let th = thread::spawn(move || {
            let permits = block_on(tx.reserve_many(2)).unwrap();
            for (i, p) in permits.enumerate() {
                p.send(3 + i as u32);
            }
            tx
        });
        for want in 1..=4 {
            assert_eq!(block_on(rx.recv()), Some(want));
        }
        drop(th.join().unwrap());
        assert_eq!(rx.capacity(), 2);
    });
}

#[test]
fn loom_recv_many_woken_by_send() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let th = thread::spawn(move || {
            tx.try_send(1).unwrap();
            tx.try_send(2).unwrap();
            tx
        });
        let mut buf = Vec::new();
        while buf.len() < 2 {
            assert!(block_on(rx.recv_many(&mut buf, 2)) > 0);
        }
        assert_eq!(buf, [1, 2]);
        drop(th.join().unwrap());
    });
}

#[test]
fn loom_broadcast_closed_woken_by_the_last_receiver() {
    model_bounded(Some(4), || {
        let (tx, rx) = broadcast::channel::<u32>(1);
        let rx2 = rx.resubscribe();
        let th = thread::spawn(move || drop(rx));
        let th2 = thread::spawn(move || drop(rx2));
        block_on(tx.closed());
        assert_eq!(tx.receiver_count(), 0);
        th.join().unwrap();
        th2.join().unwrap();
    });
}
