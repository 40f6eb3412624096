//! [`Listener`]: what [`serve`](super::serve) accepts connections from.
//!
//! The one idea: `serve` only needs "give me the next connection and who it
//! is from", so a TLS acceptor, a proxy-protocol reader or a test harness
//! is a wrapper listener and `serve` stays one function.

use std::future::Future;
use std::io;

use futures_io::{AsyncRead, AsyncWrite};

use crate::net::{unix, TcpListener, TcpStream, UnixListener, UnixStream};

/// A source of connections for [`serve`](super::serve): accept gives the
/// stream and the peer's address.
///
/// Implemented for [`TcpListener`] (address: [`std::net::SocketAddr`]) and
/// [`UnixListener`] (address: [`crate::net::unix::SocketAddr`]), as axum's
/// `Listener`.
///
/// # TLS
///
/// Wrap a listener: its `accept` awaits the inner accept, then the TLS
/// handshake (for example futures-rustls' `TlsAcceptor::accept`, whose
/// stream is futures-io), and returns the TLS stream. Configure the TLS
/// server's ALPN protocols as `["h2", "http/1.1"]`: `serve` detects HTTP/2
/// from the client's preface, so no ALPN result needs passing on. A failed
/// handshake should be retried inside `accept` (loop to the next
/// connection) rather than returned, so one bad client costs nothing, and
/// handshakes should run with a timeout; `serve` treats every error from
/// `accept` as transient and backs off before accepting again.
///
/// # Examples
///
/// ```
/// use moduvex_runtime::hyper::Listener;
/// use moduvex_runtime::net::TcpListener;
///
/// moduvex_runtime::block_on(async {
///     let mut l = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = Listener::local_addr(&l)?;
///     let _client = moduvex_runtime::net::TcpStream::connect(addr).await?;
///     let (_io, peer) = Listener::accept(&mut l).await?;
///     assert!(peer.ip().is_loopback());
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait Listener: Send + 'static {
    /// The connection type.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The peer address type, handed to the service in
    /// [`ConnectInfo`](super::ConnectInfo).
    type Addr: Clone + Send + Sync + 'static;

    /// Whether [`Self::Io`]'s `poll_write_vectored` writes several buffers
    /// in one call (see [`HyperIo::with_write_vectored`](super::HyperIo::with_write_vectored)).
    const WRITE_VECTORED: bool = false;

    /// Accepts the next connection.
    ///
    /// ```
    /// use moduvex_runtime::hyper::Listener;
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(Listener::local_addr(&listener)?).await?;
    ///     let (io, peer) = Listener::accept(&mut listener).await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     assert!(io.nodelay()?, "accepted streams get TCP_NODELAY");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Io, Self::Addr)>> + Send;

    /// The address this listener is bound to.
    ///
    /// ```
    /// use moduvex_runtime::hyper::Listener;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_eq!(Listener::local_addr(&listener)?, listener.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn local_addr(&self) -> io::Result<Self::Addr>;
}

/// Accepted streams get `TCP_NODELAY`: a server writes whole responses,
/// and Nagle's algorithm would hold back the tail of each.
impl Listener for TcpListener {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;
    const WRITE_VECTORED: bool = true;

    async fn accept(&mut self) -> io::Result<(TcpStream, std::net::SocketAddr)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        // Best effort: a socket that refuses the option still serves.
        let _ = stream.set_nodelay(true);
        Ok((stream, peer))
    }

    fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        TcpListener::local_addr(self)
    }
}

impl Listener for UnixListener {
    type Io = UnixStream;
    type Addr = unix::SocketAddr;
    const WRITE_VECTORED: bool = true;

    fn accept(
        &mut self,
    ) -> impl Future<Output = io::Result<(UnixStream, unix::SocketAddr)>> + Send {
        UnixListener::accept(self)
    }

    fn local_addr(&self) -> io::Result<unix::SocketAddr> {
        UnixListener::local_addr(self)
    }
}
