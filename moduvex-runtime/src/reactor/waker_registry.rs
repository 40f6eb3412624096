//! Token → per-source readiness and wakers.
//!
//! Each registered source owns a `ScheduledIo`: its cached readiness (an
//! atomic word) and, per direction, the tasks waiting on it (see
//! `reactor/waiters.rs`: the `poll_*` caller's waker and one place per
//! waiting future). The registry maps reactor tokens to them so the poll
//! loop can deliver events.
//!
//! The one rule: **no waker is woken, or dropped, while a lock is held.**
//! Delivering an event sets readiness, *takes* the interested wakers under
//! the source's lock, and returns them; the caller wakes them after every
//! lock is released. A replaced or withdrawn waker is handed back the same
//! way. A woken task may therefore touch the reactor (register a new
//! socket, drop one) without deadlocking or hitting a borrow panic.
//!
//! # Tokens carry a generation
//!
//! A token is a slab key and a generation packed into one word (the epoll
//! data word): key in the low `KEY_BITS` bits (32 on 64-bit targets), generation above it, and
//! the top bit always clear. Every registration takes the next generation,
//! so a slab key freed and reused at once still yields a new token. An
//! event read by a poll (the owning thread's, or the foster thread's)
//! before its source was removed can reach `deliver` after a new source
//! took the same key; its generation no longer matches and it is dropped,
//! instead of handing the old source's readiness (a hang-up, `READ_CLOSED`)
//! to the new one, which would then spin on reads it believes closed.
//!
//! Generations start at 1, so a packed token is never below `2^KEY_BITS`
//! (a raw registration with a small token of its own never names an
//! `IoSource`), and with the top bit clear it never equals the reactor's
//! eventfd token, `usize::MAX`.
//!
//! # The readiness word
//!
//! Low bits: `READABLE`, `WRITABLE`, `READ_CLOSED`, `WRITE_CLOSED`, `ERROR`,
//! `PRIORITY`, and one *waiter* bit per direction (`READ_WAITER`,
//! `WRITE_WAITER`). High bits: a tick that counts event deliveries. An
//! operation that hits `WouldBlock` (or a guard's `clear_ready`) clears only
//! the readiness it observed, and only if no event arrived since (same
//! tick), so an edge delivered between the observation and the clear is
//! never lost: the clear and the delivery update the one word, so either
//! the clear comes first and the delivery sets the bits again, or the
//! delivery comes first and the clear, seeing a newer tick, does nothing.
//!
//! A wait is for a *mask* of readiness bits within one direction: the
//! direction's usual mask (`Direction::mask`) for reads and writes, or the
//! bits an `io::Interest` names (`ready(Interest::PRIORITY)`, ...). Every
//! event that touches a direction's bits wakes all of its waiters; each
//! one looks at its own mask and waits again if it is still not ready.
//! Closed states are final and never cleared.
//!
//! A direction's waiter bit is set exactly while some waker of that
//! direction is stored, and changes only under the waiter lock: set by the
//! poll that stores a waker, cleared by whoever takes or withdraws the
//! last one. Delivering an event reads the bits in the same atomic update
//! that sets readiness and takes the lock only when a satisfied direction
//! has a waiter: an event nobody waits for (the task is running, or only
//! the other direction is polled) costs one atomic update and no lock, and
//! one that somebody waits for costs one lock however many wait. Both sides
//! update the one word, so they are ordered: either the delivery sees the
//! bit (and takes the lock, behind the poller), or the poller's update
//! returns the new readiness and it does not sleep.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::loom_facade::{lock, AtomicUsize, Mutex, Ordering};
use super::waiters::{self, Place, Waiters};
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
pub(crate) const PRIORITY: usize = 1 << 7;
/// Readiness bits a `WouldBlock` or a guard's clear may remove: all but
/// the closed states, which are final.
const CLEARABLE: usize = READABLE | WRITABLE | ERROR | PRIORITY;
/// Bits kept across deliveries: readiness and waiter bits.
const READY_MASK: usize = (1 << 16) - 1;
const TICK_SHIFT: u32 = 16;

// ── Tokens ───────────────────────────────────────────────────────────────────

/// Bits of a token that hold the slab key (see the module docs).
pub(crate) const KEY_BITS: u32 = if usize::BITS >= 64 { 32 } else { 24 };
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
/// Bits of a token that hold the generation: all but the key and the top bit.
const GEN_BITS: u32 = usize::BITS - KEY_BITS - 1;
const GEN_MASK: usize = (1 << GEN_BITS) - 1;

/// The token of slab key `key` at generation `generation` (both in range).
const fn pack(key: usize, generation: usize) -> usize {
    (generation << KEY_BITS) | key
}

/// `(key, generation)` of `token`.
const fn unpack(token: usize) -> (usize, usize) {
    (token & KEY_MASK, (token >> KEY_BITS) & GEN_MASK)
}

/// The slab key of `token`.
#[cfg(loom)]
pub(crate) const fn token_key(token: usize) -> usize {
    unpack(token).0
}

/// The generation after `generation`: 1 ..= `GEN_MASK`, never 0.
const fn next_generation(generation: usize) -> usize {
    if generation >= GEN_MASK {
        1
    } else {
        generation + 1
    }
}

// ── Directions and readiness ─────────────────────────────────────────────────

/// Which half of a duplex source an operation uses.
///
/// ```
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use moduvex_runtime::reactor::{Direction, IoSource};
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = IoSource::new(a)?;
///     (&b).write_all(b"x")?;
///     let ev = std::future::poll_fn(|cx| a.poll_ready(cx, Direction::Read)).await;
///     assert!(!ev.is_read_closed());
///     assert_ne!(Direction::Read, Direction::Write);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Reading: woken by readable, read-closed and error events.
    Read,
    /// Writing: woken by writable, write-closed and error events.
    Write,
}

impl Direction {
    /// Readiness bits that let an operation in this direction proceed.
    pub(crate) fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// Readiness bits whose arrival wakes this direction's waiters: every
    /// bit a waiter of this direction may wait for.
    pub(crate) fn wake_mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | PRIORITY,
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

    fn index(self) -> usize {
        match self {
            Direction::Read => 0,
            Direction::Write => 1,
        }
    }
}

/// Readiness observed by a poll, to be handed back to
/// `IoSource::clear_ready` if the operation would block.
///
/// ```
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use moduvex_runtime::reactor::{Direction, IoSource};
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = IoSource::new(a)?;
///     drop(b);
///     let ev = std::future::poll_fn(|cx| a.poll_ready(cx, Direction::Read)).await;
///     assert!(ev.is_read_closed());
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ReadyEvent {
    /// The delivery tick of the word the readiness was read from.
    tick: usize,
    /// The observed bits, within the mask that was waited for.
    ready: usize,
}

impl ReadyEvent {
    /// The observed readiness bits (this module's constants).
    pub(crate) fn bits(&self) -> usize {
        self.ready
    }

    /// The same observation, narrowed to `bits`: what a clear of it forgets.
    // Used by `io::unix::AsyncFd` only.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn with_bits(self, bits: usize) -> ReadyEvent {
        ReadyEvent {
            tick: self.tick,
            ready: self.ready & bits,
        }
    }

    /// The directions a clear of this observation forgets readiness in
    /// (`None` if it holds only final states such as a hang-up): what a
    /// backend emulating edge triggering arms again.
    pub(crate) fn directions(&self) -> Option<crate::platform::sys::Interest> {
        use crate::platform::sys::Interest;
        let read = self.ready & (READABLE | PRIORITY | ERROR) != 0;
        let write = self.ready & (WRITABLE | ERROR) != 0;
        match (read, write) {
            (true, true) => Some(Interest::BOTH),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }

    /// The peer closed its write half: reads will return EOF.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     b.shutdown(std::net::Shutdown::Write)?;
    ///     let ev = std::future::poll_fn(|cx| a.poll_ready(cx, Direction::Read)).await;
    ///     assert!(ev.is_read_closed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn is_read_closed(&self) -> bool {
        self.ready & READ_CLOSED != 0
    }

    /// The write half is closed.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use moduvex_runtime::reactor::{Direction, IoSource};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let a = IoSource::new(a)?;
    ///     drop(b);
    ///     let ev = std::future::poll_fn(|cx| a.poll_ready(cx, Direction::Write)).await;
    ///     assert!(ev.is_write_closed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn is_write_closed(&self) -> bool {
        self.ready & WRITE_CLOSED != 0
    }
}

// ── ScheduledIo ──────────────────────────────────────────────────────────────

/// Both directions' waiters, under one lock.
struct IoWaiters {
    /// Indexed by [`Direction::index`].
    dirs: [Waiters; 2],
    /// The ticket the next waiting future's place is stamped with.
    next_ticket: usize,
}

/// Readiness and wakers of one registered source.
pub(crate) struct ScheduledIo {
    /// Readiness bits and delivery tick (see the module docs).
    readiness: AtomicUsize,
    /// Per direction, the ticket of the future holding the inline place
    /// (see the `Waiters` invariant): lets a woken future give up its
    /// place without the lock.
    inline_owner: [AtomicUsize; 2],
    waiters: Mutex<IoWaiters>,
}

impl Default for ScheduledIo {
    fn default() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            inline_owner: [AtomicUsize::new(0), AtomicUsize::new(0)],
            waiters: Mutex::new(IoWaiters {
                dirs: Default::default(),
                next_ticket: 1,
            }),
        }
    }
}

/// Who a pending poll stores a waker for.
enum Who<'p> {
    /// The direction's `poll_*` waker.
    Poll,
    /// A future holding (or about to be stamped) `Place`.
    Future(&'p mut Place),
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
        if event.priority {
            bits |= PRIORITY;
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
        // `cur` is the word this update replaced: its waiter bits say which
        // directions have wakers stored. A poller that stores one later
        // sees our bits in its own update of the word (see the module docs).
        let mut wanted = 0;
        for dir in [Direction::Read, Direction::Write] {
            if bits & dir.wake_mask() != 0 {
                wanted |= cur & dir.waiter();
            }
        }
        if wanted == 0 {
            return;
        }
        let mut waiters = lock(&self.waiters);
        self.take_wakers(&mut waiters, wanted, wake);
    }

    /// Moves every waker of the directions whose `waiter` bits are given
    /// out (under the waiter lock), frees their places and clears the bits.
    fn take_wakers(&self, waiters: &mut IoWaiters, waiter: usize, wake: &mut Vec<Waker>) {
        for dir in [Direction::Read, Direction::Write] {
            if waiter & dir.waiter() != 0 {
                waiters.dirs[dir.index()].take_all(&self.inline_owner[dir.index()], wake);
            }
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
    fn ready_event(&self, cur: usize, mask: usize) -> Option<ReadyEvent> {
        let ready = cur & mask;
        (ready != 0).then_some(ReadyEvent {
            tick: cur >> TICK_SHIFT,
            ready,
        })
    }

    /// The current readiness for `dir`, without registering interest.
    #[cfg(any(test, loom))]
    pub(crate) fn peek_readiness(&self, dir: Direction) -> Option<ReadyEvent> {
        self.peek_mask(dir.mask())
    }

    /// The current readiness within `mask` (any directions), read in one
    /// load, without registering interest.
    pub(crate) fn peek_mask(&self, mask: usize) -> Option<ReadyEvent> {
        self.ready_event(self.readiness.load(Ordering::Acquire), mask)
    }

    /// Ready if the direction is ready; otherwise stores the task's waker
    /// as the direction's `poll_*` waker (replacing another task's).
    #[inline]
    pub(crate) fn poll_readiness(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        let mask = dir.mask();
        match self.ready_event(self.readiness.load(Ordering::Acquire), mask) {
            Some(ev) => Poll::Ready(ev),
            None => self.poll_readiness_slow(cx, dir, mask, Who::Poll),
        }
    }

    /// Ready if any bit of `mask` (within `dir`'s bits) is set; otherwise
    /// stores the task's waker in the place of the future that holds
    /// `place`.
    #[inline]
    fn poll_readiness_as(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mask: usize,
        place: &mut Place,
    ) -> Poll<ReadyEvent> {
        match self.ready_event(self.readiness.load(Ordering::Acquire), mask) {
            Some(ev) => Poll::Ready(ev),
            None => self.poll_readiness_slow(cx, dir, mask, Who::Future(place)),
        }
    }

    /// Not ready at first sight: store the waker and look again.
    #[inline(never)]
    fn poll_readiness_slow(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mask: usize,
        who: Who<'_>,
    ) -> Poll<ReadyEvent> {
        let owner = &self.inline_owner[dir.index()];
        let (res, dropped) = {
            let mut guard = lock(&self.waiters);
            let IoWaiters { dirs, next_ticket } = &mut *guard;
            let waiters = &mut dirs[dir.index()];
            let (replaced, who) = match who {
                Who::Poll => (waiters.set_poll(cx.waker()), Who::Poll),
                Who::Future(place) => (
                    waiters.set_future(place, cx.waker(), owner, next_ticket),
                    Who::Future(place),
                ),
            };
            // Announce the waker and re-check in one update: see the module docs.
            let cur = self.readiness.fetch_or(dir.waiter(), Ordering::AcqRel);
            match self.ready_event(cur, mask) {
                Some(ev) => {
                    // Ready after all: withdraw this waker; the others stay
                    // (any event that set this readiness already took them).
                    let ours = match who {
                        Who::Poll => waiters.take_poll(),
                        Who::Future(place) => waiters.remove_future(*place, owner),
                    };
                    if waiters.is_empty() {
                        self.readiness.fetch_and(!dir.waiter(), Ordering::AcqRel);
                    }
                    (Poll::Ready(ev), [replaced, ours])
                }
                None => (Poll::Pending, [replaced, None]),
            }
        };
        // Dropped after the lock: a waker's drop may call back into this source.
        drop(dropped);
        res
    }

    /// Gives up the place `place` claims among `dir`'s waiters (a waiting
    /// future is dropped). No lock if the place was freed already.
    fn withdraw(&self, dir: Direction, place: Place) {
        let owner = &self.inline_owner[dir.index()];
        if !waiters::may_own(place, owner) {
            return;
        }
        let withdrawn = {
            let mut guard = lock(&self.waiters);
            let waiters = &mut guard.dirs[dir.index()];
            let withdrawn = waiters.remove_future(place, owner);
            if withdrawn.is_some() && waiters.is_empty() {
                self.readiness.fetch_and(!dir.waiter(), Ordering::AcqRel);
            }
            withdrawn
        };
        drop(withdrawn);
    }

    /// Forgets the readiness `event` reported, unless a newer event arrived
    /// (see "The readiness word" in the module docs).
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready & CLEARABLE;
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur >> TICK_SHIFT == event.tick).then_some(cur & !clear)
            });
    }

    /// Wakes both directions so pending operations observe a state change
    /// (used when the source is deregistered or the reactor shuts down).
    pub(crate) fn take_all_wakers(&self, wake: &mut Vec<Waker>) {
        let mut waiters = lock(&self.waiters);
        self.take_wakers(&mut waiters, READ_WAITER | WRITE_WAITER, wake);
    }

    /// Number of wakers stored for `dir`.
    #[cfg(test)]
    pub(crate) fn waiter_count(&self, dir: Direction) -> usize {
        lock(&self.waiters).dirs[dir.index()].len()
    }
}

/// One future's place among a source's waiters in one direction (see
/// `reactor/waiters.rs`): taken by the future's first `Pending` poll, given
/// up when the future is dropped, so any number of futures may wait on one
/// direction at once.
pub(crate) struct Waiter<'a> {
    io: &'a ScheduledIo,
    dir: Direction,
    /// The readiness bits this waiter waits for, within `dir.wake_mask()`.
    mask: usize,
    place: Place,
}

impl<'a> Waiter<'a> {
    /// A waiter for `dir` of `io` that holds no place yet.
    pub(crate) fn new(io: &'a ScheduledIo, dir: Direction) -> Waiter<'a> {
        Waiter::with_mask(io, dir, dir.mask())
    }

    /// A waiter for the bits `mask` among `dir`'s (see the module docs).
    pub(crate) fn with_mask(io: &'a ScheduledIo, dir: Direction, mask: usize) -> Waiter<'a> {
        debug_assert!(mask != 0 && mask & !dir.wake_mask() == 0);
        Waiter {
            io,
            dir,
            mask,
            place: Place::default(),
        }
    }

    /// The direction this waiter waits on.
    pub(crate) fn direction(&self) -> Direction {
        self.dir
    }

    /// Ready if the direction is ready; otherwise keeps the task's waker
    /// in this waiter's place.
    #[inline]
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<ReadyEvent> {
        self.io
            .poll_readiness_as(cx, self.dir, self.mask, &mut self.place)
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.io.withdraw(self.dir, self.place);
    }
}

impl std::fmt::Debug for Waiter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("dir", &self.dir)
            .field("place", &self.place)
            .finish()
    }
}

// ── WakerRegistry ────────────────────────────────────────────────────────────

/// A registered source's slot.
struct Slot {
    /// The generation of the token this source was registered under.
    generation: usize,
    io: Arc<ScheduledIo>,
}

/// The slab and the generation the next registration takes.
struct Slots {
    slab: Slab<Slot>,
    next_generation: usize,
}

/// Maps reactor tokens to the readiness and wakers of their sources.
pub struct WakerRegistry {
    slots: Mutex<Slots>,
    /// `slots.slab.len()`, readable without the lock.
    count: AtomicUsize,
}

impl Default for WakerRegistry {
    fn default() -> WakerRegistry {
        WakerRegistry::new()
    }
}

impl WakerRegistry {
    /// An empty registry.
    pub fn new() -> WakerRegistry {
        WakerRegistry {
            slots: Mutex::new(Slots {
                slab: Slab::new(),
                next_generation: 1,
            }),
            count: AtomicUsize::new(0),
        }
    }

    /// Allocates a token (slab key and a fresh generation, see the module
    /// docs) and readiness state for a new source.
    pub(crate) fn insert(&self) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::default());
        let mut slots = lock(&self.slots);
        let generation = slots.next_generation;
        let entry = slots.slab.vacant_entry();
        let key = entry.key();
        if key > KEY_MASK {
            return Err(io::Error::other(
                "moduvex-runtime: too many sources registered with one reactor",
            ));
        }
        entry.insert(Slot {
            generation,
            io: io.clone(),
        });
        slots.next_generation = next_generation(generation);
        self.count.store(slots.slab.len(), Ordering::SeqCst);
        Ok((pack(key, generation), io))
    }

    /// The source `token` names, if it is still registered under it.
    fn get(slots: &Slots, token: usize) -> Option<&Arc<ScheduledIo>> {
        let (key, generation) = unpack(token);
        slots
            .slab
            .get(key)
            .filter(|slot| slot.generation == generation)
            .map(|slot| &slot.io)
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
            priority: false,
        };
        self.deliver(std::slice::from_ref(&event).iter().copied(), &mut wake);
        wake.into_iter().for_each(Waker::wake);
    }

    /// Records every event under one lock acquisition, collecting the
    /// wakers to wake into `wake` (the caller wakes them after return).
    ///
    /// An event whose token's generation is not its slot's current one was
    /// read for a source removed since: it is ignored (see the module docs).
    pub(crate) fn deliver(&self, events: impl Iterator<Item = Event>, wake: &mut Vec<Waker>) {
        let slots = lock(&self.slots);
        for ev in events {
            if let Some(io) = Self::get(&slots, ev.token) {
                io.deliver(&ev, wake);
            }
        }
    }

    /// Removes `token`, waking any task still waiting on it. A token whose
    /// source is gone already is ignored.
    pub fn remove_token(&self, token: usize) {
        let removed = {
            let mut slots = lock(&self.slots);
            let removed = Self::get(&slots, token)
                .is_some()
                .then(|| slots.slab.remove(unpack(token).0));
            self.count.store(slots.slab.len(), Ordering::SeqCst);
            removed
        };
        if let Some(slot) = removed {
            let mut wake = Vec::new();
            slot.io.take_all_wakers(&mut wake);
            drop(slot);
            wake.into_iter().for_each(Waker::wake);
        }
    }

    /// Number of registered sources.
    pub fn len(&self) -> usize {
        lock(&self.slots).slab.len()
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

#[cfg(all(test, not(loom)))]
mod tests;
