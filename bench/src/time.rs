//! Timer workloads: `moduvex_runtime::time` against `tokio::time` (current
//! thread runtime) and smol's `Timer` (`async-io`, on a `LocalExecutor`).
//!
//! Three throughput rows go through the harness (many spread timers,
//! `timeout` around a ready future, and a real insert + cancel); timer
//! precision (lateness) is a latency, measured separately and printed as
//! its own table by [`print_precision`].

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::future::poll_once;

use crate::harness::{Round, Unit, Workload};

fn tokio_ct() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `n` pseudo-random delays in `0..max` (splitmix64, fixed seed): the same
/// sequence for every runtime and every run.
fn spread_delays(n: usize, max: Duration) -> Rc<[Duration]> {
    let max = max.as_nanos() as u64;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            Duration::from_nanos(z % max)
        })
        .collect()
}

/// `n` tasks, each sleeping a pseudo-random 0–10 ms, all joined; ns per
/// timer (the whole run, so at least 10 ms / n).
///
/// Without `at_spawn` the sleep is created inside the task, so its deadline
/// counts from the task's first poll and every timer is really filed. With
/// `at_spawn` it is created when the task is spawned: spawning 100k tasks
/// takes about as long as the longest delay, so most timers are already due
/// when first polled and the row mostly measures spawn + join.
pub fn spread_timers(n: usize, at_spawn: bool) -> Workload {
    let rt = tokio_ct();
    let delays = spread_delays(n, Duration::from_millis(10));
    let (d_tokio, d_smol) = (delays.clone(), delays.clone());
    Workload {
        name: format!(
            "timers: {n} tasks sleeping 0–10 ms{} (current thread)",
            if at_spawn {
                ", deadlines set at spawn"
            } else {
                ""
            }
        ),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(n as u64, || {
                moduvex_runtime::block_on(async {
                    let hs: Vec<_> = delays
                        .iter()
                        .map(|&d| {
                            let early = at_spawn.then(|| moduvex_runtime::time::sleep(d));
                            moduvex_runtime::spawn(async move {
                                match early {
                                    Some(s) => s.await,
                                    None => moduvex_runtime::time::sleep(d).await,
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
            Round::timed(n as u64, || {
                rt.block_on(async {
                    let hs: Vec<_> = d_tokio
                        .iter()
                        .map(|&d| {
                            let early = at_spawn.then(|| tokio::time::sleep(d));
                            tokio::spawn(async move {
                                match early {
                                    Some(s) => s.await,
                                    None => tokio::time::sleep(d).await,
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
            Round::timed(n as u64, || {
                smol::block_on(ex.run(async {
                    let hs: Vec<_> = d_smol
                        .iter()
                        .map(|&d| {
                            let early = at_spawn.then(|| smol::Timer::after(d));
                            ex.spawn(async move {
                                match early {
                                    Some(s) => s.await,
                                    None => smol::Timer::after(d).await,
                                };
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

/// `timeout(1 s, ready)` in a loop inside one `block_on`: the cost of
/// arming and dropping a timeout whose future wins at once. Every runtime
/// polls the future first, so none of them files a timer here.
pub fn timeout_ready(iters: usize) -> Workload {
    let rt = tokio_ct();
    const LIMIT: Duration = Duration::from_secs(1);
    Workload {
        name: format!("timers: timeout(1 s, ready) × {iters}"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(iters as u64, || {
                moduvex_runtime::block_on(async {
                    for i in 0..iters {
                        let r = moduvex_runtime::time::timeout(LIMIT, async move { i }).await;
                        std::hint::black_box(r.unwrap());
                    }
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(iters as u64, || {
                rt.block_on(async {
                    for i in 0..iters {
                        let r = tokio::time::timeout(LIMIT, async move { i }).await;
                        std::hint::black_box(r.unwrap());
                    }
                })
            })
        })),
        smol: Some(Box::new(move || {
            let ex = async_executor::LocalExecutor::new();
            Round::timed(iters as u64, || {
                smol::block_on(ex.run(async {
                    for i in 0..iters {
                        // smol has no `timeout`: its documented idiom, with
                        // the deadline taken up front as the others do.
                        let timer = smol::Timer::after(LIMIT);
                        let r = futures_lite::future::or(async move { Ok(i) }, async move {
                            timer.await;
                            Err(())
                        })
                        .await;
                        std::hint::black_box(r.unwrap());
                    }
                }))
            })
        })),
    }
}

/// Polls `f` once (filing its timer), then drops it (cancelling it).
async fn arm_and_drop<F: Future>(f: F) {
    let mut f = pin!(f);
    std::hint::black_box(poll_once(f.as_mut()).await.is_none());
}

/// A 1 s sleep polled once, then dropped, in a loop: a real timer insert
/// and cancel on every runtime.
pub fn insert_cancel(iters: usize) -> Workload {
    let rt = tokio_ct();
    const LIMIT: Duration = Duration::from_secs(1);
    Workload {
        name: format!("timers: sleep(1 s) polled once + dropped × {iters}"),
        unit: Unit::NsPerOp,
        extra_label: None,
        moduvex: Box::new(move || {
            Round::timed(iters as u64, || {
                moduvex_runtime::block_on(async {
                    for _ in 0..iters {
                        arm_and_drop(moduvex_runtime::time::sleep(LIMIT)).await;
                    }
                })
            })
        }),
        tokio: Some(Box::new(move || {
            Round::timed(iters as u64, || {
                // Unconstrained: past tokio's coop budget (128 polls without
                // yielding) its `Sleep` would return Pending without filing
                // a timer. The other runtimes' timers have no budget.
                rt.block_on(tokio::task::unconstrained(async {
                    for _ in 0..iters {
                        arm_and_drop(tokio::time::sleep(LIMIT)).await;
                    }
                }))
            })
        })),
        smol: Some(Box::new(move || {
            let ex = async_executor::LocalExecutor::new();
            Round::timed(iters as u64, || {
                smol::block_on(ex.run(async {
                    for _ in 0..iters {
                        arm_and_drop(smol::Timer::after(LIMIT)).await;
                    }
                }))
            })
        })),
    }
}

/// Lateness percentiles of one runtime, in µs.
pub struct Lateness {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Lateness {
    fn of(mut samples: Vec<Duration>) -> Lateness {
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i].as_secs_f64() * 1e6
        };
        Lateness {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// One row of the precision table.
pub struct PrecisionRow {
    name: String,
    moduvex: Lateness,
    tokio: Lateness,
    smol: Lateness,
}

/// Sleeps per batch: the runtimes take turns every `BATCH` sleeps, so a
/// burst of machine noise hits all of them alike.
const BATCH: usize = 50;

/// Lateness (wake time − deadline) of `n` sequential `sleep(d)` on each
/// runtime, batches interleaved. Each sleep starts right after the previous
/// one returned; the deadline is taken just before the sleep is created, and
/// the wake time first thing after it completes.
fn precision(d: Duration, n: usize) -> PrecisionRow {
    let rt = tokio_ct();
    let smol_ex = async_executor::LocalExecutor::new();
    let (mut m, mut t, mut s) = (Vec::new(), Vec::new(), Vec::new());
    // One untimed warm-up batch each (first driver, first allocations).
    let warm = BATCH.min(n);
    let mut done = 0;
    let mut first = true;
    while done < n {
        let k = if first { warm } else { BATCH.min(n - done) };
        let keep = !first;
        moduvex_runtime::block_on(async {
            for _ in 0..k {
                let deadline = Instant::now() + d;
                moduvex_runtime::time::sleep_until(deadline.into()).await;
                let late = Instant::now().saturating_duration_since(deadline);
                if keep {
                    m.push(late);
                }
            }
        });
        rt.block_on(async {
            for _ in 0..k {
                let deadline = Instant::now() + d;
                tokio::time::sleep_until(deadline.into()).await;
                let late = Instant::now().saturating_duration_since(deadline);
                if keep {
                    t.push(late);
                }
            }
        });
        smol::block_on(smol_ex.run(async {
            for _ in 0..k {
                let deadline = Instant::now() + d;
                smol::Timer::at(deadline).await;
                let late = Instant::now().saturating_duration_since(deadline);
                if keep {
                    s.push(late);
                }
            }
        }));
        if !first {
            done += k;
        }
        first = false;
    }
    PrecisionRow {
        name: precision_name(d, n),
        moduvex: Lateness::of(m),
        tokio: Lateness::of(t),
        smol: Lateness::of(s),
    }
}

fn precision_name(d: Duration, n: usize) -> String {
    format!("timer precision: sleep({d:?}) × {n}")
}

/// The precision rows whose name matches a filter (all without filters).
pub fn precision_rows(n: usize, filters: &[&String]) -> Vec<PrecisionRow> {
    [Duration::from_micros(100), Duration::from_millis(1)]
        .into_iter()
        .filter(|&d| {
            let name = precision_name(d, n);
            filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
        })
        .map(|d| {
            eprintln!("running: {}", precision_name(d, n));
            precision(d, n)
        })
        .collect()
}

/// Prints the precision rows as a second markdown table.
pub fn print_precision(rows: &[PrecisionRow]) {
    if rows.is_empty() {
        return;
    }
    let cell = |l: &Lateness| format!("{:.0} / {:.0} / {:.0}", l.p50, l.p99, l.max);
    println!();
    println!("Timer precision (lateness = wake time − deadline, µs: p50 / p99 / max)");
    println!();
    println!("| workload | moduvex | tokio | smol |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.name,
            cell(&r.moduvex),
            cell(&r.tokio),
            cell(&r.smol)
        );
    }
}
