//! The futures behind `read_u32`, `write_f64_le` and the rest: a number is
//! read into, or written from, a small byte array, then converted.
//!
//! The one idea: one future type per direction for every number type; the
//! method that makes it supplies the byte count and a plain `fn` that
//! decodes the bytes (the encoding happens up front, into the array).
//! Neither is cancel-safe, as in tokio: dropping one part-way loses the
//! bytes it already moved.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// The widest number (`u128`) in bytes.
const MAX: usize = 16;

/// Reads one number: the future of [`AsyncReadExt::read_u32`] and its
/// siblings (`crate::io::AsyncReadExt`).
///
/// [`AsyncReadExt::read_u32`]: super::AsyncReadExt::read_u32
///
/// ```
/// use moduvex_runtime::io::AsyncReadExt;
///
/// moduvex_runtime::block_on(async {
///     let mut r = &[0x01, 0x02, 0xff][..];
///     assert_eq!(r.read_u16().await?, 0x0102); // a ReadNum future
///     assert_eq!(r.read_i8().await?, -1);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ReadNum<'a, R: ?Sized, T> {
    reader: &'a mut R,
    buf: [u8; MAX],
    filled: usize,
    len: usize,
    decode: fn(&[u8]) -> T,
    name: &'static str,
}

impl<'a, R: ?Sized, T> ReadNum<'a, R, T> {
    pub(crate) fn new(
        reader: &'a mut R,
        len: usize,
        decode: fn(&[u8]) -> T,
        name: &'static str,
    ) -> Self {
        debug_assert!(len <= MAX);
        ReadNum {
            reader,
            buf: [0; MAX],
            filled: 0,
            len,
            decode,
            name,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized, T> Future for ReadNum<'_, R, T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let this = self.get_mut();
        while this.filled < this.len {
            let dst = &mut this.buf[this.filled..this.len];
            let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, dst))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: the stream ended after {} of {} bytes",
                        this.name, this.filled, this.len
                    ),
                )));
            }
            this.filled += n.min(this.len - this.filled);
        }
        Poll::Ready(Ok((this.decode)(&this.buf[..this.len])))
    }
}

impl<R: ?Sized, T> fmt::Debug for ReadNum<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadNum")
            .field("method", &self.name)
            .field("filled", &self.filled)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Writes one number: the future of [`AsyncWriteExt::write_u32`] and its
/// siblings.
///
/// [`AsyncWriteExt::write_u32`]: super::AsyncWriteExt::write_u32
///
/// ```
/// use moduvex_runtime::io::AsyncWriteExt;
///
/// moduvex_runtime::block_on(async {
///     let mut w = Vec::new();
///     w.write_u32_le(1).await?; // a WriteNum future
///     w.write_i16(-2).await?;
///     assert_eq!(w, [1, 0, 0, 0, 0xff, 0xfe]);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct WriteNum<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: [u8; MAX],
    written: usize,
    len: usize,
    name: &'static str,
}

impl<'a, W: ?Sized> WriteNum<'a, W> {
    pub(crate) fn new(writer: &'a mut W, bytes: &[u8], name: &'static str) -> Self {
        let mut buf = [0; MAX];
        buf[..bytes.len()].copy_from_slice(bytes);
        WriteNum {
            writer,
            buf,
            written: 0,
            len: bytes.len(),
            name,
        }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteNum<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.written < this.len {
            let src = &this.buf[this.written..this.len];
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, src))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!(
                        "{}: the writer accepted 0 bytes after {} of {}",
                        this.name, this.written, this.len
                    ),
                )));
            }
            this.written += n.min(this.len - this.written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<W: ?Sized> fmt::Debug for WriteNum<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteNum")
            .field("method", &self.name)
            .field("written", &self.written)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}
