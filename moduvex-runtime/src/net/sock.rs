//! Socket creation and stream writes that behave the same on every Unix:
//! every socket is non-blocking and close-on-exec, and writing to a closed
//! stream peer is a `BrokenPipe` error, never a `SIGPIPE`.
//!
//! Where the kernel can set the flags in the creating call
//! (`SOCK_NONBLOCK | SOCK_CLOEXEC`, `accept4`: Linux and the BSDs) it does,
//! so no window exists where a concurrent `fork` + `exec` could inherit the
//! socket. Apple systems have neither: there the socket is created, then
//! made non-blocking (`socket2` sets close-on-exec and `SO_NOSIGPIPE` right
//! after creating it). Nor can `MSG_NOSIGNAL` be relied on there (older
//! releases do not know it): stream sockets carry `SO_NOSIGPIPE` instead,
//! and writes pass no flag.

use std::io;
use std::os::fd::AsFd;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

/// Flags for `send`/`sendmsg` on a stream: no `SIGPIPE` for a closed peer.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;

/// A new non-blocking, close-on-exec socket.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) fn socket(domain: Domain, ty: Type, protocol: Option<Protocol>) -> io::Result<Socket> {
    Socket::new(domain, ty.nonblocking().cloexec(), protocol)
}

/// A connected pair of non-blocking, close-on-exec sockets.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) fn pair(domain: Domain, ty: Type) -> io::Result<(Socket, Socket)> {
    Socket::pair(domain, ty.nonblocking().cloexec(), None)
}

/// Accepts a connection as a non-blocking, close-on-exec socket.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) fn accept(listener: &impl AsFd) -> io::Result<(Socket, SockAddr)> {
    SockRef::from(listener).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
}

/// Makes a stream socket from elsewhere safe to write to a closed peer
/// (nothing to do here: every write passes `MSG_NOSIGNAL`).
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) fn prepare_stream(_stream: &impl AsFd) -> io::Result<()> {
    Ok(())
}

/// Flags for `send`/`sendmsg` on a stream: none (`SO_NOSIGPIPE` is set
/// on every stream socket instead).
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// A new non-blocking, close-on-exec socket with `SO_NOSIGPIPE`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn socket(domain: Domain, ty: Type, protocol: Option<Protocol>) -> io::Result<Socket> {
    let socket = Socket::new(domain, ty, protocol)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// A connected pair of non-blocking, close-on-exec sockets with
/// `SO_NOSIGPIPE`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn pair(domain: Domain, ty: Type) -> io::Result<(Socket, Socket)> {
    let (a, b) = Socket::pair(domain, ty, None)?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((a, b))
}

/// Accepts a connection as a non-blocking, close-on-exec socket with
/// `SO_NOSIGPIPE`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn accept(listener: &impl AsFd) -> io::Result<(Socket, SockAddr)> {
    let (socket, addr) = SockRef::from(listener).accept()?;
    socket.set_nonblocking(true)?;
    Ok((socket, addr))
}

/// Sets `SO_NOSIGPIPE` on a stream socket made elsewhere, so writing to
/// a closed peer is an error, not a signal.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn prepare_stream(stream: &impl AsFd) -> io::Result<()> {
    SockRef::from(stream).set_nosigpipe(true)
}
