//! More of the kqueue backend's tests, through [`ReactorBackend`]
//! directly: pipes, socket pairs, hang-ups, unpark from another thread and
//! before a wait, the registration errors, timeouts and nesting. They run
//! unchanged on any macOS or FreeBSD machine.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use super::*;
use crate::platform::sys::{create_pipe, events_with_capacity, Event};

fn poll(reactor: &KqueueReactor, timeout: Option<Duration>) -> Vec<Event> {
    let mut events = events_with_capacity(16);
    reactor.poll(&mut events, timeout).unwrap();
    events.iter().collect()
}

/// Polls until an event for `token` satisfying `want` arrives. Each poll
/// waits without a limit when nothing else can end it, so this never spins.
fn wait_for(reactor: &KqueueReactor, token: usize, want: impl Fn(&Event) -> bool) -> Event {
    loop {
        if let Some(ev) = poll(reactor, None)
            .into_iter()
            .find(|ev| ev.token == token && want(ev))
        {
            return ev;
        }
    }
}

fn close(fds: &[RawSource]) {
    for &fd in fds {
        // SAFETY: each descriptor is owned by the calling test, deregistered
        // (or never registered) and closed once.
        unsafe { libc::close(fd) };
    }
}

#[test]
fn a_pipe_reports_writable_then_readable() {
    let reactor = KqueueReactor::new().unwrap();
    let (r, w) = create_pipe().unwrap();
    reactor.register(r, 1, Interest::READABLE).unwrap();
    reactor.register(w, 2, Interest::WRITABLE).unwrap();
    let ev = wait_for(&reactor, 2, |ev| ev.writable);
    assert!(!ev.readable && !ev.write_closed);
    // SAFETY: w is an open pipe descriptor and the buffer holds the byte count passed.
    assert_eq!(unsafe { libc::write(w, b"x".as_ptr().cast(), 1) }, 1);
    let ev = wait_for(&reactor, 1, |ev| ev.readable);
    assert!(!ev.read_closed && !ev.error);
    reactor.deregister(r).unwrap();
    reactor.deregister(w).unwrap();
    close(&[r, w]);
}

#[test]
fn readiness_is_edge_triggered() {
    let reactor = KqueueReactor::new().unwrap();
    let (r, w) = create_pipe().unwrap();
    reactor.register(r, 1, Interest::READABLE).unwrap();
    // SAFETY: w is an open pipe descriptor and the buffer holds the byte count passed.
    assert_eq!(unsafe { libc::write(w, b"x".as_ptr().cast(), 1) }, 1);
    wait_for(&reactor, 1, |ev| ev.readable);
    // EV_CLEAR: the unread byte is not reported again without a new write.
    assert!(poll(&reactor, Some(Duration::ZERO)).is_empty());
    // SAFETY: as above.
    assert_eq!(unsafe { libc::write(w, b"y".as_ptr().cast(), 1) }, 1);
    wait_for(&reactor, 1, |ev| ev.readable);
    reactor.deregister(r).unwrap();
    close(&[r, w]);
}

#[test]
fn a_socket_pair_reports_both_directions_under_one_token() {
    let reactor = KqueueReactor::new().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    reactor.register(a.as_raw_fd(), 5, Interest::BOTH).unwrap();
    wait_for(&reactor, 5, |ev| ev.writable);
    b.write_all(b"ping").unwrap();
    wait_for(&reactor, 5, |ev| ev.readable);
    let mut buf = [0; 4];
    (&a).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    reactor.deregister(a.as_raw_fd()).unwrap();
}

#[test]
fn peer_close_is_read_closed() {
    let reactor = KqueueReactor::new().unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    reactor
        .register(a.as_raw_fd(), 7, Interest::READABLE)
        .unwrap();
    drop(b);
    let ev = wait_for(&reactor, 7, |ev| ev.read_closed);
    assert!(
        ev.readable,
        "a hang-up wakes readers: the next read sees EOF"
    );
    assert_eq!((&a).read(&mut [0; 1]).unwrap(), 0);
    reactor.deregister(a.as_raw_fd()).unwrap();
}

#[test]
fn a_closed_reader_makes_the_pipe_write_closed() {
    let reactor = KqueueReactor::new().unwrap();
    let (r, w) = create_pipe().unwrap();
    reactor.register(w, 8, Interest::WRITABLE).unwrap();
    close(&[r]);
    let ev = wait_for(&reactor, 8, |ev| ev.write_closed);
    assert!(ev.writable, "a hang-up wakes writers: the next write fails");
    reactor.deregister(w).unwrap();
    close(&[w]);
}

#[test]
fn registering_twice_and_unknown_deregistering_are_errors() {
    let reactor = KqueueReactor::new().unwrap();
    let (r, w) = create_pipe().unwrap();
    reactor.register(r, 1, Interest::READABLE).unwrap();
    let err = reactor.register(r, 2, Interest::WRITABLE).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    // The failed registration changed nothing: events still carry token 1.
    // SAFETY: w is an open pipe descriptor and the buffer holds the byte count passed.
    assert_eq!(unsafe { libc::write(w, b"x".as_ptr().cast(), 1) }, 1);
    let ev = wait_for(&reactor, 1, |ev| ev.readable);
    assert_eq!(ev.token, 1);
    reactor.deregister(r).unwrap();
    let err = reactor.deregister(r).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    let err = reactor.deregister(w).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    let err = reactor.reregister(w, 3, Interest::READABLE).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    close(&[r, w]);
}

#[test]
fn a_bad_descriptor_is_refused_and_leaves_nothing_behind() {
    let reactor = KqueueReactor::new().unwrap();
    // Far above any descriptor a test process opens (a just-closed number
    // could be reused by a test running in parallel).
    let bad: RawSource = RawSource::MAX;
    let err = reactor.register(bad, 1, Interest::BOTH).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    assert_eq!(
        reactor.deregister(bad).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
}

#[test]
fn reregister_moves_the_interest_and_the_token() {
    let reactor = KqueueReactor::new().unwrap();
    let (r, w) = create_pipe().unwrap();
    reactor.register(r, 1, Interest::BOTH).unwrap();
    reactor.reregister(r, 2, Interest::READABLE).unwrap();
    // SAFETY: w is an open pipe descriptor and the buffer holds the byte count passed.
    assert_eq!(unsafe { libc::write(w, b"x".as_ptr().cast(), 1) }, 1);
    let ev = wait_for(&reactor, 2, |ev| ev.readable);
    assert!(!ev.writable);
    assert!(poll(&reactor, Some(Duration::ZERO))
        .iter()
        .all(|ev| ev.token != 1));
    reactor.deregister(r).unwrap();
    close(&[r, w]);
}

#[test]
fn unpark_from_another_thread_ends_a_blocking_poll() {
    let reactor = std::sync::Arc::new(KqueueReactor::new().unwrap());
    let other = reactor.clone();
    let t = std::thread::spawn(move || other.unpark());
    // No timeout: only the unpark can end this wait.
    let ev = wait_for(&reactor, UNPARK_TOKEN, |_| true);
    assert!(!ev.readable && !ev.writable);
    t.join().unwrap();
    // EV_CLEAR: the user event is reported once per trigger.
    assert!(poll(&reactor, Some(Duration::ZERO)).is_empty());
}

#[test]
fn an_unpark_before_the_poll_is_not_lost() {
    let reactor = KqueueReactor::new().unwrap();
    reactor.unpark();
    reactor.unpark();
    let events = poll(&reactor, None);
    assert_eq!(events.len(), 1, "two unparks merge into one event");
    assert_eq!(events[0].token, UNPARK_TOKEN);
}

#[test]
fn a_timeout_with_no_events_returns_none() {
    let reactor = KqueueReactor::new().unwrap();
    assert!(poll(&reactor, Some(Duration::from_nanos(1))).is_empty());
    assert!(poll(&reactor, Some(Duration::from_millis(5))).is_empty());
    assert!(poll(&reactor, Some(Duration::ZERO)).is_empty());
}

#[test]
fn a_kqueue_is_readable_in_another_kqueue_while_it_has_events() {
    let outer = KqueueReactor::new().unwrap();
    let inner = KqueueReactor::new().unwrap();
    outer.register(inner.raw(), 9, Interest::READABLE).unwrap();
    inner.unpark();
    wait_for(&outer, 9, |ev| ev.readable);
    let ev = wait_for(&inner, UNPARK_TOKEN, |_| true);
    assert_eq!(ev.token, UNPARK_TOKEN);
    outer.deregister(inner.raw()).unwrap();
}
