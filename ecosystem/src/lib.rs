//! Examples and tests of moduvex-runtime with the crates servers are built
//! from (hyper, axum, tokio-util, ...): `examples/` holds programs to run
//! (`cargo run --manifest-path ecosystem/Cargo.toml --example NAME`),
//! `tests/` the checks that they and the runtime's `hyper`, `tokio-io` and `tokio-compat`
//! features work. Nothing here is a library.
