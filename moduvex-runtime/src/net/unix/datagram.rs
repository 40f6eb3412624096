//! [`UnixDatagram`]: Unix-domain datagrams.

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::SocketAddr;
use crate::io::{Interest, Ready};
use crate::net::os;
use crate::net::stream_io::{self, retry_eintr};
use crate::reactor::{Direction, IoSource};
use std::task::{Context, Poll};

/// A Unix-domain datagram socket: bound to a path, unbound, or one of a
/// connected pair.
///
/// ```
/// use moduvex_runtime::net::UnixDatagram;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"one").await?;
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"one");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UnixDatagram {
    io: IoSource<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    fn socket() -> io::Result<Socket> {
        os::new_socket(Domain::UNIX, Type::DGRAM, None)
    }

    fn from_nonblocking(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: IoSource::new(socket)?,
        })
    }

    /// Creates a socket bound to `path` (the file must not exist).
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram1-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.send_to(b"hi", &path).await?;
    ///     let mut buf = [0; 4];
    ///     assert_eq!(server.recv(&mut buf).await?, 2);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let socket = Self::socket()?;
        socket.bind(&SockAddr::unix(path)?)?;
        Self::from_nonblocking(socket.into())
    }

    /// Creates a socket bound to no address: it can send, and receive
    /// replies only once connected.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     let c = UnixDatagram::unbound()?;
    ///     assert!(c.local_addr()?.is_unnamed());
    ///     # drop((a, b));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        Self::from_nonblocking(Self::socket()?.into())
    }

    /// A connected pair of anonymous datagram sockets.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"one").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await?, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = os::pair(Domain::UNIX, Type::DGRAM)?;
        Ok((
            Self::from_nonblocking(a.into())?,
            Self::from_nonblocking(b.into())?,
        ))
    }

    /// Wraps a std socket, switching it to non-blocking mode and registering
    /// it with this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     let (x, y) = std::os::unix::net::UnixDatagram::pair()?;
    ///     let x = UnixDatagram::from_std(x)?;
    ///     y.send(b"std")?;
    ///     assert_eq!(x.recv(&mut [0; 4]).await?, 3);
    ///     # drop((a, b));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Self::from_nonblocking(socket)
    }

    /// Deregisters the socket and returns the std one, still non-blocking.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     let a = a.into_std()?;
    ///     a.set_nonblocking(false)?;
    ///     b.send(b"x").await?;
    ///     assert_eq!(a.recv(&mut [0; 4])?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Sets the default peer for [`send`](Self::send) and
    /// [`recv`](Self::recv).
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram2-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.connect(&path)?;
    ///     client.send(b"connected").await?;
    ///     assert_eq!(server.recv(&mut [0; 16]).await?, 9);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends a datagram to the connected peer.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     assert_eq!(a.send(b"msg").await?, 3);
    ///     assert_eq!(b.recv(&mut [0; 8]).await?, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| retry_eintr(|| s.send(buf))).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"a").await?;
    ///     b.send(b"bc").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(a.recv(&mut buf).await?, 1, "one datagram per call");
    ///     assert_eq!(a.recv(&mut buf).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| retry_eintr(|| s.recv(buf))).await
    }

    /// Sends a datagram to the socket bound at `path`.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram3-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     assert_eq!(client.send_to(b"to", &path).await?, 2);
    ///     assert_eq!(server.recv(&mut [0; 4]).await?, 2);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .write_with(|s| retry_eintr(|| s.send_to(buf, path)))
            .await
    }

    /// Receives a datagram and the address of its sender.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram4-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::bind(dir.join("client.sock"))?;
    ///     client.send_to(b"who", &path).await?;
    ///     let (n, from) = server.recv_from(&mut [0; 8]).await?;
    ///     assert_eq!((n, from.as_pathname()), (3, Some(dir.join("client.sock").as_path())));
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .read_with(|s| retry_eintr(|| s.recv_from(buf)))
            .await
    }

    /// Sends to the connected peer now, or `WouldBlock` (which clears the
    /// write readiness: pair with [`writable`](Self::writable)).
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send(b"now")?, 3);
    ///     b.readable().await?;
    ///     assert_eq!(b.try_recv(&mut [0; 8])?, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| retry_eintr(|| s.send(buf)))
    }

    /// Receives from the connected peer now, or `WouldBlock` (which clears
    /// the read readiness: pair with [`readable`](Self::readable)).
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     let err = a.try_recv(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     b.send(b"x").await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_recv(&mut [0; 8])?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv(buf)))
    }

    /// Sends a datagram to the socket bound at `path` now, or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram5-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.writable().await?;
    ///     assert_eq!(client.try_send_to(b"t", &path)?, 1);
    ///     assert_eq!(server.recv(&mut [0; 4]).await?, 1);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .try_io(Direction::Write, |s| retry_eintr(|| s.send_to(buf, path)))
    }

    /// Receives a datagram and its sender's address now, or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"t").await?;
    ///     a.readable().await?;
    ///     let (n, from) = a.try_recv_from(&mut [0; 4])?;
    ///     assert!(n == 1 && from.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv_from(buf)))
    }

    /// Receives a datagram from the connected peer now into `buf`'s spare
    /// capacity (a `bytes::BufMut`), advancing it; or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"buf").await?;
    ///     a.readable().await?;
    ///     let mut buf = Vec::with_capacity(8);
    ///     assert_eq!(a.try_recv_buf(&mut buf)?, 3);
    ///     assert_eq!(buf, b"buf");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        stream_io::try_recv_buf(&self.io, buf)
    }

    /// Waits until any readiness of `interest` is set and returns what was
    /// found; pair with the `try_*` methods. Spends no cooperative budget.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"r").await?;
    ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_readable() || ready.is_writable());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        stream_io::ready(&self.io, interest).await
    }

    /// Waits until the socket may be readable. Spends no budget.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"r").await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_recv(&mut [0; 4])?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the socket may be writable. Spends no budget.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send(b"w")?, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// Polls for read readiness (tokio's name for datagram sockets). Only
    /// the task of the latest call is woken; a `Ready` spends one unit of
    /// cooperative budget.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"r").await?;
    ///     std::future::poll_fn(|cx| a.poll_recv_ready(cx)).await?;
    ///     assert_eq!(a.try_recv(&mut [0; 4])?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream_io::poll_ready(&self.io, cx, Direction::Read)
    }

    /// Polls for write readiness (see [`poll_recv_ready`](Self::poll_recv_ready)).
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     std::future::poll_fn(|cx| a.poll_send_ready(cx)).await?;
    ///     assert_eq!(a.try_send(b"s")?, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream_io::poll_ready(&self.io, cx, Direction::Write)
    }

    /// Runs `f` now if the socket may be ready for `interest`, else
    /// `WouldBlock`; a `WouldBlock` from `f` clears that readiness.
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// use moduvex_runtime::io::Interest;
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"raw").await?;
    ///     a.readable().await?;
    ///     let fd = a.as_raw_fd();
    ///     let n = a.try_io(Interest::READABLE, || {
    ///         let mut buf = [0u8; 8];
    ///         // SAFETY: fd is the socket's open descriptor and the buffer is valid for the length passed.
    ///         let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    ///         if n < 0 { Err(std::io::Error::last_os_error()) } else { Ok(n as usize) }
    ///     })?;
    ///     assert_eq!(n, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_mask(interest.to_mask(), |_| f())
    }

    /// Runs `f` until it does not return `WouldBlock`, waiting for
    /// `interest` between attempts.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     moduvex_runtime::spawn(async move { b.send(b"later").await });
    ///     let mut buf = [0; 8];
    ///     let n = a.async_io(Interest::READABLE, || a.try_recv(&mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"later");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io_mask(interest.to_mask(), |_| f()).await
    }

    /// The local address.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram6-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let s = UnixDatagram::bind(&path)?;
    ///     assert_eq!(s.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("moduvex-doc-datagram7-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("server.sock");
    ///     # let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.connect(&path)?;
    ///     assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    ///     # drop(server);
    ///     std::fs::remove_dir_all(&dir)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down reading, writing, or both.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     assert!(a.send(b"x").await.is_err(), "sending is shut down");
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixDatagram;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     assert!(a.take_error()?.is_none());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`]: switches to non-blocking mode and registers.
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl std::fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
