//! A WebSocket chat server with async-tungstenite on moduvex-runtime:
//! every message a client sends goes to every connected client.
//!
//! ```text
//! cargo run --manifest-path ecosystem/Cargo.toml --example websocket
//! websocat ws://127.0.0.1:9001   # in two or more other terminals
//! ```
//!
//! A client is greeted with `welcome, you are #N` once it is in the room;
//! from then on it receives `#M: TEXT` for each text message anyone sends
//! (itself included, so all clients see one order). The room is a
//! `moduvex_runtime::sync::broadcast` channel: each connection's task
//! forwards what its client sends into it and what it receives out to its
//! client. async-tungstenite runs on any futures-io stream, as this
//! runtime's `TcpStream` is. Ctrl-C stops accepting and exits.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;

use async_tungstenite::tungstenite::{Error as WsError, Message};
use futures_lite::StreamExt;
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::select;
use moduvex_runtime::sync::broadcast::{self, error::RecvError};

/// What goes around the room: who sent it, and the text.
type Said = (u64, String);

/// Messages a client may fall behind by before it misses some.
const BACKLOG: usize = 256;

/// Accepts chat clients on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    let (room, _) = broadcast::channel::<Said>(BACKLOG);
    let mut shutdown = pin!(shutdown);
    for id in 1.. {
        let (stream, peer) = select! {
            accepted = listener.accept() => accepted?,
            () = shutdown.as_mut() => break,
        };
        let room = room.clone();
        moduvex_runtime::spawn(async move {
            if let Err(e) = chat(stream, id, room).await {
                eprintln!("{peer} (#{id}): {e}");
            }
        });
    }
    Ok(())
}

/// One client, from the WebSocket handshake until it leaves.
async fn chat(stream: TcpStream, id: u64, room: broadcast::Sender<Said>) -> Result<(), WsError> {
    let ws = async_tungstenite::accept_async(stream).await?;
    let (mut to_client, mut from_client) = ws.split();
    // Subscribed before the greeting: a client that has been greeted
    // receives every message sent after that.
    let mut heard = room.subscribe();
    to_client
        .send(Message::text(format!("welcome, you are #{id}")))
        .await?;
    loop {
        select! {
            message = from_client.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    // No receiver at all cannot happen: we are one.
                    let _ = room.send((id, text.to_string()));
                }
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                // Pings are answered by tungstenite; binary is not chat.
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
            },
            said = heard.recv() => match said {
                Ok((from, text)) => to_client.send(Message::text(format!("#{from}: {text}"))).await?,
                Err(RecvError::Lagged(missed)) => {
                    to_client.send(Message::text(format!("(you missed {missed} messages)"))).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}

#[moduvex_runtime::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:9001").await?;
    let addr: SocketAddr = listener.local_addr()?;
    println!("chat on ws://{addr}");
    serve(listener, async {
        if let Err(e) = moduvex_runtime::signal::ctrl_c().await {
            eprintln!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    })
    .await
}
