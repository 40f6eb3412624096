//! An axum `Router` served as it is by `moduvex_runtime::hyper::serve`:
//! routes, path parameters, JSON in and out, shared state, 404, 400 and
//! 415 rejections, and the peer address through `Extension`.

mod hyper_common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::StatusCode;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_common::*;
use moduvex_runtime::hyper::{serve, ConnectInfo};
use moduvex_runtime::net::TcpListener;
use moduvex_runtime::spawn;
use serde::{Deserialize, Serialize};

#[derive(Clone, Default)]
struct AppState {
    hits: Arc<AtomicU64>,
}

#[derive(Deserialize)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Sum {
    sum: i64,
    request: u64,
}

fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { "hello from axum" }))
        .route("/hello/{name}", get(|Path(name): Path<String>| async move { format!("hello, {name}") }))
        .route(
            "/add",
            post(|State(s): State<AppState>, Json(add): Json<Add>| async move {
                let request = s.hits.fetch_add(1, Ordering::SeqCst) + 1;
                Json(Sum {
                    sum: add.a + add.b,
                    request,
                })
            }),
        )
        .route(
            "/hits",
            get(|State(s): State<AppState>| async move { s.hits.load(Ordering::SeqCst).to_string() }),
        )
        .route(
            "/peer",
            get(|Extension(ConnectInfo(peer)): Extension<ConnectInfo<SocketAddr>>| async move { peer.to_string() }),
        )
        .with_state(state)
}

fn post_json(
    path: &str,
    body: &'static str,
    content_type: Option<&str>,
) -> http::Request<Full<Bytes>> {
    let mut req = http::Request::post(path).header("host", "test");
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    req.body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

#[test]
fn an_axum_router_is_served_as_it_is() {
    guard("axum", || {
        run(async {
            let state = AppState::default();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn(serve(listener, app(state.clone())));
            let mut c = http1(addr).await;

            assert_eq!(
                send(&mut c, hyper_common::get("/")).await,
                (StatusCode::OK, "hello from axum".into())
            );
            assert_eq!(
                send(&mut c, hyper_common::get("/hello/moduvex")).await,
                (StatusCode::OK, "hello, moduvex".into())
            );
            assert_eq!(
                send(&mut c, hyper_common::get("/missing")).await.0,
                StatusCode::NOT_FOUND
            );
            // Wrong method on a known route.
            assert_eq!(
                send(&mut c, hyper_common::get("/add")).await.0,
                StatusCode::METHOD_NOT_ALLOWED
            );

            for i in 1..=3 {
                let (status, body) = send(
                    &mut c,
                    post_json("/add", r#"{"a": 40, "b": 2}"#, Some("application/json")),
                )
                .await;
                assert_eq!(status, StatusCode::OK);
                let sum: Sum = serde_json_from(&body);
                assert_eq!(
                    sum,
                    Sum {
                        sum: 42,
                        request: i
                    }
                );
            }
            assert_eq!(
                send(&mut c, hyper_common::get("/hits")).await,
                (StatusCode::OK, "3".into())
            );
            assert_eq!(state.hits.load(Ordering::SeqCst), 3);

            // Rejections: malformed JSON, JSON of the wrong shape, no content type.
            let bad = send(
                &mut c,
                post_json("/add", "{not json", Some("application/json")),
            )
            .await;
            assert_eq!(bad.0, StatusCode::BAD_REQUEST);
            let shape = send(
                &mut c,
                post_json("/add", r#"{"a": 1}"#, Some("application/json")),
            )
            .await;
            assert_eq!(shape.0, StatusCode::UNPROCESSABLE_ENTITY);
            let no_ct = send(&mut c, post_json("/add", r#"{"a": 1, "b": 2}"#, None)).await;
            assert_eq!(no_ct.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert_eq!(
                state.hits.load(Ordering::SeqCst),
                3,
                "rejected requests never ran the handler"
            );

            let (status, peer) = send(&mut c, hyper_common::get("/peer")).await;
            assert_eq!(status, StatusCode::OK);
            let peer: SocketAddr = std::str::from_utf8(&peer).unwrap().parse().unwrap();
            assert!(peer.ip().is_loopback());

            // HTTP/2 reaches the same router.
            let mut h2 = http2(addr).await;
            let resp = h2.send_request(get_http2(addr, "/hello/h2")).await.unwrap();
            assert_eq!(read(resp).await, (StatusCode::OK, "hello, h2".into()));
        })
    });
}

/// `{"sum":N,"request":M}` without a serde_json dependency of the tests:
/// axum's `Json` output is compact and ordered as the struct.
fn serde_json_from(body: &[u8]) -> Sum {
    let s = std::str::from_utf8(body).unwrap();
    let s = s
        .strip_prefix("{\"sum\":")
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or_else(|| panic!("{s}"));
    let (sum, request) = s.split_once(",\"request\":").unwrap();
    Sum {
        sum: sum.parse().unwrap(),
        request: request.parse().unwrap(),
    }
}
