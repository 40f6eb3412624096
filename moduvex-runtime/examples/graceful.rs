//! A line-echo TCP server that shuts down gracefully on SIGTERM or Ctrl-C.
//!
//! ```text
//! cargo run --example graceful -- --addr 127.0.0.1:7000 --grace 10
//! ```
//!
//! Every line a client sends is echoed back. On the first SIGTERM or
//! SIGINT the server stops accepting (the listening socket is closed, once
//! the connections already queued in it are taken), lets each open
//! connection finish the request it is receiving, answering or has sent
//! (data already in the socket counts), closes idle connections, and waits up to `--grace` seconds
//! for that; connections still busy then are dropped. A second signal
//! drops them at once. The process then exits 0.
//!
//! The first line on stdout is `listening on ADDR`; the rest is a log.
//! `--addr` defaults to `127.0.0.1:7000` (use port 0 for any free port).

#[cfg(unix)]
use std::future::poll_fn;
#[cfg(unix)]
use std::io;
#[cfg(unix)]
use std::net::SocketAddr;
#[cfg(unix)]
use std::os::fd::AsFd;
#[cfg(unix)]
use std::task::Poll;
#[cfg(unix)]
use std::time::Duration;

#[cfg(unix)]
use moduvex_runtime::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
#[cfg(unix)]
use moduvex_runtime::net::{TcpListener, TcpStream};
#[cfg(unix)]
use moduvex_runtime::signal::unix::{signal, Signal, SignalKind};
#[cfg(unix)]
use moduvex_runtime::task::{CancellationToken, JoinSet};
#[cfg(unix)]
use moduvex_runtime::{select, time};

#[cfg(unix)]
/// What the command line chose.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub addr: String,
    /// How long open connections may take to finish after a signal.
    pub grace: Duration,
}

#[cfg(unix)]
/// Parses `--addr ADDR` and `--grace SECS`.
pub fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    let mut config = Config {
        addr: "127.0.0.1:7000".to_string(),
        grace: Duration::from_secs(10),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--addr" => config.addr = value("--addr")?,
            "--grace" => {
                let secs = value("--grace")?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("--grace takes seconds, got {secs:?}"))?;
                config.grace = Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("--grace must be a non-negative number, got {secs}"))?;
            }
            "-h" | "--help" => {
                return Err("usage: graceful [--addr HOST:PORT] [--grace SECONDS]".to_string())
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(config)
}

#[cfg(unix)]
#[moduvex_runtime::main(flavor = "current_thread")]
async fn main() {
    let config = parse_args(std::env::args().skip(1)).unwrap_or_else(|msg| {
        eprintln!("{msg}");
        std::process::exit(2);
    });
    if let Err(e) = serve(config).await {
        eprintln!("graceful: {e}");
        std::process::exit(1);
    }
}

#[cfg(unix)]
/// The first of `signals` to fire, by name.
fn poll_signals(
    signals: &mut [(&'static str, Signal)],
    cx: &mut std::task::Context<'_>,
) -> Poll<&'static str> {
    for (name, sig) in signals.iter_mut() {
        if sig.poll_recv(cx).is_ready() {
            return Poll::Ready(*name);
        }
    }
    Poll::Pending
}

#[cfg(unix)]
/// Waits for the first of `signals` (cancel-safe: no delivery is lost if
/// the future is dropped).
async fn next_signal(signals: &mut [(&'static str, Signal)]) -> &'static str {
    poll_fn(|cx| poll_signals(signals, cx)).await
}

#[cfg(unix)]
/// Runs the server until a signal, then shuts it down gracefully.
pub async fn serve(config: Config) -> io::Result<()> {
    // Listen for signals before anyone can learn our address and send one.
    let mut signals = [
        ("SIGTERM", signal(SignalKind::terminate())?),
        ("SIGINT", signal(SignalKind::interrupt())?),
    ];
    let listener = TcpListener::bind(config.addr.as_str()).await?;
    println!("listening on {}", listener.local_addr()?);

    let shutdown = CancellationToken::new();
    let mut connections = JoinSet::new();
    // Every branch is cancel-safe: whichever loses a round loses nothing.
    let first = loop {
        select! {
            biased;
            name = next_signal(&mut signals) => break name,
            // Reap finished connections so the set does not grow (with
            // none open, `None` disables this branch for the round).
            Some(done) = connections.join_next() => report(done),
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    println!("{peer}: connected");
                    connections.spawn(serve_connection(stream, peer, shutdown.clone()));
                }
                // A failed accept (say, out of descriptors) ends one
                // attempt, not the server.
                Err(e) => eprintln!("accept failed: {e}"),
            },
        }
    };

    shutdown.cancel();
    // Stop accepting, but first take the connections the kernel has already
    // queued (closing the listener would reset them, requests and all).
    // Their requests are answered: only idle connections end at shutdown.
    let listener = listener.into_std()?;
    while let Ok((stream, peer)) = listener.accept() {
        println!("{peer}: connected");
        connections.spawn(serve_connection(
            TcpStream::from_std(stream)?,
            peer,
            shutdown.clone(),
        ));
    }
    drop(listener);
    println!(
        "shutting down on {first}: {} connection(s) open, {:?} to finish",
        connections.len(),
        config.grace
    );
    let drain = async {
        while let Some(done) = connections.join_next().await {
            report(done);
        }
    };
    let outcome = time::timeout(config.grace, async {
        select! {
            () = drain => None,
            name = next_signal(&mut signals) => Some(name),
        }
    })
    .await;
    match outcome {
        Ok(None) => println!("all connections finished"),
        Ok(Some(name)) => println!(
            "second signal ({name}): dropping {} connection(s)",
            connections.len()
        ),
        Err(_) => println!(
            "grace period over: dropping {} connection(s)",
            connections.len()
        ),
    }
    connections.shutdown().await;
    println!("bye");
    Ok(())
}

#[cfg(unix)]
fn report(done: Result<io::Result<()>, moduvex_runtime::JoinError>) {
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("connection failed: {e}"),
        Err(e) => eprintln!("connection task failed: {e}"),
    }
}

#[cfg(unix)]
/// Echoes lines until the client closes, or until shutdown finds the
/// connection between two requests.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    loop {
        // Between requests a shutdown ends the connection; once a request
        // has begun to arrive it is finished first, even one that is still
        // in the socket's buffer (closing over unread data would reset the
        // connection, losing the answer).
        let read = select! {
            biased;
            ready = reader.fill_buf() => Some(ready?.is_empty()),
            () = shutdown.cancelled() => None,
        };
        let eof = match read {
            Some(eof) => eof,
            None if request_waiting(&stream) => reader.fill_buf().await?.is_empty(),
            None => {
                println!("{peer}: closed by shutdown");
                return Ok(());
            }
        };
        if eof {
            println!("{peer}: disconnected");
            return Ok(());
        }
        println!("{peer}: request started");
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        writer.write_all(line.as_bytes()).await?;
        println!("{peer}: answered");
        if !line.ends_with('\n') {
            // The client closed in the middle of a line.
            return Ok(());
        }
    }
}

#[cfg(unix)]
/// Whether the client has sent bytes not read yet, asked of the kernel: a
/// request that arrived just before the shutdown may not have reached the
/// runtime's readiness yet. (Peeks through a duplicate of the descriptor;
/// it is non-blocking, as the stream's.)
fn request_waiting(stream: &TcpStream) -> bool {
    let Ok(fd) = stream.as_fd().try_clone_to_owned() else {
        return false;
    };
    matches!(std::net::TcpStream::from(fd).peek(&mut [0]), Ok(n) if n > 0)
}

/// The example waits for SIGTERM and SIGHUP, which Windows does not have.
#[cfg(not(unix))]
fn main() {
    eprintln!("the graceful example uses Unix signals (SIGTERM, SIGHUP): run it on Unix");
}
