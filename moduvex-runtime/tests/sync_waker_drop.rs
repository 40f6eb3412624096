//! No primitive drops a stored waker while holding its own lock.
//!
//! A waker's `Drop` is user code: it may notify, send or lock the very
//! primitive that stored it. Each test stores a waker whose `Drop` calls back
//! into the primitive, then makes the primitive let go of it (by re-polling
//! with a waker for another task, by dropping the waiting future, or by
//! dropping/closing a handle). Dropped under the primitive's lock, the
//! callback would deadlock; the hang guard turns that into a failure.
#![cfg(not(loom))]

mod sync_common;

mod sync_waker_drop {
    use super::sync_common::{boxed, counting_waker, drop_hook_waker, hang_guard, poll_once};
    use moduvex_runtime::sync::{
        broadcast, mpsc, oneshot, watch, Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore,
    };
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex as StdMutex};
    use std::task::Context;

    /// Polls `fut` once with a waker whose drop runs `hook`; the primitive is
    /// left holding the only clone of that waker. Returns the hook's flag.
    fn pend_with_hook<F: Future + ?Sized>(
        fut: Pin<&mut F>,
        hook: impl FnOnce() + Send + 'static,
    ) -> Arc<AtomicBool> {
        let (w, ran) = drop_hook_waker(hook);
        assert!(poll_once(fut, &w).is_pending(), "the future must wait");
        drop(w);
        assert!(!ran.load(Ordering::SeqCst), "the primitive keeps the waker");
        ran
    }

    /// Re-polls `fut` with a waker of another task (`will_wake` is false), so
    /// the primitive replaces the stored one.
    fn repoll<F: Future + ?Sized>(fut: Pin<&mut F>) {
        let (w, _) = counting_waker();
        let _ = poll_once(fut, &w);
    }

    fn assert_ran(ran: &AtomicBool) {
        assert!(ran.load(Ordering::SeqCst), "the stored waker was dropped");
    }

    // ----- Notify --------------------------------------------------------

    #[test]
    fn notify_replaced_waker_is_dropped_unlocked() {
        hang_guard("Notify, replaced waker", || {
            let n = Arc::new(Notify::new());
            let mut fut = boxed(n.notified());
            let n2 = Arc::clone(&n);
            let ran = pend_with_hook(fut.as_mut(), move || n2.notify_one());
            repoll(fut.as_mut());
            assert_ran(&ran);
        });
    }

    #[test]
    fn notify_cancelled_waiter_waker_is_dropped_unlocked() {
        hang_guard("Notify, cancelled waiter", || {
            let n = Arc::new(Notify::new());
            let mut fut = boxed(n.notified());
            let n2 = Arc::clone(&n);
            let ran = pend_with_hook(fut.as_mut(), move || n2.notify_waiters());
            drop(fut);
            assert_ran(&ran);
        });
    }

    // ----- Semaphore -----------------------------------------------------

    #[test]
    fn semaphore_replaced_waker_is_dropped_unlocked() {
        hang_guard("Semaphore, replaced waker", || {
            let s = Arc::new(Semaphore::new(0));
            let mut fut = boxed(s.acquire());
            let s2 = Arc::clone(&s);
            let ran = pend_with_hook(fut.as_mut(), move || s2.add_permits(1));
            repoll(fut.as_mut());
            assert_ran(&ran);
        });
    }

    #[test]
    fn semaphore_cancelled_acquire_waker_is_dropped_unlocked() {
        hang_guard("Semaphore, cancelled acquire", || {
            let s = Arc::new(Semaphore::new(0));
            let mut fut = boxed(s.acquire_many(2));
            let s2 = Arc::clone(&s);
            let ran = pend_with_hook(fut.as_mut(), move || s2.add_permits(1));
            drop(fut);
            assert_ran(&ran);
            assert_eq!(s.available_permits(), 1);
        });
    }

    // ----- Mutex / RwLock ------------------------------------------------

    #[test]
    fn mutex_replaced_waker_is_dropped_unlocked() {
        hang_guard("Mutex, replaced waker", || {
            let m = Arc::new(Mutex::new(0));
            let held = m.try_lock().unwrap();
            let mut fut = boxed(m.lock());
            let m2 = Arc::clone(&m);
            let ran = pend_with_hook(fut.as_mut(), move || assert!(m2.try_lock().is_err()));
            repoll(fut.as_mut());
            assert_ran(&ran);
            drop(held);
        });
    }

    #[test]
    fn mutex_cancelled_lock_waker_is_dropped_unlocked() {
        hang_guard("Mutex, cancelled lock", || {
            let m = Arc::new(Mutex::new(0));
            let held = m.try_lock().unwrap();
            let mut fut = boxed(m.lock());
            let m2 = Arc::clone(&m);
            let ran = pend_with_hook(fut.as_mut(), move || assert!(m2.try_lock().is_err()));
            drop(fut);
            assert_ran(&ran);
            drop(held);
            assert!(m.try_lock().is_ok());
        });
    }

    #[test]
    fn rwlock_replaced_waker_is_dropped_unlocked() {
        hang_guard("RwLock, replaced waker", || {
            let l = Arc::new(RwLock::new(0));
            let reader = l.try_read().unwrap();
            let mut fut = boxed(l.write());
            let l2 = Arc::clone(&l);
            let ran = pend_with_hook(fut.as_mut(), move || assert!(l2.try_read().is_err()));
            repoll(fut.as_mut());
            assert_ran(&ran);
            drop(reader);
        });
    }

    #[test]
    fn rwlock_cancelled_write_waker_is_dropped_unlocked() {
        hang_guard("RwLock, cancelled write", || {
            let l = Arc::new(RwLock::new(0));
            let reader = l.try_read().unwrap();
            let mut fut = boxed(l.write());
            let l2 = Arc::clone(&l);
            let ran = pend_with_hook(fut.as_mut(), move || drop(l2.try_read()));
            drop(fut);
            assert_ran(&ran);
            drop(reader);
            assert!(l.try_write().is_ok());
        });
    }

    // ----- mpsc ----------------------------------------------------------

    #[test]
    fn mpsc_recv_replaced_waker_is_dropped_unlocked() {
        hang_guard("mpsc, recv replaced waker", || {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let ran = {
                let mut fut = boxed(rx.recv());
                let ran = pend_with_hook(fut.as_mut(), move || tx.try_send(1).unwrap());
                repoll(fut.as_mut());
                ran
            };
            assert_ran(&ran);
            assert_eq!(rx.try_recv(), Ok(1));
        });
    }

    #[test]
    fn mpsc_recv_many_replaced_waker_is_dropped_unlocked() {
        hang_guard("mpsc, recv_many replaced waker", || {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let mut buf = Vec::new();
            let ran = {
                let mut fut = boxed(rx.recv_many(&mut buf, 4));
                let ran = pend_with_hook(fut.as_mut(), move || tx.try_send(1).unwrap());
                repoll(fut.as_mut());
                ran
            };
            assert_ran(&ran);
        });
    }

    #[test]
    fn mpsc_receiver_dropped_with_waker_drops_it_unlocked() {
        hang_guard("mpsc, receiver dropped", || {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let tx2 = tx.clone();
            let ran = pend_with_hook(boxed(rx.recv()).as_mut(), move || {
                assert!(tx2.try_send(1).is_err());
            });
            drop(rx);
            assert_ran(&ran);
            assert!(tx.is_closed());
        });
    }

    #[test]
    fn mpsc_reserve_replaced_waker_is_dropped_unlocked() {
        hang_guard("mpsc, reserve replaced waker", || {
            let (tx, _rx) = mpsc::channel::<u32>(1);
            tx.try_send(0).unwrap();
            let tx2 = tx.clone();
            let mut fut = boxed(tx.reserve());
            let ran = pend_with_hook(fut.as_mut(), move || {
                assert!(tx2.try_send(1).is_err());
            });
            repoll(fut.as_mut());
            assert_ran(&ran);
        });
    }

    #[test]
    fn mpsc_cancelled_reserve_waker_is_dropped_unlocked() {
        hang_guard("mpsc, cancelled reserve", || {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(0).unwrap();
            let tx2 = tx.clone();
            let mut fut = boxed(tx.send(1));
            let ran = pend_with_hook(fut.as_mut(), move || {
                assert!(tx2.try_send(2).is_err());
            });
            drop(fut);
            assert_ran(&ran);
            assert_eq!(rx.try_recv(), Ok(0));
            assert!(tx.try_send(3).is_ok());
        });
    }

    #[test]
    fn mpsc_closed_replaced_and_cancelled_wakers_are_dropped_unlocked() {
        hang_guard("mpsc, closed()", || {
            let (tx, _rx) = mpsc::channel::<u32>(1);
            let tx2 = tx.clone();
            let tx3 = tx.clone();
            let mut fut = boxed(tx.closed());
            let ran = pend_with_hook(fut.as_mut(), move || tx2.try_send(1).unwrap());
            repoll(fut.as_mut());
            assert_ran(&ran);
            let ran = pend_with_hook(fut.as_mut(), move || {
                assert!(tx3.try_send(2).is_err());
            });
            drop(fut);
            assert_ran(&ran);
        });
    }

    #[test]
    fn unbounded_recv_replaced_waker_is_dropped_unlocked() {
        hang_guard("unbounded mpsc, recv replaced waker", || {
            let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
            let ran = {
                let mut fut = boxed(rx.recv());
                let ran = pend_with_hook(fut.as_mut(), move || tx.send(1).unwrap());
                repoll(fut.as_mut());
                ran
            };
            assert_ran(&ran);
            assert_eq!(rx.try_recv(), Ok(1));
        });
    }

    #[test]
    fn unbounded_receiver_dropped_with_waker_drops_it_unlocked() {
        hang_guard("unbounded mpsc, receiver dropped", || {
            let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
            let tx2 = tx.clone();
            let ran = pend_with_hook(boxed(rx.recv()).as_mut(), move || {
                assert!(tx2.send(1).is_err());
            });
            drop(rx);
            assert_ran(&ran);
        });
    }

    // ----- oneshot -------------------------------------------------------

    #[test]
    fn oneshot_recv_replaced_waker_is_dropped_unlocked() {
        hang_guard("oneshot, recv replaced waker", || {
            let (tx, mut rx) = oneshot::channel::<u32>();
            let tx = StdMutex::new(Some(tx));
            let ran = pend_with_hook(Pin::new(&mut rx), move || {
                let tx = tx.lock().unwrap().take().unwrap();
                tx.send(5).unwrap();
            });
            repoll(Pin::new(&mut rx));
            assert_ran(&ran);
            assert_eq!(rx.try_recv(), Ok(5));
        });
    }

    #[test]
    fn oneshot_closed_replaced_waker_is_dropped_unlocked() {
        hang_guard("oneshot, poll_closed replaced waker", || {
            let (mut tx, rx) = oneshot::channel::<u32>();
            let rx = StdMutex::new(Some(rx));
            let (w, ran) = drop_hook_waker(move || drop(rx.lock().unwrap().take()));
            assert!(tx.poll_closed(&mut Context::from_waker(&w)).is_pending());
            drop(w);
            let (w2, _) = counting_waker();
            let _ = tx.poll_closed(&mut Context::from_waker(&w2));
            assert_ran(&ran);
            assert!(tx.is_closed());
        });
    }

    // ----- broadcast -----------------------------------------------------

    #[test]
    fn broadcast_replaced_and_cancelled_wakers_are_dropped_unlocked() {
        hang_guard("broadcast, recv", || {
            let (tx, mut rx) = broadcast::channel::<u32>(2);
            let (tx2, tx3) = (tx.clone(), tx.clone());
            {
                let mut fut = boxed(rx.recv());
                let ran = pend_with_hook(fut.as_mut(), move || {
                    tx2.send(1).unwrap();
                });
                repoll(fut.as_mut());
                assert_ran(&ran);
            }
            assert_eq!(rx.try_recv(), Ok(1));
            let mut fut = boxed(rx.recv());
            let ran = pend_with_hook(fut.as_mut(), move || {
                tx3.send(2).unwrap();
            });
            drop(fut);
            assert_ran(&ran);
            assert_eq!(rx.try_recv(), Ok(2));
        });
    }

    // ----- watch ---------------------------------------------------------

    #[test]
    fn watch_changed_replaced_and_cancelled_wakers_are_dropped_unlocked() {
        hang_guard("watch, changed", || {
            let (tx, mut rx) = watch::channel(0u32);
            let (tx2, tx3) = (tx.clone(), tx.clone());
            {
                let mut fut = boxed(rx.changed());
                let ran = pend_with_hook(fut.as_mut(), move || tx2.send(1).unwrap());
                repoll(fut.as_mut());
                assert_ran(&ran);
            }
            assert!(rx.has_changed().unwrap());
            rx.mark_unchanged();
            let mut fut = boxed(rx.changed());
            let ran = pend_with_hook(fut.as_mut(), move || tx3.send(2).unwrap());
            drop(fut);
            assert_ran(&ran);
            assert_eq!(*rx.borrow(), 2);
        });
    }

    #[test]
    fn watch_closed_replaced_and_cancelled_wakers_are_dropped_unlocked() {
        hang_guard("watch, closed", || {
            let (tx, rx) = watch::channel(0u32);
            let (rx2, rx3) = (rx.clone(), rx.clone());
            let mut fut = boxed(tx.closed());
            let ran = pend_with_hook(fut.as_mut(), move || {
                let _ = rx2.has_changed();
            });
            repoll(fut.as_mut());
            assert_ran(&ran);
            let ran = pend_with_hook(fut.as_mut(), move || {
                let _ = rx3.has_changed();
            });
            drop(fut);
            assert_ran(&ran);
            drop(rx);
        });
    }

    // ----- Barrier, OnceCell ---------------------------------------------

    #[test]
    fn barrier_replaced_and_cancelled_wakers_are_dropped_unlocked() {
        hang_guard("Barrier, wait", || {
            let b = Arc::new(Barrier::new(3));
            // The hook arrives at the barrier and withdraws again: both lock it.
            let arrive_and_leave = |b: Arc<Barrier>| {
                move || {
                    let mut f = boxed(b.wait());
                    let (w, _) = counting_waker();
                    assert!(poll_once(f.as_mut(), &w).is_pending());
                }
            };
            let mut fut = boxed(b.wait());
            let ran = pend_with_hook(fut.as_mut(), arrive_and_leave(Arc::clone(&b)));
            repoll(fut.as_mut());
            assert_ran(&ran);
            let ran = pend_with_hook(fut.as_mut(), arrive_and_leave(Arc::clone(&b)));
            drop(fut);
            assert_ran(&ran);
        });
    }

    #[test]
    fn once_cell_waiting_initializer_wakers_are_dropped_unlocked() {
        hang_guard("OnceCell, get_or_init", || {
            let cell = Arc::new(OnceCell::<u32>::new());
            let mut first = boxed(cell.get_or_init(std::future::pending));
            repoll(first.as_mut()); // holds the init permit, never finishes
            let mut second = boxed(cell.get_or_init(|| async { 2 }));
            let c2 = Arc::clone(&cell);
            let ran = pend_with_hook(second.as_mut(), move || {
                assert!(c2.set(7).unwrap_err().is_initializing_err());
            });
            repoll(second.as_mut());
            assert_ran(&ran);
            let c3 = Arc::clone(&cell);
            let ran = pend_with_hook(second.as_mut(), move || {
                assert!(c3.set(7).unwrap_err().is_initializing_err());
            });
            drop(second);
            assert_ran(&ran);
            drop(first);
            assert!(cell.set(1).is_ok());
        });
    }
}
