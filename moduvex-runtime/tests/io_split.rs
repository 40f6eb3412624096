//! `io` helpers on moduvex streams: generic split, copy, buffered reading.

// Unix only: every test splits a `UnixStream`.
#![cfg(unix)]

use moduvex_runtime::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use moduvex_runtime::net::UnixStream;
use moduvex_runtime::{block_on, spawn};

type Result<T = ()> = std::io::Result<T>;

#[test]
fn generic_split_lets_a_reader_and_a_writer_task_interleave() -> Result {
    block_on(async {
        let (a, b) = UnixStream::pair()?;
        let (mut rd, mut wr) = io::split(a);
        let echo = spawn(async move {
            let (mut r, mut w) = b.into_split();
            io::copy(&mut r, &mut w).await
        });
        let writer = spawn(async move {
            for i in 0..1000u32 {
                wr.write_all(&i.to_le_bytes()).await?;
            }
            Ok::<_, std::io::Error>(wr)
        });
        let mut buf = [0u8; 4];
        for i in 0..1000u32 {
            rd.read_exact(&mut buf).await?;
            assert_eq!(u32::from_le_bytes(buf), i);
        }
        let wr = writer.await.unwrap()?;
        assert!(rd.is_pair_of(&wr));
        let mut a = rd.unsplit(wr);
        a.close().await?;
        assert_eq!(echo.await.unwrap()?, 4000);
        Ok(())
    })
}

#[test]
fn buf_reader_lines_and_copy() -> Result {
    block_on(async {
        let (mut a, b) = UnixStream::pair()?;
        let writer = spawn(async move {
            a.write_all(b"first\nsecond\nthird").await?;
            a.close().await
        });
        let mut lines = Vec::new();
        let mut reader = BufReader::new(b);
        let mut line = String::new();
        while reader.read_line(&mut line).await? > 0 {
            lines.push(std::mem::take(&mut line));
        }
        writer.await.unwrap()?;
        assert_eq!(lines, ["first\n", "second\n", "third"]);

        let mut sink = Vec::new();
        let n = io::copy(&mut &b"abc"[..], &mut sink).await?;
        assert_eq!((n, sink.as_slice()), (3, &b"abc"[..]));
        Ok(())
    })
}
