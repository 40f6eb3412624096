//! Signals reach listeners running on multi-thread runtime workers.

// Unix only: `signal::unix`.
#![cfg(unix)]

use moduvex_runtime::signal::unix::{signal, SignalKind};
use moduvex_runtime::sync::mpsc;
use moduvex_runtime::task::JoinSet;

const LISTENERS: usize = 4;

/// Sends SIGUSR1 to this process.
fn raise_usr1() {
    // SAFETY: raise(3) with a valid signal that has a handler by now.
    let rc = unsafe { libc::raise(libc::SIGUSR1) };
    assert_eq!(rc, 0);
}

#[moduvex_runtime::test(flavor = "work_stealing", worker_threads = 2)]
async fn listeners_on_workers_each_get_every_delivery() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    let mut set = JoinSet::new();
    for _ in 0..LISTENERS {
        // Created here, before any raise, then moved to a worker.
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let tx = tx.clone();
        set.spawn(async move {
            for round in 1..=3 {
                usr1.recv().await.unwrap();
                tx.send(round).unwrap();
            }
        });
    }
    for round in 1..=3 {
        raise_usr1();
        // Every listener reports this round before the next raise, so no
        // two deliveries can coalesce.
        for _ in 0..LISTENERS {
            assert_eq!(rx.recv().await, Some(round));
        }
    }
    while let Some(res) = set.join_next().await {
        res.unwrap();
    }
}
