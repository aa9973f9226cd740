//! `cargo +nightly fuzz run fix`: see `adlint::harness::fix` for the invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adlint::harness::fix(data));
