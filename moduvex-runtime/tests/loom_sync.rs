//! Loom models of the sync primitives: each explores every interleaving of
//! a tiny scenario against the real code (the `sync` module routes its
//! atomics and mutexes through loom under `--cfg loom`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p moduvex-runtime --release --test loom_sync`
//!
//! A lost wake-up shows up either as loom reporting a deadlock inside
//! the parking `block_on` below, or as a failed "was woken" assertion when a
//! counting waker is used.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use moduvex_runtime::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, Semaphore};

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
        if let Poll::Ready(v) = poll_once(fut.as_mut(), &waker) {
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

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: StdArc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Waker, StdArc<Counter>) {
    let c = StdArc::new(Counter(AtomicUsize::new(0)));
    (Waker::from(c.clone()), c)
}

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

#[test]
fn loom_bounded_send_recv_no_lost_wakeup() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let th = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            block_on(tx.send(2)).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        th.join().unwrap();
    });
}

#[test]
fn loom_bounded_recv_waker_is_called() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        // The thread hands its sender back so that the wake-up can only
        // come from the send itself, not from the last sender's drop.
        let th = thread::spawn(move || {
            tx.try_send(7).unwrap();
            tx
        });
        let (waker, count) = counting_waker();
        let polled = {
            let mut fut = pin!(rx.recv());
            poll_once(fut.as_mut(), &waker)
        };
        let _tx = th.join().unwrap();
        match polled {
            Poll::Ready(v) => assert_eq!(v, Some(7)),
            Poll::Pending => {
                assert_eq!(count.0.load(Ordering::SeqCst), 1, "lost wake-up");
                assert_eq!(rx.try_recv(), Ok(7));
            }
        }
    });
}

#[test]
fn loom_bounded_cancelled_send_passes_slot_on() {
    model_bounded(Some(4), || {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        // One sender polls once and gives up; the other must still get
        // through once the receiver frees the slot.
        let th = thread::spawn(move || {
            let (waker, _) = counting_waker();
            let mut fut = pin!(tx2.send(1));
            let _ = poll_once(fut.as_mut(), &waker);
        });
        let th2 = thread::spawn(move || block_on(tx.send(2)).unwrap());
        let mut got = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            got.push(v);
        }
        th.join().unwrap();
        th2.join().unwrap();
        assert_eq!(got[0], 0);
        assert!(got.contains(&2));
        assert_eq!(rx.capacity(), 1);
    });
}

#[test]
fn loom_bounded_full_sender_woken_by_recv() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(1).unwrap();
        // The sender outlives both receives, so every wake-up here comes
        // from a send or a freed slot, never from a sender's drop.
        let th = thread::spawn(move || {
            block_on(tx.send(2)).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        drop(th.join().unwrap());
    });
}

#[test]
fn loom_unbounded_wake_from_send_alone() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let th = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        drop(th.join().unwrap());
    });
}

#[test]
fn loom_unbounded_two_senders() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || tx2.send(2).unwrap());
        let mut sum = 0;
        while let Some(v) = block_on(rx.recv()) {
            sum += v;
        }
        assert_eq!(sum, 3);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn loom_unbounded_receiver_drop_races_send() {
    model(|| {
        let (tx, rx) = mpsc::unbounded_channel::<Arc<()>>();
        let v = Arc::new(());
        let v2 = v.clone();
        let th = thread::spawn(move || {
            let _ = tx.send(v2);
        });
        drop(rx);
        th.join().unwrap();
        // Whether or not the send won the race, the value was dropped.
        assert_eq!(Arc::strong_count(&v), 1);
    });
}

#[test]
fn loom_oneshot_send_vs_recv() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let th = thread::spawn(move || tx.send(5).unwrap());
        assert_eq!(block_on(rx), Ok(5));
        th.join().unwrap();
    });
}

#[test]
fn loom_oneshot_sender_drop_wakes_receiver() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let th = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        th.join().unwrap();
    });
}

#[test]
fn loom_oneshot_close_vs_send() {
    model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let th = thread::spawn(move || tx.send(1));
        rx.close();
        let sent = th.join().unwrap();
        // Exactly one side ends up with the value.
        match rx.try_recv() {
            Ok(v) => assert_eq!((v, sent), (1, Ok(()))),
            Err(_) => assert_eq!(sent, Err(1)),
        }
    });
}

#[test]
fn loom_notify_one_not_lost() {
    model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let th = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        th.join().unwrap();
    });
}

#[test]
fn loom_notify_cancelled_waiter_passes_on() {
    model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let th = thread::spawn(move || {
            // Poll once, then drop: a notification received but not
            // consumed must reach the stored permit.
            let (waker, _) = counting_waker();
            let mut fut = pin!(n2.notified());
            poll_once(fut.as_mut(), &waker).is_ready()
        });
        n.notify_one();
        let consumed_by_thread = th.join().unwrap();
        if !consumed_by_thread {
            block_on(n.notified());
        }
    });
}

#[test]
fn loom_semaphore_mutual_exclusion_and_no_lost_permit() {
    model(|| {
        let s = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let spawn_worker = |s: Arc<Semaphore>, inside: Arc<AtomicUsize>| {
            thread::spawn(move || {
                let _p = block_on(s.acquire()).unwrap();
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        };
        let a = spawn_worker(s.clone(), inside.clone());
        let b = spawn_worker(s.clone(), inside.clone());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

#[test]
fn loom_semaphore_cancelled_acquire_returns_permit() {
    model(|| {
        let s = Arc::new(Semaphore::new(1));
        let held = s.try_acquire().unwrap();
        let s2 = s.clone();
        let th = thread::spawn(move || {
            let (waker, _) = counting_waker();
            let mut fut = pin!(s2.acquire());
            if let Poll::Ready(p) = poll_once(fut.as_mut(), &waker) {
                drop(p);
            }
        });
        drop(held);
        th.join().unwrap();
        assert_eq!(s.available_permits(), 1);
        drop(block_on(s.acquire()).unwrap());
    });
}

#[test]
fn loom_mutex_counter() {
    model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let m2 = m.clone();
        let th = thread::spawn(move || *block_on(m2.lock()) += 1);
        *block_on(m.lock()) += 1;
        th.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

#[test]
fn loom_watch_changed_sees_send() {
    model(|| {
        let (tx, mut rx) = watch::channel(0u32);
        // The sender is handed back so that only the send can wake `changed`.
        let th = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
        drop(th.join().unwrap());
    });
}

#[test]
fn loom_broadcast_recv_sees_send() {
    model(|| {
        let (tx, mut rx) = broadcast::channel::<u32>(1);
        let th = thread::spawn(move || {
            tx.send(4).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Ok(4));
        drop(th.join().unwrap());
    });
}

#[test]
fn loom_notify_last_not_lost() {
    model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let th = thread::spawn(move || n2.notify_last());
        block_on(n.notified());
        th.join().unwrap();
    });
}

#[test]
fn loom_weak_sender_upgrade_races_the_last_drop() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let weak = tx.downgrade();
        let th = thread::spawn(move || drop(tx));
        // Either the upgrade wins (and its message arrives before the
        // channel closes) or it fails and the channel is closed for good.
        match weak.upgrade() {
            Some(tx) => {
                block_on(tx.send(1)).unwrap();
                drop(tx);
                assert_eq!(block_on(rx.recv()), Some(1));
            }
            None => assert!(weak.upgrade().is_none()),
        }
        th.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn loom_duplex_bounded_transfer_no_lost_wakeup() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    model(|| {
        let (mut a, mut b) = moduvex_runtime::io::duplex(1);
        let th = thread::spawn(move || {
            block_on(async move { a.write_all(b"xy").await.unwrap() });
        });
        let mut got = [0u8; 2];
        block_on(b.read_exact(&mut got)).unwrap();
        assert_eq!(&got, b"xy");
        th.join().unwrap();
    });
}

/// A waker that does nothing when woken and, when its last clone is
/// dropped, returns a permit to `sem`: dropped under the semaphore's lock it
/// would lock it again, which loom reports as a deadlock.
struct ReleaseOnDrop(Arc<Semaphore>);

impl Wake for ReleaseOnDrop {
    fn wake(self: StdArc<Self>) {}
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

#[test]
fn loom_semaphore_displaced_waker_dropped_unlocked_races_release() {
    model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let th = thread::spawn(move || s2.add_permits(1));
        {
            let mut fut = pin!(s.acquire_many(2));
            let hook = Waker::from(StdArc::new(ReleaseOnDrop(s.clone())));
            let first = poll_once(fut.as_mut(), &hook);
            drop(hook);
            if first.is_pending() {
                // Another task's waker replaces the hook, whose drop (after
                // the lock is released) returns the second permit.
                let (waker, _) = counting_waker();
                if poll_once(fut.as_mut(), &waker).is_pending() {
                    drop(block_on(fut));
                }
            }
        }
        th.join().unwrap();
        // Both added permits came back when the acquire's guard dropped.
        assert_eq!(s.available_permits(), 2);
    });
}

#[test]
fn loom_recv_repolled_with_new_waker_races_send() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let (w1, _) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut fut = pin!(rx.recv());
        if poll_once(fut.as_mut(), &w1).is_pending() {
            let th = thread::spawn(move || tx.send(1).unwrap());
            // The send wakes whichever waker it finds; once the re-poll has
            // stored the new one, that is the one to be woken.
            if poll_once(fut.as_mut(), &w2).is_pending() {
                th.join().unwrap();
                assert_eq!(c2.0.load(Ordering::SeqCst), 1, "the new waker is woken");
                assert_eq!(poll_once(fut.as_mut(), &w2), Poll::Ready(Some(1)));
            } else {
                th.join().unwrap();
            }
        } else {
            unreachable!("nothing was sent yet");
        }
    });
}
