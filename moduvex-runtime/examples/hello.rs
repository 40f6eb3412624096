//! HTTP/1.1 keep-alive server answering "Hello, world!" to every request.
//!
//! ```text
//! cargo run --release --example hello -- --addr 127.0.0.1:8080
//! cargo run --release --example hello -- --threads 2   # one listener per worker
//! curl http://127.0.0.1:8080/
//! ```
//!
//! HTTP/1.0 requests keep the connection only when they ask with
//! `Connection: keep-alive` (as `ab -k` does), and the answer says so.
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
#[path = "common/serve.rs"]
mod serve;

use std::io;

use moduvex_runtime::net::TcpListener;
use moduvex_runtime::time::sleep;

fn main() -> io::Result<()> {
    serve::serve(
        "127.0.0.1:8080",
        |a| format!("listening on http://{a}"),
        accept_loop,
    )
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
