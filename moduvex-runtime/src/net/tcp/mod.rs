//! TCP: a listener, a stream, and a socket builder for options that must be
//! set before `bind`, `listen` or `connect`.
//!
//! The one idea: a connection is a non-blocking socket registered once with
//! the reactor for both directions, so a reader and a writer task make
//! progress independently (full duplex), and a `connect` is "start it, then
//! wait for write readiness and read `SO_ERROR`".
//!
//! ```
//! use moduvex_runtime::net::tcp::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
//!
//! moduvex_runtime::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let stream = TcpStream::connect(listener.local_addr()?).await?;
//!     let (rd, wr): (OwnedReadHalf, OwnedWriteHalf) = stream.into_split();
//!     let stream = rd.reunite(wr).ok().unwrap();
//!     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

mod listener;
mod socket;
mod stream;

#[cfg(unix)]
pub(crate) use listener::DEFAULT_BACKLOG;
pub use listener::{Incoming, TcpListener};
pub use socket::TcpSocket;
pub use stream::TcpStream;

/// Borrowed read half of a [`TcpStream`] (from [`TcpStream::split`]).
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::tcp::{ReadHalf};
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut stream = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut peer, _) = listener.accept().await?;
///     let (mut rd, _wr) = stream.split();
///     let rd: &mut ReadHalf<'_> = &mut rd;
///     peer.write_all(b"r").await?;
///     let mut buf = [0; 1];
///     rd.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"r");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type ReadHalf<'a> = super::split::ReadHalf<'a, TcpStream>;
/// Borrowed write half of a [`TcpStream`].
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::tcp::{WriteHalf};
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut stream = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut peer, _) = listener.accept().await?;
///     let (_rd, mut wr) = stream.split();
///     let wr: &mut WriteHalf<'_> = &mut wr;
///     wr.write_all(b"w").await?;
///     let mut buf = [0; 1];
///     peer.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"w");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type WriteHalf<'a> = super::split::WriteHalf<'a, TcpStream>;
/// Owned read half of a [`TcpStream`] (from [`TcpStream::into_split`]).
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::tcp::{OwnedReadHalf};
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let stream = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut peer, _) = listener.accept().await?;
///     let (rd, _wr) = stream.into_split();
///     let reader = moduvex_runtime::spawn(async move {
///         let mut rd: OwnedReadHalf = rd;
///         let mut buf = [0; 2];
///         rd.read_exact(&mut buf).await.map(|_| buf)
///     });
///     peer.write_all(b"ok").await?;
///     assert_eq!(&reader.await.unwrap()?, b"ok");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type OwnedReadHalf = super::split::OwnedReadHalf<TcpStream>;
/// Owned write half of a [`TcpStream`]; dropping it shuts writes down.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::tcp::{OwnedWriteHalf};
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let stream = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut peer, _) = listener.accept().await?;
///     let (_rd, wr) = stream.into_split();
///     let mut wr: OwnedWriteHalf = wr;
///     wr.write_all(b"bye").await?;
///     drop(wr); // shuts the write direction down
///     let mut got = Vec::new();
///     peer.read_to_end(&mut got).await?;
///     assert_eq!(got, b"bye");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type OwnedWriteHalf = super::split::OwnedWriteHalf<TcpStream>;
/// Error of reuniting halves of two different [`TcpStream`]s.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::tcp::{ReuniteError};
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let stream = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut peer, _) = listener.accept().await?;
///     let other = TcpStream::connect(listener.local_addr()?).await?;
///     let (rd, _wr) = stream.into_split();
///     let (_rd2, wr2) = other.into_split();
///     let err: ReuniteError = rd.reunite(wr2).unwrap_err();
///     // Both halves come back: put each with its own partner.
///     let (rd, wr2) = (err.0, err.1);
///     # drop((rd, wr2, peer));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type ReuniteError = super::split::ReuniteError<TcpStream>;
