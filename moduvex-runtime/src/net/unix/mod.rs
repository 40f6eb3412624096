//! Unix-domain sockets: stream listener and connections, and datagrams.
//!
//! The one idea: the same as TCP's (one registration, both directions,
//! readiness cleared only by an operation that proved it stale), on a
//! filesystem path or an anonymous socket pair instead of an IP address.
//! Binding to a path creates a socket file that is not removed on drop.

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::{Incoming, UnixListener};
/// A Unix socket address (a path, abstract name, or unnamed).
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;

use std::io;

use socket2::SockAddr;

/// The socket2 form of a std Unix address: a path, or on Linux an
/// abstract name (a leading NUL byte). An unnamed address names nothing to
/// bind or connect to: `InvalidInput`.
pub(crate) fn sock_addr(addr: &SocketAddr) -> io::Result<SockAddr> {
    if let Some(path) = addr.as_pathname() {
        return SockAddr::unix(path);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;

        if let Some(name) = addr.as_abstract_name() {
            let mut bytes = Vec::with_capacity(name.len() + 1);
            bytes.push(0);
            bytes.extend_from_slice(name);
            return SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "an unnamed Unix socket address names nothing to bind or connect to",
    ))
}

/// Borrowed read half of a [`UnixStream`] (from [`UnixStream::split`]).
pub type ReadHalf<'a> = super::split::ReadHalf<'a, UnixStream>;
/// Borrowed write half of a [`UnixStream`].
pub type WriteHalf<'a> = super::split::WriteHalf<'a, UnixStream>;
/// Owned read half of a [`UnixStream`] (from [`UnixStream::into_split`]).
pub type OwnedReadHalf = super::split::OwnedReadHalf<UnixStream>;
/// Owned write half of a [`UnixStream`]; dropping it shuts writes down.
pub type OwnedWriteHalf = super::split::OwnedWriteHalf<UnixStream>;
/// Error of reuniting halves of two different [`UnixStream`]s.
pub type ReuniteError = super::split::ReuniteError<UnixStream>;
