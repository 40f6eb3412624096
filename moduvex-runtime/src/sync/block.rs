//! A thread-parking `block_on` for the `blocking_*` methods.
//!
//! It lets synchronous code wait on a primitive without any runtime: the
//! waker unparks the calling thread. On a thread that drives a moduvex
//! runtime (inside `block_on`, a task, a worker) parking would stall every
//! task of that thread, and could wait forever for a task that only this
//! thread can run; so there it panics at once, with tokio's message, instead
//! of hanging silently. Blocking-pool threads run no runtime and may block.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// The panic message of a `blocking_*` call on a runtime thread.
const IN_RUNTIME: &str = "Cannot block the current thread from within a runtime. \
    This happens because a function attempted to block the current thread while the thread \
    is being used to drive asynchronous tasks. Use the async version with `.await` instead, \
    or call the blocking one from `spawn_blocking` or a thread outside the runtime.";

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` to completion on the current thread, parking between polls.
///
/// # Panics
///
/// With [`IN_RUNTIME`] if this thread drives a moduvex runtime.
#[track_caller]
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    if crate::executor::drives_runtime() {
        panic!("{IN_RUNTIME}");
    }
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        // Spurious unparks only cost an extra poll.
        thread::park();
    }
}
