//! What the sockets need from the OS beyond std and socket2: sockets made
//! non-blocking (and not inherited) from the start, accept, send flags,
//! connect's "in progress" error, and the trait a socket type is named by.
//!
//! Linux and FreeBSD do it all in the creating syscall (`SOCK_NONBLOCK |
//! SOCK_CLOEXEC`, `accept4`), and send with `MSG_NOSIGNAL`. macOS has
//! none of those: socket2 makes its sockets close-on-exec and
//! `SO_NOSIGPIPE` (so a closed peer is `EPIPE` there too), and they are
//! made non-blocking right after. On Windows
//! socket2 creates sockets not inheritable (`WSA_FLAG_NO_HANDLE_INHERIT`),
//! they are made non-blocking right after, and there is no `SIGPIPE` to
//! suppress.

use std::io;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::platform::AsRawSource;

/// A socket the runtime can register and hand to socket2: `AsRawFd + AsFd`
/// on Unix, `AsRawSocket + AsSocket` on Windows.
#[cfg(unix)]
pub(crate) trait AsSock: AsRawSource + std::os::fd::AsFd {}
#[cfg(unix)]
impl<T: AsRawSource + std::os::fd::AsFd + ?Sized> AsSock for T {}

/// A socket the runtime can register and hand to socket2: `AsRawFd + AsFd`
/// on Unix, `AsRawSocket + AsSocket` on Windows.
#[cfg(windows)]
pub(crate) trait AsSock: AsRawSource + std::os::windows::io::AsSocket {}
#[cfg(windows)]
impl<T: AsRawSource + std::os::windows::io::AsSocket + ?Sized> AsSock for T {}

/// Flags of every stream `send`: a closed peer is an `EPIPE` error, not a
/// `SIGPIPE` that kills the process.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Flags of every stream `send` (macOS sockets carry `SO_NOSIGPIPE`).
#[cfg(target_vendor = "apple")]
pub(crate) const SEND_FLAGS: libc::c_int = 0;
/// Flags of every stream `send` (Windows raises no signal on a closed peer).
#[cfg(windows)]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// A new socket, non-blocking and not inherited by child processes.
pub(crate) fn new_socket(
    domain: Domain,
    ty: Type,
    protocol: Option<Protocol>,
) -> io::Result<Socket> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        Socket::new(domain, ty.nonblocking().cloexec(), protocol)
    }
    #[cfg(target_vendor = "apple")]
    {
        // socket2 sets FD_CLOEXEC and SO_NOSIGPIPE here.
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
    #[cfg(windows)]
    {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// A connected pair of Unix sockets, non-blocking and close-on-exec.
#[cfg(unix)]
pub(crate) fn pair(ty: Type) -> io::Result<(Socket, Socket)> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        Socket::pair(Domain::UNIX, ty.nonblocking().cloexec(), None)
    }
    #[cfg(target_vendor = "apple")]
    {
        // socket2 sets FD_CLOEXEC and SO_NOSIGPIPE on both.
        let (a, b) = Socket::pair(Domain::UNIX, ty, None)?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((a, b))
    }
}

/// Accepts one connection from the listener `l`, non-blocking and not
/// inherited.
pub(crate) fn accept(l: &impl AsSock) -> io::Result<(Socket, SockAddr)> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        SockRef::from(l).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    }
    #[cfg(target_vendor = "apple")]
    {
        // socket2 sets FD_CLOEXEC and SO_NOSIGPIPE on the accepted socket.
        let (socket, addr) = SockRef::from(l).accept()?;
        socket.set_nonblocking(true)?;
        Ok((socket, addr))
    }
    #[cfg(windows)]
    {
        // Accepted sockets inherit the listener's non-blocking mode on
        // Windows; set it anyway, as the listener may have come from std.
        let (socket, addr) = SockRef::from(l).accept()?;
        socket.set_nonblocking(true)?;
        Ok((socket, addr))
    }
}

/// Whether a non-blocking `connect` failed only because the connection is
/// still being made (`EINPROGRESS`; `WSAEWOULDBLOCK` on Windows).
pub(crate) fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::EINPROGRESS)
    }
    #[cfg(windows)]
    {
        e.kind() == io::ErrorKind::WouldBlock
    }
}
