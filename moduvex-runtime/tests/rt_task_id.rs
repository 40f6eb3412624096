//! `task::Id`: one unique id per task, seen the same way from inside the
//! task (`task::id()`), through its handles and through its error.

use std::collections::HashSet;
use std::panic::catch_unwind;

use moduvex_runtime::task::{self, Id, JoinSet};
use moduvex_runtime::{block_on, spawn, spawn_local, Builder, Flavor, Runtime};

#[test]
fn ids_are_unique_across_tasks_and_runtimes() {
    let mut seen = HashSet::new();
    block_on(async {
        for _ in 0..200 {
            assert!(seen.insert(spawn(async {}).id()));
        }
    });
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let mut set = JoinSet::new();
    rt.block_on(async {
        for _ in 0..200 {
            set.spawn(async { task::id() });
        }
        for id in set.join_all().await {
            assert!(seen.insert(id), "{id} seen twice");
        }
    });
    assert_eq!(seen.len(), 400);
}

#[test]
fn inside_a_task_id_is_its_join_handles_id() {
    for flavor in [
        Flavor::CurrentThread,
        Flavor::WorkStealing,
        Flavor::ThreadPerCore,
    ] {
        let rt = Builder::new(flavor).worker_threads(2).build().unwrap();
        rt.block_on(async {
            let handle = spawn(async {
                let before = task::id();
                moduvex_runtime::yield_now().await;
                // The same id on every poll, wherever it runs.
                assert_eq!(task::id(), before);
                (before, task::try_id())
            });
            let id = handle.id();
            assert_eq!(handle.abort_handle().id(), id);
            let (inside, tried) = handle.await.unwrap();
            assert_eq!(inside, id, "{flavor:?}");
            assert_eq!(tried, Some(id));
        });
    }
}

#[test]
fn local_and_blocking_tasks_have_ids_too() {
    block_on(async {
        let local = spawn_local(async { task::id() });
        let id = local.id();
        assert_eq!(local.await.unwrap(), id);
        let blocking = moduvex_runtime::spawn_blocking(task::try_id);
        let id = blocking.id();
        assert_eq!(blocking.await.unwrap(), Some(id));
    });
}

#[test]
fn try_id_is_none_outside_a_task() {
    assert_eq!(task::try_id(), None);
    // `block_on`'s own future is not a task (as in tokio).
    block_on(async {
        assert_eq!(task::try_id(), None);
        let inner = spawn(async { task::try_id() }).await.unwrap();
        assert!(inner.is_some());
        assert_eq!(task::try_id(), None, "restored after the task's poll");
    });
    std::thread::spawn(|| assert_eq!(task::try_id(), None))
        .join()
        .unwrap();
}

#[test]
fn id_outside_a_task_panics_naming_try_id() {
    let err = catch_unwind(task::id).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(
        msg.contains("can't get a task id when not inside a task"),
        "{msg}"
    );
    assert!(msg.contains("try_id"), "{msg}");
}

#[test]
fn join_errors_carry_the_tasks_id() {
    block_on(async {
        let panicking = spawn(async { panic!("boom") });
        let id = panicking.id();
        let err = panicking.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.id(), id);
        assert!(err.to_string().contains(&id.to_string()), "{err}");

        let stuck = spawn(std::future::pending::<()>());
        let id = stuck.id();
        moduvex_runtime::yield_now().await;
        stuck.abort();
        let err = stuck.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
    });
}

#[test]
fn the_future_sees_its_id_while_it_is_dropped() {
    struct Probe(std::sync::mpsc::Sender<Option<Id>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = self.0.send(task::try_id());
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    block_on(async move {
        let probe = Probe(tx);
        let task = spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        let id = task.id();
        moduvex_runtime::yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(rx.recv().unwrap(), Some(id));
    });
}

#[test]
fn ids_display_as_numbers_and_order_by_creation() {
    block_on(async {
        let a = spawn(async {}).id();
        let b = spawn(async {}).id();
        assert!(a < b);
        let n: u64 = a.to_string().parse().unwrap();
        assert_ne!(n, 0);
        assert!(format!("{a:?}").contains(&n.to_string()));
    });
}

#[test]
fn the_task_header_stays_small() {
    // The id lives beside the scheduler handle, not in the header.
    let header = moduvex_runtime::executor::task_bare_header_size();
    assert!(header <= 48, "header is {header} bytes");
    let with_scheduler_and_id = moduvex_runtime::executor::task_header_size();
    assert!(with_scheduler_and_id <= 64, "{with_scheduler_and_id} bytes");
}
