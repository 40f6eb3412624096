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
