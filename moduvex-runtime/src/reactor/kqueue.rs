//! The BSD and Apple backend: one kqueue, with a user event to unpark it.
//!
//! # Edge-triggered, registered once
//!
//! As with epoll (see `epoll.rs`), a source is registered once for the
//! directions it wants, here as one `EVFILT_READ` and/or one
//! `EVFILT_WRITE` filter with `EV_CLEAR` (edge-triggered). Readiness is
//! cached in the source and cleared only when an operation returns
//! `WouldBlock`, so nothing is re-armed per wait. All filters of one call
//! are submitted in one `kevent` call, each with `EV_RECEIPT`, so every
//! change reports its own error.
//!
//! # Registering twice, deregistering unknowns
//!
//! kqueue's `EV_ADD` silently updates an existing filter (and its token),
//! where epoll refuses a second `EPOLL_CTL_ADD` with `EEXIST`. The backend
//! keeps the set of registered descriptors, so a second registration is
//! `AlreadyExists` and removing an unknown descriptor is `NotFound`, as on
//! Linux. A descriptor closed without being deregistered (a broken
//! contract: the kernel drops its filters on close) does not block the next
//! descriptor of that number: an entry the kernel no longer knows is
//! forgotten when found.
//!
//! # Unpark and timeouts
//!
//! An `EVFILT_USER` event (ident 0, `EV_CLEAR`) is registered with the
//! [`UNPARK_TOKEN`]; [`unpark`](ReactorBackend::unpark) fires it with
//! `NOTE_TRIGGER` and the next (or current) wait returns it once. `kevent`
//! takes a `timespec`, so timeouts keep their nanoseconds.
//!
//! # Nesting
//!
//! A kqueue descriptor is itself readable (`EVFILT_READ`) while it has
//! pending events, so the foster thread nests a reactor's kqueue in its own
//! exactly as it nests epoll descriptors on Linux.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::{ReactorBackend, UNPARK_TOKEN};
use crate::platform::sys::{
    kevent_for, set_cloexec, syscall, syscall_retry, Events, Interest, RawSource,
};

/// The ident of the unpark user event (user events have their own ident
/// space: it never collides with descriptor 0).
const UNPARK_IDENT: usize = 0;

/// An owned kqueue and the descriptors registered with it.
#[derive(Debug)]
pub struct KqueueReactor {
    kq: RawSource,
    /// Each registered descriptor with its token and interest.
    ///
    /// # Invariant
    /// An entry exists from a successful `register` until `deregister`;
    /// the kernel has exactly the filters [`filters`] names for the entry's
    /// interest (unless the descriptor was closed without deregistering,
    /// which drops them). No code runs under the lock but map operations and
    /// `kevent` change calls, which never block.
    registered: Mutex<HashMap<RawSource, (usize, Interest)>>,
}

/// Which filters an interest needs: `(read, write)`. kqueue has no
/// error-only or priority filter: both are served by the read filter
/// (a socket's pending error and hang-up are reported there as `EV_EOF`).
fn filters(interest: Interest) -> (bool, bool) {
    let write = interest.is_writable();
    let read = interest.is_readable() || interest.is_priority() || !write;
    (read, write)
}

/// `filters`' kevent changes for `fd` with `flags`, at most two.
fn changes(fd: RawSource, token: usize, interest: Interest, flags: u16) -> Vec<libc::kevent> {
    let (read, write) = filters(interest);
    let mut list = Vec::with_capacity(2);
    if read {
        list.push(kevent_for(fd as usize, libc::EVFILT_READ, flags, 0, token));
    }
    if write {
        list.push(kevent_for(fd as usize, libc::EVFILT_WRITE, flags, 0, token));
    }
    list
}

/// The error a change receipt reports, if any (`data` holds the errno).
fn receipt_error(receipt: &libc::kevent) -> Option<i32> {
    let flags = receipt.flags;
    let data = receipt.data;
    (flags & libc::EV_ERROR != 0 && data != 0).then_some(data as i32)
}

impl KqueueReactor {
    /// The kqueue descriptor itself (readable while events are pending, so
    /// another kqueue can watch it).
    pub(crate) fn raw(&self) -> RawSource {
        self.kq
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<RawSource, (usize, Interest)>> {
        self.registered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Submits `list` in one `kevent` call, each change with `EV_RECEIPT`,
    /// and returns each change's errno (0 for success), in order.
    fn apply(&self, list: &mut [libc::kevent]) -> io::Result<Vec<i32>> {
        for ev in list.iter_mut() {
            ev.flags |= libc::EV_RECEIPT;
        }
        let n = list.len() as libc::c_int;
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let ptr = list.as_mut_ptr();
        // SAFETY: `ptr` points to `n` live kevent records used as both the
        // change list and the receipt list (kevent(2) allows one array for
        // both); `zero` is a live timespec. With EV_RECEIPT every change
        // yields one receipt and no other event is returned, so a retry
        // after EINTR applies no change twice.
        let got = syscall_retry!(kevent(self.kq, ptr.cast_const(), n, ptr, n, &zero))?;
        Ok(list[..got as usize]
            .iter()
            .map(|r| receipt_error(r).unwrap_or(0))
            .collect())
    }

    /// Submits `list` and turns the first failed change into an error;
    /// `ENOENT` is ignored when `allow_missing` (deleting a filter the
    /// kernel already dropped).
    fn apply_checked(&self, list: &mut [libc::kevent], allow_missing: bool) -> io::Result<()> {
        for errno in self.apply(list)? {
            if errno != 0 && !(allow_missing && errno == libc::ENOENT) {
                return Err(io::Error::from_raw_os_error(errno));
            }
        }
        Ok(())
    }

    /// Whether the kernel still has the read or write filter of an entry:
    /// a no-op change (the same token, `EV_ENABLE` on an enabled filter)
    /// fails with `ENOENT` if the descriptor was closed meanwhile.
    fn still_registered(&self, fd: RawSource, token: usize, interest: Interest) -> bool {
        let mut probe = changes(fd, token, interest, libc::EV_ENABLE);
        probe.truncate(1);
        matches!(self.apply(&mut probe).as_deref(), Ok([0]))
    }
}

impl ReactorBackend for KqueueReactor {
    fn new() -> io::Result<Self> {
        // SAFETY: kqueue takes no arguments.
        let kq = syscall!(kqueue())?;
        // Owned from here: a failure below closes it through Drop.
        let reactor = KqueueReactor {
            kq,
            registered: Mutex::new(HashMap::new()),
        };
        set_cloexec(kq)?;
        let mut user = [kevent_for(
            UNPARK_IDENT,
            libc::EVFILT_USER,
            libc::EV_ADD | libc::EV_CLEAR,
            0,
            UNPARK_TOKEN,
        )];
        reactor.apply_checked(&mut user, false)?;
        Ok(reactor)
    }

    fn register(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        let mut map = self.lock();
        if let Some(&(old_token, old_interest)) = map.get(&source) {
            if self.still_registered(source, old_token, old_interest) {
                // EEXIST, as epoll reports it: `AlreadyExists`.
                return Err(io::Error::from_raw_os_error(libc::EEXIST));
            }
            map.remove(&source);
        }
        let mut list = changes(source, token, interest, libc::EV_ADD | libc::EV_CLEAR);
        let errnos = self.apply(&mut list)?;
        if let Some(&errno) = errnos.iter().find(|&&e| e != 0) {
            // Undo the filters that were added, so a failed registration
            // leaves nothing behind.
            let mut undo: Vec<libc::kevent> = list
                .iter()
                .zip(&errnos)
                .filter(|(_, e)| **e == 0)
                .map(|(ev, _)| {
                    let filter = ev.filter;
                    kevent_for(source as usize, filter, libc::EV_DELETE, 0, token)
                })
                .collect();
            if !undo.is_empty() {
                let _ = self.apply(&mut undo);
            }
            return Err(io::Error::from_raw_os_error(errno));
        }
        map.insert(source, (token, interest));
        Ok(())
    }

    fn reregister(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        let mut map = self.lock();
        let Some(&(_, old_interest)) = map.get(&source) else {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        };
        let (old_read, old_write) = filters(old_interest);
        let (read, write) = filters(interest);
        let mut list = changes(source, token, interest, libc::EV_ADD | libc::EV_CLEAR);
        if old_read && !read {
            list.push(kevent_for(
                source as usize,
                libc::EVFILT_READ,
                libc::EV_DELETE,
                0,
                token,
            ));
        }
        if old_write && !write {
            list.push(kevent_for(
                source as usize,
                libc::EVFILT_WRITE,
                libc::EV_DELETE,
                0,
                token,
            ));
        }
        self.apply_checked(&mut list, false)?;
        map.insert(source, (token, interest));
        Ok(())
    }

    fn deregister(&self, source: RawSource) -> io::Result<()> {
        let mut map = self.lock();
        let Some((token, interest)) = map.remove(&source) else {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        };
        let mut list = changes(source, token, interest, libc::EV_DELETE);
        self.apply_checked(&mut list, true)
    }

    fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        let ts;
        let ts_ptr = match timeout {
            None => std::ptr::null(),
            Some(d) => {
                ts = libc::timespec {
                    tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                    tv_nsec: d.subsec_nanos() as _,
                };
                &ts as *const libc::timespec
            }
        };
        let (buf, cap) = events.spare();
        // SAFETY: no changes are passed; `buf` has room for `cap` events;
        // `ts_ptr` is null (no limit) or points to `ts`, alive until the
        // call returns.
        let n = match syscall!(kevent(self.kq, std::ptr::null(), 0, buf, cap, ts_ptr)) {
            Ok(n) => n as usize,
            // A signal interrupted the wait: report no events; the caller
            // recomputes its timeout and polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        // SAFETY: the kernel initialised the first `n` (≤ cap) entries.
        unsafe { events.set_len(n) };
        Ok(n)
    }

    fn unpark(&self) {
        let mut trigger = [kevent_for(
            UNPARK_IDENT,
            libc::EVFILT_USER,
            0,
            libc::NOTE_TRIGGER,
            UNPARK_TOKEN,
        )];
        let ptr = trigger.as_mut_ptr();
        // SAFETY: one live change record, no event list; triggering a user
        // event never blocks. It fails only if the kqueue is broken, and
        // then no poll can return anyway.
        let _ = syscall!(kevent(
            self.kq,
            ptr.cast_const(),
            1,
            std::ptr::null_mut(),
            0,
            std::ptr::null()
        ));
    }
}

impl Drop for KqueueReactor {
    fn drop(&mut self) {
        // SAFETY: we own the kqueue descriptor; nothing uses it after drop.
        unsafe { libc::close(self.kq) };
    }
}

#[cfg(test)]
mod tests;
