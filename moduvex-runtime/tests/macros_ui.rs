//! Compile errors of the macros, checked with trybuild.

// trybuild runs cargo on the machine that builds the tests: the Windows
// binaries run cross-built under Wine, where no cargo exists.
#![cfg(not(windows))]

#[test]
fn misuse_is_a_helpful_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
