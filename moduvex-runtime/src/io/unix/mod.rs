//! Unix-specific I/O: [`AsyncFd`], readiness for any pollable descriptor.
//!
//! ```
//! use std::io::Write;
//! use moduvex_runtime::io::{unix::AsyncFd, Interest};
//!
//! moduvex_runtime::block_on(async {
//!     let (r, mut w) = std::os::unix::net::UnixStream::pair()?;
//!     r.set_nonblocking(true)?;
//!     let fd = AsyncFd::with_interest(r, Interest::READABLE)?;
//!     w.write_all(b"!")?;
//!     let guard = fd.readable().await?;
//!     assert!(guard.ready().is_readable());
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

mod async_fd;

pub use async_fd::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
