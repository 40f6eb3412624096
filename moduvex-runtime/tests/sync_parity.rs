//! tokio's mpsc and oneshot API on our channels: `reserve_many` (also
//! under contention and with bad counts), `send_timeout`, sender counts,
//! `Receiver::is_closed` once the senders are gone, `recv_many`, and the
//! oneshot receiver's `is_empty` / `is_terminated` and its panic when
//! polled after completion.
#![cfg(not(loom))]

mod sync_common;

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use moduvex_runtime::sync::mpsc::error::{SendTimeoutError, TrySendError};
use moduvex_runtime::sync::{mpsc, oneshot};
use moduvex_runtime::{Flavor, Runtime};
use sync_common::{counting_waker, hang_guard, poll_once};

#[test]
fn reserve_many_hands_out_n_permits_and_returns_the_unused() {
    moduvex_runtime::block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(4);
        let mut permits = tx.reserve_many(3).await.unwrap();
        assert_eq!(permits.len(), 3);
        assert_eq!(tx.capacity(), 1);
        permits.next().unwrap().send(1);
        permits.next().unwrap().send(2);
        assert_eq!(permits.len(), 1);
        // The permit left in the iterator goes back when it is dropped.
        drop(permits);
        assert_eq!(tx.capacity(), 2);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(tx.capacity(), 4);

        let permits = tx.try_reserve_many(4).unwrap();
        assert!(matches!(
            tx.try_reserve_many(1),
            Err(TrySendError::Full(()))
        ));
        for (i, p) in permits.enumerate() {
            p.send(i as u32);
        }
        assert_eq!(rx.len(), 4);
    });
}

#[test]
fn reserve_many_bad_counts_give_tokios_results() {
    moduvex_runtime::block_on(async {
        let (tx, rx) = mpsc::channel::<u8>(2);
        // Zero: at once, an empty iterator, nothing taken.
        let none = tx.reserve_many(0).await.unwrap();
        assert_eq!(none.len(), 0);
        assert_eq!(tx.try_reserve_many(0).unwrap().count(), 0);
        assert_eq!(tx.capacity(), 2);
        // More than the capacity can never be met: an error, not a hang.
        assert!(tx.reserve_many(3).await.is_err());
        assert!(matches!(
            tx.try_reserve_many(3),
            Err(TrySendError::Full(()))
        ));
        assert_eq!(tx.capacity(), 2);
        drop(none);
        drop(rx);
        assert!(tx.reserve_many(1).await.is_err());
        assert!(matches!(
            tx.try_reserve_many(1),
            Err(TrySendError::Closed(()))
        ));
    });
}

#[test]
fn a_sender_reserving_many_is_not_overtaken_by_later_senders() {
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let (waker, woken) = counting_waker();
    let mut many = pin!(tx.reserve_many(2));
    let mut one = pin!(tx.reserve());
    assert!(poll_once(many.as_mut(), &waker).is_pending());
    assert!(poll_once(one.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    // The freed slot goes to the earlier, larger request.
    assert!(poll_once(one.as_mut(), &waker).is_pending());
    assert!(poll_once(many.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(woken.count() >= 1);
    let Poll::Ready(Ok(permits)) = poll_once(many.as_mut(), &waker) else {
        panic!("both freed slots went to reserve_many(2)");
    };
    assert_eq!(permits.len(), 2);
    assert!(poll_once(one.as_mut(), &waker).is_pending());
    drop(permits);
    assert!(matches!(
        poll_once(one.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
}

/// Several senders reserve batches while one receiver drains; every value
/// arrives exactly once.
async fn contended_reserve_many(
    spawn: impl Fn(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
) {
    const SENDERS: u32 = 4;
    const BATCHES: u32 = 50;
    let (tx, mut rx) = mpsc::channel::<(u32, u32)>(5);
    for s in 0..SENDERS {
        let tx = tx.clone();
        spawn(Box::pin(async move {
            let mut seq = 0;
            for b in 0..BATCHES {
                let n = 1 + (s + b) as usize % 5;
                for permit in tx.reserve_many(n).await.unwrap() {
                    permit.send((s, seq));
                    seq += 1;
                }
                moduvex_runtime::yield_now().await;
            }
        }));
    }
    drop(tx);
    let mut seen = HashSet::new();
    let mut buf = Vec::new();
    while rx.recv_many(&mut buf, 3).await > 0 {
        for v in buf.drain(..) {
            assert!(seen.insert(v), "{v:?} arrived twice");
        }
    }
    let expected: usize = (0..SENDERS)
        .map(|s| {
            (0..BATCHES)
                .map(|b| 1 + (s + b) as usize % 5)
                .sum::<usize>()
        })
        .sum();
    assert_eq!(seen.len(), expected, "some values never arrived");
}

#[test]
fn reserve_many_under_contention_delivers_every_value_once() {
    hang_guard("reserve_many contention, current thread", || {
        moduvex_runtime::block_on(contended_reserve_many(|f| {
            moduvex_runtime::spawn(f);
        }))
    });
    hang_guard("reserve_many contention, two workers", || {
        let rt = Arc::new(
            Runtime::builder()
                .flavor(Flavor::WorkStealing)
                .worker_threads(2)
                .build()
                .unwrap(),
        );
        let rt2 = Arc::clone(&rt);
        rt.block_on(contended_reserve_many(move |f| {
            rt2.spawn(f);
        }))
    });
}

#[test]
fn send_timeout_gives_the_value_back() {
    moduvex_runtime::block_on(async {
        let (tx, mut rx) = mpsc::channel::<String>(1);
        tx.send_timeout("a".into(), Duration::from_secs(5))
            .await
            .unwrap();
        let err = tx
            .send_timeout("b".into(), Duration::from_millis(1))
            .await
            .unwrap_err();
        assert!(matches!(&err, SendTimeoutError::Timeout(v) if v == "b"));
        assert_eq!(err.to_string(), "timed out waiting on send operation");
        assert_eq!(rx.recv().await.as_deref(), Some("a"));
        rx.close();
        let err = tx
            .send_timeout("c".into(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.into_inner(), "c");
    });
}

#[test]
fn strong_and_weak_counts() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    let tx2 = tx.clone();
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 2));
    assert_eq!((weak.strong_count(), weak.weak_count()), (2, 2));
    drop((tx2, weak2));
    assert_eq!((tx.strong_count(), weak.weak_count()), (1, 1));
    drop(tx);
    assert_eq!((weak.strong_count(), weak.weak_count()), (0, 1));
    assert!(weak.upgrade().is_none());
    drop(rx);

    let (utx, _urx) = mpsc::unbounded_channel::<u8>();
    let uweak = utx.downgrade();
    let utx2 = uweak.upgrade().unwrap();
    assert_eq!((utx.strong_count(), utx.weak_count()), (2, 1));
    drop(uweak);
    assert_eq!((utx2.strong_count(), utx2.weak_count()), (2, 0));
}

#[test]
fn receiver_is_closed_once_every_sender_is_gone() {
    let (tx, rx) = mpsc::channel::<u8>(2);
    let weak = tx.downgrade();
    tx.try_send(1).unwrap();
    assert!(!rx.is_closed());
    drop(tx);
    // Closed although a message is still queued and a weak sender lives.
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 1);
    drop(weak);

    let (utx, urx) = mpsc::unbounded_channel::<u8>();
    assert!(!urx.is_closed());
    drop(utx);
    assert!(urx.is_closed());

    let (tx, mut rx) = mpsc::channel::<u8>(1);
    rx.close();
    assert!(rx.is_closed() && tx.is_closed());
}

#[test]
fn recv_many_takes_up_to_limit_and_zero_at_the_end() {
    moduvex_runtime::block_on(async {
        let (tx, mut rx) = mpsc::channel::<u8>(8);
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        let mut buf = vec![9];
        assert_eq!(rx.recv_many(&mut buf, 0).await, 0);
        assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
        assert_eq!(rx.recv_many(&mut buf, 3).await, 2);
        assert_eq!(buf, [9, 0, 1, 2, 3, 4]);
        drop(tx);
        assert_eq!(rx.recv_many(&mut buf, 3).await, 0);
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let th = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut total = 0;
        while rx.blocking_recv_many(&mut buf, 10) > 0 {
            total = buf.len();
        }
        total
    });
    for i in 0..20 {
        tx.send(i).unwrap();
    }
    drop(tx);
    assert_eq!(th.join().unwrap(), 20);
}

#[test]
fn oneshot_is_empty_and_is_terminated() {
    moduvex_runtime::block_on(async {
        let (tx, mut rx) = oneshot::channel::<u8>();
        assert!(rx.is_empty() && !rx.is_terminated());
        tx.send(4).unwrap();
        assert!(!rx.is_empty() && !rx.is_terminated());
        assert_eq!((&mut rx).await, Ok(4));
        assert!(rx.is_empty() && rx.is_terminated());

        // An error result terminates it too.
        let (tx, mut rx) = oneshot::channel::<u8>();
        drop(tx);
        assert!(rx.is_empty() && !rx.is_terminated());
        assert!((&mut rx).await.is_err());
        assert!(rx.is_terminated());

        // So does try_recv returning the value or Closed, not Empty.
        let (tx, mut rx) = oneshot::channel::<u8>();
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty));
        assert!(!rx.is_terminated());
        tx.send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(rx.is_terminated());
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
    });
}

#[test]
#[should_panic(expected = "called after complete")]
fn oneshot_polled_after_completion_panics() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(1).unwrap();
    let (waker, _) = counting_waker();
    assert_eq!(poll_once(pin!(&mut rx), &waker), Poll::Ready(Ok(1)));
    let _ = poll_once(pin!(&mut rx), &waker);
}

#[test]
#[should_panic(expected = "called after complete")]
fn oneshot_polled_after_try_recv_took_the_value_panics() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    let (waker, _) = counting_waker();
    let _ = poll_once(pin!(&mut rx), &waker);
}
