//! Semaphore: permits, fairness of multi-permit waiters, closing,
//! cancellation and stress.
#![cfg(not(loom))]

mod sync_common;

mod sync_semaphore {
    use super::sync_common::{
        block_on, boxed, counting_waker, hang_guard, poll_once, spawn, yield_now,
    };
    use moduvex_runtime::sync::{AcquireError, Semaphore, TryAcquireError};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Poll;

    #[test]
    fn permits_release_on_drop_and_forget() {
        let s = Semaphore::new(3);
        let p = s.try_acquire_many(2).unwrap();
        assert_eq!(p.num_permits(), 2);
        assert_eq!(s.available_permits(), 1);
        assert_eq!(
            s.try_acquire_many(2).unwrap_err(),
            TryAcquireError::NoPermits
        );
        drop(p);
        assert_eq!(s.available_permits(), 3);
        block_on(s.acquire()).unwrap().forget();
        assert_eq!(s.available_permits(), 2);
        s.add_permits(5);
        assert_eq!(s.available_permits(), 7);
        assert_eq!(s.forget_permits(10), 7);
        assert_eq!(s.available_permits(), 0);
    }

    #[test]
    fn merge_permits() {
        let s = Semaphore::new(3);
        let mut a = s.try_acquire().unwrap();
        a.merge(s.try_acquire_many(2).unwrap());
        assert_eq!(a.num_permits(), 3);
        drop(a);
        assert_eq!(s.available_permits(), 3);
    }

    #[test]
    fn large_waiter_is_not_starved_by_small_ones() {
        let s = Semaphore::new(2);
        let held = s.try_acquire_many(2).unwrap();
        let (w, _) = counting_waker();
        let (wb, cb) = counting_waker();
        let mut big = boxed(s.acquire_many(2));
        assert!(poll_once(big.as_mut(), &wb).is_pending());
        let mut small = boxed(s.acquire());
        assert!(poll_once(small.as_mut(), &w).is_pending());
        drop(held);
        // Both permits go to the older, bigger request.
        assert_eq!(cb.count(), 1);
        assert!(poll_once(small.as_mut(), &w).is_pending());
        assert!(s.try_acquire().is_err());
        let big_permit = match poll_once(big.as_mut(), &wb) {
            Poll::Ready(p) => p.unwrap(),
            Poll::Pending => panic!("big waiter must be served first"),
        };
        drop(big_permit);
        assert!(poll_once(small.as_mut(), &w).is_ready());
    }

    #[test]
    fn dropping_partial_waiter_returns_its_permits() {
        let s = Semaphore::new(3);
        let held = s.try_acquire_many(2).unwrap();
        let (w, _) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut big = boxed(s.acquire_many(3)); // takes the 1 free permit
        assert!(poll_once(big.as_mut(), &w).is_pending());
        assert_eq!(s.available_permits(), 0);
        let mut small = boxed(s.acquire());
        assert!(poll_once(small.as_mut(), &w2).is_pending());
        drop(big);
        assert_eq!(c2.count(), 1);
        assert!(poll_once(small.as_mut(), &w2).is_ready());
        drop(small);
        drop(held);
        assert_eq!(s.available_permits(), 3);
    }

    #[test]
    fn dropping_granted_acquire_passes_permit_on() {
        let s = Semaphore::new(1);
        let held = s.try_acquire().unwrap();
        let (w1, c1) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut a = boxed(s.acquire());
        let mut b = boxed(s.acquire());
        assert!(poll_once(a.as_mut(), &w1).is_pending());
        assert!(poll_once(b.as_mut(), &w2).is_pending());
        drop(held);
        assert_eq!(c1.count(), 1);
        drop(a);
        assert_eq!(c2.count(), 1);
        assert!(poll_once(b.as_mut(), &w2).is_ready());
        drop(b);
        assert_eq!(s.available_permits(), 1);
    }

    #[test]
    fn zero_permits_complete_at_once_while_others_queue() {
        hang_guard("acquire of 0 permits behind a queued waiter", || {
            let s = Arc::new(Semaphore::new(1));
            let held = s.try_acquire().unwrap();
            let (w, c) = counting_waker();
            let mut queued = boxed(s.acquire_many(1));
            assert!(poll_once(queued.as_mut(), &w).is_pending());

            let mut zero = boxed(s.acquire_many(0));
            let Poll::Ready(Ok(p)) = poll_once(zero.as_mut(), &w) else {
                panic!("acquire_many(0) must complete at once");
            };
            assert_eq!(p.num_permits(), 0);
            drop(p);
            let p = block_on(Arc::clone(&s).acquire_many_owned(0)).unwrap();
            assert_eq!(p.num_permits(), 0);
            drop(p);
            assert_eq!(s.try_acquire_many(0).unwrap().num_permits(), 0);
            drop(Arc::clone(&s).try_acquire_many_owned(0).unwrap());

            // The queued waiter is neither woken nor overtaken.
            assert_eq!((c.count(), s.available_permits()), (0, 0));
            drop(held);
            assert_eq!(c.count(), 1);
            assert!(poll_once(queued.as_mut(), &w).is_ready());

            s.close();
            assert!(block_on(s.acquire_many(0)).is_err());
            assert_eq!(s.try_acquire_many(0).unwrap_err(), TryAcquireError::Closed);
        });
    }

    #[test]
    fn close_fails_waiters_and_new_acquires() {
        let s = Semaphore::new(1);
        let held = s.try_acquire().unwrap();
        let (w, c) = counting_waker();
        let mut waiting = boxed(s.acquire());
        assert!(poll_once(waiting.as_mut(), &w).is_pending());
        s.close();
        assert!(s.is_closed());
        assert_eq!(c.count(), 1);
        assert!(matches!(
            poll_once(waiting.as_mut(), &w),
            Poll::Ready(Err(AcquireError { .. }))
        ));
        assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
        assert!(block_on(s.acquire()).is_err());
        drop(held); // held permits stay valid and return fine
        assert_eq!(s.available_permits(), 1);
        let e = block_on(s.acquire()).unwrap_err();
        assert_eq!(e.to_string(), "semaphore closed");
        assert_eq!(
            TryAcquireError::NoPermits.to_string(),
            "no permits available"
        );
    }

    #[test]
    #[should_panic(expected = "MAX_PERMITS")]
    fn too_many_permits_panics() {
        let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
    }

    #[test]
    #[should_panic(expected = "MAX_PERMITS")]
    fn add_permits_overflow_panics() {
        let s = Semaphore::new(Semaphore::MAX_PERMITS);
        s.add_permits(1);
    }

    #[test]
    fn owned_permits() {
        let s = Arc::new(Semaphore::new(2));
        let a = block_on(s.clone().acquire_owned()).unwrap();
        let b = s.clone().try_acquire_many_owned(1).unwrap();
        assert!(s.clone().try_acquire_owned().is_err());
        assert!(Arc::ptr_eq(a.semaphore(), &s));
        drop((a, b));
        let c = block_on(s.clone().acquire_many_owned(2)).unwrap();
        assert_eq!(c.num_permits(), 2);
        drop(c);
        assert_eq!(s.available_permits(), 2);
    }

    #[test]
    fn stress_concurrency_limit_holds() {
        const LIMIT: usize = 3;
        let s = Arc::new(Semaphore::new(LIMIT));
        let inside = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..6)
            .map(|t| {
                let (s, inside, total) = (s.clone(), inside.clone(), total.clone());
                spawn(async move {
                    for i in 0..2_000 {
                        let n = 1 + (i + t) % 2;
                        let _p = s.acquire_many(n as u32).await.unwrap();
                        let now = inside.fetch_add(n, Ordering::SeqCst) + n;
                        assert!(now <= LIMIT, "{now} permits in use");
                        if i % 16 == 0 {
                            yield_now().await;
                        }
                        inside.fetch_sub(n, Ordering::SeqCst);
                        total.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), 12_000);
        assert_eq!(s.available_permits(), LIMIT);
    }
}
