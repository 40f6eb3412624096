//! Network workloads: a TCP echo server and an HTTP/1.1 "hello" server on
//! each runtime, driven by a load generator built into the bench (and by
//! `wrk` when it is installed).
//!
//! Every server is the same code shape on every runtime: an accept loop
//! that spawns one task per connection, and a read-then-write-all loop per
//! connection (the HTTP one framing requests with `examples/common/http.rs`).
//! The load generator is plain std threads with blocking sockets, over
//! loopback, bounded in count and in time. Servers start at their first
//! round and then live until the process exits.
//!
//! Two families of rows:
//!
//! * **current thread**: each runtime's current-thread scheduler on one
//!   thread, the load on one thread (the built-in generator, or `wrk -t1`).
//!   `MODUVEX_BENCH_PIN=1` pins the server thread to one CPU and the load
//!   (the generator's thread, or `wrk` under `taskset`) to another. Not the
//!   default: on the 2-vCPU VM the bench was written on, pinning made every
//!   wake-up a cross-CPU interrupt (throughput fell 2–3× for every runtime
//!   while the server still used under half its CPU) and kept the pinned
//!   threads from escaping other load on their CPU (p99 of 10+ ms).
//! * **multi-thread, 2 workers**: moduvex thread-per-core (one
//!   `SO_REUSEPORT` listener per worker, accept loops started with
//!   `spawn_on_each_worker`) and work-stealing (one listener in a task);
//!   tokio `new_multi_thread().worker_threads(2)`; smol one `Executor` run
//!   by 2 threads (one listener in a task). Nothing is pinned: the workers
//!   and the load share the machine's cores.
//!
//! Every round also reports the server's CPU time per operation (see
//! `load.rs`), which does not depend on who was the bottleneck.
//!
//! `moduvex-bench serve RUNTIME KIND [--threads N] [--flavor tpc|ws] [--pin CPU]`
//! runs one server alone (for `perf`, `strace` or an outside load), and
//! `moduvex-bench load KIND ADDR SECS [THREADS]` runs the built-in load
//! alone against it.

#[path = "../../moduvex-runtime/examples/common/http.rs"]
mod http;
#[cfg(feature = "hyper")]
mod hyper;
mod load;
mod servers;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use moduvex_runtime::Flavor;

use crate::harness::{Round, Unit, Workload};
use servers::{Kind, Mode, Runtime};

/// Connections of the echo workload.
const ECHO_CONNS: usize = 32;
/// Bytes per echo message.
const ECHO_MSG: usize = 1024;
/// Connections of the HTTP workload (as `wrk -c64`).
const HTTP_CONNS: usize = 64;
/// Load-generator threads of the current-thread rows (as `wrk -t1`).
const LOAD_THREADS: usize = 1;
/// Load-generator threads of the multi-threaded rows (one per worker).
const MT_LOAD_THREADS: usize = 2;
/// Server workers of the multi-threaded rows.
const WORKERS: usize = 2;

/// Where the load runs.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Generator threads.
    threads: usize,
    /// CPU the load is pinned to, if any.
    cpu: Option<usize>,
}

/// The network workloads; `round` is how long each measured round lasts.
pub fn workloads(round: Duration) -> Vec<Box<dyn FnOnce() -> Workload>> {
    let wrk = load::available("wrk") && (pinned_cpus().is_none() || load::available("taskset"));
    let mut all: Vec<Box<dyn FnOnce() -> Workload>> = Vec::new();
    let mut modes = vec![None];
    modes.extend([Flavor::ThreadPerCore, Flavor::WorkStealing].map(Some));
    for flavor in modes {
        all.push(Box::new(move || echo(round, flavor)));
        all.push(Box::new(move || hello(round, flavor)));
        if wrk {
            all.push(Box::new(move || hello_wrk(flavor)));
        }
    }
    #[cfg(feature = "hyper")]
    all.extend(hyper::workloads());
    all
}

/// Whether `MODUVEX_BENCH_VERBOSE` asks for per-round details on stderr.
fn verbose() -> bool {
    std::env::var_os("MODUVEX_BENCH_VERBOSE").is_some_and(|v| v != "0")
}

/// The (server, load) CPUs of the current-thread rows when
/// `MODUVEX_BENCH_PIN=1`: the first two CPUs this process may run on
/// (`None` if only one is available).
fn pinned_cpus() -> Option<(usize, usize)> {
    if std::env::var_os("MODUVEX_BENCH_PIN").is_none_or(|v| v != "1") {
        return None;
    }
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live cpu_set_t of the size passed; pid 0 is this thread.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return None;
    }
    // SAFETY: CPU_ISSET reads the set, and every index is below CPU_SETSIZE.
    let mut cpus = (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) });
    Some((cpus.next()?, cpus.next()?))
}

/// Pins the calling thread to `cpu`.
fn pin_to_cpu(cpu: usize) {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` comes from `pinned_cpus`, below CPU_SETSIZE.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a live cpu_set_t of the size passed; pid 0 is this thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    assert_eq!(rc, 0, "sched_setaffinity({cpu}) failed");
}

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live timespec; the CPU-time clocks always exist.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time of the whole process so far.
fn process_cpu() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Servers already started, by configuration: rows that measure the same
/// server (the built-in load and wrk; the peers' multi-threaded columns of
/// the two moduvex flavors) share it.
type Key = (u8, u8, Option<(usize, u8)>);
static SERVERS: Mutex<Option<HashMap<Key, SocketAddr>>> = Mutex::new(None);

fn server(rt: Runtime, kind: Kind, mode: Mode) -> SocketAddr {
    let multi = |flavor: Flavor| match (rt, flavor) {
        // Only moduvex has two multi-threaded flavors.
        (Runtime::Moduvex, Flavor::ThreadPerCore) => 1,
        (Runtime::Moduvex, _) => 2,
        _ => 0,
    };
    let key: Key = (
        rt as u8,
        kind as u8,
        match mode {
            Mode::Current { .. } => None,
            Mode::Multi { workers, flavor } => Some((workers, multi(flavor))),
        },
    );
    let mut servers = SERVERS.lock().unwrap();
    *servers
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert_with(|| servers::start(rt, kind, mode))
}

/// A runner that starts (or reuses) `rt`'s `kind` server on first use,
/// then runs `round` against it.
fn runner(
    rt: Runtime,
    kind: Kind,
    mode: Mode,
    round: impl Fn(SocketAddr) -> Round + 'static,
) -> Box<dyn FnMut() -> Round> {
    let mut addr = None;
    Box::new(move || {
        let addr = *addr.get_or_insert_with(|| server(rt, kind, mode));
        round(addr)
    })
}

/// The server mode and load placement of a row: current-thread (`None`)
/// or `WORKERS` workers with moduvex's `flavor`; and the row name's suffix.
fn placement(flavor: Option<Flavor>) -> (Mode, Load, String) {
    match flavor {
        None => {
            let cpus = pinned_cpus();
            let suffix = match cpus {
                Some((s, l)) => format!("current thread; server on CPU {s}, load on CPU {l}"),
                None => "current thread".into(),
            };
            let mode = Mode::Current {
                cpu: cpus.map(|c| c.0),
            };
            let load = Load {
                threads: LOAD_THREADS,
                cpu: cpus.map(|c| c.1),
            };
            (mode, load, suffix)
        }
        Some(flavor) => {
            let name = match flavor {
                Flavor::ThreadPerCore => "thread-per-core",
                _ => "work-stealing",
            };
            let mode = Mode::Multi {
                workers: WORKERS,
                flavor,
            };
            let load = Load {
                threads: MT_LOAD_THREADS,
                cpu: None,
            };
            let suffix = format!("multi-thread, {WORKERS} workers; moduvex {name}");
            (mode, load, suffix)
        }
    }
}

fn workload(
    name: String,
    unit: Unit,
    extra: Option<&'static str>,
    kind: Kind,
    mode: Mode,
    round: impl Fn(SocketAddr) -> Round + Copy + 'static,
) -> Workload {
    Workload {
        name,
        unit,
        extra_label: extra,
        moduvex: runner(Runtime::Moduvex, kind, mode, round),
        tokio: Some(runner(Runtime::Tokio, kind, mode, round)),
        smol: Some(runner(Runtime::Smol, kind, mode, round)),
    }
}

/// TCP echo: 32 connections each sending 1 KiB and waiting for it back.
pub fn echo(round: Duration, flavor: Option<Flavor>) -> Workload {
    let (mode, load, suffix) = placement(flavor);
    workload(
        format!("TCP echo: {ECHO_CONNS} conns × {ECHO_MSG} B msgs ({suffix})"),
        Unit::OpsPerSec("msgs"),
        Some("p99 µs"),
        Kind::Echo,
        mode,
        move |addr| load::echo(addr, load, ECHO_CONNS, ECHO_MSG, round),
    )
}

/// HTTP/1.1 keep-alive hello: 64 connections, one request in flight each.
pub fn hello(round: Duration, flavor: Option<Flavor>) -> Workload {
    let (mode, load, suffix) = placement(flavor);
    workload(
        format!("HTTP hello: {HTTP_CONNS} keep-alive conns, built-in load ({suffix})"),
        Unit::OpsPerSec("req"),
        Some("p99 µs"),
        Kind::Hello,
        mode,
        move |addr| load::http(addr, load, HTTP_CONNS, round),
    )
}

/// The HTTP hello server under `wrk -t1 -c64 -d1s`.
pub fn hello_wrk(flavor: Option<Flavor>) -> Workload {
    let (mode, load, suffix) = placement(flavor);
    workload(
        format!("HTTP hello: wrk -t1 -c64 -d1s ({suffix})"),
        Unit::OpsPerSec("req"),
        Some("p99 µs"),
        Kind::Hello,
        mode,
        move |addr| load::wrk(addr, load.cpu),
    )
}

/// `serve RUNTIME KIND [--threads N] [--flavor tpc|ws] [--pin CPU]`: runs
/// one server until killed, printing its address.
pub fn serve_cli(args: &[String]) {
    let usage = "usage: moduvex-bench serve moduvex|tokio|smol echo|hello [--threads N] [--flavor tpc|ws] [--pin CPU]";
    let rt = match args.first().map(String::as_str) {
        Some("moduvex") => Runtime::Moduvex,
        Some("tokio") => Runtime::Tokio,
        Some("smol") => Runtime::Smol,
        _ => panic!("{usage}"),
    };
    let kind = match args.get(1).map(String::as_str) {
        Some("echo") => Kind::Echo,
        Some("hello") => Kind::Hello,
        _ => panic!("{usage}"),
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let mode = match flag("--threads") {
        Some(n) => Mode::Multi {
            workers: n.parse().expect(usage),
            flavor: match flag("--flavor") {
                Some("ws") => Flavor::WorkStealing,
                Some("tpc") | None => Flavor::ThreadPerCore,
                Some(_) => panic!("{usage}"),
            },
        },
        None => Mode::Current {
            cpu: flag("--pin").map(|c| c.parse().expect(usage)),
        },
    };
    let addr = servers::start(rt, kind, mode);
    println!("{addr}");
    loop {
        std::thread::park();
    }
}

/// `load echo|hello ADDR SECS [THREADS]`: runs the built-in load against a
/// server (e.g. one started by `serve` in another process) and prints
/// what it measured.
pub fn load_cli(args: &[String]) {
    let usage = "usage: moduvex-bench load echo|hello ADDR SECS [THREADS]";
    let addr: SocketAddr = args.get(1).and_then(|a| a.parse().ok()).expect(usage);
    let secs: f64 = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    let load = Load {
        threads: args
            .get(3)
            .map_or(LOAD_THREADS, |t| t.parse().expect(usage)),
        cpu: None,
    };
    let dur = Duration::from_secs_f64(secs);
    let round = match args.first().map(String::as_str) {
        Some("echo") => load::echo(addr, load, ECHO_CONNS, ECHO_MSG, dur),
        Some("hello") => load::http(addr, load, HTTP_CONNS, dur),
        _ => panic!("{usage}"),
    };
    println!(
        "{} ops in {:?}: {:.0}/s, p99 {:.0} µs",
        round.ops,
        round.elapsed,
        round.ops as f64 / round.elapsed.as_secs_f64(),
        round.extra.unwrap_or(f64::NAN)
    );
}
