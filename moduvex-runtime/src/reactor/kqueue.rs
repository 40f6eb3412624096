//! The macOS and FreeBSD backend: one kqueue.
//!
//! # Edge-triggered, registered once
//!
//! As with epoll (see `epoll.rs`), a source is registered once for every
//! direction it wants, with `EV_CLEAR`: an `EVFILT_READ` and/or an
//! `EVFILT_WRITE` filter that report each new edge once. Readiness is kept
//! in the source and cleared by a `WouldBlock`, so no wait re-arms
//! anything. `EV_EOF` on the read filter means the peer closed its write
//! side; on the write filter, that this side can no longer write.
//!
//! # Unpark
//!
//! A user event (`EVFILT_USER`, ident 0, `EV_CLEAR`) is added when the
//! queue is made; `NOTE_TRIGGER` fires it from any thread, and the wait
//! reports it under [`UNPARK_TOKEN`]. No descriptor is needed for it.
//!
//! # Registering twice
//!
//! kqueue's `EV_ADD` on a descriptor it already watches silently updates
//! the filter, where epoll says `EEXIST`. The backend keeps the set of
//! registered descriptors, so registering one twice is an `AlreadyExists`
//! error and removing an unknown one `NotFound`, on every OS alike.

use std::collections::HashSet;
use std::io;
use std::os::fd::RawFd;
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::{ReactorBackend, UNPARK_TOKEN};
use crate::platform::sys::{set_cloexec, syscall, Events, Interest, RawSource};

/// An owned kqueue and the descriptors registered with it.
#[derive(Debug)]
pub struct KqueueReactor {
    kq: RawFd,
    /// Every descriptor added and not yet removed (see the module docs).
    registered: Mutex<HashSet<RawFd>>,
}

/// A change record for `fd`'s `filter`.
fn change(fd: RawFd, filter: i16, flags: u16, token: usize) -> libc::kevent {
    // SAFETY: kevent is plain old data; all-zero is a valid value that the
    // fields set below complete.
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = fd as libc::uintptr_t;
    ev.filter = filter as _;
    ev.flags = flags as _;
    ev.udata = token as _;
    ev
}

/// `kevent`'s timeout for `d`, saturating.
fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as _,
    }
}

impl KqueueReactor {
    /// The kqueue descriptor itself (pollable: another kqueue can watch it
    /// with `EVFILT_READ`, which is how the foster thread nests reactors).
    pub(crate) fn raw(&self) -> RawSource {
        self.kq
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<RawFd>> {
        // Only set operations run under this lock.
        self.registered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `changes` and returns the first error other than one listed
    /// in `ignore` (`EV_RECEIPT`: every change reports its own result).
    fn apply(&self, changes: &mut [libc::kevent], ignore: &[i32]) -> io::Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        for ev in changes.iter_mut() {
            ev.flags |= libc::EV_RECEIPT;
        }
        let n = changes.len() as libc::c_int;
        let ptr = changes.as_mut_ptr();
        // SAFETY: `ptr` points to `n` initialised records, used both as the
        // change list and as the receipt buffer (kevent reads all changes
        // before writing receipts); a zero timeout never blocks.
        let got = syscall!(kevent(self.kq, ptr, n, ptr, n, &timespec(Duration::ZERO)))?;
        for ev in &changes[..got as usize] {
            let (flags, data) = (ev.flags, ev.data);
            if flags & libc::EV_ERROR != 0 && data != 0 {
                let errno = data as i32;
                if !ignore.contains(&errno) {
                    return Err(io::Error::from_raw_os_error(errno));
                }
            }
        }
        Ok(())
    }

    /// The filters `interest` needs: errors and priority data are reported
    /// with the read filter, so an interest in those alone watches it.
    fn filters(interest: Interest) -> (bool, bool) {
        let write = interest.is_writable();
        let read = interest.is_readable() || !write;
        (read, write)
    }
}

impl ReactorBackend for KqueueReactor {
    fn new() -> io::Result<Self> {
        // SAFETY: kqueue takes no arguments.
        let kq = syscall!(kqueue())?;
        // Owned from here: a failure below closes `kq` through Drop.
        let reactor = KqueueReactor {
            kq,
            registered: Mutex::new(HashSet::new()),
        };
        set_cloexec(kq)?;
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        reactor.apply(
            &mut [change(0, libc::EVFILT_USER, flags, UNPARK_TOKEN)],
            &[],
        )?;
        Ok(reactor)
    }

    fn register(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        let mut registered = self.lock();
        if registered.contains(&source) {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        let (read, write) = Self::filters(interest);
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        let mut changes = Vec::with_capacity(2);
        if read {
            changes.push(change(source, libc::EVFILT_READ, flags, token));
        }
        if write {
            changes.push(change(source, libc::EVFILT_WRITE, flags, token));
        }
        if let Err(e) = self.apply(&mut changes, &[]) {
            // Undo a half-made registration (the read filter was added).
            let mut undo = [
                change(source, libc::EVFILT_READ, libc::EV_DELETE, 0),
                change(source, libc::EVFILT_WRITE, libc::EV_DELETE, 0),
            ];
            let _ = self.apply(&mut undo, &[libc::ENOENT]);
            return Err(e);
        }
        registered.insert(source);
        Ok(())
    }

    fn reregister(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        let registered = self.lock();
        if !registered.contains(&source) {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        let (read, write) = Self::filters(interest);
        let add = libc::EV_ADD | libc::EV_CLEAR;
        let del = libc::EV_DELETE;
        let mut changes = [
            change(
                source,
                libc::EVFILT_READ,
                if read { add } else { del },
                token,
            ),
            change(
                source,
                libc::EVFILT_WRITE,
                if write { add } else { del },
                token,
            ),
        ];
        // Deleting a filter that was not there is what was asked for.
        self.apply(&mut changes, &[libc::ENOENT])
    }

    fn deregister(&self, source: RawSource) -> io::Result<()> {
        let mut registered = self.lock();
        if !registered.remove(&source) {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        let del = libc::EV_DELETE;
        let mut changes = [
            change(source, libc::EVFILT_READ, del, 0),
            change(source, libc::EVFILT_WRITE, del, 0),
        ];
        self.apply(&mut changes, &[libc::ENOENT])
    }

    fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        let (buf, cap) = events.spare();
        let ts = timeout.map(timespec);
        let ts_ptr = ts
            .as_ref()
            .map_or(ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `buf` has room for `cap` records, `ts_ptr` is null (wait
        // without limit) or points to a live timespec, and no changes are
        // passed.
        let n = match syscall!(kevent(self.kq, ptr::null(), 0, buf, cap, ts_ptr)) {
            Ok(n) => n as usize,
            // A signal interrupted the wait: report no events; the caller
            // recomputes its timeout and polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        // SAFETY: the kernel initialised the first `n` (≤ cap) records.
        unsafe { events.set_len(n) };
        Ok(n)
    }

    fn unpark(&self) {
        let mut ev = change(0, libc::EVFILT_USER, 0, UNPARK_TOKEN);
        ev.fflags = libc::NOTE_TRIGGER;
        // Fails only on a closed kqueue, which cannot happen while `self`
        // lives; there is no one to report it to.
        let _ = self.apply(&mut [ev], &[]);
    }
}

impl Drop for KqueueReactor {
    fn drop(&mut self) {
        // SAFETY: we own the kqueue descriptor; nothing uses it after drop.
        unsafe { libc::close(self.kq) };
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;

    use super::*;
    use crate::platform::sys::events_with_capacity;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    fn wait(kq: &KqueueReactor) -> Vec<crate::platform::sys::Event> {
        let mut events = events_with_capacity(16);
        kq.poll(&mut events, Some(Duration::from_secs(5))).unwrap();
        events.iter().collect()
    }

    #[test]
    fn reports_readable_then_eof() {
        let kq = KqueueReactor::new().unwrap();
        let (a, mut b) = pair();
        kq.register(a.as_raw_fd(), 7, Interest::READABLE).unwrap();
        b.write_all(b"x").unwrap();
        let evs = wait(&kq);
        assert!(evs
            .iter()
            .any(|e| e.token == 7 && e.readable && !e.read_closed));
        let mut buf = [0; 1];
        (&a).read_exact(&mut buf).unwrap();
        drop(b);
        let evs = wait(&kq);
        assert!(evs
            .iter()
            .any(|e| e.token == 7 && e.readable && e.read_closed));
        kq.deregister(a.as_raw_fd()).unwrap();
    }

    #[test]
    fn edge_triggered_reports_once() {
        let kq = KqueueReactor::new().unwrap();
        let (a, mut b) = pair();
        kq.register(a.as_raw_fd(), 1, Interest::READABLE).unwrap();
        b.write_all(b"x").unwrap();
        assert!(!wait(&kq).is_empty());
        let mut events = events_with_capacity(4);
        // Not read: EV_CLEAR does not report the same edge again.
        assert_eq!(kq.poll(&mut events, Some(Duration::ZERO)).unwrap(), 0);
    }

    #[test]
    fn registers_once_and_removes_once() {
        let kq = KqueueReactor::new().unwrap();
        let (a, _b) = pair();
        let fd = a.as_raw_fd();
        kq.register(fd, 1, Interest::BOTH).unwrap();
        let again = kq.register(fd, 2, Interest::BOTH).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        kq.reregister(fd, 3, Interest::READABLE).unwrap();
        kq.deregister(fd).unwrap();
        let gone = kq.deregister(fd).unwrap_err();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn unpark_from_another_thread_ends_a_blocking_wait() {
        let kq = Arc::new(KqueueReactor::new().unwrap());
        let other = kq.clone();
        let t = std::thread::spawn(move || other.unpark());
        let mut events = events_with_capacity(4);
        // No timeout: only the unpark can end it.
        kq.poll(&mut events, None).unwrap();
        assert!(events.iter().any(|e| e.token == UNPARK_TOKEN));
        t.join().unwrap();
    }

    #[test]
    fn a_timeout_returns_no_events() {
        let kq = KqueueReactor::new().unwrap();
        let mut events = events_with_capacity(4);
        let n = kq
            .poll(&mut events, Some(Duration::from_micros(200)))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn writable_at_once_and_closed_with_the_peer() {
        let kq = KqueueReactor::new().unwrap();
        let (a, b) = pair();
        kq.register(a.as_raw_fd(), 5, Interest::WRITABLE).unwrap();
        assert!(wait(&kq).iter().any(|e| e.token == 5 && e.writable));
        drop(b);
        assert!(wait(&kq).iter().any(|e| e.token == 5 && e.write_closed));
    }
}

#[cfg(test)]
mod more_tests;
