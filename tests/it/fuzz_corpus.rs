//! Replays the fuzz seeds (the project's own fixtures), the fuzz corpus
//! (`fuzz/corpus/<target>/`) and every crash found by fuzzing (`fuzz/regressions/<target>/`)
//! through the harness functions the fuzz targets call, on stable Rust: what the fuzzer once
//! found stays fixed. The directories are `adlint::harness::corpus_dirs`, which the stable
//! fuzz driver (`cargo run --example fuzz`) mutates too; `fuzz/run.sh` (nightly) seeds from
//! the same ones.

use std::path::{Path, PathBuf};

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs: Vec<PathBuf> = Vec::new();
    for dir in adlint::harness::corpus_dirs(target) {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_file() && path.extension().is_none_or(|e| e != "md") {
                inputs.push(path);
            }
        }
    }
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs for {target}");
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("{target}: {} fails", path.display());
        }
    }
}

#[test]
fn check_corpus() {
    replay("check", adlint::harness::check);
}

#[test]
fn fix_corpus() {
    replay("fix", adlint::harness::fix);
}

#[test]
fn lsp_corpus() {
    replay("lsp", adlint::harness::lsp);
}

#[test]
fn interpret_corpus() {
    replay("interpret", adlint::harness::interpret);
}
