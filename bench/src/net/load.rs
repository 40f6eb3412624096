//! The load generator: std threads with blocking loopback sockets, each
//! driving its share of the connections in lock step (send on every
//! connection, then read every reply), for a fixed time.
//!
//! Every round also reports the CPU time the server spent per operation:
//! the process's CPU time over the round minus the load threads' own (the
//! other threads of the process are servers, all idle but the one under
//! test). Under `wrk` the load runs in another process, so the process's
//! CPU time is the server's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use super::{process_cpu, thread_cpu, Load};
use crate::harness::Round;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
/// Length of the hello server's keep-alive answer.
const RESPONSE_LEN: usize = super::http::HELLO.len();

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to bench server");
    s.set_nodelay(true).unwrap();
    // A stuck server fails the bench instead of hanging it.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// What one load run measured.
struct Driven {
    ops: u64,
    elapsed: Duration,
    /// Latency samples, µs.
    lat: Vec<u32>,
    /// CPU time of the rest of the process (the server) over the run.
    server_cpu: Duration,
}

/// Runs `load.threads` threads over `conns` connections for `dur`; each
/// thread runs `step` over its connections until time is up and returns
/// how many operations it completed and its latency samples (µs).
fn drive(
    addr: SocketAddr,
    load: Load,
    conns: usize,
    dur: Duration,
    step: impl Fn(&mut [TcpStream], &mut Vec<u32>) -> u64 + Sync,
) -> Driven {
    let threads = load.threads;
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, step) = (&barrier, &step);
                let mine = conns / threads + usize::from(t < conns % threads);
                scope.spawn(move || {
                    if let Some(cpu) = load.cpu {
                        super::pin_to_cpu(cpu);
                    }
                    let mut socks: Vec<TcpStream> = (0..mine).map(|_| connect(addr)).collect();
                    let mut lat = Vec::new();
                    let mut ops = 0;
                    let cpu0 = thread_cpu();
                    barrier.wait();
                    let deadline = Instant::now() + dur;
                    while Instant::now() < deadline {
                        ops += step(&mut socks, &mut lat);
                    }
                    (ops, lat, thread_cpu() - cpu0)
                })
            })
            .collect();
        let cpu0 = process_cpu();
        barrier.wait();
        let start = Instant::now();
        let mut ops = 0;
        let mut lat = Vec::new();
        let mut load_cpu = Duration::ZERO;
        for h in handles {
            let (o, l, c) = h.join().expect("load thread panicked");
            ops += o;
            lat.extend(l);
            load_cpu += c;
        }
        let elapsed = start.elapsed();
        let server_cpu = (process_cpu() - cpu0).saturating_sub(load_cpu);
        if super::verbose() {
            eprintln!(
                "  {ops} ops in {elapsed:?}: server CPU {:.2} µs/op, load CPU {:.2} µs/op",
                per_op_us(server_cpu, ops),
                per_op_us(load_cpu, ops)
            );
        }
        Driven {
            ops,
            elapsed,
            lat,
            server_cpu,
        }
    })
}

fn per_op_us(cpu: Duration, ops: u64) -> f64 {
    cpu.as_secs_f64() * 1e6 / ops.max(1) as f64
}

impl Driven {
    fn round(mut self) -> Round {
        let mut round = Round::new(self.ops, self.elapsed);
        round.extra = p99(&mut self.lat);
        round.cpu_us_per_op = Some(per_op_us(self.server_cpu, self.ops));
        round
    }
}

/// Echo: every connection sends `msg` bytes and reads them back.
pub fn echo(addr: SocketAddr, load: Load, conns: usize, msg: usize, dur: Duration) -> Round {
    let payload = vec![0xabu8; msg];
    let driven = drive(addr, load, conns, dur, |socks, _| {
        let mut back = vec![0u8; msg];
        for s in socks.iter_mut() {
            s.write_all(&payload).expect("echo write");
        }
        for s in socks.iter_mut() {
            s.read_exact(&mut back).expect("echo read");
        }
        socks.len() as u64
    });
    driven.round()
}

/// HTTP keep-alive: every connection sends one request and reads the
/// answer; latency is from its send to its whole answer.
pub fn http(addr: SocketAddr, load: Load, conns: usize, dur: Duration) -> Round {
    let driven = drive(addr, load, conns, dur, |socks, lat| {
        let mut resp = [0u8; RESPONSE_LEN];
        let sent: Vec<Instant> = socks
            .iter_mut()
            .map(|s| {
                s.write_all(REQUEST).expect("http write");
                Instant::now()
            })
            .collect();
        for (s, t0) in socks.iter_mut().zip(sent) {
            s.read_exact(&mut resp).expect("http read");
            debug_assert!(resp.starts_with(b"HTTP/1.1 200"));
            lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
        socks.len() as u64
    });
    driven.round()
}

fn p99(samples: &mut [u32]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let i = (samples.len() * 99).div_ceil(100).saturating_sub(1);
    Some(f64::from(samples[i]))
}

/// Whether `prog` is on PATH.
pub fn available(prog: &str) -> bool {
    Command::new("which")
        .arg(prog)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One `wrk -t1 -c64 -d1s --latency` run (under `taskset -c CPU` when the
/// load is pinned); requests/s, p99 latency and the server's CPU time.
pub fn wrk(addr: SocketAddr, cpu: Option<usize>) -> Round {
    let mut cmd = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpu.to_string(), "wrk"]);
            c
        }
        None => Command::new("wrk"),
    };
    cmd.args(["-t1", "-c64", "-d1s", "--latency"])
        .arg(format!("http://{addr}/"));
    let cpu0 = process_cpu();
    let out = cmd.output().expect("run wrk");
    let server_cpu = process_cpu() - cpu0;
    let text = String::from_utf8_lossy(&out.stdout);
    // "  12345 requests in 1.00s, 1.23MB read"
    let (requests, secs) = text
        .lines()
        .find_map(|l| {
            let (n, rest) = l.trim().split_once(" requests in ")?;
            let secs = rest.split(',').next()?;
            Some((n.parse::<u64>().ok()?, parse_duration(secs)?))
        })
        .unwrap_or_else(|| panic!("unexpected wrk output:\n{text}"));
    let mut round = Round::new(requests, secs);
    round.cpu_us_per_op = Some(per_op_us(server_cpu, requests));
    // "     99%  812.00us"
    round.extra = text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("99%")?;
        parse_duration(rest.trim()).map(|d| d.as_secs_f64() * 1e6)
    });
    round
}

/// wrk's durations: "812.00us", "1.20ms", "1.00s", "2.00m".
fn parse_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    let secs = match unit {
        "us" => v / 1e6,
        "ms" => v / 1e3,
        "s" => v,
        "m" => v * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}
