//! The `axum` example: its routes, JSON in and out, state shared by every
//! request and connection, the 404, 400, 422 and 415 answers, and the
//! WebSocket echo route.

#[allow(dead_code)] // the example's `main` is not called here
#[path = "../examples/axum.rs"]
mod axum_example;
mod examples_common;

use async_tungstenite::tungstenite::{self, Message};
use axum_example::Todo;
use examples_common::*;
use futures_lite::StreamExt;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use moduvex_runtime::net::TcpStream;

fn post_todo(content_type: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::post("/todos")
        .header("host", "test")
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn json<T: serde::de::DeserializeOwned>(body: &Bytes) -> T {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(body)))
}

#[test]
fn json_api_routes_state_and_rejections() {
    guard("axum example", || {
        run(async {
            let server = Server::start(axum_example::serve).await;
            let mut client = http1(server.addr).await;

            let (status, body) = send(&mut client, get("/todos")).await;
            assert_eq!((status, &body[..]), (StatusCode::OK, &b"[]"[..]));

            let (status, body) = send(
                &mut client,
                post_todo("application/json", r#"{"title":"buy milk"}"#),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
            let milk: Todo = json(&body);
            assert_eq!(
                milk,
                Todo {
                    id: 1,
                    title: "buy milk".into(),
                    done: false
                }
            );
            let (status, body) = send(
                &mut client,
                post_todo("application/json", r#"{"title":"call Bob","done":true}"#),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
            let bob: Todo = json(&body);
            assert_eq!((bob.id, bob.done), (2, true));

            // The state is shared: another connection sees both.
            let mut other = http1(server.addr).await;
            let (status, body) = send(&mut other, get("/todos")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(json::<Vec<Todo>>(&body), vec![milk.clone(), bob.clone()]);
            let (status, body) = send(&mut other, get("/todos/2")).await;
            assert_eq!((status, json::<Todo>(&body)), (StatusCode::OK, bob));

            // Not found, and bad input of each kind.
            for (request, want) in [
                (get("/todos/3"), StatusCode::NOT_FOUND),
                (get("/nowhere"), StatusCode::NOT_FOUND),
                (get("/todos/abc"), StatusCode::BAD_REQUEST),
                (
                    post_todo("application/json", r#"{"title":"#),
                    StatusCode::BAD_REQUEST,
                ),
                (
                    post_todo("application/json", r#"{"name":"no title"}"#),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                (
                    post_todo("text/plain", r#"{"title":"x"}"#),
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ),
            ] {
                let what = format!("{} {}", request.method(), request.uri());
                let (status, _) = send(&mut client, request).await;
                assert_eq!(status, want, "{what}");
            }
            // None of them changed the list.
            let (_, body) = send(&mut client, get("/todos")).await;
            assert_eq!(json::<Vec<Todo>>(&body).len(), 2);

            // Idle keep-alive connections do not hold the shutdown up.
            server.stop().await;
        })
    });
}

#[test]
fn websocket_route_echoes_text_and_binary() {
    guard("axum example, WebSocket", || {
        run(async {
            let server = Server::start(axum_example::serve).await;
            let addr = server.addr;
            // Two sessions side by side, each with its own messages.
            let sessions: Vec<_> = (0..2u8)
                .map(|session| {
                    moduvex_runtime::spawn(async move {
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let (mut ws, response) =
                            async_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
                                .await
                                .unwrap();
                        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
                        for i in 0..20u8 {
                            let text = Message::text(format!("session {session}, message {i}"));
                            // Larger than one read, with every byte value.
                            let binary: Vec<u8> =
                                (0..70_000u32).map(|n| (n as u8) ^ i ^ session).collect();
                            let binary = Message::binary(binary);
                            for message in [text, binary] {
                                ws.send(message.clone()).await.unwrap();
                                let echoed = ws.next().await.expect("an echo").unwrap();
                                assert_eq!(echoed, message);
                            }
                        }
                        ws.close(None).await.unwrap();
                        // The server answers the close, then the stream ends.
                        loop {
                            match ws.next().await {
                                Some(Ok(Message::Close(_))) => continue,
                                None | Some(Err(tungstenite::Error::ConnectionClosed)) => break,
                                other => panic!("after close: {other:?}"),
                            }
                        }
                    })
                })
                .collect();
            for session in sessions {
                session.await.unwrap();
            }

            // A plain GET of the route is not an upgrade: rejected.
            let mut client = http1(addr).await;
            let (status, _) = send(&mut client, get("/ws")).await;
            assert!(status.is_client_error(), "{status}");

            server.stop().await;
        })
    });
}
