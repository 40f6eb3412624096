//! mpsc channels: ordering, closing, capacity, cancellation and stress.
#![cfg(not(loom))]

mod sync_common;

mod sync_mpsc {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once, spawn};
    use moduvex_runtime::sync::mpsc::{
        self,
        error::{SendError, TryRecvError, TrySendError},
    };
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Poll;

    #[test]
    fn bounded_fifo_and_close_on_last_sender() {
        let (tx, mut rx) = mpsc::channel(4);
        let tx2 = tx.clone();
        block_on(async {
            tx.send(1).await.unwrap();
            tx2.send(2).await.unwrap();
            drop(tx);
            drop(tx2);
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None);
        });
    }

    #[test]
    fn unbounded_basic() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..100 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 100);
        drop(tx);
        let got: Vec<i32> = block_on(async {
            let mut v = Vec::new();
            while let Some(x) = rx.recv().await {
                v.push(x);
            }
            v
        });
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn try_send_full_and_closed_hand_value_back() {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        assert_eq!(tx.capacity(), 0);
        assert_eq!(tx.max_capacity(), 1);
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        rx.close();
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
        assert_eq!(block_on(tx.send(4)), Err(SendError(4)));
        // Queued messages survive close.
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn unbounded_send_after_receiver_drop_fails() {
        let (tx, rx) = mpsc::unbounded_channel();
        drop(rx);
        let err = tx.send(String::from("v")).unwrap_err();
        assert_eq!(err.0, "v");
        assert_eq!(err.to_string(), "channel closed");
        assert_eq!(format!("{err:?}"), "SendError { .. }");
    }

    #[test]
    fn try_recv_empty_then_disconnected() {
        let (tx, mut rx) = mpsc::channel::<u8>(2);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    #[should_panic(expected = "buffer > 0")]
    fn zero_capacity_panics() {
        let _ = mpsc::channel::<()>(0);
    }

    #[test]
    fn recv_wakes_exactly_on_send() {
        let (tx, mut rx) = mpsc::channel(2);
        let (waker, count) = counting_waker();
        let mut fut = boxed(rx.recv());
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        tx.try_send(7).unwrap();
        assert_eq!(count.count(), 1);
        assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(Some(7)));
    }

    #[test]
    fn blocked_sender_wakes_when_slot_frees() {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let (waker, count) = counting_waker();
        let mut send = boxed(tx.send(2));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(count.count(), 1);
        assert_eq!(poll_once(send.as_mut(), &waker), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(2));
    }

    #[test]
    fn blocked_senders_are_served_fifo() {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let (waker, _) = counting_waker();
        let mut sends: Vec<_> = (1..=3).map(|i| boxed(tx.send(i))).collect();
        for s in &mut sends {
            assert!(poll_once(s.as_mut(), &waker).is_pending());
        }
        // A newcomer cannot jump the queue.
        assert!(matches!(tx.try_send(99), Err(TrySendError::Full(99))));
        let mut sends: Vec<_> = sends.into_iter().map(Some).collect();
        let mut completed = Vec::new();
        for expect in 0..3 {
            assert_eq!(rx.try_recv(), Ok(expect));
            // Poll in reverse: only the oldest sender may complete.
            for (i, slot) in sends.iter_mut().enumerate().rev() {
                if let Some(s) = slot {
                    if poll_once(s.as_mut(), &waker).is_ready() {
                        completed.push(i);
                        *slot = None;
                    }
                }
            }
        }
        assert_eq!(completed, [0, 1, 2]);
        assert_eq!(rx.try_recv(), Ok(3));
    }

    #[test]
    fn dropping_granted_send_passes_slot_on() {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let (w1, c1) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut first = boxed(tx.send(1));
        let mut second = boxed(tx.send(2));
        assert!(poll_once(first.as_mut(), &w1).is_pending());
        assert!(poll_once(second.as_mut(), &w2).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // slot handed to `first`
        assert_eq!((c1.count(), c2.count()), (1, 0));
        drop(first); // never polled again: its slot must reach `second`
        assert_eq!(c2.count(), 1);
        assert_eq!(poll_once(second.as_mut(), &w2), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn dropping_waiting_reserve_loses_nothing() {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let held = tx.try_reserve().unwrap();
        let (w, _) = counting_waker();
        let (w2, c2) = counting_waker();
        let mut r1 = boxed(tx.reserve());
        let mut r2 = boxed(tx.reserve());
        assert!(poll_once(r1.as_mut(), &w).is_pending());
        assert!(poll_once(r2.as_mut(), &w2).is_pending());
        drop(held); // slot goes to r1
        drop(r1); // and on to r2
        assert_eq!(c2.count(), 1);
        match poll_once(r2.as_mut(), &w2) {
            Poll::Ready(Ok(permit)) => permit.send(5),
            other => panic!("reserve not ready: {:?}", other.is_ready()),
        }
        drop(r2);
        assert_eq!(rx.try_recv(), Ok(5));
        assert_eq!(tx.capacity(), 1);
    }

    #[test]
    fn dropping_waiting_recv_loses_no_message() {
        let (tx, mut rx) = mpsc::channel(2);
        let (w, count) = counting_waker();
        {
            let mut fut = boxed(rx.recv());
            assert!(poll_once(fut.as_mut(), &w).is_pending());
            tx.try_send(1).unwrap();
            assert_eq!(count.count(), 1);
        } // woken but dropped before taking the message
        assert_eq!(rx.try_recv(), Ok(1));
    }

    #[test]
    fn close_waits_for_outstanding_permits() {
        let (tx, mut rx) = mpsc::channel(2);
        let permit = tx.try_reserve().unwrap();
        rx.close();
        assert!(tx.try_send(1).is_err());
        let (w, count) = counting_waker();
        let mut fut = boxed(rx.recv());
        assert!(poll_once(fut.as_mut(), &w).is_pending());
        permit.send(9);
        assert_eq!(count.count(), 1);
        assert_eq!(poll_once(fut.as_mut(), &w), Poll::Ready(Some(9)));
        drop(fut);
        assert_eq!(block_on(rx.recv()), None);
    }

    #[test]
    fn close_then_dropped_permit_ends_stream() {
        let (tx, mut rx) = mpsc::channel::<u8>(2);
        let permit = tx.try_reserve().unwrap();
        rx.close();
        let (w, count) = counting_waker();
        let mut fut = boxed(rx.recv());
        assert!(poll_once(fut.as_mut(), &w).is_pending());
        drop(permit);
        assert_eq!(count.count(), 1);
        assert_eq!(poll_once(fut.as_mut(), &w), Poll::Ready(None));
    }

    #[test]
    fn closing_fails_waiting_senders_with_their_value() {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let (w, count) = counting_waker();
        let mut send = boxed(tx.send(2));
        assert!(poll_once(send.as_mut(), &w).is_pending());
        rx.close();
        assert_eq!(count.count(), 1);
        assert_eq!(poll_once(send.as_mut(), &w), Poll::Ready(Err(SendError(2))));
    }

    #[test]
    fn sender_closed_future() {
        let (tx, rx) = mpsc::channel::<()>(1);
        let (w, count) = counting_waker();
        let mut closed = boxed(tx.closed());
        assert!(poll_once(closed.as_mut(), &w).is_pending());
        drop(rx);
        assert_eq!(count.count(), 1);
        assert!(poll_once(closed.as_mut(), &w).is_ready());
        let (utx, mut urx) = mpsc::unbounded_channel::<()>();
        urx.close();
        block_on(utx.closed());
    }

    #[test]
    fn recv_many_respects_limit() {
        let (tx, mut rx) = mpsc::channel(8);
        for i in 0..5 {
            tx.try_send(i).unwrap();
        }
        let mut buf = Vec::new();
        assert_eq!(block_on(rx.recv_many(&mut buf, 3)), 3);
        assert_eq!(block_on(rx.recv_many(&mut buf, 0)), 0);
        assert_eq!(block_on(rx.recv_many(&mut buf, 10)), 2);
        assert_eq!(buf, [0, 1, 2, 3, 4]);
        assert_eq!(tx.capacity(), 8);
        drop(tx);
        assert_eq!(block_on(rx.recv_many(&mut buf, 10)), 0);
    }

    #[test]
    fn owned_permit_round_trip() {
        let (tx, mut rx) = mpsc::channel(1);
        let permit = block_on(tx.reserve_owned()).unwrap();
        let tx = permit.send(3);
        assert_eq!(rx.try_recv(), Ok(3));
        let permit = tx.try_reserve_owned().unwrap();
        let tx = permit.release();
        assert_eq!(tx.capacity(), 1);
    }

    #[test]
    fn stream_impl_yields_all() {
        use futures_core::Stream;
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        drop(tx);
        let (w, _) = counting_waker();
        let mut cx = std::task::Context::from_waker(&w);
        let mut rx = std::pin::Pin::new(&mut rx);
        assert_eq!(rx.as_mut().poll_next(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(rx.as_mut().poll_next(&mut cx), Poll::Ready(None));
    }

    /// Dropping queued messages must happen outside the channel lock: here a
    /// message owns a sender of its own channel.
    #[test]
    fn message_holding_own_sender_drops_without_deadlock() {
        struct Msg(#[allow(dead_code)] mpsc::UnboundedSender<Msg>);
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(Msg(tx.clone())).unwrap();
        drop(tx);
        drop(rx);
        let (btx, brx) = mpsc::channel(2);
        struct BMsg(#[allow(dead_code)] mpsc::Sender<BMsg>);
        btx.try_send(BMsg(btx.clone())).unwrap();
        drop(btx);
        drop(brx);
    }

    #[test]
    fn blocking_api_across_threads() {
        let (tx, mut rx) = mpsc::channel(1);
        let h = std::thread::spawn(move || {
            for i in 0..100u32 {
                tx.blocking_send(i).unwrap();
            }
        });
        let mut sum = 0;
        while let Some(v) = rx.blocking_recv() {
            sum += v;
        }
        h.join().unwrap();
        assert_eq!(sum, (0..100).sum());
    }

    #[test]
    fn stress_bounded_many_producers_checksum() {
        const PRODUCERS: u64 = 4;
        const PER: u64 = 20_000;
        let (tx, mut rx) = mpsc::channel::<u64>(16);
        let handles: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                spawn(async move {
                    for i in 0..PER {
                        tx.send(p * PER + i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let (count, sum, ordered) = block_on(async {
            let mut last = vec![None::<u64>; PRODUCERS as usize];
            let (mut count, mut sum, mut ordered) = (0u64, 0u64, true);
            while let Some(v) = rx.recv().await {
                let p = (v / PER) as usize;
                ordered &= !matches!(last[p], Some(l) if l >= v);
                last[p] = Some(v);
                count += 1;
                sum += v;
            }
            (count, sum, ordered)
        });
        for h in handles {
            h.join().unwrap();
        }
        let n = PRODUCERS * PER;
        assert_eq!(count, n);
        assert_eq!(sum, n * (n - 1) / 2);
        assert!(ordered, "per-producer order must be preserved");
    }

    #[test]
    fn stress_unbounded_and_recv_many_checksum() {
        const PRODUCERS: u64 = 3;
        const PER: u64 = 30_000;
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let handles: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..PER {
                        tx.send(p * PER + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let sum = block_on(async {
            let mut buf = Vec::with_capacity(64);
            let mut sum = 0u64;
            let mut count = 0u64;
            loop {
                buf.clear();
                if rx.recv_many(&mut buf, 64).await == 0 {
                    break;
                }
                count += buf.len() as u64;
                sum += buf.iter().sum::<u64>();
            }
            assert_eq!(count, PRODUCERS * PER);
            sum
        });
        for h in handles {
            h.join().unwrap();
        }
        let n = PRODUCERS * PER;
        assert_eq!(sum, n * (n - 1) / 2);
    }

    #[test]
    fn stress_cancelled_reserves_never_leak_slots() {
        // Senders race reserve() against a receiver; half of the reserve
        // futures are dropped right after their first poll. At the end every
        // slot must be free again.
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let sent = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let tx = tx.clone();
                let sent = sent.clone();
                std::thread::spawn(move || {
                    let (w, _) = counting_waker();
                    for i in 0..2_000u32 {
                        if i % 2 == 0 {
                            let mut fut = boxed(tx.reserve());
                            if let Poll::Ready(Ok(p)) = poll_once(fut.as_mut(), &w) {
                                p.send(1);
                                sent.fetch_add(1, Ordering::SeqCst);
                            }
                        } else {
                            block_on(tx.send(1)).unwrap();
                            sent.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        let cap_tx = tx.clone();
        drop(tx);
        let mut got = 0usize;
        let done = std::thread::spawn(move || {
            for h in handles {
                h.join().unwrap();
            }
            drop(cap_tx);
        });
        while block_on(rx.recv()).is_some() {
            got += 1;
        }
        done.join().unwrap();
        assert_eq!(got, sent.load(Ordering::SeqCst));
        assert_eq!(rx.capacity(), 2);
    }

    #[test]
    fn weak_sender_upgrades_while_a_sender_lives() {
        let (tx, mut rx) = mpsc::channel::<u32>(4);
        let weak = tx.downgrade();
        let tx2 = weak.upgrade().expect("a sender is alive");
        drop(tx);
        block_on(tx2.send(7)).unwrap();
        assert_eq!(block_on(rx.recv()), Some(7));
        drop(tx2);
        assert!(weak.upgrade().is_none(), "closed for good");
        assert_eq!(block_on(rx.recv()), None);
    }

    #[test]
    fn weak_sender_does_not_keep_the_channel_open() {
        let (tx, mut rx) = mpsc::channel::<u32>(4);
        let weak = tx.downgrade();
        let weak2 = weak.clone();
        drop(tx);
        assert_eq!(block_on(rx.recv()), None);
        assert!(weak2.upgrade().is_none());
        drop(weak);
    }

    #[test]
    fn weak_unbounded_sender_follows_the_same_rules() {
        let (tx, mut rx) = moduvex_runtime::sync::mpsc::unbounded_channel::<u32>();
        let weak = tx.downgrade();
        weak.upgrade().unwrap().send(1).unwrap();
        drop(tx);
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
        assert!(weak.upgrade().is_none());
    }
}
