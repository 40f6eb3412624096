//! `serve(..).with_graceful_shutdown(..)`: requests in flight are all
//! answered, idle keep-alive connections are closed, then `serve` resolves;
//! `with_shutdown_timeout` bounds the wait.

mod hyper_common;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use hyper_common::*;
use moduvex_runtime::hyper::serve;
use moduvex_runtime::net::TcpListener;
use moduvex_runtime::spawn;
use moduvex_runtime::sync::{mpsc, oneshot, Semaphore};

/// `/slow` reports its arrival, then waits for a permit of `gate`.
fn slow_routes(arrived: mpsc::Sender<()>, gate: Arc<Semaphore>) -> Svc {
    Svc::new(move |req| {
        let arrived = arrived.clone();
        let gate = gate.clone();
        async move {
            let path = req.uri().path().to_owned();
            if path == "/slow" {
                arrived.send(()).await.unwrap();
                gate.acquire().await.unwrap().forget();
            }
            text(StatusCode::OK, format!("done {path}"))
        }
    })
}

#[test]
fn requests_in_flight_are_answered_then_serve_resolves() {
    guard("graceful shutdown", || {
        run(async {
            const IN_FLIGHT: usize = 8;
            let (arrived_tx, mut arrived) = mpsc::channel(IN_FLIGHT);
            let gate = Arc::new(Semaphore::new(0));
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            let server = spawn(
                serve(listener, slow_routes(arrived_tx, gate.clone()))
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    // Only the shutdown may close the idle connection.
                    .header_read_timeout(None),
            );

            // An idle keep-alive connection: shutdown must close it.
            let (mut idle, idle_driver) = http1_with_driver(addr).await;
            assert_eq!(send(&mut idle, get("/fast")).await.0, StatusCode::OK);

            let mut requests = Vec::new();
            for i in 0..IN_FLIGHT {
                requests.push(spawn(async move {
                    let mut sender = if i % 2 == 0 {
                        None
                    } else {
                        Some(http1(addr).await)
                    };
                    match sender.as_mut() {
                        Some(s) => send(s, get("/slow")).await,
                        None => {
                            let s = http2(addr).await;
                            let mut s2 = s.clone();
                            read(s2.send_request(get_http2(addr, "/slow")).await.unwrap()).await
                        }
                    }
                }));
            }
            for _ in 0..IN_FLIGHT {
                arrived.recv().await.unwrap();
            }
            stop.send(()).unwrap();
            // The idle connection is closed by the server.
            idle_driver.await.unwrap();
            assert!(
                !server.is_finished(),
                "serve resolved with requests in flight"
            );

            gate.add_permits(IN_FLIGHT);
            for r in requests {
                assert_eq!(r.await.unwrap(), (StatusCode::OK, "done /slow".into()));
            }
            server.await.unwrap().unwrap();
            // The listener is closed.
            assert!(moduvex_runtime::net::TcpStream::connect(addr)
                .await
                .is_err());
        })
    });
}

#[test]
fn shutdown_timeout_closes_what_is_still_running() {
    guard("shutdown timeout", || {
        run(async {
            let (arrived_tx, mut arrived) = mpsc::channel(1);
            let never = Arc::new(Semaphore::new(0));
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            let server = spawn(
                serve(listener, slow_routes(arrived_tx, never))
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .with_shutdown_timeout(Duration::from_millis(50)),
            );
            let stuck = spawn(async move {
                let mut sender = http1(addr).await;
                sender.ready().await.unwrap();
                sender.send_request(get("/slow")).await.map(|_| ())
            });
            arrived.recv().await.unwrap();
            stop.send(()).unwrap();
            server.await.unwrap().unwrap();
            assert!(
                stuck.await.unwrap().is_err(),
                "the stuck request was answered"
            );
        })
    });
}

#[test]
fn serve_without_a_signal_keeps_running_and_dropping_it_keeps_connections() {
    guard("no signal", || {
        run(async {
            let (arrived_tx, mut arrived) = mpsc::channel(1);
            let gate = Arc::new(Semaphore::new(0));
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(serve(listener, slow_routes(arrived_tx, gate.clone())));
            let mut sender = http1(addr).await;
            let req = spawn(async move { send(&mut sender, get("/slow")).await });
            arrived.recv().await.unwrap();
            // Aborting the server stops accepting; the open connection's
            // request is still answered, as with a detached task.
            server.abort();
            assert!(server.await.unwrap_err().is_cancelled());
            gate.add_permits(1);
            assert_eq!(req.await.unwrap(), (StatusCode::OK, "done /slow".into()));
        })
    });
}

#[test]
#[should_panic(expected = "configure it before awaiting or spawning it")]
fn configuring_a_running_server_panics() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut server = serve(listener, routes());
        let _ = futures_lite::future::poll_once(&mut server).await;
        drop(server.with_shutdown_timeout(Duration::from_secs(1)));
    });
}
