//! [`TcpStream`]: a TCP connection.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::net::addr::{each_addr, resolve, ToSocketAddrs};
use crate::net::stream_io;
use crate::reactor::IoSource;

/// A TCP connection between a local and a remote socket.
///
/// Read and write it with the [`AsyncReadExt`](crate::io::AsyncReadExt) and
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt) methods, through `&TcpStream`
/// from several tasks at once, or split it with [`split`](Self::split) /
/// [`into_split`](Self::into_split). Closing it (`close()`) shuts the write
/// direction down; dropping it closes the socket.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = moduvex_runtime::spawn(async move {
///         let mut s = TcpStream::connect(addr).await?;
///         s.write_all(b"ping").await?;
///         let mut buf = [0; 4];
///         s.read_exact(&mut buf).await?;
///         Ok::<_, std::io::Error>(buf)
///     });
///     let (mut s, _) = listener.accept().await?;
///     let mut buf = [0; 4];
///     s.read_exact(&mut buf).await?;
///     s.write_all(&buf).await?;
///     assert_eq!(&client.await.unwrap()?, b"ping");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct TcpStream {
    pub(super) io: IoSource<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in
    /// turn; returns the first connection made, or the last error.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     // Any `ToSocketAddrs`: a `SocketAddr`, a `"host:port"` string, ...
    ///     let a = TcpStream::connect(addr).await?;
    ///     let b = TcpStream::connect(format!("127.0.0.1:{}", addr.port())).await?;
    ///     assert_eq!(a.peer_addr()?, addr);
    ///     assert_eq!(b.peer_addr()?.port(), addr.port());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        each_addr(addrs, Self::connect_addr).await
    }

    /// Connects a fresh socket to one address.
    pub(crate) async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = crate::net::os::new_socket(
            Domain::for_address(addr),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        Self::connect_socket(socket, addr).await
    }

    /// Connects an already configured socket (see `TcpSocket`).
    pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
        let io = stream_io::connect(socket, &addr.into()).await?;
        Ok(TcpStream { io })
    }

    /// Registers an accepted or connected, non-blocking std stream,
    /// optimistically ready (see `IoSource::new_optimistic`).
    pub(crate) fn from_nonblocking(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: IoSource::new_optimistic(stream)?,
        })
    }

    /// Wraps a connected std stream, switching it to non-blocking mode and
    /// registering it with this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let std = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///     let mut stream = TcpStream::from_std(std)?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     stream.write_all(b"hi").await?;
    ///     let mut buf = [0; 2];
    ///     server.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        #[cfg(unix)]
        crate::net::os::prepare_stream(&stream)?;
        Self::from_nonblocking(stream)
    }

    /// Deregisters the stream and returns the std stream, still in
    /// non-blocking mode (call `set_nonblocking(false)` to block on it).
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let std = client.into_std()?;
    ///     std.set_nonblocking(false)?;
    ///     std::io::Write::write_all(&mut &std, b"x")?;
    ///     let mut buf = [0; 1];
    ///     (&server).read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"x");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner()
    }

    /// The local address of this end.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     assert_eq!(client.local_addr()?, server.peer_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     assert_eq!(client.peer_addr()?, listener.local_addr()?);
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read direction, the write direction, or both.
    ///
    /// After `Shutdown::Write` the peer reads end-of-file while data can
    /// still flow towards this end.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.shutdown(std::net::Shutdown::Write)?;
    ///     let mut rest = Vec::new();
    ///     (&server).read_to_end(&mut rest).await?; // end-of-file
    ///     assert!(rest.is_empty());
    ///     // The other direction still works.
    ///     (&server).write_all(b"reply").await?;
    ///     let mut buf = [0; 5];
    ///     (&client).read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"reply");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Whether Nagle's algorithm is off (`TCP_NODELAY`).
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.set_nodelay(true)?;
    ///     assert!(client.nodelay()?);
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Turns Nagle's algorithm off (`true`: small writes are sent at once).
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     server.set_nodelay(true)?;
    ///     assert!(server.nodelay()?);
    ///     # drop(client);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     assert!(client.ttl()? > 0);
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.set_ttl(42)?;
    ///     assert_eq!(client.ttl()?, 42);
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `SO_LINGER` setting.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     assert_eq!(client.linger()?, None);
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the socket
    /// reset the connection (RST) instead of the orderly FIN handshake.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.set_linger(Some(std::time::Duration::from_secs(1)))?;
    ///     assert_eq!(client.linger()?, Some(std::time::Duration::from_secs(1)));
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: dropping the stream resets the connection
    /// (RST) at once, discarding unsent data, instead of the FIN handshake.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.set_zero_linger()?;
    ///     drop(client); // resets the connection
    ///     let err = (&server).read(&mut [0; 1]).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     assert!(client.take_error()?.is_none());
    ///     # drop(server);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Reads data without removing it from the queue, waiting until some
    /// is available. Returns `Ok(0)` at end of stream or for an empty `buf`.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     (&client).write_all(b"abc").await?;
    ///     let mut buf = [0; 3];
    ///     let n = server.peek(&mut buf).await?;
    ///     assert_eq!(&buf[..n], &b"abc"[..n]);
    ///     // Still there for the read.
    ///     (&server).read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"abc");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.io
            .read_with(|s| stream_io::retry_eintr(|| s.peek(buf)))
            .await
    }
}

stream_io::stream_common!(TcpStream, std::net::TcpStream);
