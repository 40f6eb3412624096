//! The extension traits as a tokio user imports them: one
//! `io::AsyncReadExt` gives `read_exact` and `read_u32`; numbers in both
//! byte orders; `read_buf`/`write_buf`/`write_all_buf` over `bytes`;
//! `shutdown`; `BufStream`; and the errors of short streams and writers
//! that accept nothing.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use futures_lite::future::poll_once;
use futures_lite::StreamExt;
// Ours only, as a tokio user would import them: no method may be
// ambiguous.
use moduvex_runtime::io::{
    duplex, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
    BufStream,
};

#[moduvex_runtime::test]
async fn every_number_round_trips_in_its_byte_order() -> io::Result<()> {
    let mut out = Vec::new();
    out.write_u8(0x01).await?;
    out.write_i8(-2).await?;
    out.write_u16(0x0102).await?;
    out.write_u16_le(0x0102).await?;
    out.write_i16(-2).await?;
    out.write_i16_le(-2).await?;
    out.write_u32(0x0102_0304).await?;
    out.write_u32_le(0x0102_0304).await?;
    out.write_i32(-2).await?;
    out.write_i32_le(-2).await?;
    out.write_u64(0x0102_0304_0506_0708).await?;
    out.write_u64_le(0x0102_0304_0506_0708).await?;
    out.write_i64(i64::MIN).await?;
    out.write_i64_le(i64::MIN).await?;
    out.write_u128(1).await?;
    out.write_u128_le(1).await?;
    out.write_i128(-1).await?;
    out.write_i128_le(i128::MIN).await?;
    out.write_f32(1.5).await?;
    out.write_f32_le(1.5).await?;
    out.write_f64(-0.25).await?;
    out.write_f64_le(-0.25).await?;

    // The exact bytes: big-endian unless `_le`.
    let mut expect = vec![0x01, 0xfe, 0x01, 0x02, 0x02, 0x01, 0xff, 0xfe, 0xfe, 0xff];
    expect.extend([1, 2, 3, 4, 4, 3, 2, 1]);
    expect.extend([0xff, 0xff, 0xff, 0xfe, 0xfe, 0xff, 0xff, 0xff]);
    expect.extend([1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect.extend([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    expect.extend([0; 15]);
    expect.extend([1, 1]);
    expect.extend([0; 15]);
    expect.extend([0xff; 16]);
    expect.extend([0; 15]);
    expect.push(0x80);
    expect.extend(1.5f32.to_be_bytes());
    expect.extend(1.5f32.to_le_bytes());
    expect.extend((-0.25f64).to_be_bytes());
    expect.extend((-0.25f64).to_le_bytes());
    assert_eq!(out, expect);

    let mut r = &out[..];
    assert_eq!(r.read_u8().await?, 0x01);
    assert_eq!(r.read_i8().await?, -2);
    assert_eq!(r.read_u16().await?, 0x0102);
    assert_eq!(r.read_u16_le().await?, 0x0102);
    assert_eq!(r.read_i16().await?, -2);
    assert_eq!(r.read_i16_le().await?, -2);
    assert_eq!(r.read_u32().await?, 0x0102_0304);
    assert_eq!(r.read_u32_le().await?, 0x0102_0304);
    assert_eq!(r.read_i32().await?, -2);
    assert_eq!(r.read_i32_le().await?, -2);
    assert_eq!(r.read_u64().await?, 0x0102_0304_0506_0708);
    assert_eq!(r.read_u64_le().await?, 0x0102_0304_0506_0708);
    assert_eq!(r.read_i64().await?, i64::MIN);
    assert_eq!(r.read_i64_le().await?, i64::MIN);
    assert_eq!(r.read_u128().await?, 1);
    assert_eq!(r.read_u128_le().await?, 1);
    assert_eq!(r.read_i128().await?, -1);
    assert_eq!(r.read_i128_le().await?, i128::MIN);
    assert_eq!(r.read_f32().await?, 1.5);
    assert_eq!(r.read_f32_le().await?, 1.5);
    assert_eq!(r.read_f64().await?, -0.25);
    assert_eq!(r.read_f64_le().await?, -0.25);
    assert!(r.is_empty());
    Ok(())
}

/// Hands out its bytes one at a time, pending (and waking itself) before
/// each, as a slow socket does.
struct Trickle<'a>(&'a [u8], bool);

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let Some((&first, rest)) = self.0.split_first() else {
            return Poll::Ready(Ok(0));
        };
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.1 = !self.1;
        if self.1 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        buf[0] = first;
        self.0 = rest;
        Poll::Ready(Ok(1))
    }
}

#[moduvex_runtime::test]
async fn numbers_are_assembled_from_short_reads() {
    let bytes = 0xdead_beef_u32.to_be_bytes();
    let mut r = Trickle(&bytes, false);
    assert_eq!(r.read_u32().await.unwrap(), 0xdead_beef);
}

#[moduvex_runtime::test]
async fn a_stream_that_ends_inside_a_number_is_unexpected_eof() {
    let mut r = Trickle(&[1, 2], false);
    let err = r.read_u32().await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(
        err.to_string().contains("read_u32") && err.to_string().contains("2 of 4"),
        "{err}"
    );
    let mut empty: &[u8] = &[];
    let err = empty.read_u8().await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

/// Accepts at most `max` bytes per write; `max == 0` accepts nothing.
struct Narrow {
    max: usize,
    got: Vec<u8>,
}

impl AsyncWrite for Narrow {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = b.len().min(self.max);
        self.got.extend_from_slice(&b[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[moduvex_runtime::test]
async fn writers_that_accept_nothing_are_write_zero_never_a_spin() {
    let mut w = Narrow {
        max: 0,
        got: Vec::new(),
    };
    let err = w.write_u32(7).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    assert!(err.to_string().contains("write_u32"), "{err}");
    let err = w.write_all_buf(&mut &b"abc"[..]).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    // `write_buf` reports the 0, as one `write` does.
    assert_eq!(w.write_buf(&mut &b"abc"[..]).await.unwrap(), 0);
}

#[moduvex_runtime::test]
async fn read_buf_fills_spare_room_and_advances() -> io::Result<()> {
    let mut buf = BytesMut::with_capacity(4);
    let mut r: &[u8] = b"abcdefgh";
    let mut total = 0;
    loop {
        let n = r.read_buf(&mut buf).await?;
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!((total, &buf[..]), (8, &b"abcdefgh"[..]));

    // A buffer with no room left reads nothing, even from a live stream.
    let mut full = [0u8; 2];
    let mut room = &mut full[..];
    let mut src: &[u8] = b"xyz";
    assert_eq!(src.read_buf(&mut room).await?, 2);
    assert_eq!(src.read_buf(&mut room).await?, 0);
    assert_eq!((&full, src), (b"xy", &b"z"[..]));
    Ok(())
}

#[moduvex_runtime::test]
async fn write_buf_and_write_all_buf_advance_the_buf() -> io::Result<()> {
    let mut w = Narrow {
        max: 2,
        got: Vec::new(),
    };
    let mut src: &[u8] = b"hello";
    assert_eq!(w.write_buf(&mut src).await?, 2);
    assert_eq!(src, b"llo");
    // A chain of two buffers, written out through two-byte writes. (`&[u8]`
    // is both a reader and a `Buf`: with both traits imported, `chain`
    // needs its trait named, as with tokio's.)
    let mut chained = Buf::chain(&b" big"[..], &b" world"[..]);
    w.write_all_buf(&mut chained).await?;
    assert!(!chained.has_remaining());
    w.write_all_buf(&mut src).await?;
    assert_eq!(w.got, b"he big worldllo");
    Ok(())
}

#[moduvex_runtime::test]
async fn shutdown_is_close_the_peer_reads_end_of_file() -> io::Result<()> {
    let (mut a, mut b) = duplex(16);
    a.write_all(b"last").await?;
    a.shutdown().await?;
    let mut got = String::new();
    b.read_to_string(&mut got).await?;
    assert_eq!(got, "last");
    // futures-lite's names are there too: read_exact, read_line, lines.
    b.write_all(b"one\ntwo\n").await?;
    drop(b);
    let mut lines = BufReader::new(a).lines();
    assert_eq!(lines.next().await.transpose()?, Some("one".into()));
    assert_eq!(lines.next().await.transpose()?, Some("two".into()));
    assert_eq!(lines.next().await.transpose()?, None);
    Ok(())
}

#[moduvex_runtime::test]
async fn buf_stream_buffers_writes_until_flush_and_reads_in_large_reads() -> io::Result<()> {
    let (near, mut far) = duplex(1024);
    let mut s = BufStream::with_capacity(64, 64, near);
    s.write_all(b"req").await?;
    let mut peek = [0u8; 3];
    assert!(
        poll_once(far.read(&mut peek)).await.is_none(),
        "a buffered write stays in the buffer until a flush"
    );
    s.flush().await?;
    far.read_exact(&mut peek).await?;
    assert_eq!(&peek, b"req");

    far.write_all(b"line one\nline two\n").await?;
    let mut line = String::new();
    s.read_line(&mut line).await?;
    assert_eq!(line, "line one\n");
    // The rest came in the same read and waits in the buffer.
    assert_eq!(s.fill_buf().await?, b"line two\n");
    s.consume(5);
    let mut rest = String::new();
    s.read_line(&mut rest).await?;
    assert_eq!(rest, "two\n");

    // A write larger than the buffer goes straight through (after what is
    // buffered), and shutdown flushes.
    s.write_all(b"x").await?;
    s.write_all(&[b'y'; 100]).await?;
    s.write_all(b"z").await?;
    s.shutdown().await?;
    let mut all = Vec::new();
    far.read_to_end(&mut all).await?;
    assert_eq!(all.len(), 102);
    assert_eq!((all[0], all[1], all[101]), (b'x', b'y', b'z'));
    Ok(())
}

#[test]
fn buf_stream_write_zero_is_an_error() {
    moduvex_runtime::block_on(async {
        struct Dead;
        impl AsyncRead for Dead {
            fn poll_read(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                _: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(Ok(0))
            }
        }
        impl AsyncWrite for Dead {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                _: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(Ok(0))
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
        let mut s = BufStream::new(Dead);
        s.write_all(b"buffered").await.unwrap();
        let err = s.flush().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(
            s.read_u8().await.unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    });
}
