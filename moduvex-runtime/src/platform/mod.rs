//! Platform layer: the only place (with the reactor backends and the raw
//! task) where the runtime talks to the operating system through `unsafe`.
//!
//! `sys` is chosen at compile time by one `cfg` chain: Linux (epoll), the
//! BSDs and Apple systems (kqueue); any other target refuses to build rather
//! than pretend. On Unix, what every system shares lives in `unix.rs` and is
//! re-exported by each system's module.
//!
//! ```
//! use moduvex_runtime::platform::sys::{Interest, RawSource};
//!
//! let fd: RawSource = 0; // a file descriptor on Unix
//! assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
//! # let _ = fd;
//! ```

#[cfg(unix)]
mod unix;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
pub mod sys;

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
))]
#[path = "bsd.rs"]
pub mod sys;

#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
    windows,
)))]
compile_error!(
    "moduvex-runtime supports Linux (epoll), macOS, iOS and the BSDs (kqueue), and Windows (IOCP) only"
);
