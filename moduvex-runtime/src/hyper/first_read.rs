//! [`FirstRead`]: a deadline on a new connection's first bytes.
//!
//! The one idea: hyper's header read timeout only starts once the
//! connection is known to be HTTP/1, and the HTTP/1-or-2 detection before
//! it reads up to 24 bytes (the HTTP/2 preface) with no timeout at all. A
//! client that connects and sends nothing, or a part of the preface, would
//! hold its connection forever. `FirstRead` fails the read with `TimedOut`
//! if those first 24 bytes have not arrived by the deadline; after them it
//! is a plain pass-through.

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use crate::time::Sleep;

/// The length of the HTTP/2 client preface, what version detection reads.
const PREFACE_LEN: usize = 24;

/// A stream whose first [`PREFACE_LEN`] bytes must arrive before a deadline.
pub(crate) struct FirstRead<T> {
    inner: T,
    /// Armed until `PREFACE_LEN` bytes were read.
    deadline: Option<Sleep>,
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

    fn account(
        &mut self,
        res: &Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Option<io::Error> {
        let deadline = self.deadline.as_mut()?;
        match res {
            Poll::Ready(Ok(n)) => {
                self.read += n;
                if self.read >= PREFACE_LEN || *n == 0 {
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

use std::future::Future;

impl<T: AsyncRead + Unpin> AsyncRead for FirstRead<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        match self.account(&res, cx) {
            Some(timed_out) => Poll::Ready(Err(timed_out)),
            None => res,
        }
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_read_vectored(cx, bufs);
        match self.account(&res, cx) {
            Some(timed_out) => Poll::Ready(Err(timed_out)),
            None => res,
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
