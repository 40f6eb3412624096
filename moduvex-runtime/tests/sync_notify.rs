//! Notify: stored permit, notify_waiters, FIFO, cancellation hand-off.
#![cfg(not(loom))]

mod sync_common;

mod sync_notify {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once};
    use moduvex_runtime::sync::Notify;
    use std::pin::pin;
    use std::sync::Arc;

    #[test]
    fn notify_one_before_wait_is_stored_once() {
        let n = Notify::new();
        n.notify_one();
        n.notify_one(); // does not accumulate
        block_on(n.notified());
        let (w, _) = counting_waker();
        let mut second = boxed(n.notified());
        assert!(poll_once(second.as_mut(), &w).is_pending());
    }

    #[test]
    fn notify_one_wakes_oldest_waiter() {
        let n = Notify::new();
        let (w1, c1) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut a = boxed(n.notified());
        let mut b = boxed(n.notified());
        assert!(poll_once(a.as_mut(), &w1).is_pending());
        assert!(poll_once(b.as_mut(), &w2).is_pending());
        n.notify_one();
        assert_eq!((c1.count(), c2.count()), (1, 0));
        assert!(poll_once(b.as_mut(), &w2).is_pending());
        assert!(poll_once(a.as_mut(), &w1).is_ready());
    }

    #[test]
    fn notify_waiters_wakes_all_and_stores_nothing() {
        let n = Notify::new();
        let (w, c) = counting_waker();
        let mut fs: Vec<_> = (0..3).map(|_| boxed(n.notified())).collect();
        for f in &mut fs {
            assert!(poll_once(f.as_mut(), &w).is_pending());
        }
        // Created before the call but never polled: still counts.
        let mut unpolled = boxed(n.notified());
        n.notify_waiters();
        assert_eq!(c.count(), 3);
        for f in &mut fs {
            assert!(poll_once(f.as_mut(), &w).is_ready());
        }
        assert!(poll_once(unpolled.as_mut(), &w).is_ready());
        let mut later = boxed(n.notified());
        assert!(poll_once(later.as_mut(), &w).is_pending());
    }

    #[test]
    fn dropped_notified_passes_notify_one_on() {
        let n = Notify::new();
        let (w1, _) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut a = boxed(n.notified());
        let mut b = boxed(n.notified());
        assert!(poll_once(a.as_mut(), &w1).is_pending());
        assert!(poll_once(b.as_mut(), &w2).is_pending());
        n.notify_one();
        drop(a);
        assert_eq!(c2.count(), 1);
        assert!(poll_once(b.as_mut(), &w2).is_ready());
    }

    #[test]
    fn dropped_notified_with_no_other_waiter_restores_permit() {
        let n = Notify::new();
        let (w, _) = counting_waker();
        let mut a = boxed(n.notified());
        assert!(poll_once(a.as_mut(), &w).is_pending());
        n.notify_one();
        drop(a);
        block_on(n.notified()); // completes from the stored permit
    }

    #[test]
    fn enable_registers_and_keeps_notification_on_drop() {
        let n = Notify::new();
        {
            let mut a = pin!(n.notified());
            assert!(!a.as_mut().enable());
            n.notify_one();
            assert!(a.as_mut().enable());
        } // dropped unpolled: the notification must survive
        block_on(n.notified());
    }

    #[test]
    fn ping_pong_across_threads() {
        let a = Arc::new(Notify::new());
        let b = Arc::new(Notify::new());
        let (a2, b2) = (a.clone(), b.clone());
        let h = std::thread::spawn(move || {
            for _ in 0..2_000 {
                block_on(a2.notified());
                b2.notify_one();
            }
        });
        for _ in 0..2_000 {
            a.notify_one();
            block_on(b.notified());
        }
        h.join().unwrap();
    }

    #[test]
    fn notify_last_wakes_the_newest_waiter() {
        let n = Notify::new();
        let (w1, c1) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut a = boxed(n.notified());
        let mut b = boxed(n.notified());
        assert!(poll_once(a.as_mut(), &w1).is_pending());
        assert!(poll_once(b.as_mut(), &w2).is_pending());
        n.notify_last();
        assert_eq!((c1.count(), c2.count()), (0, 1));
        assert!(poll_once(a.as_mut(), &w1).is_pending());
        assert!(poll_once(b.as_mut(), &w2).is_ready());
    }

    #[test]
    fn notify_last_with_nobody_waiting_stores_the_permit() {
        let n = Notify::new();
        n.notify_last();
        block_on(n.notified());
        let (w, _) = counting_waker();
        let mut next = boxed(n.notified());
        assert!(poll_once(next.as_mut(), &w).is_pending());
    }

    #[test]
    fn dropped_notified_passes_notify_last_to_the_next_newest() {
        let n = Notify::new();
        let (w, _) = counting_waker();
        let (w_mid, c_mid) = counting_waker();
        let mut old = boxed(n.notified());
        let mut mid = boxed(n.notified());
        let mut new = boxed(n.notified());
        assert!(poll_once(old.as_mut(), &w).is_pending());
        assert!(poll_once(mid.as_mut(), &w_mid).is_pending());
        assert!(poll_once(new.as_mut(), &w).is_pending());
        n.notify_last();
        drop(new);
        assert_eq!(c_mid.count(), 1, "passed on to the next newest");
        assert!(poll_once(mid.as_mut(), &w_mid).is_ready());
        assert!(poll_once(old.as_mut(), &w).is_pending());
    }
}
