//! Unix-domain sockets: stream listener and connections, and datagrams.
//!
//! The one idea: the same as TCP's (one registration, both directions,
//! readiness cleared only by an operation that proved it stale), on a
//! filesystem path or an anonymous socket pair instead of an IP address.
//! Binding to a path creates a socket file that is not removed on drop.
//!
//! ```
//! use moduvex_runtime::net::unix::{UnixDatagram, UnixStream};
//!
//! moduvex_runtime::block_on(async {
//!     let (a, b) = UnixStream::pair()?;
//!     a.try_write(b"stream")?;
//!     b.readable().await?;
//!     assert_eq!(b.try_read(&mut [0; 8])?, 6);
//!     let (x, y) = UnixDatagram::pair()?;
//!     x.send(b"datagram").await?;
//!     assert_eq!(y.recv(&mut [0; 16]).await?, 8);
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

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
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::unix::{ReadHalf};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (mut stream, mut peer) = UnixStream::pair()?;
///     let (mut rd, _wr) = stream.split();
///     let rd: &mut ReadHalf<'_> = &mut rd;
///     peer.write_all(b"r").await?;
///     let mut buf = [0; 1];
///     rd.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"r");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type ReadHalf<'a> = super::split::ReadHalf<'a, UnixStream>;
/// Borrowed write half of a [`UnixStream`].
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::unix::{WriteHalf};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (mut stream, mut peer) = UnixStream::pair()?;
///     let (_rd, mut wr) = stream.split();
///     let wr: &mut WriteHalf<'_> = &mut wr;
///     wr.write_all(b"w").await?;
///     let mut buf = [0; 1];
///     peer.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"w");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type WriteHalf<'a> = super::split::WriteHalf<'a, UnixStream>;
/// Owned read half of a [`UnixStream`] (from [`UnixStream::into_split`]).
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::unix::{OwnedReadHalf};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (stream, mut peer) = UnixStream::pair()?;
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
pub type OwnedReadHalf = super::split::OwnedReadHalf<UnixStream>;
/// Owned write half of a [`UnixStream`]; dropping it shuts writes down.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::unix::{OwnedWriteHalf};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (stream, mut peer) = UnixStream::pair()?;
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
pub type OwnedWriteHalf = super::split::OwnedWriteHalf<UnixStream>;
/// Error of reuniting halves of two different [`UnixStream`]s.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::unix::{ReuniteError};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (stream, mut peer) = UnixStream::pair()?;
///     let (other, _p) = UnixStream::pair()?;
///     let (rd, _wr) = stream.into_split();
///     let (_rd2, wr2) = other.into_split();
///     let err: ReuniteError = rd.reunite(wr2).unwrap_err();
///     // Both halves come back: put each with its own partner.
///     let (rd, wr2) = (err.0, err.1);
///     # drop((rd, wr2, peer));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub type ReuniteError = super::split::ReuniteError<UnixStream>;
