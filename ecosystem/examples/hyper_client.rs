//! hyper-util's pooled HTTP client on moduvex-runtime, talking to the
//! `axum` example.
//!
//! ```text
//! cargo run --manifest-path ecosystem/Cargo.toml --example axum          # one terminal
//! cargo run --manifest-path ecosystem/Cargo.toml --example hyper_client  # another
//! cargo run --manifest-path ecosystem/Cargo.toml --example hyper_client -- http://127.0.0.1:3000
//! ```
//!
//! `Client::builder(HyperExecutor::new()).build(Connector::new())` is
//! hyper-util's legacy `Client` with this runtime's executor and TCP
//! connector: it keeps idle connections in a pool and reuses them, so the
//! requests below mostly share one connection. It creates two to-do items,
//! lists them, fetches one and asks for one that does not exist.

use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use moduvex_runtime::hyper::{Connector, HyperExecutor, HyperTimer};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A pooled HTTP/1 and HTTP/2 client whose requests carry whole bodies.
pub type HttpClient = Client<Connector, Full<Bytes>>;

/// A client with this runtime's executor, connector and timer (the timer
/// lets the pool drop connections idle for too long).
pub fn client() -> HttpClient {
    Client::builder(HyperExecutor::new())
        .pool_timer(HyperTimer::new())
        .build(Connector::new())
}

/// Sends `request`; the answer's status and whole body.
pub async fn send(
    client: &HttpClient,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), Error> {
    let response = client.request(request).await?;
    let status = response.status();
    // Reading the body to its end is what returns the connection to the pool.
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Talks to the `axum` example at `base` (such as `http://127.0.0.1:3000`):
/// each request as `METHOD PATH -> STATUS BODY`.
pub async fn run(client: &HttpClient, base: &str) -> Result<Vec<String>, Error> {
    let mut transcript = Vec::new();
    for (method, path, body) in [
        ("POST", "/todos", r#"{"title":"buy milk"}"#),
        ("POST", "/todos", r#"{"title":"call Bob","done":true}"#),
        ("GET", "/todos", ""),
        ("GET", "/todos/1", ""),
        ("GET", "/todos/7", ""),
    ] {
        let uri: Uri = format!("{base}{path}").parse()?;
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let (status, body) = send(client, request).await?;
        let body = String::from_utf8_lossy(&body);
        transcript.push(format!("{method} {path} -> {} {body}", status.as_u16()));
    }
    Ok(transcript)
}

#[moduvex_runtime::main]
async fn main() -> Result<(), Error> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:3000".to_string());
    for line in run(&client(), &base).await? {
        println!("{line}");
    }
    Ok(())
}
