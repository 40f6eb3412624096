//! Async I/O traits and helpers.
//!
//! The one idea: moduvex speaks the ecosystem's traits instead of inventing
//! its own. [`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`] and
//! [`AsyncSeek`] are `futures-io`'s, so any library written against them
//! works with moduvex sockets. The extension traits [`AsyncReadExt`],
//! [`AsyncWriteExt`] and [`AsyncBufReadExt`] are ours, implemented for
//! every futures-io type: they offer futures-lite's methods (`read_exact`,
//! `write_all`, `read_line`, `close`, ...) and tokio's (`read_u32`,
//! `write_f64_le`, `read_buf`, `write_all_buf`, `shutdown`, ...) under one
//! import; import them instead of futures-lite's or futures', not beside
//! them. [`copy`], [`copy_buf`] and [`copy_bidirectional`] are tokio's
//! helpers, flushing the writer whenever the reader has nothing ready;
//! [`BufStream`] buffers both ways. [`BufReader`], [`BufWriter`],
//! [`AsyncSeekExt`], [`Cursor`], [`empty`], [`repeat`] and [`sink`] are
//! futures-lite's. [`split`] splits any reader-writer through a lock, and
//! [`duplex`] is an in-memory two-way stream for tests.
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
//! With feature `tokio-io` they, and [`DuplexStream`], also implement
//! tokio's `AsyncRead`/`AsyncWrite`, so crates written against tokio's
//! traits (tokio-util's codecs, tokio-rustls, tokio-tungstenite) take them
//! as they are; `Compat` adapts any other type either way. Import one
//! family's extension traits per scope (ours or tokio's): with both, a
//! call such as `read_to_end` on a moduvex socket is ambiguous.
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

mod buf;
mod buf_stream;
#[cfg(feature = "tokio-io")]
pub mod compat;
mod copy;
mod duplex;
mod ext;
mod interest;
mod num;
mod split;
#[cfg(unix)]
pub mod unix;

pub use buf::{ReadBufFuture, WriteAllBufFuture, WriteBufFuture};
pub use buf_stream::BufStream;
#[cfg(feature = "tokio-io")]
pub use compat::Compat;
pub use copy::{
    copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, CopyBufFuture, CopyFuture,
};
pub use duplex::{duplex, DuplexStream};
pub use ext::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_lite::io::{
    empty, repeat, sink, AsyncSeekExt, BufReader, BufWriter, Cursor, Empty, Repeat, Sink,
};
pub use interest::{Interest, Ready};
pub use num::{ReadNum, WriteNum};
pub use split::{split, ReadHalf, WriteHalf};
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};
