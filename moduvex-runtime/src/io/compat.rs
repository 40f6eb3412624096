//! [`Compat`]: futures-io's I/O traits as tokio's, and tokio's as
//! futures-io's (feature `tokio-io`; tokio-util's `compat` module).
//!
//! The one idea: one wrapper type, whose impls go whichever way its inner
//! type needs. A futures-io reader in a `Compat` is a tokio reader, and a
//! tokio reader in a `Compat` is a futures-io reader; writers, buffered
//! readers and seekers alike. Our own streams implement both families
//! already and need no wrapper.
//!
//! A futures-io reader writes into an initialised `&mut [u8]`, so reading
//! one into tokio's `ReadBuf` initialises the buffer's unfilled part first
//! (`ReadBuf::initialize_unfilled`: once per buffer, as tokio-util does).
//!
//! The ext traits' `compat()` is one name in two traits: import the one of
//! the family the value speaks (a type that speaks both, like our sockets,
//! makes the call ambiguous with both imported).
//!
//! ```
//! use moduvex_runtime::io::compat::TokioAsyncReadCompatExt;
//! use moduvex_runtime::io::AsyncReadExt;
//!
//! moduvex_runtime::block_on(async {
//!     // A tokio reader, read through futures-io's traits.
//!     let mut r = tokio::io::repeat(7).compat();
//!     let mut buf = [0; 3];
//!     r.read_exact(&mut buf).await?;
//!     assert_eq!(buf, [7, 7, 7]);
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An I/O object of one trait family seen through the other's traits: see
/// the [module docs](self).
///
/// ```
/// use moduvex_runtime::io::{duplex, AsyncReadExt as _, Compat};
/// use tokio::io::AsyncWriteExt as _;
///
/// moduvex_runtime::block_on(async {
///     let (a, mut b) = duplex(64);
///     // A futures-io writer used through tokio's traits...
///     let mut tokio_side = Compat::new(a);
///     tokio_side.write_all(b"through tokio").await?;
///     tokio_side.shutdown().await?;
///     // ...reaches the futures-io reader.
///     let mut out = String::new();
///     b.read_to_string(&mut out).await?;
///     assert_eq!(out, "through tokio");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct Compat<T> {
    /// # Invariant
    ///
    /// Structurally pinned: never moved out of a pinned `Compat` (only
    /// [`project`](Compat::project) reaches it from a `Pin`, and there is
    /// no `Drop` impl).
    inner: T,
    /// A seek started through tokio's `start_seek` (or futures-io's
    /// `poll_seek`) and not yet completed.
    seek_pos: Option<SeekFrom>,
}

impl<T> Compat<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// use moduvex_runtime::io::Compat;
    /// use tokio::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = Compat::new(moduvex_runtime::io::Cursor::new(b"abc".to_vec()));
    ///     let mut out = String::new();
    ///     r.read_to_string(&mut out).await?;
    ///     assert_eq!(out, "abc");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn new(inner: T) -> Compat<T> {
        Compat {
            inner,
            seek_pos: None,
        }
    }

    /// The wrapped object.
    ///
    /// ```
    /// use moduvex_runtime::io::Compat;
    ///
    /// let c = Compat::new(vec![1u8, 2]);
    /// assert_eq!(c.get_ref().len(), 2);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably.
    ///
    /// ```
    /// use moduvex_runtime::io::Compat;
    ///
    /// let mut c = Compat::new(Vec::<u8>::new());
    /// c.get_mut().push(7);
    /// assert_eq!(c.get_ref(), &[7]);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the object.
    ///
    /// ```
    /// use moduvex_runtime::io::Compat;
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut w = Compat::new(Vec::<u8>::new());
    ///     w.write_all(b"out").await?;
    ///     assert_eq!(w.into_inner(), b"out");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut T>, &mut Option<SeekFrom>) {
        // SAFETY: `inner` is structurally pinned (its invariant): it is reached only through this pinned projection and never moved; `seek_pos` is not pinned, and handing out `&mut` to it moves nothing that is.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `inner` lives inside a pinned `Compat`.
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        (inner, &mut this.seek_pos)
    }
}

/// `compat()` for futures-io readers: a [`Compat`] that is a tokio
/// `AsyncRead` (tokio-util's `FuturesAsyncReadCompatExt`).
///
/// ```
/// use moduvex_runtime::io::compat::FuturesAsyncReadCompatExt;
/// use tokio::io::AsyncReadExt;
///
/// moduvex_runtime::block_on(async {
///     let mut reader = moduvex_runtime::io::Cursor::new(b"futures".to_vec()).compat();
///     let mut out = Vec::new();
///     reader.read_to_end(&mut out).await?;
///     assert_eq!(out, b"futures");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait FuturesAsyncReadCompatExt: futures_io::AsyncRead {
    /// Wraps `self` in a [`Compat`].
    ///
    /// ```
    /// use moduvex_runtime::io::compat::FuturesAsyncReadCompatExt;
    /// use tokio::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = moduvex_runtime::io::Cursor::new(b"xy".to_vec()).compat();
    ///     assert_eq!(r.read_u8().await?, b'x');
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn compat(self) -> Compat<Self>
    where
        Self: Sized,
    {
        Compat::new(self)
    }
}

impl<T: futures_io::AsyncRead + ?Sized> FuturesAsyncReadCompatExt for T {}

/// `compat_write()` for futures-io writers: a [`Compat`] that is a tokio
/// `AsyncWrite` (tokio-util's `FuturesAsyncWriteCompatExt`).
///
/// ```
/// use moduvex_runtime::io::compat::FuturesAsyncWriteCompatExt;
/// use tokio::io::AsyncWriteExt;
///
/// moduvex_runtime::block_on(async {
///     let mut writer = moduvex_runtime::io::Cursor::new(Vec::new()).compat_write();
///     writer.write_all(b"futures").await?;
///     assert_eq!(writer.get_ref().get_ref(), b"futures");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait FuturesAsyncWriteCompatExt: futures_io::AsyncWrite {
    /// Wraps `self` in a [`Compat`].
    ///
    /// ```
    /// use moduvex_runtime::io::compat::FuturesAsyncWriteCompatExt;
    /// use tokio::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut w = moduvex_runtime::io::Cursor::new(Vec::new()).compat_write();
    ///     w.write_u16(0x0102).await?;
    ///     assert_eq!(w.into_inner().into_inner(), [1, 2]);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn compat_write(self) -> Compat<Self>
    where
        Self: Sized,
    {
        Compat::new(self)
    }
}

impl<T: futures_io::AsyncWrite + ?Sized> FuturesAsyncWriteCompatExt for T {}

/// `compat()` for tokio readers: a [`Compat`] that is a futures-io
/// `AsyncRead` (tokio-util's `TokioAsyncReadCompatExt`).
///
/// ```
/// use moduvex_runtime::io::compat::TokioAsyncReadCompatExt;
/// use moduvex_runtime::io::AsyncReadExt;
///
/// moduvex_runtime::block_on(async {
///     // `&[u8]` is a tokio reader (and a futures-io one; imports decide).
///     let mut reader = tokio::io::AsyncReadExt::chain(&b"to"[..], &b"kio"[..]).compat();
///     let mut out = String::new();
///     reader.read_to_string(&mut out).await?;
///     assert_eq!(out, "tokio");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait TokioAsyncReadCompatExt: tokio::io::AsyncRead {
    /// Wraps `self` in a [`Compat`].
    ///
    /// ```
    /// use moduvex_runtime::io::compat::TokioAsyncReadCompatExt;
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = tokio::io::empty().compat();
    ///     assert_eq!(r.read(&mut [0; 4]).await?, 0);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn compat(self) -> Compat<Self>
    where
        Self: Sized,
    {
        Compat::new(self)
    }
}

impl<T: tokio::io::AsyncRead + ?Sized> TokioAsyncReadCompatExt for T {}

/// `compat_write()` for tokio writers: a [`Compat`] that is a futures-io
/// `AsyncWrite` (tokio-util's `TokioAsyncWriteCompatExt`).
///
/// ```
/// use moduvex_runtime::io::compat::TokioAsyncWriteCompatExt;
/// use moduvex_runtime::io::AsyncWriteExt;
///
/// moduvex_runtime::block_on(async {
///     let mut writer = Vec::<u8>::new().compat_write();
///     writer.write_all(b"tokio").await?;
///     assert_eq!(writer.into_inner(), b"tokio");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait TokioAsyncWriteCompatExt: tokio::io::AsyncWrite {
    /// Wraps `self` in a [`Compat`].
    ///
    /// ```
    /// use moduvex_runtime::io::compat::TokioAsyncWriteCompatExt;
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut w = tokio::io::sink().compat_write();
    ///     assert_eq!(w.write(b"gone").await?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn compat_write(self) -> Compat<Self>
    where
        Self: Sized,
    {
        Compat::new(self)
    }
}

impl<T: tokio::io::AsyncWrite + ?Sized> TokioAsyncWriteCompatExt for T {}

// ── futures-io inside, tokio outside ─────────────────────────────────────────

impl<T: futures_io::AsyncRead> tokio::io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // A futures-io reader may read what it is given: it gets
        // initialised bytes only.
        let slice = buf.initialize_unfilled();
        let n = ready!(self.project().0.poll_read(cx, slice))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_io::AsyncWrite> tokio::io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().0.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().0.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().0.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().0.poll_close(cx)
    }
}

impl<T: futures_io::AsyncBufRead> tokio::io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().0.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().0.consume(amt)
    }
}

impl<T: futures_io::AsyncSeek> tokio::io::AsyncSeek for Compat<T> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        *self.project().1 = Some(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let (inner, seek_pos) = self.project();
        // No seek started: report the current position, as tokio asks.
        let pos = seek_pos.unwrap_or(SeekFrom::Current(0));
        let res = ready!(inner.poll_seek(cx, pos));
        *seek_pos = None;
        Poll::Ready(res)
    }
}

// ── tokio inside, futures-io outside ─────────────────────────────────────────

impl<T: tokio::io::AsyncRead> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slice: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = tokio::io::ReadBuf::new(slice);
        ready!(self.project().0.poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl<T: tokio::io::AsyncWrite> futures_io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().0.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().0.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().0.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().0.poll_shutdown(cx)
    }
}

impl<T: tokio::io::AsyncBufRead> futures_io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().0.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().0.consume(amt)
    }
}

impl<T: tokio::io::AsyncSeek> futures_io::AsyncSeek for Compat<T> {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let (mut inner, seek_pos) = self.project();
        // A seek to another position is started only once the one in
        // flight (if any) is complete; polled again for the same position,
        // the seek in flight is that one.
        if *seek_pos != Some(pos) {
            ready!(inner.as_mut().poll_complete(cx))?;
            inner.as_mut().start_seek(pos)?;
            *seek_pos = Some(pos);
        }
        let res = ready!(inner.poll_complete(cx));
        *seek_pos = None;
        Poll::Ready(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn futures_reader_fills_a_tokio_read_buf_from_uninit_memory() {
        let mut inner = Compat::new(futures_lite::io::Cursor::new(b"abcdef".to_vec()));
        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 4];
        let mut buf = tokio::io::ReadBuf::uninit(&mut storage);
        let r = tokio::io::AsyncRead::poll_read(Pin::new(&mut inner), &mut cx(), &mut buf);
        assert!(matches!(r, Poll::Ready(Ok(()))));
        assert_eq!(buf.filled(), b"abcd");
    }

    #[test]
    fn tokio_reader_fills_a_futures_slice_and_seeks_both_ways() {
        let mut inner = Compat::new(std::io::Cursor::new(b"abcdef".to_vec()));
        let mut out = [0u8; 3];
        let r = futures_io::AsyncRead::poll_read(Pin::new(&mut inner), &mut cx(), &mut out);
        assert!(matches!(r, Poll::Ready(Ok(3))));
        assert_eq!(&out, b"abc");
        let r =
            futures_io::AsyncSeek::poll_seek(Pin::new(&mut inner), &mut cx(), SeekFrom::Start(1));
        assert!(matches!(r, Poll::Ready(Ok(1))));
        // And back through the other direction's seek.
        let mut twice = Compat::new(inner);
        tokio::io::AsyncSeek::start_seek(Pin::new(&mut twice), SeekFrom::End(-1)).unwrap();
        let r = tokio::io::AsyncSeek::poll_complete(Pin::new(&mut twice), &mut cx());
        assert!(matches!(r, Poll::Ready(Ok(5))));
    }
}
