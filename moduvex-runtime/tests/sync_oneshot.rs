//! oneshot: delivery, closing from either side, wake-ups, threads.
#![cfg(not(loom))]

mod sync_common;

mod sync_oneshot {
    use super::sync_common::{block_on, boxed, counting_waker, poll_once};
    use moduvex_runtime::sync::oneshot::{self, error::TryRecvError};
    use std::task::Poll;

    #[test]
    fn dropped_receiver_lets_go_of_its_waker() {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (w, c) = counting_waker();
        assert!(poll_once(std::pin::Pin::new(&mut rx), &w).is_pending());
        drop(rx);
        // Only our own clone is left, and the sender's drop wakes nobody.
        assert_eq!(std::sync::Arc::strong_count(&c), 2);
        drop(tx);
        assert_eq!(c.count(), 0);
    }

    #[test]
    fn send_then_await() {
        let (tx, rx) = oneshot::channel();
        tx.send("hi").unwrap();
        assert_eq!(block_on(rx), Ok("hi"));
    }

    #[test]
    fn await_wakes_on_send_once() {
        let (tx, mut rx) = oneshot::channel();
        let (w, c) = counting_waker();
        assert!(poll_once(std::pin::Pin::new(&mut rx), &w).is_pending());
        tx.send(1).unwrap();
        assert_eq!(c.count(), 1);
        assert_eq!(
            poll_once(std::pin::Pin::new(&mut rx), &w),
            Poll::Ready(Ok(1))
        );
    }

    #[test]
    fn dropped_sender_is_an_error() {
        let (tx, mut rx) = oneshot::channel::<u8>();
        let (w, c) = counting_waker();
        assert!(poll_once(std::pin::Pin::new(&mut rx), &w).is_pending());
        drop(tx);
        assert_eq!(c.count(), 1);
        let err = block_on(rx).unwrap_err();
        assert_eq!(err.to_string(), "channel closed");
    }

    #[test]
    fn try_recv_states() {
        let (tx, mut rx) = oneshot::channel();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send(3).unwrap();
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn close_refuses_later_send_and_wakes_closed() {
        let (mut tx, mut rx) = oneshot::channel();
        let (w, c) = counting_waker();
        {
            let mut closed = boxed(tx.closed());
            assert!(poll_once(closed.as_mut(), &w).is_pending());
            rx.close();
            assert_eq!(c.count(), 1);
            assert!(poll_once(closed.as_mut(), &w).is_ready());
        }
        assert!(tx.is_closed());
        assert_eq!(tx.send(5), Err(5));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn value_sent_before_close_can_still_be_taken() {
        let (tx, mut rx) = oneshot::channel();
        tx.send(8).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(8));
    }

    #[test]
    fn dropped_receiver_hands_value_back() {
        let (tx, rx) = oneshot::channel();
        drop(rx);
        assert_eq!(tx.send(vec![1]), Err(vec![1]));
    }

    #[test]
    fn drop_while_waiting_then_sender_still_works() {
        let (tx, rx) = oneshot::channel::<u8>();
        let (w, _) = counting_waker();
        let mut rx = boxed(rx);
        assert!(poll_once(rx.as_mut(), &w).is_pending());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
    }

    #[test]
    fn across_threads_many_times() {
        let mut sum = 0u64;
        for i in 0..2_000u64 {
            let (tx, rx) = oneshot::channel();
            let h = std::thread::spawn(move || tx.send(i).unwrap());
            sum += rx.blocking_recv().unwrap();
            h.join().unwrap();
        }
        assert_eq!(sum, 2_000 * 1_999 / 2);
    }
}
