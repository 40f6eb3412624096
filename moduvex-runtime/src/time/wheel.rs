//! A hierarchical timer wheel: the data structure behind every timer of one
//! timer shard.
//!
//! The one idea: a deadline is filed in the level whose slot width matches how
//! far away it is, so inserting and cancelling are O(1) list operations, and a
//! timer only moves (cascades) one level down when time reaches its slot. A
//! per-level `u64` occupancy bitmap finds the next non-empty slot with one
//! `trailing_zeros`, never a scan over all timers.
//!
//! The wheel knows nothing about `Instant` or wakers: time is a `u64` count of
//! nanoseconds since an origin chosen by the owner (the shard), and each
//! entry carries an arbitrary value `T` handed back when it fires.

use slab::Slab;

/// log2 of the nanoseconds in one tick: a tick is 2^16 ns = 65.536 µs.
pub(crate) const TICK_SHIFT: u32 = 16;
/// log2 of the slots per level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Number of levels below the overflow list.
pub(crate) const NUM_LEVELS: usize = 7;
/// Ticks spanned by the top level; deadlines past it go to the overflow list.
const TOP_SPAN_BITS: u32 = SLOT_BITS * NUM_LEVELS as u32;
/// The list index of the overflow list, after every level slot.
const OVERFLOW: usize = NUM_LEVELS * SLOTS;
/// "No entry" in the intrusive links.
const NIL: usize = usize::MAX;

/// Identifies one timer in a [`Wheel`]; 8 bytes, so a `Sleep` stays small.
///
/// The `seq` part (the low 32 bits of the timer's registration number) makes
/// a key single-use: once its timer fired or was cancelled, the slab index
/// may hold another timer, and the stale key no longer matches it (unless
/// that index was reused exactly a multiple of 2^32 registrations later
/// while the stale key was still in use, which the shard rules out: it
/// uses a key only under its lock, after checking that its timer has not
/// fired).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    index: u32,
    seq: u32,
}

impl TimerKey {
    fn new(index: usize, seq: u64) -> TimerKey {
        TimerKey {
            index: u32::try_from(index)
                .expect("moduvex-runtime: 2^32 timers pending on one thread"),
            // Truncated on purpose (see above).
            seq: seq as u32,
        }
    }

    fn index(self) -> usize {
        self.index as usize
    }

    fn matches(self, seq: u64) -> bool {
        self.seq == seq as u32
    }
}

/// One timer: its exact deadline, its place in an intrusive slot list, and
/// the value returned when it fires.
struct Entry<T> {
    /// Exact deadline in nanoseconds since the wheel's origin.
    deadline: u64,
    /// Registration order; breaks deadline ties and validates keys.
    seq: u64,
    prev: usize,
    next: usize,
    /// Index into `Wheel::heads` of the list holding this entry.
    list: u32,
    /// Whether this entry is part of its list's sorted tail (see
    /// [`Wheel::fire_slot`]).
    sorted: bool,
    value: T,
}

/// What the wheel knows about its earliest deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NextCache {
    /// Must be recomputed from the earliest slot.
    Unknown,
    /// The exact earliest deadline (`None`: the wheel is empty).
    Known(Option<u64>),
}

/// The next slot that time will reach, with the tick at which it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Expiration {
    /// `0..NUM_LEVELS`, or `NUM_LEVELS` for the overflow list.
    level: usize,
    /// Index into `Wheel::heads`.
    list: usize,
    /// First tick covered by the slot.
    tick: u64,
}

/// A hierarchical timer wheel of 7 levels of 64 slots each, plus an overflow
/// list, with a base tick of 2^16 ns (65.536 µs).
///
/// | level | slot width         | range of the level   |
/// |-------|--------------------|----------------------|
/// | 0     | 2^16 ns ≈ 65.5 µs  | 2^22 ns ≈ 4.19 ms    |
/// | 1     | 2^22 ns ≈ 4.19 ms  | 2^28 ns ≈ 268 ms     |
/// | 2     | 2^28 ns ≈ 268 ms   | 2^34 ns ≈ 17.2 s     |
/// | 3     | 2^34 ns ≈ 17.2 s   | 2^40 ns ≈ 18.3 min   |
/// | 4     | 2^40 ns ≈ 18.3 min | 2^46 ns ≈ 19.5 h     |
/// | 5     | 2^46 ns ≈ 19.5 h   | 2^52 ns ≈ 52.1 days  |
/// | 6     | 2^52 ns ≈ 52.1 days| 2^58 ns ≈ 9.13 years |
/// | overflow | one list        | everything later, up to `u64::MAX` ns |
///
/// A timer with deadline tick `t` sits in level `L`, the level of the highest
/// 6-bit group in which `t` differs from the current tick `elapsed`, in slot
/// `(t >> 6L) & 63`. So every timer in level `L` is earlier than every timer
/// in level `L + 1`, and within a level slot order is time order: the earliest
/// timer is in the first occupied slot of the lowest occupied level. When time
/// reaches a slot of level `L > 0`, its timers are re-filed relative to the
/// new `elapsed` and land in lower levels (the cascade). Overflow timers are
/// re-filed when time reaches the start of the next top-level span.
///
/// Ticks only choose the slot: each entry keeps its exact nanosecond deadline,
/// and a timer fires only once `now >= deadline`, so precision is not limited
/// to the tick. Deadlines already in the past are filed in the current slot
/// and fire at the next [`advance`](Wheel::advance).
///
/// Firing order within one `advance` is by deadline; ties fire in
/// registration order (a [`reschedule`](Wheel::reschedule) counts as a new
/// registration).
///
/// A list is an unsorted head (entries linked since it was last sorted)
/// followed by a tail sorted by (deadline, seq). Only the current level-0
/// slot is ever sorted: when time has reached part of it, its timers not yet
/// due are relinked in order, so the next partial firing of the same slot
/// stops at the first timer not due instead of walking them all again.
pub(crate) struct Wheel<T> {
    entries: Slab<Entry<T>>,
    /// Heads of the slot lists: `level * 64 + slot`, then the overflow list.
    heads: [usize; OVERFLOW + 1],
    /// Bit `s` of `occupied[L]` is set iff slot `s` of level `L` is non-empty.
    occupied: [u64; NUM_LEVELS],
    /// The current tick.
    ///
    /// # Invariant
    /// No occupied slot lies before `elapsed`: in level 0 every occupied slot
    /// is `>= elapsed & 63`, in a level `L > 0` every occupied slot is
    /// `> (elapsed >> 6L) & 63`, and every overflow entry's tick differs from
    /// `elapsed` above bit 42.
    elapsed: u64,
    /// The last time passed to `advance`, in nanoseconds.
    now: u64,
    next_seq: u64,
    next_cache: NextCache,
    /// Reused buffers of (deadline, seq, entry index) while firing a slot:
    /// the entries due, and those left.
    scratch: Vec<(u64, u64, usize)>,
    scratch_rest: Vec<(u64, u64, usize)>,
}

impl<T> Wheel<T> {
    /// An empty wheel at time 0.
    pub(crate) fn new() -> Self {
        Wheel {
            entries: Slab::new(),
            heads: [NIL; OVERFLOW + 1],
            occupied: [0; NUM_LEVELS],
            elapsed: 0,
            now: 0,
            next_seq: 0,
            next_cache: NextCache::Known(None),
            scratch: Vec::new(),
            scratch_rest: Vec::new(),
        }
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Files a timer firing at `deadline` (nanoseconds) and returns its key.
    /// O(1). A deadline already passed fires at the next `advance`.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let seq = self.take_seq();
        let index = self.entries.insert(Entry {
            deadline,
            seq,
            prev: NIL,
            next: NIL,
            list: u32::MAX,
            sorted: false,
            value,
        });
        self.link(index, self.list_for(deadline));
        self.note_added(deadline);
        TimerKey::new(index, seq)
    }

    /// Removes a pending timer and returns its value; `None` if the key is
    /// stale (the timer already fired or was cancelled). O(1).
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<T> {
        self.entry(key)?;
        self.unlink(key.index());
        let entry = self.entries.remove(key.index());
        self.note_removed(entry.deadline);
        Some(entry.value)
    }

    /// Moves a pending timer to a new deadline, in place (no allocation), and
    /// returns its new key; `None` if the key is stale. O(1).
    pub(crate) fn reschedule(&mut self, key: TimerKey, deadline: u64) -> Option<TimerKey> {
        let old = self.entry(key)?.deadline;
        let index = key.index();
        self.unlink(index);
        let seq = self.take_seq();
        let entry = &mut self.entries[index];
        entry.deadline = deadline;
        entry.seq = seq;
        self.link(index, self.list_for(deadline));
        self.note_removed(old);
        self.note_added(deadline);
        Some(TimerKey::new(index, seq))
    }

    /// The value of a pending timer; `None` if the key is stale.
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        match self.entries.get_mut(key.index()) {
            Some(e) if key.matches(e.seq) => Some(&mut e.value),
            _ => None,
        }
    }

    /// The deadline of a pending timer; `None` if the key is stale.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.entry(key).map(|e| e.deadline)
    }

    /// The exact earliest pending deadline, or `None` if the wheel is empty.
    ///
    /// Found from the occupancy bitmaps, then a walk of that one slot (small:
    /// its timers are the next to fire); the answer is cached until a change
    /// can invalidate it.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        if let NextCache::Known(next) = self.next_cache {
            return next;
        }
        let next = self.next_expiration().map(|exp| {
            let mut min = u64::MAX;
            let mut cur = self.heads[exp.list];
            while cur != NIL {
                let e = &self.entries[cur];
                min = min.min(e.deadline);
                if e.sorted {
                    // The rest of the sorted tail is later.
                    break;
                }
                cur = e.next;
            }
            min
        });
        self.next_cache = NextCache::Known(next);
        next
    }

    /// Advances time to `now` (nanoseconds; a value before the last one is
    /// taken as the last one) and appends the value of every timer with
    /// `deadline <= now` to `fired`, in deadline order.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<T>) {
        let now = now.max(self.now);
        self.now = now;
        let now_tick = now >> TICK_SHIFT;
        debug_assert!(self.elapsed <= now_tick);
        while let Some(exp) = self.next_expiration() {
            if exp.tick > now_tick {
                break;
            }
            if exp.level == 0 && exp.tick == now_tick {
                // The current tick: only part of it has passed. This slot
                // is the earliest, so a known next deadline is its earliest.
                self.elapsed = exp.tick;
                if !matches!(self.next_cache, NextCache::Known(Some(next)) if next > now) {
                    let rest = self.fire_slot(exp.list, now, fired);
                    self.next_cache = match rest {
                        Some(min) => NextCache::Known(Some(min)),
                        None => NextCache::Unknown,
                    };
                }
                break;
            }
            self.next_cache = NextCache::Unknown;
            if exp.level == 0 {
                // The whole tick lies before `now`: everything is due.
                self.elapsed = exp.tick;
                self.fire_slot(exp.list, u64::MAX, fired);
            } else if exp.level < NUM_LEVELS {
                self.elapsed = exp.tick;
                self.refile(exp.list);
            } else {
                // The levels are empty, so time may jump straight to the
                // earliest overflow timer (or to `now`, whichever is first).
                let mut min_tick = u64::MAX;
                let mut cur = self.heads[OVERFLOW];
                while cur != NIL {
                    min_tick = min_tick.min(self.entries[cur].deadline >> TICK_SHIFT);
                    cur = self.entries[cur].next;
                }
                self.elapsed = min_tick.min(now_tick);
                self.refile(OVERFLOW);
            }
        }
        self.elapsed = now_tick;
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn entry(&self, key: TimerKey) -> Option<&Entry<T>> {
        self.entries.get(key.index()).filter(|e| key.matches(e.seq))
    }

    fn note_added(&mut self, deadline: u64) {
        if let NextCache::Known(next) = self.next_cache {
            let min = next.map_or(deadline, |n| n.min(deadline));
            self.next_cache = NextCache::Known(Some(min));
        }
    }

    fn note_removed(&mut self, deadline: u64) {
        if self.entries.is_empty() {
            self.next_cache = NextCache::Known(None);
        } else if self.next_cache == NextCache::Known(Some(deadline)) {
            self.next_cache = NextCache::Unknown;
        }
    }

    /// The list a timer with this deadline belongs in, given `elapsed`.
    fn list_for(&self, deadline: u64) -> usize {
        let tick = (deadline >> TICK_SHIFT).max(self.elapsed);
        let level = level_for(self.elapsed, tick);
        if level >= NUM_LEVELS {
            OVERFLOW
        } else {
            level * SLOTS + slot_for(tick, level)
        }
    }

    /// The first slot time will reach: the lowest occupied slot of the lowest
    /// occupied level, else the overflow list at the next top-level span.
    fn next_expiration(&self) -> Option<Expiration> {
        for (level, &occupied) in self.occupied.iter().enumerate() {
            if occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let slot = occupied.trailing_zeros() as usize;
            let current = slot_for(self.elapsed, level);
            debug_assert!(
                slot > current || (slot == current && level == 0),
                "slot {slot} of level {level} is behind the current slot {current}"
            );
            let span_mask = (1u64 << (shift + SLOT_BITS)) - 1;
            let tick = (self.elapsed & !span_mask) | ((slot as u64) << shift);
            return Some(Expiration {
                level,
                list: level * SLOTS + slot,
                tick,
            });
        }
        if self.heads[OVERFLOW] == NIL {
            return None;
        }
        let top_mask = (1u64 << TOP_SPAN_BITS) - 1;
        Some(Expiration {
            level: NUM_LEVELS,
            list: OVERFLOW,
            tick: (self.elapsed | top_mask) + 1,
        })
    }

    /// Fires every entry of a level-0 slot with `deadline <= limit`, in
    /// (deadline, seq) order, and returns the earliest deadline left in the
    /// slot (`None`: it is empty).
    ///
    /// The sort keys are copied out during the walk, so sorting (a slot may
    /// hold hundreds of timers) never goes back to the slab. A whole slot
    /// (`limit == u64::MAX`) is emptied at once. Otherwise the walk stops at
    /// the first sorted entry not due, and if the unsorted head had entries
    /// not due, all the remaining entries are relinked as one sorted list.
    fn fire_slot(&mut self, list: usize, limit: u64, fired: &mut Vec<T>) -> Option<u64> {
        let mut due = std::mem::take(&mut self.scratch);
        due.clear();
        let mut rest = std::mem::take(&mut self.scratch_rest);
        rest.clear();
        // The first sorted entry not due, if the walk stopped there.
        let mut stop = NIL;
        let mut cur = self.heads[list];
        while cur != NIL {
            let e = &self.entries[cur];
            if e.deadline <= limit {
                due.push((e.deadline, e.seq, cur));
            } else if e.sorted && rest.is_empty() {
                stop = cur;
                break;
            } else {
                rest.push((e.deadline, e.seq, cur));
            }
            cur = e.next;
        }
        // (deadline, seq) is unique, so an unstable sort is deterministic.
        due.sort_unstable();
        let left = if rest.is_empty() && stop == NIL {
            // Everything fires: drop the whole list at once.
            self.heads[list] = NIL;
            self.occupied[list / SLOTS] &= !(1u64 << (list % SLOTS));
            for &(_, _, i) in &due {
                fired.push(self.entries.remove(i).value);
            }
            None
        } else if rest.is_empty() {
            // The remaining entries are the sorted tail from `stop` on.
            for &(_, _, i) in &due {
                self.unlink(i);
                fired.push(self.entries.remove(i).value);
            }
            Some(self.entries[stop].deadline)
        } else {
            // Relink what is not due, in order, sorted.
            for &(_, _, i) in &due {
                fired.push(self.entries.remove(i).value);
            }
            rest.sort_unstable();
            let mut next = NIL;
            for &(_, _, i) in rest.iter().rev() {
                let e = &mut self.entries[i];
                e.prev = NIL;
                e.next = next;
                e.sorted = true;
                if next != NIL {
                    self.entries[next].prev = i;
                }
                next = i;
            }
            self.heads[list] = next;
            Some(rest[0].0)
        };
        self.scratch = due;
        self.scratch_rest = rest;
        left
    }

    /// Empties a list and files each of its entries again relative to the
    /// current `elapsed`.
    fn refile(&mut self, list: usize) {
        let mut cur = self.heads[list];
        self.heads[list] = NIL;
        if list < OVERFLOW {
            self.occupied[list / SLOTS] &= !(1u64 << (list % SLOTS));
        }
        while cur != NIL {
            let next = self.entries[cur].next;
            let target = self.list_for(self.entries[cur].deadline);
            debug_assert!(
                target != list || list == OVERFLOW,
                "a cascade must move down"
            );
            self.link(cur, target);
            cur = next;
        }
    }

    /// Pushes entry `index` at the front of list `list` (its unsorted head).
    fn link(&mut self, index: usize, list: usize) {
        let head = self.heads[list];
        let e = &mut self.entries[index];
        e.prev = NIL;
        e.next = head;
        e.list = list as u32;
        e.sorted = false;
        if head != NIL {
            self.entries[head].prev = index;
        }
        self.heads[list] = index;
        if list < OVERFLOW {
            self.occupied[list / SLOTS] |= 1u64 << (list % SLOTS);
        }
    }

    /// Takes entry `index` out of its list (the entry stays in the slab).
    fn unlink(&mut self, index: usize) {
        let Entry {
            prev, next, list, ..
        } = self.entries[index];
        let list = list as usize;
        if prev == NIL {
            debug_assert_eq!(self.heads[list], index);
            self.heads[list] = next;
            if next == NIL && list < OVERFLOW {
                self.occupied[list / SLOTS] &= !(1u64 << (list % SLOTS));
            }
        } else {
            self.entries[prev].next = next;
        }
        if next != NIL {
            self.entries[next].prev = prev;
        }
    }
}

/// The level of a timer at `tick` seen from `elapsed` (`NUM_LEVELS` or more
/// means overflow): the 6-bit group of the highest differing bit.
fn level_for(elapsed: u64, tick: u64) -> usize {
    // OR-ing in the low group makes equal ticks land in level 0.
    let masked = (elapsed ^ tick) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

/// The slot of `tick` within `level`.
fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (SLOT_BITS * level as u32)) & (SLOTS as u64 - 1)) as usize
}

#[cfg(test)]
#[path = "wheel_tests.rs"]
mod tests;
