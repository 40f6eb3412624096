//! Head-to-head benchmarks: moduvex-runtime against tokio and smol, every
//! workload in one process run, rounds interleaved, printed as a markdown
//! table with ratios.
//!
//! ```text
//! cargo run --release -p moduvex-bench            # full sizes
//! cargo run --release -p moduvex-bench -- --quick # smoke run
//! cargo run --release -p moduvex-bench -- spawn    # only workloads whose name contains "spawn"
//! ```

mod executor;
mod harness;
mod net;

use harness::{measure, print_table, Workload};

struct Sizes {
    rounds: usize,
    tasks: usize,
    yields: usize,
    block_ons: usize,
    net_round: std::time::Duration,
}

fn workloads(s: &Sizes) -> Vec<Box<dyn FnOnce() -> Workload>> {
    let (tasks, yields, block_ons) = (s.tasks, s.yields, s.block_ons);
    let mut all: Vec<Box<dyn FnOnce() -> Workload>> = vec![
        Box::new(move || executor::spawn_join(tasks)),
        Box::new(move || executor::yield_many(100, yields)),
        Box::new(move || executor::block_on_empty(block_ons)),
    ];
    all.extend(net::workloads(s.net_round));
    all
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let sizes = if quick {
        Sizes {
            rounds: 3,
            tasks: 20_000,
            yields: 100,
            block_ons: 100_000,
            net_round: std::time::Duration::from_millis(50),
        }
    } else {
        Sizes {
            rounds: 9,
            tasks: 200_000,
            yields: 1_000,
            block_ons: 1_000_000,
            net_round: std::time::Duration::from_millis(150),
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
}
