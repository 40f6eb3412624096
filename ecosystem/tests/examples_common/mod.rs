//! How the examples are run by tests: each `examples/NAME.rs` keeps its
//! work in a `pub fn run(..)` (its `main` only reads the command line and
//! calls it), and `tests/example_NAME.rs` compiles the example file into
//! the test with
//!
//! ```ignore
//! #[path = "../examples/NAME.rs"]
//! #[allow(dead_code)] // the example's `main`
//! mod example;
//! ```
//!
//! then calls `example::run(..)` under [`guard`]. No `cargo run` inside a
//! test (slow, and a second build of the crate), no binary path needed.
#![allow(dead_code)]

use std::time::Duration;

/// Runs `f` on a helper thread; fails with a clear message if it has not
/// finished within a generous bound (a hang guard, not a speed check).
pub fn guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(v) => {
            handle.join().unwrap();
            v
        }
        // The closure panicked: show its panic.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(handle.join().unwrap_err())
        }
        Err(_) => panic!("{what}: did not finish within 120 s (hang)"),
    }
}
