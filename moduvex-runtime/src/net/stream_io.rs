//! Byte-stream operations shared by TCP and Unix streams.
//!
//! The one idea: a stream operation that moved *fewer* bytes than asked has
//! proved the kernel buffer empty (read) or full (write), just as
//! `WouldBlock` would have, so it clears the readiness it observed at once.
//! The next call then waits for a fresh edge instead of spending a syscall
//! to learn `WouldBlock`. The clear is tick-checked by the reactor: an edge
//! delivered after the observation keeps the source ready.

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::task::{ready, Context, Poll};

use socket2::{SockAddr, SockRef, Socket};

use super::os::{self, AsSock};
use crate::platform::AsRawSource;
use crate::reactor::{Direction, IoSource};

/// Retries `op` while it fails with `EINTR`.
pub(crate) fn retry_eintr<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res,
        }
    }
}

/// Runs a byte-moving `op` of `want` bytes once `src` is ready in `dir`.
///
/// `WouldBlock` and short transfers clear the observed readiness.
fn poll_transfer<T: AsRawSource>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    dir: Direction,
    want: usize,
    mut op: impl FnMut(&T) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        let ev = ready!(src.poll_ready(cx, dir));
        match retry_eintr(|| op(src.get_ref())) {
            Ok(n) => {
                if n > 0 && n < want {
                    src.clear_ready(ev);
                }
                return Poll::Ready(Ok(n));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => src.clear_ready(ev),
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// Reads into `buf`; an empty `buf` reads nothing and returns `Ok(0)` at once.
pub(crate) fn poll_read<T>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    T: AsRawSource,
    for<'a> &'a T: Read,
{
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let want = buf.len();
    poll_transfer(src, cx, Direction::Read, want, |mut io| io.read(buf))
}

/// Reads into the unfilled part of tokio's `ReadBuf`, straight from the
/// kernel: the uninitialised spare room is neither read nor zeroed first.
/// A full `buf` reads nothing and returns at once.
#[cfg(feature = "tokio-io")]
pub(crate) fn poll_read_buf<T: AsSock>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    buf: &mut tokio::io::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `recv` writes only initialised bytes into the slice and never reads it, so no initialised byte is de-initialised (`unfilled_mut`'s contract).
    let unfilled = unsafe { buf.unfilled_mut() };
    let want = unfilled.len();
    if want == 0 {
        return Poll::Ready(Ok(()));
    }
    let n = ready!(poll_transfer(src, cx, Direction::Read, want, |io| {
        SockRef::from(io).recv(&mut *unfilled)
    }))?;
    // SAFETY: the kernel initialised the first `n` bytes of the unfilled part, and `n` is at most its length.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// Reads into several buffers (`readv`).
pub(crate) fn poll_read_vectored<T>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>>
where
    T: AsRawSource,
    for<'a> &'a T: Read,
{
    let want: usize = bufs.iter().map(|b| b.len()).sum();
    if want == 0 {
        return Poll::Ready(Ok(0));
    }
    poll_transfer(src, cx, Direction::Read, want, |mut io| {
        io.read_vectored(bufs)
    })
}

/// Writes from `buf` with `send(MSG_NOSIGNAL)`: a closed peer is a
/// `BrokenPipe` error, never a `SIGPIPE`.
pub(crate) fn poll_write<T: AsSock>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    poll_transfer(src, cx, Direction::Write, buf.len(), |io| {
        SockRef::from(io).send_with_flags(buf, os::SEND_FLAGS)
    })
}

/// Writes from several buffers with `sendmsg(MSG_NOSIGNAL)`.
pub(crate) fn poll_write_vectored<T: AsSock>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let want: usize = bufs.iter().map(|b| b.len()).sum();
    if want == 0 {
        return Poll::Ready(Ok(0));
    }
    poll_transfer(src, cx, Direction::Write, want, |io| {
        SockRef::from(io).send_vectored_with_flags(bufs, os::SEND_FLAGS)
    })
}

/// Reads now if the source may be readable, else `WouldBlock`.
pub(crate) fn try_read<T>(src: &IoSource<T>, buf: &mut [u8]) -> io::Result<usize>
where
    T: AsRawSource,
    for<'a> &'a T: Read,
{
    if buf.is_empty() {
        return Ok(0);
    }
    src.try_io(Direction::Read, |mut io| retry_eintr(|| io.read(buf)))
}

/// Vectored [`try_read`].
pub(crate) fn try_read_vectored<T>(
    src: &IoSource<T>,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<usize>
where
    T: AsRawSource,
    for<'a> &'a T: Read,
{
    src.try_io(Direction::Read, |mut io| {
        retry_eintr(|| io.read_vectored(bufs))
    })
}

/// Writes now if the source may be writable, else `WouldBlock`.
pub(crate) fn try_write<T: AsSock>(src: &IoSource<T>, buf: &[u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    src.try_io(Direction::Write, |io| {
        retry_eintr(|| SockRef::from(io).send_with_flags(buf, os::SEND_FLAGS))
    })
}

/// Vectored [`try_write`].
pub(crate) fn try_write_vectored<T: AsSock>(
    src: &IoSource<T>,
    bufs: &[IoSlice<'_>],
) -> io::Result<usize> {
    src.try_io(Direction::Write, |io| {
        retry_eintr(|| SockRef::from(io).send_vectored_with_flags(bufs, os::SEND_FLAGS))
    })
}

/// Receives now into `buf`'s spare capacity if the source may be
/// readable, else `WouldBlock`; advances `buf` by what was received.
///
/// The kernel writes straight into the uninitialised spare room: no byte
/// of it is read, or zeroed first.
pub(crate) fn try_recv_buf<T, B>(src: &IoSource<T>, buf: &mut B) -> io::Result<usize>
where
    T: AsSock,
    B: bytes::BufMut + ?Sized,
{
    src.try_io(Direction::Read, |io| recv_buf(io, buf))
}

/// One `recv` into `buf`'s spare capacity, advancing it.
pub(crate) fn recv_buf<T, B>(io: &T, buf: &mut B) -> io::Result<usize>
where
    T: AsSock,
    B: bytes::BufMut + ?Sized,
{
    let dst = buf.chunk_mut();
    // SAFETY: `recv` only ever writes initialised bytes into the slice (`as_uninit_slice_mut`'s contract: no uninitialised byte is written).
    let spare = unsafe { dst.as_uninit_slice_mut() };
    let n = retry_eintr(|| SockRef::from(io).recv(&mut *spare))?;
    // SAFETY: the kernel initialised the first `n` bytes of the chunk, and `n` is at most its length.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// Waits for any readiness of `interest` (spending no budget) and returns
/// what was found.
pub(crate) async fn ready<T: AsRawSource>(
    src: &IoSource<T>,
    interest: crate::io::Interest,
) -> io::Result<crate::io::Ready> {
    let ev = src.ready_mask(interest.to_mask()).await;
    Ok(crate::io::Ready::from_mask(ev.bits()))
}

/// Polls for readiness in `dir` (the `poll_*_ready` methods): spends one
/// unit of budget when ready, as tokio's do.
pub(crate) fn poll_ready<T: AsRawSource>(
    src: &IoSource<T>,
    cx: &mut Context<'_>,
    dir: Direction,
) -> Poll<io::Result<()>> {
    src.poll_ready(cx, dir).map(|_| Ok(()))
}

/// Connects the non-blocking `socket` to `addr`, registers it, and waits
/// until the connection is established or has failed.
///
/// The kernel reports the outcome of an in-progress connect as write
/// readiness; `SO_ERROR` then says whether it failed. A wake-up that finds
/// the socket still unconnected (`ENOTCONN`) re-arms and waits again.
pub(crate) async fn connect<T>(socket: Socket, addr: &SockAddr) -> io::Result<IoSource<T>>
where
    T: From<Socket> + AsSock,
{
    let in_progress = match socket.connect(addr) {
        Ok(()) => false,
        Err(e) if os::connect_in_progress(&e) => true,
        // Interrupted by a signal: the connect goes on asynchronously.
        Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
        Err(e) => return Err(e),
    };
    let src = IoSource::new(T::from(socket))?;
    if in_progress {
        poll_fn(|cx| poll_connected(&src, cx)).await?;
    }
    Ok(src)
}

fn poll_connected<T: AsSock>(src: &IoSource<T>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    loop {
        let ev = ready!(src.poll_ready(cx, Direction::Write));
        let sock = SockRef::from(src.get_ref());
        match sock.take_error() {
            Ok(Some(e)) | Err(e) => return Poll::Ready(Err(e)),
            Ok(None) => {}
        }
        match sock.peer_addr() {
            Ok(_) => return Poll::Ready(Ok(())),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => src.clear_ready(ev),
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// The methods and trait impls TCP and Unix streams share: readiness,
/// `try_*` operations, splitting, and `AsyncRead`/`AsyncWrite` for the
/// stream and for a shared reference to it. The stream type must have an
/// `io: IoSource<$std>` field.
macro_rules! stream_common {
    ($ty:ident, $std:ty) => {
        impl $ty {
            /// Waits until any readiness of `interest` is set and returns
            /// what was found (tokio's `ready`): pair it with the `try_*`
            /// methods. A `try_*` that returns `WouldBlock` clears the
            /// readiness, so the next wait sleeps until the kernel reports
            /// a new edge. Spends no cooperative budget.
            ///
            /// ```
            /// use moduvex_runtime::io::Interest;
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
            ///     assert!(ready.is_writable());
            ///     assert_eq!(b.try_write(b"ping")?, 4);
            ///     a.readable().await?;
            ///     let mut buf = [0; 8];
            ///     assert_eq!(a.try_read(&mut buf)?, 4);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub async fn ready(
                &self,
                interest: $crate::io::Interest,
            ) -> std::io::Result<$crate::io::Ready> {
                $crate::net::stream_io::ready(&self.io, interest).await
            }

            /// Waits until the stream may be readable (a following read may
            /// still return `WouldBlock` after a spurious wake-up). Spends
            /// no cooperative budget.
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     b.try_write(b"x")?;
            ///     a.readable().await?;
            ///     assert_eq!(a.try_read(&mut [0; 4])?, 1);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io.readable().await
            }

            /// Waits until the stream may be writable. Spends no
            /// cooperative budget.
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     a.writable().await?;
            ///     assert_eq!(a.try_write(b"hello")?, 5);
            ///     # drop(b);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io.writable().await
            }

            /// Polls for read readiness. As with every `poll_*` method,
            /// only the task of the latest call is woken; a `Ready` spends
            /// one unit of the task's cooperative budget (tokio's rule).
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     b.try_write(b"x")?;
            ///     std::future::poll_fn(|cx| a.poll_read_ready(cx)).await?;
            ///     assert_eq!(a.try_read(&mut [0; 4])?, 1);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::stream_io::poll_ready(&self.io, cx, $crate::reactor::Direction::Read)
            }

            /// Polls for write readiness (see
            /// [`poll_read_ready`](Self::poll_read_ready)).
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     std::future::poll_fn(|cx| a.poll_write_ready(cx)).await?;
            ///     assert_eq!(a.try_write(b"x")?, 1);
            ///     # drop(b);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::stream_io::poll_ready(&self.io, cx, $crate::reactor::Direction::Write)
            }

            /// Reads what is available now into `buf`'s spare capacity
            /// (a `bytes::BufMut`, e.g. a `Vec<u8>` or `BytesMut`),
            /// advancing it; `WouldBlock` if nothing is available.
            /// `Ok(0)` means end of stream (or no spare capacity).
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     b.try_write(b"abc")?;
            ///     a.readable().await?;
            ///     let mut buf = Vec::with_capacity(16);
            ///     assert_eq!(a.try_read_buf(&mut buf)?, 3);
            ///     assert_eq!(buf, b"abc");
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                $crate::net::stream_io::try_recv_buf(&self.io, buf)
            }

            /// Runs `f` now if the stream may be ready for `interest`,
            /// else returns `WouldBlock` without calling it; a `WouldBlock`
            /// from `f` clears that readiness (tokio's `try_io`). For
            /// syscalls the stream has no method for, on its raw fd.
            ///
            /// ```
            /// use std::os::fd::AsRawFd;
            /// use moduvex_runtime::io::Interest;
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     b.try_write(b"x")?;
            ///     a.readable().await?;
            ///     // A syscall the stream has no method for, on its raw fd.
            ///     let fd = a.as_raw_fd();
            ///     let n = a.try_io(Interest::READABLE, || {
            ///         let mut byte = 0u8;
            ///         // SAFETY: fd is the socket's open descriptor and the buffer is valid for the length passed.
            ///         let n = unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, 0) };
            ///         if n < 0 { Err(std::io::Error::last_os_error()) } else { Ok(n) }
            ///     })?;
            ///     assert_eq!(n, 1);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn try_io<R>(
                &self,
                interest: $crate::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.try_io_mask(interest.to_mask(), |_| f())
            }

            /// Runs `f` until it does not return `WouldBlock`, waiting for
            /// `interest` between attempts (tokio's `async_io`).
            ///
            /// ```
            /// use moduvex_runtime::io::Interest;
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     let writer = moduvex_runtime::spawn(async move { b.try_write(b"late") });
            ///     let mut buf = [0; 8];
            ///     let n = a.async_io(Interest::READABLE, || a.try_read(&mut buf)).await?;
            ///     assert_eq!(&buf[..n], b"late");
            ///     writer.await.unwrap()?;
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub async fn async_io<R>(
                &self,
                interest: $crate::io::Interest,
                mut f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.async_io_mask(interest.to_mask(), |_| f()).await
            }

            /// Reads what is available now, without waiting: `WouldBlock`
            /// if nothing is (pair with [`readable`](Self::readable)).
            /// `Ok(0)` means end of stream (or an empty `buf`).
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     let err = a.try_read(&mut [0; 4]).unwrap_err();
            ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
            ///     b.try_write(b"hi")?;
            ///     a.readable().await?;
            ///     let mut buf = [0; 4];
            ///     assert_eq!(a.try_read(&mut buf)?, 2);
            ///     drop(b);
            ///     assert_eq!(a.try_read(&mut buf)?, 0, "end of stream");
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                $crate::net::stream_io::try_read(&self.io, buf)
            }

            /// Like [`try_read`](Self::try_read), into several buffers.
            ///
            /// ```
            /// use std::io::IoSliceMut;
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     b.try_write(b"abcd")?;
            ///     a.readable().await?;
            ///     let (mut x, mut y) = ([0; 1], [0; 3]);
            ///     let n = a.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?;
            ///     assert_eq!((n, &x, &y), (4, b"a", b"bcd"));
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                $crate::net::stream_io::try_read_vectored(&self.io, bufs)
            }

            /// Writes what fits now, without waiting: `WouldBlock` if
            /// nothing does (pair with [`writable`](Self::writable)).
            ///
            /// ```
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     assert_eq!(a.try_write(b"ping")?, 4);
            ///     b.readable().await?;
            ///     let mut buf = [0; 4];
            ///     assert_eq!(b.try_read(&mut buf)?, 4);
            ///     assert_eq!(&buf, b"ping");
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                $crate::net::stream_io::try_write(&self.io, buf)
            }

            /// Like [`try_write`](Self::try_write), from several buffers.
            ///
            /// ```
            /// use std::io::IoSlice;
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     let n = a.try_write_vectored(&[IoSlice::new(b"he"), IoSlice::new(b"llo")])?;
            ///     assert_eq!(n, 5);
            ///     b.readable().await?;
            ///     let mut buf = [0; 5];
            ///     assert_eq!(b.try_read(&mut buf)?, 5);
            ///     assert_eq!(&buf, b"hello");
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                $crate::net::stream_io::try_write_vectored(&self.io, bufs)
            }

            /// Splits the stream into a read half and a write half that
            /// borrow it; a reader and a writer can run concurrently.
            ///
            /// ```
            /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     let mut a = a;
            ///     let (mut rd, mut wr) = a.split();
            ///     // Echo what `b` sends, reading and writing concurrently.
            ///     let echo = async { moduvex_runtime::io::copy(&mut rd, &mut wr).await };
            ///     let talk = async {
            ///         (&b).write_all(b"hey").await?;
            ///         let mut buf = [0; 3];
            ///         (&b).read_exact(&mut buf).await?;
            ///         b.shutdown(std::net::Shutdown::Write)?;
            ///         Ok::<_, std::io::Error>(buf)
            ///     };
            ///     let (copied, got) = moduvex_runtime::join!(echo, talk);
            ///     assert_eq!((copied?, &got?), (3, b"hey"));
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn split(
                &mut self,
            ) -> (
                $crate::net::split::ReadHalf<'_, $ty>,
                $crate::net::split::WriteHalf<'_, $ty>,
            ) {
                $crate::net::split::split(self)
            }

            /// Splits the stream into owned halves, which may move to
            /// different tasks; `reunite` puts them back together.
            ///
            /// ```
            /// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
            /// use moduvex_runtime::net::UnixStream;
            ///
            /// moduvex_runtime::block_on(async {
            ///     let (a, b) = UnixStream::pair()?;
            ///     let (mut rd, mut wr) = a.into_split();
            ///     let writer = moduvex_runtime::spawn(async move { wr.write_all(b"from a task").await });
            ///     writer.await.unwrap()?;
            ///     let mut buf = [0; 11];
            ///     (&b).read_exact(&mut buf).await?;
            ///     assert_eq!(&buf, b"from a task");
            ///     drop(b);
            ///     assert_eq!(rd.read(&mut [0; 1]).await?, 0);
            ///     Ok::<_, std::io::Error>(())
            /// }).unwrap();
            /// ```
            pub fn into_split(
                self,
            ) -> (
                $crate::net::split::OwnedReadHalf<$ty>,
                $crate::net::split::OwnedWriteHalf<$ty>,
            ) {
                $crate::net::split::into_split(self)
            }
        }

        impl TryFrom<$std> for $ty {
            type Error = std::io::Error;

            /// [`from_std`](Self::from_std): switches the stream to
            /// non-blocking mode and registers it.
            fn try_from(stream: $std) -> std::io::Result<$ty> {
                $ty::from_std(stream)
            }
        }

        impl<'a> $crate::net::split::ReadHalf<'a, $ty> {
            $crate::net::stream_io::read_half_methods!($ty);
        }

        impl $crate::net::split::OwnedReadHalf<$ty> {
            $crate::net::stream_io::read_half_methods!($ty);
        }

        impl<'a> $crate::net::split::WriteHalf<'a, $ty> {
            $crate::net::stream_io::write_half_methods!($ty);
        }

        impl $crate::net::split::OwnedWriteHalf<$ty> {
            $crate::net::stream_io::write_half_methods!($ty);
        }

        impl $crate::net::split::SplitStream for $ty {}

        impl $crate::net::split::sealed::Sealed for $ty {
            fn poll_read_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_read_vectored(&self.io, cx, bufs)
            }

            fn poll_write_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn shutdown_write(&self) -> std::io::Result<()> {
                self.io.get_ref().shutdown(std::net::Shutdown::Write)
            }

            #[cfg(feature = "tokio-io")]
            fn poll_read_buf_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::stream_io::poll_read_buf(&self.io, cx, buf)
            }
        }

        $crate::net::stream_io::async_rw!($ty);
        $crate::net::stream_io::async_rw!(&$ty);
        $crate::net::stream_io::tokio_rw!($ty);
        $crate::net::stream_io::tokio_rw!(&$ty);

        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsRawSocket for $ty {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                std::os::windows::io::AsRawSocket::as_raw_socket(self.io.get_ref())
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsSocket for $ty {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                std::os::windows::io::AsSocket::as_socket(self.io.get_ref())
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.io.get_ref(), f)
            }
        }
    };
}
pub(crate) use stream_common;

/// `AsyncRead` + `AsyncWrite` for a stream type or a reference to one.
macro_rules! async_rw {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_read_vectored(&self.io, cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Sockets have no user-space buffer to flush.
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts the write direction down: the peer reads end-of-file.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.io.get_ref().shutdown(std::net::Shutdown::Write))
            }
        }
    };
}
pub(crate) use async_rw;

/// tokio's `AsyncRead` + `AsyncWrite` for a stream type or a reference to
/// one (feature `tokio-io`), beside its futures-io traits.
macro_rules! tokio_rw {
    ($ty:ty) => {
        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncRead for $ty {
            /// Receives into `buf`'s unfilled part without zeroing it first.
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::stream_io::poll_read_buf(&self.io, cx, buf)
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Sockets have no user-space buffer to flush.
                std::task::Poll::Ready(Ok(()))
            }

            /// futures-io's `poll_close`: shuts the write direction down,
            /// the peer reads end-of-file.
            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.io.get_ref().shutdown(std::net::Shutdown::Write))
            }
        }
    };
}
pub(crate) use tokio_rw;

/// The readiness methods of a read half (tokio's): the stream's, in the
/// read direction.
macro_rules! read_half_methods {
    ($ty:ty) => {
        fn stream(&self) -> &$ty {
            std::convert::AsRef::<$ty>::as_ref(self)
        }

        /// As the whole stream's `ready`.
        ///
        /// ```
        /// use moduvex_runtime::io::Interest;
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (rd, _wr) = a.into_split();
        ///     b.try_write(b"x")?;
        ///     let ready = rd.ready(Interest::READABLE).await?;
        ///     assert!(ready.is_readable());
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub async fn ready(
            &self,
            interest: $crate::io::Interest,
        ) -> std::io::Result<$crate::io::Ready> {
            self.stream().ready(interest).await
        }

        /// As the whole stream's `readable`.
        ///
        /// ```
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (rd, _wr) = a.into_split();
        ///     b.try_write(b"x")?;
        ///     rd.readable().await?;
        ///     assert_eq!(rd.try_read(&mut [0; 4])?, 1);
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub async fn readable(&self) -> std::io::Result<()> {
            self.stream().readable().await
        }

        /// As the whole stream's `try_read`.
        ///
        /// ```
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (rd, _wr) = a.into_split();
        ///     assert!(rd.try_read(&mut [0; 4]).is_err(), "nothing sent yet");
        ///     b.try_write(b"hi")?;
        ///     rd.readable().await?;
        ///     assert_eq!(rd.try_read(&mut [0; 4])?, 2);
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.stream().try_read(buf)
        }

        /// As the whole stream's `try_read_vectored`.
        ///
        /// ```
        /// use std::io::IoSliceMut;
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (rd, _wr) = a.into_split();
        ///     b.try_write(b"abc")?;
        ///     rd.readable().await?;
        ///     let (mut x, mut y) = ([0; 2], [0; 2]);
        ///     let n = rd.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?;
        ///     assert_eq!((n, &x, &y[..1]), (3, b"ab", &b"c"[..]));
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub fn try_read_vectored(
            &self,
            bufs: &mut [std::io::IoSliceMut<'_>],
        ) -> std::io::Result<usize> {
            self.stream().try_read_vectored(bufs)
        }

        /// As the whole stream's `try_read_buf`.
        ///
        /// ```
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (rd, _wr) = a.into_split();
        ///     b.try_write(b"abc")?;
        ///     rd.readable().await?;
        ///     let mut buf = Vec::with_capacity(8);
        ///     assert_eq!(rd.try_read_buf(&mut buf)?, 3);
        ///     assert_eq!(buf, b"abc");
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
            self.stream().try_read_buf(buf)
        }
    };
}
pub(crate) use read_half_methods;

/// The readiness methods of a write half (tokio's): the stream's, in the
/// write direction.
macro_rules! write_half_methods {
    ($ty:ty) => {
        fn stream(&self) -> &$ty {
            std::convert::AsRef::<$ty>::as_ref(self)
        }

        /// As the whole stream's `ready`.
        ///
        /// ```
        /// use moduvex_runtime::io::Interest;
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (_rd, wr) = a.into_split();
        ///     let ready = wr.ready(Interest::WRITABLE).await?;
        ///     assert!(ready.is_writable());
        ///     # drop(b);
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub async fn ready(
            &self,
            interest: $crate::io::Interest,
        ) -> std::io::Result<$crate::io::Ready> {
            self.stream().ready(interest).await
        }

        /// As the whole stream's `writable`.
        ///
        /// ```
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (_rd, wr) = a.into_split();
        ///     wr.writable().await?;
        ///     assert_eq!(wr.try_write(b"abc")?, 3);
        ///     # drop(b);
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub async fn writable(&self) -> std::io::Result<()> {
            self.stream().writable().await
        }

        /// As the whole stream's `try_write`.
        ///
        /// ```
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (_rd, wr) = a.into_split();
        ///     assert_eq!(wr.try_write(b"ping")?, 4);
        ///     b.readable().await?;
        ///     assert_eq!(b.try_read(&mut [0; 8])?, 4);
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
            self.stream().try_write(buf)
        }

        /// As the whole stream's `try_write_vectored`.
        ///
        /// ```
        /// use std::io::IoSlice;
        /// use moduvex_runtime::net::UnixStream;
        ///
        /// moduvex_runtime::block_on(async {
        ///     let (a, b) = UnixStream::pair()?;
        ///     let (_rd, wr) = a.into_split();
        ///     assert_eq!(wr.try_write_vectored(&[IoSlice::new(b"a"), IoSlice::new(b"bc")])?, 3);
        ///     b.readable().await?;
        ///     assert_eq!(b.try_read(&mut [0; 8])?, 3);
        ///     Ok::<_, std::io::Error>(())
        /// }).unwrap();
        /// ```
        pub fn try_write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.stream().try_write_vectored(bufs)
        }
    };
}
pub(crate) use write_half_methods;
