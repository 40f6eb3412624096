//! Line-based chat: every line a client sends is broadcast to every other
//! client, prefixed with the sender's address.
//!
//! ```text
//! cargo run --release --example chat -- --addr 127.0.0.1:7001
//! nc 127.0.0.1 7001   # in two or more terminals
//! ```
//!
//! One `sync::broadcast` channel carries the messages; each connection runs
//! a reader (its lines into the channel) and a writer (the channel onto its
//! socket) on the two owned halves of its stream, so a slow reader never
//! blocks a fast writer. A client that falls too far behind is told how
//! many messages it missed.

#[path = "common/args.rs"]
mod args;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use moduvex_runtime::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::sync::broadcast::{self, error::RecvError};
use moduvex_runtime::time::sleep;

/// A chat line and who sent it.
type Message = (SocketAddr, Arc<str>);

/// Longest line accepted; longer ones end the connection.
const MAX_LINE: usize = 4096;

fn main() -> io::Result<()> {
    let addr = args::addr("127.0.0.1:7001");
    moduvex_runtime::block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("chat listening on {}", listener.local_addr()?);
        let (tx, _) = broadcast::channel::<Message>(256);
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let tx = tx.clone();
                    moduvex_runtime::spawn(client(stream, peer, tx));
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

async fn client(stream: TcpStream, peer: SocketAddr, tx: broadcast::Sender<Message>) {
    let mut rx = tx.subscribe();
    let (rd, mut wr) = stream.into_split();
    let _ = tx.send((peer, format!("* {peer} joined\n").into()));
    let writer = moduvex_runtime::spawn(async move {
        loop {
            let line = match rx.recv().await {
                Ok((from, _)) if from == peer => continue,
                Ok((_, line)) => line,
                Err(RecvError::Lagged(n)) => format!("* you missed {n} messages\n").into(),
                Err(RecvError::Closed) => return,
            };
            if wr.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut lines = BufReader::new(rd);
    let mut line = String::new();
    loop {
        line.clear();
        match (&mut lines)
            .take(MAX_LINE as u64)
            .read_line(&mut line)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) if !line.ends_with('\n') => break, // too long, or EOF mid-line
            Ok(_) => {
                let _ = tx.send((peer, format!("{peer}: {line}").into()));
            }
        }
    }
    let _ = tx.send((peer, format!("* {peer} left\n").into()));
    writer.abort();
}
