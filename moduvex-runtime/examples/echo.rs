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
#[path = "common/serve.rs"]
mod serve;

use std::io;

use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::time::sleep;

fn main() -> io::Result<()> {
    serve::serve(
        "127.0.0.1:7000",
        |a| format!("echo listening on {a}"),
        accept_loop,
    )
}

async fn accept_loop(listener: TcpListener) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
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
