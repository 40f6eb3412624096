//! The echo and hello servers, one per runtime, same code shape.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::http;

/// Which runtime serves.
#[derive(Clone, Copy, Debug)]
pub enum Runtime {
    Moduvex,
    Tokio,
    Smol,
}

/// Which protocol it serves.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Echo,
    Hello,
}

/// Starts a server on its own thread (a current-thread runtime) and
/// returns its loopback address once it is listening.
pub fn start(rt: Runtime, kind: Kind) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("{rt:?}-{kind:?}-server").to_lowercase())
        .spawn(move || match rt {
            Runtime::Moduvex => moduvex(kind, tx),
            Runtime::Tokio => tokio(kind, tx),
            Runtime::Smol => smol(kind, tx),
        })
        .expect("spawn server thread");
    rx.recv().expect("server failed to start")
}

// ── futures-io servers (moduvex and smol share the connection code) ─────────

async fn echo_conn<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if s.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn hello_conn<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    let mut session = http::Session::new();
    let mut out = Vec::with_capacity(4096);
    loop {
        let n = match s.read(session.read_buf()).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let flow = session.process(n, &mut out);
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if flow != http::Flow::Continue {
            return;
        }
    }
}

fn moduvex(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    use moduvex_runtime::net::TcpListener;
    moduvex_runtime::block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        tx.send(listener.local_addr().unwrap()).unwrap();
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            s.set_nodelay(true).unwrap();
            match kind {
                Kind::Echo => drop(moduvex_runtime::spawn(echo_conn(s))),
                Kind::Hello => drop(moduvex_runtime::spawn(hello_conn(s))),
            }
        }
    })
}

fn smol(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    let ex = Rc::new(async_executor::LocalExecutor::new());
    smol::block_on(ex.run(async {
        let listener = smol::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        tx.send(listener.get_ref().local_addr().unwrap()).unwrap();
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            s.get_ref().set_nodelay(true).unwrap();
            match kind {
                Kind::Echo => ex.spawn(echo_conn(s)).detach(),
                Kind::Hello => ex.spawn(hello_conn(s)).detach(),
            }
        }
    }))
}

// ── tokio (its own I/O traits, same shape) ──────────────────────────────────

fn tokio(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_conn(mut s: tokio::net::TcpStream) {
        let mut buf = vec![0u8; 4096];
        loop {
            let n = match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if s.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    async fn hello_conn(mut s: tokio::net::TcpStream) {
        let mut session = http::Session::new();
        let mut out = Vec::with_capacity(4096);
        loop {
            let n = match s.read(session.read_buf()).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let flow = session.process(n, &mut out);
            if !out.is_empty() {
                if s.write_all(&out).await.is_err() {
                    return;
                }
                out.clear();
            }
            if flow != http::Flow::Continue {
                return;
            }
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tx.send(listener.local_addr().unwrap()).unwrap();
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            s.set_nodelay(true).unwrap();
            match kind {
                Kind::Echo => drop(tokio::spawn(echo_conn(s))),
                Kind::Hello => drop(tokio::spawn(hello_conn(s))),
            }
        }
    })
}
