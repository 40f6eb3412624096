//! Token → per-source readiness and wakers.
//!
//! Each registered source owns a `ScheduledIo`: its cached readiness (an
//! atomic word) and one read waker and one write waker. The registry maps
//! reactor tokens to them so the poll loop can deliver events.
//!
//! The one rule: **no waker is woken while a lock is held.** Delivering an
//! event sets readiness, *takes* the interested wakers under the source's
//! lock, and returns them; the caller wakes them after every lock is
//! released. A woken task may therefore touch the reactor (register a new
//! socket, drop one) without deadlocking or hitting a borrow panic.
//!
//! # The readiness word
//!
//! Low bits: `READABLE`, `WRITABLE`, `READ_CLOSED`, `WRITE_CLOSED`, `ERROR`,
//! and one *waiter* bit per direction (`READ_WAITER`, `WRITE_WAITER`).
//! High bits: a tick that counts event deliveries. An operation that hits
//! `WouldBlock` clears only the readiness it observed, and only if no event
//! arrived since (same tick), so an edge delivered between the observation
//! and the clear is never lost.
//!
//! A waiter bit is set, under the waiter lock, by the poll that stores a
//! waker, and cleared under it by whoever takes that waker. Delivering an
//! event reads the bits in the same atomic update that sets readiness and
//! takes the lock only when a satisfied direction has a waiter: an event
//! nobody waits for (the task is running, or only the other direction is
//! polled) costs one atomic update and no lock. Both sides update the one
//! word, so they are ordered: either the delivery sees the bit (and takes
//! the lock, behind the poller), or the poller's update returns the new
//! readiness and it does not sleep.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::platform::sys::Event;

pub(crate) const READABLE: usize = 1 << 0;
pub(crate) const WRITABLE: usize = 1 << 1;
pub(crate) const READ_CLOSED: usize = 1 << 2;
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
pub(crate) const ERROR: usize = 1 << 4;
/// A read waker is stored (see the module docs).
const READ_WAITER: usize = 1 << 5;
/// A write waker is stored.
const WRITE_WAITER: usize = 1 << 6;
/// Bits kept across deliveries: readiness and waiter bits.
const READY_MASK: usize = (1 << 16) - 1;
const TICK_SHIFT: u32 = 16;

/// Which half of a duplex source an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Reading: woken by readable, read-closed and error events.
    Read,
    /// Writing: woken by writable, write-closed and error events.
    Write,
}

impl Direction {
    /// Readiness bits that let an operation in this direction proceed.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// The waiter bit of this direction.
    fn waiter(self) -> usize {
        match self {
            Direction::Read => READ_WAITER,
            Direction::Write => WRITE_WAITER,
        }
    }

    /// Bits cleared when an operation in this direction hits `WouldBlock`.
    /// Closed states are final and never cleared.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE | ERROR,
            Direction::Write => WRITABLE | ERROR,
        }
    }
}

/// Readiness observed by a poll, to be handed back to
/// `IoSource::clear_ready` if the operation would block.
#[derive(Clone, Copy, Debug)]
pub struct ReadyEvent {
    tick: usize,
    ready: usize,
    dir: Direction,
}

impl ReadyEvent {
    /// The peer closed its write half: reads will return EOF.
    pub fn is_read_closed(&self) -> bool {
        self.ready & READ_CLOSED != 0
    }

    /// The write half is closed.
    pub fn is_write_closed(&self) -> bool {
        self.ready & WRITE_CLOSED != 0
    }
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// Readiness and wakers of one registered source.
#[derive(Default)]
pub(crate) struct ScheduledIo {
    /// Readiness bits and delivery tick (see the module docs).
    readiness: AtomicUsize,
    /// One waker per direction; a new poll from another task replaces it.
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    /// Records `event` and moves the wakers it satisfies into `wake`.
    pub(crate) fn deliver(&self, event: &Event, wake: &mut Vec<Waker>) {
        let mut bits = 0;
        if event.readable {
            bits |= READABLE;
        }
        if event.writable {
            bits |= WRITABLE;
        }
        if event.read_closed {
            bits |= READ_CLOSED;
        }
        if event.write_closed {
            bits |= WRITE_CLOSED;
        }
        if event.error {
            bits |= ERROR;
        }
        self.set_readiness(bits, wake);
    }

    /// Adds readiness `bits`, bumps the tick and collects wakers to wake.
    pub(crate) fn set_readiness(&self, bits: usize, wake: &mut Vec<Waker>) {
        let mut cur = self.readiness.load(Ordering::Acquire);
        loop {
            let tick = (cur >> TICK_SHIFT).wrapping_add(1) & (usize::MAX >> TICK_SHIFT);
            let next = (tick << TICK_SHIFT) | (cur & READY_MASK) | bits;
            match self.readiness.compare_exchange_weak(
                cur,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // `cur` is the word this update replaced: its waiter bits say whose
        // waker is stored. A poller that stores one later sees our bits in
        // its own update of the word (see the module docs).
        let mut wanted = 0;
        for dir in [Direction::Read, Direction::Write] {
            if bits & dir.mask() != 0 {
                wanted |= cur & dir.waiter();
            }
        }
        if wanted == 0 {
            return;
        }
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        self.take_wakers(&mut waiters, wanted, wake);
    }

    /// Moves the wakers of the `waiter` bits out (under the waiter lock) and
    /// clears those bits.
    fn take_wakers(&self, waiters: &mut Waiters, waiter: usize, wake: &mut Vec<Waker>) {
        if waiter & READ_WAITER != 0 {
            wake.extend(waiters.reader.take());
        }
        if waiter & WRITE_WAITER != 0 {
            wake.extend(waiters.writer.take());
        }
        self.readiness.fetch_and(!waiter, Ordering::AcqRel);
    }

    /// Marks a fresh source readable and writable (see
    /// `IoSource::new_optimistic`). No waker can be stored yet.
    pub(crate) fn assume_ready(&self) {
        self.readiness
            .fetch_or(READABLE | WRITABLE, Ordering::AcqRel);
    }

    #[inline]
    fn ready_event(&self, cur: usize, dir: Direction) -> Option<ReadyEvent> {
        let ready = cur & dir.mask();
        (ready != 0).then_some(ReadyEvent {
            tick: cur >> TICK_SHIFT,
            ready,
            dir,
        })
    }

    /// The current readiness for `dir`, without registering interest.
    pub(crate) fn peek_readiness(&self, dir: Direction) -> Option<ReadyEvent> {
        self.ready_event(self.readiness.load(Ordering::Acquire), dir)
    }

    /// Ready if the direction is ready; otherwise stores the task's waker.
    #[inline]
    pub(crate) fn poll_readiness(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        match self.ready_event(self.readiness.load(Ordering::Acquire), dir) {
            Some(ev) => Poll::Ready(ev),
            None => self.poll_readiness_slow(cx, dir),
        }
    }

    /// Not ready at first sight: store the waker and look again.
    #[inline(never)]
    fn poll_readiness_slow(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match dir {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Announce the waker and re-check in one update: see the module docs.
        let cur = self.readiness.fetch_or(dir.waiter(), Ordering::AcqRel);
        match self.ready_event(cur, dir) {
            Some(ev) => {
                // Ready after all: nobody needs waking for this direction.
                *slot = None;
                self.readiness.fetch_and(!dir.waiter(), Ordering::AcqRel);
                Poll::Ready(ev)
            }
            None => Poll::Pending,
        }
    }

    /// Forgets the readiness `event` reported, unless a newer event arrived.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready & event.dir.clearable();
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur >> TICK_SHIFT == event.tick).then_some(cur & !clear)
            });
    }

    /// Wakes both directions so pending operations observe a state change
    /// (used when the source is deregistered or the reactor shuts down).
    pub(crate) fn take_all_wakers(&self, wake: &mut Vec<Waker>) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        self.take_wakers(&mut waiters, READ_WAITER | WRITE_WAITER, wake);
    }
}

/// Maps reactor tokens to the readiness and wakers of their sources.
#[derive(Default)]
pub struct WakerRegistry {
    slots: Mutex<Slab<Arc<ScheduledIo>>>,
    /// `slots.len()`, readable without the lock.
    count: AtomicUsize,
}

impl WakerRegistry {
    /// An empty registry.
    pub fn new() -> WakerRegistry {
        WakerRegistry::default()
    }

    /// Allocates a token and fresh readiness state for a new source.
    pub(crate) fn insert(&self) -> (usize, Arc<ScheduledIo>) {
        let io = Arc::new(ScheduledIo::default());
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let token = slots.insert(io.clone());
        self.count.store(slots.len(), Ordering::SeqCst);
        (token, io)
    }

    /// Wakes the tasks waiting on `token` for the given directions.
    ///
    /// Unknown tokens are ignored (the source may have just been removed).
    pub fn wake_token(&self, token: usize, readable: bool, writable: bool) {
        let mut wake = Vec::new();
        let event = Event {
            token,
            readable,
            writable,
            read_closed: false,
            write_closed: false,
            error: false,
        };
        self.deliver(std::slice::from_ref(&event).iter().copied(), &mut wake);
        wake.into_iter().for_each(Waker::wake);
    }

    /// Records every event under one lock acquisition, collecting the
    /// wakers to wake into `wake` (the caller wakes them after return).
    pub(crate) fn deliver(&self, events: impl Iterator<Item = Event>, wake: &mut Vec<Waker>) {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        for ev in events {
            if let Some(io) = slots.get(ev.token) {
                io.deliver(&ev, wake);
            }
        }
    }

    /// Removes `token`, waking any task still waiting on it.
    pub fn remove_token(&self, token: usize) {
        let removed = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let removed = slots.try_remove(token);
            self.count.store(slots.len(), Ordering::SeqCst);
            removed
        };
        if let Some(io) = removed {
            let mut wake = Vec::new();
            io.take_all_wakers(&mut wake);
            drop(io);
            wake.into_iter().for_each(Waker::wake);
        }
    }

    /// Number of registered sources.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Number of registered sources, without taking the lock.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Whether no source is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for WakerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakerRegistry")
            .field("sources", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
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
        assert!(io.waiters.lock().unwrap().reader.is_none());
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
}
