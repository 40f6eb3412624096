//! [`TcpListener`]: accepts TCP connections.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Type};

use super::TcpStream;
use crate::net::addr::{each_addr, resolve, ToSocketAddrs};
use crate::net::stream_io::retry_eintr;
use crate::reactor::{Direction, IoSource, Waiter};

/// Backlog of listeners made by [`TcpListener::bind`] (the kernel caps it
/// at `net.core.somaxconn`).
pub(crate) const DEFAULT_BACKLOG: i32 = 1024;

/// A TCP socket listening for connections.
///
/// ```
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let connect = moduvex_runtime::spawn(TcpStream::connect(addr));
///     let (stream, peer) = listener.accept().await?;
///     assert_eq!(stream.peer_addr()?, peer);
///     connect.await.unwrap()?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct TcpListener {
    io: IoSource<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds `count` listeners to one address, all with `SO_REUSEPORT`, so
    /// the kernel spreads incoming connections across them: one listener
    /// per worker, and no shared accept queue to contend on.
    ///
    /// They come back as non-blocking, close-on-exec std listeners, not yet
    /// registered with any reactor: move one into each worker's task and
    /// wrap it there with [`TcpListener::from_std`], so each accept loop
    /// runs on its own worker's reactor. With port 0 the first listener
    /// picks the port and the others join it.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// use moduvex_runtime::net::TcpListener;
    /// use moduvex_runtime::{time, Flavor, Runtime};
    ///
    /// let rt = Runtime::builder().flavor(Flavor::ThreadPerCore).worker_threads(2).build()?;
    /// let listeners = TcpListener::bind_reuseport("127.0.0.1:0".parse().unwrap(), 2)?;
    /// let addr = listeners[0].local_addr()?;
    /// let listeners = Mutex::new(listeners);
    /// let accepted = Arc::new(AtomicUsize::new(0));
    /// rt.handle().spawn_on_each_worker(|_| {
    ///     let std_listener = listeners.lock().unwrap().pop().unwrap();
    ///     let accepted = accepted.clone();
    ///     async move {
    ///         let listener = TcpListener::from_std(std_listener).unwrap();
    ///         // Each worker accepts for as long as the runtime lives.
    ///         while let Ok((_stream, _peer)) = listener.accept().await {
    ///             accepted.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     }
    /// });
    /// let _clients: Vec<_> = (0..64).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
    /// rt.block_on(async {
    ///     while accepted.load(Ordering::Relaxed) < 64 {
    ///         time::sleep(Duration::from_millis(1)).await;
    ///     }
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// Fails with `InvalidInput` if `count` is zero. Windows has no
    /// `SO_REUSEPORT`: there a `count` above 1 fails with `Unsupported`.
    pub fn bind_reuseport(
        addr: SocketAddr,
        count: usize,
    ) -> io::Result<Vec<std::net::TcpListener>> {
        if count == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bind_reuseport: count must be at least 1",
            ));
        }
        let mut addr = addr;
        let mut listeners = Vec::with_capacity(count);
        for _ in 0..count {
            let socket = crate::net::os::new_socket(
                Domain::for_address(addr),
                Type::STREAM,
                Some(Protocol::TCP),
            )?;
            socket.set_reuse_address(true)?;
            #[cfg(unix)]
            socket.set_reuse_port(true)?;
            #[cfg(windows)]
            if count > 1 {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "bind_reuseport: Windows has no SO_REUSEPORT; bind one listener \
                     (count 1) and share it between the workers instead",
                ));
            }
            socket.bind(&addr.into())?;
            socket.listen(DEFAULT_BACKLOG)?;
            let listener: std::net::TcpListener = socket.into();
            addr = listener.local_addr()?;
            listeners.push(listener);
        }
        Ok(listeners)
    }

    /// Binds to `addr` (with `SO_REUSEADDR`, as std does) and listens.
    ///
    /// Each resolved address is tried in turn; the last error is returned
    /// if none works (`AddrInUse` if the port is taken, `InvalidInput` for
    /// an address that does not parse).
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     assert!(addr.ip().is_loopback() && addr.port() != 0, "port 0 picks a free port");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let addrs = resolve(&addr).await?;
        each_addr(addrs, |addr| async move { Self::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = crate::net::os::new_socket(
            Domain::for_address(addr),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        // As std: SO_REUSEADDR on Unix only (on Windows it would let
        // another socket take over the bound port).
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(DEFAULT_BACKLOG)?;
        Self::from_nonblocking(socket.into())
    }

    pub(crate) fn from_nonblocking(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: IoSource::new(listener)?,
        })
    }

    /// Wraps a listening std socket, switching it to non-blocking mode and
    /// registering it with this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let std = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let listener = TcpListener::from_std(std)?;
    ///     let _client = TcpStream::connect(listener.local_addr()?).await?;
    ///     listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Self::from_nonblocking(listener)
    }

    /// Deregisters the listener and returns the std one, still in
    /// non-blocking mode.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let std = listener.into_std()?;
    ///     assert_eq!(std.local_addr()?, addr);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner()
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// The new socket is non-blocking and close-on-exec from `accept4`.
    /// When the process or system is out of descriptors or memory
    /// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) the error is returned at
    /// once, without retrying: the pending connection stays queued, and the
    /// caller should back off (e.g. sleep briefly) before accepting again.
    ///
    /// Several tasks may accept on one shared listener at once: a new
    /// connection wakes them all, one gets it and the others wait again.
    /// Dropping the future (cancelling it, as `select!` does) leaves no
    /// trace on the listener.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     assert_eq!(server.peer_addr()?, peer);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut waiter = self.io.waiter(Direction::Read);
        poll_fn(|cx| self.poll_accept_with(cx, Some(&mut waiter))).await
    }

    /// Polls for a connection (the poll form of [`accept`](Self::accept)).
    ///
    /// As with every `poll_*` method, only the task of the latest call is
    /// woken when a connection arrives; tasks that accept side by side
    /// should each await [`accept`](Self::accept), which wakes them all.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server, peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.poll_accept_with(cx, None)
    }

    fn poll_accept_with(
        &self,
        cx: &mut Context<'_>,
        mut waiter: Option<&mut Waiter<'_>>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        loop {
            let res = self
                .io
                .poll_io_with(cx, Direction::Read, waiter.as_deref_mut(), |l| {
                    retry_eintr(|| crate::net::os::accept(l))
                });
            let (socket, addr) = match res {
                Poll::Pending => return Poll::Pending,
                // The peer gave up before we accepted: not this listener's
                // error, try the next connection.
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(pair)) => pair,
            };
            let addr = addr
                .as_socket()
                .ok_or_else(|| io::Error::other("accepted a connection with a non-IP address"));
            let stream = addr.and_then(|addr| {
                TcpStream::from_nonblocking(socket.into()).map(|stream| (stream, addr))
            });
            return Poll::Ready(stream);
        }
    }

    /// A stream of the connections this listener accepts: each item is
    /// what [`accept`](Self::accept) returns, without the peer address (as
    /// tokio-stream's `TcpListenerStream` yields). It never ends; an accept
    /// error is an item, and the next poll accepts again.
    ///
    /// The stream holds its own place among the listener's waiters, as an
    /// `accept()` future does, so several `Incoming` streams (and `accept`
    /// calls) on one listener all wake for a new connection. To own the
    /// listener instead, see
    /// [`stream::TcpListenerStream`](crate::stream::TcpListenerStream).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let client = moduvex_runtime::spawn(TcpStream::connect(addr));
    ///     let mut incoming = listener.incoming();
    ///     let stream = incoming.next().await.expect("never ends")?;
    ///     assert_eq!(stream.local_addr()?, addr);
    ///     client.await.unwrap()?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            waiter: self.io.waiter(Direction::Read),
        }
    }

    /// The local address the listener is bound to.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let client = TcpStream::connect(addr).await?;
    ///     assert_eq!(client.peer_addr()?, addr);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The IP time-to-live of accepted connections' packets.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.ttl()? > 0);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     listener.set_ttl(100)?;
    ///     assert_eq!(listener.ttl()?, 100);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::{TcpListener, TcpStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.take_error()?.is_none());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// The connections a [`TcpListener`] accepts, from
/// [`TcpListener::incoming`]: a `Stream` of `io::Result<TcpStream>` that
/// never ends.
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::net::{TcpListener, TcpStream};
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     moduvex_runtime::spawn(async move {
///         for _ in 0..2 {
///             TcpStream::connect(addr).await?;
///         }
///         Ok::<_, std::io::Error>(())
///     });
///     let mut incoming = listener.incoming();
///     for _ in 0..2 {
///         let stream = incoming.next().await.unwrap()?;
///         assert!(stream.peer_addr()?.ip().is_loopback());
///     }
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    /// This stream's own place among the listener's read waiters.
    waiter: Waiter<'a>,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<TcpStream>>> {
        let this = self.get_mut();
        this.listener
            .poll_accept_with(cx, Some(&mut this.waiter))
            .map(|res| Some(res.map(|(stream, _)| stream)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl std::fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish_non_exhaustive()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`]: switches to non-blocking mode and registers.
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for TcpListener {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(self.io.get_ref())
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for TcpListener {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(self.io.get_ref())
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
