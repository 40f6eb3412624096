//! `hyper::serve` over HTTP/1 and HTTP/2: many keep-alive requests, many
//! connections, 64 concurrent HTTP/2 streams, every body checked.

mod hyper_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::StatusCode;
use hyper_common::*;
use moduvex_runtime::hyper::serve;
use moduvex_runtime::net::TcpListener;
use moduvex_runtime::spawn;

#[test]
fn ten_thousand_keep_alive_requests_on_four_connections() {
    guard("10,000 keep-alive requests", || {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn(serve(listener, routes()));
            let mut clients = Vec::new();
            for c in 0..4 {
                clients.push(spawn(async move {
                    let mut sender = http1(addr).await;
                    for i in 0..2500 {
                        let k = c * 10_000 + i;
                        sender.ready().await.unwrap();
                        let resp = sender.send_request(get(&format!("/n/{k}"))).await.unwrap();
                        assert_eq!(read(resp).await, (StatusCode::OK, format!("n={k}").into()));
                    }
                }));
            }
            for c in clients {
                c.await.unwrap();
            }
        })
    });
}

#[test]
fn a_thousand_new_connections() {
    guard("1,000 connections", || {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn(serve(listener, routes()));
            // 8 clients at a time, each opening 125 connections in turn.
            let mut clients = Vec::new();
            for c in 0..8 {
                clients.push(spawn(async move {
                    for i in 0..125 {
                        let k = c * 1000 + i;
                        let mut sender = http1(addr).await;
                        let resp = sender.send_request(get(&format!("/n/{k}"))).await.unwrap();
                        assert_eq!(read(resp).await, (StatusCode::OK, format!("n={k}").into()));
                    }
                }));
            }
            for c in clients {
                c.await.unwrap();
            }
        })
    });
}

#[test]
fn bodies_echo_and_peer_address_is_an_extension() {
    guard("echo", || {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn(serve(listener, routes()));
            let mut sender = http1(addr).await;
            let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
            let req = http::Request::post("/echo")
                .header("host", "test")
                .body(http_body_util::Full::new(hyper::body::Bytes::from(
                    big.clone(),
                )))
                .unwrap();
            let (status, body) = send(&mut sender, req).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body == big, "echoed body differs");

            let (_, peer) = send(&mut sender, get("/peer")).await;
            let peer: std::net::SocketAddr = std::str::from_utf8(&peer).unwrap().parse().unwrap();
            assert!(peer.ip().is_loopback());
            assert_ne!(peer.port(), addr.port());

            let (status, _) = send(&mut sender, get("/nope")).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        })
    });
}

#[test]
fn http2_runs_64_concurrent_streams_on_one_connection() {
    guard("HTTP/2 streams", || {
        run(async {
            const STREAMS: usize = 64;
            // Every handler waits until all 64 have arrived: only
            // concurrent streams can get past it.
            let arrived = Arc::new(AtomicUsize::new(0));
            let all_in = Arc::new(moduvex_runtime::sync::Notify::new());
            let svc = {
                let arrived = arrived.clone();
                let all_in = all_in.clone();
                Svc::new(move |req| {
                    let arrived = arrived.clone();
                    let all_in = all_in.clone();
                    async move {
                        assert_eq!(req.version(), http::Version::HTTP_2);
                        let notified = all_in.notified();
                        if arrived.fetch_add(1, Ordering::SeqCst) + 1 == STREAMS {
                            all_in.notify_waiters();
                        } else {
                            notified.await;
                        }
                        let path = req.uri().path().to_owned();
                        text(StatusCode::OK, format!("h2 {path}"))
                    }
                })
            };
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn(serve(listener, svc));
            let sender = http2(addr).await;
            let mut streams = Vec::new();
            for i in 0..STREAMS {
                let mut sender = sender.clone();
                streams.push(spawn(async move {
                    let resp = sender
                        .send_request(get_http2(addr, &format!("/s/{i}")))
                        .await
                        .unwrap();
                    assert_eq!(resp.version(), http::Version::HTTP_2);
                    assert_eq!(
                        read(resp).await,
                        (StatusCode::OK, format!("h2 /s/{i}").into())
                    );
                }));
            }
            for s in streams {
                s.await.unwrap();
            }
            assert_eq!(arrived.load(Ordering::SeqCst), STREAMS);
        })
    });
}
