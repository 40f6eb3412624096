//! Compile errors of the macros, checked with trybuild.

#[test]
fn misuse_is_a_helpful_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
