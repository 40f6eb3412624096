//! Sync-primitive workloads: `moduvex_runtime::sync` against
//! `tokio::sync` and smol's `async-channel` / `async-lock`.
//!
//! Current-thread rows run on `moduvex_runtime::block_on`, a tokio
//! current-thread runtime and an `async_executor::LocalExecutor`; the
//! multi-producer row runs on the 2-worker runtimes of [`crate::multi`].

use std::rc::Rc;

use moduvex_runtime::Flavor;

use crate::harness::{Round, Unit, Workload};
use crate::multi::{moduvex_rt, row_name, tokio_mt, SmolPool};

/// Capacity of the throughput channels.
const CAP: usize = 1024;

fn tokio_ct() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One producer task sends `n` messages through a bounded(1024) channel
/// to the consumer (the `block_on` future); ns per message.
pub fn mpsc_1p1c(n: usize) -> Workload {
    let rt = tokio_ct();
    Workload {
        name: format!("mpsc bounded({CAP}) 1P1C: {n} msgs (current thread)"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(n as u64, || {
                moduvex_runtime::block_on(async {
                    let (tx, mut rx) = moduvex_runtime::sync::mpsc::channel(CAP);
                    let producer = moduvex_runtime::spawn(async move {
                        for i in 0..n {
                            tx.send(i).await.unwrap();
                        }
                    });
                    let mut sum = 0usize;
                    while let Some(v) = rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    producer.await.unwrap();
                    assert_eq!(sum, n * (n - 1) / 2);
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(n as u64, || {
                rt.block_on(async {
                    let (tx, mut rx) = tokio::sync::mpsc::channel(CAP);
                    let producer = tokio::spawn(async move {
                        for i in 0..n {
                            tx.send(i).await.unwrap();
                        }
                    });
                    let mut sum = 0usize;
                    while let Some(v) = rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    producer.await.unwrap();
                    assert_eq!(sum, n * (n - 1) / 2);
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = Rc::new(async_executor::LocalExecutor::new());
            Round::timed(n as u64, || {
                futures_lite::future::block_on(ex.run(async {
                    let (tx, rx) = async_channel::bounded(CAP);
                    let producer = ex.spawn(async move {
                        for i in 0..n {
                            tx.send(i).await.unwrap();
                        }
                    });
                    let mut sum = 0usize;
                    while let Ok(v) = rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    producer.await;
                    assert_eq!(sum, n * (n - 1) / 2);
                }))
            })
        })),
    }
}

/// Two tasks on one thread bounce a token through two capacity-1
/// channels `trips` times; ns per round trip.
pub fn ping_pong(trips: usize) -> Workload {
    let rt = tokio_ct();
    Workload {
        name: format!("channel ping-pong {trips} round trips (current thread)"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            use moduvex_runtime::sync::mpsc;
            Round::timed(trips as u64, || {
                moduvex_runtime::block_on(async {
                    let (ping_tx, mut ping_rx) = mpsc::channel::<usize>(1);
                    let (pong_tx, mut pong_rx) = mpsc::channel::<usize>(1);
                    let ponger = moduvex_runtime::spawn(async move {
                        while let Some(v) = ping_rx.recv().await {
                            pong_tx.send(v).await.unwrap();
                        }
                    });
                    let pinger = moduvex_runtime::spawn(async move {
                        for i in 0..trips {
                            ping_tx.send(i).await.unwrap();
                            assert_eq!(pong_rx.recv().await, Some(i));
                        }
                    });
                    pinger.await.unwrap();
                    ponger.await.unwrap();
                })
            })
        }),
        tokio: Some(Box::new(move || {
            use tokio::sync::mpsc;
            Round::timed(trips as u64, || {
                rt.block_on(async {
                    let (ping_tx, mut ping_rx) = mpsc::channel::<usize>(1);
                    let (pong_tx, mut pong_rx) = mpsc::channel::<usize>(1);
                    let ponger = tokio::spawn(async move {
                        while let Some(v) = ping_rx.recv().await {
                            pong_tx.send(v).await.unwrap();
                        }
                    });
                    let pinger = tokio::spawn(async move {
                        for i in 0..trips {
                            ping_tx.send(i).await.unwrap();
                            assert_eq!(pong_rx.recv().await, Some(i));
                        }
                    });
                    pinger.await.unwrap();
                    ponger.await.unwrap();
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = Rc::new(async_executor::LocalExecutor::new());
            Round::timed(trips as u64, || {
                futures_lite::future::block_on(ex.run(async {
                    let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
                    let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
                    let ponger = ex.spawn(async move {
                        while let Ok(v) = ping_rx.recv().await {
                            pong_tx.send(v).await.unwrap();
                        }
                    });
                    let pinger = ex.spawn(async move {
                        for i in 0..trips {
                            ping_tx.send(i).await.unwrap();
                            assert_eq!(pong_rx.recv().await, Ok(i));
                        }
                    });
                    pinger.await;
                    ponger.await;
                }))
            })
        })),
    }
}

/// `lock().await` + increment + unlock of an uncontended async mutex,
/// `n` times in the `block_on` future; ns per lock+unlock.
pub fn mutex_uncontended(n: usize) -> Workload {
    let rt = tokio_ct();
    Workload {
        name: format!("Mutex lock+unlock uncontended ×{n} (current thread)"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            let m = moduvex_runtime::sync::Mutex::new(0usize);
            Round::timed(n as u64, || {
                moduvex_runtime::block_on(async {
                    for _ in 0..n {
                        *m.lock().await += 1;
                    }
                })
            })
        }),
        tokio: Some(Box::new(move || {
            let m = tokio::sync::Mutex::new(0usize);
            Round::timed(n as u64, || {
                rt.block_on(async {
                    for _ in 0..n {
                        *m.lock().await += 1;
                    }
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = async_executor::LocalExecutor::new();
            let m = async_lock::Mutex::new(0usize);
            Round::timed(n as u64, || {
                futures_lite::future::block_on(ex.run(async {
                    for _ in 0..n {
                        *m.lock().await += 1;
                    }
                }))
            })
        })),
    }
}

/// Producers spawned from the main thread (so a thread-per-core runtime
/// spreads them over both workers) each send `n / PRODUCERS` messages into
/// one bounded(1024) channel drained by a consumer task; ns per message.
pub fn mpsc_np1c(n: usize, flavor: Flavor) -> Workload {
    const PRODUCERS: usize = 4;
    let per = n / PRODUCERS;
    let total = per * PRODUCERS;
    let expect = PRODUCERS * per * (per - 1) / 2;
    let mrt = moduvex_rt(flavor);
    let trt = tokio_mt();
    let pool = SmolPool::new();
    Workload {
        name: row_name(
            &format!("mpsc bounded({CAP}) {PRODUCERS}P1C: {total} msgs"),
            flavor,
        ),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(total as u64, || {
                let (tx, mut rx) = moduvex_runtime::sync::mpsc::channel(CAP);
                let consumer = mrt.spawn(async move {
                    let mut sum = 0usize;
                    while let Some(v) = rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    sum
                });
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    drop(mrt.spawn(async move {
                        for i in 0..per {
                            tx.send(i).await.unwrap();
                        }
                    }));
                }
                drop(tx);
                assert_eq!(mrt.block_on(consumer).unwrap(), expect);
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(total as u64, || {
                let (tx, mut rx) = tokio::sync::mpsc::channel(CAP);
                let consumer = trt.spawn(async move {
                    let mut sum = 0usize;
                    while let Some(v) = rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    sum
                });
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    drop(trt.spawn(async move {
                        for i in 0..per {
                            tx.send(i).await.unwrap();
                        }
                    }));
                }
                drop(tx);
                assert_eq!(trt.block_on(consumer).unwrap(), expect);
            })
        })),
        smol: Some(Box::new(move || {
            Round::timed(total as u64, || {
                let (tx, rx) = async_channel::bounded(CAP);
                let consumer = pool.ex.spawn(async move {
                    let mut sum = 0usize;
                    while let Ok(v) = rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    sum
                });
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    pool.ex
                        .spawn(async move {
                            for i in 0..per {
                                tx.send(i).await.unwrap();
                            }
                        })
                        .detach();
                }
                drop(tx);
                assert_eq!(futures_lite::future::block_on(consumer), expect);
            })
        })),
    }
}
