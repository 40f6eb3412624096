//! No timer or socket event is stranded on a thread that cannot deliver it:
//! a current-thread runtime's timers follow whichever thread drives it, a
//! `Sleep` may be polled by any executor, and while a worker is blocked an
//! idle sibling fires its timers and delivers its sockets.
//!
//! Every test checks ordering, never timing: a blocked worker waits (up to
//! a bound) for events that only another thread can deliver, and the test
//! fails if they did not arrive while it waited. Each runs under a hang
//! guard.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use futures_lite::future::poll_once;
use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::TcpListener;
use moduvex_runtime::time::{sleep, timeout, Instant};
use moduvex_runtime::{block_on, spawn, yield_now, Flavor, Runtime};

/// How long a blocked worker waits for what a sibling must deliver.
const BOUND: Duration = Duration::from_secs(10);
/// The hang guard: generous, past `BOUND`.
const GUARD: Duration = Duration::from_secs(40);

/// Runs `f` on a helper thread and fails clearly if it has not finished
/// within [`GUARD`].
fn guarded(name: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(GUARD) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The scenario panicked: report its panic.
            if let Err(e) = t.join() {
                std::panic::resume_unwind(e);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: hung for {GUARD:?} (a timer or socket event was never delivered)")
        }
    }
}

/// Blocks the calling (worker) thread until `done()` or [`BOUND`]; returns
/// whether `done()` became true.
fn block_thread_until(done: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while !done() {
        if start.elapsed() > BOUND {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

fn two_workers(flavor: Flavor) -> Runtime {
    Runtime::builder()
        .flavor(flavor)
        .worker_threads(2)
        .build()
        .unwrap()
}

#[test]
fn a_timer_filed_while_one_thread_drives_fires_when_another_drives_next() {
    guarded("current-thread timer across drivers", || {
        let rt = Arc::new(
            Runtime::builder()
                .flavor(Flavor::CurrentThread)
                .build()
                .unwrap(),
        );
        let filed = Arc::new(AtomicBool::new(false));
        let (tx, rx) = moduvex_runtime::sync::oneshot::channel::<()>();
        // Thread A drives: the task files its timer on the runtime's wheel.
        let a = {
            let (rt, filed) = (rt.clone(), filed.clone());
            thread::spawn(move || {
                rt.block_on(async {
                    let f = filed.clone();
                    spawn(async move {
                        let filed = f;
                        let mut s = pin!(sleep(Duration::from_millis(100)));
                        assert_eq!(poll_once(s.as_mut()).await, None);
                        filed.store(true, Ordering::SeqCst);
                        s.await;
                        let _ = tx.send(());
                    });
                    while !filed.load(Ordering::SeqCst) {
                        yield_now().await;
                    }
                });
            })
        };
        a.join().unwrap();
        // Thread A has exited. Thread B drives next: the timer fires there.
        thread::spawn(move || rt.block_on(rx).unwrap())
            .join()
            .unwrap();
    });
}

#[test]
fn a_sleep_and_a_timeout_complete_on_a_foreign_executor() {
    guarded("foreign executor", || {
        // Made in a runtime (one of them polled there once), polled by
        // futures-lite's executor on plain threads.
        let (filed, fresh, limited) = block_on(async {
            let mut filed = sleep(Duration::from_millis(30));
            assert_eq!(poll_once(&mut filed).await, None);
            let fresh = sleep(Duration::from_millis(30));
            let limited = timeout(Duration::from_millis(30), std::future::pending::<()>());
            (filed, fresh, limited)
        });
        let deadline = filed.deadline();
        thread::spawn(move || futures_lite::future::block_on(filed))
            .join()
            .unwrap();
        assert!(Instant::now() >= deadline);
        thread::spawn(move || futures_lite::future::block_on(fresh))
            .join()
            .unwrap();
        let res = thread::spawn(move || futures_lite::future::block_on(limited))
            .join()
            .unwrap();
        assert!(res.is_err(), "the timeout elapsed");
    });
}

/// Blocks worker `other` (whichever runs it) until `release` is set:
/// while it holds, everything spawned runs on the remaining worker.
fn occupy_a_worker(
    release: Arc<AtomicBool>,
) -> (moduvex_runtime::JoinHandle<ThreadId>, Arc<AtomicBool>) {
    let started = Arc::new(AtomicBool::new(false));
    let s = started.clone();
    let handle = spawn(async move {
        s.store(true, Ordering::SeqCst);
        block_thread_until(|| release.load(Ordering::SeqCst));
        thread::current().id()
    });
    (handle, started)
}

#[test]
fn timers_of_a_blocked_worker_fire_on_its_idle_sibling() {
    guarded("blocked worker's timers", || {
        let rt = two_workers(Flavor::WorkStealing);
        rt.block_on(async {
            let release = Arc::new(AtomicBool::new(false));
            let (occupier, started) = occupy_a_worker(release.clone());
            while !started.load(Ordering::SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
            let fired = Arc::new(AtomicUsize::new(0));
            let f = fired.clone();
            let blocker = spawn(async move {
                let here = thread::current().id();
                let filed = Arc::new(AtomicUsize::new(0));
                // The other worker is occupied: these tasks run here first,
                // and file their timers on this worker's wheel.
                let timers: Vec<_> = (0..8u64)
                    .map(|i| {
                        let (filed, fired) = (filed.clone(), f.clone());
                        spawn(async move {
                            let first = thread::current().id();
                            let mut s = sleep(Duration::from_millis(200 + 10 * i));
                            assert_eq!(poll_once(&mut s).await, None);
                            filed.fetch_add(1, Ordering::SeqCst);
                            s.await;
                            fired.fetch_add(1, Ordering::SeqCst);
                            first
                        })
                    })
                    .collect();
                while filed.load(Ordering::SeqCst) < 8 {
                    yield_now().await;
                }
                // The sibling goes idle; this worker blocks until the
                // timers have fired and their tasks ran elsewhere.
                release.store(true, Ordering::SeqCst);
                let delivered = block_thread_until(|| f.load(Ordering::SeqCst) == 8);
                (here, delivered, timers)
            });
            let (here, delivered, timers) = blocker.await.unwrap();
            for t in timers {
                assert_eq!(t.await.unwrap(), here, "timers filed on the blocked worker");
            }
            assert_ne!(occupier.await.unwrap(), here);
            assert!(
                delivered,
                "the timers waited for their blocked worker although its sibling was idle"
            );
            assert_eq!(fired.load(Ordering::SeqCst), 8);
        });
    });
}

#[test]
fn sockets_of_a_blocked_worker_are_delivered_by_its_idle_sibling() {
    guarded("blocked worker's socket", || {
        let rt = two_workers(Flavor::WorkStealing);
        let (addr_tx, addr_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let client = thread::spawn(move || {
            use std::io::Write;
            let addr: std::net::SocketAddr = addr_rx.recv().unwrap();
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            // Written once the connection's reader waits on its worker and
            // that worker is blocked.
            go_rx.recv().unwrap();
            stream.write_all(b"hello").unwrap();
            // Held open until the test ends.
            let _ = go_rx.recv();
        });
        rt.block_on(async move {
            let release = Arc::new(AtomicBool::new(false));
            let (occupier, started) = occupy_a_worker(release.clone());
            while !started.load(Ordering::SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
            let blocker = spawn(async move {
                let here = thread::current().id();
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let waiting = Arc::new(AtomicBool::new(false));
                let read = Arc::new(AtomicBool::new(false));
                let reader = {
                    let (waiting, read) = (waiting.clone(), read.clone());
                    spawn(async move {
                        let first = thread::current().id();
                        let mut buf = [0u8; 5];
                        {
                            // Settled on this worker's reactor: its first
                            // poll finds no data.
                            let mut fut = pin!(stream.read_exact(&mut buf));
                            assert!(poll_once(fut.as_mut()).await.is_none());
                            waiting.store(true, Ordering::SeqCst);
                            fut.await.unwrap();
                        }
                        assert_eq!(&buf, b"hello");
                        read.store(true, Ordering::SeqCst);
                        let _ = stream.write_all(b"!").await;
                        (first, thread::current().id())
                    })
                };
                while !waiting.load(Ordering::SeqCst) {
                    yield_now().await;
                }
                release.store(true, Ordering::SeqCst);
                go_tx.send(()).unwrap();
                let delivered = block_thread_until(|| read.load(Ordering::SeqCst));
                drop(go_tx);
                (here, delivered, reader)
            });
            let (here, delivered, reader) = blocker.await.unwrap();
            let (first, last) = reader.await.unwrap();
            assert_eq!(first, here, "the connection settled on the blocked worker");
            assert_ne!(occupier.await.unwrap(), here);
            assert!(
                delivered,
                "the data waited for its blocked worker although its sibling was idle"
            );
            assert_ne!(last, here, "read on the other worker");
        });
        client.join().unwrap();
    });
}

/// Counts wake-ups.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn timers_of_a_blocked_thread_per_core_worker_are_still_delivered() {
    guarded("thread-per-core timers", || {
        let rt = two_workers(Flavor::ThreadPerCore);
        let delivered = rt.block_on(async {
            spawn(async {
                // Homed here: the task cannot move, but its wake-ups are
                // still delivered while it blocks its worker.
                let counter = Arc::new(Counter(AtomicUsize::new(0)));
                let waker = Waker::from(counter.clone());
                let mut cx = Context::from_waker(&waker);
                let mut sleeps: Vec<_> = (0..8u64)
                    .map(|i| sleep(Duration::from_millis(50 + 10 * i)))
                    .collect();
                for s in &mut sleeps {
                    assert_eq!(pin!(s).poll(&mut cx), Poll::Pending);
                }
                block_thread_until(|| counter.0.load(Ordering::SeqCst) == 8)
            })
            .await
            .unwrap()
        });
        assert!(
            delivered,
            "timers waited for their blocked worker although its sibling was idle"
        );
    });
}

#[test]
fn a_worker_woken_in_an_all_idle_runtime_gets_its_timers_delivered() {
    guarded("blocked worker of an all-idle runtime", || {
        let rt = two_workers(Flavor::WorkStealing);
        let delivered = rt.block_on(async {
            // Both workers park with nobody busy: neither naps.
            sleep(Duration::from_millis(100)).await;
            // One wakes for this task and blocks in it; the other, parked
            // without a timeout, must be woken to stand in (the hand-off,
            // modelled in `watch/loom_tests.rs`, or the idle protocol's
            // search chain, whichever comes first).
            spawn(async {
                let counter = Arc::new(Counter(AtomicUsize::new(0)));
                let waker = Waker::from(counter.clone());
                let mut cx = Context::from_waker(&waker);
                let mut sleeps: Vec<_> = (0..8u64)
                    .map(|i| sleep(Duration::from_millis(20 + 5 * i)))
                    .collect();
                for s in &mut sleeps {
                    assert_eq!(pin!(s).poll(&mut cx), Poll::Pending);
                }
                block_thread_until(|| counter.0.load(Ordering::SeqCst) == 8)
            })
            .await
            .unwrap()
        });
        assert!(
            delivered,
            "the timers waited for their blocked worker although its sibling was idle"
        );
    });
}
