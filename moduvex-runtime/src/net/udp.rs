//! [`UdpSocket`]: datagrams over IP.
//!
//! The one idea: a datagram socket has no stream semantics, so readiness
//! is cleared only by `WouldBlock` (a short datagram says nothing about
//! whether more are queued).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

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
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let addrs = resolve(&addr).await?;
        each_addr(addrs, |addr| async move { Self::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )?;
        socket.bind(&addr.into())?;
        Ok(UdpSocket {
            io: IoSource::new(socket.into())?,
        })
    }

    /// Wraps a std socket, switching it to non-blocking mode and
    /// registering it with this thread's reactor.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: IoSource::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the std one, still non-blocking.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner()
    }

    /// Sets the default peer: `send` goes there and only its datagrams are
    /// received. Each resolved address is tried in turn.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let addrs = resolve(&addr).await?;
        let sock = self.io.get_ref();
        each_addr(addrs, |addr| async move { sock.connect(addr) }).await
    }

    /// Sends a datagram to the connected peer; returns the bytes sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| retry_eintr(|| s.send(buf))).await
    }

    /// Receives a datagram from the connected peer. A datagram longer than
    /// `buf` is truncated.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| retry_eintr(|| s.recv(buf))).await
    }

    /// Sends a datagram to `target` (the first address it resolves to).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target).await?[0];
        self.io
            .write_with(|s| retry_eintr(|| s.send_to(buf, target)))
            .await
    }

    /// Receives a datagram and the address it came from.
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
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |s| retry_eintr(|| s.recv_from(buf)))
    }

    /// Polls to send a datagram to `target`.
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
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .read_with(|s| retry_eintr(|| s.peek_from(buf)))
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

    /// Sends to `target` now, or `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| retry_eintr(|| s.send_to(buf, target)))
    }

    /// Receives a datagram now, or `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.recv_from(buf)))
    }

    /// Receives a datagram from the connected peer now into `buf`'s spare
    /// capacity (a `bytes::BufMut`), advancing it; or `WouldBlock`. A
    /// datagram longer than the spare capacity is truncated.
    pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        stream_io::try_recv_buf(&self.io, buf)
    }

    /// Like [`try_recv_buf`](Self::try_recv_buf), also returning the
    /// sender's address.
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
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |s| retry_eintr(|| s.peek_from(buf)))
    }

    /// The sender of the next queued datagram, waiting until one arrives;
    /// the datagram stays queued (tokio's `peek_sender`).
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.read_with(peek_sender_of).await
    }

    /// The poll form of [`peek_sender`](Self::peek_sender).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, peek_sender_of)
    }

    /// The sender of the next queued datagram now, or `WouldBlock`.
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

    /// The connected peer's address (`NotConnected` if there is none).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `SO_BROADCAST`: allow sending to a broadcast address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether IPv4 multicast sent by this socket loops back locally.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The IPv4 multicast time-to-live.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL` (1: stay on the local network).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Whether IPv6 multicast sent by this socket loops back locally.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`UNSPECIFIED`: the kernel chooses).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index
    /// `interface` (0: the kernel chooses).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// The IP time-to-live of outgoing packets.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Binds the socket to a network interface by name (`SO_BINDTODEVICE`;
    /// `None` removes the binding). Usually needs `CAP_NET_RAW`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).bind_device(interface)
    }

    /// The interface the socket is bound to (`SO_BINDTODEVICE`), if any.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        SockRef::from(self.io.get_ref()).device()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
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

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

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
