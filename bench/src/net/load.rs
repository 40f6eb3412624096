//! The load generator: std threads with blocking loopback sockets, each
//! driving its share of the connections in lock step (send on every
//! connection, then read every reply), for a fixed time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Barrier;
use std::time::{Duration, Instant};

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

/// Runs `threads` threads over `conns` connections for `dur`; each thread
/// runs `step` over its connections until time is up and returns how many
/// operations it completed and its latency samples (µs).
fn drive(
    addr: SocketAddr,
    threads: usize,
    conns: usize,
    dur: Duration,
    step: impl Fn(&mut [TcpStream], &mut Vec<u32>) -> u64 + Sync,
) -> (u64, Duration, Vec<u32>) {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, step) = (&barrier, &step);
                let mine = conns / threads + usize::from(t < conns % threads);
                scope.spawn(move || {
                    let mut socks: Vec<TcpStream> = (0..mine).map(|_| connect(addr)).collect();
                    let mut lat = Vec::new();
                    let mut ops = 0;
                    barrier.wait();
                    let deadline = Instant::now() + dur;
                    while Instant::now() < deadline {
                        ops += step(&mut socks, &mut lat);
                    }
                    (ops, lat)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut ops = 0;
        let mut lat = Vec::new();
        for h in handles {
            let (o, l) = h.join().expect("load thread panicked");
            ops += o;
            lat.extend(l);
        }
        (ops, start.elapsed(), lat)
    })
}

/// Echo: every connection sends `msg` bytes and reads them back.
pub fn echo(addr: SocketAddr, threads: usize, conns: usize, msg: usize, dur: Duration) -> Round {
    let payload = vec![0xabu8; msg];
    let (ops, elapsed, _) = drive(addr, threads, conns, dur, |socks, _| {
        let mut back = vec![0u8; msg];
        for s in socks.iter_mut() {
            s.write_all(&payload).expect("echo write");
        }
        for s in socks.iter_mut() {
            s.read_exact(&mut back).expect("echo read");
        }
        socks.len() as u64
    });
    Round::new(ops, elapsed)
}

/// HTTP keep-alive: every connection sends one request and reads the
/// answer; latency is from its send to its whole answer.
pub fn http(addr: SocketAddr, threads: usize, conns: usize, dur: Duration) -> Round {
    let (ops, elapsed, mut lat) = drive(addr, threads, conns, dur, |socks, lat| {
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
    let mut round = Round::new(ops, elapsed);
    round.extra = p99(&mut lat);
    round
}

fn p99(samples: &mut [u32]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let i = (samples.len() * 99).div_ceil(100).saturating_sub(1);
    Some(f64::from(samples[i]))
}

/// Whether `wrk` is on PATH.
pub fn wrk_available() -> bool {
    Command::new("which")
        .arg("wrk")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One `wrk -t1 -c64 -d1s --latency` run; requests/s and p99 latency.
pub fn wrk(addr: SocketAddr) -> Round {
    let out = Command::new("wrk")
        .args(["-t1", "-c64", "-d1s", "--latency"])
        .arg(format!("http://{addr}/"))
        .output()
        .expect("run wrk");
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
