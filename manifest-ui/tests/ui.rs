//! UI tests of `#[derive(Manifest)]`: every refused input gives exactly the
//! derive's message on the offending tokens, and valid servers compile and run.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite` and read every one.

#[test]
fn manifest_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/manifest/*.rs");
    t.pass("tests/ui/manifest-pass/*.rs");
}
