//! `Runtime::block_on` for a multi-threaded runtime: the future runs on
//! the calling thread, which drives its own reactor and a timer shard of
//! this call's while it waits; tasks it spawns go to the workers.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::Shared;
use crate::coop;
use crate::executor::context::{self, Current};
use crate::executor::park::{self, Parker};
use crate::reactor::{with_reactor, DrivingGuard, Unparker};
use crate::time::driver::{self as timers, OnLeave};
use crate::time::shard::Shard;

/// Wakes the calling thread out of its reactor poll (same handshake as
/// the schedulers: publish `woken`, then swap `parked` off).
struct MainWaker {
    woken: AtomicBool,
    parked: AtomicBool,
    unparker: Unparker,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if self.parked.swap(false, Ordering::SeqCst) {
            self.unparker.unpark();
        }
    }
}

/// Runs `future` on this thread; `spawn` inside it targets `shared`.
#[track_caller]
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    context::assert_not_in_runtime();
    let _driving = DrivingGuard::enter();
    // The future's own timers: this call's shard, turned by its park loop.
    let _timers = timers::enter(
        Arc::new(Shard::new()),
        with_reactor(|r| r.unparker()),
        OnLeave::Drain,
    );
    let _restore = context::SchedulerGuard::enter(Current::Caller(shared));
    let main = Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        parked: AtomicBool::new(false),
        unparker: with_reactor(|r| r.unparker()),
    });
    let waker = Waker::from(main.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let parker: RefCell<Option<Parker>> = RefCell::new(None);
    loop {
        if main.woken.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(out) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
                return out;
            }
        }
        main.parked.store(true, Ordering::SeqCst);
        let block = !main.woken.load(Ordering::SeqCst);
        park::park(&parker, block, || {
            main.parked.store(false, Ordering::SeqCst)
        });
    }
}
