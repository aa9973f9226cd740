//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and every crash found by fuzzing
//! (`fuzz/regressions/<target>/`) through the harness functions the fuzz targets call, on
//! stable Rust: what the fuzzer once found stays fixed. Fuzzing itself: `fuzz/run.sh`.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(base.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_file() {
                inputs.push(path);
            }
        }
    }
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus for {target}");
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
