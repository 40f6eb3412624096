//! Async I/O traits and helpers.
//!
//! The one idea: moduvex speaks the ecosystem's traits instead of inventing
//! its own. [`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`] and
//! [`AsyncSeek`] are `futures-io`'s, so any library written against them
//! works with moduvex sockets; the extension traits (`read_exact`,
//! `write_all`, `read_line`, ...), [`copy`], [`BufReader`] and
//! [`BufWriter`] are `futures-lite`'s, a small runtime-agnostic crate.
//! [`split`] is ours: it splits any reader-writer through a lock; so is
//! [`duplex`], an in-memory two-way stream for tests.
//!
//! [`Interest`] and [`Ready`] are tokio's readiness sets, used by the
//! sockets' `ready` methods and by [`unix::AsyncFd`], which brings any
//! pollable descriptor (a pipe, an eventfd, another library's socket) to
//! the reactor.
//!
//! Every moduvex stream ([`TcpStream`](crate::net::TcpStream),
//! [`UnixStream`](crate::net::UnixStream), a shared reference to either,
//! and their split halves) implements `AsyncRead` and `AsyncWrite`.
//!
//! ```
//! use moduvex_runtime::io::{self, AsyncReadExt, AsyncWriteExt};
//! use moduvex_runtime::net::UnixStream;
//!
//! moduvex_runtime::block_on(async {
//!     let (a, mut b) = UnixStream::pair()?;
//!     let writer = moduvex_runtime::spawn(async move {
//!         let mut a = a;
//!         a.write_all(b"copied").await?;
//!         a.close().await // the reader sees end-of-file
//!     });
//!     let mut out = Vec::new();
//!     io::copy(&mut b, &mut out).await?;
//!     writer.await.unwrap()?;
//!     assert_eq!(out, b"copied");
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

mod duplex;
mod interest;
mod split;
#[cfg(unix)]
pub mod unix;

pub use duplex::{duplex, DuplexStream};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_lite::io::{
    copy, empty, repeat, sink, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt,
    BufReader, BufWriter, Cursor, Empty, Repeat, Sink,
};
pub use interest::{Interest, Ready};
pub use split::{split, ReadHalf, WriteHalf};
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};
