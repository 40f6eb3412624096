//! [`ConnectInfo`]: the peer address, as a request extension.

/// The peer address of the connection a request came on, put in every
/// request's extensions by [`serve`](super::serve), as axum's
/// `ConnectInfo`.
///
/// For a [`TcpListener`](crate::net::TcpListener) it is a
/// `ConnectInfo<std::net::SocketAddr>`; for a
/// [`UnixListener`](crate::net::UnixListener) a
/// `ConnectInfo<moduvex_runtime::net::unix::SocketAddr>`; for another
/// [`Listener`](super::Listener), its `Addr`.
///
/// In a hyper or tower service, read it with
/// `req.extensions().get::<ConnectInfo<SocketAddr>>()`. In axum, extract it
/// with `Extension<ConnectInfo<SocketAddr>>` (this type, not
/// `axum::extract::ConnectInfo`, which only `axum::serve` fills in), or map
/// it into axum's in a `middleware::map_request`.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use moduvex_runtime::hyper::ConnectInfo;
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
/// let ConnectInfo(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().unwrap();
/// assert_eq!(peer.port(), 9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectInfo<A>(pub A);
