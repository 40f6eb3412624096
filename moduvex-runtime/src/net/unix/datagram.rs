//! [`UnixDatagram`]: Unix-domain datagrams.

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::SocketAddr;
use crate::io::{Interest, Ready};
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
        Socket::new(Domain::UNIX, Type::DGRAM.nonblocking().cloexec(), None)
    }

    fn from_nonblocking(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: IoSource::new(socket)?,
        })
    }

    /// Creates a socket bound to `path` (the file must not exist).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let socket = Self::socket()?;
        socket.bind(&SockAddr::unix(path)?)?;
        Self::from_nonblocking(socket.into())
    }

    /// Creates a socket bound to no address: it can send, and receive
    /// replies only once connected.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Self::from_nonblocking(Self::socket()?.into())
    }

    /// A connected pair of anonymous datagram sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::DGRAM.nonblocking().cloexec(), None)?;
        Ok((
            Self::from_nonblocking(a.into())?,
            Self::from_nonblocking(b.into())?,
        ))
    }

    /// Wraps a std socket, switching it to non-blocking mode and registering
    /// it with this thread's reactor.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Self::from_nonblocking(socket)
    }

    /// Deregisters the socket and returns the std one, still non-blocking.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Sets the default peer for [`send`](Self::send) and
    /// [`recv`](Self::recv).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| retry_eintr(|| s.send(buf))).await
    }

    /// Receives a datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| retry_eintr(|| s.recv(buf))).await
    }

    /// Sends a datagram to the socket bound at `path`.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .write_with(|s| retry_eintr(|| s.send_to(buf, path)))
            .await
    }

    /// Receives a datagram and the address of its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .read_with(|s| retry_eintr(|| s.recv_from(buf)))
            .await
    }

    /// Sends to the connected peer now, or `WouldBlock` (which clears the
    /// write readiness: pair with [`writable`](Self::writable)).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| retry_eintr(|| s.send(buf)))
    }

    /// Receives from the connected peer now, or `WouldBlock` (which clears
    /// the read readiness: pair with [`readable`](Self::readable)).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv(buf)))
    }

    /// Sends a datagram to the socket bound at `path` now, or `WouldBlock`.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .try_io(Direction::Write, |s| retry_eintr(|| s.send_to(buf, path)))
    }

    /// Receives a datagram and its sender's address now, or `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv_from(buf)))
    }

    /// Receives a datagram from the connected peer now into `buf`'s spare
    /// capacity (a `bytes::BufMut`), advancing it; or `WouldBlock`.
    pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        stream_io::try_recv_buf(&self.io, buf)
    }

    /// Waits until any readiness of `interest` is set and returns what was
    /// found; pair with the `try_*` methods. Spends no cooperative budget.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        stream_io::ready(&self.io, interest).await
    }

    /// Waits until the socket may be readable. Spends no budget.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the socket may be writable. Spends no budget.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// Polls for read readiness (tokio's name for datagram sockets). Only
    /// the task of the latest call is woken; a `Ready` spends one unit of
    /// cooperative budget.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream_io::poll_ready(&self.io, cx, Direction::Read)
    }

    /// Polls for write readiness (see [`poll_recv_ready`](Self::poll_recv_ready)).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream_io::poll_ready(&self.io, cx, Direction::Write)
    }

    /// Runs `f` now if the socket may be ready for `interest`, else
    /// `WouldBlock`; a `WouldBlock` from `f` clears that readiness.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_mask(interest.to_mask(), |_| f())
    }

    /// Runs `f` until it does not return `WouldBlock`, waiting for
    /// `interest` between attempts.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io_mask(interest.to_mask(), |_| f()).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down reading, writing, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
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
