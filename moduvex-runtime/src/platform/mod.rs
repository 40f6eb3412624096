//! Platform layer: the only place (with the reactor backends and the raw
//! task) where the runtime talks to the operating system through `unsafe`.
//!
//! `sys` is chosen at compile time. Linux is the supported target today; on
//! other systems the crate refuses to build rather than pretend.
//!
//! ```
//! use moduvex_runtime::platform::sys::{Interest, RawSource};
//!
//! let fd: RawSource = 0; // a file descriptor on Unix
//! assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
//! # let _ = fd;
//! ```

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
pub mod sys;

#[cfg(not(target_os = "linux"))]
compile_error!("moduvex-runtime currently supports Linux only (epoll); kqueue and IOCP backends are not built yet");
