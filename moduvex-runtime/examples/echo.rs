//! TCP echo server: every byte a client sends comes back.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:7000
//! cargo run --release --example echo -- --threads 2   # one listener per worker
//! ```
//!
//! Each connection is a task; the accept loop backs off for 50 ms when the
//! process runs out of descriptors instead of spinning, and resumes once
//! some are free. With `--threads N` the server runs on a thread-per-core
//! runtime: each worker accepts on its own `SO_REUSEPORT` listener and
//! keeps its connections, with no shared accept queue.

#[path = "common/args.rs"]
mod args;

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;

use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::time::sleep;
use moduvex_runtime::{Flavor, Runtime};

fn main() -> io::Result<()> {
    let addr = args::addr("127.0.0.1:7000");
    let Some(threads) = args::threads() else {
        return moduvex_runtime::block_on(async move {
            let listener = TcpListener::bind(&addr).await?;
            println!("echo listening on {}", listener.local_addr()?);
            accept_loop(listener).await
        });
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("--addr {addr}: {e}")))?;
    let rt = Runtime::builder()
        .flavor(Flavor::ThreadPerCore)
        .worker_threads(threads)
        .build()?;
    let listeners = TcpListener::bind_reuseport(addr, threads)?;
    println!(
        "echo listening on {} ({threads} workers)",
        listeners[0].local_addr()?
    );
    let listeners = Mutex::new(listeners);
    let loops = rt.handle().spawn_on_each_worker(|_| {
        let listener = listeners
            .lock()
            .unwrap()
            .pop()
            .expect("one listener per worker");
        async move { accept_loop(TcpListener::from_std(listener)?).await }
    });
    for l in loops {
        rt.block_on(l).map_err(io::Error::from)??;
    }
    Ok(())
}

async fn accept_loop(listener: TcpListener) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                moduvex_runtime::spawn(echo(stream));
            }
            Err(e) => {
                if !args::is_exhaustion(&e) {
                    eprintln!("accept: {e}");
                }
                sleep(args::ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
