//! Reactor and `IoSource`: registration, readiness per direction, and
//! wake-ups delivered to tasks.

use std::io::{self, Read, Write};
#[cfg(windows)]
use std::net::TcpStream as PairStream;
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::net::UnixStream as PairStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[cfg(unix)]
use moduvex_runtime::platform::sys::create_pipe;
use moduvex_runtime::platform::sys::events_with_capacity;
#[cfg(unix)]
use moduvex_runtime::platform::sys::Interest;
use moduvex_runtime::platform::AsRawSource;
use moduvex_runtime::reactor::{with_reactor, Direction, IoSource, Reactor};
use moduvex_runtime::{block_on, spawn};

struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<CountingWaker>, Waker) {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

#[cfg(unix)]
fn pipe() -> (std::fs::File, std::fs::File) {
    let (r, w) = create_pipe().unwrap();
    // SAFETY: create_pipe returns two fresh descriptors we now own.
    unsafe {
        (
            std::fs::File::from(OwnedFd::from_raw_fd(r)),
            std::fs::File::from(OwnedFd::from_raw_fd(w)),
        )
    }
}

/// A connected stream pair: Unix-domain on Unix, loopback TCP on Windows
/// (which has no socketpair).
#[cfg(unix)]
fn stream_pair() -> (PairStream, PairStream) {
    PairStream::pair().unwrap()
}

/// A connected stream pair: Unix-domain on Unix, loopback TCP on Windows
/// (which has no socketpair).
#[cfg(windows)]
fn stream_pair() -> (PairStream, PairStream) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = PairStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

fn drive(reactor: &Reactor) {
    let mut events = events_with_capacity(64);
    reactor.poll(&mut events, Some(0)).unwrap();
}

/// Whether `src` has recorded write readiness (without waiting for it).
fn writable<T: AsRawSource>(src: &IoSource<T>) -> bool {
    src.try_io(Direction::Write, |_| Ok(())).is_ok()
}

/// Drives `reactor` until `done()`. A source registered outside any
/// scheduler is fostered, so the foster thread may take its event first and
/// wake the task a moment later, on its own thread: wait for that too. The
/// bound only keeps a lost wake-up from hanging the suite.
fn drive_until(reactor: &Reactor, what: &str, done: impl Fn() -> bool) {
    let mut events = events_with_capacity(64);
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < give_up,
            "{what}: never happened"
        );
        reactor.poll(&mut events, Some(1)).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn register_deregister_round_trips() {
    let (r, _w) = pipe();
    with_reactor(|reactor| {
        for token in 0..100 {
            reactor
                .register(r.as_raw_fd(), token, Interest::READABLE)
                .unwrap();
            reactor
                .reregister(r.as_raw_fd(), token, Interest::BOTH)
                .unwrap();
            reactor.deregister(r.as_raw_fd()).unwrap();
        }
    });
    for _ in 0..100 {
        let (r, _w) = pipe();
        let src = IoSource::new(r).unwrap();
        let r = src.into_inner().unwrap();
        // Deregistered: can be registered again.
        drop(IoSource::new(r).unwrap());
    }
    with_reactor(|reactor| assert_eq!(reactor.wakers().len(), 0));
}

#[cfg(unix)]
#[test]
fn io_source_registering_a_registered_fd_is_an_error() {
    let (r, _w) = pipe();
    let src = IoSource::new(r).unwrap();
    // Same descriptor, second registration through a borrowed view.
    struct Borrowed(i32);
    impl AsRawFd for Borrowed {
        fn as_raw_fd(&self) -> i32 {
            self.0
        }
    }
    let err = IoSource::new(Borrowed(src.get_ref().as_raw_fd())).map(|s| {
        std::mem::forget(s);
    });
    assert_eq!(err.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
}

#[cfg(unix)]
#[test]
fn pipe_readiness_wakes_exactly_the_right_direction() {
    let (r, w) = pipe();
    let reader = IoSource::new(r).unwrap();
    let writer = IoSource::new(w).unwrap();
    let reactor = with_reactor(Reactor::clone);
    // The initial writable edge for the writer.
    drive_until(&reactor, "the writer's first edge", || writable(&writer));

    let (reads, read_waker) = counting();
    let mut cx = Context::from_waker(&read_waker);
    assert!(reader.poll_ready(&mut cx, Direction::Read).is_pending());
    // The write end is writable right away; the read end is not readable.
    let (writes, write_waker) = counting();
    let mut wcx = Context::from_waker(&write_waker);
    let ev = match writer.poll_ready(&mut wcx, Direction::Write) {
        Poll::Ready(ev) => ev,
        Poll::Pending => panic!("an empty pipe must be writable"),
    };
    let _ = ev;
    drive(&reactor);
    assert_eq!(
        reads.0.load(Ordering::SeqCst),
        0,
        "no data yet: no read wake"
    );

    writer.get_ref().write_all(b"x").unwrap();
    drive_until(&reactor, "the read wake", || {
        reads.0.load(Ordering::SeqCst) > 0
    });
    assert_eq!(
        reads.0.load(Ordering::SeqCst),
        1,
        "data arrived: one read wake"
    );
    assert_eq!(
        writes.0.load(Ordering::SeqCst),
        0,
        "the writer was not waiting"
    );
    assert!(reader.poll_ready(&mut cx, Direction::Read).is_ready());
}

#[test]
fn arming_write_keeps_a_pending_read() {
    let (a, b) = stream_pair();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let src = IoSource::new(a).unwrap();
    let reactor = with_reactor(Reactor::clone);
    drive(&reactor);
    let (reads, read_waker) = counting();
    let (_writes, write_waker) = counting();
    assert!(src
        .poll_ready(&mut Context::from_waker(&read_waker), Direction::Read)
        .is_pending());
    // Arm the write direction too; this must not drop the read waiter.
    let _ = src.poll_ready(&mut Context::from_waker(&write_waker), Direction::Write);
    (&b).write_all(b"hello").unwrap();
    drive_until(&reactor, "the read wake", || {
        reads.0.load(Ordering::SeqCst) > 0
    });
    assert_eq!(reads.0.load(Ordering::SeqCst), 1);
}

#[test]
fn hangup_wakes_both_directions() {
    let (a, b) = stream_pair();
    a.set_nonblocking(true).unwrap();
    let src = IoSource::new(a).unwrap();
    let reactor = with_reactor(Reactor::clone);
    drive_until(&reactor, "the first writable edge", || writable(&src));
    // Fill the socket so the writer must wait.
    let mut filled = 0usize;
    loop {
        match src.get_ref().write(&[0u8; 65536]) {
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(filled > 0);
    let ev = match src.poll_ready(&mut Context::from_waker(Waker::noop()), Direction::Write) {
        Poll::Ready(ev) => ev,
        Poll::Pending => unreachable!("writable edge was recorded"),
    };
    src.clear_ready(ev);
    let (reads, rw) = counting();
    let (writes, ww) = counting();
    assert!(src
        .poll_ready(&mut Context::from_waker(&rw), Direction::Read)
        .is_pending());
    assert!(src
        .poll_ready(&mut Context::from_waker(&ww), Direction::Write)
        .is_pending());
    drop(b);
    drive_until(&reactor, "both hang-up wakes", || {
        reads.0.load(Ordering::SeqCst) > 0 && writes.0.load(Ordering::SeqCst) > 0
    });
    assert_eq!(
        reads.0.load(Ordering::SeqCst),
        1,
        "hang-up wakes the reader"
    );
    assert_eq!(
        writes.0.load(Ordering::SeqCst),
        1,
        "hang-up wakes the writer"
    );
}

#[test]
fn wouldblock_clears_readiness_and_task_waits_for_data() {
    let (a, b) = stream_pair();
    a.set_nonblocking(true).unwrap();
    let got = block_on(async move {
        let src = IoSource::new(a).unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            (&b).write_all(b"ping").unwrap();
            b
        });
        let mut buf = [0u8; 16];
        let n = src.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
        // Nothing more: try_io reports WouldBlock instead of waiting.
        let again = src.try_io(Direction::Read, |s| (&*s).read(&mut [0u8; 4]));
        assert_eq!(again.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        drop(writer.join().unwrap());
        buf[..n].to_vec()
    });
    assert_eq!(got, b"ping");
}

#[cfg(unix)]
#[test]
fn io_source_dropped_on_another_thread_deregisters_from_its_reactor() {
    let (r, mut w) = pipe();
    let src = IoSource::new(r).unwrap();
    let reactor = with_reactor(Reactor::clone);
    assert_eq!(reactor.wakers().len(), 1);
    std::thread::spawn(move || drop(src)).join().unwrap();
    assert_eq!(reactor.wakers().len(), 0);
    // The read end was closed after deregistration: writing finds no reader.
    let err = w.write_all(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn readiness_wakes_a_task_in_block_on() {
    let (a, b) = stream_pair();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let total = block_on(async move {
        let a = IoSource::new(a).unwrap();
        let b = IoSource::new(b).unwrap();
        let reader = spawn(async move {
            let mut total = 0;
            let mut buf = [0u8; 1024];
            loop {
                let n = a.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
                if n == 0 {
                    return total;
                }
                total += n;
            }
        });
        for _ in 0..100 {
            b.write_with(|s| (&*s).write(&[1u8; 1000])).await.unwrap();
            moduvex_runtime::yield_now().await;
        }
        drop(b);
        reader.await.unwrap()
    });
    assert_eq!(total, 100_000);
}

/// An accepted connection starts optimistically ready: its first read
/// happens without waiting for an event, and a read with nothing queued
/// still waits for (and gets) the next edge.
#[test]
fn accepted_streams_start_ready_and_still_wait_for_edges() {
    use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    use moduvex_runtime::net::{TcpListener, TcpStream};
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"first").await.unwrap();
            let mut buf = [0u8; 6];
            s.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"second");
            s.write_all(b"third").await.unwrap();
        });
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"first");
        s.write_all(b"second").await.unwrap();
        // Nothing queued yet: this read must wait for the client's edge.
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"third");
        client.await.unwrap();
    });
}
