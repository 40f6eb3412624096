//! Platform layer: the only place (with the reactor backends and the raw
//! task) where the runtime talks to the operating system through `unsafe`.
//!
//! `sys` is chosen at compile time, one module per OS, in one `cfg` chain
//! that refuses to build anywhere else rather than pretend: Linux (epoll),
//! macOS and FreeBSD (kqueue). Everything above it — the executor, timers,
//! sync, the sockets' public types — compiles unchanged on each.
//!
//! [`Interest`](sys::Interest) and [`Event`](sys::Event) are shared by every
//! system, and what every Unix shares (descriptors, pipes, the event
//! buffer) is written once.
//!
//! ```
//! use moduvex_runtime::platform::sys::{Interest, RawSource};
//!
//! let fd: RawSource = 0; // a file descriptor on Unix
//! assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
//! # let _ = fd;
//! ```

mod readiness;
#[cfg(unix)]
mod unix;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
pub mod sys;

#[cfg(any(target_os = "macos", target_os = "freebsd"))]
#[path = "bsd.rs"]
pub mod sys;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
compile_error!(
    "moduvex-runtime supports Linux (epoll), macOS and FreeBSD (kqueue); \
     no backend exists for this target"
);
