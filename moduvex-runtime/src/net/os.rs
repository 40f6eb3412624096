//! What the sockets need from the OS beyond std and socket2: sockets made
//! non-blocking (and not inherited) from the start, accept, send flags,
//! connect's "in progress" error, and the trait a socket type is named by.
//!
//! Linux does it all in the creating syscall (`SOCK_NONBLOCK |
//! SOCK_CLOEXEC`, `accept4`), and sends with `MSG_NOSIGNAL`. On Windows
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
#[cfg(target_os = "linux")]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Flags of every stream `send` (Windows raises no signal on a closed peer).
#[cfg(windows)]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// A new socket, non-blocking and not inherited by child processes.
pub(crate) fn new_socket(
    domain: Domain,
    ty: Type,
    protocol: Option<Protocol>,
) -> io::Result<Socket> {
    #[cfg(target_os = "linux")]
    {
        Socket::new(domain, ty.nonblocking().cloexec(), protocol)
    }
    #[cfg(windows)]
    {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Accepts one connection from the listener `l`, non-blocking and not
/// inherited.
pub(crate) fn accept(l: &impl AsSock) -> io::Result<(Socket, SockAddr)> {
    #[cfg(target_os = "linux")]
    {
        SockRef::from(l).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
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
