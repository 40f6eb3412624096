//! Platform layer: the only place (with the reactor backends and the raw
//! task) where the runtime talks to the operating system through `unsafe`.
//!
//! `sys` is chosen at compile time, one module per OS, in one `cfg` chain
//! that refuses to build anywhere else rather than pretend: Linux (epoll),
//! macOS and FreeBSD (kqueue), Windows (IOCP, with sockets as its sources).
//! Everything above it — the executor, timers, sync, the sockets' public
//! types — compiles unchanged on each.
//!
//! [`Interest`](sys::Interest) and [`Event`](sys::Event) are shared by every
//! system, and what every Unix shares (descriptors, pipes, the event
//! buffer) is written once. `RawSource` is a file descriptor on Unix and a
//! socket on Windows, and [`AsRawSource`] is implemented for everything
//! that has one (`AsRawFd` on Unix, `AsRawSocket` on Windows), so
//! [`IoSource`](crate::reactor::IoSource) takes either.
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

#[cfg(windows)]
#[path = "windows.rs"]
pub mod sys;

#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "freebsd",
    windows
)))]
compile_error!(
    "moduvex-runtime supports Linux (epoll), macOS and FreeBSD (kqueue) and \
     Windows (IOCP); no backend exists for this target"
);

/// An object that owns or borrows a source the reactor can watch: a file
/// descriptor on Unix, a socket on Windows.
///
/// Implemented for every `T: AsRawFd` on Unix and every `T: AsRawSocket`
/// on Windows, as std's own I/O types are; it is how
/// [`IoSource`](crate::reactor::IoSource) names what it registers.
///
/// ```
/// use moduvex_runtime::platform::AsRawSource;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let raw = listener.as_raw_source();
/// # let _ = raw;
/// # Ok::<_, std::io::Error>(())
/// ```
pub trait AsRawSource {
    /// The raw descriptor or socket, borrowed: it stays owned by `self`.
    fn as_raw_source(&self) -> sys::RawSource;
}

#[cfg(unix)]
impl<T: std::os::fd::AsRawFd + ?Sized> AsRawSource for T {
    #[inline]
    fn as_raw_source(&self) -> sys::RawSource {
        self.as_raw_fd()
    }
}

#[cfg(windows)]
impl<T: std::os::windows::io::AsRawSocket + ?Sized> AsRawSource for T {
    #[inline]
    fn as_raw_source(&self) -> sys::RawSource {
        self.as_raw_socket()
    }
}
