//! The `tls` example: random data of several sizes, up to well past one
//! TLS record and one socket buffer, comes back byte for byte; connections
//! run side by side.

mod examples_common;
#[allow(dead_code)] // the example's `main` is not called here
#[path = "../examples/tls.rs"]
mod tls;

use examples_common::*;

/// Deterministic pseudo-random bytes (xorshift64*), a different stream per
/// `seed`.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn tls_echo_round_trips_verified_data() {
    guard("tls example", || {
        run(async {
            let (acceptor, connector) = tls::self_signed().unwrap();
            let server = Server::start(|listener, stop| tls::serve(listener, acceptor, stop)).await;
            let addr = server.addr;

            // 16 KiB is one TLS record; 64 KiB + 1 and 1 MiB span many
            // records and more than the sockets buffer.
            let sizes = [0, 1, 1000, 16 * 1024, 64 * 1024 + 1, 1 << 20];
            for (seed, &len) in sizes.iter().enumerate() {
                let data = random_bytes(len, seed as u64);
                let echoed = tls::round_trip(&connector, addr, &data).await.unwrap();
                assert_eq!(echoed.len(), len);
                assert!(echoed == data, "{len} bytes came back different");
            }

            // Several connections at once.
            let tasks: Vec<_> = (0..8u64)
                .map(|seed| {
                    let connector = connector.clone();
                    moduvex_runtime::spawn(async move {
                        let data = random_bytes(200_000 + seed as usize, 100 + seed);
                        let echoed = tls::round_trip(&connector, addr, &data).await.unwrap();
                        echoed == data
                    })
                })
                .collect();
            for task in tasks {
                assert!(task.await.unwrap(), "a concurrent echo came back different");
            }

            server.stop().await;
        })
    });
}

#[test]
fn a_client_trusting_another_certificate_is_refused() {
    guard("tls example, wrong certificate", || {
        run(async {
            let (acceptor, _) = tls::self_signed().unwrap();
            let (_, stranger) = tls::self_signed().unwrap();
            let server = Server::start(|listener, stop| tls::serve(listener, acceptor, stop)).await;
            let err = tls::round_trip(&stranger, server.addr, b"hello")
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
            server.stop().await;
        })
    });
}
