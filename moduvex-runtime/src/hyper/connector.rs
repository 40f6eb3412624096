//! [`Connector`]: TCP connections for hyper-util's pooled client.
//!
//! The one idea: the legacy `Client` asks a `tower_service::Service<Uri>`
//! for a connection whenever its pool has none; this one resolves the
//! URI's host with [`lookup_host`](crate::net::lookup_host), connects to
//! each address in turn within one deadline, and hands back the stream as
//! [`HyperIo`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};

use super::HyperIo;
use crate::net::TcpStream;

/// The connect timeout a [`Connector`] starts with.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::hyper::DEFAULT_CONNECT_TIMEOUT;
///
/// assert_eq!(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs(10));
/// ```
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`tower_service::Service<http::Uri>`] connecting over TCP, for
/// hyper-util's `client::legacy::Client`: hyper-util's `HttpConnector` for
/// this runtime.
///
/// It takes `http://` URIs (no TLS: wrap it for `https`), resolves the host
/// with [`lookup_host`](crate::net::lookup_host), tries each address in
/// order (no happy-eyeballs racing), sets `TCP_NODELAY` (by default) and
/// gives up after the connect timeout ([`DEFAULT_CONNECT_TIMEOUT`],
/// [`set_connect_timeout`](Connector::set_connect_timeout)), name lookup
/// included.
///
/// # Examples
///
/// ```no_run
/// use http_body_util::{BodyExt, Empty};
/// use hyper::body::Bytes;
/// use hyper_util::client::legacy::Client;
/// use moduvex_runtime::hyper::{Connector, HyperExecutor, HyperTimer};
///
/// moduvex_runtime::block_on(async {
///     let client = Client::builder(HyperExecutor::new())
///         .pool_timer(HyperTimer::new()) // reaps idle pooled connections
///         .build::<_, Empty<Bytes>>(Connector::new());
///     let resp = client.get("http://127.0.0.1:8080/".parse()?).await?;
///     let body = resp.into_body().collect().await?.to_bytes();
///     println!("{body:?}");
///     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
/// }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Connector {
    connect_timeout: Option<Duration>,
    nodelay: bool,
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new()
    }
}

impl Connector {
    /// A connector with `TCP_NODELAY` and a [`DEFAULT_CONNECT_TIMEOUT`].
    ///
    /// ```
    /// use tower_service::Service;
    /// use moduvex_runtime::hyper::Connector;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let uri = format!("http://{}/", listener.local_addr()?).parse().unwrap();
    ///     let io = Connector::new().call(uri).await?;
    ///     assert!(io.inner().nodelay()?);
    ///     assert_eq!(io.inner().peer_addr()?, listener.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn new() -> Connector {
        Connector {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            nodelay: true,
        }
    }

    /// How long one connect (name lookup and every address tried) may take;
    /// `None`: no limit. A connect that runs out fails with `TimedOut`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_service::Service;
    /// use moduvex_runtime::hyper::Connector;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut connector = Connector::new();
    ///     connector.set_connect_timeout(Some(Duration::from_secs(2)));
    ///     let uri = format!("http://{}/", listener.local_addr()?).parse().unwrap();
    ///     assert!(connector.call(uri).await.is_ok());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) {
        self.connect_timeout = timeout;
    }

    /// Whether connections get `TCP_NODELAY` (default: yes).
    ///
    /// ```
    /// use tower_service::Service;
    /// use moduvex_runtime::hyper::Connector;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut connector = Connector::new();
    ///     connector.set_nodelay(false);
    ///     let uri = format!("http://{}/", listener.local_addr()?).parse().unwrap();
    ///     assert!(!connector.call(uri).await?.inner().nodelay()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.nodelay = nodelay;
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower_service::Service<Uri> for Connector {
    type Response = HyperIo<TcpStream>;
    type Error = io::Error;
    type Future = BoxFuture<io::Result<HyperIo<TcpStream>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (host, port) = host_port(&dst)?;
            let connect = connect(host, port);
            let stream = match this.connect_timeout {
                Some(timeout) => crate::time::timeout(timeout, connect).await.map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connecting to {dst} timed out after {timeout:?}"),
                    )
                })??,
                None => connect.await?,
            };
            if this.nodelay {
                stream.set_nodelay(true)?;
            }
            Ok(HyperIo::new(stream).with_write_vectored(true))
        })
    }
}

/// The host (without IPv6 brackets) and port an `http://` URI names.
fn host_port(dst: &Uri) -> io::Result<(String, u16)> {
    let invalid =
        |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {dst}"));
    match dst.scheme_str() {
        Some("http") | None => {}
        Some(_) => return Err(invalid("Connector speaks plain TCP: only http:// URIs")),
    }
    let host = dst.host().ok_or_else(|| invalid("URI has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, dst.port_u16().unwrap_or(80)))
}

async fn connect(host: String, port: u16) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in crate::net::lookup_host((host.as_str(), port)).await? {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolved to no address"),
        )
    }))
}

impl Connection for HyperIo<TcpStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
