//! [`FirstRead`]: a deadline on a new connection's first bytes.
//!
//! The one idea: hyper's header read timeout only starts once the
//! connection is known to be HTTP/1, and the HTTP/1-or-2 detection before
//! it reads up to 24 bytes (the HTTP/2 preface) with no timeout at all. A
//! client that connects and sends nothing, or a part of the preface, would
//! hold its connection forever. `FirstRead` fails a read with `TimedOut`
//! once the deadline has passed while detection is still undecided (the
//! bytes so far are a prefix of the preface, shorter than it); as soon as
//! it is decided, as hyper-util's `ReadVersion` decides it, `FirstRead` is a
//! plain pass-through.

use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use crate::time::Sleep;

/// The HTTP/2 client preface, what version detection reads.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A stream whose HTTP version must be decidable before a deadline.
pub(crate) struct FirstRead<T> {
    inner: T,
    /// Armed while the version is undecided.
    deadline: Option<Sleep>,
    /// Bytes read so far (while armed, all of them match the preface).
    read: usize,
}

impl<T> FirstRead<T> {
    /// `timeout` counts from now; `None`: no deadline.
    pub(crate) fn new(inner: T, timeout: Option<Duration>) -> FirstRead<T> {
        FirstRead {
            inner,
            deadline: timeout.map(crate::time::sleep),
            read: 0,
        }
    }

    /// Looks at a read's outcome (`buf`: what it read into): `Some` error if
    /// the deadline passed while the version is undecided.
    fn account(
        &mut self,
        res: &Poll<io::Result<usize>>,
        buf: &[u8],
        cx: &mut Context<'_>,
    ) -> Option<io::Error> {
        let deadline = self.deadline.as_mut()?;
        match res {
            Poll::Ready(Ok(n)) => {
                let got = &buf[..*n];
                let want = &PREFACE[self.read.min(PREFACE.len())..];
                let matches = want.starts_with(got);
                self.read += n;
                if !matches || self.read >= PREFACE.len() || *n == 0 {
                    // Decided: HTTP/1 (hyper's header timeout takes over),
                    // HTTP/2, or end of stream.
                    self.deadline = None;
                }
                None
            }
            Poll::Ready(Err(_)) => None,
            Poll::Pending => Pin::new(deadline).poll(cx).is_ready().then(|| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent no request head before the header read timeout",
                )
            }),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FirstRead<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        match self.account(&res, buf, cx) {
            Some(timed_out) => Poll::Ready(Err(timed_out)),
            None => res,
        }
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.deadline.is_none() {
            return Pin::new(&mut self.inner).poll_read_vectored(cx, bufs);
        }
        // Undecided: one buffer, so that the bytes can be looked at.
        match bufs.iter_mut().find(|b| !b.is_empty()) {
            Some(buf) => self.poll_read(cx, buf),
            None => Poll::Ready(Ok(0)),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FirstRead<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `chunks` one per call, then waits forever.
    struct Chunks(Vec<&'static [u8]>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            if self.0.is_empty() {
                return Poll::Pending;
            }
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(chunk);
            Poll::Ready(Ok(chunk.len()))
        }
    }

    /// Whether the deadline is still armed after reading `chunks`.
    fn armed_after(chunks: Vec<&'static [u8]>) -> bool {
        crate::block_on(async {
            let n = chunks.len();
            let mut io = FirstRead::new(Chunks(chunks), Some(Duration::from_secs(3600)));
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let mut buf = [0u8; 64];
            for _ in 0..n {
                assert!(Pin::new(&mut io).poll_read(&mut cx, &mut buf).is_ready());
            }
            io.deadline.is_some()
        })
    }

    #[test]
    fn the_deadline_lasts_exactly_while_the_version_is_undecided() {
        assert!(armed_after(vec![]));
        assert!(armed_after(vec![b"PRI * HTTP/2.0"]));
        assert!(armed_after(vec![b"PRI * ", b"HTTP/2.0\r\n"]));
        assert!(!armed_after(vec![PREFACE]));
        assert!(!armed_after(vec![b"PRI * HTTP/2.0\r\n", b"\r\nSM\r\n\r\n"]));
        // A short HTTP/1 head is decided at its first byte.
        assert!(!armed_after(vec![b"GET / HTTP/1.0\r\n\r\n"]));
        assert!(!armed_after(vec![b"P", b"OST"]));
        assert!(!armed_after(vec![b""]));
    }

    #[test]
    fn a_passed_deadline_fails_an_undecided_read_with_timed_out() {
        crate::block_on(async {
            let mut io = FirstRead::new(Chunks(vec![b"PRI"]), Some(Duration::ZERO));
            let mut buf = [0u8; 64];
            let got = futures_lite::future::poll_fn(|cx| {
                Poll::Ready((
                    Pin::new(&mut io).poll_read(cx, &mut buf),
                    Pin::new(&mut io).poll_read(cx, &mut buf),
                ))
            })
            .await;
            assert!(matches!(got.0, Poll::Ready(Ok(3))));
            match got.1 {
                Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
                other => panic!("{other:?}"),
            }
        })
    }
}
