//! The `websocket` example: three chat clients each get every message,
//! the others' and their own, in one order; one leaves and the others go on.

mod examples_common;
#[allow(dead_code)] // the example's `main` is not called here
#[path = "../examples/websocket.rs"]
mod websocket;

use std::net::SocketAddr;

use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use examples_common::*;
use futures_lite::StreamExt;
use moduvex_runtime::net::TcpStream;

type Client = WebSocketStream<TcpStream>;

/// The next text message.
async fn next_text(client: &mut Client) -> String {
    loop {
        match client.next().await {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(_)) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Connects and waits for the greeting; the client and its `#N`.
async fn join(addr: SocketAddr) -> (Client, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut client, _) = async_tungstenite::client_async(format!("ws://{addr}/"), stream)
        .await
        .unwrap();
    let welcome = next_text(&mut client).await;
    let id = welcome
        .strip_prefix("welcome, you are ")
        .unwrap_or_else(|| panic!("greeting: {welcome:?}"))
        .to_string();
    (client, id)
}

#[test]
fn three_clients_each_get_every_message() {
    guard("websocket example", || {
        run(async {
            let server = Server::start(websocket::serve).await;
            let mut clients = Vec::new();
            for _ in 0..3 {
                clients.push(join(server.addr).await);
            }

            for (i, (client, _)) in clients.iter_mut().enumerate() {
                client
                    .send(Message::text(format!("hello from client {i}")))
                    .await
                    .unwrap();
            }
            let mut want: Vec<String> = clients
                .iter()
                .enumerate()
                .map(|(i, (_, id))| format!("{id}: hello from client {i}"))
                .collect();
            want.sort();
            let mut transcripts = Vec::new();
            for (client, id) in &mut clients {
                let mut got = Vec::new();
                for _ in 0..3 {
                    got.push(next_text(client).await);
                }
                let mut sorted = got.clone();
                sorted.sort();
                assert_eq!(sorted, want, "client {id}");
                transcripts.push(got);
            }
            // One room, one order.
            assert_eq!(transcripts[0], transcripts[1]);
            assert_eq!(transcripts[1], transcripts[2]);

            // The first leaves; the others still hear each other.
            let (mut first, _) = clients.remove(0);
            first.close(None).await.unwrap();
            let (second, second_id) = &mut clients[0];
            second.send(Message::text("still here?")).await.unwrap();
            let heard = format!("{second_id}: still here?");
            for (client, id) in &mut clients {
                assert_eq!(next_text(client).await, heard, "client {id}");
            }

            server.stop().await;
        })
    });
}
