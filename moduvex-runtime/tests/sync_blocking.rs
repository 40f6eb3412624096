//! The `blocking_*` methods of the sync primitives: they work from plain
//! threads and from the blocking pool, and panic at once, with a message that
//! says what to do, on any thread that drives a moduvex runtime.
#![cfg(not(loom))]

mod sync_common;

mod sync_blocking {
    use super::sync_common::hang_guard;
    use moduvex_runtime::sync::{broadcast, mpsc, oneshot, Mutex, RwLock};
    use moduvex_runtime::{block_on, spawn, spawn_blocking, Flavor, Runtime};
    use std::any::Any;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Arc;

    const MSG: &str = "Cannot block the current thread from within a runtime. \
        This happens because a function attempted to block the current thread while the \
        thread is being used to drive asynchronous tasks.";

    type Call = Box<dyn FnOnce() + Send>;

    /// One call of every `blocking_*` method, each on a primitive that is
    /// ready: without the runtime check the call would return, not hang.
    fn calls() -> Vec<(&'static str, Call)> {
        vec![
            (
                "mpsc::Sender::blocking_send",
                Box::new(|| {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.blocking_send(1u32).unwrap();
                    assert_eq!(rx.try_recv(), Ok(1));
                }),
            ),
            (
                "mpsc::Receiver::blocking_recv",
                Box::new(|| {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.try_send(1u32).unwrap();
                    assert_eq!(rx.blocking_recv(), Some(1));
                }),
            ),
            (
                "mpsc::Receiver::blocking_recv_many",
                Box::new(|| {
                    let (tx, mut rx) = mpsc::channel(2);
                    tx.try_send(1u32).unwrap();
                    tx.try_send(2).unwrap();
                    let mut buf = Vec::new();
                    assert_eq!(rx.blocking_recv_many(&mut buf, 8), 2);
                    assert_eq!(buf, [1, 2]);
                }),
            ),
            (
                "mpsc::UnboundedReceiver::blocking_recv",
                Box::new(|| {
                    let (tx, mut rx) = mpsc::unbounded_channel();
                    tx.send(1u32).unwrap();
                    assert_eq!(rx.blocking_recv(), Some(1));
                }),
            ),
            (
                "mpsc::UnboundedReceiver::blocking_recv_many",
                Box::new(|| {
                    let (tx, mut rx) = mpsc::unbounded_channel();
                    tx.send(1u32).unwrap();
                    drop(tx);
                    let mut buf = Vec::new();
                    assert_eq!(rx.blocking_recv_many(&mut buf, 8), 1);
                    assert_eq!(rx.blocking_recv_many(&mut buf, 8), 0);
                }),
            ),
            (
                "oneshot::Receiver::blocking_recv",
                Box::new(|| {
                    let (tx, rx) = oneshot::channel();
                    tx.send(1u32).unwrap();
                    assert_eq!(rx.blocking_recv(), Ok(1));
                }),
            ),
            (
                "broadcast::Receiver::blocking_recv",
                Box::new(|| {
                    let (tx, mut rx) = broadcast::channel(2);
                    tx.send(1u32).unwrap();
                    assert_eq!(rx.blocking_recv(), Ok(1));
                }),
            ),
            (
                "Mutex::blocking_lock",
                Box::new(|| {
                    let m = Mutex::new(1u32);
                    *m.blocking_lock() += 1;
                    assert_eq!(m.into_inner(), 2);
                }),
            ),
            (
                "Mutex::blocking_lock_owned",
                Box::new(|| {
                    let m = Arc::new(Mutex::new(1u32));
                    let g = Arc::clone(&m).blocking_lock_owned();
                    assert!(m.try_lock().is_err());
                    drop(g);
                }),
            ),
            (
                "RwLock::blocking_read",
                Box::new(|| {
                    let l = RwLock::new(1u32);
                    let a = l.blocking_read();
                    let b = l.blocking_read();
                    assert_eq!(*a + *b, 2);
                }),
            ),
            (
                "RwLock::blocking_write",
                Box::new(|| {
                    let l = RwLock::new(1u32);
                    *l.blocking_write() += 1;
                    assert_eq!(l.into_inner(), 2);
                }),
            ),
        ]
    }

    fn message(panic: &(dyn Any + Send)) -> &str {
        if let Some(s) = panic.downcast_ref::<String>() {
            s
        } else if let Some(s) = panic.downcast_ref::<&'static str>() {
            s
        } else {
            "<non-string panic>"
        }
    }

    /// Runs `call` on this thread; `Err` with the panic message if it panicked.
    fn run(call: Call) -> Result<(), String> {
        catch_unwind(AssertUnwindSafe(call)).map_err(|p| message(&*p).to_owned())
    }

    /// Collects what went wrong with one call that must have panicked with
    /// the runtime message (which also says what to do instead).
    fn check_refused(failures: &mut Vec<String>, name: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => failures.push(format!(
                "{name} blocked a runtime thread instead of panicking"
            )),
            Err(msg) if !msg.starts_with(MSG) => {
                failures.push(format!("{name} panicked with: {msg}"))
            }
            Err(msg) if !(msg.contains("`.await`") && msg.contains("spawn_blocking")) => {
                failures.push(format!("{name}: the message must say what to do: {msg}"))
            }
            Err(_) => {}
        }
    }

    /// Fails with every collected failure, one per line.
    fn assert_none(failures: Vec<String>) {
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    /// One runtime of each flavor.
    fn runtimes() -> [Runtime; 3] {
        [
            Runtime::builder()
                .flavor(Flavor::CurrentThread)
                .build()
                .unwrap(),
            Runtime::builder()
                .flavor(Flavor::ThreadPerCore)
                .worker_threads(2)
                .build()
                .unwrap(),
            multi_thread(),
        ]
    }

    fn multi_thread() -> Runtime {
        Runtime::builder()
            .flavor(Flavor::WorkStealing)
            .worker_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    #[should_panic(expected = "Cannot block the current thread from within a runtime")]
    fn blocking_recv_in_block_on_panics() {
        hang_guard("blocking_recv of an empty channel in block_on", || {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            block_on(async move {
                // Unchecked, this would park the only thread for good: the
                // sender is in this very future.
                let _ = rx.blocking_recv();
                drop(tx);
            });
        });
    }

    #[test]
    fn every_blocking_method_panics_inside_block_on() {
        hang_guard("blocking calls inside block_on", || {
            let mut failures = Vec::new();
            for (name, call) in calls() {
                check_refused(&mut failures, name, block_on(async move { run(call) }));
            }
            assert_none(failures);
        });
    }

    #[test]
    fn every_blocking_method_panics_inside_a_task() {
        hang_guard("blocking calls inside a task", || {
            let mut failures = Vec::new();
            block_on(async {
                for (name, call) in calls() {
                    let outcome = spawn(async move { run(call) }).await.unwrap();
                    check_refused(&mut failures, name, outcome);
                }
            });
            assert_none(failures);
        });
    }

    #[test]
    fn every_blocking_method_panics_on_a_worker_thread() {
        hang_guard("blocking calls on a worker", || {
            let mut failures = Vec::new();
            for rt in runtimes() {
                for (name, call) in calls() {
                    let outcome = rt.block_on(rt.spawn(async move { run(call) })).unwrap();
                    check_refused(&mut failures, name, outcome);
                }
            }
            assert_none(failures);
        });
    }

    #[test]
    fn every_blocking_method_panics_in_runtime_block_on() {
        hang_guard("blocking calls in Runtime::block_on", || {
            let mut failures = Vec::new();
            for rt in runtimes() {
                for (name, call) in calls() {
                    let outcome = rt.block_on(async move { run(call) });
                    check_refused(&mut failures, name, outcome);
                }
            }
            assert_none(failures);
        });
    }

    #[test]
    fn every_blocking_method_works_on_a_plain_thread() {
        hang_guard("blocking calls on a plain thread", || {
            for (name, call) in calls() {
                if let Err(msg) = run(call) {
                    panic!("{name} failed on a plain thread: {msg}");
                }
            }
        });
    }

    #[test]
    fn every_blocking_method_works_in_spawn_blocking() {
        hang_guard("blocking calls in spawn_blocking", || {
            for (name, call) in calls() {
                let outcome = block_on(async move { spawn_blocking(move || run(call)).await });
                if let Err(msg) = outcome.unwrap() {
                    panic!("{name} failed in spawn_blocking inside block_on: {msg}");
                }
            }
            for rt in runtimes() {
                for (name, call) in calls() {
                    let outcome = rt.block_on(rt.spawn_blocking(move || run(call)));
                    if let Err(msg) = outcome.unwrap() {
                        panic!("{name} failed in spawn_blocking: {msg}");
                    }
                }
            }
        });
    }

    #[test]
    fn spawn_blocking_waits_for_tasks() {
        hang_guard("spawn_blocking waiting on tasks", || {
            let rt = multi_thread();
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<u32>(1);
                let (done_tx, done_rx) = oneshot::channel::<u32>();
                let lock = Arc::new(Mutex::new(0u32));
                let guard = Arc::clone(&lock).lock_owned().await;
                let l2 = Arc::clone(&lock);
                let consumer = spawn_blocking(move || {
                    let mut sum = 0;
                    while let Some(v) = rx.blocking_recv() {
                        sum += v;
                    }
                    *l2.blocking_lock() += sum;
                    done_rx.blocking_recv().unwrap()
                });
                for i in 1..=10 {
                    tx.send(i).await.unwrap();
                }
                drop(tx);
                drop(guard);
                done_tx.send(7).unwrap();
                assert_eq!(consumer.await.unwrap(), 7);
                assert_eq!(*lock.lock().await, 55);
            });
        });
    }
}
