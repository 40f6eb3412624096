//! Network workloads: a TCP echo server and an HTTP/1.1 "hello" server on
//! each runtime, driven by a load generator built into the bench (and by
//! `wrk` when it is installed).
//!
//! Every server is the same code shape on every runtime: a current-thread
//! runtime on its own thread, an accept loop that spawns one task per
//! connection, and a read-then-write-all loop per connection (the HTTP one
//! framing requests with `examples/common/http.rs`). Servers start at their
//! first round and then live until the process exits. The load generator
//! is plain std threads with blocking sockets, over loopback, bounded in
//! count and in time.

#[path = "../../moduvex-runtime/examples/common/http.rs"]
mod http;
mod load;
mod servers;

use std::net::SocketAddr;
use std::time::Duration;

use crate::harness::{Round, Unit, Workload};
use servers::{Kind, Runtime};

/// Connections of the echo workload.
const ECHO_CONNS: usize = 32;
/// Bytes per echo message.
const ECHO_MSG: usize = 1024;
/// Connections of the HTTP workload (as `wrk -c64`).
const HTTP_CONNS: usize = 64;
/// Load-generator threads (each drives its share of the connections).
const LOAD_THREADS: usize = 4;

/// The network workloads; `round` is how long each measured round lasts.
pub fn workloads(round: Duration) -> Vec<Box<dyn FnOnce() -> Workload>> {
    let mut all: Vec<Box<dyn FnOnce() -> Workload>> = vec![
        Box::new(move || echo(round)),
        Box::new(move || hello(round)),
    ];
    if load::wrk_available() {
        all.push(Box::new(hello_wrk));
    }
    all
}

/// A runner that starts `rt`'s `kind` server on first use, then runs
/// `round` against it.
fn runner(
    rt: Runtime,
    kind: Kind,
    round: impl Fn(SocketAddr) -> Round + 'static,
) -> Box<dyn FnMut() -> Round> {
    let mut addr = None;
    Box::new(move || {
        let addr = *addr.get_or_insert_with(|| servers::start(rt, kind));
        round(addr)
    })
}

fn workload(
    name: String,
    unit: Unit,
    extra: Option<&'static str>,
    kind: Kind,
    round: impl Fn(SocketAddr) -> Round + Copy + 'static,
) -> Workload {
    Workload {
        name,
        unit,
        extra_label: extra,
        moduvex: runner(Runtime::Moduvex, kind, round),
        tokio: Some(runner(Runtime::Tokio, kind, round)),
        smol: Some(runner(Runtime::Smol, kind, round)),
    }
}

/// TCP echo: 32 connections each sending 1 KiB and waiting for it back.
pub fn echo(round: Duration) -> Workload {
    workload(
        format!("TCP echo: {ECHO_CONNS} conns × {ECHO_MSG} B msgs"),
        Unit::OpsPerSec("msgs"),
        None,
        Kind::Echo,
        move |addr| load::echo(addr, LOAD_THREADS, ECHO_CONNS, ECHO_MSG, round),
    )
}

/// HTTP/1.1 keep-alive hello: 64 connections, one request in flight each.
pub fn hello(round: Duration) -> Workload {
    workload(
        format!("HTTP hello: {HTTP_CONNS} keep-alive conns (built-in load)"),
        Unit::OpsPerSec("req"),
        Some("p99 µs"),
        Kind::Hello,
        move |addr| load::http(addr, LOAD_THREADS, HTTP_CONNS, round),
    )
}

/// The HTTP hello server under `wrk -t1 -c64 -d1s`.
pub fn hello_wrk() -> Workload {
    workload(
        "HTTP hello: wrk -t1 -c64 -d1s".into(),
        Unit::OpsPerSec("req"),
        Some("p99 µs"),
        Kind::Hello,
        load::wrk,
    )
}
