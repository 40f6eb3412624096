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
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        each_addr(addrs, Self::connect_addr).await
    }

    /// Connects a fresh socket to one address.
    pub(crate) async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
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
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Self::from_nonblocking(stream)
    }

    /// Deregisters the stream and returns the std stream, still in
    /// non-blocking mode (call `set_nonblocking(false)` to block on it).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner()
    }

    /// The local address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read direction, the write direction, or both.
    ///
    /// After `Shutdown::Write` the peer reads end-of-file while data can
    /// still flow towards this end.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Whether Nagle's algorithm is off (`TCP_NODELAY`).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Turns Nagle's algorithm off (`true`: small writes are sent at once).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The IP time-to-live of outgoing packets.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the socket
    /// reset the connection (RST) instead of the orderly FIN handshake.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: dropping the stream resets the connection
    /// (RST) at once, discarding unsent data, instead of the FIN handshake.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Reads data without removing it from the queue, waiting until some
    /// is available. Returns `Ok(0)` at end of stream or for an empty `buf`.
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
