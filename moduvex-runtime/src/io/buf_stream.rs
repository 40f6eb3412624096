//! `BufStream`: one stream with a read buffer and a write buffer — tokio's
//! `io::BufStream`.
//!
//! The one idea: two independent buffers around one stream. Reads come
//! out of the read buffer (refilled by one large read when empty), writes
//! go into the write buffer (written out when it would overflow, and on
//! flush and close); neither waits on the other. A read or write at least
//! as large as its buffer, with that buffer empty, goes straight through.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

/// The default size of each buffer (tokio's).
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// A stream buffered both ways — tokio's `BufStream`.
///
/// Reads come out of a read buffer that is refilled in large reads; writes
/// go into a write buffer that is written out when full, on `flush`, and
/// on `close` (`shutdown`). As with any buffered writer, flush before
/// waiting for a reply, or the request may still be in the buffer.
///
/// ```
/// use moduvex_runtime::io::{duplex, AsyncBufReadExt, AsyncWriteExt, BufStream};
///
/// moduvex_runtime::block_on(async {
///     let (near, mut far) = duplex(64);
///     let mut stream = BufStream::new(near);
///     stream.write_all(b"hello\n").await?;
///     stream.flush().await?;
///     far.write_all(b"world\n").await?;
///     let mut line = String::new();
///     stream.read_line(&mut line).await?;
///     assert_eq!(line, "world\n");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct BufStream<RW> {
    /// # Invariant
    /// Structurally pinned: a pinned `BufStream` only ever hands it out
    /// pinned, never moves it, and has no `Drop` of its own; `BufStream`
    /// is `Unpin` exactly when `stream` is (the auto trait). The buffers
    /// are not pinned.
    stream: RW,
    bufs: Buffers,
}

/// # Invariant
/// `rpos <= rcap <= rbuf.len()`: `rbuf[rpos..rcap]` is read from the
/// stream, not yet by the user; `written <= wbuf.len()`: `wbuf[written..]`
/// is written by the user, not yet to the stream.
struct Buffers {
    rbuf: Box<[u8]>,
    rpos: usize,
    rcap: usize,
    wbuf: Vec<u8>,
    written: usize,
    wcap: usize,
}

impl<RW: AsyncRead + AsyncWrite> BufStream<RW> {
    /// Wraps `stream` with buffers of the default size (8 KiB each).
    ///
    /// ```
    /// use moduvex_runtime::io::{duplex, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = duplex(64);
    ///     let mut stream = BufStream::new(a);
    ///     stream.write_all(b"buffered\n").await?;
    ///     stream.flush().await?; // nothing reaches `b` before this
    ///     let mut line = String::new();
    ///     b.write_all(b"reply\n").await?;
    ///     stream.read_line(&mut line).await?;
    ///     assert_eq!(line, "reply\n");
    ///     let mut got = [0; 9];
    ///     b.read_exact(&mut got).await?;
    ///     assert_eq!(&got, b"buffered\n");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn new(stream: RW) -> BufStream<RW> {
        BufStream::with_capacity(DEFAULT_CAPACITY, DEFAULT_CAPACITY, stream)
    }

    /// Wraps `stream` with a read buffer of `reader_capacity` bytes and a
    /// write buffer of `writer_capacity` bytes.
    ///
    /// ```
    /// use moduvex_runtime::io::{duplex, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = duplex(64);
    ///     let mut stream = BufStream::with_capacity(16, 4, a);
    ///     stream.write_all(b"more than 4").await?; // spills past the 4-byte buffer
    ///     stream.flush().await?;
    ///     let mut got = [0; 11];
    ///     b.read_exact(&mut got).await?;
    ///     assert_eq!(&got, b"more than 4");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn with_capacity(reader_capacity: usize, writer_capacity: usize, stream: RW) -> Self {
        BufStream {
            stream,
            bufs: Buffers {
                rbuf: vec![0; reader_capacity].into_boxed_slice(),
                rpos: 0,
                rcap: 0,
                wbuf: Vec::with_capacity(writer_capacity),
                written: 0,
                wcap: writer_capacity,
            },
        }
    }

    /// The stream.
    ///
    /// ```
    /// use moduvex_runtime::io::{self, BufStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let stream = BufStream::new(io::Cursor::new(vec![1u8, 2]));
    ///     assert_eq!(stream.get_ref().get_ref(), &[1, 2]);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &RW {
        &self.stream
    }

    /// The stream, mutably: reading or writing it directly bypasses (and
    /// may reorder against) the buffers.
    ///
    /// ```
    /// use moduvex_runtime::io::{self, BufStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut stream = BufStream::new(io::Cursor::new(Vec::<u8>::new()));
    ///     stream.get_mut().get_mut().push(7); // bypasses the buffers
    ///     assert_eq!(stream.into_inner().into_inner(), [7]);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_mut(&mut self) -> &mut RW {
        &mut self.stream
    }

    /// The stream, pinned.
    ///
    /// ```
    /// use moduvex_runtime::io::{self, BufStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut stream = std::pin::pin!(BufStream::new(io::Cursor::new(vec![0u8; 3])));
    ///     let inner = stream.as_mut().get_pin_mut();
    ///     assert_eq!(inner.get_ref().len(), 3);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut RW> {
        self.project().0
    }

    /// The stream; buffered data not yet read or written is lost (flush
    /// first).
    ///
    /// ```
    /// use moduvex_runtime::io::{self, AsyncWriteExt, BufStream};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut stream = BufStream::new(io::Cursor::new(Vec::new()));
    ///     stream.write_all(b"kept").await?;
    ///     stream.flush().await?; // unflushed data would be lost
    ///     assert_eq!(stream.into_inner().into_inner(), b"kept");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_inner(self) -> RW {
        self.stream
    }

    /// The pinned stream and the (unpinned) buffers.
    fn project(self: Pin<&mut Self>) -> (Pin<&mut RW>, &mut Buffers) {
        // SAFETY: only `stream` is handed out, pinned, and it is never moved (the invariant on the field); `bufs` is plain data.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `stream` is structurally pinned.
        let stream = unsafe { Pin::new_unchecked(&mut this.stream) };
        (stream, &mut this.bufs)
    }

    /// Writes out the write buffer (not flushing the stream).
    fn poll_flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (mut stream, b) = self.project();
        let res = loop {
            if b.written == b.wbuf.len() {
                break Poll::Ready(Ok(()));
            }
            match stream.as_mut().poll_write(cx, &b.wbuf[b.written..]) {
                Poll::Ready(Ok(0)) => {
                    break Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "BufStream: the stream accepted 0 bytes of buffered data",
                    )))
                }
                Poll::Ready(Ok(n)) => b.written += n.min(b.wbuf.len() - b.written),
                Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                Poll::Pending => break Poll::Pending,
            }
        };
        b.wbuf.drain(..b.written);
        b.written = 0;
        res
    }
}

impl<RW: AsyncRead + AsyncWrite> AsyncRead for BufStream<RW> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.bufs.rpos == self.bufs.rcap && buf.len() >= self.bufs.rbuf.len() {
            // Nothing buffered and a large read: buffering would only copy.
            return self.project().0.poll_read(cx, buf);
        }
        let avail = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<RW: AsyncRead + AsyncWrite> AsyncBufRead for BufStream<RW> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let (stream, b) = self.project();
        if b.rpos == b.rcap {
            let n = ready!(stream.poll_read(cx, &mut b.rbuf))?;
            b.rpos = 0;
            b.rcap = n.min(b.rbuf.len());
        }
        Poll::Ready(Ok(&b.rbuf[b.rpos..b.rcap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let b = self.project().1;
        b.rpos = (b.rpos + amt).min(b.rcap);
    }
}

impl<RW: AsyncRead + AsyncWrite> AsyncWrite for BufStream<RW> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.bufs.wbuf.len() + buf.len() > self.bufs.wcap {
            ready!(self.as_mut().poll_flush_buf(cx))?;
        }
        let (stream, b) = self.project();
        if buf.len() >= b.wcap {
            // Larger than the buffer (now empty): buffering would only copy.
            return stream.poll_write(cx, buf);
        }
        b.wbuf.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.project().0.poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.project().0.poll_close(cx)
    }
}

impl<RW: AsyncRead + AsyncWrite + fmt::Debug> fmt::Debug for BufStream<RW> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufStream")
            .field("stream", &self.stream)
            .field("buffered_reads", &(self.bufs.rcap - self.bufs.rpos))
            .field(
                "buffered_writes",
                &(self.bufs.wbuf.len() - self.bufs.written),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{duplex, AsyncReadExt, AsyncWriteExt};

    /// Used through a pinned reference (the structural projection), and
    /// the two buffers do not mix.
    #[test]
    fn a_pinned_buf_stream_reads_and_writes_through_its_buffers() {
        crate::block_on(async {
            let (near, mut far) = duplex(64);
            let stream = BufStream::with_capacity(4, 4, near);
            let mut stream = std::pin::pin!(stream);
            stream.write_all(b"abcdef").await.unwrap();
            stream.flush().await.unwrap();
            let mut got = [0u8; 6];
            far.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"abcdef");
            far.write_all(b"xyz").await.unwrap();
            let mut back = [0u8; 3];
            stream.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"xyz");
            stream.as_mut().get_pin_mut();
        });
    }
}
