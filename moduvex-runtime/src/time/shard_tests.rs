//! Unit tests of the timer shard and of a thread's timer home.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use super::*;

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

fn count(c: &CountingWaker) -> usize {
    c.0.load(Ordering::SeqCst)
}

/// Turns `shard` at `now` and wakes what fired.
fn turn(shard: &Shard, now: Instant) {
    let mut fired = Vec::new();
    shard.turn(true, || now, &mut fired);
    fired.into_iter().for_each(Waker::wake);
}

fn timeout(shard: &Shard, now: Instant) -> Option<Duration> {
    shard.begin_wait(|| now)
}

#[test]
fn a_shard_without_timers_has_no_timeout() {
    let shard = Shard::new();
    assert_eq!(timeout(&shard, Instant::now()), None);
    turn(&shard, Instant::now());
    assert_eq!(shard.next_deadline(), None);
}

#[test]
fn timeout_is_the_exact_earliest_deadline_and_fires_once() {
    let shard = Shard::new();
    let now = Instant::now();
    let hour = now + Duration::from_secs(3600);
    let (count_1, waker) = counting_waker();
    shard.file(hour, &waker).unwrap();
    // Exact: the thread sleeps until the timer itself, not to a slot
    // boundary or a cascade point first.
    assert_eq!(timeout(&shard, now), Some(hour - now));
    assert_eq!(shard.next_deadline(), Some(hour));
    let soon = now + Duration::from_micros(100);
    let key = shard.file(soon, &waker).unwrap();
    assert_eq!(timeout(&shard, now), Some(Duration::from_micros(100)));
    assert_eq!(shard.next_deadline(), Some(soon));
    turn(&shard, now + Duration::from_micros(99));
    assert_eq!(count(&count_1), 0);
    assert!(!shard.has_passed(soon));
    turn(&shard, now + Duration::from_micros(100));
    assert_eq!(count(&count_1), 1);
    // Fired: the last turn says so, and the entry is gone.
    assert!(shard.has_passed(soon));
    assert!(shard.cancel(key, soon).is_none());
    assert_eq!(timeout(&shard, now), Some(hour - now));
    assert_eq!(shard.next_deadline(), Some(hour));
    turn(&shard, hour);
    assert_eq!(count(&count_1), 2);
    assert_eq!(timeout(&shard, hour), None);
    assert_eq!(shard.next_deadline(), None);
}

#[test]
fn a_deadline_at_or_before_the_last_turn_is_not_filed() {
    let shard = Shard::new();
    let now = Instant::now();
    let (count_1, waker) = counting_waker();
    shard.file(now + Duration::from_millis(1), &waker).unwrap();
    turn(&shard, now + Duration::from_millis(2));
    assert_eq!(count(&count_1), 1);
    assert!(shard.file(now + Duration::from_millis(2), &waker).is_none());
    assert!(shard.file(now - Duration::from_secs(5), &waker).is_none());
    assert!(shard.file(now + Duration::from_millis(3), &waker).is_some());
}

#[test]
fn a_past_deadline_before_any_turn_gives_a_zero_timeout() {
    let before = Instant::now();
    let shard = Shard::new();
    let (count_1, waker) = counting_waker();
    // Before the shard's origin: due, not filed.
    assert!(shard
        .file(before - Duration::from_secs(5), &waker)
        .is_none());
    // No turn yet: filed, and the first turn fires it.
    let now = Instant::now();
    assert!(shard.file(now, &waker).is_some());
    assert_eq!(
        timeout(&shard, now + Duration::from_millis(1)),
        Some(Duration::ZERO)
    );
    turn(&shard, now);
    assert_eq!(count(&count_1), 1);
}

#[test]
fn reschedule_and_update_waker() {
    let shard = Shard::new();
    let now = Instant::now();
    let (count_1, waker) = counting_waker();
    let (count_2, waker_2) = counting_waker();
    let minute = now + Duration::from_secs(60);
    let key = shard.file(minute, &waker).unwrap();
    assert!(shard.update_waker(key, minute, &waker_2));
    let ms = now + Duration::from_millis(1);
    let key = shard.reschedule(key, minute, ms).unwrap();
    assert_eq!(timeout(&shard, now), Some(Duration::from_millis(1)));
    turn(&shard, ms);
    assert!(!shard.update_waker(key, ms, &waker));
    assert!(shard.cancel(key, ms).is_none());
    assert_eq!(count(&count_1), 0, "replaced waker");
    assert_eq!(count(&count_2), 1);
    // Rescheduled to at or before the last turn: fired at once.
    let key = shard.file(minute, &waker).unwrap();
    assert!(shard.reschedule(key, minute, now).is_none());
    assert_eq!(count(&count_1), 1);
    assert_eq!(timeout(&shard, now), None);
    // A fired timer is not moved.
    assert!(shard.reschedule(key, ms, minute).is_none());
}

#[test]
fn other_threads_cancel_and_turn_under_the_lock() {
    let shard = Arc::new(Shard::new());
    let now = Instant::now();
    let (count_1, waker) = counting_waker();
    let hour = now + Duration::from_secs(3600);
    let a = shard.file(hour, &waker).unwrap();
    let soon = now + Duration::from_millis(1);
    shard.file(soon, &waker).unwrap();
    let s = shard.clone();
    std::thread::spawn(move || {
        drop(s.cancel(a, hour));
        // A stand-in's turn fires what is due.
        let mut fired = Vec::new();
        assert!(s.try_turn(|| soon, &mut fired));
        fired.into_iter().for_each(Waker::wake);
    })
    .join()
    .unwrap();
    assert_eq!(count(&count_1), 1, "the due one fired, the other cancelled");
    assert_eq!(shard.len(), 0);
    assert!(shard.has_passed(soon));
}

#[test]
fn a_drained_shard_wakes_its_timers_without_marking_them_fired() {
    let shard = Shard::new();
    let now = Instant::now();
    let (count_1, waker) = counting_waker();
    let hour = now + Duration::from_secs(3600);
    let key = shard.file(hour, &waker).unwrap();
    let mut left = Vec::new();
    shard.drain(&mut left);
    left.into_iter().for_each(Waker::wake);
    assert_eq!(count(&count_1), 1);
    assert!(!shard.has_passed(hour), "a Sleep must refile, not complete");
    assert!(shard.cancel(key, hour).is_none());
    assert!(!shard.update_waker(key, hour, &waker));
}

#[test]
fn the_recorded_wait_is_the_earliest_deadline_until_the_next_turn() {
    let shard = Shard::new();
    let now = Instant::now();
    let (_count, waker) = counting_waker();
    assert_eq!(timeout(&shard, now), None);
    assert_eq!(shard.wait(), u64::MAX, "blocked without a timeout");
    let hour = now + Duration::from_secs(3600);
    shard.file(hour, &waker).unwrap();
    timeout(&shard, now);
    assert_eq!(shard.wait(), shard.nanos_at(hour));
    turn(&shard, now);
    assert_eq!(shard.wait(), 0, "awake: nothing to unpark");
}

/// Needs a reactor (an eventfd): not under Miri.
#[cfg(not(miri))]
#[test]
fn filing_earlier_than_the_drivers_wait_unparks_it() {
    use crate::platform::sys::events_with_capacity;
    use crate::reactor::Reactor;

    let reactor = Reactor::new().unwrap();
    let shard = Arc::new(Shard::new());
    shard.set_driver(Some(reactor.unparker()));
    let now = Instant::now();
    let (_count, waker) = counting_waker();
    let hour = now + Duration::from_secs(3600);
    shard.file(hour, &waker).unwrap();
    let mut events = events_with_capacity(4);
    // Awake (no wait recorded): filing does not write the eventfd.
    shard.file(hour, &waker).unwrap();
    assert_eq!(reactor.poll(&mut events, Some(0)).unwrap(), 0);
    // Waiting for the hour: a later timer does not unpark, an earlier does.
    assert_eq!(timeout(&shard, now), Some(hour - now));
    shard.file(hour + Duration::from_secs(1), &waker).unwrap();
    assert_eq!(reactor.poll(&mut events, Some(0)).unwrap(), 0);
    let s = shard.clone();
    let w = waker.clone();
    let foreign = std::thread::spawn(move || {
        s.file(now + Duration::from_secs(1), &w).unwrap();
    });
    // Blocks with no timeout: only the filing can end it.
    assert_eq!(reactor.poll(&mut events, None).unwrap(), 1);
    foreign.join().unwrap();
}

#[cfg(not(miri))]
#[test]
fn a_thread_without_a_home_files_on_the_fallback_shard() {
    std::thread::spawn(|| {
        let fallback = with_home(Arc::clone);
        assert!(Arc::ptr_eq(&fallback, fallback_shard()));
        let reactor = crate::reactor::Reactor::new().unwrap();
        let mine = Arc::new(Shard::new());
        {
            let _home = enter(mine.clone(), reactor.unparker(), OnLeave::Keep);
            assert!(with_home(|h| Arc::ptr_eq(h, &mine)));
        }
        assert!(with_home(|h| Arc::ptr_eq(h, fallback_shard())));
    })
    .join()
    .unwrap();
}

#[test]
fn a_turn_corrects_an_earliest_deadline_left_by_cancels() {
    let shard = Shard::new();
    let now = Instant::now();
    let (_count, waker) = counting_waker();
    let soon = now + Duration::from_millis(1);
    let key = shard.file(soon, &waker).unwrap();
    drop(shard.cancel(key, soon));
    // Published before the cancel; a stand-in's turn corrects it, so a
    // napping sibling does not keep waking for a timer that is gone.
    assert_eq!(shard.next_deadline(), Some(soon));
    let mut fired = Vec::new();
    assert!(shard.try_turn(|| now, &mut fired));
    assert!(fired.is_empty());
    assert_eq!(shard.next_deadline(), None);
}
