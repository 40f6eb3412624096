//! moduvex-runtime: an async runtime for Rust.
#![warn(missing_docs)]

pub mod platform;
