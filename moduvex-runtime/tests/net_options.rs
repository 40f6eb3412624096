//! Socket options that round-trip (`TcpSocket` getters, keepalive, zero
//! linger, type of service, `bind_device`), `TryFrom` the std socket types
//! (switched to non-blocking mode), and Unix addresses given as std's
//! `SocketAddr` (paths and abstract names).

// The Unix-only tests below are `cfg(unix)`; what only they use is unused elsewhere.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

mod ready_common;

use std::io;
#[cfg(unix)]
use std::os::fd::AsRawFd;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
#[cfg(unix)]
use std::os::unix::net::SocketAddr as UnixAddr;
use std::time::Duration;

use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
#[cfg(unix)]
use moduvex_runtime::net::{UnixDatagram, UnixListener, UnixStream};
use ready_common::run;

#[cfg(unix)]
fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: F_GETFL on a descriptor we hold open.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert!(flags >= 0);
    flags & libc::O_NONBLOCK != 0
}

#[test]
fn tcp_socket_options_round_trip() -> io::Result<()> {
    let s = TcpSocket::new_v4()?;
    s.set_keepalive(true)?;
    assert!(s.keepalive()?);
    s.set_keepalive(false)?;
    assert!(!s.keepalive()?);
    s.set_reuseaddr(true)?;
    assert!(s.reuseaddr()?);
    // SO_REUSEPORT exists on Unix only.
    #[cfg(unix)]
    {
        s.set_reuseport(true)?;
        assert!(s.reuseport()?);
    }
    s.set_nodelay(true)?;
    assert!(s.nodelay()?);
    s.set_nodelay(false)?;
    assert!(!s.nodelay()?);
    // Linux doubles the buffer sizes it is given.
    s.set_send_buffer_size(64 * 1024)?;
    assert!(s.send_buffer_size()? >= 64 * 1024);
    s.set_recv_buffer_size(64 * 1024)?;
    assert!(s.recv_buffer_size()? >= 64 * 1024);
    assert_eq!(s.linger()?, None);
    s.set_linger(Some(Duration::from_secs(3)))?;
    assert_eq!(s.linger()?, Some(Duration::from_secs(3)));
    s.set_zero_linger()?;
    assert_eq!(s.linger()?, Some(Duration::ZERO));
    s.set_tos(0x10)?;
    assert_eq!(s.tos()?, 0x10);
    s.bind("127.0.0.1:0".parse().unwrap())?;
    let addr = s.local_addr()?;
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    assert!(s.take_error()?.is_none());
    Ok(())
}

// `SO_BINDTODEVICE` is Linux's.
#[cfg(target_os = "linux")]
#[test]
fn bind_device_names_an_interface_or_says_why_not() {
    let s = TcpSocket::new_v4().unwrap();
    match s.bind_device(Some(b"lo")) {
        Ok(()) => {
            assert_eq!(s.device().unwrap().as_deref(), Some(&b"lo"[..]));
            s.bind_device(None).unwrap();
            assert_eq!(s.device().unwrap(), None);
            let err = s.bind_device(Some(b"no-such-if0")).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
        }
        // Without CAP_NET_RAW the kernel refuses, with its own error.
        Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}"),
    }
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let u = UdpSocket::try_from(u).unwrap();
    if u.bind_device(Some(b"lo")).is_ok() {
        assert_eq!(u.device().unwrap().as_deref(), Some(&b"lo"[..]));
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8.0 closes a zero-linger socket with a FIN, not a reset: the peer reads EOF"
)]
fn zero_linger_resets_the_connection_on_drop() {
    run("zero linger", async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;
        client.set_zero_linger()?;
        assert_eq!(client.linger()?, Some(Duration::ZERO));
        drop(client);
        let mut buf = [0u8; 8];
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn try_from_std_sockets_sets_non_blocking_and_registers() {
    run("try_from", async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std_listener.local_addr()?;
        let std_client = std::net::TcpStream::connect(addr)?;
        let listener = TcpListener::try_from(std_listener)?;
        assert!(is_nonblocking(&listener));
        let (server, _) = listener.accept().await?;
        let mut client = TcpStream::try_from(std_client)?;
        assert!(is_nonblocking(&client));
        client.write_all(b"tcp").await?;
        let mut buf = [0u8; 3];
        (&server).read_exact(&mut buf).await?;
        assert_eq!(&buf, b"tcp");
        // And back into a socket being configured.
        let socket = TcpSocket::from_std_stream(client.into_std()?);
        assert!(socket.local_addr().is_ok());

        let udp = UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
        assert!(is_nonblocking(&udp));
        udp.send_to(b"u", udp.local_addr()?).await?;
        assert_eq!(udp.recv_from(&mut buf).await?.0, 1);

        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        let (mut a, b) = (UnixStream::try_from(a)?, UnixStream::try_from(b)?);
        assert!(is_nonblocking(&a) && is_nonblocking(&b));
        a.write_all(b"uds").await?;
        (&b).read_exact(&mut buf).await?;
        assert_eq!(&buf, b"uds");

        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        let (a, b) = (UnixDatagram::try_from(a)?, UnixDatagram::try_from(b)?);
        assert!(is_nonblocking(&a));
        a.send(b"d").await?;
        assert_eq!(b.recv(&mut buf).await?, 1);

        // A path elsewhere; Linux also tries an abstract name.
        let dir = std::env::temp_dir().join(format!("moduvex-tryfrom-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        #[cfg(target_os = "linux")]
        let addr = UnixAddr::from_abstract_name(dir.file_name().unwrap().as_encoded_bytes())?;
        #[cfg(not(target_os = "linux"))]
        let addr = UnixAddr::from_pathname(&dir)?;
        let l = std::os::unix::net::UnixListener::bind_addr(&addr)?;
        let l = UnixListener::try_from(l)?;
        assert!(is_nonblocking(&l));
        let _c = UnixStream::connect_addr(&addr).await?;
        l.accept().await?;
        let _ = std::fs::remove_file(&dir);
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

// Abstract socket names are Linux's.
#[cfg(target_os = "linux")]
#[test]
fn bind_addr_and_connect_addr_with_an_abstract_name() {
    run("abstract", async {
        let name = format!("moduvex-abstract-{}", std::process::id());
        let addr = UnixAddr::from_abstract_name(name.as_bytes())?;
        let listener = UnixListener::bind_addr(&addr)?;
        assert_eq!(
            listener.local_addr()?.as_abstract_name(),
            Some(name.as_bytes())
        );
        // The name is taken while the listener lives.
        let err = UnixListener::bind_addr(&addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        let mut client = UnixStream::connect_addr(&addr).await?;
        let (server, _) = listener.accept().await?;
        client.write_all(b"abstract").await?;
        let mut buf = [0u8; 8];
        (&server).read_exact(&mut buf).await?;
        assert_eq!(&buf, b"abstract");
        drop(listener);
        // Gone with the last socket bound to it: nobody listens.
        let err = UnixStream::connect_addr(&addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn bind_addr_with_a_path_and_an_unnamed_address_is_invalid_input() {
    run("path addr", async {
        let dir = std::env::temp_dir().join(format!("moduvex-opts-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("bind_addr.sock");
        let _ = std::fs::remove_file(&path);
        let addr = UnixAddr::from_pathname(&path)?;
        let listener = UnixListener::bind_addr(&addr)?;
        let _client = UnixStream::connect_addr(&addr).await?;
        listener.accept().await?;
        std::fs::remove_file(&path)?;
        // An unnamed address (a socketpair's) names nothing.
        let (a, _b) = std::os::unix::net::UnixStream::pair()?;
        let unnamed = a.local_addr()?;
        assert!(unnamed.is_unnamed());
        let err = UnixListener::bind_addr(&unnamed).map(drop).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        let err = UnixStream::connect_addr(&unnamed).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}
