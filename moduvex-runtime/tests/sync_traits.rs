//! Compile-time checks: handles and futures are `Send`/`Sync` exactly when
//! they should be, and error types are usable as `std::error::Error`.
#![cfg(not(loom))]

mod sync_traits {
    use moduvex_runtime::sync::{
        broadcast, mpsc, oneshot, watch, Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore,
    };
    use std::future::Future;

    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    fn send_future<F: Future + Send>(_: F) {}

    #[test]
    fn handles_are_send_and_sync() {
        send_sync::<mpsc::Sender<Vec<u8>>>();
        send_sync::<mpsc::Receiver<Vec<u8>>>();
        send_sync::<mpsc::UnboundedSender<Vec<u8>>>();
        send_sync::<oneshot::Sender<Vec<u8>>>();
        send_sync::<oneshot::Receiver<Vec<u8>>>();
        send_sync::<broadcast::Sender<Vec<u8>>>();
        send_sync::<broadcast::Receiver<Vec<u8>>>();
        send_sync::<watch::Sender<Vec<u8>>>();
        send_sync::<watch::Receiver<Vec<u8>>>();
        send_sync::<Mutex<Vec<u8>>>();
        send_sync::<RwLock<Vec<u8>>>();
        send_sync::<Semaphore>();
        send_sync::<Notify>();
        send_sync::<Barrier>();
        send_sync::<OnceCell<Vec<u8>>>();
        // A `Mutex` makes a `Send`-only value shareable.
        send_sync::<Mutex<std::cell::Cell<u8>>>();
    }

    #[test]
    fn futures_are_send() {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        send_future(tx.send(1));
        send_future(tx.reserve());
        send_future(rx.recv());
        let m = Mutex::new(0u8);
        send_future(m.lock());
        let s = Semaphore::new(1);
        send_future(s.acquire());
        let n = Notify::new();
        send_future(n.notified());
        let (_wtx, mut wrx) = watch::channel(0u8);
        send_future(wrx.changed());
        let (_btx, mut brx) = broadcast::channel::<u8>(1);
        send_future(brx.recv());
        let guard = m.try_lock().unwrap();
        send(&guard);
    }

    #[test]
    fn errors_are_std_errors() {
        error::<mpsc::error::SendError<u8>>();
        error::<mpsc::error::TrySendError<u8>>();
        error::<mpsc::error::TryRecvError>();
        error::<oneshot::error::RecvError>();
        error::<oneshot::error::TryRecvError>();
        error::<broadcast::error::RecvError>();
        error::<broadcast::error::SendError<u8>>();
        error::<watch::error::RecvError>();
        error::<watch::error::SendError<u8>>();
        error::<moduvex_runtime::sync::AcquireError>();
        error::<moduvex_runtime::sync::TryAcquireError>();
        error::<moduvex_runtime::sync::TryLockError>();
        error::<moduvex_runtime::sync::SetError<u8>>();
        // Debug without `T: Debug`.
        struct Opaque;
        let e = mpsc::error::TrySendError::Full(Opaque);
        assert_eq!(format!("{e:?}"), "Full(..)");
    }
}
