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
        let inner = crate::net::os::new_socket(domain, Type::STREAM, Some(Protocol::TCP))?;
        Ok(TcpSocket { inner })
    }

    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.local_addr()?.is_ipv4());
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v6()?;
    /// if socket.bind("[::1]:0".parse().unwrap()).is_ok() { // where IPv6 is available
    ///     assert!(socket.local_addr()?.is_ipv6());
    /// }
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV6)
    }

    /// Sets `SO_REUSEADDR`: bind even while old connections on the port
    /// linger in `TIME_WAIT`.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_reuseaddr(true)?;
    /// assert!(socket.reuseaddr()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_reuseaddr(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuse)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_reuseaddr(true)?;
    /// assert!(socket.reuseaddr()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets may bind the same address and
    /// the kernel spreads connections across them. Unix only (Windows has
    /// no such option), as tokio's.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// assert!(socket.reuseport()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[cfg(unix)]
    pub fn set_reuseport(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// assert!(socket.reuseport()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[cfg(unix)]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and
    /// reports a dead peer as an error.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_keepalive(true)?;
    /// assert!(socket.keepalive()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_keepalive(true)?;
    /// assert!(socket.keepalive()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `TCP_NODELAY` (applies to the connected stream).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sets the kernel send buffer size (`SO_SNDBUF`). Linux doubles the
    /// value (room for its bookkeeping), and [`send_buffer_size`] reports
    /// the doubled size.
    ///
    /// [`send_buffer_size`]: Self::send_buffer_size
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_send_buffer_size(64 * 1024)?;
    /// // The kernel may round the size (Linux doubles it).
    /// assert!(socket.send_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The kernel send buffer size (`SO_SNDBUF`).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_send_buffer_size(64 * 1024)?;
    /// // The kernel may round the size (Linux doubles it).
    /// assert!(socket.send_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| n.min(u32::MAX as usize) as u32)
    }

    /// Sets the kernel receive buffer size (`SO_RCVBUF`; doubled by Linux,
    /// as [`set_send_buffer_size`](Self::set_send_buffer_size)).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_recv_buffer_size(64 * 1024)?;
    /// // The kernel may round the size (Linux doubles it).
    /// assert!(socket.recv_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The kernel receive buffer size (`SO_RCVBUF`).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_recv_buffer_size(64 * 1024)?;
    /// // The kernel may round the size (Linux doubles it).
    /// assert!(socket.recv_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| n.min(u32::MAX as usize) as u32)
    }

    /// Sets `SO_LINGER` (see [`TcpStream::set_linger`]).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_linger(Some(std::time::Duration::from_secs(2)))?;
    /// assert_eq!(socket.linger()?, Some(std::time::Duration::from_secs(2)));
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: closing the connection resets it (RST)
    /// at once, discarding unsent data, instead of the FIN handshake.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_zero_linger()?;
    /// assert_eq!(socket.linger()?, Some(std::time::Duration::ZERO));
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// The `SO_LINGER` setting.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// assert_eq!(socket.linger()?, None, "off by default");
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets the IPv4 type-of-service byte (`IP_TOS`) of outgoing packets.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_tos(0x10)?; // low delay
    /// assert_eq!(socket.tos()?, 0x10);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos_v4(tos)
    }

    /// The IPv4 type-of-service byte (`IP_TOS`).
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// assert_eq!(socket.tos()?, 0);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn tos(&self) -> io::Result<u32> {
        self.inner.tos_v4()
    }

    /// Binds the socket to a network interface by name (`SO_BINDTODEVICE`;
    /// `None` removes the binding). Usually needs `CAP_NET_RAW`; without
    /// it the kernel answers `EPERM`.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// // Binding to a device needs CAP_NET_RAW; unbinding never does.
    /// socket.bind_device(None)?;
    /// assert_eq!(socket.device()?, None);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// The interface the socket is bound to (`SO_BINDTODEVICE`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// assert_eq!(socket.device()?, None);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// assert!(socket.take_error()?.is_none());
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Turns a std stream back into a socket being configured (tokio's
    /// `from_std_stream`), switching it to non-blocking mode.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let local = stream.local_addr()?;
    /// let socket = TcpSocket::from_std_stream(stream);
    /// assert_eq!(socket.local_addr()?, local);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        // Cannot fail on a valid descriptor; a bad one fails its next use.
        let _ = inner.set_nonblocking(true);
        #[cfg(unix)]
        let _ = crate::net::os::prepare_stream(&inner);
        TcpSocket { inner }
    }

    /// Binds to a local address.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The bound local address.
    ///
    /// ```
    /// use moduvex_runtime::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("socket has no IP address"))
    }

    /// Starts listening, turning the socket into a listener registered with
    /// this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpSocket, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let socket = TcpSocket::new_v4()?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let listener = socket.listen(16)?;
    ///     let _client = TcpStream::connect(listener.local_addr()?).await?;
    ///     listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        TcpListener::from_nonblocking(self.inner.into())
    }

    /// Connects to `addr`, turning the socket into a stream.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpSocket};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let socket = TcpSocket::new_v4()?;
    ///     socket.set_nodelay(true)?; // options set before connecting
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert!(stream.nodelay()?);
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.inner, addr).await
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for TcpSocket {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&self.inner)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for TcpSocket {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(&self.inner)
    }
}
