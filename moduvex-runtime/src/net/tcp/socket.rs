//! [`TcpSocket`]: a TCP socket not yet listening or connected, for options
//! that must be set before `bind`, `listen` or `connect`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::{TcpListener, TcpStream};

/// A TCP socket being configured; becomes a [`TcpListener`] with
/// [`listen`](Self::listen) or a [`TcpStream`] with
/// [`connect`](Self::connect).
///
/// ```
/// use moduvex_runtime::net::TcpSocket;
///
/// moduvex_runtime::block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.set_reuseport(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///     assert!(listener.local_addr()?.port() != 0);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let inner = Socket::new(
            domain,
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        Ok(TcpSocket { inner })
    }

    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    pub fn new_v4() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    pub fn new_v6() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV6)
    }

    /// Sets `SO_REUSEADDR`: bind even while old connections on the port
    /// linger in `TIME_WAIT`.
    pub fn set_reuseaddr(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuse)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets may bind the same address and
    /// the kernel spreads connections across them.
    pub fn set_reuseport(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is set.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and
    /// reports a dead peer as an error.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `TCP_NODELAY` (applies to the connected stream).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sets the kernel send buffer size (`SO_SNDBUF`). Linux doubles the
    /// value (room for its bookkeeping), and [`send_buffer_size`] reports
    /// the doubled size.
    ///
    /// [`send_buffer_size`]: Self::send_buffer_size
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The kernel send buffer size (`SO_SNDBUF`).
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| n.min(u32::MAX as usize) as u32)
    }

    /// Sets the kernel receive buffer size (`SO_RCVBUF`; doubled by Linux,
    /// as [`set_send_buffer_size`](Self::set_send_buffer_size)).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The kernel receive buffer size (`SO_RCVBUF`).
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| n.min(u32::MAX as usize) as u32)
    }

    /// Sets `SO_LINGER` (see [`TcpStream::set_linger`]).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: closing the connection resets it (RST)
    /// at once, discarding unsent data, instead of the FIN handshake.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets the IPv4 type-of-service byte (`IP_TOS`) of outgoing packets.
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos_v4(tos)
    }

    /// The IPv4 type-of-service byte (`IP_TOS`).
    pub fn tos(&self) -> io::Result<u32> {
        self.inner.tos_v4()
    }

    /// Binds the socket to a network interface by name (`SO_BINDTODEVICE`;
    /// `None` removes the binding). Usually needs `CAP_NET_RAW`; without
    /// it the kernel answers `EPERM`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// The interface the socket is bound to (`SO_BINDTODEVICE`), if any.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Turns a std stream back into a socket being configured (tokio's
    /// `from_std_stream`), switching it to non-blocking mode.
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        // Cannot fail on a valid descriptor; a bad one fails its next use.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }

    /// Binds to a local address.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The bound local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("socket has no IP address"))
    }

    /// Starts listening, turning the socket into a listener registered with
    /// this thread's reactor.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        TcpListener::from_nonblocking(self.inner.into())
    }

    /// Connects to `addr`, turning the socket into a stream.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.inner, addr).await
    }
}

impl std::os::fd::AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
