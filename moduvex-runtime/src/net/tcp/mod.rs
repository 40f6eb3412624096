//! TCP: a listener, a stream, and a socket builder for options that must be
//! set before `bind`, `listen` or `connect`.
//!
//! The one idea: a connection is a non-blocking socket registered once with
//! the reactor for both directions, so a reader and a writer task make
//! progress independently (full duplex), and a `connect` is "start it, then
//! wait for write readiness and read `SO_ERROR`".

mod listener;
mod socket;
mod stream;

pub(crate) use listener::DEFAULT_BACKLOG;
pub use listener::{Incoming, TcpListener};
pub use socket::TcpSocket;
pub use stream::TcpStream;

/// Borrowed read half of a [`TcpStream`] (from [`TcpStream::split`]).
pub type ReadHalf<'a> = super::split::ReadHalf<'a, TcpStream>;
/// Borrowed write half of a [`TcpStream`].
pub type WriteHalf<'a> = super::split::WriteHalf<'a, TcpStream>;
/// Owned read half of a [`TcpStream`] (from [`TcpStream::into_split`]).
pub type OwnedReadHalf = super::split::OwnedReadHalf<TcpStream>;
/// Owned write half of a [`TcpStream`]; dropping it shuts writes down.
pub type OwnedWriteHalf = super::split::OwnedWriteHalf<TcpStream>;
/// Error of reuniting halves of two different [`TcpStream`]s.
pub type ReuniteError = super::split::ReuniteError<TcpStream>;
