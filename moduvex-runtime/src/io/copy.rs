//! `copy`, `copy_buf` and `copy_bidirectional`: move bytes from a reader to
//! a writer until end-of-file — tokio's helpers, over futures-io types.
//!
//! The one idea: *flush whenever the reader has nothing to give*. A copy
//! that only flushes at the end deadlocks a proxy whose writer buffers:
//! the request sits in the buffer while the proxy waits for the reply that
//! the request would have produced. So when a read is `Pending` and bytes
//! were written since the last flush, the writer is flushed before the
//! copy waits. Each chunk read charges the task's cooperative budget one
//! unit, so a copy between always-ready ends still lets other tasks run.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

/// The chunk size of [`copy`] and [`copy_bidirectional`] (tokio's).
const CHUNK: usize = 8 * 1024;

fn write_zero(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::WriteZero,
        format!("{name}: the writer accepted 0 bytes"),
    )
}

/// One direction of a copy: a buffer and where the copy stands.
///
/// # Invariant
/// `pos <= cap <= buf.len()`: `buf[pos..cap]` is read but not yet
/// written.
pub(crate) struct CopyBuffer {
    read_done: bool,
    need_flush: bool,
    pos: usize,
    cap: usize,
    amt: u64,
    buf: Box<[u8]>,
}

impl CopyBuffer {
    pub(crate) fn new() -> CopyBuffer {
        CopyBuffer::with_capacity(CHUNK)
    }

    pub(crate) fn with_capacity(size: usize) -> CopyBuffer {
        debug_assert!(size > 0);
        CopyBuffer {
            read_done: false,
            need_flush: false,
            pos: 0,
            cap: 0,
            amt: 0,
            buf: vec![0; size].into_boxed_slice(),
        }
    }

    /// Copies until the reader's end-of-file and a final flush; the count.
    pub(crate) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
        name: &str,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                // One unit of budget per chunk read (refunded if the
                // reader is not ready).
                let coop = ready!(crate::coop::poll_proceed(cx));
                match reader.as_mut().poll_read(cx, &mut self.buf) {
                    Poll::Ready(Ok(0)) => self.read_done = true,
                    Poll::Ready(Ok(n)) => {
                        coop.made_progress();
                        self.pos = 0;
                        self.cap = n.min(self.buf.len());
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        // Nothing to copy for now: whatever the writer holds
                        // may be what the other side waits for.
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }
            while self.pos < self.cap {
                let chunk = &self.buf[self.pos..self.cap];
                let n = ready!(writer.as_mut().poll_write(cx, chunk))?;
                if n == 0 {
                    return Poll::Ready(Err(write_zero(name)));
                }
                let n = n.min(chunk.len());
                self.pos += n;
                self.amt += n as u64;
                self.need_flush = true;
            }
            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

/// Copies everything `reader` yields into `writer`, until end-of-file,
/// then flushes `writer`; the number of bytes copied — tokio's
/// `io::copy`.
///
/// The writer is also flushed whenever the reader has nothing ready (and
/// something was written since the last flush), so a proxy through a
/// buffering writer never holds back a request the other side waits for.
/// `writer` is not closed. A writer that accepts 0 bytes fails the copy
/// with `WriteZero`.
///
/// ```
/// use moduvex_runtime::io;
///
/// moduvex_runtime::block_on(async {
///     let mut reader: &[u8] = b"hello";
///     let mut out = Vec::new();
///     assert_eq!(io::copy(&mut reader, &mut out).await?, 5);
///     assert_eq!(out, b"hello");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> CopyFuture<'a, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    CopyFuture {
        reader,
        writer,
        buf: CopyBuffer::new(),
    }
}

/// The future of [`copy`].
///
/// ```
/// use moduvex_runtime::io::{self, CopyFuture};
///
/// moduvex_runtime::block_on(async {
///     let (mut r, mut w) = (&b"abc"[..], Vec::new());
///     let copying: CopyFuture<'_, _, _> = io::copy(&mut r, &mut w);
///     assert_eq!(copying.await?, 3);
///     assert_eq!(w, b"abc");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct CopyFuture<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: CopyBuffer,
}

impl<R, W> Future for CopyFuture<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        this.buf.poll_copy(
            cx,
            Pin::new(&mut *this.reader),
            Pin::new(&mut *this.writer),
            "io::copy",
        )
    }
}

/// Copies everything a buffered `reader` yields into `writer`, straight
/// from the reader's buffer, until end-of-file, then flushes `writer`; the
/// number of bytes copied — tokio's `io::copy_buf`.
///
/// As [`copy`], it flushes `writer` whenever the reader has nothing ready.
///
/// ```
/// use moduvex_runtime::io::{self, BufReader};
///
/// moduvex_runtime::block_on(async {
///     let mut reader = BufReader::new(&b"buffered"[..]);
///     let mut out = Vec::new();
///     assert_eq!(io::copy_buf(&mut reader, &mut out).await?, 8);
///     assert_eq!(out, b"buffered");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> CopyBufFuture<'a, R, W>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    CopyBufFuture {
        reader,
        writer,
        amt: 0,
        need_flush: false,
    }
}

/// The future of [`copy_buf`].
///
/// ```
/// use moduvex_runtime::io::{self, CopyBufFuture};
///
/// moduvex_runtime::block_on(async {
///     let mut r = io::BufReader::new(&b"buffered"[..]);
///     let mut w = Vec::new();
///     let copying: CopyBufFuture<'_, _, _> = io::copy_buf(&mut r, &mut w);
///     assert_eq!(copying.await?, 8);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct CopyBufFuture<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    amt: u64,
    need_flush: bool,
}

impl<R, W> Future for CopyBufFuture<'_, R, W>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            // One unit of budget per chunk moved (refunded if nothing
            // moves in this round).
            let coop = ready!(crate::coop::poll_proceed(cx));
            let chunk = match Pin::new(&mut *this.reader).poll_fill_buf(cx) {
                Poll::Ready(res) => res?,
                Poll::Pending => {
                    if this.need_flush {
                        ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                        this.need_flush = false;
                    }
                    return Poll::Pending;
                }
            };
            if chunk.is_empty() {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                this.need_flush = false;
                return Poll::Ready(Ok(this.amt));
            }
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, chunk))?;
            if n == 0 {
                return Poll::Ready(Err(write_zero("io::copy_buf")));
            }
            let n = n.min(chunk.len());
            coop.made_progress();
            Pin::new(&mut *this.reader).consume(n);
            this.amt += n as u64;
            this.need_flush = true;
        }
    }
}

/// One direction of [`copy_bidirectional`].
enum Transfer {
    Running(CopyBuffer),
    /// The reader hit end-of-file; the writer is being shut down.
    ShuttingDown(u64),
    Done(u64),
}

impl Transfer {
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            match self {
                Transfer::Running(buf) => {
                    let n = ready!(buf.poll_copy(
                        cx,
                        reader.as_mut(),
                        writer.as_mut(),
                        "io::copy_bidirectional"
                    ))?;
                    *self = Transfer::ShuttingDown(n);
                }
                Transfer::ShuttingDown(n) => {
                    ready!(writer.as_mut().poll_close(cx))?;
                    *self = Transfer::Done(*n);
                }
                Transfer::Done(n) => return Poll::Ready(Ok(*n)),
            }
        }
    }
}

/// Copies `a` to `b` and `b` to `a` at the same time, until both reach
/// end-of-file; `(bytes a→b, bytes b→a)` — tokio's
/// `io::copy_bidirectional`.
///
/// When one side's reader hits end-of-file, the other side's writing half
/// is shut down (`close`), so the far peer sees end-of-file too, while the
/// other direction keeps going. The first error from either direction
/// ends the copy and is returned.
///
/// ```
/// use moduvex_runtime::io::{self, duplex, AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let (mut client, mut a) = duplex(64);
///     let (mut b, mut server) = duplex(64);
///     let proxy = moduvex_runtime::spawn(async move {
///         io::copy_bidirectional(&mut a, &mut b).await
///     });
///     client.write_all(b"ping").await?;
///     client.shutdown().await?;
///     let mut got = String::new();
///     server.read_to_string(&mut got).await?; // ends: the proxy shut down b
///     server.write_all(b"pong!").await?;
///     drop(server);
///     let mut back = String::new();
///     client.read_to_string(&mut back).await?;
///     assert_eq!((got.as_str(), back.as_str()), ("ping", "pong!"));
///     assert_eq!(proxy.await.unwrap()?, (4, 5));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    bidirectional(a, b, CopyBuffer::new(), CopyBuffer::new()).await
}

/// [`copy_bidirectional`] with a buffer of `a_to_b_size` bytes for the
/// copy from `a` to `b` and one of `b_to_a_size` for the other way —
/// tokio's `io::copy_bidirectional_with_sizes`.
///
/// # Panics
/// If either size is 0: no byte could ever be copied (tokio takes a read
/// into an empty buffer for end-of-file and copies nothing).
///
/// ```
/// use moduvex_runtime::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let (mut a, mut a_peer) = io::duplex(64);
///     let (mut b, mut b_peer) = io::duplex(64);
///     let proxy = moduvex_runtime::spawn(async move {
///         io::copy_bidirectional_with_sizes(&mut a, &mut b, 16, 16).await
///     });
///     a_peer.write_all(b"to b").await?;
///     b_peer.write_all(b"to a").await?;
///     let (mut x, mut y) = ([0; 4], [0; 4]);
///     b_peer.read_exact(&mut x).await?;
///     a_peer.read_exact(&mut y).await?;
///     assert_eq!((&x, &y), (b"to b", b"to a"));
///     a_peer.close().await?;
///     b_peer.close().await?;
///     assert_eq!(proxy.await.unwrap()?, (4, 4));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[track_caller]
pub fn copy_bidirectional_with_sizes<'a, A, B>(
    a: &'a mut A,
    b: &'a mut B,
    a_to_b_size: usize,
    b_to_a_size: usize,
) -> impl std::future::Future<Output = io::Result<(u64, u64)>> + 'a
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    assert!(
        a_to_b_size > 0 && b_to_a_size > 0,
        "io::copy_bidirectional_with_sizes({a_to_b_size}, {b_to_a_size}): a buffer size of 0 \
         could never copy a byte; pass at least 1 (or use copy_bidirectional)"
    );
    bidirectional(
        a,
        b,
        CopyBuffer::with_capacity(a_to_b_size),
        CopyBuffer::with_capacity(b_to_a_size),
    )
}

async fn bidirectional<A, B>(
    a: &mut A,
    b: &mut B,
    there: CopyBuffer,
    back: CopyBuffer,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::Running(there);
    let mut b_to_a = Transfer::Running(back);
    std::future::poll_fn(|cx| {
        let there = a_to_b.poll(cx, Pin::new(&mut *a), Pin::new(&mut *b))?;
        let back = b_to_a.poll(cx, Pin::new(&mut *b), Pin::new(&mut *a))?;
        let there = ready!(there);
        let back = ready!(back);
        Poll::Ready(Ok((there, back)))
    })
    .await
}

macro_rules! debug_named {
    ($($ty:ident;)*) => { $(
        impl<R: ?Sized, W: ?Sized> fmt::Debug for $ty<'_, R, W> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    )* };
}

debug_named! {
    CopyFuture;
    CopyBufFuture;
}
