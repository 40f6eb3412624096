//! macOS and FreeBSD system layer: kqueue event records. The rest is
//! shared with every Unix (`unix.rs`) and every OS (`interest.rs`).
//!
//! kqueue reports each filter separately: a source that is readable and
//! writable yields two records with the same token, which the reactor
//! merges into the source's readiness like any two events.

use std::io;

pub use super::readiness::{Event, Interest};
pub(crate) use super::unix::syscall;
#[allow(unused_imports)]
pub(crate) use super::unix::syscall_retry;
pub use super::unix::*;

/// The kernel's record of one event, as `kevent` fills it.
///
/// Its `udata` is a pointer-typed field, which makes the record neither
/// `Send` nor `Sync` to the compiler; this crate stores only a token
/// number in it and never dereferences it, so the records are plain data.
pub(crate) type RawEvent = libc::kevent;

// SAFETY: an `Events` owns its records, which are plain data: `udata`
// carries a token number written by this crate and is never dereferenced
// (see `RawEvent`), so moving the buffer to another thread is sound.
unsafe impl Send for Events {}
// SAFETY: as for `Send`: shared access only reads plain integers.
unsafe impl Sync for Events {}

/// Decodes one `kevent` record.
///
/// Apple's `kevent` is `packed(4)`: every field is copied out by value,
/// never borrowed.
pub(crate) fn decode(raw: &libc::kevent) -> Event {
    let (filter, flags, fflags) = (raw.filter, raw.flags, raw.fflags);
    let token = raw.udata as usize;
    // EV_ERROR in an output record: the change failed (its errno is in
    // `data`); both directions are woken so the next operation reports it.
    let error = flags & libc::EV_ERROR != 0 || (flags & libc::EV_EOF != 0 && fflags != 0);
    let eof = flags & libc::EV_EOF != 0;
    let read = filter == libc::EVFILT_READ;
    let write = filter == libc::EVFILT_WRITE;
    Event {
        token,
        readable: read || error,
        writable: write || error,
        read_closed: read && eof,
        write_closed: write && eof,
        error,
        priority: false,
    }
}

/// Timer slack is a Linux notion; elsewhere the wait ends when asked.
#[doc(hidden)]
pub fn set_timer_slack(_nanos: u64) -> io::Result<()> {
    Ok(())
}
