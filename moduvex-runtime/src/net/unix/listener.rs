//! [`UnixListener`]: accepts Unix-domain stream connections.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

use socket2::{Domain, SockAddr, Type};

use super::{SocketAddr, UnixStream};
use crate::net::os;
use crate::net::stream_io::retry_eintr;
use crate::net::tcp::DEFAULT_BACKLOG;
use crate::reactor::{Direction, IoSource, Waiter};

/// A Unix-domain socket listening for connections.
///
/// ```
/// use moduvex_runtime::net::{UnixListener, UnixStream};
///
/// moduvex_runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("moduvex-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let connect = moduvex_runtime::spawn(UnixStream::connect(path.clone()));
///     let (_stream, _addr) = listener.accept().await?;
///     connect.await.unwrap()?;
///     std::fs::remove_file(&path)?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UnixListener {
    io: IoSource<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it. Fails with
    /// `AddrInUse` if the file exists (remove a stale one first).
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener1-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     assert!(path.exists());
    ///     let again = UnixListener::bind(&path).err().unwrap();
    ///     assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
    ///     # drop(listener);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        Self::bind_sock_addr(&SockAddr::unix(path)?)
    }

    /// Listens on `addr`: a path (the file must not exist), or on Linux an
    /// abstract name (`SocketAddr::from_abstract_name`: no file, gone when
    /// the last socket bound to it closes). An unnamed address is
    /// `InvalidInput`. See [`UnixStream::connect_addr`] for an example.
    ///
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use moduvex_runtime::net::UnixListener;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let name = format!("moduvex-doc-bind-{}", std::process::id());
    ///     let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name)?)?;
    ///     assert_eq!(listener.local_addr()?.as_abstract_name(), Some(name.as_bytes()));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        Self::bind_sock_addr(&super::sock_addr(addr)?)
    }

    fn bind_sock_addr(addr: &SockAddr) -> io::Result<UnixListener> {
        let socket = os::new_socket(Domain::UNIX, Type::STREAM, None)?;
        socket.bind(addr)?;
        socket.listen(DEFAULT_BACKLOG)?;
        Ok(UnixListener {
            io: IoSource::new(socket.into())?,
        })
    }

    /// Wraps a std listener, switching it to non-blocking mode and
    /// registering it with this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener2-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path)?)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     listener.accept().await?;
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: IoSource::new(listener)?,
        })
    }

    /// Deregisters the listener and returns the std one, still non-blocking.
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener3-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     let std = listener.into_std()?;
    ///     assert_eq!(std.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io.into_inner()
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// As with [`TcpListener::accept`](crate::net::TcpListener::accept),
    /// descriptor or memory exhaustion is returned at once; back off
    /// before accepting again.
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener4-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     let client = moduvex_runtime::spawn({
    ///         let path = path.clone();
    ///         async move { UnixStream::connect(path).await }
    ///     });
    ///     let (server, peer) = listener.accept().await?;
    ///     assert!(peer.is_unnamed(), "the client did not bind a name");
    ///     # drop((server, client.await.unwrap()?));
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
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
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener5-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let (_server, _) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.poll_accept_with(cx, None)
    }

    fn poll_accept_with(
        &self,
        cx: &mut Context<'_>,
        mut waiter: Option<&mut Waiter<'_>>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        loop {
            let res = self
                .io
                .poll_io_with(cx, Direction::Read, waiter.as_deref_mut(), |l| {
                    retry_eintr(|| os::accept(l))
                });
            let socket = match res {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok((socket, _))) => socket,
            };
            let stream: std::os::unix::net::UnixStream = socket.into();
            // std offers no constructor for an unnamed address, so ask the
            // kernel for the peer's (usually unnamed) address.
            let res = stream
                .peer_addr()
                .and_then(|addr| Ok((UnixStream::from_nonblocking(stream)?, addr)));
            return Poll::Ready(res);
        }
    }

    /// A stream of the connections this listener accepts: each item is
    /// what [`accept`](Self::accept) returns, without the peer address (as
    /// tokio-stream's `UnixListenerStream` yields). It never ends; an
    /// accept error is an item, and the next poll accepts again. Like
    /// [`TcpListener::incoming`](crate::net::TcpListener::incoming), it
    /// holds its own waiter place; to own the listener, see
    /// [`stream::UnixListenerStream`](crate::stream::UnixListenerStream).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("mdx-incoming-{}", std::process::id()));
    ///     let _ = std::fs::remove_file(&dir);
    ///     let listener = UnixListener::bind(&dir)?;
    ///     let client = UnixStream::connect(&dir).await?;
    ///     let server = listener.incoming().next().await.expect("never ends")?;
    ///     assert_eq!(server.peer_addr()?.as_pathname(), None);
    ///     drop(client);
    ///     std::fs::remove_file(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            waiter: self.io.waiter(Direction::Read),
        }
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener6-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::{UnixListener, UnixStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-listener7-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("app.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     assert!(listener.take_error()?.is_none());
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`]: switches to non-blocking mode and registers.
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl std::fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

/// The connections a [`UnixListener`] accepts, from
/// [`UnixListener::incoming`]: a `Stream` of `io::Result<UnixStream>` that
/// never ends.
///
/// ```
/// use std::os::linux::net::SocketAddrExt;
/// use std::os::unix::net::SocketAddr;
/// use futures_lite::StreamExt;
/// use moduvex_runtime::net::{UnixListener, UnixStream};
///
/// moduvex_runtime::block_on(async {
///     let name = format!("moduvex-doc-incoming-{}", std::process::id());
///     let addr = SocketAddr::from_abstract_name(&name)?;
///     let listener = UnixListener::bind_addr(&addr)?;
///     let _client = UnixStream::connect_addr(&addr).await?;
///     let stream = listener.incoming().next().await.unwrap()?;
///     assert!(stream.peer_addr()?.is_unnamed());
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct Incoming<'a> {
    listener: &'a UnixListener,
    /// This stream's own place among the listener's read waiters.
    waiter: Waiter<'a>,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<UnixStream>>> {
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
