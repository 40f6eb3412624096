//! The echo and hello servers, one per runtime, same code shape.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{mpsc, Mutex};

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use moduvex_runtime::Flavor;

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

/// How many threads serve.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// A current-thread runtime on one thread, pinned to `cpu` if given.
    Current { cpu: Option<usize> },
    /// `workers` worker threads: moduvex with `flavor` (thread-per-core:
    /// one `SO_REUSEPORT` listener per worker; work-stealing: one listener
    /// in a task), tokio `new_multi_thread`, smol one `Executor` run by
    /// `workers` threads (one listener in a task).
    Multi { workers: usize, flavor: Flavor },
}

/// Starts a server and returns its loopback address once it is listening.
/// The server lives until the process exits.
pub fn start(rt: Runtime, kind: Kind, mode: Mode) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    let name = format!("{rt:?}-{kind:?}-server").to_lowercase();
    std::thread::Builder::new()
        .name(name)
        .spawn(move || match (rt, mode) {
            (_, Mode::Current { cpu }) => {
                if let Some(cpu) = cpu {
                    super::pin_to_cpu(cpu);
                }
                match rt {
                    Runtime::Moduvex => moduvex(kind, tx),
                    Runtime::Tokio => tokio(kind, tx),
                    Runtime::Smol => smol(kind, tx),
                }
            }
            (Runtime::Moduvex, Mode::Multi { workers, flavor }) => {
                moduvex_multi(kind, workers, flavor, tx)
            }
            (Runtime::Tokio, Mode::Multi { workers, .. }) => tokio_multi(kind, workers, tx),
            (Runtime::Smol, Mode::Multi { workers, .. }) => smol_multi(kind, workers, tx),
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

/// moduvex's connection task for `kind`.
fn moduvex_conn(kind: Kind, s: moduvex_runtime::net::TcpStream) -> impl Future<Output = ()> {
    s.set_nodelay(true).unwrap();
    async move {
        match kind {
            Kind::Echo => echo_conn(s).await,
            Kind::Hello => hello_conn(s).await,
        }
    }
}

/// moduvex's accept loop: one task per connection.
async fn moduvex_accept(kind: Kind, listener: moduvex_runtime::net::TcpListener) {
    loop {
        let Ok((s, _)) = listener.accept().await else {
            continue;
        };
        drop(moduvex_runtime::spawn(moduvex_conn(kind, s)));
    }
}

fn moduvex(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    use moduvex_runtime::net::TcpListener;
    moduvex_runtime::block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        tx.send(listener.local_addr().unwrap()).unwrap();
        moduvex_accept(kind, listener).await
    })
}

fn moduvex_multi(kind: Kind, workers: usize, flavor: Flavor, tx: mpsc::Sender<SocketAddr>) {
    use moduvex_runtime::net::TcpListener;
    let rt = moduvex_runtime::Runtime::builder()
        .flavor(flavor)
        .worker_threads(workers)
        .build()
        .unwrap();
    let loops = match flavor {
        Flavor::ThreadPerCore => {
            // One SO_REUSEPORT listener per worker, each wrapped (and so
            // registered) on the worker whose accept loop uses it.
            let listeners =
                TcpListener::bind_reuseport(([127, 0, 0, 1], 0).into(), workers).unwrap();
            tx.send(listeners[0].local_addr().unwrap()).unwrap();
            let listeners = Mutex::new(listeners);
            rt.handle().spawn_on_each_worker(|_| {
                let l = listeners.lock().unwrap().pop().unwrap();
                async move { moduvex_accept(kind, TcpListener::from_std(l).unwrap()).await }
            })
        }
        _ => vec![rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            moduvex_accept(kind, listener).await
        })],
    };
    for l in loops {
        let _ = rt.block_on(l);
    }
}

/// smol's accept loop on `ex`: one task per connection.
async fn smol_accept(
    kind: Kind,
    tx: mpsc::Sender<SocketAddr>,
    spawn: impl Fn(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
) {
    let listener = smol::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
    tx.send(listener.get_ref().local_addr().unwrap()).unwrap();
    loop {
        let Ok((s, _)) = listener.accept().await else {
            continue;
        };
        s.get_ref().set_nodelay(true).unwrap();
        match kind {
            Kind::Echo => spawn(Box::pin(echo_conn(s))),
            Kind::Hello => spawn(Box::pin(hello_conn(s))),
        }
    }
}

fn smol(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    let ex = Rc::new(async_executor::LocalExecutor::new());
    let spawner = ex.clone();
    smol::block_on(ex.run(smol_accept(kind, tx, move |f| spawner.spawn(f).detach())))
}

fn smol_multi(kind: Kind, workers: usize, tx: mpsc::Sender<SocketAddr>) {
    let ex: &'static async_executor::Executor<'static> =
        Box::leak(Box::new(async_executor::Executor::new()));
    for i in 1..workers {
        std::thread::Builder::new()
            .name(format!("smol-worker-{i}"))
            .spawn(move || smol::block_on(ex.run(std::future::pending::<()>())))
            .expect("spawn smol worker");
    }
    smol::block_on(ex.run(smol_accept(kind, tx, move |f| ex.spawn(f).detach())))
}

// ── tokio (its own I/O traits, same shape) ──────────────────────────────────

async fn tokio_echo_conn(mut s: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

async fn tokio_hello_conn(mut s: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

async fn tokio_accept(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tx.send(listener.local_addr().unwrap()).unwrap();
    loop {
        let Ok((s, _)) = listener.accept().await else {
            continue;
        };
        s.set_nodelay(true).unwrap();
        match kind {
            Kind::Echo => drop(tokio::spawn(tokio_echo_conn(s))),
            Kind::Hello => drop(tokio::spawn(tokio_hello_conn(s))),
        }
    }
}

fn tokio(kind: Kind, tx: mpsc::Sender<SocketAddr>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(tokio_accept(kind, tx))
}

fn tokio_multi(kind: Kind, workers: usize, tx: mpsc::Sender<SocketAddr>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    let _ = rt.block_on(rt.spawn(tokio_accept(kind, tx)));
}
