//! Feature `tokio-compat` leaves no thread behind: after a runtime that
//! used tokio's API (tasks, timers, sockets, tokio's blocking pool) is
//! dropped, the process has the threads it had before. One test in its own
//! process, so no other test's threads come and go meanwhile.

mod hyper_common;

use std::time::{Duration, Instant};

use hyper_common::guard;
use moduvex_runtime::{Builder, Flavor, Runtime};

/// Names of this process's threads (`/proc/self/task/*/comm`).
fn threads() -> Vec<String> {
    let mut names = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let comm = task.unwrap().path().join("comm");
        // A thread that exited meanwhile has no `comm` any more.
        if let Ok(name) = std::fs::read_to_string(comm) {
            names.push(name.trim_end().to_string());
        }
    }
    names.sort();
    names
}

/// Waits (at most 30 s, a hang bound) until the process has no more
/// threads than `want` and none named `ours*`: a thread that has returned
/// may still be unwinding its thread-locals for a moment before the kernel
/// drops it from the list.
fn settle_to(want: &[String], ours: &str) -> Vec<String> {
    let start = Instant::now();
    loop {
        let now = threads();
        let settled = now.len() <= want.len() && !now.iter().any(|t| t.starts_with(ours));
        if settled || start.elapsed() > Duration::from_secs(30) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Uses everything that starts a thread: the tokio thread, tokio's blocking
/// pool (`tokio::task::spawn_blocking`), our blocking pool, tokio timers
/// and sockets, a tokio task left unfinished.
fn exercise(rt: &Runtime) {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Never finishes: dropped with the runtime.
        tokio::spawn(async move {
            let _keep = listener.accept().await;
            std::future::pending::<()>().await
        });
        let _stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let a = tokio::task::spawn_blocking(|| 1).await.unwrap();
        let b = moduvex_runtime::spawn_blocking(|| 2).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let c = tokio::spawn(async { moduvex_runtime::spawn(async { 3 }).await.unwrap() })
            .await
            .unwrap();
        assert_eq!(a + b + c, 6);
    });
}

#[test]
fn no_thread_is_left_after_a_runtime_is_dropped() {
    guard("no_thread_is_left_after_a_runtime_is_dropped", || {
        // Process-wide threads that start on first use (the reactor's
        // fallback thread, ...) start here, before the count is taken.
        let warm_up = Builder::new_current_thread().build().unwrap();
        exercise(&warm_up);
        drop(warm_up);
        moduvex_runtime::block_on(async { tokio::spawn(async {}).await.unwrap() });
        // (A thread of the warm-up may still be leaving: it is counted
        // here, and may be gone below.)
        let before = threads();

        for flavor in [
            Flavor::CurrentThread,
            Flavor::WorkStealing,
            Flavor::ThreadPerCore,
        ] {
            let rt = Builder::new(flavor)
                .worker_threads(2)
                .thread_name("compat-count")
                .build()
                .unwrap();
            // A thread names itself once it runs: wait for it to.
            let start = Instant::now();
            let mut during = threads();
            while !during.iter().any(|t| t == "compat-count-to")
                && start.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(5));
                during = threads();
            }
            assert!(
                during.iter().any(|t| t == "compat-count-to"),
                "{flavor:?}: no tokio thread among {during:?}"
            );
            exercise(&rt);
            drop(rt);
            let after = settle_to(&before, "compat-count");
            assert!(
                after.len() <= before.len() && !after.iter().any(|t| t.starts_with("compat-count")),
                "{flavor:?}: threads left after the drop: {after:?}, before: {before:?}"
            );
        }
        // The free `block_on`'s tokio runtime ends with the call.
        moduvex_runtime::block_on(async {
            tokio::task::spawn_blocking(|| ()).await.unwrap();
        });
        let after = settle_to(&before, "compat-count");
        assert!(
            after.len() <= before.len(),
            "threads left after the free block_on: {after:?}, before: {before:?}"
        );
    });
}
