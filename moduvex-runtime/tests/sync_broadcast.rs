//! broadcast: fan-out, lagging, closing, cancellation, stress.
#![cfg(not(loom))]

mod sync_common;

mod sync_broadcast {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once, spawn};
    use moduvex_runtime::sync::broadcast::{self, error::RecvError, error::TryRecvError};
    use std::sync::Arc;
    use std::task::Poll;

    #[test]
    fn every_receiver_sees_every_value() {
        let (tx, mut a) = broadcast::channel(8);
        let mut b = tx.subscribe();
        assert_eq!(tx.send(1).unwrap(), 2);
        tx.send(2).unwrap();
        assert_eq!(block_on(a.recv()), Ok(1));
        assert_eq!(block_on(a.recv()), Ok(2));
        assert_eq!(b.try_recv(), Ok(1));
        assert_eq!(b.try_recv(), Ok(2));
        assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
        assert!(tx.is_empty());
    }

    #[test]
    fn subscriber_only_sees_later_values() {
        let (tx, _keep) = broadcast::channel(4);
        tx.send(1).unwrap();
        let mut late = tx.subscribe();
        tx.send(2).unwrap();
        assert_eq!(late.try_recv(), Ok(2));
        let mut re = late.resubscribe();
        assert_eq!(re.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn slow_receiver_lags_then_continues_from_oldest() {
        let (tx, mut rx) = broadcast::channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 5);
        assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(3)));
        assert_eq!(block_on(rx.recv()), Ok(3));
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(RecvError::Lagged(3).to_string(), "channel lagged by 3");
    }

    #[test]
    fn closed_after_draining() {
        let (tx, mut rx) = broadcast::channel(2);
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn send_without_receivers_hands_value_back() {
        let (tx, rx) = broadcast::channel(2);
        drop(rx);
        assert_eq!(tx.send(5).unwrap_err().0, 5);
    }

    #[test]
    #[should_panic(expected = "capacity > 0")]
    fn zero_capacity_panics() {
        let _ = broadcast::channel::<u8>(0);
    }

    #[test]
    fn recv_wakes_and_drop_while_waiting_is_harmless() {
        let (tx, mut a) = broadcast::channel(4);
        let mut b = tx.subscribe();
        let (w, c) = counting_waker();
        {
            let mut fut = boxed(a.recv());
            assert!(poll_once(fut.as_mut(), &w).is_pending());
        } // dropped while waiting
        let (wb, cb) = counting_waker();
        let mut fb = boxed(b.recv());
        assert!(poll_once(fb.as_mut(), &wb).is_pending());
        tx.send(9).unwrap();
        assert_eq!(c.count(), 0);
        assert_eq!(cb.count(), 1);
        assert_eq!(poll_once(fb.as_mut(), &wb), Poll::Ready(Ok(9)));
        drop(fb);
        assert_eq!(a.try_recv(), Ok(9)); // nothing lost for `a`
    }

    #[test]
    fn last_reader_releases_value() {
        let (tx, mut a) = broadcast::channel(4);
        let b = tx.subscribe();
        let v = Arc::new(());
        tx.send(v.clone()).unwrap();
        assert_eq!(Arc::strong_count(&v), 2);
        drop(a.try_recv().unwrap());
        assert_eq!(Arc::strong_count(&v), 2); // `b` has not read it yet
        drop(b);
        assert_eq!(Arc::strong_count(&v), 1);
    }

    #[test]
    fn stress_fan_out_checksum() {
        const N: u64 = 20_000;
        let (tx, rx) = broadcast::channel::<u64>(N as usize);
        let receivers: Vec<_> = (0..3)
            .map(|i| {
                if i == 0 {
                    rx.resubscribe()
                } else {
                    tx.subscribe()
                }
            })
            .collect();
        drop(rx);
        let handles: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                spawn(async move {
                    let mut sum = 0u64;
                    let mut count = 0u64;
                    loop {
                        match rx.recv().await {
                            Ok(v) => {
                                sum += v;
                                count += 1;
                            }
                            Err(RecvError::Closed) => return (count, sum),
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..N / 2 {
                        tx.send(p * (N / 2) + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for p in producers {
            p.join().unwrap();
        }
        for h in handles {
            assert_eq!(h.join().unwrap(), (N, N * (N - 1) / 2));
        }
    }
}
