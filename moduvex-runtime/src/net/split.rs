//! Splitting a stream into a read half and a write half.
//!
//! The one idea: a socket is already full duplex (the reactor keeps the
//! read and the write waiters apart), so a half is just a shared reference to the
//! stream, borrowed ([`ReadHalf`], [`WriteHalf`]) or counted
//! ([`OwnedReadHalf`], [`OwnedWriteHalf`]), with no lock. The owned halves
//! can be put back together with `reunite`.
//!
//! `net::tcp` and `net::unix` name these types for their own streams
//! (`tcp::OwnedReadHalf` is `OwnedReadHalf<TcpStream>`).
//!
//! ```
//! use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
//! use moduvex_runtime::net::UnixStream;
//!
//! moduvex_runtime::block_on(async {
//!     let (a, mut b) = UnixStream::pair()?;
//!     let (mut rd, mut wr) = a.into_split();
//!     let writer = moduvex_runtime::spawn(async move { wr.write_all(b"x").await });
//!     writer.await.unwrap()?;
//!     b.write_all(b"y").await?;
//!     let mut buf = [0; 1];
//!     rd.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"y");
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// A stream that can be split: [`TcpStream`](super::TcpStream) and
/// [`UnixStream`](super::UnixStream). Sealed.
///
/// ```
/// use moduvex_runtime::net::split::{OwnedReadHalf, OwnedWriteHalf, SplitStream};
/// use moduvex_runtime::net::{TcpStream, UnixStream};
///
/// fn halves<S: SplitStream>(r: OwnedReadHalf<S>, w: OwnedWriteHalf<S>) -> S {
///     r.reunite(w).ok().expect("same stream")
/// }
/// moduvex_runtime::block_on(async {
///     let (a, _b) = UnixStream::pair()?;
///     let (r, w) = a.into_split();
///     let a: UnixStream = halves(r, w);
///     # drop(a);
///     # let _ = halves::<TcpStream>;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait SplitStream: sealed::Sealed {}

pub(crate) mod sealed {
    use std::io::{self, IoSlice, IoSliceMut};
    use std::task::{Context, Poll};

    /// Operations through a shared reference, which is all a half holds.
    pub trait Sealed {
        fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8])
            -> Poll<io::Result<usize>>;
        fn poll_read_vectored_shared(
            &self,
            cx: &mut Context<'_>,
            bufs: &mut [IoSliceMut<'_>],
        ) -> Poll<io::Result<usize>>;
        fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        fn poll_write_vectored_shared(
            &self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        fn shutdown_write(&self) -> io::Result<()>;
        #[cfg(feature = "tokio-io")]
        fn poll_read_buf_shared(
            &self,
            cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>>;
    }
}

/// The read half of a borrowed split (see `TcpStream::split`).
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let mut a = a;
///     let (mut rd, _wr) = a.split();
///     (&b).write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     rd.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct ReadHalf<'a, S>(&'a S);

/// The write half of a borrowed split. `close` shuts the stream's write
/// direction down; dropping it does not.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let mut a = a;
///     let (_rd, mut wr) = a.split();
///     wr.write_all(b"bye").await?;
///     wr.close().await?;
///     let mut got = Vec::new();
///     (&b).read_to_end(&mut got).await?;
///     assert_eq!(got, b"bye");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct WriteHalf<'a, S>(&'a S);

/// The read half of an owned split (see `TcpStream::into_split`).
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (mut rd, _wr) = a.into_split();
///     let reader = moduvex_runtime::spawn(async move {
///         let mut buf = [0; 4];
///         rd.read_exact(&mut buf).await.map(|_| buf)
///     });
///     (&b).write_all(b"task").await?;
///     assert_eq!(&reader.await.unwrap()?, b"task");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct OwnedReadHalf<S: SplitStream> {
    inner: Arc<S>,
}

/// The write half of an owned split.
///
/// Dropping it shuts the stream's write direction down (the peer sees
/// end-of-file), unless it was [`forget`](OwnedWriteHalf::forget)-ed or
/// reunited.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (_rd, mut wr) = a.into_split();
///     wr.write_all(b"last words").await?;
///     drop(wr); // shuts the write direction down
///     let mut got = Vec::new();
///     (&b).read_to_end(&mut got).await?;
///     assert_eq!(got, b"last words");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct OwnedWriteHalf<S: SplitStream> {
    inner: Arc<S>,
    shutdown_on_drop: bool,
}

/// The halves passed to `reunite` came from different streams; they are
/// handed back unchanged.
///
/// ```
/// use moduvex_runtime::net::UnixStream;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (c, _d) = UnixStream::pair()?;
///     let (r1, _w1) = a.into_split();
///     let (_r2, w2) = c.into_split();
///     let err = r1.reunite(w2).unwrap_err();
///     // Both halves come back untouched.
///     let (r1, _w2) = (err.0, err.1);
///     # drop((r1, b));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

pub(crate) fn split<S: SplitStream>(stream: &S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let inner = Arc::new(stream);
    let read = OwnedReadHalf {
        inner: inner.clone(),
    };
    let write = OwnedWriteHalf {
        inner,
        shutdown_on_drop: true,
    };
    (read, write)
}

fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    match Arc::try_unwrap(read.inner) {
        Ok(stream) => Ok(stream),
        // Only the two halves ever hold the Arc, and `write` is gone.
        Err(_) => unreachable!("a split stream is shared by its two halves only"),
    }
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together. Fails, returning both halves, if
    /// they came from different streams.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (rd, wr) = a.into_split();
    ///     let a = rd.reunite(wr).expect("halves of one stream");
    ///     a.try_write(b"x")?;
    ///     b.readable().await?;
    ///     assert_eq!(b.try_read(&mut [0; 2])?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn reunite(self, write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, write)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together. Fails, returning both halves, if
    /// they came from different streams.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (rd, wr) = a.into_split();
    ///     let a = wr.reunite(rd).expect("halves of one stream");
    ///     // Reuniting does not shut anything down: the stream still writes.
    ///     a.try_write(b"x")?;
    ///     b.readable().await?;
    ///     assert_eq!(b.try_read(&mut [0; 2])?, 1);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn reunite(self, read: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(read, self)
    }

    /// Drops the half without shutting the write direction down.
    ///
    /// ```
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (rd, wr) = a.into_split();
    ///     wr.forget();
    ///     // The write direction is still open: `b` sees no end-of-file.
    ///     assert!(b.try_read(&mut [0; 1]).is_err());
    ///     # drop(rd);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone (ENOTCONN): nothing to report.
            let _ = self.inner.shutdown_write();
        }
    }
}

macro_rules! as_ref_and_debug {
    ($name:ident < $($lt:lifetime,)? S >, $field:tt) => {
        impl<$($lt,)? S: SplitStream> AsRef<S> for $name<$($lt,)? S> {
            fn as_ref(&self) -> &S {
                &self.$field
            }
        }
        impl<$($lt,)? S: SplitStream + fmt::Debug> fmt::Debug for $name<$($lt,)? S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(self.as_ref()).finish()
            }
        }
    };
}

as_ref_and_debug!(ReadHalf<'a, S>, 0);
as_ref_and_debug!(WriteHalf<'a, S>, 0);
as_ref_and_debug!(OwnedReadHalf<S>, inner);
as_ref_and_debug!(OwnedWriteHalf<S>, inner);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}

macro_rules! impl_read {
    ($name:ident < $($lt:lifetime,)? S >) => {
        impl<$($lt,)? S: SplitStream> AsyncRead for $name<$($lt,)? S> {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                AsRef::<S>::as_ref(&*self).poll_read_shared(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                AsRef::<S>::as_ref(&*self).poll_read_vectored_shared(cx, bufs)
            }
        }
    };
}

macro_rules! impl_write {
    ($name:ident < $($lt:lifetime,)? S >) => {
        impl<$($lt,)? S: SplitStream> AsyncWrite for $name<$($lt,)? S> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsRef::<S>::as_ref(&*self).poll_write_shared(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsRef::<S>::as_ref(&*self).poll_write_vectored_shared(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                // Sockets have no user-space buffer to flush.
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(AsRef::<S>::as_ref(&*self).shutdown_write())
            }
        }
    };
}

impl_read!(ReadHalf<'a, S>);
impl_read!(OwnedReadHalf<S>);
impl_write!(WriteHalf<'a, S>);
impl_write!(OwnedWriteHalf<S>);

/// tokio's `AsyncRead` for a read half (feature `tokio-io`).
macro_rules! impl_tokio_read {
    ($name:ident < $($lt:lifetime,)? S >) => {
        #[cfg(feature = "tokio-io")]
        impl<$($lt,)? S: SplitStream> tokio::io::AsyncRead for $name<$($lt,)? S> {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                AsRef::<S>::as_ref(&*self).poll_read_buf_shared(cx, buf)
            }
        }
    };
}

/// tokio's `AsyncWrite` for a write half (feature `tokio-io`).
macro_rules! impl_tokio_write {
    ($name:ident < $($lt:lifetime,)? S >) => {
        #[cfg(feature = "tokio-io")]
        impl<$($lt,)? S: SplitStream> tokio::io::AsyncWrite for $name<$($lt,)? S> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsRef::<S>::as_ref(&*self).poll_write_shared(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsRef::<S>::as_ref(&*self).poll_write_vectored_shared(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Shuts the stream's write direction down, as `poll_close`.
            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(AsRef::<S>::as_ref(&*self).shutdown_write())
            }
        }
    };
}

impl_tokio_read!(ReadHalf<'a, S>);
impl_tokio_read!(OwnedReadHalf<S>);
impl_tokio_write!(WriteHalf<'a, S>);
impl_tokio_write!(OwnedWriteHalf<S>);
