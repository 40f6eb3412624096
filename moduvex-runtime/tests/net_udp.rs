//! UDP behaviour: unconnected and connected round trips, peeking, options.

use std::io::ErrorKind;
use std::net::Ipv4Addr;

use moduvex_runtime::block_on;
use moduvex_runtime::net::UdpSocket;

type Result<T = ()> = std::io::Result<T>;

#[test]
fn send_to_and_recv_from_round_trip() -> Result {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
        a.send_to(b"ping", b_addr).await?;
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
        b.send_to(b"pong", from).await?;
        let (n, from) = a.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));
        Ok(())
    })
}

#[test]
fn connected_send_and_recv() -> Result {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        a.connect(b.local_addr()?).await?;
        b.connect(a.local_addr()?).await?;
        assert_eq!(a.peer_addr()?, b.local_addr()?);
        for i in 0..100u32 {
            a.send(&i.to_le_bytes()).await?;
            let mut buf = [0u8; 4];
            assert_eq!(b.recv(&mut buf).await?, 4);
            assert_eq!(u32::from_le_bytes(buf), i);
        }
        Ok(())
    })
}

#[test]
fn peek_from_leaves_the_datagram_queued() -> Result {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.send_to(b"twice", b.local_addr()?).await?;
        let mut buf = [0u8; 16];
        let (n, from) = b.peek_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"twice"[..], a.local_addr()?));
        let (n, _) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"twice");
        // The queue is now empty.
        let err = b.try_recv_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        Ok(())
    })
}

#[test]
fn a_receiver_task_waits_for_a_later_datagram() -> Result {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let b_addr = b.local_addr()?;
        let rx = moduvex_runtime::spawn(async move {
            let mut buf = [0u8; 16];
            let (n, _) = b.recv_from(&mut buf).await?;
            Ok::<_, std::io::Error>(buf[..n].to_vec())
        });
        for _ in 0..10 {
            moduvex_runtime::yield_now().await;
        }
        a.send_to(b"later", b_addr).await?;
        assert_eq!(rx.await.unwrap()?, b"later");
        Ok(())
    })
}

#[test]
fn options_and_multicast() -> Result {
    block_on(async {
        let s = UdpSocket::bind("0.0.0.0:0").await?;
        s.set_broadcast(true)?;
        assert!(s.broadcast()?);
        s.set_multicast_loop_v4(false)?;
        assert!(!s.multicast_loop_v4()?);
        s.set_multicast_ttl_v4(3)?;
        assert_eq!(s.multicast_ttl_v4()?, 3);
        s.set_ttl(9)?;
        assert_eq!(s.ttl()?, 9);
        let group = Ipv4Addr::new(239, 1, 2, 3);
        // Joining needs a multicast-capable interface; a sandbox may have none.
        match s.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED) {
            Ok(()) => s.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)?,
            Err(e) => assert!(e.raw_os_error().is_some(), "{e}"),
        }
        let std_sock = s.into_std()?;
        let s = UdpSocket::from_std(std_sock)?;
        assert!(s.take_error()?.is_none());
        Ok(())
    })
}

#[test]
fn bad_addresses_are_invalid_input() {
    block_on(async {
        let err = UdpSocket::bind("1.2.3.4:notaport").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = s.send_to(b"x", "not an address:99999").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    })
}
