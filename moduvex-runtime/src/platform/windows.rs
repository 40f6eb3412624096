//! Windows system layer: sockets as the reactor's sources, and the event
//! buffer the IOCP backend fills.
//!
//! Only sockets can be registered: readiness on Windows comes from AFD
//! polls (see the IOCP backend), which exist for sockets alone. Pipes,
//! eventfds and Unix descriptors have no counterpart here; the reactor
//! unparks through its completion port instead.

use std::fmt;
use std::io;
use std::os::windows::io::RawSocket;

pub use super::readiness::{Event, Interest};

/// A raw OS handle that can be registered with the reactor (a socket).
pub type RawSource = RawSocket;

/// A reusable buffer of readiness events filled by the reactor's poll.
///
/// Holds the decoded events of the last poll, and the completion
/// backend's own buffer that the poll decodes from.
pub struct Events {
    decoded: Vec<Event>,
    raw: polling::Events,
}

/// An empty event buffer able to hold `capacity` events per poll (at least 1).
pub fn events_with_capacity(capacity: usize) -> Events {
    let capacity = capacity.max(1);
    Events {
        decoded: Vec::with_capacity(capacity),
        raw: polling::Events::with_capacity(
            std::num::NonZeroUsize::new(capacity).unwrap_or(std::num::NonZeroUsize::MIN),
        ),
    }
}

impl Events {
    /// How many events one poll can return at most.
    pub fn capacity(&self) -> usize {
        self.raw.capacity().get()
    }

    /// How many events the last poll returned.
    pub fn len(&self) -> usize {
        self.decoded.len()
    }

    /// Whether the last poll returned no events.
    pub fn is_empty(&self) -> bool {
        self.decoded.is_empty()
    }

    /// Forget all events.
    pub fn clear(&mut self) {
        self.decoded.clear();
        self.raw.clear();
    }

    /// The events of the last poll, decoded.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.decoded.iter().copied()
    }

    /// The backend's buffer, for its wait to fill (cleared first).
    pub(crate) fn raw_mut(&mut self) -> &mut polling::Events {
        self.raw.clear();
        &mut self.raw
    }

    /// The backend's buffer as its last wait left it, and the decoded
    /// list to fill from it.
    pub(crate) fn parts_mut(&mut self) -> (&polling::Events, &mut Vec<Event>) {
        (&self.raw, &mut self.decoded)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Puts `socket` in non-blocking mode (`ioctlsocket(FIONBIO)`).
pub fn set_nonblocking(socket: RawSource) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{
        ioctlsocket, WSAGetLastError, FIONBIO, SOCKET_ERROR,
    };
    let mut on: u32 = 1;
    // SAFETY: `on` is a live u32 for the call; an invalid socket value makes
    // the call fail with WSAENOTSOCK, touching no memory.
    let res = unsafe { ioctlsocket(socket as usize, FIONBIO, &mut on) };
    if res == SOCKET_ERROR {
        // SAFETY: reads this thread's last WinSock error; no arguments.
        return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::windows::io::AsRawSocket;

    #[test]
    fn interest_combines_and_never_empties() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(both, Interest::BOTH);
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
    }

    #[test]
    fn set_nonblocking_makes_accept_return_would_block() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_nonblocking(listener.as_raw_socket()).unwrap();
        let err = listener.accept().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn set_nonblocking_on_a_bad_socket_is_an_error() {
        assert!(set_nonblocking(RawSocket::MAX - 1).is_err());
    }

    #[test]
    fn events_have_room() {
        let events = events_with_capacity(0);
        assert!(events.capacity() >= 1 && events.is_empty());
    }
}
