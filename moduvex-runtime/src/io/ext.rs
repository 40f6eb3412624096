//! `AsyncReadExt`, `AsyncWriteExt`, `AsyncBufReadExt`: one import gives a
//! tokio user both the methods they know from tokio (`read_u32`,
//! `write_all_buf`, `shutdown`, ...) and futures-lite's (`read_exact`,
//! `write_all`, `close`, ...).
//!
//! The one idea: our own traits, blanket-implemented for every futures-io
//! type, whose futures-lite methods delegate (and return futures-lite's
//! futures) and whose tokio methods are ours. Import these *instead of*
//! futures-lite's or futures' extension traits: with both in scope, a
//! call such as `read_exact` is ambiguous.

use std::io::{IoSlice, IoSliceMut};
use std::pin::Pin;

use bytes::{Buf, BufMut};
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use futures_lite::io as lite;

use super::buf::{ReadBufFuture, WriteAllBufFuture, WriteBufFuture};
use super::num::{ReadNum, WriteNum};

/// Generates `read_<type>` methods: big-endian by name, `_le` little.
macro_rules! read_nums {
    ($($name:ident $ty:ident $from:ident $order:literal;)*) => { $(
        #[doc = concat!("Reads a ", $order, " `", stringify!($ty), "` — tokio's `",
            stringify!($name), "`.")]
        ///
        /// Reads exactly as many bytes as the number has. Fails with
        /// `UnexpectedEof` if the stream ends first (the bytes read so far
        /// are lost). Not cancel-safe.
        fn $name(&mut self) -> ReadNum<'_, Self, $ty>
        where
            Self: Unpin,
        {
            ReadNum::new(
                self,
                ::std::mem::size_of::<$ty>(),
                |b| $ty::$from(b.try_into().expect("the buffer holds exactly one number")),
                stringify!($name),
            )
        }
    )* };
}

/// Generates `write_<type>` methods.
macro_rules! write_nums {
    ($($name:ident $ty:ident $to:ident $order:literal;)*) => { $(
        #[doc = concat!("Writes `n` as a ", $order, " `", stringify!($ty), "` — tokio's `",
            stringify!($name), "`.")]
        ///
        /// Fails with `WriteZero` if the writer accepts no bytes. Not
        /// cancel-safe.
        fn $name(&mut self, n: $ty) -> WriteNum<'_, Self>
        where
            Self: Unpin,
        {
            WriteNum::new(self, &n.$to(), stringify!($name))
        }
    )* };
}

/// Reading methods for every [`AsyncRead`]: futures-lite's and tokio's.
///
/// ```
/// use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
///
/// moduvex_runtime::block_on(async {
///     let mut out = Vec::new();
///     out.write_u16(0x0102).await?;
///     out.write_u32_le(7).await?;
///     out.write_all(b"!").await?;
///     let mut input = &out[..];
///     assert_eq!(input.read_u16().await?, 0x0102);
///     assert_eq!(input.read_u32_le().await?, 7);
///     let mut bang = [0u8; 1];
///     input.read_exact(&mut bang).await?;
///     assert_eq!(&bang, b"!");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` at end-of-file (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = &b"abc"[..];
    ///     let mut buf = [0; 2];
    ///     assert_eq!(r.read(&mut buf).await?, 2);
    ///     assert_eq!(r.read(&mut buf).await?, 1);
    ///     assert_eq!(r.read(&mut buf).await?, 0, "end-of-file");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> lite::ReadFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read(self, buf)
    }

    /// Reads into several buffers at once (futures-lite).
    ///
    /// ```
    /// use std::io::IoSliceMut;
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = &b"abcd"[..];
    ///     let (mut x, mut y) = ([0; 1], [0; 3]);
    ///     let n = r.read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]).await?;
    ///     assert_eq!((n, &x, &y), (4, b"a", b"bcd"));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_vectored<'a>(
        &'a mut self,
        bufs: &'a mut [IoSliceMut<'a>],
    ) -> lite::ReadVectoredFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read_vectored(self, bufs)
    }

    /// Reads until end-of-file, appending to `buf`; the count read
    /// (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut all = vec![0u8];
    ///     assert_eq!((&b"rest"[..]).read_to_end(&mut all).await?, 4);
    ///     assert_eq!(all, b"\0rest", "appended");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> lite::ReadToEndFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read_to_end(self, buf)
    }

    /// Reads UTF-8 until end-of-file, appending to `buf` (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut s = String::new();
    ///     (&"héllo".as_bytes()[..]).read_to_string(&mut s).await?;
    ///     assert_eq!(s, "héllo");
    ///     let bad = (&[0xffu8][..]).read_to_string(&mut s).await;
    ///     assert_eq!(bad.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> lite::ReadToStringFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read_to_string(self, buf)
    }

    /// Fills `buf` exactly, or fails with `UnexpectedEof` (futures-lite:
    /// the output is `()`, where tokio's is the length).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = &b"12345"[..];
    ///     let mut buf = [0; 3];
    ///     r.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"123");
    ///     let short = r.read_exact(&mut buf).await.unwrap_err();
    ///     assert_eq!(short.kind(), std::io::ErrorKind::UnexpectedEof);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> lite::ReadExactFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read_exact(self, buf)
    }

    /// A reader of at most `limit` bytes of this one (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut head = String::new();
    ///     (&b"header|body"[..]).take(6).read_to_string(&mut head).await?;
    ///     assert_eq!(head, "header");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn take(self, limit: u64) -> lite::Take<Self>
    where
        Self: Sized,
    {
        futures_lite::AsyncReadExt::take(self, limit)
    }

    /// A stream of this reader's bytes (futures-lite).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let bytes: Vec<u8> = (&b"hi"[..]).bytes().map(Result::unwrap).collect().await;
    ///     assert_eq!(bytes, b"hi");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn bytes(self) -> lite::Bytes<Self>
    where
        Self: Sized,
    {
        futures_lite::AsyncReadExt::bytes(self)
    }

    /// This reader, then `next` (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut s = String::new();
    ///     (&b"ab"[..]).chain(&b"cd"[..]).read_to_string(&mut s).await?;
    ///     assert_eq!(s, "abcd");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn chain<R: AsyncRead>(self, next: R) -> lite::Chain<Self, R>
    where
        Self: Sized,
    {
        futures_lite::AsyncReadExt::chain(self, next)
    }

    /// Boxes the reader (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     // Different reader types behind one type.
    ///     let mut readers = vec![(&b"a"[..]).boxed_reader(), moduvex_runtime::io::empty().boxed_reader()];
    ///     let mut all = Vec::new();
    ///     for r in &mut readers {
    ///         r.read_to_end(&mut all).await?;
    ///     }
    ///     assert_eq!(all, b"a");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn boxed_reader<'a>(self) -> Pin<Box<dyn AsyncRead + Send + 'a>>
    where
        Self: Sized + Send + 'a,
    {
        futures_lite::AsyncReadExt::boxed_reader(self)
    }

    /// Reads some bytes into `buf`'s spare room and advances it; `Ok(0)`
    /// at end-of-file or if `buf` has no room left — tokio's `read_buf`.
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncReadExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut buf = bytes::BytesMut::with_capacity(16);
    ///     let n = (&b"hello"[..]).read_buf(&mut buf).await?;
    ///     assert_eq!((n, &buf[..]), (5, &b"hello"[..]));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_buf<'a, B: BufMut + ?Sized>(&'a mut self, buf: &'a mut B) -> ReadBufFuture<'a, Self, B>
    where
        Self: Unpin,
    {
        ReadBufFuture { reader: self, buf }
    }

    read_nums! {
        read_u8 u8 from_be_bytes "big-endian";
        read_i8 i8 from_be_bytes "big-endian";
        read_u16 u16 from_be_bytes "big-endian";
        read_i16 i16 from_be_bytes "big-endian";
        read_u32 u32 from_be_bytes "big-endian";
        read_i32 i32 from_be_bytes "big-endian";
        read_u64 u64 from_be_bytes "big-endian";
        read_i64 i64 from_be_bytes "big-endian";
        read_u128 u128 from_be_bytes "big-endian";
        read_i128 i128 from_be_bytes "big-endian";
        read_f32 f32 from_be_bytes "big-endian";
        read_f64 f64 from_be_bytes "big-endian";
        read_u16_le u16 from_le_bytes "little-endian";
        read_i16_le i16 from_le_bytes "little-endian";
        read_u32_le u32 from_le_bytes "little-endian";
        read_i32_le i32 from_le_bytes "little-endian";
        read_u64_le u64 from_le_bytes "little-endian";
        read_i64_le i64 from_le_bytes "little-endian";
        read_u128_le u128 from_le_bytes "little-endian";
        read_i128_le i128 from_le_bytes "little-endian";
        read_f32_le f32 from_le_bytes "little-endian";
        read_f64_le f64 from_le_bytes "little-endian";
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Writing methods for every [`AsyncWrite`]: futures-lite's and tokio's.
///
/// ```
/// use moduvex_runtime::io::AsyncWriteExt;
///
/// moduvex_runtime::block_on(async {
///     let mut out = Vec::new();
///     out.write_u8(1).await?;
///     out.write_i16_le(-2).await?;
///     out.write_all_buf(&mut &b"end"[..]).await?;
///     out.shutdown().await?;
///     assert_eq!(out, [1, 0xfe, 0xff, b'e', b'n', b'd']);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`; the count written (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut out = Vec::new();
    ///     assert_eq!(out.write(b"some").await?, 4);
    ///     assert_eq!(out, b"some");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> lite::WriteFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::write(self, buf)
    }

    /// Writes from several buffers at once (futures-lite).
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut out = Vec::new();
    ///     let n = out.write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"c")]).await?;
    ///     assert!(n >= 2); // a writer may take only the first buffer
    ///     assert!(out.starts_with(b"ab"));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn write_vectored<'a>(
        &'a mut self,
        bufs: &'a [IoSlice<'a>],
    ) -> lite::WriteVectoredFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::write_vectored(self, bufs)
    }

    /// Writes all of `buf` (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut out = moduvex_runtime::io::Cursor::new(vec![0u8; 4]);
    ///     out.write_all(b"ab").await?;
    ///     assert_eq!(out.get_ref(), b"ab\0\0");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> lite::WriteAllFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::write_all(self, buf)
    }

    /// Flushes buffered data (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncWriteExt, BufWriter};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut w = BufWriter::new(Vec::new());
    ///     w.write_all(b"held").await?;
    ///     assert!(w.get_ref().is_empty(), "still in the buffer");
    ///     w.flush().await?;
    ///     assert_eq!(w.get_ref(), b"held");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn flush(&mut self) -> lite::FlushFuture<'_, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::flush(self)
    }

    /// Flushes and shuts down the writing side (futures-lite; the peer
    /// reads end-of-file). [`shutdown`](Self::shutdown) is tokio's name.
    ///
    /// ```
    /// use moduvex_runtime::io::{duplex, AsyncReadExt, AsyncWriteExt};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (mut a, mut b) = duplex(16);
    ///     a.write_all(b"end").await?;
    ///     a.close().await?;
    ///     let mut got = Vec::new();
    ///     b.read_to_end(&mut got).await?; // sees end-of-file after the data
    ///     assert_eq!(got, b"end");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn close(&mut self) -> lite::CloseFuture<'_, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::close(self)
    }

    /// Boxes the writer (futures-lite).
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut sinks = vec![Vec::<u8>::new().boxed_writer(), moduvex_runtime::io::sink().boxed_writer()];
    ///     for w in &mut sinks {
    ///         w.write_all(b"x").await?;
    ///     }
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn boxed_writer<'a>(self) -> Pin<Box<dyn AsyncWrite + Send + 'a>>
    where
        Self: Sized + Send + 'a,
    {
        futures_lite::AsyncWriteExt::boxed_writer(self)
    }

    /// Shuts down the writing side — tokio's `shutdown`, which is
    /// futures-io's `close`: buffered data is flushed first, and the peer
    /// reads end-of-file.
    ///
    /// ```
    /// use moduvex_runtime::io::{duplex, AsyncReadExt, AsyncWriteExt};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let (mut a, mut b) = duplex(16);
    ///     a.shutdown().await?; // tokio's name for `close`
    ///     assert_eq!(b.read(&mut [0; 4]).await?, 0);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn shutdown(&mut self) -> lite::CloseFuture<'_, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::close(self)
    }

    /// Writes some of `buf`'s remaining bytes and advances it; `Ok(0)` if
    /// none remain — tokio's `write_buf`.
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut src = &b"payload"[..]; // `&[u8]` is a `bytes::Buf`
    ///     let mut out = Vec::new();
    ///     while !src.is_empty() {
    ///         out.write_buf(&mut src).await?;
    ///     }
    ///     assert_eq!(out, b"payload");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn write_buf<'a, B: Buf + ?Sized>(&'a mut self, buf: &'a mut B) -> WriteBufFuture<'a, Self, B>
    where
        Self: Unpin,
    {
        WriteBufFuture { writer: self, buf }
    }

    /// Writes all of `buf`'s remaining bytes, advancing it as they go;
    /// fails with `WriteZero` if the writer accepts no bytes — tokio's
    /// `write_all_buf`.
    ///
    /// ```
    /// use moduvex_runtime::io::AsyncWriteExt;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut src = std::io::Cursor::new(b"cursor".to_vec()); // also a `Buf`
    ///     let mut out = Vec::new();
    ///     out.write_all_buf(&mut src).await?;
    ///     assert_eq!(out, b"cursor");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn write_all_buf<'a, B: Buf + ?Sized>(
        &'a mut self,
        buf: &'a mut B,
    ) -> WriteAllBufFuture<'a, Self, B>
    where
        Self: Unpin,
    {
        WriteAllBufFuture { writer: self, buf }
    }

    write_nums! {
        write_u8 u8 to_be_bytes "big-endian";
        write_i8 i8 to_be_bytes "big-endian";
        write_u16 u16 to_be_bytes "big-endian";
        write_i16 i16 to_be_bytes "big-endian";
        write_u32 u32 to_be_bytes "big-endian";
        write_i32 i32 to_be_bytes "big-endian";
        write_u64 u64 to_be_bytes "big-endian";
        write_i64 i64 to_be_bytes "big-endian";
        write_u128 u128 to_be_bytes "big-endian";
        write_i128 i128 to_be_bytes "big-endian";
        write_f32 f32 to_be_bytes "big-endian";
        write_f64 f64 to_be_bytes "big-endian";
        write_u16_le u16 to_le_bytes "little-endian";
        write_i16_le i16 to_le_bytes "little-endian";
        write_u32_le u32 to_le_bytes "little-endian";
        write_i32_le i32 to_le_bytes "little-endian";
        write_u64_le u64 to_le_bytes "little-endian";
        write_i64_le i64 to_le_bytes "little-endian";
        write_u128_le u128 to_le_bytes "little-endian";
        write_i128_le i128 to_le_bytes "little-endian";
        write_f32_le f32 to_le_bytes "little-endian";
        write_f64_le f64 to_le_bytes "little-endian";
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// Buffered reading methods for every [`AsyncBufRead`] (futures-lite's;
/// tokio has the same names).
///
/// ```
/// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
///
/// moduvex_runtime::block_on(async {
///     let mut r = BufReader::new(&b"first\nsecond\n"[..]);
///     let mut line = String::new();
///     r.read_line(&mut line).await?;
///     assert_eq!(line, "first\n");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// The buffered bytes, filling the buffer if it is empty; empty at
    /// end-of-file.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = BufReader::new(&b"peekable"[..]);
    ///     let buffered = r.fill_buf().await?;
    ///     assert_eq!(buffered, b"peekable");
    ///     r.consume(4);
    ///     assert_eq!(r.fill_buf().await?, b"able");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn fill_buf(&mut self) -> lite::FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncBufReadExt::fill_buf(self)
    }

    /// Marks `amt` buffered bytes as read.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = BufReader::new(&b"skip-this"[..]);
    ///     r.fill_buf().await?;
    ///     r.consume(5);
    ///     let mut rest = String::new();
    ///     r.read_line(&mut rest).await?;
    ///     assert_eq!(rest, "this");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        futures_lite::AsyncBufReadExt::consume(self, amt)
    }

    /// Reads up to and including `byte`, appending to `buf`.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = BufReader::new(&b"key=value"[..]);
    ///     let mut key = Vec::new();
    ///     r.read_until(b'=', &mut key).await?;
    ///     assert_eq!(key, b"key=");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_until<'a>(
        &'a mut self,
        byte: u8,
        buf: &'a mut Vec<u8>,
    ) -> lite::ReadUntilFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncBufReadExt::read_until(self, byte, buf)
    }

    /// Reads a line (with its `\n`), appending to `buf`; `Ok(0)` at
    /// end-of-file.
    ///
    /// ```
    /// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut r = BufReader::new(&b"one\ntwo"[..]);
    ///     let mut line = String::new();
    ///     assert_eq!(r.read_line(&mut line).await?, 4);
    ///     line.clear();
    ///     assert_eq!(r.read_line(&mut line).await?, 3);
    ///     assert_eq!(line, "two");
    ///     line.clear();
    ///     assert_eq!(r.read_line(&mut line).await?, 0, "end-of-file");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> lite::ReadLineFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncBufReadExt::read_line(self, buf)
    }

    /// A stream of lines, without their `\n` (a `Stream`, where tokio's
    /// `Lines` has `next_line()`).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let lines: Vec<String> = BufReader::new(&b"a\nb\n"[..]).lines().map(Result::unwrap).collect().await;
    ///     assert_eq!(lines, ["a", "b"]);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn lines(self) -> lite::Lines<Self>
    where
        Self: Sized,
    {
        futures_lite::AsyncBufReadExt::lines(self)
    }

    /// A stream of the pieces between `byte`s.
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use moduvex_runtime::io::{AsyncBufReadExt, BufReader};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let parts: Vec<Vec<u8>> = BufReader::new(&b"x,y,z"[..]).split(b',').map(Result::unwrap).collect().await;
    ///     assert_eq!(parts, [b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    fn split(self, byte: u8) -> lite::Split<Self>
    where
        Self: Sized,
    {
        futures_lite::AsyncBufReadExt::split(self, byte)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}
