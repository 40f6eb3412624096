//! Process-wide limits: descriptor exhaustion, descriptor leaks, SIGPIPE.
//!
//! Each test re-runs this test binary as a child process (selected by an
//! environment variable) because what it changes or measures is global to
//! the process: `RLIMIT_NOFILE`, the open descriptor count, the SIGPIPE
//! disposition. Other tests running in parallel threads would disturb it.

// Unix only: `RLIMIT_NOFILE`, descriptor counts and SIGPIPE.
#![cfg(unix)]

use std::io::ErrorKind;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpStream};
use moduvex_runtime::time::sleep;
use moduvex_runtime::{block_on, spawn};

const CHILD_ENV: &str = "MODUVEX_NET_LIMITS_CHILD";

/// In the parent: runs test `name` alone in a child process and checks it
/// passed. In the child: returns `true` so the caller runs the real body.
fn in_child(name: &str) -> bool {
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .output()
        .expect("spawn child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child `{name}` failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

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

fn is_exhaustion(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Waits (yielding to the runtime) until `cond` holds; panics after a
/// generous safety limit so a regression fails instead of hanging.
async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < give_up, "gave up waiting for {what}");
        sleep(Duration::from_millis(2)).await;
    }
}

#[test]
fn open_and_close_10k_connections_leaves_no_descriptor_behind() {
    if !in_child("open_and_close_10k_connections_leaves_no_descriptor_behind") {
        return;
    }
    const N: usize = 10_000;
    const BATCH: usize = 250;
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // One connection first, so everything created lazily exists.
        let c = spawn(TcpStream::connect(addr));
        drop(listener.accept().await.unwrap());
        drop(c.await.unwrap().unwrap());
        let baseline = open_fds().len();

        let server = spawn(async move {
            for _ in 0..N {
                let (s, _) = listener.accept().await?;
                drop(s);
            }
            Ok::<_, std::io::Error>(listener)
        });
        for _ in 0..N / BATCH {
            let batch: Vec<_> = (0..BATCH)
                .map(|_| spawn(async move { TcpStream::connect(addr).await.map(drop) }))
                .collect();
            for c in batch {
                c.await.unwrap().unwrap();
            }
        }
        let listener = server.await.unwrap().unwrap();
        assert_eq!(open_fds().len(), baseline, "descriptors leaked");
        drop(listener);
    });
}

#[test]
fn accept_recovers_after_descriptor_exhaustion() {
    if !in_child("accept_recovers_after_descriptor_exhaustion") {
        return;
    }
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let exhausted = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (ex, ac) = (exhausted.clone(), accepted.clone());
        // The example servers' accept loop: back off on exhaustion.
        spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((mut s, _)) => {
                        ac.fetch_add(1, Ordering::SeqCst);
                        spawn(async move {
                            let mut buf = [0u8; 4];
                            while s.read_exact(&mut buf).await.is_ok() {
                                if s.write_all(&buf).await.is_err() {
                                    break;
                                }
                            }
                        });
                    }
                    Err(e) if is_exhaustion(&e) => {
                        ex.fetch_add(1, Ordering::SeqCst);
                        sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("accept failed: {e}"),
                }
            }
        });

        // Leave room for a few dozen descriptors only.
        let highest = open_fds().into_iter().max().unwrap_or(2) as libc::rlim_t;
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the live struct we pass.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        lim.rlim_cur = highest + 40;
        // SAFETY: setrlimit reads the live struct we pass.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);

        // Connect until the process runs out of descriptors.
        let mut clients = Vec::new();
        loop {
            match TcpStream::connect(addr).await {
                Ok(s) => clients.push(s),
                Err(e) if is_exhaustion(&e) => break,
                Err(e) => panic!("connect failed: {e}"),
            }
        }
        assert!(!clients.is_empty());
        // Free one descriptor and spend it on a connection that the server
        // cannot accept: it stays queued, and accept reports EMFILE.
        clients.pop();
        let mut pending = TcpStream::connect(addr).await.unwrap();
        wait_until("an EMFILE from accept", || {
            exhausted.load(Ordering::SeqCst) > 0
        })
        .await;
        let before = accepted.load(Ordering::SeqCst);

        // Descriptors come back: the server must pick up where it was.
        clients.truncate(clients.len() / 2);
        pending.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        pending.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        assert!(accepted.load(Ordering::SeqCst) > before);

        let mut fresh = TcpStream::connect(addr).await.unwrap();
        fresh.write_all(b"new!").await.unwrap();
        fresh.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"new!");
    });
}

#[test]
fn writing_to_a_closed_peer_is_broken_pipe_and_the_process_survives() {
    if !in_child("writing_to_a_closed_peer_is_broken_pipe_and_the_process_survives") {
        return;
    }
    // The default disposition kills the process on SIGPIPE: only sends
    // with MSG_NOSIGNAL keep this child alive.
    // SAFETY: restoring the default handler; no other thread relies on it.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for vectored in [false, true] {
            let c = spawn(TcpStream::connect(addr));
            let (server_side, _) = listener.accept().await.unwrap();
            let mut c = c.await.unwrap().unwrap();
            drop(server_side);
            let chunk = [1u8; 1024];
            let mut kinds = Vec::new();
            // The first write after the close may succeed (the peer answers
            // it with RST), then ECONNRESET may be reported once; from then
            // on every write is EPIPE.
            for _ in 0..64 {
                let res = if vectored {
                    c.write_vectored(&[std::io::IoSlice::new(&chunk)]).await
                } else {
                    c.write(&chunk).await
                };
                if let Err(e) = res {
                    kinds.push(e.kind());
                    if e.kind() == ErrorKind::BrokenPipe {
                        break;
                    }
                }
                sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(kinds.last(), Some(&ErrorKind::BrokenPipe), "{kinds:?}");
        }
    });
}

#[test]
fn building_a_runtime_without_descriptors_is_an_error_not_a_dead_worker() {
    if !in_child("building_a_runtime_without_descriptors_is_an_error_not_a_dead_worker") {
        return;
    }
    // No room for even one more descriptor (the kernel hands out the
    // lowest free number, so the limit is set to that): a worker cannot
    // open its reactor (an epoll instance and an eventfd).
    let open = open_fds();
    let lowest_free = (0..).find(|n| !open.contains(n)).unwrap() as libc::rlim_t;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the live struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let saved = lim.rlim_cur;
    lim.rlim_cur = lowest_free;
    // SAFETY: setrlimit reads the live struct we pass.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    for flavor in [
        moduvex_runtime::Flavor::ThreadPerCore,
        moduvex_runtime::Flavor::WorkStealing,
    ] {
        let err = moduvex_runtime::Runtime::builder()
            .flavor(flavor)
            .worker_threads(2)
            .build()
            .unwrap_err();
        assert!(is_exhaustion(&err), "{flavor:?}: {err}");
    }
    // With descriptors back, the same build works.
    lim.rlim_cur = saved;
    // SAFETY: as above.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let rt = moduvex_runtime::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
}
