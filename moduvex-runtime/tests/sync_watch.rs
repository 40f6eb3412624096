//! watch: latest value, change detection, closing, cancellation.
#![cfg(not(loom))]

mod sync_common;

mod sync_watch {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once, spawn};
    use moduvex_runtime::sync::watch;
    use std::task::Poll;

    #[test]
    fn borrow_and_changed() {
        let (tx, mut rx) = watch::channel(0);
        assert_eq!(*rx.borrow(), 0);
        assert!(!rx.has_changed().unwrap());
        tx.send(1).unwrap();
        assert!(rx.borrow().has_changed());
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
        tx.send_modify(|v| *v += 1);
        assert_eq!(*rx.borrow_and_update(), 2);
        assert!(!rx.has_changed().unwrap());
        assert_eq!(tx.send_replace(5), 2);
        assert!(!tx.send_if_modified(|_| false));
        assert_eq!(*tx.borrow(), 5);
    }

    #[test]
    fn changed_wakes_on_send_and_skips_to_latest() {
        let (tx, mut rx) = watch::channel(0);
        let (w, c) = counting_waker();
        {
            let mut fut = boxed(rx.changed());
            assert!(poll_once(fut.as_mut(), &w).is_pending());
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            assert_eq!(c.count(), 1);
            assert_eq!(poll_once(fut.as_mut(), &w), Poll::Ready(Ok(())));
        }
        assert_eq!(*rx.borrow(), 2);
    }

    #[test]
    fn dropped_changed_future_loses_no_change() {
        let (tx, mut rx) = watch::channel(0);
        let (w, _) = counting_waker();
        {
            let mut fut = boxed(rx.changed());
            assert!(poll_once(fut.as_mut(), &w).is_pending());
        }
        tx.send(3).unwrap();
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow(), 3);
    }

    #[test]
    fn sender_drop_ends_changed_after_last_value() {
        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        drop(tx);
        assert!(rx.has_changed().is_err());
        assert!(block_on(rx.changed()).is_ok()); // the unseen value first
        assert!(block_on(rx.changed()).is_err());
        assert_eq!(*rx.borrow(), 1);
    }

    #[test]
    fn send_without_receivers_fails_but_modify_works() {
        let (tx, rx) = watch::channel(0);
        let mut rx2 = rx.clone();
        assert_eq!(tx.receiver_count(), 2);
        drop(rx);
        drop(rx2.borrow_and_update());
        drop(rx2);
        assert!(tx.is_closed());
        assert_eq!(tx.send(4).unwrap_err().0, 4);
        tx.send_modify(|v| *v = 6);
        assert_eq!(*tx.borrow(), 6);
        let mut rx3 = tx.subscribe();
        assert!(!rx3.has_changed().unwrap());
        rx3.mark_changed();
        block_on(rx3.changed()).unwrap();
    }

    #[test]
    fn sender_closed_future() {
        let (tx, rx) = watch::channel(());
        let (w, c) = counting_waker();
        let mut fut = boxed(tx.closed());
        assert!(poll_once(fut.as_mut(), &w).is_pending());
        drop(rx);
        assert_eq!(c.count(), 1);
        assert!(poll_once(fut.as_mut(), &w).is_ready());
    }

    #[test]
    fn stress_receiver_sees_final_value() {
        let (tx, rx) = watch::channel(0u64);
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.clone();
                spawn(async move {
                    let mut last = 0;
                    while rx.changed().await.is_ok() {
                        let v = *rx.borrow_and_update();
                        assert!(v >= last, "values only grow");
                        last = v;
                    }
                    last
                })
            })
            .collect();
        drop(rx);
        for i in 1..=10_000 {
            tx.send(i).unwrap();
        }
        drop(tx);
        for h in handles {
            assert_eq!(h.join().unwrap(), 10_000);
        }
    }
}

mod sync_watch_wait_for {
    use super::sync_common::{block_on, spawn};
    use moduvex_runtime::sync::watch;

    #[test]
    fn wait_for_returns_matching_value() {
        let (tx, mut rx) = watch::channel(0u32);
        let h = spawn(async move {
            for i in 1..=50 {
                tx.send(i).unwrap();
            }
            tx
        });
        let v = block_on(async { *rx.wait_for(|v| *v == 50).await.unwrap() });
        assert_eq!(v, 50);
        drop(h.join().unwrap());
        assert!(block_on(rx.wait_for(|v| *v == 0)).is_err());
    }
}
