//! `io::duplex`: both directions, the bound, EOF and broken pipe on drop
//! and close, and no lost wake-up between a reader and a writer on
//! different threads.
#![cfg(not(loom))]

use std::io::ErrorKind;

use moduvex_runtime::io::{duplex, AsyncReadExt, AsyncWriteExt};
use moduvex_runtime::{block_on, spawn, Flavor, Runtime};

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Reads until EOF through a fixed buffer (`read_to_end` re-zeroes its
/// whole spare capacity after every `Pending`, which is quadratic when
/// each read returns a few bytes).
async fn read_all(r: &mut moduvex_runtime::io::DuplexStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf).await.unwrap() {
            0 => return out,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn bytes_flow_both_ways() {
    block_on(async {
        let (mut a, mut b) = duplex(16);
        a.write_all(b"to b").await.unwrap();
        b.write_all(b"to a").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to b");
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to a");
    });
}

#[test]
fn a_small_bound_carries_a_large_stream_intact() {
    block_on(async {
        let data = pattern(1 << 20);
        let expected = fnv(&data);
        let (mut a, mut b) = duplex(7);
        let writer = spawn(async move {
            a.write_all(&data).await.unwrap();
            // Dropping `a` ends the stream.
        });
        let got = read_all(&mut b).await;
        writer.await.unwrap();
        assert_eq!(got.len(), 1 << 20);
        assert_eq!(fnv(&got), expected);
    });
}

#[test]
fn reader_and_writer_on_different_threads_lose_no_wake_up() {
    let rt = Runtime::builder()
        .flavor(Flavor::WorkStealing)
        .worker_threads(2)
        .build()
        .unwrap();
    for _ in 0..10 {
        let data = pattern(8 * 1024);
        let expected = fnv(&data);
        let (mut a, mut b) = duplex(3);
        let reader = rt.spawn(async move { read_all(&mut b).await });
        // The writer runs on a thread of its own.
        std::thread::spawn(move || block_on(async move { a.write_all(&data).await.unwrap() }))
            .join()
            .unwrap();
        let got = rt.block_on(reader).unwrap();
        assert_eq!(fnv(&got), expected);
    }
}

#[test]
fn dropping_an_end_gives_the_peer_eof_and_broken_pipe() {
    block_on(async {
        let (mut a, mut b) = duplex(8);
        a.write_all(b"last").await.unwrap();
        drop(a);
        let mut buf = Vec::new();
        b.read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"last", "data written before the drop is still read");
        let err = b.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn a_writer_blocked_on_a_full_pipe_fails_when_the_reader_goes() {
    block_on(async {
        let (mut a, b) = duplex(2);
        let writer = spawn(async move { a.write_all(b"more than two").await });
        moduvex_runtime::yield_now().await;
        drop(b);
        let err = writer.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn close_shuts_down_writing_only() {
    block_on(async {
        let (mut a, mut b) = duplex(8);
        a.close().await.unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(b.read(&mut buf).await.unwrap(), 0, "EOF");
        assert_eq!(
            a.write(b"x").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
        // The other direction still flows.
        b.write_all(b"y").await.unwrap();
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"y");
    });
}

#[test]
fn empty_reads_and_writes_return_at_once() {
    block_on(async {
        let (mut a, _b) = duplex(1);
        assert_eq!(a.read(&mut []).await.unwrap(), 0);
        assert_eq!(a.write(&[]).await.unwrap(), 0);
    });
}

#[test]
#[should_panic(expected = "io::duplex(0)")]
fn a_zero_bound_is_refused() {
    let _ = duplex(0);
}
