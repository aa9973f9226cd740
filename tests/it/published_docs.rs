//! `docs/rules/RULE.md` (linked from the editor's diagnostics and from SARIF's `helpUri`) is
//! exactly what `adlint explain RULE` prints. After changing a rule's docs, regenerate with
//! `ADLINT_BLESS=1 cargo test --test it published_docs`.

use adlint::rules::{all_rules, explain_text};
use std::path::PathBuf;

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/rules")
}

#[test]
fn rule_pages_match_explain() {
    let bless = std::env::var_os("ADLINT_BLESS").is_some();
    let dir = docs_dir();
    let mut stale = Vec::new();
    for rule in all_rules() {
        let path = dir.join(format!("{}.md", rule.name()));
        let expected = explain_text(rule);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &expected).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
            stale.push(rule.name());
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is out of date for {stale:?}; run ADLINT_BLESS=1 cargo test --test it published_docs"
    );
    // No page for a rule that no longer exists.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let rule = name.trim_end_matches(".md");
        assert!(
            all_rules().iter().any(|r| r.name() == rule),
            "docs/rules/{name} documents no rule"
        );
    }
}
