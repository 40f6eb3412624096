//! A waker whose `Drop` calls back into the primitive that stored it: the
//! primitive drops a replaced waker only after releasing its lock.

use std::future::Future;
use std::pin::pin;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::Duration;

use moduvex_runtime::task::CancellationToken;

/// Runs `f` on a thread and fails if it has not finished within a generous
/// bound (a deadlock guard, not a speed check).
fn within_bound(what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what}: deadlocked"));
}

/// A waker that runs `on_drop` when its last clone goes.
struct OnDrop(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Wake for OnDrop {
    // Waking only drops this handle: the type exists for its counted
    // handles and its `Drop`, which `Waker::noop` has not.
    fn wake(self: Arc<Self>) {
        drop(self);
    }
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(f) = self.0.lock().unwrap().take() {
            f();
        }
    }
}

fn waker_running(f: impl FnOnce() + Send + 'static) -> Waker {
    Waker::from(Arc::new(OnDrop(Mutex::new(Some(Box::new(f))))))
}

#[test]
fn cancellation_token_drops_a_replaced_waker_unlocked() {
    within_bound("CancellationToken", || {
        let token = CancellationToken::new();
        let child = token.child_token();
        let mut wait = pin!(child.cancelled());
        let t = token.clone();
        let first = waker_running(move || t.cancel());
        assert!(wait
            .as_mut()
            .poll(&mut Context::from_waker(&first))
            .is_pending());
        drop(first);
        // A new waker replaces the first, whose drop cancels the token.
        let second = Waker::noop();
        let _ = wait.as_mut().poll(&mut Context::from_waker(second));
        assert!(token.is_cancelled());
    });
}

#[cfg(unix)]
#[test]
fn signal_listener_drops_a_replaced_waker_unlocked() {
    within_bound("signal listener", || {
        use moduvex_runtime::signal::unix::{signal, SignalKind};
        moduvex_runtime::block_on(async {
            let mut sig = signal(SignalKind::user_defined2()).unwrap();
            let first = waker_running(move || {
                // Registering another listener takes the registry's lock.
                let _other = signal(SignalKind::user_defined2()).unwrap();
            });
            let mut recv = pin!(sig.recv());
            assert!(recv
                .as_mut()
                .poll(&mut Context::from_waker(&first))
                .is_pending());
            drop(first);
            let _ = recv.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        });
    });
}
