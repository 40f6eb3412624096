//! Feature `tokio-compat` with the HTTP crates bound to tokio's runtime:
//! reqwest against `moduvex_runtime::hyper::serve`, tower-http's
//! `TimeoutLayer` firing, `axum::serve` on a tokio `TcpListener`, and
//! axum's `WebSocketUpgrade` (whose `on_upgrade` calls `tokio::spawn`)
//! served by `moduvex_runtime::hyper::serve` to a tungstenite client over
//! our `TcpStream` — on a current-thread and a work-stealing runtime.

mod hyper_common;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use hyper_common::{guard, routes};
use moduvex_runtime::hyper::serve;
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::sync::oneshot;
use moduvex_runtime::{Builder, JoinHandle, Runtime};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tower_http::timeout::TimeoutLayer;

/// A current-thread runtime and a two-worker work-stealing one.
fn runtimes() -> [Runtime; 2] {
    [
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

/// A server of ours on a fresh local port, stopped through the sender.
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl Server {
    async fn start<S, B>(service: S) -> Server
    where
        S: tower_service::Service<
                http::Request<hyper::body::Incoming>,
                Response = http::Response<B>,
            > + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task =
            moduvex_runtime::spawn(serve(listener, service).with_graceful_shutdown(async move {
                let _ = stopped.await;
            }));
        Server { addr, stop, task }
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

#[test]
fn reqwest_against_moduvex_hyper_serve() {
    guard("reqwest_against_moduvex_hyper_serve", || {
        for rt in runtimes() {
            let flavor = rt.handle().flavor();
            rt.block_on(async {
                let server = Server::start(routes()).await;
                let addr = server.addr;
                // The free function, as in reqwest's README.
                let resp = reqwest::get(format!("http://{addr}/n/7")).await.unwrap();
                assert_eq!(resp.status(), StatusCode::OK, "{flavor:?}");
                assert_eq!(resp.text().await.unwrap(), "n=7");
                // A pooled client: keep-alive requests, each body checked,
                // from several moduvex tasks at once.
                let client = reqwest::Client::new();
                let mut tasks = Vec::new();
                for t in 0..4 {
                    let client = client.clone();
                    tasks.push(moduvex_runtime::spawn(async move {
                        for k in 0..25 {
                            let n = t * 100 + k;
                            let resp = client
                                .get(format!("http://{addr}/n/{n}"))
                                .send()
                                .await
                                .unwrap();
                            assert_eq!(resp.status(), StatusCode::OK);
                            assert_eq!(resp.text().await.unwrap(), format!("n={n}"));
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
                // A request body of 256 KiB, echoed.
                let body: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
                let resp = client
                    .post(format!("http://{addr}/echo"))
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::OK);
                assert_eq!(resp.bytes().await.unwrap(), body);
                let resp = client
                    .get(format!("http://{addr}/nope"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::NOT_FOUND);
                drop(client);
                server.stop().await;
            });
        }
    });
}

#[test]
fn tower_http_timeout_layer_fires() {
    guard("tower_http_timeout_layer_fires", || {
        for rt in runtimes() {
            let flavor = rt.handle().flavor();
            rt.block_on(async {
                // `/never` never answers: its 20 ms timeout must fire.
                // `/ready` answers on its first poll, well inside its 60 s.
                let app = Router::new()
                    .route(
                        "/never",
                        get(std::future::pending::<&'static str>).layer(
                            TimeoutLayer::with_status_code(
                                StatusCode::REQUEST_TIMEOUT,
                                Duration::from_millis(20),
                            ),
                        ),
                    )
                    .route(
                        "/ready",
                        get(|| async { "ready" }).layer(TimeoutLayer::with_status_code(
                            StatusCode::REQUEST_TIMEOUT,
                            Duration::from_secs(60),
                        )),
                    );
                let server = Server::start(app).await;
                let addr = server.addr;
                let client = reqwest::Client::new();
                for _ in 0..3 {
                    let resp = client
                        .get(format!("http://{addr}/never"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT, "{flavor:?}");
                    let resp = client
                        .get(format!("http://{addr}/ready"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), StatusCode::OK);
                    assert_eq!(resp.text().await.unwrap(), "ready");
                }
                drop(client);
                server.stop().await;
            });
        }
    });
}

#[test]
fn axum_serve_with_a_tokio_listener() {
    guard("axum_serve_with_a_tokio_listener", || {
        for rt in runtimes() {
            let flavor = rt.handle().flavor();
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let app = Router::new().route(
                    "/sum/{a}/{b}",
                    get(
                        |axum::extract::Path((a, b)): axum::extract::Path<(u32, u32)>| async move {
                            (a + b).to_string()
                        },
                    ),
                );
                let (stop, stopped) = oneshot::channel::<()>();
                let server = moduvex_runtime::spawn(async move {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.await;
                        })
                        .await
                });
                let client = reqwest::Client::new();
                for a in 0..20u32 {
                    let resp = client
                        .get(format!("http://{addr}/sum/{a}/{}", a * 2))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), StatusCode::OK, "{flavor:?}");
                    assert_eq!(resp.text().await.unwrap(), (a * 3).to_string());
                }
                // Our own client over our own socket, against tokio's server.
                let mut sender = hyper_common::http1(addr).await;
                let (status, body) =
                    hyper_common::send(&mut sender, hyper_common::get("/sum/40/2")).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(&body[..], b"42");
                drop(sender);
                drop(client);
                stop.send(()).unwrap();
                server.await.unwrap().unwrap();
            });
        }
    });
}

/// Echoes every text message as `echo: <text>` (made by a moduvex task)
/// and every binary one as it is, after a moduvex timer: moduvex's API
/// inside the task axum starts with `tokio::spawn`.
async fn echo(mut socket: WebSocket) {
    moduvex_runtime::time::sleep(Duration::from_millis(1)).await;
    while let Some(Ok(msg)) = socket.recv().await {
        let reply = match msg {
            Message::Text(text) => {
                let text = text.to_string();
                let reply = moduvex_runtime::spawn(async move { format!("echo: {text}") })
                    .await
                    .unwrap();
                Message::Text(reply.into())
            }
            Message::Binary(bytes) => Message::Binary(bytes),
            Message::Close(_) => break,
            _ => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(echo)
}

#[test]
fn axum_websocket_upgrade_served_by_moduvex() {
    guard("axum_websocket_upgrade_served_by_moduvex", || {
        for rt in runtimes() {
            let flavor = rt.handle().flavor();
            rt.block_on(async {
                let app = Router::new().route("/ws", get(upgrade));
                let server = Server::start(app).await;
                let addr = server.addr;
                let mut clients = Vec::new();
                for c in 0..3u32 {
                    clients.push(moduvex_runtime::spawn(async move {
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let (mut ws, resp) =
                            tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
                                .await
                                .unwrap();
                        assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
                        for i in 0..20u32 {
                            let text = format!("client {c} message {i}");
                            ws.send(WsMessage::text(text.clone())).await.unwrap();
                            let got = ws.next().await.unwrap().unwrap();
                            assert_eq!(got, WsMessage::text(format!("echo: {text}")));
                            let bytes: Vec<u8> = (0..=i as u8).map(|b| b ^ c as u8).collect();
                            ws.send(WsMessage::binary(bytes.clone())).await.unwrap();
                            let got = ws.next().await.unwrap().unwrap();
                            assert_eq!(got, WsMessage::binary(bytes));
                        }
                        ws.close(None).await.unwrap();
                        // The server's close answer, then the end.
                        while let Some(Ok(_)) = ws.next().await {}
                    }));
                }
                for client in clients {
                    client.await.unwrap_or_else(|e| panic!("{flavor:?}: {e}"));
                }
                server.stop().await;
            });
        }
    });
}
