//! Test-only helpers for the `sync_*` tests: a thread-parking `block_on`,
//! thread-backed `spawn`, a counting waker for polling by hand, a waker that
//! runs code when dropped, and a hang guard for tests that could deadlock.
//!
//! They keep the sync tests independent of any executor: the primitives
//! under test only ever see the `Waker` they are polled with.
#![allow(dead_code)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` to completion on this thread.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// Runs `fut` on a new OS thread.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    thread::spawn(move || block_on(fut))
}

/// A waker that counts how often it was woken.
#[derive(Default)]
pub struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counting waker and its counter.
pub fn counting_waker() -> (Waker, Arc<Counter>) {
    let c = Arc::new(Counter::default());
    (Waker::from(c.clone()), c)
}

impl Counter {
    /// Wake-ups so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `fut` once with `waker`.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Boxes and pins a future, for polling by hand.
pub fn boxed<'a, F: Future + 'a>(fut: F) -> Pin<Box<dyn Future<Output = F::Output> + 'a>> {
    Box::pin(fut)
}

/// A future that returns `Pending` once (waking itself), then `Ready`.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

type Hook = Box<dyn FnOnce() + Send>;

/// A waker that does nothing when woken and runs its hook when the last
/// clone is dropped.
struct DropHook {
    hook: Mutex<Option<Hook>>,
    ran: Arc<AtomicBool>,
}

impl Wake for DropHook {
    // Waking only drops this handle: the type exists for its counted
    // handles and its `Drop`, which `Waker::noop` has not.
    fn wake(self: Arc<Self>) {
        drop(self);
    }
}

impl Drop for DropHook {
    fn drop(&mut self) {
        let hook = self.hook.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(hook) = hook {
            hook();
            self.ran.store(true, Ordering::SeqCst);
        }
    }
}

/// A waker whose `Drop` (of its last clone) runs `hook`, and a flag set once
/// the hook has returned. Used to check that a primitive never drops a
/// stored waker while holding its own lock: a hook that calls back into the
/// primitive would deadlock there.
pub fn drop_hook_waker(hook: impl FnOnce() + Send + 'static) -> (Waker, Arc<AtomicBool>) {
    let ran = Arc::new(AtomicBool::new(false));
    let waker = Waker::from(Arc::new(DropHook {
        hook: Mutex::new(Some(Box::new(hook))),
        ran: Arc::clone(&ran),
    }));
    (waker, ran)
}

/// How long [`hang_guard`] waits before calling a scenario deadlocked.
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// Runs `f` on a helper thread and returns its result; panics with a clear
/// message if it has not finished after [`HANG_LIMIT`] (a deadlock), and
/// passes on its panic if it panicked.
pub fn hang_guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let th = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG_LIMIT) {
        Ok(v) => {
            let _ = th.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match th.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the helper thread sends before it returns"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: deadlocked (not finished after {HANG_LIMIT:?})")
        }
    }
}
