//! Readiness and `try_*` on datagram sockets (`UdpSocket`, `UnixDatagram`),
//! as tokio's: a `WouldBlock` clears the readiness, `peek_sender` leaves
//! the datagram queued, connected sockets `try_send`/`try_recv`.

mod ready_common;

use std::future::poll_fn;

use moduvex_runtime::io::Interest;
use moduvex_runtime::net::UdpSocket;
#[cfg(unix)]
use moduvex_runtime::net::UnixDatagram;
use ready_common::{poll_once, run};

type Result<T = ()> = std::io::Result<T>;

fn would_block<T: std::fmt::Debug>(res: Result<T>) -> bool {
    matches!(&res, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[test]
fn udp_try_recv_from_would_block_then_readable_waits_for_a_datagram() {
    run("udp try_*", async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0u8; 16];
        b.writable().await?;
        assert!(would_block(b.try_recv_from(&mut buf)));
        assert!(
            poll_once(b.readable()).await.is_pending(),
            "readable() returned at once after try_recv_from hit WouldBlock"
        );
        a.writable().await?;
        assert_eq!(a.try_send_to(b"one", b.local_addr()?)?, 3);
        assert_eq!(a.try_send_to(b"two", b.local_addr()?)?, 3);
        let ready = b.ready(Interest::READABLE).await?;
        assert!(ready.is_readable(), "{ready:?}");
        // The sender, without taking the datagram.
        assert_eq!(b.peek_sender().await?, a.local_addr()?);
        assert_eq!(b.try_peek_sender()?, a.local_addr()?);
        let (n, from) = b.try_peek_from(&mut buf)?;
        assert_eq!((&buf[..n], from), (&b"one"[..], a.local_addr()?));
        let (n, from) = b.try_recv_from(&mut buf)?;
        assert_eq!((&buf[..n], from), (&b"one"[..], a.local_addr()?));
        let mut vec = Vec::with_capacity(16);
        let (n, from) = b.try_recv_buf_from(&mut vec)?;
        assert_eq!((n, &vec[..], from), (3, &b"two"[..], a.local_addr()?));
        assert!(would_block(b.try_recv_from(&mut buf)));
        assert!(would_block(b.try_peek_sender()));
        assert!(poll_once(b.readable()).await.is_pending());
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[test]
fn connected_udp_try_send_and_try_recv() {
    run("connected udp", async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.connect(b.local_addr()?).await?;
        b.connect(a.local_addr()?).await?;
        let mut buf = [0u8; 8];
        assert!(would_block(b.try_recv(&mut buf)));
        poll_fn(|cx| a.poll_send_ready(cx)).await?;
        assert_eq!(a.try_send(b"ping")?, 4);
        poll_fn(|cx| b.poll_recv_ready(cx)).await?;
        assert_eq!(b.try_recv(&mut buf)?, 4);
        assert_eq!(&buf[..4], b"ping");
        a.try_send(b"buf")?;
        b.readable().await?;
        let mut bytes = bytes::BytesMut::with_capacity(8);
        assert_eq!(b.try_recv_buf(&mut bytes)?, 3);
        assert_eq!(&bytes[..], b"buf");
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[test]
fn peek_sender_waits_for_a_datagram() {
    run("peek_sender waits", async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let b_addr = b.local_addr()?;
        let peek = moduvex_runtime::spawn(async move { b.peek_sender().await.map(|s| (s, b)) });
        moduvex_runtime::yield_now().await;
        a.send_to(b"late", b_addr).await?;
        let (sender, b) = peek.await.unwrap()?;
        assert_eq!(sender, a.local_addr()?);
        let mut buf = [0u8; 8];
        let (n, _) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"late", "peek_sender left the datagram queued");
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[test]
fn udp_try_io_runs_only_when_ready() {
    run("udp try_io", async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        assert!(would_block(b.try_recv_from(&mut [0; 1])));
        let mut calls = 0;
        let res = b.try_io(Interest::READABLE, || {
            calls += 1;
            Ok(())
        });
        assert!(would_block(res));
        assert_eq!(calls, 0, "not ready: the closure is not called");
        a.send_to(b"x", b.local_addr()?).await?;
        let mut buf = [0u8; 4];
        let (n, _) = b
            .async_io(Interest::READABLE, || {
                calls += 1;
                b.try_recv_from(&mut buf)
            })
            .await?;
        assert_eq!(n, 1);
        assert!(calls >= 1);
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn unix_datagram_try_send_to_and_try_recv_from() {
    run("unix datagram", async {
        let dir = std::env::temp_dir().join(format!("moduvex-ready-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("dgram.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path)?;
        let client = UnixDatagram::unbound()?;
        let mut buf = [0u8; 8];
        assert!(would_block(server.try_recv_from(&mut buf)));
        assert!(poll_once(server.readable()).await.is_pending());
        client.writable().await?;
        assert_eq!(client.try_send_to(b"hey", &path)?, 3);
        let ready = server.ready(Interest::READABLE).await?;
        assert!(ready.is_readable());
        let (n, _from) = server.try_recv_from(&mut buf)?;
        assert_eq!(&buf[..n], b"hey");
        let (x, y) = UnixDatagram::pair()?;
        poll_fn(|cx| x.poll_send_ready(cx)).await?;
        x.try_send(b"pair")?;
        poll_fn(|cx| y.poll_recv_ready(cx)).await?;
        let mut vec = Vec::with_capacity(8);
        assert_eq!(y.try_recv_buf(&mut vec)?, 4);
        assert_eq!(vec, b"pair");
        assert!(would_block(y.try_recv(&mut buf)));
        std::fs::remove_file(&path)?;
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
}
