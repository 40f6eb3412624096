//! An axum JSON API with shared state and a WebSocket echo route, served
//! by moduvex-runtime.
//!
//! ```text
//! cargo run --manifest-path ecosystem/Cargo.toml --example axum
//! curl -H 'content-type: application/json' -d '{"title":"buy milk"}' http://127.0.0.1:3000/todos
//! curl http://127.0.0.1:3000/todos
//! curl http://127.0.0.1:3000/todos/1
//! websocat ws://127.0.0.1:3000/ws
//! ```
//!
//! A to-do list kept in memory and shared by every request:
//! - `GET /todos` lists them;
//! - `POST /todos` creates one from a JSON body such as
//!   `{"title": "buy milk"}` and answers it with `201 Created`; malformed
//!   JSON gets `400`, JSON of the wrong shape `422`, a body that is not
//!   `application/json` `415` (axum's `Json` rejections);
//! - `GET /todos/{id}` answers one, or `404`;
//! - `GET /ws` upgrades to a WebSocket that echoes every text and binary
//!   message.
//!
//! The server is [`moduvex_runtime::hyper::serve`], which takes the axum
//! `Router` as it is. axum's `WebSocketUpgrade` runs the socket in a task
//! it starts with `tokio::spawn`: the runtime's `tokio-compat` feature
//! makes that work inside a moduvex runtime. Ctrl-C shuts the server down
//! gracefully: it stops accepting, lets requests in flight finish, and
//! returns (an upgraded WebSocket is no longer a request: it is not waited
//! for).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use moduvex_runtime::hyper::Listener;
use moduvex_runtime::net::TcpListener;
use serde::{Deserialize, Serialize};

/// A to-do item, as the API answers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Todo {
    pub id: u64,
    pub title: String,
    pub done: bool,
}

/// The body of `POST /todos`.
#[derive(Deserialize)]
pub struct NewTodo {
    pub title: String,
    #[serde(default)]
    pub done: bool,
}

/// The state every handler shares: the items by id. A std `Mutex` is
/// right here, as it is held only for a moment and never across an
/// `.await`.
#[derive(Clone, Default)]
pub struct Todos(Arc<Mutex<BTreeMap<u64, Todo>>>);

/// The routes, with a fresh, empty list.
pub fn app() -> Router {
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/todos/{id}", get(fetch))
        .route("/ws", get(websocket))
        .with_state(Todos::default())
}

async fn list(State(todos): State<Todos>) -> Json<Vec<Todo>> {
    Json(todos.0.lock().unwrap().values().cloned().collect())
}

async fn create(State(todos): State<Todos>, Json(new): Json<NewTodo>) -> (StatusCode, Json<Todo>) {
    let mut todos = todos.0.lock().unwrap();
    let id = todos.keys().next_back().map_or(1, |last| last + 1);
    let todo = Todo {
        id,
        title: new.title,
        done: new.done,
    };
    todos.insert(id, todo.clone());
    (StatusCode::CREATED, Json(todo))
}

async fn fetch(State(todos): State<Todos>, Path(id): Path<u64>) -> Result<Json<Todo>, StatusCode> {
    let todo = todos.0.lock().unwrap().get(&id).cloned();
    todo.map(Json).ok_or(StatusCode::NOT_FOUND)
}

async fn websocket(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(echo)
}

/// Sends every text and binary message back, until the client closes.
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        // Pings are answered by axum; so is a close, after which the next
        // `recv` ends the loop.
        if let Message::Text(_) | Message::Binary(_) = message {
            if socket.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// Serves [`app`] on `listener` (a `TcpListener`, or any other
/// [`Listener`]) until `shutdown` completes and the requests in flight are
/// done.
pub async fn serve<L: Listener>(
    listener: L,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    moduvex_runtime::hyper::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
}

#[moduvex_runtime::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, async {
        if let Err(e) = moduvex_runtime::signal::ctrl_c().await {
            eprintln!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
        println!("Ctrl-C: finishing the requests in flight");
    })
    .await
}
