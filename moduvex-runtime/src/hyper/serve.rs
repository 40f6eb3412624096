//! [`serve`]: an accept loop running hyper-util's auto (HTTP/1 + HTTP/2)
//! connection builder, one task per connection, with graceful shutdown.
//!
//! The one idea: every connection task watches one shared state
//! (`Running` → `Graceful` → `Force`) in a watch channel and holds a
//! receiver of it; the accept loop learns that all connections are done
//! when the last receiver is gone (`Sender::closed`).

use std::error::Error as StdError;
use std::future::{poll_fn, Future, Pending};
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::body::Incoming;
use http::{Request, Response};
use hyper_util::server::conn::auto;
use tower_service::Service;

use super::first_read::FirstRead;
use super::service::ConnService;
use super::{HyperExecutor, HyperIo, HyperTimer, Listener};
use crate::sync::watch;

/// The header read timeout [`serve`] starts with.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::hyper::DEFAULT_HEADER_READ_TIMEOUT;
///
/// assert_eq!(DEFAULT_HEADER_READ_TIMEOUT, Duration::from_secs(30));
/// ```
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause between accept attempts after an accept error.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves HTTP/1 and HTTP/2 (detected per connection) on `listener` with
/// `service`, one task per connection, until the returned [`Serve`]'s
/// shutdown signal (if any) fires; axum's `serve` for this runtime.
///
/// `service` is any tower [`Service`] of `http::Request<hyper::body::Incoming>`
/// that is `Clone + Send + 'static` with `Send` futures and a response
/// body implementing [`http_body::Body`]: an axum `Router` as it is, or
/// `tower::service_fn(...)`. Each request gets a fresh clone of it
/// (`poll_ready`, then `call`), with the peer address as a
/// [`ConnectInfo`](super::ConnectInfo) extension.
///
/// Defaults chosen for hostile clients:
/// - hyper's own limits stay on: a request head larger than hyper's read
///   buffer (about 400 KiB) or with more than 100 headers is answered
///   `431 Request Header Fields Too Large` and the connection closed;
/// - a header read timeout of [`DEFAULT_HEADER_READ_TIMEOUT`] (change it
///   with [`Serve::header_read_timeout`]): a connection that has not sent a
///   whole request head in time is closed (also before the HTTP version is
///   known, and between keep-alive requests; an HTTP/2 connection is
///   bounded by it only until its preface has arrived, then by h2's own
///   stream and flow-control limits);
/// - errors from `accept` (such as `EMFILE`, out of file descriptors) never
///   end the loop: it pauses (1 ms, doubling up to 1 s, reset by the next
///   success) and accepts again, logging nothing;
/// - a service that panics gets its request answered with an empty
///   `500 Internal Server Error`; the connection and the server go on. (A
///   panic while the *response body* is streamed ends that connection
///   only, as a panic in any task does.)
///
/// Accepted TCP streams get `TCP_NODELAY`, as a server writing whole
/// responses wants.
///
/// `Serve` is a future: `.await` it, or [`spawn`](crate::spawn) it. Its
/// output is an `io::Result` as axum's; it resolves (with `Ok`) only after
/// a shutdown signal, once every connection is done.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use hyper::body::{Bytes, Incoming};
/// use moduvex_runtime::hyper::serve;
/// use moduvex_runtime::net::TcpListener;
///
/// #[derive(Clone)]
/// struct Hello;
///
/// impl tower_service::Service<Request<Incoming>> for Hello {
///     type Response = Response<Full<Bytes>>;
///     type Error = Infallible;
///     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
///
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///
///     fn call(&mut self, _req: Request<Incoming>) -> Self::Future {
///         std::future::ready(Ok(Response::new(Full::new(Bytes::from("hello")))))
///     }
/// }
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let (stop, stopped) = moduvex_runtime::sync::oneshot::channel::<()>();
///     let server = moduvex_runtime::spawn(
///         serve(listener, Hello).with_graceful_shutdown(async move {
///             let _ = stopped.await;
///         }),
///     );
///     // ... serve requests; then, on Ctrl-C for example:
///     stop.send(()).unwrap();
///     server.await.unwrap()
/// }).unwrap();
/// ```
pub fn serve<L, S, B>(listener: L, service: S) -> Serve<L, S>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    Serve {
        config: Some(Config {
            listener,
            service,
            signal: std::future::pending(),
            shutdown_timeout: None,
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
        }),
        running: None,
    }
}

/// The future [`serve`] returns; configure it before its first poll.
///
/// ```
/// use moduvex_runtime::hyper::serve;
/// use moduvex_runtime::net::TcpListener;
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::TcpStream;
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let (stop, stopped) = moduvex_runtime::sync::oneshot::channel::<()>();
///     let server: moduvex_runtime::hyper::Serve<_, _, _> = serve(listener, axum::Router::new())
///         .with_graceful_shutdown(async move { stopped.await.unwrap_or(()) });
///     let server = moduvex_runtime::spawn(server);
///     let mut client = TcpStream::connect(addr).await?;
///     client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await?;
///     let mut resp = String::new();
///     client.read_to_string(&mut resp).await?;
///     assert!(resp.starts_with("HTTP/1.1 404"), "no routes: {resp}");
///     stop.send(()).unwrap();
///     server.await.unwrap()?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "a server does nothing unless awaited or spawned"]
pub struct Serve<L, S, G = Pending<()>> {
    config: Option<Config<L, S, G>>,
    running: Option<Pin<Box<dyn Future<Output = io::Result<()>> + Send>>>,
}

struct Config<L, S, G> {
    listener: L,
    service: S,
    signal: G,
    shutdown_timeout: Option<Duration>,
    header_read_timeout: Option<Duration>,
}

impl<L, S, G> Serve<L, S, G> {
    fn config(&mut self, call: &str) -> &mut Config<L, S, G> {
        match self.config.as_mut() {
            Some(config) => config,
            None => panic!("Serve::{call} called after the server was first polled; configure it before awaiting or spawning it"),
        }
    }

    /// Shuts down gracefully once `signal` completes: stops accepting (the
    /// listener is closed), lets requests in flight finish, closes idle
    /// keep-alive connections (hyper's `graceful_shutdown` on each: HTTP/1
    /// ends after its current response, HTTP/2 sends `GOAWAY`) and resolves
    /// when every connection is done, or at the
    /// [`with_shutdown_timeout`](Serve::with_shutdown_timeout) deadline.
    ///
    /// # Panics
    ///
    /// If the server was already polled.
    ///
    /// ```
    /// use moduvex_runtime::hyper::serve;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     // A signal that has already fired: no connection, so it resolves at once.
    ///     serve(listener, axum::Router::new()).with_graceful_shutdown(async {}).await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    #[track_caller]
    pub fn with_graceful_shutdown<G2>(mut self, signal: G2) -> Serve<L, S, G2>
    where
        G2: Future<Output = ()> + Send + 'static,
    {
        let config = self.config.take().unwrap_or_else(|| {
            panic!("Serve::with_graceful_shutdown called after the server was first polled; configure it before awaiting or spawning it")
        });
        Serve {
            config: Some(Config {
                listener: config.listener,
                service: config.service,
                signal,
                shutdown_timeout: config.shutdown_timeout,
                header_read_timeout: config.header_read_timeout,
            }),
            running: None,
        }
    }

    /// Bounds a graceful shutdown: connections still open `timeout` after
    /// the signal are closed (their tasks end, dropping what they were
    /// doing) and the server resolves. Without it, shutdown waits for every
    /// connection however long it takes (as axum's).
    ///
    /// # Panics
    ///
    /// If the server was already polled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::hyper::serve;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     serve(listener, axum::Router::new())
    ///         .with_graceful_shutdown(async {})
    ///         .with_shutdown_timeout(Duration::from_secs(5)) // bounds the wait for connections
    ///         .await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    #[track_caller]
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config("with_shutdown_timeout").shutdown_timeout = Some(timeout);
        self
    }

    /// How long a connection may take to send a whole request head
    /// (default [`DEFAULT_HEADER_READ_TIMEOUT`]; `None`: no limit). It also
    /// bounds the idle time between keep-alive requests on HTTP/1.
    ///
    /// # Panics
    ///
    /// If the server was already polled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::hyper::serve;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let server = serve(listener, axum::Router::new()).header_read_timeout(Duration::from_secs(5));
    ///     let no_limit = server.header_read_timeout(None);
    ///     assert!(no_limit.local_addr().is_ok());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    #[track_caller]
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config("header_read_timeout").header_read_timeout = timeout.into();
        self
    }

    /// The listener's local address, while the server has not started.
    ///
    /// ```
    /// use moduvex_runtime::hyper::serve;
    /// use moduvex_runtime::net::TcpListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let server = serve(listener, axum::Router::new());
    ///     assert_eq!(server.local_addr()?, addr); // e.g. to print before spawning it
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<L::Addr>
    where
        L: Listener,
    {
        match &self.config {
            Some(config) => config.listener.local_addr(),
            None => Err(io::Error::other(
                "the server is running; its listener is owned by it",
            )),
        }
    }
}

impl<L, S, G> std::fmt::Debug for Serve<L, S, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

impl<L, S, B, G> Future for Serve<L, S, G>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    G: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // `Serve` is `Unpin`: its fields are an `Option` of plain values and a
        // boxed future.
        let this = &mut *self;
        if let Some(config) = this.config.take() {
            this.running = Some(Box::pin(run(config)));
        }
        match this.running.as_mut() {
            Some(running) => running.as_mut().poll(cx),
            None => panic!("Serve polled after it completed"),
        }
    }
}

impl<L, S, G> Unpin for Serve<L, S, G> {}

/// What every connection task is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    /// Finish what is in flight, then close.
    Graceful,
    /// Close now (the shutdown deadline passed).
    Force,
}

async fn run<L, S, B, G>(config: Config<L, S, G>) -> io::Result<()>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    G: Future<Output = ()> + Send + 'static,
{
    let Config {
        mut listener,
        service,
        signal,
        shutdown_timeout,
        header_read_timeout,
    } = config;
    let mut builder = auto::Builder::new(HyperExecutor);
    builder
        .http1()
        .timer(HyperTimer)
        .header_read_timeout(header_read_timeout);
    builder.http2().timer(HyperTimer);
    let builder = Arc::new(builder);
    let (state_tx, state_rx) = watch::channel(State::Running);
    let mut signal = pin!(signal);
    let mut backoff = Duration::ZERO;

    loop {
        let accepted = {
            let accept = pin!(listener.accept());
            first_of(signal.as_mut(), accept).await
        };
        let (io, peer) = match accepted {
            None => break,
            Some(Ok(conn)) => {
                backoff = Duration::ZERO;
                conn
            }
            Some(Err(e)) if is_per_connection(&e) => continue,
            Some(Err(_)) => {
                // Out of descriptors or memory, most likely: give the
                // process a moment, still answering the shutdown signal.
                backoff = (backoff * 2).clamp(Duration::from_millis(1), MAX_ACCEPT_BACKOFF);
                let pause = pin!(crate::time::sleep(backoff));
                if first_of(signal.as_mut(), pause).await.is_none() {
                    break;
                }
                continue;
            }
        };
        let builder = Arc::clone(&builder);
        let service = ConnService {
            svc: service.clone(),
            peer,
        };
        let state = state_rx.clone();
        drop(crate::spawn(async move {
            let io = HyperIo::new(FirstRead::new(io, header_read_timeout))
                .with_write_vectored(L::WRITE_VECTORED);
            let conn = pin!(builder.serve_connection_with_upgrades(io, service));
            drive(conn, |c| c.graceful_shutdown(), state).await;
        }));
    }

    // Stop accepting: new connections are refused from here on.
    drop(listener);
    drop(state_rx);
    state_tx.send_replace(State::Graceful);
    if let Some(timeout) = shutdown_timeout {
        let deadline = pin!(crate::time::sleep(timeout));
        if first_of(deadline, pin!(state_tx.closed())).await.is_none() {
            state_tx.send_replace(State::Force);
        } else {
            return Ok(());
        }
    }
    state_tx.closed().await;
    Ok(())
}

/// Drives one connection, following the server's [`State`].
async fn drive<C: Future>(
    mut conn: Pin<&mut C>,
    graceful: impl Fn(Pin<&mut C>),
    mut state: watch::Receiver<State>,
) {
    let mut shutting_down = false;
    loop {
        let now = *state.borrow_and_update();
        match now {
            State::Force => return,
            State::Graceful if !shutting_down => {
                graceful(conn.as_mut());
                shutting_down = true;
            }
            _ => {}
        }
        let mut changed = pin!(state.changed());
        let next = poll_fn(|cx| {
            if conn.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            changed.as_mut().poll(cx).map(|res| Some(res.is_ok()))
        })
        .await;
        match next {
            // Done (an error is the client's business; nothing to log).
            None => return,
            Some(true) => continue,
            // The `Serve` future was dropped: finish on our own, as a
            // detached connection task does.
            Some(false) => {
                conn.await;
                return;
            }
        }
    }
}

/// Polls `signal` first: `None` if it completed, else `op`'s output.
async fn first_of<T>(
    mut signal: Pin<&mut impl Future<Output = ()>>,
    mut op: Pin<&mut impl Future<Output = T>>,
) -> Option<T> {
    poll_fn(|cx| {
        if signal.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        op.as_mut().poll(cx).map(Some)
    })
    .await
}

/// Accept errors about one connection that went away before it was
/// accepted: accept again at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}
