//! TCP behaviour: round trips, bulk transfer, half-close, resets, refused
//! connects, bad addresses, full duplex, bursts and spurious wake-ups.

// The Unix-only tests below are `cfg(unix)`; what only they use is unused elsewhere.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use std::future::poll_fn;
use std::io::{ErrorKind, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use moduvex_runtime::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpSocket, TcpStream};
use moduvex_runtime::{block_on, spawn, yield_now};

type Result<T = ()> = std::io::Result<T>;

/// A connected (client, server) pair over loopback.
async fn pair() -> Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let client = spawn(TcpStream::connect(addr));
    let (server, peer) = listener.accept().await?;
    let client = client.await.unwrap()?;
    assert_eq!(client.local_addr()?, peer);
    assert_eq!(server.local_addr()?, client.peer_addr()?);
    Ok((client, server))
}

fn fnv(mut h: u64, data: &[u8]) -> u64 {
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

#[test]
fn round_trip() -> Result {
    block_on(async {
        let (mut c, mut s) = pair().await?;
        c.write_all(b"hello over tcp").await?;
        let mut buf = [0; 14];
        s.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hello over tcp");
        s.write_all(b"reply").await?;
        let mut buf = [0; 5];
        c.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"reply");
        Ok(())
    })
}

#[test]
fn sixty_four_mib_through_a_4k_buffer_checksums_equal() -> Result {
    const TOTAL: usize = 64 << 20;
    block_on(async {
        let (mut c, mut s) = pair().await?;
        // A prime-sized pattern so chunk edges never line up with reads.
        let pattern: Vec<u8> = (0..65_521u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let writer = spawn(async move {
            let mut sent = 0;
            let mut hash = FNV_START;
            while sent < TOTAL {
                let n = pattern.len().min(TOTAL - sent);
                c.write_all(&pattern[..n]).await?;
                hash = fnv(hash, &pattern[..n]);
                sent += n;
            }
            c.close().await?;
            Ok::<_, std::io::Error>(hash)
        });
        let mut buf = [0u8; 4096];
        let (mut got, mut hash) = (0, FNV_START);
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hash = fnv(hash, &buf[..n]);
            got += n;
        }
        assert_eq!(got, TOTAL);
        assert_eq!(hash, writer.await.unwrap()?);
        Ok(())
    })
}

#[test]
fn half_close_peer_sees_eof_and_other_direction_still_flows() -> Result {
    block_on(async {
        let (mut c, mut s) = pair().await?;
        c.write_all(b"request").await?;
        c.shutdown(Shutdown::Write)?;
        let mut got = Vec::new();
        s.read_to_end(&mut got).await?;
        assert_eq!(got, b"request");
        s.write_all(b"response after half-close").await?;
        drop(s);
        let mut back = Vec::new();
        c.read_to_end(&mut back).await?;
        assert_eq!(back, b"response after half-close");
        Ok(())
    })
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8.0 closes a zero-linger socket with a FIN, not a reset: the peer reads EOF"
)]
fn peer_reset_is_an_error_not_a_hang() -> Result {
    block_on(async {
        let (mut c, s) = pair().await?;
        s.set_linger(Some(Duration::ZERO))?;
        drop(s); // RST instead of FIN
        let mut buf = [0u8; 16];
        let err = c.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        Ok(())
    })
}

#[test]
fn connect_to_a_closed_port_is_refused() -> Result {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    block_on(async {
        let err = TcpStream::connect(closed).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        // Several addresses: each is tried, the last error is returned...
        let err = TcpStream::connect(&[closed, closed][..]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        // ...and a good one after a bad one connects.
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let good = l.local_addr()?;
        let s = TcpStream::connect([closed, good]).await?;
        assert_eq!(s.peer_addr()?, good);
        Ok(())
    })
}

#[test]
fn bind_to_a_used_address_is_addr_in_use() -> Result {
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let err = TcpListener::bind(l.local_addr()?).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        Ok(())
    })
}

#[test]
fn unparsable_addresses_are_invalid_input() {
    block_on(async {
        for bad in ["not an address:99999", "1.2.3.4:notaport", "no port at all"] {
            let err = TcpListener::bind(bad).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "bind {bad}");
            let err = TcpStream::connect(bad).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "connect {bad}");
        }
    })
}

#[test]
fn host_names_resolve_off_the_event_loop() -> Result {
    block_on(async {
        let l = TcpListener::bind("localhost:0").await?;
        assert!(l.local_addr()?.ip().is_loopback());
        let port = l.local_addr()?.port();
        let c = spawn(async move { TcpStream::connect(("localhost", port)).await });
        let (_s, _) = l.accept().await?;
        c.await.unwrap()?;
        Ok(())
    })
}

#[test]
fn lookup_host_resolves_names_and_rejects_malformed_addresses() -> Result {
    block_on(async {
        let addrs: Vec<_> = moduvex_runtime::net::lookup_host(("localhost", 80))
            .await?
            .collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        let numeric: Vec<_> = moduvex_runtime::net::lookup_host("[::1]:9")
            .await?
            .collect();
        assert_eq!(numeric, vec!["[::1]:9".parse().unwrap()]);
        for bad in ["localhost", "localhost:99999", "127.0.0.1:x"] {
            let err = moduvex_runtime::net::lookup_host(bad).await.err().unwrap();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
        }
        Ok(())
    })
}

#[test]
fn reading_into_an_empty_buffer_returns_zero_at_once() -> Result {
    block_on(async {
        let (mut c, _s) = pair().await?;
        // No data is pending: a real read would wait forever.
        assert_eq!(c.read(&mut []).await?, 0);
        assert_eq!(c.peek(&mut []).await?, 0);
        assert_eq!(c.try_read(&mut [])?, 0);
        Ok(())
    })
}

#[test]
fn full_duplex_reader_and_writer_tasks_on_one_stream() -> Result {
    const TOTAL: usize = 8 << 20;
    block_on(async {
        let (c, s) = pair().await?;
        // The echo side reads and writes in turn: if the client could not
        // read while its writer is blocked, both would stall for good.
        let echo = spawn(async move {
            let (mut rd, mut wr) = s.into_split();
            moduvex_runtime::io::copy(&mut rd, &mut wr).await
        });
        let (mut rd, mut wr) = c.into_split();
        let writer = spawn(async move {
            let chunk = vec![0x5a; 64 * 1024];
            for _ in 0..TOTAL / chunk.len() {
                wr.write_all(&chunk).await?;
            }
            Ok::<_, std::io::Error>(wr)
        });
        let reader = spawn(async move {
            let mut buf = vec![0; 32 * 1024];
            let mut got = 0;
            while got < TOTAL {
                let n = rd.read(&mut buf).await?;
                assert!(n > 0, "early EOF");
                assert!(buf[..n].iter().all(|&b| b == 0x5a));
                got += n;
            }
            Ok::<_, std::io::Error>((rd, got))
        });
        let wr = writer.await.unwrap()?;
        let (rd, got) = reader.await.unwrap()?;
        assert_eq!(got, TOTAL);
        let c = rd.reunite(wr).expect("halves of one stream");
        c.shutdown(Shutdown::Write)?;
        assert_eq!(echo.await.unwrap()?, TOTAL as u64);
        Ok(())
    })
}

#[test]
fn bursty_peer_loses_no_readiness() -> Result {
    const BURSTS: usize = 60;
    const BURST: usize = 7_000;
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        let peer = std::thread::spawn(move || -> Result {
            let mut s = std::net::TcpStream::connect(addr)?;
            let burst = vec![1u8; BURST];
            for i in 0..BURSTS {
                s.write_all(&burst)?;
                if i % 3 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Ok(())
        });
        let (mut s, _) = l.accept().await?;
        // Reads smaller than a burst: readiness survives partial drains,
        // and a drained socket waits for the next edge.
        let mut buf = [0u8; 1000];
        let mut got = 0;
        loop {
            match s.read(&mut buf).await? {
                0 => break,
                n => got += n,
            }
        }
        peer.join().unwrap()?;
        assert_eq!(got, BURSTS * BURST);
        Ok(())
    })
}

#[test]
fn a_spurious_wake_up_re_arms_instead_of_hanging() -> Result {
    block_on(async {
        let (c, mut s) = pair().await?;
        let writer = spawn(async move {
            for _ in 0..20 {
                yield_now().await;
            }
            s.write_all(b"late").await?;
            Ok::<_, std::io::Error>(s)
        });
        let mut polls = 0;
        let mut buf = [0u8; 8];
        let n = poll_fn(|cx| {
            polls += 1;
            let res = Pin::new(&mut &c).poll_read(cx, &mut buf);
            if res.is_pending() && polls < 5 {
                // Wake ourselves for no reason: the next poll must find the
                // socket still unready and register again.
                cx.waker().wake_by_ref();
            }
            res
        })
        .await?;
        assert_eq!(&buf[..n], b"late");
        assert!(polls >= 5);
        writer.await.unwrap()?;
        Ok(())
    })
}

#[test]
fn try_read_try_write_and_vectored_io() -> Result {
    block_on(async {
        let (c, s) = pair().await?;
        c.writable().await?;
        let n = c.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])?;
        assert_eq!(n, 4);
        (&c).write_all(b"ef").await?;
        let mut got = Vec::<u8>::new();
        while got.len() < 6 {
            s.readable().await?;
            let mut a = [0u8; 3];
            let mut b = [0u8; 3];
            match s.try_read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)]) {
                Ok(n) => got.extend(a.iter().chain(b.iter()).take(n).copied()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        assert_eq!(got, b"abcdef");
        // Nothing left: try_read reports WouldBlock instead of waiting.
        let err = s.try_read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        Ok(())
    })
}

#[test]
fn peek_leaves_data_queued() -> Result {
    block_on(async {
        let (mut c, mut s) = pair().await?;
        c.write_all(b"peekaboo").await?;
        let mut buf = [0u8; 8];
        let mut n = 0;
        while n < 8 {
            n = s.peek(&mut buf).await?;
        }
        assert_eq!(&buf, b"peekaboo");
        let mut again = [0u8; 8];
        s.read_exact(&mut again).await?;
        assert_eq!(&again, b"peekaboo");
        Ok(())
    })
}

#[test]
fn borrowed_split_and_reunite_errors() -> Result {
    block_on(async {
        let (mut c, mut s) = pair().await?;
        {
            let (mut rd, mut wr) = c.split();
            wr.write_all(b"x").await?;
            s.write_all(b"y").await?;
            let mut b = [0u8; 1];
            rd.read_exact(&mut b).await?;
            assert_eq!(&b, b"y");
        }
        let (r1, w1) = c.into_split();
        let (r2, w2) = s.into_split();
        let err = r1.reunite(w2).unwrap_err();
        let (r1, w2) = (err.0, err.1);
        assert!(r1.reunite(w1).is_ok());
        assert!(r2.reunite(w2).is_ok());
        Ok(())
    })
}

#[test]
fn dropping_an_owned_write_half_shuts_writes_down() -> Result {
    block_on(async {
        let (c, mut s) = pair().await?;
        let (_rd, wr) = c.into_split();
        drop(wr);
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        assert!(buf.is_empty());
        Ok(())
    })
}

#[test]
fn socket_options_and_std_conversions() -> Result {
    block_on(async {
        let (c, s) = pair().await?;
        c.set_nodelay(true)?;
        assert!(c.nodelay()?);
        c.set_ttl(42)?;
        assert_eq!(c.ttl()?, 42);
        assert!(c.take_error()?.is_none());
        let std_c = c.into_std()?;
        std_c.set_nonblocking(false)?;
        let mut c = TcpStream::from_std(std_c)?;
        c.write_all(b"z").await?;
        let mut std_s = s.into_std()?;
        std_s.set_nonblocking(false)?;
        let mut b = [0u8; 1];
        std_s.read_exact(&mut b)?;
        assert_eq!(&b, b"z");

        let l = TcpListener::bind("127.0.0.1:0").await?;
        l.set_ttl(7)?;
        assert_eq!(l.ttl()?, 7);
        let l = TcpListener::from_std(l.into_std()?)?;
        assert!(l.local_addr()?.port() != 0);
        Ok(())
    })
}

// SO_REUSEPORT exists on Unix only.
#[cfg(unix)]
#[test]
fn tcp_socket_builder_reuseport_and_connect() -> Result {
    block_on(async {
        let a = TcpSocket::new_v4()?;
        a.set_reuseaddr(true)?;
        a.set_reuseport(true)?;
        assert!(a.reuseaddr()? && a.reuseport()?);
        a.bind("127.0.0.1:0".parse().unwrap())?;
        let addr: SocketAddr = a.local_addr()?;
        let b = TcpSocket::new_v4()?;
        b.set_reuseport(true)?;
        b.bind(addr)?; // allowed: both set SO_REUSEPORT
        let la = a.listen(64)?;
        let _lb = b.listen(64)?;
        let c = TcpSocket::new_v4()?;
        c.set_nodelay(true)?;
        let client = spawn(c.connect(addr));
        let stream = client.await.unwrap()?;
        assert_eq!(stream.peer_addr()?, addr);
        assert!(stream.nodelay()?);
        drop(la);
        Ok(())
    })
}

#[test]
fn a_thousand_concurrent_connections_on_one_thread() -> Result {
    const N: usize = 1000;
    raise_fd_limit((2 * N + 256) as _);
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        let server = spawn(async move {
            let mut echoes: Vec<moduvex_runtime::JoinHandle<Result>> = Vec::with_capacity(N);
            for _ in 0..N {
                let (s, _) = l.accept().await?;
                echoes.push(spawn(async move {
                    let mut buf = [0u8; 16];
                    let mut s = s;
                    s.read_exact(&mut buf).await?;
                    s.write_all(&buf).await?;
                    Ok::<_, std::io::Error>(())
                }));
            }
            for e in echoes {
                e.await.unwrap()?;
            }
            Ok::<_, std::io::Error>(())
        });
        let clients: Vec<_> = (0..N)
            .map(|i| {
                spawn(async move {
                    let mut s = TcpStream::connect(addr).await?;
                    let msg = format!("client {i:>8}\n");
                    s.write_all(msg.as_bytes()).await?;
                    let mut back = [0u8; 16];
                    s.read_exact(&mut back).await?;
                    assert_eq!(&back[..], msg.as_bytes());
                    Ok::<_, std::io::Error>(())
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap()?;
        }
        server.await.unwrap()
    })
}

/// Windows has no per-process descriptor limit to raise.
#[cfg(windows)]
fn raise_fd_limit(_want: u64) {}

/// Raises the soft descriptor limit to at least `want` (up to the hard one).
#[cfg(unix)]
fn raise_fd_limit(want: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the live struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur < want {
        lim.rlim_cur = want.min(lim.rlim_max);
        // SAFETY: setrlimit reads the live struct we pass.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

#[test]
fn read_after_peer_close_is_eof() -> Result {
    block_on(async {
        let (mut c, s) = pair().await?;
        drop(s);
        let mut buf = [0u8; 4];
        assert_eq!(c.read(&mut buf).await?, 0);
        assert_eq!(c.read(&mut buf).await?, 0);
        Ok(())
    })
}

#[test]
fn echo_works_on_every_runtime_flavor() -> Result {
    use moduvex_runtime::{Flavor, Runtime};
    for flavor in [
        Flavor::CurrentThread,
        Flavor::ThreadPerCore,
        Flavor::WorkStealing,
    ] {
        let rt = Runtime::builder()
            .flavor(flavor)
            .worker_threads(2)
            .build()?;
        rt.block_on(async {
            let l = TcpListener::bind("127.0.0.1:0").await?;
            let addr = l.local_addr()?;
            let server = spawn(async move {
                for _ in 0..8 {
                    let (mut s, _) = l.accept().await?;
                    spawn(async move {
                        let mut buf = [0u8; 256];
                        while let Ok(n @ 1..) = s.read(&mut buf).await {
                            if s.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                Ok::<_, std::io::Error>(())
            });
            let clients: Vec<_> = (0..8u8)
                .map(|i| {
                    spawn(async move {
                        let mut s = TcpStream::connect(addr).await?;
                        for round in 0..50u8 {
                            let msg = [i, round, 0xee];
                            s.write_all(&msg).await?;
                            let mut back = [0u8; 3];
                            s.read_exact(&mut back).await?;
                            assert_eq!(back, msg);
                        }
                        Ok::<_, std::io::Error>(())
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap()?;
            }
            server.await.unwrap()
        })
        .map_err(|e| std::io::Error::other(format!("{flavor:?}: {e}")))?;
    }
    Ok(())
}
