//! Executor workloads: spawn+join, yield chains, `block_on` overhead.

use std::rc::Rc;

use crate::harness::{Round, Unit, Workload};

fn tokio_ct() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Spawn `n` tiny tasks, then await every handle.
pub fn spawn_join(n: usize) -> Workload {
    let rt = tokio_ct();
    Workload {
        name: format!("spawn+join {n} tasks (current thread)"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(n as u64, || {
                moduvex_runtime::block_on(async {
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
                rt.block_on(async {
                    let hs: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = Rc::new(async_executor::LocalExecutor::new());
            Round::timed(n as u64, || {
                futures_lite::future::block_on(ex.run(async {
                    let hs: Vec<_> = (0..n).map(|i| ex.spawn(async move { i })).collect();
                    for h in hs {
                        std::hint::black_box(h.await);
                    }
                }))
            })
        })),
    }
}

/// Spawn `n` tiny `!Send` tasks onto a fresh local set from inside its
/// `run_until`, then await every handle: moduvex's `LocalSet`, tokio's
/// `LocalSet`, smol's `LocalExecutor`.
pub fn local_set_spawn_join(n: usize) -> Workload {
    let rt = tokio_ct();
    Workload {
        name: format!("LocalSet spawn+join {n} tasks"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(n as u64, || {
                let local = moduvex_runtime::task::LocalSet::new();
                moduvex_runtime::block_on(local.run_until(async {
                    let one = Rc::new(1);
                    let hs: Vec<_> = (0..n)
                        .map(|i| {
                            let one = one.clone();
                            moduvex_runtime::task::spawn_local(async move { i + *one })
                        })
                        .collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                }))
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(n as u64, || {
                let local = tokio::task::LocalSet::new();
                rt.block_on(local.run_until(async {
                    let one = Rc::new(1);
                    let hs: Vec<_> = (0..n)
                        .map(|i| {
                            let one = one.clone();
                            tokio::task::spawn_local(async move { i + *one })
                        })
                        .collect();
                    for h in hs {
                        std::hint::black_box(h.await.unwrap());
                    }
                }))
            })
        })),
        smol: Some(Box::new(move || {
            Round::timed(n as u64, || {
                let ex = async_executor::LocalExecutor::new();
                futures_lite::future::block_on(ex.run(async {
                    let one = Rc::new(1);
                    let hs: Vec<_> = (0..n)
                        .map(|i| {
                            let one = one.clone();
                            ex.spawn(async move { i + *one })
                        })
                        .collect();
                    for h in hs {
                        std::hint::black_box(h.await);
                    }
                }))
            })
        })),
    }
}

/// `tasks` tasks each yielding `yields` times (tokio's `yield_many` shape).
pub fn yield_many(tasks: usize, yields: usize) -> Workload {
    let rt = tokio_ct();
    let ops = (tasks * yields) as u64;
    Workload {
        name: format!("yield chain: {tasks} tasks × {yields} yields"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(ops, || {
                moduvex_runtime::block_on(async {
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
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(ops, || {
                rt.block_on(async {
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
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = Rc::new(async_executor::LocalExecutor::new());
            Round::timed(ops, || {
                futures_lite::future::block_on(ex.run(async {
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
                }))
            })
        })),
    }
}

/// `block_on(async {})` in a loop: the fixed cost of entering the runtime.
pub fn block_on_empty(iters: usize) -> Workload {
    let rt = tokio_ct();
    Workload {
        name: "block_on(async {})".into(),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(iters as u64, || {
                for i in 0..iters {
                    std::hint::black_box(moduvex_runtime::block_on(async move { i }));
                }
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(iters as u64, || {
                for i in 0..iters {
                    std::hint::black_box(rt.block_on(async move { i }));
                }
            })
        })),
        smol: Some(Box::new(move || {
            Round::timed(iters as u64, || {
                for i in 0..iters {
                    std::hint::black_box(smol::block_on(async move { i }));
                }
            })
        })),
    }
}
