//! Barrier and OnceCell.
#![cfg(not(loom))]

mod sync_common;

mod sync_barrier_once {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once, spawn, yield_now};
    use moduvex_runtime::sync::{Barrier, OnceCell};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Poll;

    #[test]
    fn barrier_releases_group_with_one_leader_and_is_reusable() {
        let b = Arc::new(Barrier::new(4));
        for _round in 0..3 {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let b = b.clone();
                    spawn(async move { b.wait().await.is_leader() })
                })
                .collect();
            let leaders = handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&l| l)
                .count();
            assert_eq!(leaders, 1);
        }
    }

    #[test]
    fn barrier_dropped_waiter_withdraws_arrival() {
        let b = Barrier::new(2);
        let (w, c) = counting_waker();
        {
            let mut a = boxed(b.wait());
            assert!(poll_once(a.as_mut(), &w).is_pending());
        }
        let mut x = boxed(b.wait());
        assert!(poll_once(x.as_mut(), &w).is_pending());
        assert_eq!(
            c.count(),
            0,
            "a withdrawn arrival must not complete the group"
        );
        let r = block_on(b.wait());
        assert!(r.is_leader());
        assert_eq!(
            poll_once(x.as_mut(), &w).map(|r| r.is_leader()),
            Poll::Ready(false)
        );
    }

    #[test]
    fn barrier_of_zero_acts_as_one() {
        assert!(block_on(Barrier::new(0).wait()).is_leader());
    }

    #[test]
    fn once_cell_set_and_get() {
        let c = OnceCell::new();
        assert!(!c.initialized());
        c.set(1).unwrap();
        let e = c.set(2).unwrap_err();
        assert!(e.is_already_init_err());
        assert_eq!(e.into_inner(), 2);
        assert_eq!(c.get(), Some(&1));
        assert_eq!(OnceCell::from(4).into_inner(), Some(4));
    }

    #[test]
    fn once_cell_initializes_once_under_contention() {
        let c = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (c, runs) = (c.clone(), runs.clone());
                spawn(async move {
                    *c.get_or_init(|| async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        yield_now().await;
                        i
                    })
                    .await
                })
            })
            .collect();
        let vals: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(vals.iter().all(|v| *v == vals[0]));
    }

    #[test]
    fn once_cell_failed_or_cancelled_init_lets_next_try() {
        let c = OnceCell::new();
        let r: Result<&u8, &str> = block_on(c.get_or_try_init(|| async { Err("no") }));
        assert_eq!(r, Err("no"));
        assert!(c.get().is_none());
        // Cancel an initializer mid-way, while another waits behind it.
        let (w, wc) = counting_waker();
        let mut first = boxed(c.get_or_init(std::future::pending::<u8>));
        assert!(poll_once(first.as_mut(), &w).is_pending());
        let mut second = boxed(c.get_or_init(|| async { 7 }));
        assert!(poll_once(second.as_mut(), &w).is_pending());
        assert!(c.set(1).unwrap_err().is_initializing_err());
        drop(first);
        assert!(wc.count() >= 1);
        assert_eq!(poll_once(second.as_mut(), &w), Poll::Ready(&7));
    }
}
