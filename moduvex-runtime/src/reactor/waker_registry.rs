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
//! Low bits: `READABLE`, `WRITABLE`, `READ_CLOSED`, `WRITE_CLOSED`, `ERROR`.
//! High bits: a tick that counts event deliveries. An operation that hits
//! `WouldBlock` clears only the readiness it observed, and only if no event
//! arrived since (same tick), so an edge delivered between the observation
//! and the clear is never lost.

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
        // The store above happens before this lock; a poller that stores its
        // waker under the lock re-reads readiness after, so either it sees
        // the bits or we see its waker.
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if bits & Direction::Read.mask() != 0 {
            wake.extend(waiters.reader.take());
        }
        if bits & Direction::Write.mask() != 0 {
            wake.extend(waiters.writer.take());
        }
    }

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
    pub(crate) fn poll_readiness(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        if let Some(ev) = self.ready_event(self.readiness.load(Ordering::Acquire), dir) {
            return Poll::Ready(ev);
        }
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match dir {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock: see `set_readiness`.
        match self.ready_event(self.readiness.load(Ordering::Acquire), dir) {
            Some(ev) => Poll::Ready(ev),
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
        wake.extend(waiters.reader.take());
        wake.extend(waiters.writer.take());
    }
}

/// Maps reactor tokens to the readiness and wakers of their sources.
#[derive(Default)]
pub struct WakerRegistry {
    slots: Mutex<Slab<Arc<ScheduledIo>>>,
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
            slots.try_remove(token)
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
