//! The `hello` example's HTTP handling (`examples/common/http.rs`):
//! framing rules, and hostile clients against a real in-process server.

#[path = "../examples/common/http.rs"]
mod http;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Connection, Flow, Limits, Parse, Session, MAX_REQUEST};
use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::time::sleep;
use moduvex_runtime::{block_on, spawn};

type Result<T = ()> = std::io::Result<T>;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// Bounds a wait that only a broken server would make long.
const FAILSAFE: Duration = Duration::from_secs(60);

#[test]
fn framing_rules() {
    assert_eq!(
        http::parse(GET),
        Parse::Request {
            len: GET.len(),
            connection: Connection::KeepAlive
        }
    );
    assert_eq!(http::parse(&GET[..10]), Parse::Partial);
    assert_eq!(
        http::parse(b"GET / HTTP/1.0\r\n\r\n"),
        Parse::Request {
            len: 18,
            connection: Connection::Close
        }
    );
    let close = b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_eq!(
        http::parse(close),
        Parse::Request {
            len: close.len(),
            connection: Connection::Close
        }
    );
    // HTTP/1.0 keeps the connection only when asked, and then says so;
    // `close` wins over `keep-alive`, and the tokens are case-insensitive.
    let keep_alive_10 = b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    assert_eq!(
        http::parse(keep_alive_10),
        Parse::Request {
            len: keep_alive_10.len(),
            connection: Connection::KeepAliveAnnounced
        }
    );
    let both = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n";
    assert_eq!(
        http::parse(both),
        Parse::Request {
            len: both.len(),
            connection: Connection::Close
        }
    );
    let keep_alive_11 = b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
    assert_eq!(
        http::parse(keep_alive_11),
        Parse::Request {
            len: keep_alive_11.len(),
            connection: Connection::KeepAlive
        }
    );
    let post = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(
        http::parse(post),
        Parse::Request {
            len: post.len(),
            connection: Connection::KeepAlive
        }
    );
    assert_eq!(http::parse(&post[..post.len() - 1]), Parse::Partial);
    for bad in [
        &b"garbage\r\n\r\n"[..],
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"hello\r\n",
    ] {
        assert_eq!(
            http::parse(bad),
            Parse::Reject(http::BAD_REQUEST),
            "{bad:?}"
        );
    }
    let huge_body = b"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n";
    assert_eq!(
        http::parse(huge_body),
        Parse::Reject(http::PAYLOAD_TOO_LARGE)
    );
    let no_crlf = vec![b'a'; MAX_REQUEST];
    assert_eq!(
        http::parse(&no_crlf),
        Parse::Reject(http::HEADERS_TOO_LARGE)
    );
}

#[test]
fn pipelined_requests_split_anywhere_are_answered_in_order() {
    let stream: Vec<u8> = GET.repeat(50);
    for chunk in [1, 7, 26, 1000] {
        let mut session = Session::new();
        let mut out = Vec::new();
        for piece in stream.chunks(chunk) {
            session.read_buf()[..piece.len()].copy_from_slice(piece);
            assert_eq!(session.process(piece.len(), &mut out), Flow::Continue);
        }
        assert_eq!(out, http::HELLO.repeat(50), "chunk {chunk}");
        assert!(!session.has_partial());
    }
}

#[test]
fn a_megabyte_header_is_cut_off_within_the_fixed_buffer() {
    let mut session = Session::new();
    let mut out = Vec::new();
    let mut fed = 0;
    let header = b"GET / HTTP/1.1\r\nX-Big: ";
    session.read_buf()[..header.len()].copy_from_slice(header);
    let mut flow = session.process(header.len(), &mut out);
    while flow == Flow::Continue {
        assert!(fed < 1 << 20, "never rejected");
        let room = session.read_buf();
        assert!(!room.is_empty(), "buffer full but still reading");
        let n = room.len().min(1000);
        room[..n].fill(b'a');
        fed += n;
        flow = session.process(n, &mut out);
    }
    assert_eq!(flow, Flow::Reject);
    assert_eq!(out, http::HEADERS_TOO_LARGE);
    assert!(fed <= MAX_REQUEST);
    assert_eq!(session.footprint(), MAX_REQUEST);
}

/// Starts `hello`'s server (the example's accept loop and `http::serve`)
/// with short timeouts, on this runtime.
async fn start_server(limits: Limits) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            spawn(http::serve(stream, limits));
        }
    });
    Ok(addr)
}

fn short_limits() -> Limits {
    Limits {
        idle: Duration::from_secs(5),
        request: Duration::from_millis(300),
        linger: Duration::from_millis(500),
    }
}

/// Reads until the server closes (EOF or reset); returns what arrived.
async fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("read: {e}"),
        }
    }
}

async fn keep_alive_client(addr: SocketAddr, requests: usize) -> Result {
    let mut s = TcpStream::connect(addr).await?;
    for _ in 0..requests {
        s.write_all(GET).await?;
        let mut resp = vec![0u8; http::HELLO.len()];
        s.read_exact(&mut resp).await?;
        assert_eq!(resp, http::HELLO);
        sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

#[test]
fn hostile_clients_are_rejected_and_others_are_unaffected() -> Result {
    block_on(async {
        let addr = start_server(short_limits()).await?;

        // Garbage: 400, then the server closes.
        let garbage = spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            s.write_all(b"\x16\x03\x01 this is not http\r\n").await?;
            Ok::<_, std::io::Error>(read_until_closed(&mut s).await)
        });

        // No CRLF at all: cut off at the buffer limit with a 431.
        let no_crlf = spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            let _ = s.write_all(&vec![b'a'; 3 * MAX_REQUEST]).await;
            Ok::<_, std::io::Error>(read_until_closed(&mut s).await)
        });

        // A 1 MiB header: 431; the writer may see the connection close.
        let huge = spawn(async move {
            let s = TcpStream::connect(addr).await?;
            let (mut rd, mut wr) = s.into_split();
            let writer = spawn(async move {
                let _ = wr.write_all(b"GET / HTTP/1.1\r\nX-Huge: ").await;
                let _ = wr.write_all(&vec![b'h'; 1 << 20]).await;
            });
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            writer.await.unwrap();
            Ok::<_, std::io::Error>(got)
        });

        // Slowloris: a header line every 50 ms, never finishing.
        let slowloris = spawn(async move {
            let s = TcpStream::connect(addr).await?;
            let (mut rd, mut wr) = s.into_split();
            let trickle = spawn(async move {
                let _ = wr.write_all(b"GET / HTTP/1.1\r\n").await;
                for i in 0..200 {
                    sleep(Duration::from_millis(50)).await;
                    if wr
                        .write_all(format!("X-{i}: y\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return i;
                    }
                }
                200
            });
            let mut buf = [0u8; 64];
            let res = rd.read(&mut buf).await;
            trickle.abort();
            Ok::<_, std::io::Error>(res)
        });

        // A well-behaved client meanwhile gets every answer.
        keep_alive_client(addr, 20).await?;

        let got = garbage.await.unwrap()?;
        assert!(
            got.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        let got = no_crlf.await.unwrap()?;
        assert!(
            got.starts_with(b"HTTP/1.1 431"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        let got = huge.await.unwrap()?;
        assert!(
            got.starts_with(b"HTTP/1.1 431"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        // The slowloris connection was closed by the server: EOF or reset.
        match slowloris.await.unwrap()? {
            Ok(0) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("slowloris not dropped: {other:?}"),
        }
        keep_alive_client(addr, 3).await
    })
}

#[test]
fn pipelined_and_close_requests_over_a_socket() -> Result {
    block_on(async {
        let addr = start_server(short_limits()).await?;
        let mut s = TcpStream::connect(addr).await?;
        let mut batch = GET.repeat(10);
        batch.extend_from_slice(b"GET /last HTTP/1.1\r\nConnection: close\r\n\r\n");
        s.write_all(&batch).await?;
        let got = read_until_closed(&mut s).await;
        let mut want = http::HELLO.repeat(10);
        want.extend_from_slice(http::HELLO_CLOSE);
        assert_eq!(got, want);
        Ok(())
    })
}

/// What `ab -k` sends: HTTP/1.0 asking for keep-alive.
const GET_10_KEEP_ALIVE: &[u8] = b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";

#[test]
fn http10_keep_alive_is_announced_and_the_connection_kept() -> Result {
    block_on(async {
        let addr = start_server(short_limits()).await?;
        let mut s = TcpStream::connect(addr).await?;
        // One request at a time: each answer arrives while the connection
        // stays open (the client would wait for a close otherwise).
        for _ in 0..3 {
            s.write_all(GET_10_KEEP_ALIVE).await?;
            let mut resp = vec![0u8; http::HELLO_KEEP_ALIVE.len()];
            s.read_exact(&mut resp).await?;
            assert_eq!(resp, http::HELLO_KEEP_ALIVE);
        }
        // Then an HTTP/1.0 request that does not ask: answered, then closed.
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
        assert_eq!(read_until_closed(&mut s).await, http::HELLO_CLOSE);
        Ok(())
    })
}

#[test]
fn http10_and_http11_close_after_the_answer() -> Result {
    block_on(async {
        // Idle connections are kept for an hour: a close is the answer's.
        let limits = Limits {
            idle: Duration::from_secs(3600),
            ..short_limits()
        };
        let addr = start_server(limits).await?;
        for request in [
            &b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        ] {
            let mut s = TcpStream::connect(addr).await?;
            s.write_all(request).await?;
            // A failsafe, not a speed check: the server closes at once.
            let got = moduvex_runtime::time::timeout(FAILSAFE, read_until_closed(&mut s))
                .await
                .expect("the server closes after answering");
            assert_eq!(
                got,
                http::HELLO_CLOSE,
                "{:?}",
                String::from_utf8_lossy(request)
            );
        }
        Ok(())
    })
}

/// The one per-connection timer is re-armed lazily: a connection that keeps
/// sending requests outlives many idle periods, and an idle one is closed.
#[test]
fn active_connections_stay_and_idle_ones_are_closed() -> Result {
    block_on(async {
        let limits = Limits {
            idle: Duration::from_millis(100),
            ..short_limits()
        };
        let addr = start_server(limits).await?;
        let mut s = TcpStream::connect(addr).await?;
        // 500 ms of requests, 25 ms apart: five idle periods.
        for _ in 0..20 {
            s.write_all(GET).await?;
            let mut resp = vec![0u8; http::HELLO.len()];
            s.read_exact(&mut resp).await?;
            assert_eq!(resp, http::HELLO);
            sleep(Duration::from_millis(25)).await;
        }
        // Now idle: the server closes the connection.
        assert!(read_until_closed(&mut s).await.is_empty());
        Ok(())
    })
}
