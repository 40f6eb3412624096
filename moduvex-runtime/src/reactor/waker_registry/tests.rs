//! Unit tests of the readiness word, the waiter list and tokens.

use super::*;
use std::sync::atomic::AtomicUsize;
use std::task::Wake;

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

fn wake_all(wake: &mut Vec<Waker>) {
    wake.drain(..).for_each(Waker::wake);
}

#[test]
fn waiter_bits_follow_the_stored_wakers() {
    let io = ScheduledIo::default();
    let (count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut wake = Vec::new();

    // Nobody waits: the event only records readiness.
    io.set_readiness(WRITABLE, &mut wake);
    assert!(wake.is_empty());
    assert_eq!(
        io.readiness.load(Ordering::SeqCst) & (READ_WAITER | WRITE_WAITER),
        0
    );

    // A pending read stores a waker and sets only the read waiter bit.
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
    let word = io.readiness.load(Ordering::SeqCst);
    assert_eq!(word & (READ_WAITER | WRITE_WAITER), READ_WAITER);

    // A write-only event leaves the reader waiting.
    io.set_readiness(WRITABLE, &mut wake);
    assert!(wake.is_empty());

    // A read event takes the reader's waker and clears its bit.
    io.set_readiness(READABLE, &mut wake);
    assert_eq!(wake.len(), 1);
    wake_all(&mut wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(io.readiness.load(Ordering::SeqCst) & READ_WAITER, 0);

    // Ready now: no waker is stored, no bit set.
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_ready());
    assert_eq!(io.readiness.load(Ordering::SeqCst) & READ_WAITER, 0);
    assert_eq!(io.waiter_count(Direction::Read), 0);
}

#[test]
fn a_cleared_source_waits_again_and_is_woken() {
    let io = ScheduledIo::default();
    let (count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut wake = Vec::new();
    io.assume_ready();
    let Poll::Ready(ev) = io.poll_readiness(&mut cx, Direction::Read) else {
        panic!("an optimistic source starts readable");
    };
    // The optimistic guess was wrong (WouldBlock): clear and wait.
    io.clear_readiness(ev);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
    assert!(io.poll_readiness(&mut cx, Direction::Write).is_ready());
    io.set_readiness(READABLE, &mut wake);
    wake_all(&mut wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn an_edge_between_observation_and_clear_is_kept() {
    let io = ScheduledIo::default();
    let (_count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut wake = Vec::new();
    io.assume_ready();
    let Poll::Ready(ev) = io.poll_readiness(&mut cx, Direction::Read) else {
        panic!("an optimistic source starts readable");
    };
    // The registration's initial edge arrives before the WouldBlock.
    io.set_readiness(READABLE | WRITABLE, &mut wake);
    io.clear_readiness(ev);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_ready());
}

#[test]
fn a_mask_wait_sees_only_its_bits_and_is_woken_by_them() {
    let io = ScheduledIo::default();
    let (count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut wake = Vec::new();
    io.set_readiness(READABLE, &mut wake);
    let mut waiter = Waiter::with_mask(&io, Direction::Read, PRIORITY);
    assert!(
        waiter.poll_ready(&mut cx).is_pending(),
        "readable is not priority"
    );
    // A write event does not touch the read waiters.
    io.set_readiness(WRITABLE, &mut wake);
    assert!(wake.is_empty());
    io.set_readiness(PRIORITY, &mut wake);
    assert_eq!(wake.len(), 1);
    wake_all(&mut wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    let Poll::Ready(ev) = waiter.poll_ready(&mut cx) else {
        panic!("the priority bit is set");
    };
    assert_eq!(ev.bits(), PRIORITY, "only the bits waited for");
    drop(waiter);
    assert_eq!(io.waiter_count(Direction::Read), 0);
}

#[test]
fn a_narrowed_clear_keeps_the_other_bits_and_closed_states_stay() {
    let io = ScheduledIo::default();
    let mut wake = Vec::new();
    io.set_readiness(READABLE | WRITABLE | READ_CLOSED, &mut wake);
    let all = READABLE | WRITABLE | READ_CLOSED;
    let ev = io.peek_mask(all).unwrap();
    assert_eq!(ev.bits(), all);
    io.clear_readiness(ev.with_bits(READABLE | READ_CLOSED));
    assert_eq!(io.peek_mask(all).unwrap().bits(), WRITABLE | READ_CLOSED);
    io.clear_readiness(io.peek_mask(all).unwrap());
    assert_eq!(io.peek_mask(all).unwrap().bits(), READ_CLOSED, "final");
}

#[test]
fn removing_takes_every_stored_waker() {
    let io = ScheduledIo::default();
    let (count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
    assert!(io.poll_readiness(&mut cx, Direction::Write).is_pending());
    let mut wake = Vec::new();
    io.take_all_wakers(&mut wake);
    assert_eq!(wake.len(), 2);
    wake_all(&mut wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert_eq!(
        io.readiness.load(Ordering::SeqCst) & (READ_WAITER | WRITE_WAITER),
        0
    );
}

// ── tokens ──

#[test]
fn tokens_round_trip_and_never_collide_with_the_eventfd_or_small_tokens() {
    for (key, generation) in [(0, 1), (7, 3), (KEY_MASK, GEN_MASK), (KEY_MASK, 1)] {
        let token = pack(key, generation);
        assert_eq!(unpack(token), (key, generation));
        assert_ne!(token, usize::MAX, "the eventfd's token");
        assert!(token > KEY_MASK, "above every raw token below 2^KEY_BITS");
    }
    assert_eq!(next_generation(GEN_MASK), 1, "wraps past 0");
}

#[test]
fn a_reused_key_gets_a_new_token_and_stale_tokens_reach_nothing() {
    let reg = WakerRegistry::new();
    let (old, _old_io) = reg.insert().unwrap();
    reg.remove_token(old);
    let (new, new_io) = reg.insert().unwrap();
    assert_eq!(unpack(old).0, unpack(new).0, "the slab key is reused");
    assert_ne!(old, new);
    let hang_up = Event {
        token: old,
        readable: true,
        writable: true,
        read_closed: true,
        write_closed: true,
        error: true,
        priority: false,
    };
    let mut wake = Vec::new();
    reg.deliver(std::iter::once(hang_up), &mut wake);
    reg.wake_token(old, true, true);
    assert!(new_io.peek_readiness(Direction::Read).is_none());
    assert!(new_io.peek_readiness(Direction::Write).is_none());
    // Removing by the stale token leaves the new source registered.
    reg.remove_token(old);
    assert_eq!(reg.len(), 1);
    reg.deliver(
        std::iter::once(Event {
            token: new,
            ..hang_up
        }),
        &mut wake,
    );
    assert!(new_io
        .peek_readiness(Direction::Read)
        .unwrap()
        .is_read_closed());
    reg.remove_token(new);
    assert!(reg.is_empty());
}

// ── many waiters ──

#[test]
fn one_event_wakes_every_waiting_future_and_the_poll_waker() {
    let io = ScheduledIo::default();
    let counts: Vec<_> = (0..3).map(|_| counting()).collect();
    let mut futures: Vec<_> = (0..2).map(|_| Waiter::new(&io, Direction::Read)).collect();
    for (w, (_, waker)) in futures.iter_mut().zip(&counts) {
        assert!(w.poll_ready(&mut Context::from_waker(waker)).is_pending());
    }
    let mut cx = Context::from_waker(&counts[2].1);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
    assert_eq!(io.waiter_count(Direction::Read), 3);
    let mut wake = Vec::new();
    io.set_readiness(READABLE, &mut wake);
    assert_eq!(wake.len(), 3);
    wake_all(&mut wake);
    for (count, _) in &counts {
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
    assert_eq!(io.waiter_count(Direction::Read), 0);
    assert_eq!(io.readiness.load(Ordering::SeqCst) & READ_WAITER, 0);
}

#[test]
fn a_dropped_future_withdraws_its_waker_and_the_others_stay() {
    let io = ScheduledIo::default();
    let (kept, kw) = counting();
    let (gone, gw) = counting();
    let mut stays = Waiter::new(&io, Direction::Read);
    assert!(stays.poll_ready(&mut Context::from_waker(&kw)).is_pending());
    {
        let mut dropped = Waiter::new(&io, Direction::Read);
        assert!(dropped
            .poll_ready(&mut Context::from_waker(&gw))
            .is_pending());
        assert_eq!(io.waiter_count(Direction::Read), 2);
    }
    assert_eq!(io.waiter_count(Direction::Read), 1);
    let mut wake = Vec::new();
    io.set_readiness(READABLE, &mut wake);
    wake_all(&mut wake);
    assert_eq!(kept.0.load(Ordering::SeqCst), 1);
    assert_eq!(gone.0.load(Ordering::SeqCst), 0);
    // The last waiter gone: the bit is clear, an event takes no lock.
    drop(stays);
    let mut alone = Waiter::new(&io, Direction::Write);
    assert!(alone.poll_ready(&mut Context::from_waker(&kw)).is_pending());
    drop(alone);
    assert_eq!(
        io.readiness.load(Ordering::SeqCst) & (READ_WAITER | WRITE_WAITER),
        0
    );
}

#[test]
fn futures_polled_once_and_dropped_in_a_loop_leave_nothing_behind() {
    let io = ScheduledIo::default();
    let (_count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..1000 {
        let mut w = Waiter::new(&io, Direction::Read);
        assert!(w.poll_ready(&mut cx).is_pending());
        assert!(
            w.poll_ready(&mut cx).is_pending(),
            "polled again: same place"
        );
        assert_eq!(io.waiter_count(Direction::Read), 1);
    }
    assert_eq!(io.waiter_count(Direction::Read), 0);
    assert_eq!(io.readiness.load(Ordering::SeqCst) & READ_WAITER, 0);
}

#[test]
fn a_woken_future_that_waits_again_takes_a_fresh_place() {
    let io = ScheduledIo::default();
    let (count, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut w = Waiter::new(&io, Direction::Read);
    assert!(w.poll_ready(&mut cx).is_pending());
    let mut wake = Vec::new();
    io.set_readiness(READABLE, &mut wake);
    wake_all(&mut wake);
    let Poll::Ready(ev) = w.poll_ready(&mut cx) else {
        panic!("woken by readiness");
    };
    // The operation would block after all: wait for the next edge.
    io.clear_readiness(ev);
    assert!(w.poll_ready(&mut cx).is_pending());
    assert_eq!(io.waiter_count(Direction::Read), 1);
    io.set_readiness(READABLE, &mut wake);
    wake_all(&mut wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
}

/// A waker that, when its last handle is dropped, calls back into the
/// source it was stored in.
struct CallsBack {
    io: std::sync::Mutex<Option<Arc<ScheduledIo>>>,
}

impl Wake for CallsBack {
    // Waking only drops this handle: the type exists for its counted
    // handles and its `Drop`, which `Waker::noop` has not.
    fn wake(self: Arc<Self>) {
        drop(self);
    }
}

impl Drop for CallsBack {
    fn drop(&mut self) {
        if let Some(io) = self.io.lock().unwrap().take() {
            // Takes the source's waiter lock.
            let _ = io.waiter_count(Direction::Read);
        }
    }
}

/// Runs `f` on a helper thread; a deadlock fails the test instead of
/// hanging it.
fn hang_guard(what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let helper = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(()) => helper.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: deadlocked (not finished after 20 s)")
        }
        Err(_) => std::panic::resume_unwind(helper.join().unwrap_err()),
    }
}

fn calling_back(io: &Arc<ScheduledIo>) -> Waker {
    Waker::from(Arc::new(CallsBack {
        io: std::sync::Mutex::new(Some(io.clone())),
    }))
}

#[test]
fn replaced_and_withdrawn_wakers_are_dropped_after_the_lock() {
    hang_guard("a replaced poll waker", || {
        let io = Arc::new(ScheduledIo::default());
        let first = calling_back(&io);
        assert!(io
            .poll_readiness(&mut Context::from_waker(&first), Direction::Read)
            .is_pending());
        drop(first);
        let (_count, other) = counting();
        assert!(io
            .poll_readiness(&mut Context::from_waker(&other), Direction::Read)
            .is_pending());
    });
    hang_guard("a withdrawn future's waker", || {
        let io = Arc::new(ScheduledIo::default());
        let first = calling_back(&io);
        let mut w = Waiter::new(&io, Direction::Read);
        assert!(w.poll_ready(&mut Context::from_waker(&first)).is_pending());
        drop(first);
        drop(w);
    });
}
