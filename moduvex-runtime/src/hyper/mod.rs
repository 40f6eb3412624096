//! hyper 1.x and hyper-util on this runtime (feature `hyper`).
//!
//! The one idea: hyper needs four things from a runtime — I/O, a way to
//! spawn, timers and a server loop — and each is one small type here:
//! [`HyperIo`] (hyper-util's `TokioIo`), [`HyperExecutor`]
//! (`TokioExecutor`), [`HyperTimer`] (`TokioTimer`), and [`serve`] (axum's
//! `serve`: HTTP/1 and HTTP/2, graceful shutdown, hostile-client
//! defaults). [`Connector`] gives hyper-util's pooled client its TCP
//! connections.
//!
//! No tokio runtime is involved: hyper-util's `client-legacy` feature
//! compiles tokio's `net` and `sync` types, and h2 tokio's `io-util`, but
//! nothing here starts or needs a tokio reactor or timer.
//!
//! # Examples
//!
//! An axum `Router` (or any tower service) served with graceful shutdown:
//!
//! ```
//! use axum::{routing::get, Router};
//! use http_body_util::{BodyExt, Empty};
//! use hyper::body::Bytes;
//! use hyper_util::client::legacy::Client;
//! use moduvex_runtime::hyper::{serve, Connector, HyperExecutor};
//! use moduvex_runtime::net::TcpListener;
//!
//! moduvex_runtime::block_on(async {
//!     let app = Router::new().route("/", get(|| async { "hello" }));
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let (stop, stopped) = moduvex_runtime::sync::oneshot::channel::<()>();
//!     let server = moduvex_runtime::spawn(
//!         serve(listener, app)
//!             .with_graceful_shutdown(async move { let _ = stopped.await; })
//!             .with_shutdown_timeout(std::time::Duration::from_secs(10)),
//!     );
//!
//!     let client = Client::builder(HyperExecutor::new()).build::<_, Empty<Bytes>>(Connector::new());
//!     let resp = client.get(format!("http://{addr}/").parse()?).await?;
//!     assert_eq!(resp.into_body().collect().await?.to_bytes(), "hello");
//!     drop(client); // its pooled keep-alive connection would be closed anyway
//!
//!     stop.send(()).unwrap();
//!     server.await??; // every connection is done
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! }).unwrap();
//! ```

mod body;
mod connect_info;
mod connector;
mod executor;
mod first_read;
mod io;
mod listener;
mod serve;
mod service;
mod timer;

pub use connect_info::ConnectInfo;
pub use connector::{Connector, DEFAULT_CONNECT_TIMEOUT};
pub use executor::HyperExecutor;
pub use io::HyperIo;
pub use listener::Listener;
pub use serve::{serve, Serve, DEFAULT_HEADER_READ_TIMEOUT};
pub use timer::HyperTimer;
