//! Multi-threaded executor workloads: every runtime with 2 worker threads.
//!
//! * moduvex: `Runtime::builder().flavor(..).worker_threads(2)`, one row
//!   for [`Flavor::WorkStealing`] and one for [`Flavor::ThreadPerCore`];
//! * tokio: `new_multi_thread().worker_threads(2)`;
//! * smol: one `async_executor::Executor` run by 2 std threads.
//!
//! The measured code runs in a task on a worker (the main thread only
//! waits for its join handle), except where a row says the tasks are
//! spawned from outside, which is how a thread-per-core runtime spreads
//! them over both workers.

use std::future::Future;
use std::sync::Arc;

use moduvex_runtime::{Flavor, Runtime};

use crate::harness::{Round, Unit, Workload};

/// Worker threads of every multi-threaded runtime here.
pub const WORKERS: usize = 2;

pub fn moduvex_rt(flavor: Flavor) -> Runtime {
    Runtime::builder()
        .flavor(flavor)
        .worker_threads(WORKERS)
        .build()
        .unwrap()
}

pub fn tokio_mt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap()
}

pub fn flavor_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::WorkStealing => "work-stealing",
        Flavor::ThreadPerCore => "thread-per-core",
        Flavor::CurrentThread => "current-thread",
    }
}

/// A row name: `what`, then the runtimes it ran on.
pub fn row_name(what: &str, flavor: Flavor) -> String {
    format!(
        "{what} (multi-thread, {WORKERS} workers; moduvex {})",
        flavor_name(flavor)
    )
}

/// smol's multi-threaded shape: one `Executor` run by `WORKERS` threads
/// until the pool is dropped.
pub struct SmolPool {
    pub ex: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl SmolPool {
    pub fn new() -> SmolPool {
        let ex = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|_| {
                let (ex, stopped) = (ex.clone(), stopped.clone());
                std::thread::spawn(move || {
                    futures_lite::future::block_on(ex.run(async move {
                        let _ = stopped.recv().await;
                    }))
                })
            })
            .collect();
        SmolPool {
            ex,
            stop: Some(stop),
            threads,
        }
    }

    /// Runs `future` as a task on the pool; the calling thread waits.
    pub fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        futures_lite::future::block_on(self.ex.spawn(future))
    }
}

impl Drop for SmolPool {
    fn drop(&mut self) {
        drop(self.stop.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Spawns `n` tiny tasks from inside a task on a worker, then awaits every
/// handle (tokio's `spawn_many` shape, joined).
pub fn spawn_join(n: usize, flavor: Flavor) -> Workload {
    let mrt = moduvex_rt(flavor);
    let trt = tokio_mt();
    let pool = SmolPool::new();
    Workload {
        name: row_name(&format!("spawn+join {n} tasks from a worker"), flavor),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(n as u64, || {
                mrt.block_on(mrt.spawn(async move {
                    let hs: Vec<_> = (0..n)
                        .map(|i| moduvex_runtime::spawn(async move { i }))
                        .collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                }))
                .unwrap()
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(n as u64, || {
                trt.block_on(trt.spawn(async move {
                    let hs: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                }))
                .unwrap()
            })
        })),
        smol: Some(Box::new(move || {
            let ex = pool.ex.clone();
            Round::timed(n as u64, || {
                pool.run(async move {
                    let hs: Vec<_> = (0..n).map(|i| ex.spawn(async move { i })).collect();
                    for h in hs {
                        std::hint::black_box(h.await);
                    }
                })
            })
        })),
    }
}

/// Spawns `n` tiny tasks from the thread that calls `block_on` (not a
/// worker), then awaits every handle there: the shape a `#[main]` program
/// hits first. Every spawn goes through the injection queue, and the
/// workers must wake for it.
pub fn spawn_join_from_block_on(n: usize, flavor: Flavor) -> Workload {
    let mrt = moduvex_rt(flavor);
    let trt = tokio_mt();
    let pool = SmolPool::new();
    Workload {
        name: row_name(&format!("spawn+join {n} tasks from block_on"), flavor),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(n as u64, || {
                mrt.block_on(async move {
                    let hs: Vec<_> = (0..n)
                        .map(|i| moduvex_runtime::spawn(async move { i }))
                        .collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(n as u64, || {
                trt.block_on(async move {
                    let hs: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = pool.ex.clone();
            Round::timed(n as u64, || {
                futures_lite::future::block_on(async move {
                    let hs: Vec<_> = (0..n).map(|i| ex.spawn(async move { i })).collect();
                    for h in hs {
                        std::hint::black_box(h.await);
                    }
                })
            })
        })),
    }
}

/// Two tasks spawned from outside the runtime bounce a token through two
/// capacity-1 channels `trips` times (ns per round trip). The pinger
/// starts each trip; the ponger echoes.
pub fn ping_pong(trips: usize, flavor: Flavor) -> Workload {
    use moduvex_runtime::sync::mpsc as mmpsc;
    use tokio::sync::mpsc as tmpsc;
    let mrt = moduvex_rt(flavor);
    let trt = tokio_mt();
    let pool = SmolPool::new();
    Workload {
        name: row_name(
            &format!("channel ping-pong {trips} round trips, tasks on workers"),
            flavor,
        ),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(trips as u64, || {
                let (ping_tx, mut ping_rx) = mmpsc::channel::<usize>(1);
                let (pong_tx, mut pong_rx) = mmpsc::channel::<usize>(1);
                let ponger = mrt.spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                let pinger = mrt.spawn(async move {
                    for i in 0..trips {
                        ping_tx.send(i).await.unwrap();
                        assert_eq!(pong_rx.recv().await, Some(i));
                    }
                });
                mrt.block_on(async move {
                    pinger.await.unwrap();
                    ponger.await.unwrap();
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(trips as u64, || {
                let (ping_tx, mut ping_rx) = tmpsc::channel::<usize>(1);
                let (pong_tx, mut pong_rx) = tmpsc::channel::<usize>(1);
                let ponger = trt.spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                let pinger = trt.spawn(async move {
                    for i in 0..trips {
                        ping_tx.send(i).await.unwrap();
                        assert_eq!(pong_rx.recv().await, Some(i));
                    }
                });
                trt.block_on(async move {
                    pinger.await.unwrap();
                    ponger.await.unwrap();
                })
            })
        })),
        smol: Some(Box::new(move || {
            Round::timed(trips as u64, || {
                let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
                let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
                let ponger = pool.ex.spawn(async move {
                    while let Ok(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                let pinger = pool.ex.spawn(async move {
                    for i in 0..trips {
                        ping_tx.send(i).await.unwrap();
                        assert_eq!(pong_rx.recv().await, Ok(i));
                    }
                });
                futures_lite::future::block_on(async move {
                    pinger.await;
                    ponger.await;
                })
            })
        })),
    }
}

/// `tasks` tasks, spawned from a worker, each yielding `yields` times
/// (tokio's `rt_multi_threaded::yield_many` shape); ns per yield.
pub fn yield_many(tasks: usize, yields: usize, flavor: Flavor) -> Workload {
    let mrt = moduvex_rt(flavor);
    let trt = tokio_mt();
    let pool = SmolPool::new();
    let ops = (tasks * yields) as u64;
    Workload {
        name: row_name(
            &format!("yield_many: {tasks} tasks × {yields} yields"),
            flavor,
        ),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(ops, || {
                mrt.block_on(mrt.spawn(async move {
                    let hs: Vec<_> = (0..tasks)
                        .map(|_| {
                            moduvex_runtime::spawn(async move {
                                for _ in 0..yields {
                                    moduvex_runtime::yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                }))
                .unwrap()
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(ops, || {
                trt.block_on(trt.spawn(async move {
                    let hs: Vec<_> = (0..tasks)
                        .map(|_| {
                            tokio::spawn(async move {
                                for _ in 0..yields {
                                    tokio::task::yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                }))
                .unwrap()
            })
        })),
        smol: Some(Box::new(move || {
            let ex = pool.ex.clone();
            Round::timed(ops, || {
                pool.run(async move {
                    let hs: Vec<_> = (0..tasks)
                        .map(|_| {
                            ex.spawn(async move {
                                for _ in 0..yields {
                                    futures_lite::future::yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await;
                    }
                })
            })
        })),
    }
}

/// Link of a moduvex spawn chain: spawn the next link, or signal at the end.
fn moduvex_chain(done: moduvex_runtime::sync::oneshot::Sender<()>, left: usize) {
    if left == 0 {
        let _ = done.send(());
    } else {
        drop(moduvex_runtime::spawn(async move {
            moduvex_chain(done, left - 1)
        }));
    }
}

fn tokio_chain(done: tokio::sync::oneshot::Sender<()>, left: usize) {
    if left == 0 {
        let _ = done.send(());
    } else {
        drop(tokio::spawn(async move { tokio_chain(done, left - 1) }));
    }
}

fn smol_chain(
    ex: Arc<async_executor::Executor<'static>>,
    done: async_channel::Sender<()>,
    left: usize,
) {
    if left == 0 {
        let _ = done.try_send(());
    } else {
        let next = ex.clone();
        ex.spawn(async move { smol_chain(next, done, left - 1) })
            .detach();
    }
}

/// tokio's `rt_multi_threaded::chained_spawn`: the main thread spawns the
/// first task of a chain of `len` spawns (each task spawns the next and
/// drops its handle) and waits on a oneshot the last one fires; `chains`
/// chains a round, ns per spawn. smol has no oneshot: a bounded(1)
/// async-channel stands in.
pub fn chained_spawn(chains: usize, len: usize, flavor: Flavor) -> Workload {
    let mrt = moduvex_rt(flavor);
    let trt = tokio_mt();
    let pool = SmolPool::new();
    let ops = (chains * len) as u64;
    Workload {
        name: row_name(&format!("chained_spawn: {chains} chains × {len}"), flavor),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(ops, || {
                mrt.block_on(async {
                    for _ in 0..chains {
                        let (tx, rx) = moduvex_runtime::sync::oneshot::channel();
                        drop(moduvex_runtime::spawn(
                            async move { moduvex_chain(tx, len) },
                        ));
                        rx.await.unwrap();
                    }
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(ops, || {
                trt.block_on(async {
                    for _ in 0..chains {
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        drop(tokio::spawn(async move { tokio_chain(tx, len) }));
                        rx.await.unwrap();
                    }
                })
            })
        })),
        smol: Some(Box::new(move || {
            Round::timed(ops, || {
                futures_lite::future::block_on(async {
                    for _ in 0..chains {
                        let (tx, rx) = async_channel::bounded(1);
                        let ex = pool.ex.clone();
                        pool.ex
                            .spawn(async move { smol_chain(ex, tx, len) })
                            .detach();
                        rx.recv().await.unwrap();
                    }
                })
            })
        })),
    }
}
