//! Side-by-side measurement: every workload runs on every runtime, rounds
//! interleaved (moduvex, tokio, smol, moduvex, ...), and the median round
//! is reported.

use std::time::{Duration, Instant};

/// How a workload's result reads.
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub enum Unit {
    /// Nanoseconds per operation: lower is better.
    NsPerOp,
    /// Operations per second: higher is better.
    OpsPerSec(&'static str),
}

/// One measured round: `ops` operations took `elapsed`.
#[derive(Clone, Copy)]
pub struct Round {
    pub ops: u64,
    pub elapsed: Duration,
    /// Optional extra figure (e.g. p99 latency in µs).
    pub extra: Option<f64>,
    /// Optional CPU time the measured side (e.g. a server) spent per
    /// operation, in µs.
    pub cpu_us_per_op: Option<f64>,
}

impl Round {
    pub fn new(ops: u64, elapsed: Duration) -> Round {
        Round {
            ops,
            elapsed,
            extra: None,
            cpu_us_per_op: None,
        }
    }

    pub fn timed(ops: u64, f: impl FnOnce()) -> Round {
        let start = Instant::now();
        f();
        Round::new(ops, start.elapsed())
    }
}

pub type Runner = Box<dyn FnMut() -> Round>;

/// A workload with one runner per runtime (a runtime may be absent).
pub struct Workload {
    pub name: String,
    pub unit: Unit,
    /// Label of `Round::extra` when present (e.g. "p99 µs").
    pub extra_label: Option<&'static str>,
    pub moduvex: Runner,
    pub tokio: Option<Runner>,
    pub smol: Option<Runner>,
}

pub struct Row {
    pub name: String,
    pub unit: Unit,
    pub extra_label: Option<&'static str>,
    pub moduvex: Round,
    pub tokio: Option<Round>,
    pub smol: Option<Round>,
}

fn value(unit: Unit, r: &Round) -> f64 {
    match unit {
        Unit::NsPerOp => r.elapsed.as_nanos() as f64 / r.ops.max(1) as f64,
        Unit::OpsPerSec(_) => r.ops as f64 / r.elapsed.as_secs_f64(),
    }
}

fn median(unit: Unit, mut rounds: Vec<Round>) -> Round {
    rounds.sort_by(|a, b| value(unit, a).total_cmp(&value(unit, b)));
    rounds[rounds.len() / 2]
}

/// Runs `rounds` interleaved rounds (after one warm-up each) and keeps the median.
pub fn measure(mut w: Workload, rounds: usize) -> Row {
    let (mut m, mut t, mut s) = (Vec::new(), Vec::new(), Vec::new());
    let _ = (w.moduvex)();
    if let Some(r) = w.tokio.as_mut() {
        let _ = r();
    }
    if let Some(r) = w.smol.as_mut() {
        let _ = r();
    }
    for _ in 0..rounds {
        m.push((w.moduvex)());
        if let Some(r) = w.tokio.as_mut() {
            t.push(r());
        }
        if let Some(r) = w.smol.as_mut() {
            s.push(r());
        }
    }
    Row {
        name: w.name,
        unit: w.unit,
        extra_label: w.extra_label,
        moduvex: median(w.unit, m),
        tokio: (!t.is_empty()).then(|| median(w.unit, t)),
        smol: (!s.is_empty()).then(|| median(w.unit, s)),
    }
}

fn fmt_value(unit: Unit, r: &Round, extra: Option<&'static str>) -> String {
    let v = value(unit, r);
    let main = match unit {
        Unit::NsPerOp => format!("{v:.1} ns/op"),
        Unit::OpsPerSec(what) => format!("{:.0} {what}/s", v),
    };
    let mut notes = Vec::new();
    if let (Some(label), Some(x)) = (extra, r.extra) {
        notes.push(format!("{label} {x:.0}"));
    }
    if let Some(cpu) = r.cpu_us_per_op {
        notes.push(format!("CPU {cpu:.1} µs/op"));
    }
    if notes.is_empty() {
        main
    } else {
        format!("{main} ({})", notes.join(", "))
    }
}

/// moduvex relative to a peer, as "time ratio": below 1.0 means moduvex
/// is faster, whatever the unit.
fn ratio(unit: Unit, ours: &Round, theirs: Option<&Round>) -> String {
    let Some(theirs) = theirs else {
        return "–".into();
    };
    let (a, b) = (value(unit, ours), value(unit, theirs));
    let r = match unit {
        Unit::NsPerOp => a / b,
        Unit::OpsPerSec(_) => b / a,
    };
    format!("{r:.2}×")
}

pub fn print_table(rows: &[Row]) {
    println!("| workload | moduvex | tokio | smol | moduvex/tokio | moduvex/smol |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        let peer = |r: &Option<Round>| {
            r.as_ref()
                .map(|r| fmt_value(row.unit, r, row.extra_label))
                .unwrap_or_else(|| "–".into())
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.name,
            fmt_value(row.unit, &row.moduvex, row.extra_label),
            peer(&row.tokio),
            peer(&row.smol),
            ratio(row.unit, &row.moduvex, row.tokio.as_ref()),
            ratio(row.unit, &row.moduvex, row.smol.as_ref()),
        );
    }
    println!();
    println!("Ratios are cost ratios: below 1.00× moduvex is faster (for throughput rows, the inverse of the throughput ratio).");
}
