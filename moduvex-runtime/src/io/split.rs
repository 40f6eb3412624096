//! [`split`]: one reader-writer, two handles.
//!
//! The one idea: the two halves share the object behind a mutex that is
//! held only for the duration of one `poll_*` call, never across an
//! `.await`, so a reading task and a writing task can interleave freely.
//! Sockets do not need this (they split without a lock, see
//! [`TcpStream::into_split`](crate::net::TcpStream::into_split)); it is for
//! any other `AsyncRead + AsyncWrite`, such as a TLS stream.
//!
//! A half's poll runs the inner object's poll under the lock. Wakers the
//! inner poll stores are woken later, by whoever makes progress, so no
//! waker is woken under this lock by a well-behaved inner object.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// Splits `stream` into a read half and a write half that share it.
///
/// ```
/// use moduvex_runtime::io::{self, AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     let (mut rd, mut wr) = io::split(a);
///     wr.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     b.write_all(b"pong").await?;
///     rd.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"pong");
///     let _a = rd.unsplit(wr);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let inner = Arc::new(Mutex::new(stream));
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf { inner },
    )
}

/// The read half made by [`split`].
///
/// ```
/// use moduvex_runtime::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = io::duplex(16);
///     let (mut rd, _wr) = io::split(a);
///     b.write_all(b"in").await?;
///     let mut buf = [0; 2];
///     rd.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"in");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct ReadHalf<T> {
    inner: Arc<Mutex<T>>,
}

/// The write half made by [`split`].
///
/// ```
/// use moduvex_runtime::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = io::duplex(16);
///     let (_rd, mut wr) = io::split(a);
///     wr.write_all(b"out").await?;
///     let mut buf = [0; 3];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"out");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct WriteHalf<T> {
    inner: Arc<Mutex<T>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in the inner object's poll leaves it as it was; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T: Unpin> ReadHalf<T> {
    /// Whether `other` is the write half of the same split.
    ///
    /// ```
    /// use moduvex_runtime::io;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (r1, w1) = io::split(io::Cursor::new(vec![0u8]));
    ///     let (_r2, w2) = io::split(io::Cursor::new(vec![0u8]));
    ///     assert!(r1.is_pair_of(&w1));
    ///     assert!(!r1.is_pair_of(&w2));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Joins the halves back into the original object.
    ///
    /// # Panics
    /// If `write` is not this half's pair.
    ///
    /// ```
    /// use moduvex_runtime::io;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (rd, wr) = io::split(io::Cursor::new(vec![1u8, 2]));
    ///     let cursor = rd.unsplit(wr);
    ///     assert_eq!(cursor.into_inner(), [1, 2]);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    #[track_caller]
    pub fn unsplit(self, write: WriteHalf<T>) -> T {
        assert!(
            self.is_pair_of(&write),
            "unsplit: halves of different streams"
        );
        drop(write);
        match Arc::try_unwrap(self.inner) {
            Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
            Err(_) => unreachable!("only the two halves hold the stream"),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_read_vectored(cx, bufs)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *lock(&self.inner)).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *lock(&self.inner)).poll_close(cx)
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadHalf(..)")
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteHalf(..)")
    }
}
