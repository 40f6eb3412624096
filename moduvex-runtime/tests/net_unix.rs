//! Unix-domain behaviour: stream listener and pairs, datagrams.

// Unix only: Unix-domain sockets.
#![cfg(unix)]

use std::io::ErrorKind;
use std::net::Shutdown;
use std::path::PathBuf;

use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::net::{UnixDatagram, UnixListener, UnixStream};
use moduvex_runtime::{block_on, spawn};

type Result<T = ()> = std::io::Result<T>;

/// A fresh socket path, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        let p = std::env::temp_dir().join(format!("moduvex-{tag}-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&p);
        TempPath(p)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn listener_accept_and_round_trip() -> Result {
    let path = TempPath::new("stream");
    block_on(async {
        let listener = UnixListener::bind(&path.0)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.0.as_path()));
        let p = path.0.clone();
        let client = spawn(async move {
            let mut s = UnixStream::connect(&p).await?;
            s.write_all(b"over unix").await?;
            s.shutdown(Shutdown::Write)?;
            let mut back = Vec::new();
            s.read_to_end(&mut back).await?;
            Ok::<_, std::io::Error>(back)
        });
        let (mut s, addr) = listener.accept().await?;
        assert!(addr.is_unnamed());
        let mut got = Vec::new();
        s.read_to_end(&mut got).await?;
        assert_eq!(got, b"over unix");
        s.write_all(b"back").await?;
        drop(s);
        assert_eq!(client.await.unwrap()?, b"back");
        Ok(())
    })
}

#[test]
fn bind_twice_is_addr_in_use_and_missing_path_is_not_found() -> Result {
    let path = TempPath::new("inuse");
    block_on(async {
        let _l = UnixListener::bind(&path.0)?;
        let err = UnixListener::bind(&path.0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        let missing = TempPath::new("missing");
        let err = UnixStream::connect(&missing.0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        Ok(())
    })
}

#[test]
fn pair_split_full_duplex() -> Result {
    const TOTAL: usize = 4 << 20;
    block_on(async {
        let (a, b) = UnixStream::pair()?;
        let echo = spawn(async move {
            let (mut rd, mut wr) = b.into_split();
            moduvex_runtime::io::copy(&mut rd, &mut wr).await
        });
        let (mut rd, mut wr) = a.into_split();
        let writer = spawn(async move {
            let chunk = vec![7u8; 16 * 1024];
            for _ in 0..TOTAL / chunk.len() {
                wr.write_all(&chunk).await?;
            }
            Ok::<_, std::io::Error>(wr)
        });
        let mut buf = vec![0u8; 4096];
        let mut got = 0;
        while got < TOTAL {
            let n = rd.read(&mut buf).await?;
            assert!(n > 0);
            got += n;
        }
        let wr = writer.await.unwrap()?;
        drop(wr); // shuts writes down: the echo sees EOF
        assert_eq!(echo.await.unwrap()?, TOTAL as u64);
        Ok(())
    })
}

#[test]
fn borrowed_split_and_std_conversion() -> Result {
    block_on(async {
        let (mut a, b) = UnixStream::pair()?;
        let (mut rd, mut wr) = a.split();
        wr.write_all(b"1").await?;
        (&b).write_all(b"2").await?;
        let mut one = [0u8; 1];
        rd.read_exact(&mut one).await?;
        assert_eq!(&one, b"2");
        let b = UnixStream::from_std(b.into_std()?)?;
        let mut x = [0u8; 1];
        (&b).read_exact(&mut x).await?;
        assert_eq!(&x, b"1");
        assert!(a.peer_addr()?.is_unnamed());
        Ok(())
    })
}

#[test]
fn datagram_bound_round_trip() -> Result {
    let pa = TempPath::new("dgram-a");
    let pb = TempPath::new("dgram-b");
    block_on(async {
        let a = UnixDatagram::bind(&pa.0)?;
        let b = UnixDatagram::bind(&pb.0)?;
        a.send_to(b"to b", &pb.0).await?;
        let mut buf = [0u8; 32];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"to b");
        assert_eq!(from.as_pathname(), Some(pa.0.as_path()));
        b.send_to(b"to a", from.as_pathname().unwrap()).await?;
        let (n, _) = a.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"to a");
        Ok(())
    })
}

#[test]
fn datagram_unbound_connect_and_pair() -> Result {
    let pb = TempPath::new("dgram-srv");
    block_on(async {
        let server = UnixDatagram::bind(&pb.0)?;
        let client = UnixDatagram::unbound()?;
        client.connect(&pb.0)?;
        client.send(b"hello").await?;
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"hello");
        assert!(from.is_unnamed());

        let (x, y) = UnixDatagram::pair()?;
        let rx = spawn(async move {
            let mut buf = [0u8; 16];
            let n = y.recv(&mut buf).await?;
            Ok::<_, std::io::Error>(buf[..n].to_vec())
        });
        x.send(b"paired").await?;
        assert_eq!(rx.await.unwrap()?, b"paired");
        Ok(())
    })
}
