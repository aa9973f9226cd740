//! `cargo +nightly fuzz run interpret`: see `adlint::harness::interpret` for the invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adlint::harness::interpret(data));
