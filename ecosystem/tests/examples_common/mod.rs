//! How the examples are run by tests: each `examples/NAME.rs` keeps its
//! work in a `pub` function (its `main` only reads the command line, binds
//! and calls it), and `tests/example_NAME.rs` compiles the example file
//! into the test with
//!
//! ```ignore
//! #[path = "../examples/NAME.rs"]
//! #[allow(dead_code)] // the example's `main`
//! mod example;
//! ```
//!
//! then calls that function under [`guard`]. No `cargo run` inside a test
//! (slow, and a second build of the crate), no binary path needed.
//!
//! - A self-contained example exposes `run(..)` and the test checks what
//!   it returns.
//! - A server exposes `serve(listener, shutdown) -> io::Result<()>`,
//!   serving until the `shutdown` future completes; the test starts it
//!   with [`Server::start`] on a `127.0.0.1:0` listener, talks to
//!   [`Server::addr`], and ends with [`Server::stop`]:
//!
//! ```ignore
//! guard("axum example", || run(async {
//!     let server = Server::start(example::serve).await;
//!     // ... requests to server.addr ...
//!     server.stop().await; // the signal, then serve's return: Ok
//! }));
//! ```
//!
//! - A client exposes the function its `main` runs against an address,
//!   and the test calls it against a server started as above.
//!
//! The `hyper_common` helpers (the hang [`guard`], a two-worker [`run`],
//! hyper clients over our sockets) come along.
#![allow(dead_code)]

#[path = "../hyper_common/mod.rs"]
mod hyper_common;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

pub use hyper_common::*;
use moduvex_runtime::net::TcpListener;
use moduvex_runtime::sync::oneshot;
use moduvex_runtime::JoinHandle;

/// The shutdown signal a test hands an example's `serve`: completes on
/// [`Server::stop`] (or when the `Server` is dropped).
pub type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An example's server, running in a task of the current runtime.
pub struct Server {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl Server {
    /// Binds `127.0.0.1:0` and spawns `serve(listener, stop)`.
    pub async fn start<F, Fut>(serve: F) -> Server
    where
        F: FnOnce(TcpListener, Stop) -> Fut,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let signal: Stop = Box::pin(async move {
            let _ = stopped.await;
        });
        let task = moduvex_runtime::spawn(serve(listener, signal));
        Server { addr, stop, task }
    }

    /// Sends the shutdown signal and waits for `serve` to return `Ok`.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the server task panicked")
            .expect("serve failed");
    }
}
