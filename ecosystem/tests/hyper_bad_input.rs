//! Hostile clients against `hyper::serve`: a 1 MiB header, slowloris
//! clients (half a head, nothing at all, half an HTTP/2 preface), a client
//! resetting mid-request and a panicking handler; the server keeps serving
//! everyone else.

mod hyper_common;

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use hyper_common::*;
use moduvex_runtime::hyper::serve;
use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::spawn;

/// A server with `routes()` and the default header read timeout.
async fn server() -> SocketAddr {
    server_with(moduvex_runtime::hyper::DEFAULT_HEADER_READ_TIMEOUT).await
}

/// A server with `routes()` and the given header read timeout.
async fn server_with(header_read_timeout: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(serve(listener, routes()).header_read_timeout(header_read_timeout));
    addr
}

/// Short enough for a test to wait out, long enough for a client that
/// sends its request at once on a loaded machine.
const SHORT: Duration = Duration::from_millis(500);

/// One request on a fresh connection still gets its answer.
async fn still_serves(addr: SocketAddr) {
    let mut sender = http1(addr).await;
    assert_eq!(
        send(&mut sender, get("/n/1")).await,
        (StatusCode::OK, "n=1".into())
    );
}

/// Everything the server sends until it closes the connection (a reset
/// counts as a close).
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn a_one_mib_header_gets_431_and_others_are_served() {
    guard("1 MiB header", || {
        run(async {
            let addr = server().await;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut req = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
            req.resize(req.len() + (1 << 20), b'a');
            req.extend_from_slice(b"\r\n\r\n");
            // The server may close before reading it all: a failed write is fine.
            let _ = stream.write_all(&req).await;
            let answer = read_until_closed(&mut stream).await;
            assert!(
                answer.is_empty() || answer.starts_with(b"HTTP/1.1 431"),
                "unexpected answer: {:?}",
                String::from_utf8_lossy(&answer[..answer.len().min(80)])
            );
            still_serves(addr).await;
        })
    });
}

#[test]
fn too_many_headers_get_431() {
    guard("many headers", || {
        run(async {
            let addr = server().await;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut req = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
            for i in 0..200 {
                req.push_str(&format!("X-H{i}: v\r\n"));
            }
            req.push_str("\r\n");
            stream.write_all(req.as_bytes()).await.unwrap();
            let answer = read_until_closed(&mut stream).await;
            assert!(
                answer.starts_with(b"HTTP/1.1 431"),
                "{:?}",
                String::from_utf8_lossy(&answer)
            );
            still_serves(addr).await;
        })
    });
}

/// A client that sends `prefix` and stalls is cut off by the header read
/// timeout, while another client is served meanwhile.
fn stalled_client_is_cut(prefix: &'static [u8]) {
    run(async {
        let addr = server_with(SHORT).await;
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled.write_all(prefix).await.unwrap();
        still_serves(addr).await;
        // The server closes it (hyper may first answer 408).
        let answer = read_until_closed(&mut stalled).await;
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
        still_serves(addr).await;
    });
}

#[test]
fn slowloris_half_a_header_is_cut_by_the_header_read_timeout() {
    guard("slowloris", || {
        stalled_client_is_cut(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    });
}

#[test]
fn a_client_that_sends_nothing_is_cut_too() {
    guard("silent client", || stalled_client_is_cut(b""));
}

#[test]
fn half_an_http2_preface_is_cut_too() {
    guard("half a preface", || {
        stalled_client_is_cut(b"PRI * HTTP/2.0\r\n")
    });
}

#[test]
fn an_idle_keep_alive_connection_is_closed_by_the_header_read_timeout() {
    guard("idle keep-alive", || {
        run(async {
            let addr = server_with(SHORT).await;
            let (mut sender, driver) = http1_with_driver(addr).await;
            assert_eq!(
                send(&mut sender, get("/n/7")).await,
                (StatusCode::OK, "n=7".into())
            );
            // No next request: the server closes the connection.
            driver.await.unwrap();
            still_serves(addr).await;
        })
    });
}

#[test]
fn a_client_resetting_mid_request_does_not_disturb_the_server() {
    guard("reset mid-request", || {
        run(async {
            let addr = server().await;
            for _ in 0..20 {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream
                    .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial body")
                    .await
                    .unwrap();
                // Close with RST instead of FIN.
                stream.set_zero_linger().unwrap();
                drop(stream);
            }
            still_serves(addr).await;
        })
    });
}

#[test]
fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    guard("panic", || {
        run(async {
            let addr = server().await;
            let mut sender = http1(addr).await;
            assert_eq!(
                send(&mut sender, get("/panic")).await,
                (StatusCode::INTERNAL_SERVER_ERROR, "".into())
            );
            // The same connection goes on, and so does the server.
            assert_eq!(
                send(&mut sender, get("/n/2")).await,
                (StatusCode::OK, "n=2".into())
            );
            still_serves(addr).await;
            // HTTP/2 too: one stream panics, the connection carries on.
            let mut h2 = http2(addr).await;
            let (status, _) = read(h2.send_request(get_http2(addr, "/panic")).await.unwrap()).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            let (status, body) =
                read(h2.send_request(get_http2(addr, "/n/3")).await.unwrap()).await;
            assert_eq!((status, body), (StatusCode::OK, "n=3".into()));
        })
    });
}

#[test]
fn garbage_gets_400_and_others_are_served() {
    guard("garbage", || {
        run(async {
            let addr = server().await;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
            let answer = read_until_closed(&mut stream).await;
            assert!(
                answer.is_empty() || answer.starts_with(b"HTTP/1.1 400"),
                "{:?}",
                String::from_utf8_lossy(&answer)
            );
            still_serves(addr).await;
        })
    });
}

/// A listener whose first `failures` accepts fail with `error`.
struct Failing {
    inner: TcpListener,
    failures: usize,
    error: fn() -> std::io::Error,
}

impl moduvex_runtime::hyper::Listener for Failing {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> std::io::Result<(TcpStream, SocketAddr)> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err((self.error)());
        }
        self.inner.accept().await
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

#[test]
fn accept_errors_never_end_the_loop() {
    guard("accept errors", || {
        run(async {
            let emfile = || std::io::Error::from_raw_os_error(libc::EMFILE);
            let aborted = || std::io::Error::from_raw_os_error(libc::ECONNABORTED);
            for (failures, error) in [(8, emfile as fn() -> _), (100, aborted)] {
                let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = inner.local_addr().unwrap();
                let server = spawn(serve(
                    Failing {
                        inner,
                        failures,
                        error,
                    },
                    routes(),
                ));
                still_serves(addr).await;
                assert!(!server.is_finished());
            }
        })
    });
}

#[test]
fn the_shutdown_signal_is_heard_while_accept_keeps_failing() {
    guard("shutdown during backoff", || {
        run(async {
            let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let failing = Failing {
                inner,
                failures: usize::MAX,
                error: || std::io::Error::from_raw_os_error(libc::EMFILE),
            };
            let (stop, stopped) = moduvex_runtime::sync::oneshot::channel::<()>();
            let server = spawn(serve(failing, routes()).with_graceful_shutdown(async move {
                let _ = stopped.await;
            }));
            moduvex_runtime::time::sleep(Duration::from_millis(20)).await;
            stop.send(()).unwrap();
            server.await.unwrap().unwrap();
        })
    });
}
