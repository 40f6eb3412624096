//! The `Connector` under hyper-util's pooled `Client`, against our own
//! `serve`: HTTP/1 with connection reuse, HTTP/2 only, and connect errors.

mod hyper_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_common::*;
use hyper_util::client::legacy::Client;
use moduvex_runtime::hyper::{serve, Connector, HyperExecutor, HyperTimer, Listener};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::spawn;

/// A listener that counts the connections it accepts.
struct Counting(TcpListener, Arc<AtomicUsize>);

impl Listener for Counting {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> std::io::Result<(TcpStream, std::net::SocketAddr)> {
        let conn = self.0.accept().await?;
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(conn)
    }

    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.local_addr()
    }
}

async fn counting_server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    spawn(serve(Counting(listener, accepted.clone()), routes()));
    (addr, accepted)
}

#[test]
fn pooled_http1_client_reuses_its_connection() {
    guard("pooled client", || {
        run(async {
            let (addr, accepted) = counting_server().await;
            let client = Client::builder(HyperExecutor::new())
                .pool_timer(HyperTimer::new())
                .build::<_, Full<Bytes>>(Connector::new());
            for i in 0..200 {
                let uri = format!("http://{addr}/n/{i}").parse().unwrap();
                let resp = client.get(uri).await.unwrap();
                assert_eq!(resp.version(), http::Version::HTTP_11);
                assert_eq!(read(resp).await, (StatusCode::OK, format!("n={i}").into()));
            }
            // A connection goes back to the pool a moment after its response
            // is read, so a request may now and then find none idle; but
            // connections are reused.
            let opened = accepted.load(Ordering::SeqCst);
            assert!(
                opened < 200,
                "no connection was reused: {opened} for 200 requests"
            );

            // Concurrent requests open more connections, all answered.
            let mut tasks = Vec::new();
            for i in 0..32 {
                let client = client.clone();
                tasks.push(spawn(async move {
                    let uri = format!("http://{addr}/n/{i}").parse().unwrap();
                    read(client.get(uri).await.unwrap()).await
                }));
            }
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), (StatusCode::OK, format!("n={i}").into()));
            }
        })
    });
}

#[test]
fn http2_only_client_multiplexes_on_one_connection() {
    guard("http2 client", || {
        run(async {
            let (addr, accepted) = counting_server().await;
            let client = Client::builder(HyperExecutor::new())
                .http2_only(true)
                .timer(HyperTimer::new())
                .build::<_, Full<Bytes>>(Connector::new());
            // One request first, so the pool holds the HTTP/2 connection.
            let uri: http::Uri = format!("http://{addr}/n/0").parse().unwrap();
            let resp = client.get(uri).await.unwrap();
            assert_eq!(resp.version(), http::Version::HTTP_2);
            let mut tasks = Vec::new();
            for i in 0..64 {
                let client = client.clone();
                tasks.push(spawn(async move {
                    let uri = format!("http://{addr}/n/{i}").parse().unwrap();
                    read(client.get(uri).await.unwrap()).await
                }));
            }
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), (StatusCode::OK, format!("n={i}").into()));
            }
            assert_eq!(accepted.load(Ordering::SeqCst), 1);
        })
    });
}

#[test]
fn connector_resolves_names_and_sets_nodelay() {
    guard("connector", || {
        run(async {
            let (addr, _) = counting_server().await;
            let mut connector = Connector::new();
            let uri = format!("http://localhost:{}/", addr.port())
                .parse()
                .unwrap();
            // `localhost` may resolve to ::1 first, where nothing listens:
            // the connector goes on to the next address.
            let io = tower_service::Service::call(&mut connector, uri)
                .await
                .unwrap();
            assert!(io.inner().nodelay().unwrap());
            assert!(io.inner().peer_addr().unwrap().ip().is_loopback());
        })
    });
}

#[test]
fn connector_errors_say_what_went_wrong() {
    guard("connector errors", || {
        run(async {
            // A port nothing listens on.
            let free = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let mut connector = Connector::new();
            connector.set_connect_timeout(Some(Duration::from_secs(30)));
            let uri = format!("http://{free}/").parse().unwrap();
            let err = tower_service::Service::call(&mut connector, uri)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

            let uri = "https://127.0.0.1/".parse().unwrap();
            let err = tower_service::Service::call(&mut connector, uri)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("only http:// URIs"), "{err}");

            let uri = "/just/a/path".parse().unwrap();
            let err = tower_service::Service::call(&mut connector, uri)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("no host"), "{err}");

            // Through the client, the error surfaces as a connect error.
            let client =
                Client::builder(HyperExecutor::new()).build::<_, Full<Bytes>>(Connector::new());
            let err = client
                .get(format!("http://{free}/").parse().unwrap())
                .await
                .unwrap_err();
            assert!(err.is_connect(), "{err:?}");
        })
    });
}

#[test]
fn connect_timeout_fires() {
    guard("connect timeout", || {
        run(async {
            // A zero timeout cannot be met by any connect that has to wait.
            let mut connector = Connector::new();
            connector.set_connect_timeout(Some(Duration::ZERO));
            let uri = "http://localhost:9/".parse().unwrap();
            let err = tower_service::Service::call(&mut connector, uri)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        })
    });
}
