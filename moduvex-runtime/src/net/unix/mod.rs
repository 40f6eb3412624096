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
pub use listener::UnixListener;
/// A Unix socket address (a path, abstract name, or unnamed).
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;

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
