//! The development corpus (tests/corpus/dev, copied from ../shared/corpus/dev): 44 cases
//! rebuilt from real user reports. Every expected finding (category and line) must be
//! reported at severity warning or error, and nothing else at those severities.

use adlint::analysis::{self, Options};
use adlint::diagnostic::Severity;
use adlint::workspace::Workspace;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    findings: Vec<Finding>,
}

#[derive(serde::Deserialize)]
struct Finding {
    category: String,
    line: usize,
}

fn run(file: &Path) -> BTreeSet<(String, usize)> {
    let ws = Workspace::discover(&[file.to_path_buf()]).expect("discover");
    let a = analysis::analyze(ws, &Options::default());
    a.diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .map(|d| {
            let (line, _) = a.line_col(d.location.file, d.location.span.start);
            (d.category.as_str().to_string(), line)
        })
        .collect()
}

#[test]
fn every_labelled_case_matches() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/dev");
    let labels: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    assert_eq!(labels.len(), 44);
    let mut failures = Vec::new();
    for case in &labels {
        let expected: BTreeSet<(String, usize)> = case
            .findings
            .iter()
            .map(|f| (f.category.clone(), f.line))
            .collect();
        let got = run(&dir.join(&case.file));
        if got != expected {
            failures.push(format!("{}: expected {expected:?}, got {got:?}", case.file));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
