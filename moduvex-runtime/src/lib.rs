//! moduvex-runtime: an async runtime for Rust.
//!
//! A per-thread I/O reactor (epoll), a task executor, timers, sockets and
//! sync primitives, with the names tokio and smol users already know.
//!
//! ```
//! let out = moduvex_runtime::block_on(async {
//!     let a = moduvex_runtime::spawn(async { 1 });
//!     let b = moduvex_runtime::spawn(async { 2 });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(out, 3);
//! ```
//!
//! # Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | `macros` (default) | `#[main]`, `#[test]` |
//! | `hyper` | module `hyper`: hyper 1.x and hyper-util on this runtime, `serve` for any tower service (an axum `Router`), a pooled-client `Connector` |
//! | `tokio-io` | tokio's `AsyncRead`/`AsyncWrite` on our streams, and `io::Compat` |
//! | `tokio-compat` | module `tokio_compat`: crates bound to tokio's runtime (reqwest, `tokio::spawn`, `tokio::time`, `tokio::net`, `axum::serve`, tower-http timeouts) run inside moduvex tasks; one extra thread per runtime |
#![warn(missing_docs)]

mod coop;
pub mod executor;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
mod join;
pub mod net;
mod pin;
pub mod platform;
pub mod reactor;
pub mod runtime;
mod select;
pub mod signal;
pub mod stream;
pub mod sync;
pub mod task;
pub mod time;
#[cfg(feature = "tokio-compat")]
pub mod tokio_compat;

pub use executor::{block_on, spawn, spawn_local, yield_now, JoinError, JoinHandle};
pub use runtime::{spawn_blocking, Builder, Flavor, Handle, Runtime};

#[cfg(feature = "macros")]
pub use moduvex_macros::{main, test};

/// What the crate's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    #[cfg(not(feature = "macros"))]
    pub use crate::__select_pattern_as_written as select_check_pattern;
    pub use crate::join::MaybeDone;
    pub use crate::select::select_start;
    #[cfg(feature = "macros")]
    pub use moduvex_macros::__select_check_pattern as select_check_pattern;
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
