//! hyper and axum rows (feature `hyper`): one service served by
//! moduvex's `hyper::serve` and by hyper-util on tokio, under
//! `wrk -t1 -c64 -d1s` (HTTP/1.1 keep-alive).
//!
//! The tokio side is what a hyper-util user writes: an accept loop
//! spawning one task per connection that runs `auto::Builder` (HTTP/1 and
//! HTTP/2) over `TokioIo`, with `TokioTimer` and the same 30 s header read
//! timeout `serve` defaults to, and `TCP_NODELAY` as `serve` sets it. Both
//! sides serve the very same tower service: a hand-written "hello" one, or
//! an axum `Router` answering JSON. No smol column: smol has no hyper glue
//! of its own.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use moduvex_runtime::Flavor;
use tower_service::Service;

use crate::harness::{Round, Unit, Workload};

/// The header read timeout on both sides (moduvex `serve`'s default).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Workers of the multi-threaded rows.
const WORKERS: usize = 2;

/// Which service the server runs.
#[derive(Clone, Copy, Debug)]
enum App {
    /// `Hello, world!` as a fixed body.
    Hello,
    /// axum: `{"message":"Hello, World!"}` from `Json`.
    AxumJson,
}

/// Which runtime, on how many threads (`None`: current thread).
#[derive(Clone, Copy, Debug)]
enum Side {
    Moduvex(Option<usize>),
    Tokio(Option<usize>),
}

/// The hyper and axum workloads (only when `wrk` is installed).
pub fn workloads() -> Vec<Box<dyn FnOnce() -> Workload>> {
    if !super::load::available("wrk") {
        return Vec::new();
    }
    let mut all: Vec<Box<dyn FnOnce() -> Workload>> = Vec::new();
    for workers in [None, Some(WORKERS)] {
        for app in [App::Hello, App::AxumJson] {
            all.push(Box::new(move || workload(app, workers)));
        }
    }
    all
}

fn workload(app: App, workers: Option<usize>) -> Workload {
    let what = match app {
        App::Hello => "hyper hello",
        App::AxumJson => "axum JSON",
    };
    let place = match workers {
        None => "current thread".to_string(),
        Some(n) => format!("multi-thread, {n} workers; moduvex work-stealing"),
    };
    Workload {
        name: format!("{what}: wrk -t1 -c64 -d1s ({place})"),
        unit: Unit::OpsPerSec("req"),
        extra_label: Some("p99 µs"),
        moduvex: runner(Side::Moduvex(workers), app),
        tokio: Some(runner(Side::Tokio(workers), app)),
        smol: None,
    }
}

/// Starts the server on first use, then runs `wrk` against it per round.
fn runner(side: Side, app: App) -> Box<dyn FnMut() -> Round> {
    let mut addr = None;
    Box::new(move || {
        let addr = *addr.get_or_insert_with(|| start(side, app));
        super::load::wrk(addr, None)
    })
}

// ── the services ──────────────────────────────────────────────────────────

/// The hello service: a fixed body, no routing.
#[derive(Clone)]
struct Hello;

impl Service<Request<Incoming>> for Hello {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Incoming>) -> Self::Future {
        ready(Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, world!",
        )))))
    }
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

fn axum_json() -> Router {
    Router::new().route(
        "/",
        get(|| async {
            Json(Message {
                message: "Hello, World!",
            })
        }),
    )
}

// ── the servers ───────────────────────────────────────────────────────────

/// Starts `app` on `side` on a thread of its own and returns its address
/// once it listens; it serves until the process exits.
fn start(side: Side, app: App) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("{side:?}-{app:?}-server").to_lowercase())
        .spawn(move || match (side, app) {
            (Side::Moduvex(workers), App::Hello) => moduvex(workers, Hello, tx),
            (Side::Moduvex(workers), App::AxumJson) => moduvex(workers, axum_json(), tx),
            (Side::Tokio(workers), App::Hello) => tokio(workers, Hello, tx),
            (Side::Tokio(workers), App::AxumJson) => tokio(workers, axum_json(), tx),
        })
        .expect("spawn server thread");
    rx.recv().expect("server failed to start")
}

fn moduvex<S, B>(workers: Option<usize>, service: S, tx: mpsc::Sender<SocketAddr>)
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use moduvex_runtime::net::TcpListener;
    let serve = async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        tx.send(listener.local_addr().unwrap()).unwrap();
        moduvex_runtime::hyper::serve(listener, service)
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .await
            .expect("serve");
    };
    match workers {
        None => moduvex_runtime::block_on(serve),
        Some(n) => {
            let rt = moduvex_runtime::Runtime::builder()
                .flavor(Flavor::WorkStealing)
                .worker_threads(n)
                .build()
                .expect("runtime");
            // The accept loop runs on a worker, as a `#[main]` program's
            // spawned server would.
            rt.block_on(rt.spawn(serve)).expect("server task");
        }
    }
}

fn tokio<S, B>(workers: Option<usize>, service: S, tx: mpsc::Sender<SocketAddr>)
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let rt = match workers {
        None => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    }
    .enable_all()
    .build()
    .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        tx.send(listener.local_addr().unwrap()).unwrap();
        let accept = async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(service.clone());
                tokio::spawn(async move {
                    let mut builder = auto::Builder::new(TokioExecutor::new());
                    builder
                        .http1()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT);
                    builder.http2().timer(TokioTimer::new());
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        // On a multi-threaded runtime the accept loop runs on a worker.
        tokio::spawn(accept).await.expect("accept loop");
    });
}
