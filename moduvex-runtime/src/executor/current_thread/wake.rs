//! Waking a thread out of its reactor wait, and the waker of one
//! `block_on` call.
//!
//! Every handshake here is the same one: a thread about to block sets
//! `parked`, re-checks for work, and only then blocks in its reactor; a
//! waker publishes its work first, then swaps `parked` off and writes the
//! reactor's eventfd if it was on. With sequentially consistent accesses
//! either the thread sees the work or the waker sees `parked`.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;

use crate::reactor::{with_reactor, Unparker};

/// The calling thread's parking flag and its reactor's unparker.
pub(crate) struct ThreadParker {
    /// The thread is in (or about to enter) a blocking reactor poll.
    pub(crate) parked: AtomicBool,
    pub(crate) unparker: Unparker,
}

thread_local! {
    static THREAD: OnceCell<Arc<ThreadParker>> = const { OnceCell::new() };
}

impl ThreadParker {
    /// This thread's parker.
    pub(crate) fn for_this_thread() -> Arc<ThreadParker> {
        THREAD.with(|t| {
            t.get_or_init(|| {
                Arc::new(ThreadParker {
                    parked: AtomicBool::new(false),
                    unparker: with_reactor(|r| r.unparker()),
                })
            })
            .clone()
        })
    }

    /// Wakes the thread if it is parked (call after publishing work).
    pub(crate) fn unpark_if_parked(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            self.unparker.unpark();
        }
    }
}

/// The waker of one `block_on` call's future: each call has its own, so
/// two threads blocking on one runtime never take each other's wake-ups.
pub(crate) struct BlockOnWaker {
    /// The future was woken and must be polled (also set when the runtime's
    /// core is handed to this call).
    pub(crate) woken: AtomicBool,
    pub(crate) thread: Arc<ThreadParker>,
}

impl BlockOnWaker {
    pub(crate) fn for_this_thread() -> Arc<BlockOnWaker> {
        Arc::new(BlockOnWaker {
            woken: AtomicBool::new(true),
            thread: ThreadParker::for_this_thread(),
        })
    }
}

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark_if_parked();
    }
}
