//! Address resolution that never blocks the event loop.
//!
//! The one idea: a numeric address (`"127.0.0.1:80"`, `SocketAddr`,
//! `(IpAddr, u16)`) is parsed inline, with no thread and no syscall; only a
//! host name goes to the system resolver, which blocks, so it runs on a
//! helper thread and the task awaits its answer through a oneshot channel.
//! A malformed address (bad port, no port) is an `InvalidInput` error before
//! any lookup starts.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::sync::oneshot;

/// Values that name one or more socket addresses: `SocketAddr`, `"host:port"`,
/// `(host, port)`, `(IpAddr, u16)`, slices of `SocketAddr`, and references to
/// any of these.
///
/// Unlike [`std::net::ToSocketAddrs`], resolving a host name does not block
/// the calling thread: the lookup runs on a helper thread.
///
/// This trait is sealed: it cannot be implemented outside this crate.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use moduvex_runtime::net::{TcpListener, TcpStream, ToSocketAddrs};
///
/// async fn connect(addr: impl ToSocketAddrs) -> std::io::Result<TcpStream> {
///     TcpStream::connect(addr).await
/// }
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let port = listener.local_addr()?.port();
///     connect(("127.0.0.1", port)).await?;
///     connect((Ipv4Addr::LOCALHOST, port)).await?;
///     connect(format!("127.0.0.1:{port}")).await?;
///     connect(&[SocketAddr::from(([127, 0, 0, 1], port))][..]).await?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::net::SocketAddr;

    /// How an address is resolved: already known, or by a lookup.
    pub enum Resolve {
        /// Parsed inline (or invalid).
        Done(std::io::Result<Vec<SocketAddr>>),
        /// A host name and port for the system resolver.
        Lookup(String, u16),
    }

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        /// Parses what can be parsed without a lookup.
        fn to_resolve(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn done(addr: SocketAddr) -> Resolve {
    Resolve::Done(Ok(vec![addr]))
}

/// `host` with `port`: inline when `host` is an IP literal (brackets
/// allowed around IPv6), a lookup otherwise.
fn host_port(host: &str, port: u16) -> Resolve {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) => done(SocketAddr::new(ip, port)),
        Err(_) if host.is_empty() => Resolve::Done(Err(invalid("empty host name"))),
        Err(_) => Resolve::Lookup(host.to_owned(), port),
    }
}

/// `"host:port"`: the port must be a valid `u16`.
fn host_colon_port(s: &str) -> Resolve {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return done(addr);
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return Resolve::Done(Err(invalid("invalid socket address: expected host:port")));
    };
    match port.parse::<u16>() {
        Ok(port) => host_port(host, port),
        Err(_) => Resolve::Done(Err(invalid("invalid port value"))),
    }
}

macro_rules! inline_addr {
    ($($ty:ty => |$v:ident| $e:expr_2021;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn to_resolve(&self) -> Resolve {
                let $v = self;
                done($e)
            }
        }
    )*};
}

inline_addr! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> Resolve {
        host_colon_port(self)
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> Resolve {
        host_colon_port(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        host_port(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        host_port(&self.0, self.1)
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}

impl<const N: usize> ToSocketAddrs for [SocketAddr; N] {}
impl<const N: usize> ToSocketAddrsPriv for [SocketAddr; N] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl ToSocketAddrsPriv for Vec<SocketAddr> {
    fn to_resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.clone()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// Resolves `addr` to a non-empty list of addresses.
///
/// The address is inspected before the first `.await`, so the returned
/// future does not borrow it.
pub(crate) fn resolve<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> impl std::future::Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'static + use<A> {
    let all = resolve_all(addr);
    async move {
        let addrs = all.await?;
        if addrs.is_empty() {
            return Err(invalid("could not resolve to any address"));
        }
        Ok(addrs)
    }
}

/// Resolves `addr` to its addresses, possibly none.
fn resolve_all<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> impl std::future::Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'static + use<A> {
    let how = addr.to_resolve();
    async move {
        match how {
            Resolve::Done(res) => res,
            Resolve::Lookup(host, port) => lookup(host, port).await,
        }
    }
}

/// The socket addresses `host` names (`"example.com:80"`, `("::1", 8080)`,
/// a `SocketAddr`, ...), resolved without blocking the calling thread:
/// tokio's `lookup_host`.
///
/// ```
/// moduvex_runtime::block_on(async {
///     let mut addrs = moduvex_runtime::net::lookup_host("127.0.0.1:8080").await?;
///     assert_eq!(addrs.next(), Some("127.0.0.1:8080".parse().unwrap()));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
///
/// # Errors
/// `InvalidInput` for a malformed address (no port, bad port), or the
/// system resolver's error for a name it cannot resolve.
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve_all(&host).await?.into_iter())
}

/// Runs the blocking system resolver on a helper thread.
async fn lookup(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("moduvex-resolver".into())
        .spawn(move || {
            let res = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                .map(Iterator::collect);
            // The task may have given up waiting; nobody to tell then.
            let _ = tx.send(res);
        })?;
    rx.await
        .map_err(|_| io::Error::other("the resolver thread ended without an answer"))?
}

/// Tries `op` on each address in turn, returning the first success or the
/// last error.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        match op(addr).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| invalid("could not resolve to any address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(a: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
        match a.to_resolve() {
            Resolve::Done(r) => r,
            Resolve::Lookup(h, p) => panic!("unexpected lookup of {h}:{p}"),
        }
    }

    #[test]
    fn literals_parse_inline() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(inline("127.0.0.1:80").unwrap(), vec![v4]);
        assert_eq!(inline(&("127.0.0.1", 80)).unwrap(), vec![v4]);
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(inline("[::1]:8080").unwrap(), vec![v6]);
        assert_eq!(inline(&("::1", 8080)).unwrap(), vec![v6]);
        assert_eq!(inline(&v4).unwrap(), vec![v4]);
    }

    #[test]
    fn malformed_is_invalid_input_without_lookup() {
        for bad in ["not an address:99999", "1.2.3.4:notaport", "no-port", ":80"] {
            let err = inline(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn host_names_are_looked_up() {
        assert!(matches!(
            "localhost:80".to_resolve(),
            Resolve::Lookup(h, 80) if h == "localhost"
        ));
    }
}
