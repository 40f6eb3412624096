//! [`UnixStream`]: a Unix-domain stream connection.

use std::io;
use std::net::Shutdown;
use std::path::Path;

use socket2::{Domain, SockAddr, Type};

use super::SocketAddr;
use crate::net::os;
use crate::net::stream_io;
use crate::reactor::IoSource;

/// A connected Unix-domain stream socket.
///
/// Reads and writes like [`TcpStream`](crate::net::TcpStream): through the
/// `AsyncRead`/`AsyncWrite` traits, through `&UnixStream`, or split.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UnixStream {
    pub(super) io: IoSource<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`.
    ///
    /// A listener whose backlog is full makes this fail with `WouldBlock`
    /// (the kernel does not queue non-blocking Unix connects).
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-stream1-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     let mut client = UnixStream::connect(&path).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"hello").await?;
    ///     let mut buf = [0; 5];
    ///     server.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hello");
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path);
        Self::connect_sock_addr(addr?).await
    }

    /// Connects to the socket at `addr`: a path, or on Linux an abstract
    /// name (`SocketAddr::from_abstract_name`). An unnamed address is
    /// `InvalidInput`.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    ///
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let name = format!("moduvex-doc-stream2-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    ///     let listener = UnixListener::bind_addr(&addr)?;
    ///     let client = UnixStream::connect_addr(&addr).await?;
    ///     let (_server, _) = listener.accept().await?;
    ///     assert_eq!(client.peer_addr()?.as_abstract_name(), Some(name.as_bytes()));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// # }
    /// ```
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let addr = super::sock_addr(addr);
        Self::connect_sock_addr(addr?).await
    }

    async fn connect_sock_addr(addr: SockAddr) -> io::Result<UnixStream> {
        let socket = os::new_socket(Domain::UNIX, Type::STREAM, None)?;
        let io = stream_io::connect(socket, &addr).await?;
        Ok(UnixStream { io })
    }

    /// A connected pair of anonymous streams (`socketpair`).
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (mut a, mut b) = (a, b);
    ///     a.write_all(b"ping").await?;
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"ping");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = os::pair(Domain::UNIX, Type::STREAM)?;
        Ok((
            Self::from_nonblocking(a.into())?,
            Self::from_nonblocking(b.into())?,
        ))
    }

    /// Registers an accepted or connected, non-blocking std stream,
    /// optimistically ready (see `IoSource::new_optimistic`).
    pub(crate) fn from_nonblocking(
        stream: std::os::unix::net::UnixStream,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: IoSource::new_optimistic(stream)?,
        })
    }

    /// Wraps a connected std stream, switching it to non-blocking mode and
    /// registering it with this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (std_a, std_b) = std::os::unix::net::UnixStream::pair()?;
    ///     let mut a = UnixStream::from_std(std_a)?;
    ///     std::io::Write::write_all(&mut &std_b, b"std")?;
    ///     let mut buf = [0; 3];
    ///     a.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"std");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        os::prepare_stream(&stream)?;
        Self::from_nonblocking(stream)
    }

    /// Deregisters the stream and returns the std one, still non-blocking.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let std_a = a.into_std()?;
    ///     std_a.set_nonblocking(false)?;
    ///     b.writable().await?;
    ///     b.try_write(b"x")?;
    ///     let mut buf = [0; 1];
    ///     std::io::Read::read_exact(&mut &std_a, &mut buf)?;
    ///     assert_eq!(&buf, b"x");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.io.into_inner()
    }

    /// The local address.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     assert!(a.local_addr()?.is_unnamed(), "a socketpair has no name");
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-stream3-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     let client = UnixStream::connect(&path).await?;
    ///     assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    ///     # drop(listener);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read direction, the write direction, or both.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     let mut rest = Vec::new();
    ///     (&b).read_to_end(&mut rest).await?;
    ///     assert!(rest.is_empty(), "end-of-file at once");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     assert!(a.take_error()?.is_none());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

stream_io::stream_common!(UnixStream, std::os::unix::net::UnixStream);
