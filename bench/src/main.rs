//! Head-to-head benchmarks: moduvex-runtime against tokio and smol, every
//! workload in one process run, rounds interleaved, printed as a markdown
//! table with ratios.
//!
//! ```text
//! cargo run --release -p moduvex-bench            # full sizes
//! cargo run --release -p moduvex-bench -- --quick # smoke run
//! cargo run --release -p moduvex-bench -- spawn    # only workloads whose name contains "spawn"
//! cargo run --release -p moduvex-bench -- serve tokio hello  # one server alone, for profiling
//! cargo run --release -p moduvex-bench -- load hello 127.0.0.1:8080 5  # the built-in load alone
//! ```

mod executor;
mod harness;
mod multi;
mod net;
mod sync;
mod time;

use harness::{measure, print_table, Workload};
use moduvex_runtime::Flavor;

struct Sizes {
    rounds: usize,
    tasks: usize,
    yields: usize,
    block_ons: usize,
    net_round: std::time::Duration,
    mt_tasks: usize,
    chains: usize,
    round_trips: usize,
    messages: usize,
    mutex_ops: usize,
    timers: usize,
    timeout_iters: usize,
    precision_sleeps: usize,
}

fn workloads(s: &Sizes) -> Vec<Box<dyn FnOnce() -> Workload>> {
    let (tasks, yields, block_ons) = (s.tasks, s.yields, s.block_ons);
    let mut all: Vec<Box<dyn FnOnce() -> Workload>> = vec![
        Box::new(move || executor::spawn_join(tasks)),
        Box::new(move || executor::local_set_spawn_join(tasks)),
        Box::new(move || executor::yield_many(100, yields)),
        Box::new(move || executor::block_on_empty(block_ons)),
    ];
    let (mt_tasks, chains, trips) = (s.mt_tasks, s.chains, s.round_trips);
    for flavor in [Flavor::WorkStealing, Flavor::ThreadPerCore] {
        all.push(Box::new(move || multi::spawn_join(mt_tasks, flavor)));
        all.push(Box::new(move || {
            multi::spawn_join_from_block_on(mt_tasks, flavor)
        }));
        all.push(Box::new(move || multi::ping_pong(trips, flavor)));
        all.push(Box::new(move || multi::yield_many(200, yields, flavor)));
        all.push(Box::new(move || {
            multi::chained_spawn(chains, 1_000, flavor)
        }));
    }
    let (messages, mutex_ops) = (s.messages, s.mutex_ops);
    all.push(Box::new(move || sync::mpsc_1p1c(messages)));
    all.push(Box::new(move || sync::ping_pong(trips)));
    all.push(Box::new(move || sync::mutex_uncontended(mutex_ops)));
    for flavor in [Flavor::WorkStealing, Flavor::ThreadPerCore] {
        all.push(Box::new(move || sync::mpsc_np1c(messages, flavor)));
    }
    let (timers, timeout_iters) = (s.timers, s.timeout_iters);
    all.push(Box::new(move || time::spread_timers(timers, false)));
    all.push(Box::new(move || time::spread_timers(timers, true)));
    all.push(Box::new(move || time::timeout_ready(timeout_iters)));
    all.push(Box::new(move || time::insert_cancel(timeout_iters)));
    all.extend(net::workloads(s.net_round));
    all
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => return net::serve_cli(&args[1..]),
        Some("load") => return net::load_cli(&args[1..]),
        _ => {}
    }
    let quick = args.iter().any(|a| a == "--quick");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let sizes = if quick {
        Sizes {
            rounds: 3,
            tasks: 20_000,
            yields: 100,
            block_ons: 100_000,
            net_round: std::time::Duration::from_millis(50),
            mt_tasks: 20_000,
            chains: 10,
            round_trips: 10_000,
            messages: 100_000,
            mutex_ops: 100_000,
            timers: 20_000,
            timeout_iters: 100_000,
            precision_sleeps: 200,
        }
    } else {
        Sizes {
            rounds: 9,
            tasks: 200_000,
            yields: 1_000,
            block_ons: 1_000_000,
            net_round: std::time::Duration::from_millis(150),
            mt_tasks: 200_000,
            chains: 100,
            round_trips: 100_000,
            messages: 1_000_000,
            mutex_ops: 1_000_000,
            timers: 100_000,
            timeout_iters: 1_000_000,
            precision_sleeps: 1_000,
        }
    };
    let mut rows = Vec::new();
    for make in workloads(&sizes) {
        let w = make();
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        eprintln!("running: {}", w.name);
        rows.push(measure(w, sizes.rounds));
    }
    print_table(&rows);
    time::print_precision(&time::precision_rows(sizes.precision_sleeps, &filters));
}
