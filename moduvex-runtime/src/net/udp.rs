//! [`UdpSocket`]: datagrams over IP.
//!
//! The one idea: a datagram socket has no stream semantics, so readiness
//! is cleared only by `WouldBlock` (a short datagram says nothing about
//! whether more are queued).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, SockRef, Type};

use super::addr::{each_addr, resolve, ToSocketAddrs};
use super::stream_io::{self, retry_eintr};
use crate::io::{Interest, Ready};
use crate::reactor::{Direction, IoSource};

/// A UDP socket.
///
/// Unconnected, it sends to and receives from any address
/// ([`send_to`](Self::send_to), [`recv_from`](Self::recv_from)); after
/// [`connect`](Self::connect) it talks to one peer ([`send`](Self::send),
/// [`recv`](Self::recv)). All methods take `&self`, so one task can send
/// while another receives, and several tasks can receive (or send) on one
/// shared socket at once: each waiting future is woken when the socket
/// becomes ready (only the `poll_*` methods keep a single waker per
/// direction).
///
/// ```
/// use moduvex_runtime::net::UdpSocket;
///
/// moduvex_runtime::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hi", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UdpSocket {
    io: IoSource<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each resolved address in turn.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"ping", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let addrs = resolve(&addr).await?;
        each_addr(addrs, |addr| async move { Self::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = crate::net::os::new_socket(
            Domain::for_address(addr),
            Type::DGRAM,
            Some(Protocol::UDP),
        )?;
        socket.bind(&addr.into())?;
        Ok(UdpSocket {
            io: IoSource::new(socket.into())?,
        })
    }

    /// Wraps a std socket, switching it to non-blocking mode and
    /// registering it with this thread's reactor.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let std = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let c = UdpSocket::from_std(std)?;
    ///     c.send_to(b"x", a.local_addr()?).await?;
    ///     assert_eq!(a.recv(&mut [0; 4]).await?, 1);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: IoSource::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the std one, still non-blocking.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let addr = a.local_addr()?;
    ///     let std = a.into_std()?;
    ///     assert_eq!(std.local_addr()?, addr);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner()
    }

    /// Sets the default peer: `send` goes there and only its datagrams are
    /// received. Each resolved address is tried in turn.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     a.send(b"hi").await?;
    ///     assert_eq!(b.recv(&mut [0; 4]).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let addrs = resolve(&addr).await?;
        let sock = self.io.get_ref();
        each_addr(addrs, |addr| async move { sock.connect(addr) }).await
    }

    /// Sends a datagram to the connected peer; returns the bytes sent.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     assert_eq!(a.send(b"datagram").await?, 8);
    ///     let mut buf = [0; 16];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"datagram");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| retry_eintr(|| s.send(buf))).await
    }

    /// Receives a datagram from the connected peer. A datagram longer than
    /// `buf` is truncated.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     b.send(b"one").await?;
    ///     b.send(b"two").await?;
    ///     let mut buf = [0; 8];
    ///     // One datagram per call, never merged.
    ///     assert_eq!(a.recv(&mut buf).await?, 3);
    ///     assert_eq!(a.recv(&mut buf).await?, 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| retry_eintr(|| s.recv(buf))).await
    }

    /// Sends a datagram to `target` (the first address it resolves to).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.send_to(b"to b", b.local_addr()?).await?, 4);
    ///     let (n, _) = b.recv_from(&mut [0; 8]).await?;
    ///     assert_eq!(n, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target).await?[0];
        self.io
            .write_with(|s| retry_eintr(|| s.send_to(buf, target)))
            .await
    }

    /// Receives a datagram and the address it came from.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"who", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = a.recv_from(&mut buf).await?;
    ///     assert_eq!((n, from), (3, b.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .read_with(|s| retry_eintr(|| s.recv_from(buf)))
            .await
    }

    /// Polls for a datagram (the poll form of [`recv_from`](Self::recv_from)).
    ///
    /// As with every `poll_*` method, only the task of the latest call is
    /// woken; tasks that receive side by side should each await
    /// [`recv_from`](Self::recv_from), which wakes them all.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"p", a.local_addr()?).await?;
    ///     let mut buf = [0u8; 4];
    ///     let (n, from) = std::future::poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!((&buf[..n], from), (&b"p"[..], b.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |s| retry_eintr(|| s.recv_from(buf)))
    }

    /// Polls to send a datagram to `target`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let to = b.local_addr()?;
    ///     let n = std::future::poll_fn(|cx| a.poll_send_to(cx, b"q", to)).await?;
    ///     assert_eq!(n, 1);
    ///     assert_eq!(b.recv(&mut [0; 4]).await?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| {
            retry_eintr(|| s.send_to(buf, target))
        })
    }

    /// Like [`recv_from`](Self::recv_from), leaving the datagram queued.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"peek", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, _) = a.peek_from(&mut buf).await?;
    ///     assert_eq!(n, 4);
    ///     // The datagram is still queued.
    ///     assert_eq!(a.recv_from(&mut buf).await?.0, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .read_with(|s| retry_eintr(|| s.peek_from(buf)))
            .await
    }

    /// Sends to the connected peer now, or `WouldBlock` (which clears the
    /// write readiness: pair with [`writable`](Self::writable)).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
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
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     let err = a.try_recv(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     b.send(b"ok").await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_recv(&mut [0; 8])?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv(buf)))
    }

    /// Sends to `target` now, or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send_to(b"t", b.local_addr()?)?, 1);
    ///     assert_eq!(b.recv_from(&mut [0; 4]).await?.0, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| retry_eintr(|| s.send_to(buf, target)))
    }

    /// Receives a datagram now, or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"t", a.local_addr()?).await?;
    ///     a.readable().await?;
    ///     let (n, from) = a.try_recv_from(&mut [0; 4])?;
    ///     assert_eq!((n, from), (1, b.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv_from(buf)))
    }

    /// Receives a datagram from the connected peer now into `buf`'s spare
    /// capacity (a `bytes::BufMut`), advancing it; or `WouldBlock`. A
    /// datagram longer than the spare capacity is truncated.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     b.send(b"buf").await?;
    ///     a.readable().await?;
    ///     let mut buf = Vec::with_capacity(16);
    ///     assert_eq!(a.try_recv_buf(&mut buf)?, 3);
    ///     assert_eq!(buf, b"buf");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        stream_io::try_recv_buf(&self.io, buf)
    }

    /// Like [`try_recv_buf`](Self::try_recv_buf), also returning the
    /// sender's address.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"buf", a.local_addr()?).await?;
    ///     a.readable().await?;
    ///     let mut buf = Vec::with_capacity(16);
    ///     let (n, from) = a.try_recv_buf_from(&mut buf)?;
    ///     assert_eq!((n, from, &buf[..]), (3, b.local_addr()?, &b"buf"[..]));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_buf_from<B: bytes::BufMut>(
        &self,
        buf: &mut B,
    ) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| {
            let dst = buf.chunk_mut();
            // SAFETY: `recv_from` only ever writes initialised bytes into the slice (`as_uninit_slice_mut`'s contract).
            let spare = unsafe { dst.as_uninit_slice_mut() };
            let (n, from) = retry_eintr(|| SockRef::from(s).recv_from(&mut *spare))?;
            // SAFETY: the kernel initialised the first `n` bytes of the chunk, and `n` is at most its length.
            unsafe { buf.advance_mut(n) };
            Ok((n, ip_addr(&from)?))
        })
    }

    /// Like [`try_recv_from`](Self::try_recv_from), leaving the datagram
    /// queued; or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"pk", a.local_addr()?).await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_peek_from(&mut [0; 4])?.0, 2);
    ///     assert_eq!(a.try_recv_from(&mut [0; 4])?.0, 2, "still queued after the peek");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.peek_from(buf)))
    }

    /// The sender of the next queued datagram, waiting until one arrives;
    /// the datagram stays queued (tokio's `peek_sender`).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"x", a.local_addr()?).await?;
    ///     assert_eq!(a.peek_sender().await?, b.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.read_with(peek_sender_of).await
    }

    /// The poll form of [`peek_sender`](Self::peek_sender).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"x", a.local_addr()?).await?;
    ///     let from = std::future::poll_fn(|cx| a.poll_peek_sender(cx)).await?;
    ///     assert_eq!(from, b.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, peek_sender_of)
    }

    /// The sender of the next queued datagram now, or `WouldBlock`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(a.try_peek_sender().is_err(), "nothing queued");
    ///     b.send_to(b"x", a.local_addr()?).await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_peek_sender()?, b.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Direction::Read, peek_sender_of)
    }

    /// Waits until any readiness of `interest` is set and returns what was
    /// found; pair with the `try_*` methods (a `WouldBlock` clears the
    /// readiness). Spends no cooperative budget.
    ///
    /// ```
    /// use moduvex_runtime::io::Interest;
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     // A fresh socket knows no readiness yet: wait for it first.
    ///     a.writable().await?;
    ///     a.try_send_to(b"hi", b.local_addr()?)?;
    ///     let ready = b.ready(Interest::READABLE).await?;
    ///     assert!(ready.is_readable());
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.try_recv_from(&mut buf)?;
    ///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        stream_io::ready(&self.io, interest).await
    }

    /// Waits until the socket may be readable. Spends no budget.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"r", a.local_addr()?).await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_recv_from(&mut [0; 4])?.0, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the socket may be writable. Spends no budget.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send_to(b"w", b.local_addr()?)?, 1);
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
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"r", a.local_addr()?).await?;
    ///     std::future::poll_fn(|cx| a.poll_recv_ready(cx)).await?;
    ///     assert_eq!(a.try_recv_from(&mut [0; 4])?.0, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream_io::poll_ready(&self.io, cx, Direction::Read)
    }

    /// Polls for write readiness (see [`poll_recv_ready`](Self::poll_recv_ready)).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     std::future::poll_fn(|cx| a.poll_send_ready(cx)).await?;
    ///     assert_eq!(a.try_send_to(b"s", b.local_addr()?)?, 1);
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
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"raw", a.local_addr()?).await?;
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
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let to = a.local_addr()?;
    ///     moduvex_runtime::spawn(async move { b.send_to(b"later", to).await });
    ///     let mut buf = [0; 8];
    ///     let (n, _) = a.async_io(Interest::READABLE, || a.try_recv_from(&mut buf)).await?;
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
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(a.local_addr()?.ip().is_loopback());
    ///     assert_ne!(a.local_addr()?, b.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` if there is none).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(a.peer_addr().is_err(), "not connected");
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_broadcast(true)?;
    ///     assert_eq!(a.broadcast()?, true);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `SO_BROADCAST`: allow sending to a broadcast address.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_broadcast(true)?;
    ///     assert_eq!(a.broadcast()?, true);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether IPv4 multicast sent by this socket loops back locally.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_multicast_loop_v4(false)?;
    ///     assert_eq!(a.multicast_loop_v4()?, false);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_multicast_loop_v4(false)?;
    ///     assert_eq!(a.multicast_loop_v4()?, false);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The IPv4 multicast time-to-live.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_multicast_ttl_v4(5)?;
    ///     assert_eq!(a.multicast_ttl_v4()?, 5);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL` (1: stay on the local network).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_multicast_ttl_v4(5)?;
    ///     assert_eq!(a.multicast_ttl_v4()?, 5);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Whether IPv6 multicast sent by this socket loops back locally.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let Ok(s) = UdpSocket::bind("[::1]:0").await else { return Ok(()) }; // no IPv6 here
    ///     s.set_multicast_loop_v6(false)?;
    ///     assert!(!s.multicast_loop_v6()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let Ok(s) = UdpSocket::bind("[::1]:0").await else { return Ok(()) }; // no IPv6 here
    ///     s.set_multicast_loop_v6(false)?;
    ///     assert!(!s.multicast_loop_v6()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`UNSPECIFIED`: the kernel chooses).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     use std::net::Ipv4Addr;
    ///     let group = Ipv4Addr::new(239, 255, 0, 1);
    ///     // Joining may be refused where no interface routes multicast.
    ///     if a.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_ok() {
    ///         a.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)?;
    ///     }
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     use std::net::Ipv4Addr;
    ///     let group = Ipv4Addr::new(239, 255, 0, 2);
    ///     // Leaving a group never joined is an error.
    ///     assert!(a.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_err());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index
    /// `interface` (0: the kernel chooses).
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let Ok(s) = UdpSocket::bind("[::1]:0").await else { return Ok(()) }; // no IPv6 here
    ///     let group: std::net::Ipv6Addr = "ff02::1:3".parse().unwrap();
    ///     if s.join_multicast_v6(&group, 0).is_ok() {
    ///         s.leave_multicast_v6(&group, 0)?;
    ///     }
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let Ok(s) = UdpSocket::bind("[::1]:0").await else { return Ok(()) }; // no IPv6 here
    ///     let group: std::net::Ipv6Addr = "ff02::1:4".parse().unwrap();
    ///     assert!(s.leave_multicast_v6(&group, 0).is_err(), "never joined");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_ttl(77)?;
    ///     assert_eq!(a.ttl()?, 77);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_ttl(77)?;
    ///     assert_eq!(a.ttl()?, 77);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Binds the socket to a network interface by name (`SO_BINDTODEVICE`;
    /// `None` removes the binding). Usually needs `CAP_NET_RAW`.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     // Binding to a device needs CAP_NET_RAW; unbinding never does.
    ///     a.bind_device(None)?;
    ///     assert_eq!(a.device()?, None);
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).bind_device(interface)
    }

    /// The interface the socket is bound to (`SO_BINDTODEVICE`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.device()?, None, "not bound to a device");
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        SockRef::from(self.io.get_ref()).device()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// ```
    /// use moduvex_runtime::net::UdpSocket;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(a.take_error()?.is_none());
    ///     # drop(b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// `peek_sender` on a socket: the next datagram's source, left queued.
fn peek_sender_of(s: &std::net::UdpSocket) -> io::Result<SocketAddr> {
    ip_addr(&retry_eintr(|| SockRef::from(s).peek_sender())?)
}

/// The IP address of a UDP peer.
fn ip_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::other("a UDP datagram from a non-IP address"))
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`]: switches to non-blocking mode and registers.
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

#[cfg(unix)]
impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

#[cfg(unix)]
impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for UdpSocket {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(self.io.get_ref())
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for UdpSocket {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(self.io.get_ref())
    }
}
