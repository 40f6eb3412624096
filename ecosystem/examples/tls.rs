//! A TLS echo server and client with futures-rustls on moduvex-runtime,
//! with a self-signed certificate made by rcgen at start-up.
//!
//! ```text
//! cargo run --manifest-path ecosystem/Cargo.toml --example tls
//! cargo run --manifest-path ecosystem/Cargo.toml --example tls -- "some message"
//! ```
//!
//! The server echoes every byte back over TLS 1.3 until the client closes.
//! The client trusts exactly the certificate made for `localhost` (no
//! system roots), sends its message, closes its side (TLS `close_notify`)
//! while it reads the echo to the end, and prints it. futures-rustls works
//! on any futures-io stream, as this runtime's `TcpStream` is; rustls runs
//! on the `ring` crypto provider.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;

use futures_lite::future;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use futures_rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use moduvex_runtime::net::{TcpListener, TcpStream};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The name the certificate is made for, and the client checks.
pub const SERVER_NAME: &str = "localhost";

/// A fresh self-signed certificate for [`SERVER_NAME`]: the server's
/// acceptor presenting it, and a client connector trusting only it.
pub fn self_signed() -> Result<(TlsAcceptor, TlsConnector), Error> {
    let made = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_string()])?;
    let cert = made.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    // The provider is named, not left to rustls to choose, so that another
    // crate turning on another provider cannot make the choice ambiguous.
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())?;
    let mut roots = RootCertStore::empty();
    roots.add(cert)?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    ))
}

/// Accepts TLS connections on `listener` and echoes each, until `shutdown`
/// completes.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = moduvex_runtime::select! {
            accepted = listener.accept() => accepted?,
            () = shutdown.as_mut() => return Ok(()),
        };
        let acceptor = acceptor.clone();
        moduvex_runtime::spawn(async move {
            if let Err(e) = echo(acceptor, stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// One connection: the TLS handshake, then every byte back, then
/// `close_notify`.
async fn echo(acceptor: TlsAcceptor, stream: TcpStream) -> io::Result<()> {
    let tls = acceptor.accept(stream).await?;
    let (reader, mut writer) = futures_lite::io::split(tls);
    futures_lite::io::copy(reader, &mut writer).await?;
    writer.close().await
}

/// Connects to the echo server at `addr`, sends `message`, and returns
/// everything that came back.
pub async fn round_trip(
    connector: &TlsConnector,
    addr: SocketAddr,
    message: &[u8],
) -> io::Result<Vec<u8>> {
    let stream = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(SERVER_NAME).expect("a valid DNS name");
    let tls = connector.connect(name, stream).await?;
    let (mut reader, mut writer) = futures_lite::io::split(tls);
    // Writing and reading at once: the server echoes while it reads, and a
    // large message would fill both directions' buffers otherwise.
    let send = async {
        writer.write_all(message).await?;
        writer.close().await
    };
    let receive = async {
        let mut echoed = Vec::with_capacity(message.len());
        reader.read_to_end(&mut echoed).await?;
        Ok(echoed)
    };
    let ((), echoed) = future::try_zip(send, receive).await?;
    Ok(echoed)
}

#[moduvex_runtime::main]
async fn main() -> Result<(), Error> {
    let message = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "hello over TLS".to_string());
    let (acceptor, connector) = self_signed()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("TLS echo server on {addr}");
    let (stop, stopped) = moduvex_runtime::sync::oneshot::channel::<()>();
    let server = moduvex_runtime::spawn(serve(listener, acceptor, async move {
        let _ = stopped.await;
    }));

    let echoed = round_trip(&connector, addr, message.as_bytes()).await?;
    println!("echoed: {}", String::from_utf8_lossy(&echoed));
    let _ = stop.send(());
    server.await??;
    Ok(())
}
