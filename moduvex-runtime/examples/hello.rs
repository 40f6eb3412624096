//! HTTP/1.1 keep-alive server answering "Hello, world!" to every request.
//!
//! ```text
//! cargo run --release --example hello -- --addr 127.0.0.1:8080
//! curl http://127.0.0.1:8080/
//! ```
//!
//! Pipelined requests are answered in order; garbage gets a 400, an
//! oversized request a 431 or 413, and the connection is closed after
//! either. A connection buffers at most 8 KiB, and a client that takes too
//! long to send a request (slowloris) is dropped. The request framing lives
//! in `common/http.rs`, shared with the tests and the benchmark.

#[path = "common/args.rs"]
mod args;
#[path = "common/http.rs"]
mod http;

use std::io;

use moduvex_runtime::net::TcpListener;
use moduvex_runtime::time::sleep;

fn main() -> io::Result<()> {
    let addr = args::addr("127.0.0.1:8080");
    moduvex_runtime::block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
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
    })
}
