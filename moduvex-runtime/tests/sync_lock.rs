//! Mutex and RwLock: exclusion, FIFO fairness, cancellation, stress.
#![cfg(not(loom))]

mod sync_common;

mod sync_lock {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once, spawn, yield_now};
    use moduvex_runtime::sync::{Mutex, RwLock};
    use std::sync::Arc;
    use std::task::Poll;

    #[test]
    fn mutex_basic_and_try_lock() {
        let m = Mutex::new(0);
        {
            let mut g = block_on(m.lock());
            *g += 1;
            assert!(m.try_lock().is_err());
            assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
        }
        assert_eq!(*m.try_lock().unwrap(), 1);
        let _g = m.try_lock().unwrap();
        let err = m.try_lock().unwrap_err();
        assert_eq!(err.to_string(), "operation would block");
    }

    #[test]
    fn mutex_is_fifo_fair() {
        let m = Mutex::new(Vec::new());
        let guard = m.try_lock().unwrap();
        let (w, _) = counting_waker();
        let mut waiters: Vec<_> = (0..5)
            .map(|i| {
                let m = &m;
                Some(boxed(async move {
                    m.lock().await.push(i);
                }))
            })
            .collect();
        for f in waiters.iter_mut().flatten() {
            assert!(poll_once(f.as_mut(), &w).is_pending());
        }
        // A late try_lock may not barge in front of the queue.
        drop(guard);
        assert!(m.try_lock().is_err());
        // Poll newest first, repeatedly: completion order must still be FIFO.
        let mut order = Vec::new();
        while order.len() < 5 {
            for (i, slot) in waiters.iter_mut().enumerate().rev() {
                if let Some(f) = slot {
                    if poll_once(f.as_mut(), &w).is_ready() {
                        order.push(i);
                        *slot = None;
                    }
                }
            }
        }
        assert_eq!(order, [0, 1, 2, 3, 4]);
        assert_eq!(*m.try_lock().unwrap(), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn dropping_lock_waiter_that_was_handed_the_lock_passes_it_on() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let (w1, c1) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut a = boxed(m.lock());
        let mut b = boxed(m.lock());
        assert!(poll_once(a.as_mut(), &w1).is_pending());
        assert!(poll_once(b.as_mut(), &w2).is_pending());
        drop(g);
        assert_eq!((c1.count(), c2.count()), (1, 0));
        drop(a);
        assert_eq!(c2.count(), 1);
        assert!(poll_once(b.as_mut(), &w2).is_ready());
    }

    #[test]
    fn owned_guards() {
        let m = Arc::new(Mutex::new(1));
        let g = block_on(m.clone().lock_owned());
        assert!(m.clone().try_lock_owned().is_err());
        assert_eq!(*g, 1);
        drop(g);
        let mut g = m.clone().try_lock_owned().unwrap();
        *g = 2;
        drop(g);
        assert_eq!(*m.blocking_lock(), 2);
    }

    #[test]
    fn mutex_stress_counter_across_threads() {
        const THREADS: usize = 4;
        const ITERS: usize = 5_000;
        let m = Arc::new(Mutex::new(0usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let m = m.clone();
                spawn(async move {
                    for i in 0..ITERS {
                        let mut g = m.lock().await;
                        let v = *g;
                        if i % 64 == 0 {
                            // Hold the lock across a suspension point.
                            yield_now().await;
                        }
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), THREADS * ITERS);
    }

    #[test]
    fn rwlock_readers_share_writer_excludes() {
        let l = RwLock::new(1);
        let r1 = l.try_read().unwrap();
        let r2 = block_on(l.read());
        assert!(l.try_write().is_err());
        drop((r1, r2));
        let mut w = block_on(l.write());
        *w = 2;
        assert!(l.try_read().is_err());
        drop(w);
        assert_eq!(*l.try_read().unwrap(), 2);
    }

    #[test]
    fn rwlock_is_write_preferring_and_fair() {
        let l = RwLock::new(0);
        let r = l.try_read().unwrap();
        let (w, _) = counting_waker();
        let mut writer = boxed(l.write());
        assert!(poll_once(writer.as_mut(), &w).is_pending());
        // A reader arriving after a queued writer waits behind it.
        assert!(l.try_read().is_err());
        let mut late_reader = boxed(l.read());
        assert!(poll_once(late_reader.as_mut(), &w).is_pending());
        drop(r);
        assert!(poll_once(late_reader.as_mut(), &w).is_pending());
        let g = match poll_once(writer.as_mut(), &w) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("writer should hold the lock"),
        };
        drop(g);
        assert!(poll_once(late_reader.as_mut(), &w).is_ready());
    }

    #[test]
    fn dropping_queued_writer_releases_collected_read_permits() {
        let l = RwLock::with_max_readers((), 4);
        let r = l.try_read().unwrap();
        let (w, _) = counting_waker();
        let (wr, cr) = counting_waker();
        let mut writer = boxed(l.write()); // collects 3 of 4 permits
        assert!(poll_once(writer.as_mut(), &w).is_pending());
        let mut reader = boxed(l.read());
        assert!(poll_once(reader.as_mut(), &wr).is_pending());
        drop(writer);
        assert_eq!(cr.count(), 1);
        assert!(poll_once(reader.as_mut(), &wr).is_ready());
        drop(reader);
        drop(r);
        assert!(l.try_write().is_ok());
    }

    #[test]
    fn rwlock_downgrade_and_owned() {
        let l = Arc::new(RwLock::new(5));
        let w = block_on(l.clone().write_owned());
        let r = w.downgrade();
        assert!(l.try_read().is_ok());
        assert!(l.try_write().is_err());
        drop(r);
        let w = block_on(l.write());
        let r = w.downgrade();
        assert_eq!(*r, 5);
        drop(r);
        let r = block_on(l.clone().read_owned());
        assert_eq!(*r, 5);
        drop(r);
        assert!(l.try_write().is_ok());
    }

    #[test]
    fn rwlock_stress_invariant() {
        // Writers keep the two halves equal; readers must never see them differ.
        let l = Arc::new(RwLock::new((0u64, 0u64)));
        let mut handles = Vec::new();
        for t in 0..4 {
            let l = l.clone();
            handles.push(spawn(async move {
                for i in 0..3_000u64 {
                    if (i + t) % 4 == 0 {
                        let mut g = l.write().await;
                        g.0 += 1;
                        yield_now().await;
                        g.1 += 1;
                    } else {
                        let g = l.read().await;
                        assert_eq!(g.0, g.1);
                    }
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        let g = l.try_read().unwrap();
        assert_eq!(g.0, 3_000);
        assert_eq!(g.0, g.1);
    }

    #[test]
    fn a_mapped_guard_keeps_the_lock_until_dropped() {
        use moduvex_runtime::sync::{MappedMutexGuard, MutexGuard};
        let m = Mutex::new((1u32, vec![1u32]));
        let guard = block_on(m.lock());
        let v = MutexGuard::map(guard, |pair| &mut pair.1);
        let mut first = MappedMutexGuard::map(v, |v| &mut v[0]);
        *first += 10;
        assert!(m.try_lock().is_err());
        drop(first);
        assert_eq!(m.try_lock().unwrap().1, vec![11]);
    }

    #[test]
    fn try_map_gives_the_guard_back_when_there_is_nothing_to_map() {
        use moduvex_runtime::sync::MutexGuard;
        let m = Mutex::new(vec![0u32; 0]);
        let guard = block_on(m.lock());
        let guard = MutexGuard::try_map(guard, |v| v.first_mut()).unwrap_err();
        assert!(m.try_lock().is_err(), "still locked by the returned guard");
        drop(guard);
        assert!(m.try_lock().is_ok());
    }

    #[test]
    fn a_panic_inside_map_unlocks() {
        use moduvex_runtime::sync::MutexGuard;
        let m = Mutex::new(5u32);
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let guard = m.try_lock().unwrap();
            let _mapped = MutexGuard::map(guard, |_v: &mut u32| -> &mut u32 { panic!("boom") });
        }));
        assert!(res.is_err());
        assert!(
            m.try_lock().is_ok(),
            "the lock was released while unwinding"
        );
    }

    #[test]
    fn a_waiter_gets_the_lock_when_a_mapped_guard_drops() {
        use moduvex_runtime::sync::MutexGuard;
        let m = Mutex::new(0u32);
        let (w, c) = counting_waker();
        let mapped = MutexGuard::map(m.try_lock().unwrap(), |v| v);
        let mut waiter = boxed(m.lock());
        assert!(poll_once(waiter.as_mut(), &w).is_pending());
        drop(mapped);
        assert_eq!(c.count(), 1, "the queued locker was woken");
        assert!(poll_once(waiter.as_mut(), &w).is_ready());
    }
}
