//! The `hyper_client` example against the `axum` example's server, both
//! in this process: every answer checked, and the pool reuses connections.

#[allow(dead_code)] // the example's `main` is not called here
#[path = "../examples/axum.rs"]
mod axum_example;
mod examples_common;
#[allow(dead_code)]
#[path = "../examples/hyper_client.rs"]
mod hyper_client;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use examples_common::*;
use moduvex_runtime::hyper::Listener;
use moduvex_runtime::net::{TcpListener, TcpStream};

/// A listener that counts the connections it accepts.
struct Counting(TcpListener, Arc<AtomicUsize>);

impl Listener for Counting {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> std::io::Result<(TcpStream, SocketAddr)> {
        let conn = self.0.accept().await?;
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(conn)
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

#[test]
fn pooled_client_fetches_from_the_axum_example() {
    guard("hyper_client example", || {
        run(async {
            let accepted = Arc::new(AtomicUsize::new(0));
            let counter = accepted.clone();
            let server = Server::start(move |listener, stop| {
                axum_example::serve(Counting(listener, counter), stop)
            })
            .await;
            let base = format!("http://{}", server.addr);
            let client = hyper_client::client();

            let transcript = hyper_client::run(&client, &base).await.unwrap();
            let milk = r#"{"id":1,"title":"buy milk","done":false}"#;
            let bob = r#"{"id":2,"title":"call Bob","done":true}"#;
            assert_eq!(
                transcript,
                [
                    format!("POST /todos -> 201 {milk}"),
                    format!("POST /todos -> 201 {bob}"),
                    format!("GET /todos -> 200 [{milk},{bob}]"),
                    format!("GET /todos/1 -> 200 {milk}"),
                    "GET /todos/7 -> 404 ".to_string(),
                ]
            );

            // More requests one after another: the pool hands the idle
            // connection back. (It returns to the pool a moment after its
            // body is read, so a request may now and then open another
            // one; but connections are reused.)
            let requests = transcript.len() + 40;
            for _ in 0..40 {
                let request = http::Request::get(format!("{base}/todos/1"))
                    .body(Default::default())
                    .unwrap();
                let (status, body) = hyper_client::send(&client, request).await.unwrap();
                assert_eq!((status.as_u16(), &body[..]), (200, milk.as_bytes()));
            }
            let opened = accepted.load(Ordering::SeqCst);
            assert!(
                opened < requests / 2,
                "{opened} connections for {requests} requests"
            );

            drop(client);
            server.stop().await;
        })
    });
}
