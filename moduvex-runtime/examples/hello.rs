//! HTTP/1.1 keep-alive server answering "Hello, world!" to every request.
//!
//! ```text
//! cargo run --release --example hello -- --addr 127.0.0.1:8080
//! cargo run --release --example hello -- --threads 2   # one listener per worker
//! curl http://127.0.0.1:8080/
//! ```
//!
//! Pipelined requests are answered in order; garbage gets a 400, an
//! oversized request a 431 or 413, and the connection is closed after
//! either. A connection buffers at most 8 KiB, and a client that takes too
//! long to send a request (slowloris) is dropped. The request framing lives
//! in `common/http.rs`, shared with the tests and the benchmark. With
//! `--threads N` each worker of a thread-per-core runtime accepts on its
//! own `SO_REUSEPORT` listener.

#[path = "common/args.rs"]
mod args;
#[path = "common/http.rs"]
mod http;

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;

use moduvex_runtime::net::TcpListener;
use moduvex_runtime::time::sleep;
use moduvex_runtime::{Flavor, Runtime};

fn main() -> io::Result<()> {
    let addr = args::addr("127.0.0.1:8080");
    let Some(threads) = args::threads() else {
        return moduvex_runtime::block_on(async move {
            let listener = TcpListener::bind(&addr).await?;
            println!("listening on http://{}", listener.local_addr()?);
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
        "listening on http://{} ({threads} workers)",
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
                let _ = stream.set_nodelay(true);
                moduvex_runtime::spawn(async move {
                    let _ = http::serve(stream, http::Limits::default()).await;
                });
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
