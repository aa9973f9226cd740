//! `cargo +nightly fuzz run lsp`: see `adlint::harness::lsp` for the invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adlint::harness::lsp(data));
