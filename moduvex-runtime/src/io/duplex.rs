//! `duplex`: an in-memory, bounded, two-way byte stream — tokio's
//! `io::duplex`, for tests and in-process protocols.
//!
//! The one idea: two one-way pipes, crossed. Each pipe is a bounded byte
//! queue behind a short lock, with one waiting reader and one waiting
//! writer; whoever changes the queue takes the other side's waker under
//! the lock and wakes it after releasing it. A reader waits only while the
//! queue is empty and the writer still open; a writer waits only while the
//! queue is full and the reader still there.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

use crate::sync::loom_facade::{Arc, Mutex};

/// One end of an in-memory two-way byte stream made by [`duplex`]: what is
/// written to one end is read from the other.
///
/// Dropping an end closes both directions for its peer: the peer reads
/// end-of-file once the data already written is read, and its writes fail
/// with `BrokenPipe`. `close()` shuts down only this end's writing.
///
/// ```
/// use moduvex_runtime::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let (mut client, mut server) = io::duplex(8);
///     let echo = moduvex_runtime::spawn(async move {
///         let mut buf = [0; 4];
///         server.read_exact(&mut buf).await?;
///         server.write_all(&buf).await?;
///         Ok::<_, std::io::Error>(())
///     });
///     client.write_all(b"echo").await?;
///     let mut back = [0; 4];
///     client.read_exact(&mut back).await?;
///     assert_eq!(&back, b"echo");
///     echo.await.unwrap()?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct DuplexStream {
    /// Bytes the peer writes and this end reads.
    incoming: Arc<Pipe>,
    /// Bytes this end writes and the peer reads.
    outgoing: Arc<Pipe>,
}

/// Makes a connected pair of [`DuplexStream`]s; each direction buffers at
/// most `max_buf_size` bytes, and a writer waits for the reader beyond
/// that.
///
/// ```
/// use moduvex_runtime::io::{duplex, AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let (mut client, mut server) = duplex(64);
///     client.write_all(b"ping").await?;
///     let mut buf = [0u8; 4];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
///
/// # Panics
/// If `max_buf_size` is zero: no byte could ever pass.
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    assert!(
        max_buf_size > 0,
        "io::duplex(0): a pipe needs room for at least one byte"
    );
    let a_to_b = Arc::new(Pipe::new(max_buf_size));
    let b_to_a = Arc::new(Pipe::new(max_buf_size));
    (
        DuplexStream {
            incoming: b_to_a.clone(),
            outgoing: a_to_b.clone(),
        },
        DuplexStream {
            incoming: a_to_b,
            outgoing: b_to_a,
        },
    )
}

struct Pipe {
    state: Mutex<PipeState>,
}

struct PipeState {
    buf: VecDeque<u8>,
    max: usize,
    /// The writing end shut down or was dropped: after the data, EOF.
    write_closed: bool,
    /// The reading end was dropped: writes fail.
    read_closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Pipe {
    fn new(max: usize) -> Pipe {
        Pipe {
            state: Mutex::new(PipeState {
                buf: VecDeque::new(),
                max,
                write_closed: false,
                read_closed: false,
                reader: None,
                writer: None,
            }),
        }
    }

    fn poll_read(&self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, out.len(), |queue, n| {
            for (dst, src) in out.iter_mut().zip(queue.drain(..n)) {
                *dst = src;
            }
        })
    }

    /// Reads into the unfilled part of tokio's `ReadBuf`: the bytes are
    /// copied in, the spare room is never zeroed.
    #[cfg(feature = "tokio-io")]
    fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_with(cx, out.remaining(), |queue, n| {
            let (front, back) = queue.as_slices();
            let from_front = n.min(front.len());
            out.put_slice(&front[..from_front]);
            out.put_slice(&back[..n - from_front]);
            queue.drain(..n);
        })
        .map_ok(|_| ())
    }

    /// Moves up to `want` queued bytes out through `take(queue, n)`, which
    /// must remove exactly the first `n`.
    fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        want: usize,
        take: impl FnOnce(&mut VecDeque<u8>, usize),
    ) -> Poll<io::Result<usize>> {
        if want == 0 {
            return Poll::Ready(Ok(0));
        }
        let (n, writer) = {
            let mut st = self.state.lock();
            if st.buf.is_empty() {
                if st.write_closed {
                    return Poll::Ready(Ok(0));
                }
                store(&mut st.reader, cx.waker());
                return Poll::Pending;
            }
            match crate::coop::poll_proceed(cx) {
                Poll::Ready(coop) => coop.made_progress(),
                Poll::Pending => return Poll::Pending,
            }
            let n = want.min(st.buf.len());
            take(&mut st.buf, n);
            (n, st.writer.take())
        };
        if let Some(w) = writer {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let (n, reader) = {
            let mut st = self.state.lock();
            if st.read_closed || st.write_closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    if st.read_closed {
                        "the other end of the duplex stream was dropped"
                    } else {
                        "this end of the duplex stream was closed for writing"
                    },
                )));
            }
            if data.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let room = st.max - st.buf.len();
            if room == 0 {
                store(&mut st.writer, cx.waker());
                return Poll::Pending;
            }
            match crate::coop::poll_proceed(cx) {
                Poll::Ready(coop) => coop.made_progress(),
                Poll::Pending => return Poll::Pending,
            }
            let n = room.min(data.len());
            st.buf.extend(&data[..n]);
            (n, st.reader.take())
        };
        if let Some(r) = reader {
            r.wake();
        }
        Poll::Ready(Ok(n))
    }

    /// The writing end is done: the reader sees EOF after the data.
    fn close_write(&self) {
        let reader = {
            let mut st = self.state.lock();
            st.write_closed = true;
            st.reader.take()
        };
        if let Some(r) = reader {
            r.wake();
        }
    }

    /// The reading end is gone: the writer's next write fails.
    fn close_read(&self) {
        let writer = {
            let mut st = self.state.lock();
            st.read_closed = true;
            st.buf.clear();
            st.writer.take()
        };
        if let Some(w) = writer {
            w.wake();
        }
    }
}

/// Keeps `waker` in `slot`, cloning only when it would wake another task.
fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.incoming.poll_read(cx, buf)
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.outgoing.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outgoing.close_write();
        Poll::Ready(Ok(()))
    }
}

/// tokio's `AsyncRead` (feature `tokio-io`), as the futures-io one.
#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.incoming.poll_read_buf(cx, buf)
    }
}

/// tokio's `AsyncWrite` (feature `tokio-io`); `poll_shutdown` is
/// `poll_close`: the peer reads end-of-file after the data.
#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.outgoing.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outgoing.close_write();
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        self.outgoing.close_write();
        self.incoming.close_read();
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuplexStream").finish_non_exhaustive()
    }
}
