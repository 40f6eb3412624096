//! What the runtime's feature `tokio-compat` costs: threads, memory and
//! build time of a runtime, and the round trip of a socket driven by tokio
//! inside a moduvex task, beside moduvex's own socket and native tokio.
//!
//! Run it in release, with the feature (the ecosystem crate's default) and
//! without, and compare:
//!
//! ```sh
//! cargo run --release --manifest-path ecosystem/Cargo.toml --example compat_cost
//! cargo run --release --manifest-path ecosystem/Cargo.toml --example compat_cost --no-default-features
//! ```
//!
//! Every figure is a median (round trips: also the 99th percentile) of
//! many runs on whatever else the machine is doing: orders of magnitude,
//! not a benchmark.

use std::time::{Duration, Instant};

use moduvex_runtime::io::{AsyncReadExt as _, AsyncWriteExt as _};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::{Builder, Runtime};

/// How many times each measurement runs.
#[derive(Clone, Copy, Debug)]
pub struct Rounds {
    /// Runtimes built and dropped, per flavor.
    pub builds: usize,
    /// Runtimes kept alive at once for the memory figure.
    pub kept: usize,
    /// Ping-pong round trips per socket kind (after 1/10 as many warm-up
    /// ones).
    pub round_trips: usize,
}

impl Rounds {
    /// The figures written in the docs.
    pub const FULL: Rounds = Rounds {
        builds: 300,
        kept: 50,
        round_trips: 20_000,
    };
}

/// One figure of the report.
#[derive(Clone, Debug)]
pub struct Figure {
    /// What was measured.
    pub what: String,
    /// Its value, with its unit.
    pub value: String,
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Threads a built current-thread runtime adds to the process (with
    /// nothing spawned yet).
    pub threads_current_thread: usize,
    /// Threads a built two-worker runtime adds.
    pub threads_two_workers: usize,
    /// All the figures, in order.
    pub figures: Vec<Figure>,
}

impl Report {
    fn add(&mut self, what: impl Into<String>, value: impl Into<String>) {
        self.figures.push(Figure {
            what: what.into(),
            value: value.into(),
        });
    }
}

/// Whether this build has the feature.
pub const COMPAT: bool = cfg!(feature = "tokio-compat");

/// The name (prefix) of the measured runtimes' threads.
const NAME: &str = "cost";

/// Threads of this process whose name starts with [`NAME`].
fn our_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(NAME))
        .count()
}

/// Resident memory of the process, in KiB.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page / 1024
}

/// Waits (at most 5 s) until [`our_threads`] satisfies `want`: a thread
/// names itself once it runs, and leaves the list shortly after its join.
fn our_threads_when(want: impl Fn(usize) -> bool) -> usize {
    let start = Instant::now();
    loop {
        let n = our_threads();
        if want(n) || start.elapsed() > Duration::from_secs(5) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The threads a runtime from `make` has once built, nothing spawned;
/// `expected` is how many to wait for.
fn threads_of(make: fn() -> Runtime, expected: usize) -> usize {
    our_threads_when(|n| n == 0);
    let rt = make();
    let n = our_threads_when(|n| n >= expected);
    drop(rt);
    n
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .thread_name(NAME)
        .build()
        .unwrap()
}

fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(NAME)
        .build()
        .unwrap()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() * 99 / 100).min(samples.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Builds (and drops) `n` runtimes from `make`; the median of each.
fn build_time(n: usize, make: fn() -> Runtime) -> Duration {
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            drop(make());
            start.elapsed()
        })
        .collect();
    median(&mut samples)
}

/// The RSS each of `kept` live runtimes from `make` adds, in KiB.
fn rss_per_runtime(kept: usize, make: fn() -> Runtime) -> u64 {
    // One built and dropped first: lazily made process-wide state (the
    // reactor's fallback thread, allocator arenas) is not counted.
    drop(make());
    let before = rss_kib();
    let runtimes: Vec<Runtime> = (0..kept).map(|_| make()).collect();
    // Let each thread start and touch its stack and thread-locals.
    std::thread::sleep(Duration::from_millis(50));
    let after = rss_kib();
    drop(runtimes);
    after.saturating_sub(before) / kept as u64
}

/// Echoes single bytes with our socket until the peer closes.
async fn echo_server(listener: TcpListener) {
    let (mut s, _) = listener.accept().await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut b = [0u8; 1];
    while s.read_exact(&mut b).await.is_ok() {
        if s.write_all(&b).await.is_err() {
            break;
        }
    }
}

/// Round trips of one byte over our `TcpStream` in a moduvex task.
fn rtt_moduvex(rt: &Runtime, n: usize) -> Vec<Duration> {
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = moduvex_runtime::spawn(echo_server(listener));
        let client = moduvex_runtime::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut b = [7u8; 1];
            let mut samples = Vec::with_capacity(n);
            for i in 0..n + n / 10 {
                let start = Instant::now();
                s.write_all(&b).await.unwrap();
                s.read_exact(&mut b).await.unwrap();
                if i >= n / 10 {
                    samples.push(start.elapsed());
                }
            }
            samples
        });
        let samples = client.await.unwrap();
        server.await.unwrap();
        samples
    })
}

/// Round trips of one byte over a `tokio::net::TcpStream` used in a
/// moduvex task (the echo side is ours).
#[cfg(feature = "tokio-compat")]
fn rtt_compat(rt: &Runtime, n: usize) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = moduvex_runtime::spawn(echo_server(listener));
        let client = moduvex_runtime::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut b = [7u8; 1];
            let mut samples = Vec::with_capacity(n);
            for i in 0..n + n / 10 {
                let start = Instant::now();
                s.write_all(&b).await.unwrap();
                s.read_exact(&mut b).await.unwrap();
                if i >= n / 10 {
                    samples.push(start.elapsed());
                }
            }
            samples
        });
        let samples = client.await.unwrap();
        server.await.unwrap();
        samples
    })
}

/// The same round trips on native tokio: a tokio runtime of `workers`
/// worker threads (0: current-thread), tokio sockets on both sides.
fn rtt_tokio(workers: usize, n: usize) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap()
    };
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut b = [0u8; 1];
            while s.read_exact(&mut b).await.is_ok() {
                if s.write_all(&b).await.is_err() {
                    break;
                }
            }
        });
        let client = tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut b = [7u8; 1];
            let mut samples = Vec::with_capacity(n);
            for i in 0..n + n / 10 {
                let start = Instant::now();
                s.write_all(&b).await.unwrap();
                s.read_exact(&mut b).await.unwrap();
                if i >= n / 10 {
                    samples.push(start.elapsed());
                }
            }
            samples
        });
        let samples = client.await.unwrap();
        server.await.unwrap();
        samples
    })
}

fn rtt_figure(report: &mut Report, what: &str, mut samples: Vec<Duration>) {
    let line = format!(
        "median {}, p99 {}",
        micros(median(&mut samples)),
        micros(p99(&mut samples))
    );
    report.add(format!("round trip, {what}"), line);
}

/// Measures everything `rounds` times.
pub fn run(rounds: Rounds) -> Report {
    let mut report = Report::default();
    let feature = if COMPAT { "with" } else { "without" };
    report.add("feature tokio-compat", feature);

    // Threads of a built runtime, nothing spawned.
    let compat = usize::from(COMPAT);
    report.threads_current_thread = threads_of(current_thread, compat);
    report.threads_two_workers = threads_of(two_workers, 2 + compat);
    report.add(
        "threads, current-thread runtime",
        report.threads_current_thread.to_string(),
    );
    report.add(
        "threads, 2-worker runtime",
        report.threads_two_workers.to_string(),
    );

    report.add(
        "RSS per live runtime, current-thread",
        format!("{} KiB", rss_per_runtime(rounds.kept, current_thread)),
    );
    report.add(
        "RSS per live runtime, 2 workers",
        format!("{} KiB", rss_per_runtime(rounds.kept, two_workers)),
    );

    report.add(
        "build + drop, current-thread runtime",
        micros(build_time(rounds.builds, current_thread)),
    );
    report.add(
        "build + drop, 2-worker runtime",
        micros(build_time(rounds.builds, two_workers)),
    );
    let mut samples: Vec<Duration> = (0..rounds.builds)
        .map(|_| {
            let start = Instant::now();
            moduvex_runtime::block_on(async {});
            start.elapsed()
        })
        .collect();
    report.add("free block_on(async {})", micros(median(&mut samples)));

    let n = rounds.round_trips;
    let ct = current_thread();
    rtt_figure(
        &mut report,
        "moduvex TcpStream, current-thread",
        rtt_moduvex(&ct, n),
    );
    #[cfg(feature = "tokio-compat")]
    rtt_figure(
        &mut report,
        "tokio TcpStream in a moduvex task, current-thread",
        rtt_compat(&ct, n),
    );
    drop(ct);
    rtt_figure(&mut report, "native tokio, current-thread", rtt_tokio(0, n));
    let mt = two_workers();
    rtt_figure(
        &mut report,
        "moduvex TcpStream, 2 workers",
        rtt_moduvex(&mt, n),
    );
    #[cfg(feature = "tokio-compat")]
    rtt_figure(
        &mut report,
        "tokio TcpStream in a moduvex task, 2 workers",
        rtt_compat(&mt, n),
    );
    drop(mt);
    rtt_figure(&mut report, "native tokio, 2 workers", rtt_tokio(2, n));
    report
}

fn main() {
    let report = run(Rounds::FULL);
    for Figure { what, value } in &report.figures {
        println!("{what:<52} {value}");
    }
}
