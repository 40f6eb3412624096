//! The task harness driven by a real current-thread `block_on`, small
//! enough to run under Miri: abort, panics in `poll` and in `Drop` (of the
//! future and of the output), wakes from another thread after the task has
//! completed, and shutdown with tasks still pending.
//!
//! Each test is an ordinary test too; under Miri (`cargo +nightly miri test
//! -p moduvex-runtime --test rt_miri`) the interpreter checks every pointer
//! the harness, the wakers and the scheduler follow. Loops are short under
//! `cfg(miri)`: each iteration is a whole runtime.

use std::future::{poll_fn, Future};
use std::marker::PhantomPinned;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use moduvex_runtime::sync::{oneshot, Notify};
use moduvex_runtime::task::JoinSet;
use moduvex_runtime::{block_on, spawn, yield_now, Flavor, Runtime};

/// Iterations of the loops: each one builds and tears down a runtime.
const ROUNDS: usize = if cfg!(miri) { 4 } else { 200 };

/// A future that records where it lives when first polled and checks in
/// `Drop` that it was never moved: `Pin` promises a pinned value is dropped
/// where it was pinned.
struct PinnedProbe {
    at: usize,
    drops: Arc<AtomicUsize>,
    _pin: PhantomPinned,
}

impl PinnedProbe {
    fn new(drops: Arc<AtomicUsize>) -> PinnedProbe {
        PinnedProbe {
            at: 0,
            drops,
            _pin: PhantomPinned,
        }
    }
}

impl Future for PinnedProbe {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: only a plain field is written; nothing is moved out.
        let this = unsafe { self.get_unchecked_mut() };
        this.at = this as *mut PinnedProbe as usize;
        Poll::Pending
    }
}

impl Drop for PinnedProbe {
    fn drop(&mut self) {
        let here = self as *mut PinnedProbe as usize;
        if self.at != 0 {
            assert_eq!(
                self.at, here,
                "a pinned future was moved before it was dropped"
            );
        }
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A value whose `Drop` panics (used as a future and as an output).
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("PanicOnDrop dropped");
    }
}

#[test]
fn abort_cancels_a_pending_task_and_drops_it_in_place() {
    let drops = Arc::new(AtomicUsize::new(0));
    block_on({
        let drops = drops.clone();
        async move {
            let task = spawn(PinnedProbe::new(drops));
            yield_now().await; // let it run once and record its address
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled());
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn abort_a_task_waiting_on_notify() {
    // The aborted future holds an intrusive waiter node in `notify`'s list:
    // it must be unlinked in place, and `notify` must still work after.
    block_on(async {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let task = spawn(async move { n.notified().await });
        yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        notify.notify_waiters();
        let n = notify.clone();
        let again = spawn(async move { n.notified().await });
        yield_now().await;
        notify.notify_one();
        again.await.unwrap();
    });
}

#[test]
fn abort_before_first_poll_and_after_completion() {
    block_on(async {
        let never = spawn(async { 1 });
        never.abort();
        assert!(never.await.unwrap_err().is_cancelled());

        let done = spawn(async { 2 });
        yield_now().await;
        yield_now().await;
        done.abort(); // too late: the output stands
        assert_eq!(done.await.unwrap(), 2);
    });
}

#[test]
fn panic_in_poll_is_a_join_error_with_the_payload() {
    block_on(async {
        let task = spawn(async {
            yield_now().await;
            panic!("boom in poll");
        });
        let err = task.await.unwrap_err();
        assert!(err.is_panic());
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in poll"));
        // The runtime keeps running tasks.
        assert_eq!(spawn(async { 3 }).await.unwrap(), 3);
    });
}

#[test]
fn panic_in_the_drop_of_an_aborted_future() {
    block_on(async {
        let task = spawn(async {
            let _bomb = PanicOnDrop;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        task.abort();
        // Cancelled or a panic: either is reported, nothing unwinds here.
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled() || err.is_panic());
        assert_eq!(spawn(async { 4 }).await.unwrap(), 4);
    });
}

#[test]
fn panic_in_the_drop_of_a_detached_output() {
    // Nobody takes the output, so the harness drops it: its panic must be
    // caught there, not unwind through the scheduler.
    block_on(async {
        drop(spawn(async { PanicOnDrop }));
        yield_now().await;
        yield_now().await;
        assert_eq!(spawn(async { 5 }).await.unwrap(), 5);
    });
}

#[test]
fn panic_in_the_drop_of_an_output_dropped_by_the_join_handle() {
    block_on(async {
        let task = spawn(async { PanicOnDrop });
        yield_now().await;
        yield_now().await;
        assert!(task.is_finished());
        // Dropping the handle drops the stored output, here on this thread.
        let res = catch_unwind(AssertUnwindSafe(|| drop(task)));
        // Whether the drop's panic reaches the caller is the handle's
        // choice; the runtime must survive it.
        let _ = res;
        assert_eq!(spawn(async { 6 }).await.unwrap(), 6);
    });
}

#[test]
fn panic_in_the_drop_of_an_aborted_future_at_shutdown() {
    let rt = Runtime::builder()
        .flavor(Flavor::CurrentThread)
        .build()
        .unwrap();
    rt.block_on(async {
        drop(spawn(async {
            let _bomb = PanicOnDrop;
            std::future::pending::<()>().await;
        }));
        yield_now().await;
    });
    // Shutdown drops the pending future, whose drop panics.
    let res = catch_unwind(AssertUnwindSafe(move || drop(rt)));
    let _ = res;
}

/// Shared slot where a task leaves a clone of its waker.
type WakerSlot = Arc<Mutex<Option<Waker>>>;

/// A future that stores a clone of its waker in `slot`, then completes.
fn leave_waker(slot: WakerSlot) -> impl Future<Output = u32> {
    let mut polled = false;
    poll_fn(move |cx| {
        if polled {
            return Poll::Ready(9);
        }
        polled = true;
        *slot.lock().unwrap() = Some(cx.waker().clone());
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn a_waker_woken_on_another_thread_after_its_task_completed() {
    for _ in 0..ROUNDS {
        let slot: WakerSlot = Arc::default();
        let out = block_on({
            let slot = slot.clone();
            async move { spawn(leave_waker(slot)).await.unwrap() }
        });
        assert_eq!(out, 9);
        let waker = slot.lock().unwrap().take().unwrap();
        std::thread::spawn(move || waker.wake()).join().unwrap();
    }
}

#[test]
fn a_waker_dropped_on_another_thread_after_its_runtime_is_gone() {
    for _ in 0..ROUNDS {
        let slot: WakerSlot = Arc::default();
        let rt = Runtime::builder()
            .flavor(Flavor::CurrentThread)
            .build()
            .unwrap();
        let out = rt.block_on({
            let slot = slot.clone();
            async move { spawn(leave_waker(slot)).await.unwrap() }
        });
        assert_eq!(out, 9);
        drop(rt);
        let waker = slot.lock().unwrap().take().unwrap();
        let by_ref = waker.clone();
        std::thread::spawn(move || {
            by_ref.wake_by_ref();
            drop(by_ref);
            drop(waker);
        })
        .join()
        .unwrap();
    }
}

#[test]
fn a_foreign_thread_wakes_while_the_task_completes() {
    // The shape of the remote-wake race: the wake comes from a thread that
    // may still be inside `wake` when the task completes and its runtime
    // is freed.
    for _ in 0..ROUNDS {
        std::thread::spawn(|| {
            block_on(async {
                let (tx, rx) = oneshot::channel::<u32>();
                std::thread::spawn(move || {
                    let _ = tx.send(7);
                });
                spawn(async move { rx.await.unwrap() }).await.unwrap()
            })
        })
        .join()
        .unwrap();
    }
}

#[test]
fn block_on_returns_with_tasks_pending_on_a_oneshot_and_notify() {
    let drops = Arc::new(AtomicUsize::new(0));
    let notify = Arc::new(Notify::new());
    let (tx, rx) = oneshot::channel::<u32>();
    block_on({
        let drops = drops.clone();
        let notify = notify.clone();
        async move {
            let d = drops.clone();
            drop(spawn(async move {
                let _probe = Counted(d);
                rx.await.ok()
            }));
            let d = drops.clone();
            let n = notify.clone();
            drop(spawn(async move {
                let _probe = Counted(d);
                n.notified().await;
            }));
            let d = drops.clone();
            drop(spawn(async move {
                let _probe = Counted(d.clone());
                PinnedProbe::new(d).await;
            }));
            yield_now().await;
        }
    });
    // The free `block_on` drops its unfinished tasks on return.
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    // The primitives outlive the tasks that waited on them.
    assert!(tx.send(1).is_err());
    notify.notify_waiters();
    notify.notify_one();
}

/// Counts its drop.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn runtime_dropped_with_tasks_pending_on_a_oneshot_and_notify() {
    let drops = Arc::new(AtomicUsize::new(0));
    let notify = Arc::new(Notify::new());
    let (tx, rx) = oneshot::channel::<u32>();
    let rt = Runtime::builder()
        .flavor(Flavor::CurrentThread)
        .build()
        .unwrap();
    let waiting = rt.block_on({
        let drops = drops.clone();
        let notify = notify.clone();
        async move {
            let d = drops.clone();
            let a = spawn(async move {
                let _probe = Counted(d);
                rx.await.ok()
            });
            let d = drops.clone();
            let n = notify.clone();
            let b = spawn(async move {
                let _probe = Counted(d);
                n.notified().await;
            });
            yield_now().await;
            (a, b)
        }
    });
    // The tasks survive between `block_on` calls of a runtime...
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rt);
    // ...and are dropped, cancelled, when it goes.
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    let (a, b) = waiting;
    assert!(block_on(a).unwrap_err().is_cancelled());
    assert!(block_on(b).unwrap_err().is_cancelled());
    assert!(tx.send(1).is_err());
    notify.notify_waiters();
}

#[test]
fn a_join_set_dropped_with_tasks_waiting_on_notify() {
    let drops = Arc::new(AtomicUsize::new(0));
    let notify = Arc::new(Notify::new());
    block_on({
        let drops = drops.clone();
        let notify = notify.clone();
        async move {
            let mut set = JoinSet::new();
            for _ in 0..3 {
                let d = drops.clone();
                let n = notify.clone();
                set.spawn(async move {
                    let _probe = Counted(d.clone());
                    let _pinned = Box::pin(PinnedProbe::new(d));
                    n.notified().await;
                });
            }
            let d = drops.clone();
            set.spawn(async move {
                let _probe = Counted(d.clone());
                PinnedProbe::new(d).await;
            });
            yield_now().await;
            drop(set);
            yield_now().await;
            // The waiters are gone from the list: notifying touches none.
            notify.notify_waiters();
            notify.notify_one();
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), 3 * 2 + 2);
}

// ── The reactor under the interpreter: epoll, eventfd, socketpair ────────────

#[test]
fn a_sleep_ends_a_timed_reactor_wait() {
    use moduvex_runtime::time::{sleep, timeout};
    use std::time::Duration;
    block_on(async {
        sleep(Duration::from_millis(2)).await;
        let late = timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
        assert!(late.is_err());
        let t = spawn(async { sleep(Duration::from_millis(1)).await });
        t.await.unwrap();
    });
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_block_on() {
    for _ in 0..ROUNDS {
        let out = block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let sender = std::thread::spawn(move || {
                // Give the runtime time to park in epoll_wait.
                std::thread::sleep(std::time::Duration::from_millis(1));
                let _ = tx.send(11);
            });
            let v = rx.await.unwrap();
            sender.join().unwrap();
            v
        });
        assert_eq!(out, 11);
    }
}

#[cfg(unix)]
#[test]
fn a_socket_pair_exchanges_bytes_through_the_reactor() {
    // `IoSource` over a socketpair used through plain `read`/`write`,
    // which Miri emulates (std's and our sockets write with `send`, which
    // it does not).
    use moduvex_runtime::reactor::IoSource;
    use std::fs::File;
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let [a, b] = [a, b].map(|s| {
            moduvex_runtime::platform::sys::set_nonblocking(s.as_raw_fd()).unwrap();
            IoSource::new(File::from(OwnedFd::from(s))).unwrap()
        });
        let reader = spawn(async move {
            let mut buf = [0u8; 5];
            let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            assert_eq!(n, 5);
            b.write_with(|mut s| s.write(b"world")).await.unwrap();
            buf
        });
        // The reader parks on an empty socket first.
        yield_now().await;
        a.write_with(|mut s| s.write(b"hello")).await.unwrap();
        let mut back = [0u8; 5];
        let n = a.read_with(|mut s| s.read(&mut back)).await.unwrap();
        assert_eq!(n, 5);
        assert_eq!(&reader.await.unwrap(), b"hello");
        assert_eq!(&back, b"world");
    });
}
