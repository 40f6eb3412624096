//! [`HyperIo`]: a futures-io stream seen through hyper's I/O traits.
//!
//! The one idea: hyper reads into its own buffer through a
//! [`ReadBufCursor`]; `HyperIo` hands that buffer's unfilled part straight to
//! the inner `poll_read` (no intermediate copy), and tells hyper it is
//! filled only by what the read returned.
//!
//! A safe `AsyncRead` needs initialized bytes, and hyper hands over a fresh,
//! uninitialized window of its buffer (8 KiB and more) on every read. Zeroing
//! all of it to read a 100-byte request would cost more than the read, so
//! `HyperIo` offers a window sized by what recent reads returned: it doubles
//! while reads fill it, and halves while they use under a quarter of it.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::hyper::rt::{Read, ReadBufCursor, Write};
use futures_io::{AsyncRead, AsyncWrite};

/// hyper 1.x [`Read`]/[`Write`] over any futures-io
/// [`AsyncRead`] + [`AsyncWrite`]: our [`TcpStream`](crate::net::TcpStream),
/// [`UnixStream`](crate::net::UnixStream), their halves,
/// [`DuplexStream`](crate::io::DuplexStream), a TLS stream, ...
///
/// hyper-util's `TokioIo` for this runtime. It also implements the
/// futures-io traits itself (passing through), so it wraps and unwraps
/// cleanly in adapter stacks.
///
/// Reads go straight into hyper's buffer. Vectored writes: futures-io has
/// no `is_write_vectored`, so `HyperIo` reports what it is told
/// ([`with_write_vectored`](HyperIo::with_write_vectored); off by default,
/// on in [`serve`](super::serve) and [`Connector`](super::Connector) for
/// our sockets, whose `poll_write_vectored` is one `writev`). With it off,
/// hyper flattens its buffers into one before writing.
///
/// # Examples
///
/// ```
/// use moduvex_runtime::hyper::HyperIo;
///
/// moduvex_runtime::block_on(async {
///     let (a, _b) = moduvex_runtime::io::duplex(1024);
///     let io = HyperIo::new(a);
///     // `io` is a `hyper::rt::Read + hyper::rt::Write`: hand it to
///     // `hyper::client::conn::http1::handshake(io)` or a server builder.
///     let _inner = io.into_inner();
/// });
/// ```
#[derive(Debug)]
pub struct HyperIo<T> {
    inner: T,
    write_vectored: bool,
    /// How many bytes of hyper's buffer the next read offers (see the
    /// module docs): between `MIN_READ_WINDOW` and `MAX_READ_WINDOW`.
    read_window: usize,
}

/// The smallest read window: a typical request head fits.
const MIN_READ_WINDOW: usize = 1024;
/// The window a new `HyperIo` starts with.
const START_READ_WINDOW: usize = 2048;
/// The largest read window (hyper's buffer may offer less).
const MAX_READ_WINDOW: usize = 1 << 20;

/// The read window after a read of `n` bytes into a `window`-byte slice.
fn next_read_window(window: usize, n: usize) -> usize {
    if n >= window {
        (window * 2).min(MAX_READ_WINDOW)
    } else if n < window / 4 {
        (window / 2).max(MIN_READ_WINDOW)
    } else {
        window
    }
}

impl<T> HyperIo<T> {
    /// Wraps `inner`; vectored writes are reported off.
    ///
    /// ```
    /// use moduvex_runtime::hyper::HyperIo;
    /// use moduvex_runtime::net::UnixStream;
    /// use hyper::rt::{Read, Write};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let io = HyperIo::new(a); // hyper's Read + Write over a futures-io stream
    ///     assert!(!io.is_write_vectored());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo {
            inner,
            write_vectored: false,
            read_window: START_READ_WINDOW,
        }
    }

    /// Whether [`Write::is_write_vectored`] says yes: turn it on when the
    /// inner `poll_write_vectored` writes several buffers at once (our
    /// sockets do; the futures-io default writes only the first).
    ///
    /// ```
    /// use moduvex_runtime::hyper::HyperIo;
    /// use moduvex_runtime::net::UnixStream;
    /// use hyper::rt::Write;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let io = HyperIo::new(a).with_write_vectored(true); // our sockets write vectored
    ///     assert!(io.is_write_vectored());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn with_write_vectored(mut self, on: bool) -> HyperIo<T> {
        self.write_vectored = on;
        self
    }

    /// The inner stream.
    ///
    /// ```
    /// use moduvex_runtime::hyper::HyperIo;
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let io = HyperIo::new(a);
    ///     assert!(io.inner().peer_addr().is_ok());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The inner stream, mutably.
    ///
    /// ```
    /// use moduvex_runtime::hyper::HyperIo;
    /// use moduvex_runtime::net::UnixStream;
    /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     let mut io = HyperIo::new(a);
    ///     io.inner_mut().write_all(b"raw").await?;
    ///     let mut buf = [0; 3];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"raw");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the inner stream.
    ///
    /// ```
    /// use moduvex_runtime::hyper::HyperIo;
    /// use moduvex_runtime::net::UnixStream;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let stream: UnixStream = HyperIo::new(a).into_inner();
    ///     assert!(stream.peer_addr().is_ok());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn inner_pin(self: Pin<&mut Self>) -> Pin<&mut T> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of a pinned `HyperIo` (only `into_inner`, which takes `self` by value, moves it, and that needs an unpinned or `Unpin` value), and `HyperIo` has no `Drop` impl.
        unsafe { self.map_unchecked_mut(|io| &mut io.inner) }
    }
}

impl<T: AsyncRead> Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: only `inner` is pinned (structurally, see `inner_pin`); `read_window` is a plain integer, never pinned, and nothing is moved out.
        let this = unsafe { self.get_unchecked_mut() };
        let window = this.read_window.min(buf.remaining());
        // A safe `AsyncRead` may read the slice it is given, so it must be
        // initialized: zero the window's first `window` bytes (hyper's
        // cursor knows of no initialized bytes in a fresh window).
        // SAFETY: `as_mut` must not be used to de-initialize bytes hyper knows to be initialized; the slice is only written with initialized bytes (zeros, then what the read returns).
        let dst = unsafe { &mut buf.as_mut()[..window] };
        dst.fill(MaybeUninit::new(0));
        // SAFETY: every element of `dst` was just initialized by `fill`, and `MaybeUninit<u8>` has the layout of `u8`.
        let dst = unsafe { &mut *(dst as *mut [MaybeUninit<u8>] as *mut [u8]) };
        // SAFETY: `inner` is structurally pinned (see `inner_pin`): `this` came from a pinned `HyperIo` and `inner` is not moved.
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        let n = ready!(inner.poll_read(cx, dst))?;
        assert!(
            n <= window,
            "HyperIo: the inner AsyncRead::poll_read returned {n} for a {window}-byte buffer"
        );
        if window > 0 {
            this.read_window = next_read_window(this.read_window, n);
        }
        // SAFETY: the first `n` bytes of the unfilled part were initialized by `fill` (and filled by the read), and `n <= window` (asserted above), so `advance` covers only initialized bytes.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner_pin().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner_pin().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner_pin().poll_close(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.write_vectored
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner_pin().poll_write_vectored(cx, bufs)
    }
}

impl<T: AsyncRead> AsyncRead for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner_pin().poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner_pin().poll_read_vectored(cx, bufs)
    }
}

impl<T: AsyncWrite> AsyncWrite for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner_pin().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner_pin().poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner_pin().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner_pin().poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use ::hyper::rt::ReadBuf;

    use super::*;

    /// A reader that looks at the bytes it is given before filling them
    /// (a safe `AsyncRead` may), and then fills `n` of them.
    struct Peeking(usize);

    impl AsyncRead for Peeking {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            // Reads every byte: uninitialized memory here would be UB (Miri).
            let seen: usize = buf.iter().map(|&b| usize::from(b)).sum();
            assert_eq!(seen, 0, "HyperIo hands the reader zeroed bytes");
            let n = self.0.min(buf.len());
            buf[..n].fill(b'x');
            Poll::Ready(Ok(n))
        }
    }

    fn read_into(reader: impl AsyncRead + Unpin, raw: &mut [MaybeUninit<u8>]) -> Vec<u8> {
        let mut io = HyperIo::new(reader);
        let mut buf = ReadBuf::uninit(raw);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Read::poll_read(Pin::new(&mut io), &mut cx, buf.unfilled()) {
            Poll::Ready(Ok(())) => buf.filled().to_vec(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_fill_hyper_s_uninitialized_buffer_and_advance_by_what_was_read() {
        let mut raw = [MaybeUninit::<u8>::uninit(); 16];
        assert_eq!(read_into(Peeking(5), &mut raw), b"xxxxx");
        let mut raw = [MaybeUninit::<u8>::uninit(); 4];
        assert_eq!(read_into(Peeking(100), &mut raw), b"xxxx");
        let mut raw = [MaybeUninit::<u8>::uninit(); 4];
        assert_eq!(read_into(Peeking(0), &mut raw), b"");
    }

    /// A reader that claims more than it was given.
    struct Liar;

    impl AsyncRead for Liar {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len() + 1))
        }
    }

    #[test]
    #[should_panic(expected = "returned 5 for a 4-byte buffer")]
    fn a_reader_claiming_more_than_the_buffer_panics_instead_of_exposing_memory() {
        let mut raw = [MaybeUninit::<u8>::uninit(); 4];
        read_into(Liar, &mut raw);
    }

    #[test]
    fn a_read_offers_a_window_that_grows_while_reads_fill_it_and_shrinks_while_they_do_not() {
        let mut raw = vec![MaybeUninit::<u8>::uninit(); 64 * 1024];
        // A fresh HyperIo offers the starting window, not all 64 KiB.
        assert_eq!(
            read_into(Peeking(usize::MAX), &mut raw).len(),
            START_READ_WINDOW
        );

        let mut io = HyperIo::new(Peeking(usize::MAX));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut read = |io: &mut HyperIo<Peeking>| {
            let mut buf = ReadBuf::uninit(&mut raw);
            match Read::poll_read(Pin::new(io), &mut cx, buf.unfilled()) {
                Poll::Ready(Ok(())) => buf.filled().len(),
                other => panic!("{other:?}"),
            }
        };
        // Full reads double the window up to what hyper's buffer offers.
        let sizes: Vec<usize> = (0..7).map(|_| read(&mut io)).collect();
        assert_eq!(sizes, [2048, 4096, 8192, 16384, 32768, 65536, 65536]);
        // Small reads halve it, down to the minimum.
        io.inner_mut().0 = 10;
        for _ in 0..12 {
            assert_eq!(read(&mut io), 10);
        }
        assert_eq!(io.read_window, MIN_READ_WINDOW);
    }

    #[test]
    fn the_window_rule() {
        assert_eq!(next_read_window(2048, 2048), 4096);
        assert_eq!(next_read_window(2048, 600), 2048);
        assert_eq!(next_read_window(2048, 100), 1024);
        assert_eq!(next_read_window(MIN_READ_WINDOW, 0), MIN_READ_WINDOW);
        assert_eq!(
            next_read_window(MAX_READ_WINDOW, MAX_READ_WINDOW),
            MAX_READ_WINDOW
        );
    }

    #[test]
    fn writes_and_futures_io_pass_through() {
        let mut io =
            HyperIo::new(futures_lite::io::Cursor::new(Vec::new())).with_write_vectored(true);
        assert!(Write::is_write_vectored(&io));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
        let n = match Write::poll_write_vectored(Pin::new(&mut io), &mut cx, &bufs) {
            Poll::Ready(Ok(n)) => n,
            other => panic!("{other:?}"),
        };
        assert!(n >= 2);
        assert!(matches!(
            Write::poll_flush(Pin::new(&mut io), &mut cx),
            Poll::Ready(Ok(()))
        ));
        assert!(!Write::is_write_vectored(&HyperIo::new(
            futures_lite::io::sink()
        )));
        assert_eq!(&io.into_inner().into_inner()[..n], &b"abcd"[..n]);
    }
}
