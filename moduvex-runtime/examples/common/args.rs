//! Command-line and accept-loop helpers shared by the examples.

#![allow(dead_code)] // each example uses its own subset

use std::io;
use std::time::Duration;

/// How long a server waits before accepting again after an error.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The value after `--addr`, or `default`.
pub fn addr(default: &str) -> String {
    flag("--addr").unwrap_or_else(|| default.to_owned())
}

/// The value after `name` on the command line, if any.
pub fn flag(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
        if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            return Some(v.to_owned());
        }
    }
    None
}

/// Positional arguments (those not starting with `--` nor following one).
pub fn positional() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a.starts_with("--") {
            if !a.contains('=') {
                args.next();
            }
        } else {
            out.push(a);
        }
    }
    out
}

/// The process or system ran out of descriptors or memory: the pending
/// connection stays queued until the server can take it.
pub fn is_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// The value after `--threads`: run on a thread-per-core runtime with that
/// many workers, one `SO_REUSEPORT` listener each. `None`: one thread.
pub fn threads() -> Option<usize> {
    flag("--threads").map(|v| match v.parse() {
        Ok(n) if n > 0 => n,
        _ => {
            eprintln!("--threads wants a positive number, got {v:?}");
            std::process::exit(2);
        }
    })
}
