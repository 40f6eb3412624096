//! The sync primitives on moduvex-runtime's own executor: many tasks on one
//! thread, plus a second thread, exchanging values through every primitive.
#![cfg(not(loom))]

mod sync_runtime {
    use moduvex_runtime::sync::{mpsc, oneshot, Barrier, Mutex, Notify, Semaphore};
    use moduvex_runtime::{block_on, spawn, yield_now};
    use std::sync::Arc;

    #[test]
    fn ping_pong_between_tasks() {
        let total = block_on(async {
            let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
            let echo = spawn(async move {
                while let Some(v) = ping_rx.recv().await {
                    pong_tx.send(v + 1).await.unwrap();
                }
            });
            let mut total = 0;
            for i in 0..1_000 {
                ping_tx.send(i).await.unwrap();
                total += pong_rx.recv().await.unwrap();
            }
            drop(ping_tx);
            echo.await.unwrap();
            total
        });
        assert_eq!(total, (1..=1_000).sum::<u32>());
    }

    #[test]
    fn tasks_share_mutex_semaphore_and_barrier() {
        let out = block_on(async {
            let m = Arc::new(Mutex::new(0u32));
            let sem = Arc::new(Semaphore::new(2));
            let barrier = Arc::new(Barrier::new(8));
            let mut handles = Vec::new();
            for _ in 0..8 {
                let (m, sem, barrier) = (m.clone(), sem.clone(), barrier.clone());
                handles.push(spawn(async move {
                    let leader = barrier.wait().await.is_leader();
                    for _ in 0..100 {
                        let _p = sem.acquire().await.unwrap();
                        let mut g = m.lock().await;
                        yield_now().await;
                        *g += 1;
                    }
                    leader
                }));
            }
            let mut leaders = 0;
            for h in handles {
                leaders += h.await.unwrap() as u32;
            }
            assert_eq!(leaders, 1);
            *m.lock().await
        });
        assert_eq!(out, 800);
    }

    #[test]
    fn oneshot_and_notify_from_another_thread() {
        let notify = Arc::new(Notify::new());
        let (tx, rx) = oneshot::channel();
        let n2 = notify.clone();
        let th = std::thread::spawn(move || {
            n2.notify_one();
            tx.send(99).unwrap();
        });
        let v = block_on(async move {
            notify.notified().await;
            rx.await.unwrap()
        });
        th.join().unwrap();
        assert_eq!(v, 99);
    }
}
