//! Echo client: sends lines to the echo server and prints each reply.
//!
//! ```text
//! cargo run --release --example echo &
//! cargo run --release --example client -- --addr 127.0.0.1:7000 hello world
//! printf 'one\ntwo\n' | cargo run --release --example client
//! ```
//!
//! The lines are the positional arguments, or else standard input's lines.
//! Standard input is read on a helper thread (it blocks) and handed to the
//! connection task through a channel.

#[path = "common/args.rs"]
mod args;

use std::io::{self, BufRead};

use moduvex_runtime::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use moduvex_runtime::net::TcpStream;
use moduvex_runtime::sync::mpsc;

fn main() -> io::Result<()> {
    let addr = args::addr("127.0.0.1:7000");
    let words = args::positional();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    if words.is_empty() {
        std::thread::spawn(move || {
            for line in io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    } else {
        for w in words {
            let _ = tx.send(w);
        }
        drop(tx);
    }
    moduvex_runtime::block_on(async move {
        let stream = TcpStream::connect(&addr).await?;
        stream.set_nodelay(true)?;
        let (rd, mut wr) = stream.into_split();
        let mut replies = BufReader::new(rd);
        let mut reply = String::new();
        while let Some(line) = rx.recv().await {
            wr.write_all(format!("{line}\n").as_bytes()).await?;
            reply.clear();
            if replies.read_line(&mut reply).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed",
                ));
            }
            print!("{reply}");
        }
        Ok(())
    })
}
