//! A user's `LocalSet` driven by a real `block_on`, small enough for Miri:
//! remote wakes through the inbox, wakes during and after the set's drop,
//! a set's handle joined from another thread.

use std::cell::Cell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use crate::sync::oneshot;
use crate::task::{self, LocalSet};
use crate::{block_on, yield_now};

#[test]
fn local_set_runs_rc_tasks_and_nested_spawns() {
    let local = LocalSet::new();
    let rc = Rc::new(Cell::new(0));
    let seen = rc.clone();
    let n = block_on(local.run_until(async move {
        let inner = seen.clone();
        task::spawn_local(async move {
            let nested = inner.clone();
            task::spawn_local(async move { nested.set(nested.get() + 1) })
                .await
                .unwrap();
            yield_now().await;
            inner.get() + 1
        })
        .await
        .unwrap()
    }));
    assert_eq!((n, rc.get()), (2, 1));
}

#[test]
fn local_set_remote_wake_through_the_inbox() {
    let local = LocalSet::new();
    let (tx, rx) = oneshot::channel::<u8>();
    let handle = local.spawn_local(async move { rx.await.unwrap() });
    let sender = thread::spawn(move || tx.send(3).unwrap());
    assert_eq!(block_on(local.run_until(handle)).unwrap(), 3);
    sender.join().unwrap();
}

/// Wakes a sibling's waker from its `Drop`, while the set shuts down.
struct WakeOnDrop(Arc<Mutex<Option<Waker>>>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        let waker = self.0.lock().unwrap().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

#[test]
fn local_set_wakes_during_and_after_drop() {
    let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let late: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let local = LocalSet::new();
    let (stash, late_stash) = (slot.clone(), late.clone());
    let sleeper = local.spawn_local(poll_fn(move |cx| {
        *stash.lock().unwrap() = Some(cx.waker().clone());
        *late_stash.lock().unwrap() = Some(cx.waker().clone());
        Poll::<()>::Pending
    }));
    let guard = WakeOnDrop(slot);
    let waker_task = local.spawn_local(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    block_on(local.run_until(yield_now()));
    drop(local);
    let late = late.lock().unwrap().take().expect("polled");
    late.wake_by_ref();
    thread::spawn(move || late.wake()).join().unwrap();
    let joined = thread::spawn(move || block_on(sleeper)).join().unwrap();
    assert!(joined.unwrap_err().is_cancelled());
    assert!(block_on(waker_task).unwrap_err().is_cancelled());
}

#[test]
fn local_set_awaited_to_completion() {
    let local = LocalSet::new();
    let count = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let count = count.clone();
        local.spawn_local(async move {
            yield_now().await;
            count.set(count.get() + 1);
        });
    }
    block_on(local);
    assert_eq!(count.get(), 3);
}
