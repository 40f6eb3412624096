//! Sockets outlive the thread, or the `block_on`, that created them: a
//! reactor nobody drives any more is fostered, so its sockets keep working
//! wherever they are used, and its descriptors close with its last socket.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::sync::Mutex;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::{Flavor, Runtime};

/// The tests here count descriptors and start threads: run them one at a
/// time.
static SERIAL: Mutex<()> = Mutex::new(());

const MULTI: [Flavor; 2] = [Flavor::ThreadPerCore, Flavor::WorkStealing];

fn rt(flavor: Flavor) -> Runtime {
    let mut b = Runtime::builder();
    b.flavor(flavor);
    if flavor != Flavor::CurrentThread {
        b.worker_threads(2);
    }
    b.build().unwrap()
}

#[cfg(unix)]
/// The descriptors open in this process: `/proc/self/fd` on Linux; other
/// Unixes are probed with `fcntl(F_GETFD)` up to the soft limit.
fn open_fds() -> Vec<i32> {
    if cfg!(target_os = "linux") {
        return std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the live struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let max = lim.rlim_cur.min(1 << 20) as i32;
    let is_open = |fd: i32| {
        // SAFETY: F_GETFD on any number only reads that descriptor's flags (or fails).
        unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
    };
    (0..max).filter(|&fd| is_open(fd)).collect()
}

#[cfg(unix)]
fn fd_count() -> usize {
    open_fds().len()
}

/// Runs `body` on its own thread and fails the test if it has not finished
/// after a minute: the bug these tests guard against is a hang.
fn no_hang(body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std_mpsc::channel();
    let t = std::thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => t.join().unwrap(),
        Err(std_mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: report its panic.
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(std_mpsc::RecvTimeoutError::Timeout) => {
            panic!("hung: a socket was left on a reactor nobody drives")
        }
    }
}

/// A blocking client: sends `msg`, returns what the server echoed.
fn echo_client(addr: SocketAddr, msg: &[u8]) -> Vec<u8> {
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    c.read_exact(&mut back).unwrap();
    back
}

/// Accepts one connection and echoes one message of `len` bytes.
async fn echo_once(listener: TcpListener, len: usize) {
    let (mut s, _) = listener.accept().await.unwrap();
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).await.unwrap();
    s.write_all(&buf).await.unwrap();
}

#[test]
fn a_listener_from_a_thread_that_exited_serves_on_a_runtime() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for flavor in MULTI {
        no_hang(move || {
            let listener = std::thread::spawn(|| {
                moduvex_runtime::block_on(TcpListener::bind("127.0.0.1:0")).unwrap()
            })
            .join()
            .unwrap();
            let addr = listener.local_addr().unwrap();
            let rt = rt(flavor);
            let server = rt.spawn(echo_once(listener, 5));
            assert_eq!(echo_client(addr, b"hello"), b"hello");
            rt.block_on(server).unwrap();
        });
    }
}

#[test]
fn a_listener_made_outside_any_runtime_serves_while_its_thread_blocks() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for flavor in MULTI {
        no_hang(move || {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            // Registered on this thread, which never runs a scheduler.
            let listener = TcpListener::from_std(std_listener).unwrap();
            let rt = rt(flavor);
            let (done_tx, done_rx) = std_mpsc::channel();
            rt.spawn(async move {
                echo_once(listener, 3).await;
                done_tx.send(()).unwrap();
            });
            assert_eq!(echo_client(addr, b"abc"), b"abc");
            // Blocks in std, not in the runtime.
            done_rx.recv().unwrap();
        });
    }
}

#[test]
fn a_current_thread_runtime_keeps_its_sockets_across_threads() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    no_hang(|| {
        let rt = std::sync::Arc::new(rt(Flavor::CurrentThread));
        let listener = {
            let rt = rt.clone();
            std::thread::spawn(move || rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap())
                .join()
                .unwrap()
        };
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || echo_client(addr, b"xyz"));
        let rt2 = rt.clone();
        std::thread::spawn(move || rt2.block_on(echo_once(listener, 3)))
            .join()
            .unwrap();
        assert_eq!(client.join().unwrap(), b"xyz");
    });
}

#[test]
fn readiness_that_arrives_between_two_block_ons_is_kept() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    no_hang(|| {
        let (listener, mut client, mut server) = moduvex_runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            (listener, client, server)
        });
        let addr = listener.local_addr().unwrap();
        // While no scheduler runs here: a new connection, and data both ways.
        let late = std::net::TcpStream::connect(addr).unwrap();
        let mut late_w = late.try_clone().unwrap();
        late_w.write_all(b"late").unwrap();
        moduvex_runtime::block_on(async {
            client.write_all(b"ping").await.unwrap();
        });
        std::thread::sleep(Duration::from_millis(20));
        moduvex_runtime::block_on(async {
            let mut buf = [0u8; 4];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            let (mut accepted, _) = listener.accept().await.unwrap();
            accepted.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"late");
            server.write_all(b"pong").await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"pong");
        });
        drop(late);
    });
}

#[cfg(unix)]
#[test]
fn a_dead_threads_reactor_closes_its_fds_with_its_last_socket() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Start the process's foster thread first, so its one epoll descriptor
    // is part of the baseline.
    let warm =
        std::thread::spawn(|| moduvex_runtime::block_on(TcpListener::bind("127.0.0.1:0")).unwrap())
            .join()
            .unwrap();
    drop(warm);
    let baseline = fd_count();
    let listeners: Vec<TcpListener> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                moduvex_runtime::block_on(TcpListener::bind("127.0.0.1:0")).unwrap()
            })
            .join()
            .unwrap()
        })
        .collect();
    // Each dead thread's reactor (epoll + eventfd) lives on with its socket.
    assert!(fd_count() >= baseline + 4 * 3);
    drop(listeners);
    // The foster thread may be draining one of those reactors right now,
    // holding a handle to it: that reactor closes when the drain ends.
    // Wait for it (bounded: a descriptor that never closes fails the test).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fd_count() != baseline && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(fd_count(), baseline, "every dead thread's reactor closed");
}

#[test]
fn many_reactors_fostered_at_once_all_deliver() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    no_hang(|| {
        // 32 threads each bind a listener and exit, at the same time.
        let makers: Vec<_> = (0..32)
            .map(|_| {
                std::thread::spawn(|| {
                    moduvex_runtime::block_on(TcpListener::bind("127.0.0.1:0")).unwrap()
                })
            })
            .collect();
        let listeners: Vec<TcpListener> = makers.into_iter().map(|t| t.join().unwrap()).collect();
        let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        let rt = rt(Flavor::WorkStealing);
        let servers: Vec<_> = listeners
            .into_iter()
            .map(|l| rt.spawn(echo_once(l, 2)))
            .collect();
        let clients: Vec<_> = addrs
            .into_iter()
            .map(|a| std::thread::spawn(move || echo_client(a, b"ok")))
            .collect();
        for c in clients {
            assert_eq!(c.join().unwrap(), b"ok");
        }
        for s in servers {
            rt.block_on(s).unwrap();
        }
    });
}

#[test]
fn the_foster_thread_delivers_to_a_poller_outside_any_runtime() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    no_hang(|| {
        let listener = std::thread::spawn(|| {
            moduvex_runtime::block_on(TcpListener::bind("127.0.0.1:0")).unwrap()
        })
        .join()
        .unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            echo_client(addr, b"hi")
        });
        // futures-lite's executor is not a moduvex scheduler: the source
        // stays fostered, and only the foster thread can wake this.
        futures_lite::future::block_on(echo_once(listener, 2));
        assert_eq!(client.join().unwrap(), b"hi");
    });
}
