//! Unit tests of the timer wheel, and a randomized model test against a
//! `BTreeMap` reference.

use super::*;
use std::collections::BTreeMap;

const TICK: u64 = 1 << TICK_SHIFT;

fn advance(wheel: &mut Wheel<u32>, now: u64) -> Vec<u32> {
    let mut fired = Vec::new();
    wheel.advance(now, &mut fired);
    fired
}

#[test]
fn empty_wheel_has_no_deadline_and_fires_nothing() {
    let mut w = Wheel::<u32>::new();
    assert_eq!(w.next_deadline(), None);
    assert!(advance(&mut w, 10 * TICK).is_empty());
    assert!(w.is_empty());
}

#[test]
fn fires_at_exact_deadline_not_at_tick_start() {
    let mut w = Wheel::new();
    // Both deadlines are in tick 3; only the first has passed at 3T + 10.
    w.insert(3 * TICK + 5, 1);
    w.insert(3 * TICK + 500, 2);
    assert_eq!(w.next_deadline(), Some(3 * TICK + 5));
    assert_eq!(advance(&mut w, 3 * TICK + 4), Vec::<u32>::new());
    assert_eq!(advance(&mut w, 3 * TICK + 10), vec![1]);
    assert_eq!(w.next_deadline(), Some(3 * TICK + 500));
    assert_eq!(advance(&mut w, 3 * TICK + 500), vec![2]);
    assert!(w.is_empty());
}

#[test]
fn fires_in_deadline_order_with_ties_in_registration_order() {
    let mut w = Wheel::new();
    w.insert(5000, 1);
    w.insert(100, 2);
    w.insert(5000, 3);
    w.insert(2 * TICK, 4);
    w.insert(100, 5);
    assert_eq!(advance(&mut w, 10 * TICK), vec![2, 5, 1, 3, 4]);
}

#[test]
fn past_deadlines_fire_at_the_next_advance() {
    let mut w = Wheel::new();
    assert!(advance(&mut w, 1_000 * TICK).is_empty());
    w.insert(7, 1);
    w.insert(0, 2);
    // Earlier than `now`: reported as the next deadline and fired at once,
    // in deadline order, even though time does not move.
    assert_eq!(w.next_deadline(), Some(0));
    assert_eq!(advance(&mut w, 1_000 * TICK), vec![2, 1]);
    // A time before the last one is taken as the last one.
    w.insert(3, 3);
    assert_eq!(advance(&mut w, 0), vec![3]);
}

#[test]
fn cancel_removes_in_place_and_stale_keys_are_rejected() {
    let mut w = Wheel::new();
    let a = w.insert(10 * TICK, 1);
    let b = w.insert(20 * TICK, 2);
    assert_eq!(w.cancel(a), Some(1));
    assert_eq!(w.cancel(a), None);
    assert_eq!(w.next_deadline(), Some(20 * TICK));
    assert_eq!(advance(&mut w, 30 * TICK), vec![2]);
    // `b` fired: its key is stale even when the slab index is reused.
    let c = w.insert(40 * TICK, 3);
    assert_eq!(w.cancel(b), None);
    assert_eq!(w.get_mut(b), None);
    assert_eq!(w.get_mut(c), Some(&mut 3));
    assert_eq!(w.len(), 1);
}

#[test]
fn cascades_through_every_level_to_the_exact_deadline() {
    let mut w = Wheel::new();
    for level in 0..NUM_LEVELS as u32 {
        let deadline = (1u64 << (TICK_SHIFT + SLOT_BITS * level)) * 3 + 12_345;
        w.insert(deadline, level);
        assert_eq!(w.next_deadline(), Some((1 << TICK_SHIFT) * 3 + 12_345));
    }
    for level in 0..NUM_LEVELS as u32 {
        let deadline = (1u64 << (TICK_SHIFT + SLOT_BITS * level)) * 3 + 12_345;
        assert_eq!(w.next_deadline(), Some(deadline));
        assert!(advance(&mut w, deadline - 1).is_empty(), "level {level}");
        assert_eq!(advance(&mut w, deadline), vec![level]);
    }
    assert!(w.is_empty());
}

#[test]
fn overflow_timers_are_refiled_and_fire_in_order() {
    let mut w = Wheel::new();
    let top = 1u64 << (TICK_SHIFT + TOP_SPAN_BITS);
    w.insert(u64::MAX, 1);
    w.insert(5 * top + 77, 2);
    w.insert(top - 1, 3);
    w.insert(40 * top, 4);
    assert_eq!(w.next_deadline(), Some(top - 1));
    assert_eq!(advance(&mut w, top), vec![3]);
    assert_eq!(w.next_deadline(), Some(5 * top + 77));
    assert!(advance(&mut w, 5 * top + 76).is_empty());
    assert_eq!(advance(&mut w, 6 * top), vec![2]);
    assert_eq!(w.next_deadline(), Some(40 * top));
    assert_eq!(advance(&mut w, u64::MAX - 1), vec![4]);
    assert_eq!(advance(&mut w, u64::MAX), vec![1]);
}

#[test]
fn reschedule_moves_a_timer_without_a_new_slot() {
    let mut w = Wheel::new();
    let a = w.insert(100 * TICK, 1);
    w.insert(50 * TICK, 2);
    let a2 = w.reschedule(a, 10 * TICK).expect("pending");
    assert_eq!(a2.index, a.index);
    assert_eq!(w.reschedule(a, 5), None, "old key is stale");
    assert_eq!(w.deadline(a2), Some(10 * TICK));
    assert_eq!(w.next_deadline(), Some(10 * TICK));
    let a3 = w.reschedule(a2, 1 << 50).expect("pending");
    assert_eq!(w.next_deadline(), Some(50 * TICK));
    assert_eq!(advance(&mut w, 1 << 49), vec![2]);
    assert_eq!(w.deadline(a3), Some(1 << 50));
    assert_eq!(advance(&mut w, 1 << 50), vec![1]);
}

#[test]
fn next_deadline_cache_follows_cancel_of_the_earliest() {
    let mut w = Wheel::new();
    let a = w.insert(3 * TICK, 1);
    let b = w.insert(700 * TICK, 2);
    assert_eq!(w.next_deadline(), Some(3 * TICK));
    w.cancel(a);
    assert_eq!(w.next_deadline(), Some(700 * TICK));
    w.cancel(b);
    assert_eq!(w.next_deadline(), None);
}

/// xorshift64*: a tiny deterministic PRNG for the model test.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A distance at a random scale, from nanoseconds to past the top level.
    fn distance(&mut self) -> u64 {
        let bits = self.below(64) as u32;
        if bits == 0 {
            0
        } else {
            self.next() >> (64 - bits)
        }
    }
}

/// The reference: timers ordered by (deadline, registration order).
#[derive(Default)]
struct Model {
    timers: BTreeMap<(u64, u64), u32>,
    seq: u64,
}

impl Model {
    fn insert(&mut self, deadline: u64, id: u32) -> (u64, u64) {
        let key = (deadline, self.seq);
        self.seq += 1;
        self.timers.insert(key, id);
        key
    }

    fn fire(&mut self, now: u64) -> Vec<u32> {
        let due = match now.checked_add(1) {
            Some(after) => {
                let later = self.timers.split_off(&(after, 0));
                std::mem::replace(&mut self.timers, later)
            }
            None => std::mem::take(&mut self.timers),
        };
        due.into_values().collect()
    }
}

/// Seeds of the randomized models: a few under Miri, which runs them
/// about a thousand times slower.
fn seeds(n: u64) -> std::ops::RangeInclusive<u64> {
    1..=if cfg!(miri) { n.min(2) } else { n }
}

/// Steps of a randomized model (fewer under Miri).
fn steps(n: usize) -> usize {
    if cfg!(miri) {
        n.min(400)
    } else {
        n
    }
}

fn run_model(seed: u64, steps: usize) {
    let mut rng = XorShift(seed);
    let mut wheel = Wheel::new();
    let mut model = Model::default();
    // Live and dead keys, both offered to cancel/reschedule.
    let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
    let mut now = 0u64;
    let mut next_id = 0u32;
    for step in 0..steps {
        match rng.below(10) {
            0..=3 => {
                let deadline = if rng.below(8) == 0 {
                    now.saturating_sub(rng.distance())
                } else {
                    now.saturating_add(rng.distance())
                };
                let k = wheel.insert(deadline, next_id);
                let m = model.insert(deadline, next_id);
                keys.push((k, m));
                next_id += 1;
            }
            4 | 5 if !keys.is_empty() => {
                let i = rng.below(keys.len() as u64) as usize;
                let (k, m) = keys.swap_remove(i);
                assert_eq!(wheel.cancel(k), model.timers.remove(&m), "step {step}");
            }
            6 if !keys.is_empty() => {
                let i = rng.below(keys.len() as u64) as usize;
                let deadline = now.saturating_add(rng.distance());
                let (k, m) = keys[i];
                match (wheel.reschedule(k, deadline), model.timers.remove(&m)) {
                    (Some(k2), Some(id)) => {
                        let m2 = (deadline, model.seq);
                        model.seq += 1;
                        model.timers.insert(m2, id);
                        keys[i] = (k2, m2);
                    }
                    (None, None) => {}
                    other => panic!("step {step}: reschedule disagrees: {other:?}"),
                }
            }
            _ => {
                // Mostly small steps, sometimes a jump across many levels.
                let step_len = if rng.below(4) == 0 {
                    rng.distance()
                } else {
                    rng.below(8 * TICK)
                };
                now = now.saturating_add(step_len);
                let got = advance(&mut wheel, now);
                let want = model.fire(now);
                assert_eq!(got, want, "step {step}, now {now}");
            }
        }
        let want_next = model.timers.keys().next().map(|&(d, _)| d);
        assert_eq!(wheel.next_deadline(), want_next, "step {step}");
        assert_eq!(wheel.len(), model.timers.len(), "step {step}");
    }
    // Drain everything: the model and the wheel must agree to the end.
    assert_eq!(advance(&mut wheel, u64::MAX), model.fire(u64::MAX));
    assert!(wheel.is_empty());
}

#[test]
fn model_random_operations_match_btreemap() {
    for seed in seeds(40) {
        run_model(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), steps(3_000));
    }
}

#[test]
fn model_dense_small_deadlines_match_btreemap() {
    // Many timers in the same few slots, with small advances: exercises the
    // partial firing of the current tick and deadline ties.
    let mut rng = XorShift(0xdead_beef);
    let mut wheel = Wheel::new();
    let mut model = Model::default();
    let mut now = 0;
    for id in 0..steps(20_000) as u32 {
        let deadline = now + rng.below(3 * TICK);
        wheel.insert(deadline, id);
        model.insert(deadline, id);
        if id % 7 == 0 {
            now += rng.below(TICK / 2);
            assert_eq!(advance(&mut wheel, now), model.fire(now));
        }
    }
    assert_eq!(advance(&mut wheel, u64::MAX), model.fire(u64::MAX));
}

#[test]
fn model_dense_slot_with_cancels_and_reschedules_matches_btreemap() {
    // The current slot partly fired again and again (its remaining timers
    // relinked sorted), while timers are inserted into it, cancelled from
    // its unsorted head and sorted tail, and rescheduled within it; the next
    // deadline is only sometimes asked for, so firing runs both with and
    // without a known next deadline.
    for seed in seeds(30) {
        let mut rng = XorShift(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut wheel = Wheel::new();
        let mut model = Model::default();
        let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
        let mut now = 0u64;
        let mut next_id = 0u32;
        for step in 0..steps(4_000) {
            match rng.below(12) {
                0..=4 => {
                    let deadline = match rng.below(8) {
                        0 => now.saturating_sub(rng.below(TICK)),
                        1 => now + rng.distance() % (1 << 40),
                        _ => now + rng.below(2 * TICK),
                    };
                    keys.push((
                        wheel.insert(deadline, next_id),
                        model.insert(deadline, next_id),
                    ));
                    next_id += 1;
                }
                5 | 6 if !keys.is_empty() => {
                    let i = rng.below(keys.len() as u64) as usize;
                    let (k, m) = keys.swap_remove(i);
                    assert_eq!(wheel.cancel(k), model.timers.remove(&m), "step {step}");
                }
                7 if !keys.is_empty() => {
                    let i = rng.below(keys.len() as u64) as usize;
                    let deadline = now + rng.below(2 * TICK);
                    let (k, m) = keys[i];
                    match (wheel.reschedule(k, deadline), model.timers.remove(&m)) {
                        (Some(k2), Some(id)) => {
                            let m2 = (deadline, model.seq);
                            model.seq += 1;
                            model.timers.insert(m2, id);
                            keys[i] = (k2, m2);
                        }
                        (None, None) => {}
                        other => panic!("step {step}: reschedule disagrees: {other:?}"),
                    }
                }
                8 => {
                    let want = model.timers.keys().next().map(|&(d, _)| d);
                    assert_eq!(wheel.next_deadline(), want, "step {step}");
                }
                _ => {
                    // Small steps: mostly within the current tick.
                    now += rng.below(TICK / 5);
                    assert_eq!(advance(&mut wheel, now), model.fire(now), "step {step}");
                }
            }
            assert_eq!(wheel.len(), model.timers.len(), "step {step}");
        }
        let want = model.timers.keys().next().map(|&(d, _)| d);
        assert_eq!(wheel.next_deadline(), want);
        assert_eq!(advance(&mut wheel, u64::MAX), model.fire(u64::MAX));
        assert!(wheel.is_empty());
    }
}
