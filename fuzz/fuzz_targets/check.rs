//! `cargo +nightly fuzz run check`: see `adlint::harness::check` for the invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adlint::harness::check(data));
