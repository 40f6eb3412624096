//! reqwest inside a moduvex runtime, unchanged: `reqwest::get(url).await`
//! in a moduvex task, with the runtime's feature `tokio-compat` on.
//!
//! ```sh
//! # Fetches from a server it starts itself (moduvex_runtime::hyper::serve):
//! cargo run --manifest-path ecosystem/Cargo.toml --example reqwest
//! # Or from a URL (plain http: this build of reqwest has no TLS):
//! cargo run --manifest-path ecosystem/Cargo.toml --example reqwest -- http://127.0.0.1:8080/
//! ```
//!
//! Prints the status, then the body.

use axum::routing::get;
use axum::Router;
use moduvex_runtime::hyper::serve;
use moduvex_runtime::net::TcpListener;

/// Any error of the example.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the local server answers on `/`.
pub const GREETING: &str = "Hello from moduvex-runtime, fetched by reqwest";

/// Fetches `url` (or `/` of a local server started for the purpose) and
/// returns the status code and the body.
pub fn run(url: Option<String>) -> Result<(u16, String), Error> {
    let rt = moduvex_runtime::Runtime::new()?;
    rt.block_on(async move {
        let Some(url) = url else {
            return fetch_from_local_server().await;
        };
        fetch(&url).await
    })
}

/// The part of the example that is the point: reqwest as on tokio.
async fn fetch(url: &str) -> Result<(u16, String), Error> {
    let response = reqwest::get(url).await?;
    let status = response.status().as_u16();
    let body = response.text().await?;
    Ok((status, body))
}

/// Serves [`GREETING`] on a local port, fetches it, and stops the server.
async fn fetch_from_local_server() -> Result<(u16, String), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/", get(|| async { GREETING }));
    let (stop, stopped) = moduvex_runtime::sync::oneshot::channel::<()>();
    let server = moduvex_runtime::spawn(serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.await;
    }));
    let fetched = fetch(&format!("http://{addr}/")).await;
    let _ = stop.send(());
    server.await??;
    fetched
}

fn main() {
    match run(std::env::args().nth(1)) {
        Ok((status, body)) => {
            println!("status: {status}");
            println!("{body}");
        }
        Err(e) => {
            eprintln!("reqwest example: {e}");
            std::process::exit(1);
        }
    }
}
