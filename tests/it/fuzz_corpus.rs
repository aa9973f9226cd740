//! Replays the fuzz seeds (the project's own fixtures), the fuzz corpus
//! (`fuzz/corpus/<target>/`) and every crash found by fuzzing (`fuzz/regressions/<target>/`)
//! through the harness functions the fuzz targets call, on stable Rust: what the fuzzer once
//! found stays fixed. Fuzzing itself: `fuzz/run.sh`, which seeds from the same directories.

use std::path::{Path, PathBuf};

/// The directories each target reads, relative to the repository root: seeds shared with
/// `fuzz/run.sh` (keep the two lists equal), then the fuzzer's own corpus and regressions.
fn dirs(target: &str) -> Vec<String> {
    let seeds: &[&str] = match target {
        "check" => &["tests/corpus/dev", "examples/src"],
        "fix" => &[
            "tests/fix/crlf",
            "tests/fix/fill_loops",
            "tests/fix/guidance",
            "tests/fix/limitations",
            "tests/fix/map_do",
            "tests/fix/safe_copy",
        ],
        "interpret" => &["tests/corpus/dev"],
        _ => &[],
    };
    let mut out: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
    out.push(format!("fuzz/corpus/{target}"));
    out.push(format!("fuzz/regressions/{target}"));
    out
}

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs: Vec<PathBuf> = Vec::new();
    for dir in dirs(target) {
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
