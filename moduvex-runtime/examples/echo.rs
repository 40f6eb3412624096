//! TCP echo server: every byte a client sends comes back.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:7000
//! ```
//!
//! Each connection is a task; the accept loop backs off for 50 ms when the
//! process runs out of descriptors instead of spinning, and resumes once
//! some are free.

#[path = "common/args.rs"]
mod args;

use std::io;

use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::time::sleep;

fn main() -> io::Result<()> {
    let addr = args::addr("127.0.0.1:7000");
    moduvex_runtime::block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("echo listening on {}", listener.local_addr()?);
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
    })
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
