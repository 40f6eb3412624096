//! What the sockets need from the OS beyond std and socket2: sockets made
//! non-blocking (and not inherited) from the start, accept, send flags,
//! connect's "in progress" error, and the trait a socket type is named by.
//!
//! Linux and FreeBSD do it all in the creating syscall (`SOCK_NONBLOCK |
//! SOCK_CLOEXEC`, `accept4`), and send with `MSG_NOSIGNAL`. Apple systems
//! have neither flag nor `accept4`: socket2 sets close-on-exec and
//! `SO_NOSIGPIPE` right after creating a socket, it is made non-blocking
//! then, and sends pass no flag (`MSG_NOSIGNAL` is unknown to older
//! releases); a stream from std gets `SO_NOSIGPIPE` too. On Windows
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
#[cfg(all(unix, not(target_vendor = "apple")))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Flags of every stream `send` (Apple: `SO_NOSIGPIPE` is set on every
/// stream socket instead).
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
    #[cfg(all(unix, not(target_vendor = "apple")))]
    {
        Socket::new(domain, ty.nonblocking().cloexec(), protocol)
    }
    #[cfg(any(windows, target_vendor = "apple"))]
    {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Accepts one connection from the listener `l`, non-blocking and not
/// inherited.
pub(crate) fn accept(l: &impl AsSock) -> io::Result<(Socket, SockAddr)> {
    #[cfg(all(unix, not(target_vendor = "apple")))]
    {
        SockRef::from(l).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    }
    #[cfg(any(windows, target_vendor = "apple"))]
    {
        // Accepted sockets inherit the listener's non-blocking mode on
        // Windows and the BSDs; set it anyway, as the listener may have
        // come from std.
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

/// A connected pair of Unix sockets, non-blocking and close-on-exec.
#[cfg(unix)]
pub(crate) fn pair(domain: Domain, ty: Type) -> io::Result<(Socket, Socket)> {
    #[cfg(not(target_vendor = "apple"))]
    {
        Socket::pair(domain, ty.nonblocking().cloexec(), None)
    }
    #[cfg(target_vendor = "apple")]
    {
        let (a, b) = Socket::pair(domain, ty, None)?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((a, b))
    }
}

/// Makes a stream socket made elsewhere (std, a raw descriptor) safe to
/// write to a closed peer: `SO_NOSIGPIPE` on Apple systems; elsewhere every
/// send passes [`SEND_FLAGS`] and nothing is needed.
#[cfg(unix)]
pub(crate) fn prepare_stream(stream: &impl AsSock) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    {
        SockRef::from(stream).set_nosigpipe(true)
    }
    #[cfg(not(target_vendor = "apple"))]
    {
        let _ = stream;
        Ok(())
    }
}
