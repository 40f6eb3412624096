//! The harness driven by a minimal scheduler: the paths where a task is
//! freed, dropped or woken from another thread. Small enough for Miri,
//! which checks every pointer's provenance and every drop's address.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::{new_task, JoinHandle, Notified, Schedule, Task};

/// A run queue and an owned list in one: enough to drive tasks by hand.
#[derive(Clone, Default)]
struct Sched(Arc<Inner>);

#[derive(Default)]
struct Inner {
    queue: Mutex<VecDeque<Notified<Sched>>>,
    owned: Mutex<Vec<Task<Sched>>>,
}

impl Schedule for Sched {
    fn schedule(&self, task: Notified<Sched>) {
        self.0.queue.lock().unwrap().push_back(task);
    }
    fn release(&self, task: &Task<Sched>) -> Option<Task<Sched>> {
        let mut owned = self.0.owned.lock().unwrap();
        let pos = owned.iter().position(|t| t.ptr_eq(task))?;
        Some(owned.swap_remove(pos))
    }
}

impl Sched {
    fn spawn<F: Future + 'static>(&self, f: F) -> JoinHandle<F::Output>
    where
        F::Output: 'static,
    {
        let (task, notified, join) = new_task(f, self.clone());
        self.0.owned.lock().unwrap().push(task);
        self.schedule(notified);
        join
    }

    fn run_all(&self) {
        loop {
            let next = self.0.queue.lock().unwrap().pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
    }

    fn shutdown(&self) {
        let owned = std::mem::take(&mut *self.0.owned.lock().unwrap());
        owned.into_iter().for_each(Task::shutdown);
        let queued = std::mem::take(&mut *self.0.queue.lock().unwrap());
        drop(queued);
    }
}

/// Polls a join handle once with a no-op waker.
fn poll_join<T>(join: &mut JoinHandle<T>) -> Poll<Result<T, super::JoinError>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(join).poll(&mut cx)
}

/// Pending until `go` is set; hands its waker out through `slot`.
struct WaitFor {
    go: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
}

impl Future for WaitFor {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.go.load(Ordering::Acquire) {
            return Poll::Ready(7);
        }
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_waker_woken_and_dropped_on_another_thread_after_completion() {
    let sched = Sched::default();
    let go = Arc::new(AtomicBool::new(false));
    let slot = Arc::new(Mutex::new(None));
    let mut join = sched.spawn(WaitFor {
        go: go.clone(),
        slot: slot.clone(),
    });
    sched.run_all();
    let waker = slot.lock().unwrap().take().unwrap();
    let spare = waker.clone();
    go.store(true, Ordering::Release);
    let t = std::thread::spawn(move || waker.wake());
    t.join().unwrap();
    sched.run_all();
    assert_eq!(poll_join(&mut join).map(Result::unwrap), Poll::Ready(7));
    drop(join);
    // The task is complete and only this waker keeps it: waking it does
    // nothing, dropping it frees the task (from another thread).
    std::thread::spawn(move || {
        spare.wake_by_ref();
        drop(spare);
    })
    .join()
    .unwrap();
}

#[test]
fn a_wake_racing_the_owner_completing_and_freeing_the_task() {
    for _ in 0..if cfg!(miri) { 4 } else { 200 } {
        let sched = Sched::default();
        let go = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(Mutex::new(None));
        let mut join = sched.spawn(WaitFor {
            go: go.clone(),
            slot: slot.clone(),
        });
        sched.run_all();
        let waker = slot.lock().unwrap().take().unwrap();
        let go2 = go.clone();
        let t = std::thread::spawn(move || {
            go2.store(true, Ordering::Release);
            waker.wake();
        });
        loop {
            sched.run_all();
            if let Poll::Ready(out) = poll_join(&mut join) {
                assert_eq!(out.unwrap(), 7);
                break;
            }
            std::thread::yield_now();
        }
        drop(join);
        drop(sched);
        t.join().unwrap();
    }
}

/// A future whose destructor checks it sits where it was polled, as a
/// future holding an intrusive waiter node relies on.
struct Pinned {
    polled_at: Cell<usize>,
    dropped_in_place: Rc<Cell<Option<bool>>>,
    _pin: PhantomPinned,
}

impl Future for Pinned {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.polled_at.set(&*self as *const Self as usize);
        Poll::Pending
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let here = self as *const Self as usize;
        self.dropped_in_place
            .set(Some(self.polled_at.get() == here));
    }
}

fn pinned() -> (Pinned, Rc<Cell<Option<bool>>>) {
    let flag = Rc::new(Cell::new(None));
    let fut = Pinned {
        polled_at: Cell::new(0),
        dropped_in_place: flag.clone(),
        _pin: PhantomPinned,
    };
    (fut, flag)
}

#[test]
fn an_aborted_future_is_dropped_where_it_was_pinned() {
    let sched = Sched::default();
    let (fut, flag) = pinned();
    let mut join = sched.spawn(fut);
    sched.run_all();
    join.abort();
    sched.run_all();
    assert_eq!(flag.get(), Some(true));
    assert!(matches!(poll_join(&mut join), Poll::Ready(Err(e)) if e.is_cancelled()));
}

#[test]
fn a_future_cancelled_at_shutdown_is_dropped_where_it_was_pinned() {
    let sched = Sched::default();
    let (fut, flag) = pinned();
    let join = sched.spawn(fut);
    sched.run_all();
    drop(join);
    sched.shutdown();
    assert_eq!(flag.get(), Some(true));
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("output drop");
        }
    }
}

#[test]
fn panics_in_poll_and_in_drops_never_reach_the_scheduler() {
    let sched = Sched::default();
    // Panic in poll.
    let mut a = sched.spawn(async { panic!("in poll") });
    // Future whose destructor panics after it returned an output whose
    // destructor panics too.
    struct Both(bool);
    impl Future for Both {
        type Output = PanicOnDrop;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<PanicOnDrop> {
            Poll::Ready(PanicOnDrop)
        }
    }
    impl Drop for Both {
        fn drop(&mut self) {
            if self.0 {
                panic!("future drop");
            }
        }
    }
    let mut b = sched.spawn(Both(true));
    // Output with a panicking destructor and no one to read it.
    drop(sched.spawn(async { PanicOnDrop }));
    sched.run_all();
    assert!(matches!(poll_join(&mut a), Poll::Ready(Err(e)) if e.is_panic()));
    assert!(matches!(poll_join(&mut b), Poll::Ready(Err(e)) if e.is_panic()));
    // A handle dropped with a completed output whose destructor panics.
    let c = sched.spawn(async { PanicOnDrop });
    sched.run_all();
    drop(c);
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let mut d = sched.spawn(async move {
        n.fetch_add(1, Ordering::Relaxed);
    });
    sched.run_all();
    assert!(matches!(poll_join(&mut d), Poll::Ready(Ok(()))));
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}
