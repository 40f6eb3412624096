//! Feature `tokio-io`: our streams implement tokio's `AsyncRead` and
//! `AsyncWrite`, so tokio-bound code (tokio-util's codecs, tokio's
//! extension traits) takes them as they are; `io::Compat` adapts either
//! trait family to the other.
//!
//! Only tokio's extension traits are imported here (with ours too, calls
//! such as `read_to_end` on a moduvex socket would be ambiguous). Every
//! scenario runs under a hang guard (20 s).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use futures_lite::StreamExt;
use futures_sink::Sink;
use moduvex_runtime::io::compat::{FuturesAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use moduvex_runtime::io::{duplex, Compat};
use moduvex_runtime::net::{TcpListener, TcpStream, UnixStream};
use moduvex_runtime::{block_on, spawn};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{Framed, LinesCodec};

/// Runs `f` on a helper thread and fails if it has not finished after 20 s.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std_mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) | Err(std_mpsc::RecvTimeoutError::Disconnected) => {}
        Err(std_mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s (a wake-up was lost)")
        }
    }
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// `SinkExt::send`, by hand: ready, start, flush.
async fn send<S, I>(sink: &mut S, item: I) -> Result<(), S::Error>
where
    S: Sink<I> + Unpin,
{
    poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
    Pin::new(&mut *sink).start_send(item)?;
    poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
}

#[test]
fn framed_lines_codec_over_our_tcp_stream() {
    guarded("Framed<TcpStream, LinesCodec>", || {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Server: answers each line in upper case until the client ends.
            let server = spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut lines = Framed::new(stream, LinesCodec::new());
                let mut n = 0;
                while let Some(line) = lines.next().await {
                    send(&mut lines, line.unwrap().to_uppercase())
                        .await
                        .unwrap();
                    n += 1;
                }
                n
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut client = Framed::new(stream, LinesCodec::new());
            for word in ["hello", "moduvex", "tokio-util"] {
                send(&mut client, word).await.unwrap();
                let answer = client.next().await.unwrap().unwrap();
                assert_eq!(answer, word.to_uppercase());
            }
            // A long line crosses many reads and writes.
            let long = "x".repeat(200_000);
            send(&mut client, long.as_str()).await.unwrap();
            assert_eq!(client.next().await.unwrap().unwrap().len(), long.len());
            // poll_shutdown (our poll_close) ends the server's stream. The
            // inherent `TcpStream::shutdown(Shutdown)` (std's) shadows the
            // ext method, so the trait is named.
            let mut stream = client.into_inner();
            AsyncWriteExt::shutdown(&mut stream).await.unwrap();
            assert_eq!(server.await.unwrap(), 4);
        })
    });
}

#[test]
fn tokio_ext_traits_over_a_unix_stream_pair_and_its_halves() {
    guarded("UnixStream with tokio's traits", || {
        block_on(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            let payload: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
            let expected = payload.clone();
            let writer = spawn(async move {
                let mut a = a;
                a.write_all(&payload).await.unwrap();
                AsyncWriteExt::shutdown(&mut a).await.unwrap();
                a
            });
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, expected);
            // `a` shut its writing down: the halves get a fresh pair.
            drop(writer.await.unwrap());
            let (a, mut b) = UnixStream::pair().unwrap();

            // Owned halves, borrowed halves and `&UnixStream` too.
            let (mut read, mut write) = a.into_split();
            let (mut br, mut bw) = b.split();
            bw.write_all(b"to a\n").await.unwrap();
            let mut line = String::new();
            tokio::io::BufReader::new(&mut read)
                .read_line(&mut line)
                .await
                .unwrap();
            assert_eq!(line, "to a\n");
            write.write_all(b"to b").await.unwrap();
            let mut four = [0u8; 4];
            br.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"to b");
            write.shutdown().await.unwrap();
            let mut shared = &b;
            assert_eq!(shared.read(&mut four).await.unwrap(), 0, "end of stream");
        })
    });
}

#[test]
fn read_buf_fills_uninitialised_spare_room() {
    guarded("read_buf into a Vec's spare capacity", || {
        block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            a.write_all(b"spare room").await.unwrap();
            // `read_buf` hands our poll_read the Vec's uninitialised spare
            // capacity through a ReadBuf.
            let mut buf = Vec::with_capacity(64);
            let n = b.read_buf(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &b"spare room"[..n]);
            while buf.len() < 10 {
                b.read_buf(&mut buf).await.unwrap();
            }
            assert_eq!(buf, b"spare room");
            // A full ReadBuf reads nothing and does not wait.
            let mut none = [0u8; 0];
            assert_eq!(b.read(&mut none).await.unwrap(), 0);
        })
    });
}

#[test]
fn tokio_ext_traits_over_duplex_stream() {
    guarded("DuplexStream with tokio's traits", || {
        block_on(async {
            // A small pipe: the writer waits for the reader many times, and
            // the ring of the pipe wraps around.
            let (mut a, mut b) = duplex(7);
            // (Miri's clock runs fast: a shorter payload there.)
            let len = if cfg!(miri) { 300 } else { 10_000u32 };
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let expected = payload.clone();
            let writer = spawn(async move {
                a.write_all(&payload).await.unwrap();
                a.shutdown().await.unwrap();
            });
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert_eq!(got, expected);
            // Writes to a shut-down end fail, as the futures-io side's.
            let (mut c, _d) = duplex(8);
            c.shutdown().await.unwrap();
            let err = c.write_all(b"x").await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        })
    });
}

#[test]
fn compat_round_trips_both_ways() {
    guarded("Compat both ways", || {
        block_on(async {
            // futures-io -> tokio: our futures-lite Cursor read with tokio's
            // read_to_end.
            let data = b"futures-io through tokio's traits".to_vec();
            let mut reader = moduvex_runtime::io::Cursor::new(data.clone()).compat();
            let mut out = Vec::new();
            reader.read_to_end(&mut out).await.unwrap();
            assert_eq!(out, data);
            assert_eq!(reader.get_ref().position(), data.len() as u64);

            // tokio -> futures-io: a tokio writer (Vec) behind futures-io's
            // trait, written with our futures-io ext trait.
            let mut writer = Vec::<u8>::new().compat_write();
            moduvex_runtime::io::AsyncWriteExt::write_all(&mut writer, b"round")
                .await
                .unwrap();
            moduvex_runtime::io::AsyncWriteExt::close(&mut writer)
                .await
                .unwrap();
            assert_eq!(writer.get_ref(), b"round");

            // Both at once: a tokio view of a futures-io view of a tokio
            // duplex end still reaches its peer.
            let (a, mut b) = duplex(16);
            let mut twice = Compat::new(Compat::new(a));
            twice.write_all(b"twice").await.unwrap();
            twice.shutdown().await.unwrap();
            let mut got = String::new();
            b.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "twice");
            let _inner: moduvex_runtime::io::DuplexStream = twice.into_inner().into_inner();
        })
    });
}
