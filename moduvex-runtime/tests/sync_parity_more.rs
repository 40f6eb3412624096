//! tokio's API on the other primitives: `Semaphore::blocking_acquire*` and
//! permit `split`, `Notify::notified_owned`, `RwLockWriteGuard::
//! downgrade_map` / `try_downgrade_map` and `with_max_readers`' limits,
//! `broadcast::Sender::new` / `closed`, `Interval::reset_*`, and the
//! task-local `take_value` / `try_get`.
#![cfg(not(loom))]

mod sync_common;

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use moduvex_runtime::sync::{broadcast, Notify, RwLock, RwLockWriteGuard, Semaphore};
use moduvex_runtime::time::{self, Instant};
use sync_common::{counting_waker, hang_guard, poll_once};

#[test]
fn blocking_acquire_waits_on_a_plain_thread() {
    let sem = Arc::new(Semaphore::new(0));
    let s = Arc::clone(&sem);
    let th = std::thread::spawn(move || {
        let one = s.blocking_acquire().unwrap();
        let two = s.blocking_acquire_many(2).unwrap();
        (one.num_permits(), two.num_permits())
    });
    sem.add_permits(3);
    assert_eq!(
        hang_guard("blocking_acquire", move || th.join().unwrap()),
        (1, 2)
    );
    assert_eq!(sem.available_permits(), 3);
    sem.close();
    assert!(sem.blocking_acquire().is_err());
}

#[test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
fn blocking_acquire_inside_a_runtime_panics() {
    let sem = Semaphore::new(1);
    moduvex_runtime::block_on(async {
        let _ = sem.blocking_acquire();
    });
}

#[test]
fn permit_split_moves_permits_or_returns_none() {
    let sem = Semaphore::new(5);
    let mut p = sem.try_acquire_many(5).unwrap();
    let q = p.split(3).unwrap();
    assert_eq!((p.num_permits(), q.num_permits()), (2, 3));
    // More than held: None, and nothing changes.
    assert!(p.split(3).is_none());
    assert!(p.split(usize::MAX).is_none());
    assert_eq!(p.num_permits(), 2);
    assert_eq!(p.split(0).unwrap().num_permits(), 0);
    drop(q);
    assert_eq!(sem.available_permits(), 3);
    drop(p);
    assert_eq!(sem.available_permits(), 5);

    let sem = Arc::new(Semaphore::new(4));
    let mut p = Arc::clone(&sem).try_acquire_many_owned(4).unwrap();
    let q = p.split(1).unwrap();
    assert!(Arc::ptr_eq(q.semaphore(), &sem));
    assert!(p.split(4).is_none());
    assert_eq!((p.num_permits(), q.num_permits()), (3, 1));
    drop(p);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn notified_owned_is_static_and_passes_on_when_dropped() {
    moduvex_runtime::block_on(async {
        let notify = Arc::new(Notify::new());
        let task = moduvex_runtime::spawn(Arc::clone(&notify).notified_owned());
        moduvex_runtime::yield_now().await;
        notify.notify_one();
        task.await.unwrap();

        // A notification handed to an owned waiter that is then dropped
        // goes to the next one.
        let (waker, _) = counting_waker();
        let mut first = Box::pin(Arc::clone(&notify).notified_owned());
        let mut second = Box::pin(Arc::clone(&notify).notified_owned());
        assert!(poll_once(first.as_mut(), &waker).is_pending());
        assert!(!second.as_mut().enable());
        notify.notify_one();
        drop(first);
        assert_eq!(poll_once(second.as_mut(), &waker), Poll::Ready(()));
    });
}

#[test]
fn downgrade_map_keeps_writers_out_and_maps_the_data() {
    let lock = RwLock::with_max_readers((1u32, vec![1u8]), 3);
    let mut w = lock.try_write().unwrap();
    w.1.push(2);
    let (waker, _) = counting_waker();
    let mut writer = pin!(lock.write());
    let mut reader = pin!(lock.read());
    assert!(poll_once(writer.as_mut(), &waker).is_pending());
    let part = RwLockWriteGuard::downgrade_map(w, |v| &v.1[..]);
    assert_eq!(&*part, [1, 2]);
    // No writer got in between: the queued one still waits, and so does
    // the reader queued behind it (FIFO).
    assert!(poll_once(writer.as_mut(), &waker).is_pending());
    assert!(poll_once(reader.as_mut(), &waker).is_pending());
    drop(part);
    let Poll::Ready(mut w) = poll_once(writer.as_mut(), &waker) else {
        panic!("the writer gets the lock once the mapped guard is gone");
    };
    w.0 = 7;
    // try_downgrade_map that declines gives the write guard back.
    let w = match RwLockWriteGuard::try_downgrade_map(w, |v| v.1.get(9)) {
        Err(w) => w,
        Ok(_) => panic!("index 9 does not exist"),
    };
    assert!(lock.try_read().is_err());
    let first = RwLockWriteGuard::try_downgrade_map(w, |v| v.1.first()).unwrap();
    assert_eq!(*first, 1);
    drop(first);
    assert!(matches!(poll_once(reader.as_mut(), &waker), Poll::Ready(r) if r.0 == 7));
}

#[test]
fn downgrade_map_that_panics_releases_the_lock() {
    let lock = RwLock::new(0u8);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let w = lock.try_write().unwrap();
        let _ = RwLockWriteGuard::downgrade_map(w, |_| -> &u8 { panic!("map fails") });
    }));
    assert!(r.is_err());
    assert!(lock.try_write().is_ok());
}

#[test]
#[should_panic(expected = "a RwLock may not be created with more than")]
fn with_max_readers_above_the_limit_panics() {
    let _ = RwLock::with_max_readers((), (u32::MAX >> 3) + 1);
}

#[test]
#[should_panic(expected = "a RwLock may not be created with 0 readers")]
fn with_max_readers_zero_panics() {
    let _ = RwLock::with_max_readers((), 0);
}

#[test]
fn blocking_read_and_write_from_threads() {
    let lock = Arc::new(RwLock::new(0u32));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    *lock.blocking_write() += 1;
                    assert!(*lock.blocking_read() > 0);
                }
            })
        })
        .collect();
    hang_guard("blocking read/write", move || {
        for t in threads {
            t.join().unwrap();
        }
    });
    assert_eq!(*lock.blocking_read(), 150);
}

#[test]
fn broadcast_sender_new_and_closed() {
    moduvex_runtime::block_on(async {
        let tx = broadcast::Sender::<u8>::new(2);
        assert_eq!(tx.receiver_count(), 0);
        assert_eq!(tx.send(1).unwrap_err().0, 1);
        // No receiver: closed at once.
        tx.closed().await;
        let mut rx = tx.subscribe();
        let rx2 = rx.resubscribe();
        assert_eq!(tx.send(2).unwrap(), 2);
        assert_eq!(rx.recv().await.unwrap(), 2);

        let (waker, woken) = counting_waker();
        let mut closed = pin!(tx.closed());
        assert!(poll_once(closed.as_mut(), &waker).is_pending());
        drop(rx);
        assert!(poll_once(closed.as_mut(), &waker).is_pending());
        assert_eq!(woken.count(), 0);
        drop(rx2);
        assert_eq!(woken.count(), 1, "the last receiver wakes closed()");
        assert_eq!(poll_once(closed.as_mut(), &waker), Poll::Ready(()));
    });
}

#[test]
#[should_panic(expected = "broadcast channel requires capacity > 0")]
fn broadcast_sender_new_zero_panics() {
    let _ = broadcast::Sender::<u8>::new(0);
}

#[test]
fn interval_resets() {
    hang_guard("interval resets", || {
        moduvex_runtime::block_on(async {
            let hour = Duration::from_secs(3600);
            let mut iv = time::interval(hour);
            iv.tick().await; // the first tick is immediate
            let (waker, _) = counting_waker();
            assert!(poll_once(pin!(iv.tick()), &waker).is_pending());
            iv.reset_immediately();
            iv.tick().await;
            iv.reset_after(hour);
            assert!(poll_once(pin!(iv.tick()), &waker).is_pending());
            iv.reset_after(Duration::ZERO);
            iv.tick().await;
            iv.reset_at(Instant::now() + hour);
            assert!(poll_once(pin!(iv.tick()), &waker).is_pending());
            let at = Instant::now();
            iv.reset_at(at);
            assert_eq!(iv.tick().await, at);
            // After a reset the period resumes from the new tick.
            assert!(poll_once(pin!(iv.tick()), &waker).is_pending());
        })
    });
}

moduvex_runtime::task_local! {
    static NAME: String;
}

#[test]
fn task_local_take_value_and_try_get() {
    assert!(NAME.try_get().is_err());
    assert_eq!(NAME.try_get().unwrap_err().key_name(), "NAME");
    moduvex_runtime::block_on(async {
        let mut fut = pin!(NAME.scope("a".into(), async {
            let first = NAME.try_get();
            moduvex_runtime::yield_now().await;
            (first, NAME.try_get())
        }));
        let (waker, _) = counting_waker();
        // Taken before the future completes: later polls see no value.
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        assert_eq!(fut.as_mut().take_value().as_deref(), Some("a"));
        assert_eq!(fut.as_mut().take_value(), None);
        let Poll::Ready((first, second)) = poll_once(fut.as_mut(), &waker) else {
            panic!("the scope completes after one yield");
        };
        assert_eq!(first.as_deref(), Ok("a"));
        assert!(second.is_err());
    });
}
