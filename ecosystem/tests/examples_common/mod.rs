//! Running an example from `examples/` in a test.
//!
//! The pattern: an example file puts its work in a function that its
//! `main` calls — a server exposes
//! `serve(listener, shutdown) -> io::Result<()>`, which serves until the
//! `shutdown` future completes — and a test includes the file as a module
//! and calls that function itself, on a port-0 listener with a signal of
//! its own:
//!
//! ```ignore
//! #[allow(dead_code)] // the example's `main` is not called here
//! #[path = "../examples/axum.rs"]
//! mod axum_example;
//!
//! mod examples_common;
//! use examples_common::*;
//!
//! #[test]
//! fn it_answers() {
//!     guard("axum example", || run(async {
//!         let server = Server::start(|listener, stop| axum_example::serve(listener, stop)).await;
//!         // ... requests to server.addr ...
//!         server.stop().await; // the signal, then serve's return: Ok
//!     }));
//! }
//! ```
//!
//! The `hyper_common` helpers (the hang `guard`, the runtime `run`, hyper
//! clients) come along. A client example exposes the function its `main` runs against an
//! address, and the test calls it against a server started as above.
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
