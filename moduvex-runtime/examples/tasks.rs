//! Spawns many small tasks, each yielding once, joins them all, and
//! reports how fast the runtime did it.
//!
//! ```text
//! cargo run --release --example tasks -- 1000000
//! ```

use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let start = Instant::now();
    let sum = moduvex_runtime::block_on(async move {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                moduvex_runtime::spawn(async move {
                    moduvex_runtime::yield_now().await;
                    i as u64
                })
            })
            .collect();
        let mut sum = 0u64;
        for h in handles {
            sum += h.await.expect("task failed");
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    println!(
        "{n} tasks spawned, yielded once and joined in {:.1} ms ({:.0} ns/task); checksum {sum}",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / n as f64
    );
}
