//! The load generator, built like `wrk`: each thread drives its share of
//! the connections with non-blocking sockets and its own epoll instance,
//! one message in flight per connection: the moment a connection's answer
//! is complete it records the latency (send to last byte) and sends the
//! next message. A thread costs one `send` and one `recv` per message plus
//! a share of an `epoll_wait`, and a slow connection holds up nobody else.
//!
//! Every round also reports the CPU time the server spent per operation:
//! the process's CPU time over the round minus the load threads' own (the
//! other threads of the process are servers, all idle but the one under
//! test). Under `wrk` the load runs in another process, so the process's
//! CPU time is the server's.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use super::{process_cpu, thread_cpu, Load};
use crate::harness::Round;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
/// Length of the hello server's keep-alive answer.
const RESPONSE_LEN: usize = super::http::HELLO.len();
/// A server that answers nothing for this long fails the bench.
const STUCK: Duration = Duration::from_secs(10);

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to bench server");
    s.set_nodelay(true).unwrap();
    s.set_nonblocking(true).unwrap();
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

/// One connection of a load thread.
struct Conn {
    sock: TcpStream,
    /// Bytes of the current answer received so far.
    got: usize,
    /// When the current message was sent.
    sent: Instant,
}

/// Writes all of `msg` to a non-blocking socket (a message this small
/// fits its empty send buffer at once; otherwise spin until it does).
fn send(sock: &mut TcpStream, msg: &[u8]) {
    let mut off = 0;
    while off < msg.len() {
        match sock.write(&msg[off..]) {
            Ok(n) => off += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("load: send: {e}"),
        }
    }
}

/// An epoll instance watching `conns` for input (level-triggered).
struct Epoll(i32);

impl Epoll {
    fn new(conns: &[Conn]) -> Epoll {
        // SAFETY: epoll_create1 takes a flag word only.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1 failed");
        for (i, c) in conns.iter().enumerate() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            let sock = c.sock.as_raw_fd();
            // SAFETY: both descriptors are open; `ev` is a live epoll_event.
            let rc = unsafe { libc::epoll_ctl(fd, libc::EPOLL_CTL_ADD, sock, &mut ev) };
            assert_eq!(rc, 0, "epoll_ctl failed");
        }
        Epoll(fd)
    }

    /// Waits up to `ms` for input; returns the ready connection indexes.
    fn wait<'a>(
        &self,
        events: &'a mut [libc::epoll_event],
        ms: i32,
    ) -> impl Iterator<Item = usize> + 'a {
        // SAFETY: `events` has room for `events.len()` entries.
        let n = unsafe { libc::epoll_wait(self.0, events.as_mut_ptr(), events.len() as i32, ms) };
        let n = usize::try_from(n).unwrap_or(0);
        events[..n].iter().map(|e| e.u64 as usize)
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and used by nothing else.
        unsafe { libc::close(self.0) };
    }
}

/// Runs `load.threads` threads over `conns` connections for `dur`, each
/// connection sending `msg` and reading `answer_len` bytes back, again and
/// again.
fn drive(
    addr: SocketAddr,
    load: Load,
    conns: usize,
    dur: Duration,
    msg: &[u8],
    answer_len: usize,
) -> Driven {
    let threads = load.threads;
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                let mine = conns / threads + usize::from(t < conns % threads);
                scope.spawn(move || {
                    if let Some(cpu) = load.cpu {
                        super::pin_to_cpu(cpu);
                    }
                    let now = Instant::now();
                    let mut conns: Vec<Conn> = (0..mine)
                        .map(|_| Conn {
                            sock: connect(addr),
                            got: 0,
                            sent: now,
                        })
                        .collect();
                    let epoll = Epoll::new(&conns);
                    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; mine.max(1)];
                    let mut buf = vec![0u8; answer_len.max(4096)];
                    let mut lat = Vec::new();
                    let mut ops = 0u64;
                    let cpu0 = thread_cpu();
                    barrier.wait();
                    let start = Instant::now();
                    let deadline = start + dur;
                    for c in conns.iter_mut() {
                        send(&mut c.sock, msg);
                        c.sent = start;
                    }
                    let mut last_progress = start;
                    loop {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        assert!(
                            now - last_progress < STUCK,
                            "load: the server stopped answering"
                        );
                        for i in epoll.wait(&mut events, 10) {
                            let c = &mut conns[i];
                            match c.sock.read(&mut buf[..answer_len - c.got]) {
                                Ok(0) => panic!("load: the server closed a connection"),
                                Ok(n) => c.got += n,
                                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                                Err(e) => panic!("load: recv: {e}"),
                            }
                            if c.got < answer_len {
                                continue;
                            }
                            let done = Instant::now();
                            ops += 1;
                            let us = (done - c.sent).as_micros();
                            lat.push(us.min(u128::from(u32::MAX)) as u32);
                            last_progress = done;
                            c.got = 0;
                            if done < deadline {
                                send(&mut c.sock, msg);
                                c.sent = done;
                            }
                        }
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
    drive(addr, load, conns, dur, &payload, msg).round()
}

/// HTTP keep-alive: every connection sends one request and reads the
/// answer; latency is from its send to its whole answer.
pub fn http(addr: SocketAddr, load: Load, conns: usize, dur: Duration) -> Round {
    drive(addr, load, conns, dur, REQUEST, RESPONSE_LEN).round()
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
