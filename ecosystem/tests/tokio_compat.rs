//! Feature `tokio-compat`: tokio's runtime API used from moduvex tasks with
//! no wrapper (`tokio::spawn`, `tokio::time`, `tokio::net`), and moduvex's
//! used from tokio tasks, on every flavor and through the macros.

mod hyper_common;

use std::time::Duration;

use hyper_common::guard;
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::{Builder, Flavor, Runtime};

/// A runtime of each flavor: current-thread, work-stealing (2 workers)
/// and thread-per-core (2 workers).
fn runtimes() -> Vec<Runtime> {
    let mut all = vec![Builder::new_current_thread().build().unwrap()];
    for flavor in [Flavor::WorkStealing, Flavor::ThreadPerCore] {
        all.push(Builder::new(flavor).worker_threads(2).build().unwrap());
    }
    all
}

#[test]
fn tokio_spawn_from_a_moduvex_task() {
    guard("tokio_spawn_from_a_moduvex_task", || {
        for rt in runtimes() {
            let flavor = rt.handle().flavor();
            let out = rt.block_on(async {
                // From a spawned moduvex task (a worker), and from the
                // `block_on` future itself.
                let task = moduvex_runtime::spawn(async {
                    let a = tokio::spawn(async { 20 });
                    let b = tokio::spawn(async { 1 });
                    a.await.unwrap() + b.await.unwrap()
                });
                let c = tokio::spawn(async { 21 }).await.unwrap();
                task.await.unwrap() + c
            });
            assert_eq!(out, 42, "{flavor:?}");
        }
    });
}

#[test]
fn tokio_spawn_on_a_runtime_handle_from_a_plain_thread() {
    guard(
        "tokio_spawn_on_a_runtime_handle_from_a_plain_thread",
        || {
            for rt in runtimes() {
                let handle = rt.handle().clone();
                let task = std::thread::spawn(move || {
                    let _entered = handle.enter();
                    tokio::spawn(async { 7 })
                })
                .join()
                .unwrap();
                assert_eq!(rt.block_on(task).unwrap(), 7);
            }
        },
    );
}

#[test]
fn tokio_spawn_from_spawn_blocking() {
    guard("tokio_spawn_from_spawn_blocking", || {
        for rt in runtimes() {
            let out = rt.block_on(async {
                let task = moduvex_runtime::spawn_blocking(|| tokio::spawn(async { 5 }))
                    .await
                    .unwrap();
                task.await.unwrap()
            });
            assert_eq!(out, 5);
        }
    });
}

#[test]
fn tokio_sleep_and_timeout_in_moduvex_tasks() {
    guard("tokio_sleep_and_timeout_in_moduvex_tasks", || {
        for rt in runtimes() {
            rt.block_on(async {
                let slept = moduvex_runtime::spawn(async {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    "slept"
                });
                assert_eq!(slept.await.unwrap(), "slept");
                // A tokio timeout around a future that never completes fires.
                let never = std::future::pending::<()>();
                let timed_out = tokio::time::timeout(Duration::from_millis(2), never).await;
                assert!(timed_out.is_err());
                // ... and one around a ready future does not.
                let ready = tokio::time::timeout(Duration::from_secs(60), async { 3 }).await;
                assert_eq!(ready.unwrap(), 3);
            });
        }
    });
}

#[test]
fn moduvex_timers_sockets_and_spawn_inside_a_tokio_task() {
    guard(
        "moduvex_timers_sockets_and_spawn_inside_a_tokio_task",
        || {
            for rt in runtimes() {
                let flavor = rt.handle().flavor();
                let out = rt.block_on(async {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = moduvex_runtime::spawn(async move {
                        let (mut s, _) = listener.accept().await.unwrap();
                        let mut buf = [0u8; 4];
                        moduvex_runtime::io::AsyncReadExt::read_exact(&mut s, &mut buf)
                            .await
                            .unwrap();
                        moduvex_runtime::io::AsyncWriteExt::write_all(&mut s, &buf)
                            .await
                            .unwrap();
                    });
                    let task = tokio::spawn(async move {
                        moduvex_runtime::time::sleep(Duration::from_millis(2)).await;
                        let inner = moduvex_runtime::spawn(async { 40 });
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        moduvex_runtime::io::AsyncWriteExt::write_all(&mut s, b"ping")
                            .await
                            .unwrap();
                        let mut buf = [0u8; 4];
                        moduvex_runtime::io::AsyncReadExt::read_exact(&mut s, &mut buf)
                            .await
                            .unwrap();
                        assert_eq!(&buf, b"ping");
                        inner.await.unwrap() + 2
                    });
                    let out = task.await.unwrap();
                    server.await.unwrap();
                    out
                });
                assert_eq!(out, 42, "{flavor:?}");
            }
        },
    );
}

#[test]
fn free_block_on_has_its_own_tokio_runtime() {
    guard("free_block_on_has_its_own_tokio_runtime", || {
        for i in 0..3 {
            let out = moduvex_runtime::block_on(async move {
                let t = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    moduvex_runtime::spawn(async move { i }).await.unwrap()
                });
                t.await.unwrap()
            });
            assert_eq!(out, i);
        }
    });
}

#[test]
fn tokio_tasks_of_a_current_thread_runtime_outlive_one_block_on() {
    guard(
        "tokio_tasks_of_a_current_thread_runtime_outlive_one_block_on",
        || {
            let rt = Builder::new_current_thread().build().unwrap();
            let (tx, rx) = moduvex_runtime::sync::oneshot::channel();
            let (go, wait) = moduvex_runtime::sync::oneshot::channel::<()>();
            // Started in one `block_on`, finished while the next one runs:
            // the tokio runtime belongs to the `Runtime`, not to the call.
            rt.block_on(async move {
                tokio::spawn(async move {
                    wait.await.unwrap();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    tx.send(9).unwrap();
                });
            });
            let got = rt.block_on(async move {
                go.send(()).unwrap();
                rx.await.unwrap()
            });
            assert_eq!(got, 9);
        },
    );
}

#[test]
fn tokio_tcp_stream_in_a_moduvex_task() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    guard("tokio_tcp_stream_in_a_moduvex_task", || {
        for rt in runtimes() {
            let flavor = rt.handle().flavor();
            rt.block_on(async {
                // A tokio client against our listener...
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = moduvex_runtime::spawn(async move {
                    let (s, _) = listener.accept().await.unwrap();
                    let (mut r, mut w) = s.into_split();
                    moduvex_runtime::io::copy(&mut r, &mut w).await.unwrap()
                });
                let client = moduvex_runtime::spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    let mut buf = vec![0u8; 1000];
                    for round in 0..50u32 {
                        let msg: Vec<u8> = (0..1000u32).map(|i| (i ^ round) as u8).collect();
                        s.write_all(&msg).await.unwrap();
                        s.read_exact(&mut buf).await.unwrap();
                        assert_eq!(buf, msg);
                    }
                    s.shutdown().await.unwrap();
                });
                client.await.unwrap();
                assert_eq!(server.await.unwrap(), 50_000, "{flavor:?}");

                // ... and our client against a tokio listener.
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = moduvex_runtime::spawn(async move {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut got = Vec::new();
                    s.read_to_end(&mut got).await.unwrap();
                    s.write_all(&got).await.unwrap();
                    got.len()
                });
                let mut s = TcpStream::connect(addr).await.unwrap();
                let msg = b"through tokio's reactor and back".repeat(100);
                moduvex_runtime::io::AsyncWriteExt::write_all(&mut s, &msg)
                    .await
                    .unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                let mut back = Vec::new();
                moduvex_runtime::io::AsyncReadExt::read_to_end(&mut s, &mut back)
                    .await
                    .unwrap();
                assert_eq!(back, msg);
                assert_eq!(server.await.unwrap(), msg.len());
            });
        }
    });
}

#[moduvex_runtime::main(flavor = "current_thread")]
async fn main_current_thread() -> u32 {
    tokio::spawn(async { 1 }).await.unwrap()
}

#[moduvex_runtime::main(worker_threads = 2)]
async fn main_work_stealing() -> u32 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    moduvex_runtime::spawn(async { tokio::spawn(async { 2 }).await.unwrap() })
        .await
        .unwrap()
}

#[test]
fn the_main_macro_path() {
    guard("the_main_macro_path", || {
        assert_eq!(main_current_thread(), 1);
        assert_eq!(main_work_stealing(), 2);
    });
}

/// Aborts the process with a message unless dropped within 120 s: the
/// hang guard of the macro-made tests, which run on the test's own thread.
struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    fn new(what: &'static str) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(Duration::from_secs(120))
            {
                eprintln!("{what}: did not finish within 120 s (hang)");
                std::process::abort();
            }
        });
        Watchdog(Some(tx))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[moduvex_runtime::test]
async fn the_test_macro_path() {
    let _watchdog = Watchdog::new("the_test_macro_path");
    let task = tokio::spawn(async {
        moduvex_runtime::time::sleep(Duration::from_millis(1)).await;
        3
    });
    assert_eq!(task.await.unwrap(), 3);
}

#[moduvex_runtime::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_macro_path_multi_thread() {
    let _watchdog = Watchdog::new("the_test_macro_path_multi_thread");
    let task = moduvex_runtime::spawn(async { tokio::spawn(async { 4 }).await.unwrap() });
    assert_eq!(task.await.unwrap(), 4);
}
