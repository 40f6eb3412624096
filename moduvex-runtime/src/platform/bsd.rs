//! BSD and Apple system layer: kqueue's event record (`struct kevent`) and
//! its decoding into [`Event`]; the rest is the shared Unix layer
//! (`unix.rs`), re-exported here.
//!
//! One kevent names one filter of one descriptor, so a source registered
//! for both directions reports a read event and a write event separately;
//! `EV_EOF` on the read filter means the peer closed its write side, on the
//! write filter that this side can no longer write.
//!
//! Apple declares `struct kevent` `packed(4)`: its fields are only ever
//! copied out by value here, never borrowed.
//!
//! ```
//! use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
//!
//! let (r, w) = create_pipe()?; // non-blocking, close-on-exec
//! let events = events_with_capacity(32);
//! assert!(events.is_empty() && Interest::BOTH.is_readable());
//! # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
//! # unsafe { libc::close(r); libc::close(w) };
//! # Ok::<_, std::io::Error>(())
//! ```

pub use super::unix::*;

/// The kernel's event record, as `kevent` fills it.
pub(crate) type RawEvent = libc::kevent;

// SAFETY: an `Events` holds plain kevent records; their `udata` pointers
// carry tokens (integers stored in a pointer field, see `kevent_for`) and
// are never dereferenced, so the buffer may move to and be shared with
// other threads like the Linux one.
unsafe impl Send for Events {}
// SAFETY: as above: no pointer in the buffer is ever dereferenced.
unsafe impl Sync for Events {}

/// A kevent record for `ident` and `filter` with `flags`, carrying `token`
/// in its `udata` field (as an address without provenance: it is never
/// dereferenced) and `fflags` (for `EVFILT_USER`'s `NOTE_TRIGGER`).
pub(crate) fn kevent_for(
    ident: usize,
    filter: i16,
    flags: u16,
    fflags: u32,
    token: usize,
) -> libc::kevent {
    // SAFETY: `struct kevent` is plain data (integers and one pointer, and
    // on FreeBSD an array of integers); all-zero is a valid value of each.
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = ident as _;
    ev.filter = filter as _;
    ev.flags = flags as _;
    ev.fflags = fflags as _;
    ev.udata = std::ptr::without_provenance_mut(token);
    ev
}

impl Event {
    /// Decodes one kevent. Every field is copied out by value (Apple's
    /// record is packed: a reference to a field would be unaligned).
    pub(crate) fn from_raw(raw: &RawEvent) -> Event {
        let filter = raw.filter;
        let flags = raw.flags;
        let fflags = raw.fflags;
        let udata = raw.udata;
        let token = udata.addr();
        let eof = flags & libc::EV_EOF != 0;
        // `EV_ERROR` in the event list is a failed change; `EV_EOF` with a
        // non-zero `fflags` carries the socket's pending error.
        let error = flags & libc::EV_ERROR != 0 || (eof && fflags != 0);
        let read = filter == libc::EVFILT_READ;
        let write = filter == libc::EVFILT_WRITE;
        Event {
            token,
            // An error wakes both directions: the next read or write will
            // not block, it will report the error.
            readable: read || error,
            writable: write || error,
            read_closed: read && eof,
            write_closed: write && eof,
            error,
            priority: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(filter: i16, flags: u16, fflags: u32) -> Event {
        Event::from_raw(&kevent_for(3, filter, flags, fflags, 77))
    }

    #[test]
    fn read_and_write_filters_decode_to_their_direction() {
        let r = decode(libc::EVFILT_READ, 0, 0);
        assert!(r.readable && !r.writable && !r.read_closed && !r.error);
        assert_eq!(r.token, 77);
        let w = decode(libc::EVFILT_WRITE, 0, 0);
        assert!(w.writable && !w.readable && !w.write_closed && !w.error);
    }

    #[test]
    fn eof_closes_the_filter_direction_and_an_error_code_is_an_error() {
        let r = decode(libc::EVFILT_READ, libc::EV_EOF, 0);
        assert!(r.readable && r.read_closed && !r.write_closed && !r.error);
        let w = decode(libc::EVFILT_WRITE, libc::EV_EOF, 0);
        assert!(w.writable && w.write_closed && !w.read_closed);
        let e = decode(libc::EVFILT_WRITE, libc::EV_EOF, libc::ECONNRESET as u32);
        assert!(e.error && e.readable && e.writable);
    }

    #[test]
    fn user_event_carries_only_its_token() {
        let u = decode(libc::EVFILT_USER, libc::EV_CLEAR, libc::NOTE_TRIGGER);
        assert_eq!(u.token, 77);
        assert!(!u.readable && !u.writable && !u.error);
    }
}
