//! The Windows backend: readiness from AFD polls on one I/O completion
//! port per reactor, through the `polling` crate.
//!
//! Windows has no readiness API for sockets; mio, polling and libuv all
//! submit `IOCTL_AFD_POLL` requests to the socket's AFD driver and collect
//! their completions on a completion port. This backend uses `polling`
//! (smol's, maintained, and tested on Wine) for that part rather than
//! writing the AFD handling again, and adds what the runtime's reactor
//! contract asks for on top.
//!
//! # Edge triggering on one-shot polls
//!
//! The reactor's sources register once for both directions and cache
//! readiness until an operation returns `WouldBlock` (see `epoll.rs`). An
//! AFD poll is one-shot: it completes once, then the socket is watched no
//! more. So the backend emulates edge triggering as mio does on Windows.
//! Each registration keeps the directions it *wants*, the directions it
//! has *reported* whose readiness the source has not cleared yet, and the
//! directions *armed* (an AFD poll is pending for them):
//!
//! - after an event, the registration is disarmed; the reported directions
//!   are added, and `wanted − reported` is armed again;
//! - when the source clears a direction (`WouldBlock`, through
//!   [`ReactorBackend::rearm`]), it leaves `reported`, and is armed again
//!   unless a pending poll already covers it.
//!
//! The invariant: **every wanted direction is either armed or reported**,
//! and a reported one is (or is about to be) set in the source's cached
//! readiness, so its next `WouldBlock` re-arms it. No edge is lost by
//! re-arming late: an AFD poll submitted while the socket is already ready
//! in that direction completes at once. A stale re-arm (the direction was
//! reported again meanwhile) costs at most one spurious event, which the
//! source answers with one more `WouldBlock`.
//!
//! Peer hang-ups: AFD reports an abort (reset) as `read_closed` and
//! `write_closed`; an orderly shutdown by the peer shows as readable, and
//! the read that follows returns 0 bytes (EOF). An `Interest::ERROR`-only
//! registration arms nothing (AFD has no "errors only" poll).
//!
//! # Unpark and one waiter
//!
//! [`unpark`](ReactorBackend::unpark) sets a flag and posts a completion
//! packet (`PostQueuedCompletionStatus`); the poll that returns takes the
//! flag and reports it as one [`UNPARK_TOKEN`] event, so the reactor's
//! foreign polls can hand a consumed unpark back. `polling` lets one thread
//! wait at a time (a second `wait` returns at once with nothing), so the
//! backend keeps its own "someone waits" flag. A poll that finds it set
//! waits for it to clear for at most its own timeout and then returns
//! `Ok(0)`: the thread waiting on the port delivers the events itself. So a
//! zero-timeout poll (an idle worker standing in for a busy sibling) never
//! waits behind the owner, a timed poll never waits longer than asked (a
//! fostered reactor's driving thread may hold the port indefinitely), and
//! only a poll without a timeout waits as long as it takes.
//!
//! Timeouts are rounded up to whole milliseconds by the completion port.

use std::collections::HashMap;
use std::io;
use std::os::windows::io::BorrowedSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use polling::{PollMode, Poller};

use super::{ReactorBackend, UNPARK_TOKEN};
use crate::platform::sys::{Event, Events, Interest, RawSource};

/// Direction bits of a registration's state.
const READ: u8 = 0b01;
const WRITE: u8 = 0b10;

fn dirs(interest: Interest) -> u8 {
    let mut d = 0;
    if interest.is_readable() || interest.is_priority() {
        d |= READ;
    }
    if interest.is_writable() {
        d |= WRITE;
    }
    d
}

/// One registered socket (see "Edge triggering" in the module docs).
#[derive(Debug)]
struct Reg {
    token: usize,
    wanted: u8,
    reported: u8,
    armed: u8,
}

#[derive(Debug, Default)]
struct Regs {
    by_socket: HashMap<RawSource, Reg>,
    by_token: HashMap<usize, RawSource>,
}

/// A completion port watching sockets through AFD polls.
#[derive(Debug)]
pub struct IocpReactor {
    poller: Poller,
    /// Set by `unpark`, taken by the poll that returns next.
    unparked: AtomicBool,
    /// Whether a thread waits on the port (see the module docs), and the
    /// condition the next waiter waits on for it to clear.
    waiting: Mutex<bool>,
    waiting_done: Condvar,
    regs: Mutex<Regs>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only map operations and system calls run under these locks.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Borrows a registered socket for a `polling` call.
///
/// # Safety
/// `source` must be an open socket for the duration of the borrow: a
/// registered socket is (`ReactorBackend::deregister` is called before it
/// is closed).
unsafe fn borrow(source: RawSource) -> BorrowedSocket<'static> {
    // SAFETY: guaranteed by the caller.
    unsafe { BorrowedSocket::borrow_raw(source) }
}

/// The right to wait on the port, given back on drop.
struct Waiting<'a>(&'a IocpReactor);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        *lock(&self.0.waiting) = false;
        self.0.waiting_done.notify_one();
    }
}

impl IocpReactor {
    /// Takes the right to wait on the port, waiting for it at most
    /// `timeout` (`None`: as long as it takes).
    fn begin_wait(&self, timeout: Option<Duration>) -> Option<Waiting<'_>> {
        let deadline = timeout.map(|t| Instant::now().checked_add(t));
        let mut busy = lock(&self.waiting);
        while *busy {
            busy = match deadline {
                None | Some(None) => self
                    .waiting_done
                    .wait(busy)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(Some(deadline)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.waiting_done
                        .wait_timeout(busy, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        *busy = true;
        Some(Waiting(self))
    }

    /// Arms `reg` for `wanted − reported` if that differs from what is armed.
    fn arm(&self, source: RawSource, reg: &mut Reg) -> io::Result<()> {
        let want = reg.wanted & !reg.reported;
        if want == reg.armed {
            return Ok(());
        }
        let ev = polling::Event::new(reg.token, want & READ != 0, want & WRITE != 0);
        // SAFETY: `source` is registered (the caller holds its entry under
        // the registrations' lock), hence open.
        let sock = unsafe { borrow(source) };
        self.poller.modify_with_mode(sock, ev, PollMode::Oneshot)?;
        reg.armed = want;
        Ok(())
    }
}

impl ReactorBackend for IocpReactor {
    fn new() -> io::Result<Self> {
        Ok(IocpReactor {
            poller: Poller::new()?,
            unparked: AtomicBool::new(false),
            waiting: Mutex::new(false),
            waiting_done: Condvar::new(),
            regs: Mutex::new(Regs::default()),
        })
    }

    fn register(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        let mut regs = lock(&self.regs);
        if regs.by_socket.contains_key(&source) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        let wanted = dirs(interest);
        let ev = polling::Event::new(token, wanted & READ != 0, wanted & WRITE != 0);
        // SAFETY: the socket stays open until it is deregistered (the
        // trait's contract), and `deregister` deletes it from the poller.
        unsafe { self.poller.add_with_mode(source, ev, PollMode::Oneshot)? };
        // A raw registration reusing a token: the newest owns it.
        regs.by_token.insert(token, source);
        regs.by_socket.insert(
            source,
            Reg {
                token,
                wanted,
                reported: 0,
                armed: wanted,
            },
        );
        Ok(())
    }

    fn reregister(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        let mut regs = lock(&self.regs);
        let regs = &mut *regs;
        let reg = regs
            .by_socket
            .get_mut(&source)
            .ok_or(io::ErrorKind::NotFound)?;
        if regs.by_token.get(&reg.token) == Some(&source) {
            regs.by_token.remove(&reg.token);
        }
        regs.by_token.insert(token, source);
        reg.token = token;
        reg.wanted = dirs(interest);
        reg.reported = 0;
        // Force a fresh poll under the new token.
        reg.armed = !0;
        self.arm(source, reg)
    }

    fn deregister(&self, source: RawSource) -> io::Result<()> {
        let mut regs = lock(&self.regs);
        let reg = regs
            .by_socket
            .remove(&source)
            .ok_or(io::ErrorKind::NotFound)?;
        if regs.by_token.get(&reg.token) == Some(&source) {
            regs.by_token.remove(&reg.token);
        }
        // SAFETY: still registered until this call returns, hence open.
        let sock = unsafe { borrow(source) };
        self.poller.delete(sock)
    }

    fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        events.clear();
        let start = Instant::now();
        let Some(_waiting) = self.begin_wait(timeout) else {
            // Another thread waits on the port and delivers the events.
            return Ok(0);
        };
        let timeout = timeout.map(|t| t.saturating_sub(start.elapsed()));
        match self.poller.wait(events.raw_mut(), timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let (raw, decoded) = events.parts_mut();
        if !raw.is_empty() {
            let mut regs = lock(&self.regs);
            let regs = &mut *regs;
            for pev in raw.iter() {
                let Some(&source) = regs.by_token.get(&pev.key) else {
                    // Deregistered since the poll completed.
                    continue;
                };
                let Some(reg) = regs.by_socket.get_mut(&source) else {
                    continue;
                };
                // A one-shot completion disarms the whole registration.
                reg.armed = 0;
                let hup = pev.is_interrupt();
                let error = pev.is_err() == Some(true);
                let mut got = 0;
                if pev.readable && reg.wanted & READ != 0 {
                    got |= READ;
                }
                if pev.writable && reg.wanted & WRITE != 0 {
                    got |= WRITE;
                }
                reg.reported |= got;
                // Re-arming may fail only for a socket closed behind its
                // source's back; its next operation reports that.
                let _ = self.arm(source, reg);
                if got == 0 && !hup && !error {
                    continue;
                }
                decoded.push(Event {
                    token: reg.token,
                    readable: got & READ != 0,
                    writable: got & WRITE != 0,
                    read_closed: hup,
                    write_closed: hup,
                    error,
                    priority: pev.is_priority(),
                });
            }
        }
        if self.unparked.swap(false, Ordering::AcqRel) {
            decoded.push(Event {
                token: UNPARK_TOKEN,
                readable: false,
                writable: false,
                read_closed: false,
                write_closed: false,
                error: false,
                priority: false,
            });
        }
        Ok(decoded.len())
    }

    fn unpark(&self) {
        self.unparked.store(true, Ordering::Release);
        // Fails only if the port is gone, and then no one polls it.
        let _ = self.poller.notify();
    }

    const REARMS: bool = true;

    fn rearm(&self, source: RawSource, token: usize, cleared: Interest) -> io::Result<()> {
        let mut regs = lock(&self.regs);
        let Some(reg) = regs.by_socket.get_mut(&source) else {
            return Ok(());
        };
        if reg.token != token {
            return Ok(());
        }
        reg.reported &= !dirs(cleared);
        self.arm(source, reg)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::windows::io::AsRawSocket;

    use super::*;
    use crate::platform::sys::events_with_capacity;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    fn poll_for(r: &IocpReactor, token: usize) -> Option<Event> {
        let mut events = events_with_capacity(8);
        r.poll(&mut events, Some(Duration::from_millis(2000)))
            .unwrap();
        events.iter().find(|ev| ev.token == token)
    }

    #[test]
    fn a_direction_is_reported_once_until_cleared() {
        let r = IocpReactor::new().unwrap();
        let (mut a, mut b) = pair();
        r.register(a.as_raw_socket(), 1, Interest::BOTH).unwrap();
        let ev = poll_for(&r, 1).expect("writable at once");
        assert!(ev.writable);
        b.write_all(b"x").unwrap();
        // Writability was reported and not cleared: only the read comes.
        let ev = poll_for(&r, 1).expect("readable");
        assert!(ev.readable && !ev.writable);
        let mut buf = [0; 8];
        assert_eq!(a.read(&mut buf).unwrap(), 1);
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        r.rearm(a.as_raw_socket(), 1, Interest::READABLE).unwrap();
        let mut events = events_with_capacity(8);
        r.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        assert!(events.iter().all(|ev| ev.token != 1), "nothing new to read");
        b.write_all(b"y").unwrap();
        assert!(poll_for(&r, 1).expect("readable again").readable);
        r.deregister(a.as_raw_socket()).unwrap();
    }

    #[test]
    fn a_rearm_while_ready_reports_at_once() {
        let r = IocpReactor::new().unwrap();
        let (a, _b) = pair();
        r.register(a.as_raw_socket(), 2, Interest::WRITABLE)
            .unwrap();
        assert!(poll_for(&r, 2).unwrap().writable);
        // Still writable: re-arming reports it again at once.
        r.rearm(a.as_raw_socket(), 2, Interest::WRITABLE).unwrap();
        assert!(poll_for(&r, 2).unwrap().writable);
        r.deregister(a.as_raw_socket()).unwrap();
    }

    #[test]
    fn a_zero_timeout_poll_does_not_wait_behind_a_waiter() {
        let r = std::sync::Arc::new(IocpReactor::new().unwrap());
        let r2 = r.clone();
        let waiter = std::thread::spawn(move || {
            let mut events = events_with_capacity(4);
            r2.poll(&mut events, None).unwrap();
            events.iter().any(|ev| ev.token == UNPARK_TOKEN)
        });
        // Whether or not the waiter has started, this returns at once.
        let mut events = events_with_capacity(4);
        let n = r.poll(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(n, events.len());
        r.unpark();
        // The unpark is reported by a poll that ran after it: the waiter's,
        // unless the zero-timeout poll above took it (it ran before).
        assert!(waiter.join().unwrap());
    }

    #[test]
    fn a_timed_poll_returns_while_another_thread_waits_without_a_timeout() {
        let r = std::sync::Arc::new(IocpReactor::new().unwrap());
        let r2 = r.clone();
        let waiter = std::thread::spawn(move || {
            let mut events = events_with_capacity(4);
            while !events.iter().any(|ev| ev.token == UNPARK_TOKEN) {
                r2.poll(&mut events, None).unwrap();
            }
        });
        let mut events = events_with_capacity(4);
        for _ in 0..3 {
            r.poll(&mut events, Some(Duration::from_millis(5))).unwrap();
        }
        r.unpark();
        waiter.join().unwrap();
    }

    #[test]
    fn unpark_is_reported_once() {
        let r = IocpReactor::new().unwrap();
        r.unpark();
        r.unpark();
        let mut events = events_with_capacity(4);
        r.poll(&mut events, None).unwrap();
        assert_eq!(
            events.iter().filter(|ev| ev.token == UNPARK_TOKEN).count(),
            1
        );
    }
}
