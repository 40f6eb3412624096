//! The attribute macros on every runtime flavor (needs `Runtime`).

use std::collections::HashSet;
use std::thread::ThreadId;

use moduvex_runtime::task::JoinSet;
use moduvex_runtime::yield_now;

/// Spawns tasks that yield, joins them, and returns the worker threads
/// they finished on.
async fn threads_used(tasks: usize) -> HashSet<ThreadId> {
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        set.spawn(async {
            yield_now().await;
            std::thread::current().id()
        });
    }
    set.join_all().await.into_iter().collect()
}

#[moduvex_runtime::test(flavor = "work_stealing", worker_threads = 2)]
async fn work_stealing_flavor_runs_tasks_off_the_test_thread() {
    let caller = std::thread::current().id();
    let used = threads_used(64).await;
    assert!(!used.contains(&caller), "spawned tasks run on workers");
}

#[moduvex_runtime::test(flavor = "thread_per_core", worker_threads = 2)]
async fn thread_per_core_flavor_runs_tasks_off_the_test_thread() {
    let caller = std::thread::current().id();
    let used = threads_used(64).await;
    assert!(!used.contains(&caller), "spawned tasks run on workers");
}

#[moduvex_runtime::test(worker_threads = 1)]
async fn worker_threads_alone_means_a_multi_thread_runtime() {
    let caller = std::thread::current().id();
    let used = threads_used(8).await;
    assert_eq!(used.len(), 1);
    assert!(!used.contains(&caller));
}

#[moduvex_runtime::test]
async fn test_default_is_current_thread() {
    let caller = std::thread::current().id();
    let used = threads_used(8).await;
    assert_eq!(used, HashSet::from([caller]));
}

/// `#[main]` with no arguments: `Runtime::new()`.
#[moduvex_runtime::main]
async fn default_main() -> usize {
    threads_used(16).await.len()
}

#[test]
fn main_default_runs_a_multi_thread_runtime() {
    assert!(default_main() >= 1);
}

#[moduvex_runtime::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokios_multi_thread_flavor_name_means_work_stealing() {
    let handle = moduvex_runtime::Handle::current();
    assert_eq!(handle.flavor(), moduvex_runtime::Flavor::WorkStealing);
    assert_eq!(handle.worker_threads(), 2);
}

#[moduvex_runtime::test]
async fn the_test_attribute_defaults_to_current_thread() {
    let handle = moduvex_runtime::Handle::current();
    assert_eq!(handle.flavor(), moduvex_runtime::Flavor::CurrentThread);
}
