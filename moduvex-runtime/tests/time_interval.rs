//! `interval` / `interval_at`: the schedule of ticks under each
//! `MissedTickBehavior`, checked on the returned instants (never on how long
//! anything took).

use std::future::Future;
use std::time::Duration;

use moduvex_runtime::block_on;
use moduvex_runtime::time::{interval, interval_at, Instant, MissedTickBehavior};

const P: Duration = Duration::from_millis(20);

#[test]
fn first_tick_is_immediate_and_later_ticks_follow_the_period() {
    block_on(async {
        let start = Instant::now();
        let mut i = interval_at(start, P);
        assert_eq!(i.period(), P);
        assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
        assert_eq!(i.tick().await, start);
        assert_eq!(i.tick().await, start + P);
        assert_eq!(i.tick().await, start + 2 * P);
        assert!(Instant::now() >= start + 2 * P);

        let before = Instant::now();
        let mut j = interval(P);
        let first = j.tick().await;
        assert!(first >= before && first <= Instant::now());
        assert_eq!(j.tick().await, first + P);
    });
}

#[test]
fn burst_fires_every_missed_tick_on_the_original_schedule() {
    block_on(async {
        let start = Instant::now() - 10 * P;
        let mut i = interval_at(start, P);
        for k in 0..=10 {
            assert_eq!(i.tick().await, start + k * P);
        }
        assert_eq!(i.tick().await, start + 11 * P);
    });
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    block_on(async {
        let start = Instant::now() - 10 * P;
        let mut i = interval_at(start, P);
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let before = Instant::now();
        assert_eq!(i.tick().await, start);
        let after = Instant::now();
        // The next tick is one period after the moment the late tick was taken.
        let second = i.tick().await;
        let taken = Instant::now();
        assert!(second >= before + P && second <= after + P, "{second:?}");
        let third = i.tick().await;
        if taken < second + P {
            assert_eq!(third, second + P);
        } else {
            // Taken a whole period late (a loaded machine): the schedule
            // restarted from the moment it was taken.
            assert!(third >= second + P && third <= taken + P, "{third:?}");
        }
    });
}

#[test]
fn skip_drops_missed_ticks_and_keeps_the_grid() {
    block_on(async {
        let start = Instant::now() - 10 * P - P / 2;
        let mut i = interval_at(start, P);
        i.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let before = Instant::now();
        assert_eq!(i.tick().await, start);
        let after = Instant::now();
        let second = i.tick().await;
        // On the original grid, at the first slot after the late tick.
        let offset = (second - start).as_nanos();
        assert_eq!(offset % P.as_nanos(), 0, "{second:?} is off the grid");
        assert!(second > before && second - P <= after, "{second:?}");
        let taken = Instant::now();
        let third = i.tick().await;
        if taken < second + P {
            assert_eq!(third, second + P);
        } else {
            // Taken a whole period late: the next free slot of the grid.
            assert_eq!((third - start).as_nanos() % P.as_nanos(), 0);
            assert!(third > second && third - P <= taken, "{third:?}");
        }
    });
}

#[test]
fn reset_restarts_one_period_from_now() {
    block_on(async {
        let start = Instant::now();
        let mut i = interval_at(start, P);
        assert_eq!(i.tick().await, start);
        let before = Instant::now();
        i.reset();
        let next = i.tick().await;
        assert!(next >= before + P);
        i.reset_immediately();
        // The tick is scheduled at the reset, not at `next + P` (which a
        // late wake-up on a loaded machine may already have passed).
        let after_reset = Instant::now();
        let now = i.tick().await;
        assert!(now <= after_reset && now >= next);
    });
}

#[test]
fn dropping_a_tick_future_loses_no_tick() {
    block_on(async {
        let start = Instant::now();
        let mut i = interval_at(start, P);
        assert_eq!(i.tick().await, start);
        // Poll the next tick once, then drop that future.
        let polled = std::future::poll_fn(|cx| {
            let fut = i.tick();
            let mut fut = std::pin::pin!(fut);
            std::task::Poll::Ready(fut.as_mut().poll(cx).is_pending())
        })
        .await;
        assert!(polled);
        assert_eq!(i.tick().await, start + P);
    });
}

#[test]
#[should_panic(expected = "period must be non-zero")]
fn zero_period_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "period must be non-zero")]
fn zero_period_panics_inside_a_runtime() {
    block_on(async {
        let _ = interval_at(Instant::now(), Duration::ZERO);
    });
}
