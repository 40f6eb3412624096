//! Running an accept loop: on one thread, or with `--threads N` on a
//! thread-per-core runtime with one `SO_REUSEPORT` listener per worker.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;

use moduvex_runtime::net::TcpListener;
use moduvex_runtime::{Flavor, Runtime};

use crate::args;

/// Binds `--addr` (or `default_addr`), prints `banner(local_addr)` and
/// runs `accept_loop` until it fails.
pub fn serve<L, F>(
    default_addr: &str,
    banner: fn(SocketAddr) -> String,
    accept_loop: L,
) -> io::Result<()>
where
    L: Fn(TcpListener) -> F + Copy + Send + 'static,
    F: Future<Output = io::Result<()>> + Send + 'static,
{
    let addr = args::addr(default_addr);
    let Some(threads) = args::threads() else {
        return moduvex_runtime::block_on(async move {
            let listener = TcpListener::bind(&addr).await?;
            println!("{}", banner(listener.local_addr()?));
            accept_loop(listener).await
        });
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("--addr {addr}: {e}")))?;
    let rt = Runtime::builder()
        .flavor(Flavor::ThreadPerCore)
        .worker_threads(threads)
        .build()?;
    let listeners = TcpListener::bind_reuseport(addr, threads)?;
    println!("{} ({threads} workers)", banner(listeners[0].local_addr()?));
    let listeners = Mutex::new(listeners);
    let loops = rt.handle().spawn_on_each_worker(|_| {
        let listener = listeners
            .lock()
            .unwrap()
            .pop()
            .expect("one listener per worker");
        // Wrapped on the worker: the accept loop uses that worker's reactor.
        async move { accept_loop(TcpListener::from_std(listener)?).await }
    });
    for l in loops {
        rt.block_on(l).map_err(io::Error::from)??;
    }
    Ok(())
}
