//! Shared pieces of the `hyper_*` tests: a runtime, a hang guard, a small
//! routing service and hyper clients over our sockets.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use moduvex_runtime::hyper::{ConnectInfo, HyperExecutor, HyperIo};
use moduvex_runtime::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs `f` on a helper thread; fails with a clear message if it has not
/// finished within a generous bound (a hang guard, not a speed check).
pub fn guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(v) => {
            handle.join().unwrap();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: show its panic.
            std::panic::resume_unwind(handle.join().unwrap_err())
        }
        Err(_) => panic!("{what}: did not finish within 120 s (hang)"),
    }
}

/// `fut` on a two-worker runtime.
pub fn run<T>(fut: impl Future<Output = T>) -> T {
    moduvex_runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

type Handler = dyn Fn(Request<Incoming>) -> BoxFuture<Response<Full<Bytes>>> + Send + Sync;

/// A tower service made of an async closure (tower's `service_fn`, with no
/// tower dependency).
#[derive(Clone)]
pub struct Svc(Arc<Handler>);

impl Svc {
    pub fn new<F, Fut>(f: F) -> Svc
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        Svc(Arc::new(move |req| Box::pin(f(req))))
    }
}

impl tower_service::Service<Request<Incoming>> for Svc {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let fut = (self.0)(req);
        Box::pin(async move { Ok(fut.await) })
    }
}

pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp
}

/// The routes most tests use: `/n/<k>` answers `n=<k>`, `/echo` echoes the
/// body, `/peer` the peer address, `/panic` panics, anything else 404.
pub fn routes() -> Svc {
    Svc::new(|req: Request<Incoming>| async move {
        let path = req.uri().path().to_owned();
        if let Some(k) = path.strip_prefix("/n/") {
            return text(StatusCode::OK, format!("n={k}"));
        }
        match path.as_str() {
            "/echo" => {
                // A client gone mid-body is an error, not a panic.
                match req.into_body().collect().await {
                    Ok(body) => text(StatusCode::OK, body.to_bytes()),
                    Err(e) => text(StatusCode::BAD_REQUEST, e.to_string()),
                }
            }
            "/peer" => {
                let ConnectInfo(peer) = *req.extensions().get::<ConnectInfo<SocketAddr>>().unwrap();
                text(StatusCode::OK, peer.to_string())
            }
            "/panic" => panic!("handler panicked on purpose"),
            _ => text(StatusCode::NOT_FOUND, "no such route"),
        }
    })
}

pub type Http1Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// An HTTP/1 client connection over our `TcpStream`, its driver spawned.
pub async fn http1(addr: SocketAddr) -> Http1Sender {
    http1_with_driver(addr).await.0
}

/// [`http1`], with the connection driver's task (it ends when the
/// connection is closed).
pub async fn http1_with_driver(addr: SocketAddr) -> (Http1Sender, moduvex_runtime::JoinHandle<()>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
        .await
        .unwrap();
    let driver = moduvex_runtime::spawn(async move {
        let _ = conn.await;
    });
    (sender, driver)
}

pub type Http2Sender = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// An HTTP/2 client connection (prior knowledge) over our `TcpStream`.
pub async fn http2(addr: SocketAddr) -> Http2Sender {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::Builder::new(HyperExecutor::new())
        .handshake(HyperIo::new(stream))
        .await
        .unwrap();
    moduvex_runtime::spawn(async move {
        let _ = conn.await;
    });
    sender
}

pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(path)
        .header("host", "test")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

pub fn get_http2(addr: SocketAddr, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Status and whole body of a response.
pub async fn read(resp: Response<Incoming>) -> (StatusCode, Bytes) {
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

/// Sends on an HTTP/1 connection once it is ready for the next request.
pub async fn send(
    sender: &mut Http1Sender,
    req: http::Request<Full<Bytes>>,
) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    read(sender.send_request(req).await.unwrap()).await
}
