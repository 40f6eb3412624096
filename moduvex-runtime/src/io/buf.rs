//! `read_buf`, `write_buf` and `write_all_buf`: I/O into and out of the
//! `bytes` crate's buffers, as tokio's.
//!
//! The one idea: futures-io readers want an initialized `&mut [u8]`, and a
//! `BufMut` offers uninitialized room; rather than initialize that room in
//! place (which needs `unsafe`), a read goes through a zeroed stack buffer
//! no larger than the room the `BufMut` offers, and the bytes read are
//! `put` into it. Writes need no such step: `Buf::chunk` is a `&[u8]`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut};
use futures_io::{AsyncRead, AsyncWrite};

/// The most one `read_buf` reads at once.
const STACK_BUF: usize = 8 * 1024;

/// The future of [`AsyncReadExt::read_buf`](super::AsyncReadExt::read_buf).
///
/// ```
/// use moduvex_runtime::io::AsyncReadExt;
///
/// moduvex_runtime::block_on(async {
///     let mut r = &b"bytes"[..];
///     let mut buf = bytes::BytesMut::with_capacity(8);
///     assert_eq!(r.read_buf(&mut buf).await?, 5);
///     assert_eq!(&buf[..], b"bytes");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ReadBufFuture<'a, R: ?Sized, B: ?Sized> {
    pub(crate) reader: &'a mut R,
    pub(crate) buf: &'a mut B,
}

impl<R: AsyncRead + Unpin + ?Sized, B: BufMut + ?Sized> Future for ReadBufFuture<'_, R, B> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.buf.has_remaining_mut() {
            return Poll::Ready(Ok(0));
        }
        // `chunk_mut` may grow a growable buffer (a full `BytesMut`), so
        // it, not `remaining_mut`, says how much room there is now.
        let room = this.buf.chunk_mut().len().min(STACK_BUF);
        let mut tmp = [0u8; STACK_BUF];
        let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut tmp[..room]))?;
        let n = n.min(room);
        this.buf.put_slice(&tmp[..n]);
        Poll::Ready(Ok(n))
    }
}

/// The future of [`AsyncWriteExt::write_buf`](super::AsyncWriteExt::write_buf).
///
/// ```
/// use moduvex_runtime::io::AsyncWriteExt;
///
/// moduvex_runtime::block_on(async {
///     let mut src = bytes::Bytes::from_static(b"data");
///     let mut w = Vec::new();
///     let n = w.write_buf(&mut src).await?;
///     assert_eq!((n, &w[..]), (4, &b"data"[..]));
///     assert!(src.is_empty(), "advanced past what was written");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct WriteBufFuture<'a, W: ?Sized, B: ?Sized> {
    pub(crate) writer: &'a mut W,
    pub(crate) buf: &'a mut B,
}

impl<W: AsyncWrite + Unpin + ?Sized, B: Buf + ?Sized> Future for WriteBufFuture<'_, W, B> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.buf.has_remaining() {
            return Poll::Ready(Ok(0));
        }
        let chunk = this.buf.chunk();
        let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, chunk))?;
        let n = n.min(chunk.len());
        this.buf.advance(n);
        Poll::Ready(Ok(n))
    }
}

/// The future of
/// [`AsyncWriteExt::write_all_buf`](super::AsyncWriteExt::write_all_buf).
///
/// ```
/// use moduvex_runtime::io::AsyncWriteExt;
///
/// moduvex_runtime::block_on(async {
///     let mut src = bytes::Bytes::from_static(b"all of it");
///     let mut w = Vec::new();
///     w.write_all_buf(&mut src).await?;
///     assert_eq!(w, b"all of it");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct WriteAllBufFuture<'a, W: ?Sized, B: ?Sized> {
    pub(crate) writer: &'a mut W,
    pub(crate) buf: &'a mut B,
}

impl<W: AsyncWrite + Unpin + ?Sized, B: Buf + ?Sized> Future for WriteAllBufFuture<'_, W, B> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.buf.has_remaining() {
            let chunk = this.buf.chunk();
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, chunk))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "write_all_buf: the writer accepted 0 bytes",
                )));
            }
            let n = n.min(chunk.len());
            this.buf.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

macro_rules! debug_named {
    ($($ty:ident $($p:ident)*;)*) => { $(
        impl<$($p: ?Sized),*> fmt::Debug for $ty<'_, $($p),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    )* };
}

debug_named! {
    ReadBufFuture R B;
    WriteBufFuture W B;
    WriteAllBufFuture W B;
}
