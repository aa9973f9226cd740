//! Baselines for adopting adlint on code that already has findings: `--write-baseline FILE`
//! records today's findings, `--baseline FILE` hides them and reports only new ones.
//!
//! A finding is keyed by its file (relative to the package root), its rule, the function it
//! is in, and a hash of its site's first line with whitespace normalised: not by line
//! numbers, so that edits elsewhere in the file do not invalidate the baseline. Identical
//! keys are counted, so a second identical finding in the same function is still new.

use crate::diagnostic::Diagnostic;
use crate::facts::FileFacts;
use crate::workspace::{SourceFile, Workspace};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Key {
    pub path: String,
    pub rule: String,
    pub function: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    key: Key,
    count: usize,
    /// For people reading the file; not part of the key.
    #[serde(default)]
    message: String,
    #[serde(default)]
    line: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    #[serde(default)]
    generator: String,
    findings: Vec<Entry>,
}

/// What a baseline did to a run, for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Findings hidden because the baseline has them.
    pub hidden: usize,
    /// Baseline entries that matched nothing (fixed since, or moved to another function).
    pub stale: usize,
}

/// 64-bit FNV-1a, as 16 hex digits: stable across platforms and Rust versions.
fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The site's first line with runs of whitespace collapsed.
fn normalised_site(files: &[SourceFile], d: &Diagnostic) -> String {
    let text = &files[d.location.file as usize].text;
    let span = d.location.span;
    let site = text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("");
    let first = site.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The file of a diagnostic relative to the package root (`/`-separated).
fn root_relative(workspace: &Workspace, file: u32) -> String {
    let f = &workspace.files[file as usize];
    match f.path.strip_prefix(&workspace.root) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => f.display.clone(),
    }
}

/// A stable hash of what identifies a finding apart from its line (also SARIF's
/// `partialFingerprints`).
pub fn fingerprint(files: &[SourceFile], d: &Diagnostic) -> String {
    fnv1a(&[d.rule, &normalised_site(files, d)])
}

pub fn key(workspace: &Workspace, d: &Diagnostic) -> Key {
    Key {
        path: root_relative(workspace, d.location.file),
        rule: d.rule.to_string(),
        function: d.function.as_deref().unwrap_or("<top level>").to_string(),
        fingerprint: fingerprint(&workspace.files, d),
    }
}

/// The baseline of a run's findings, as the text of a baseline file.
pub fn render(workspace: &Workspace, facts: &[FileFacts], diagnostics: &[Diagnostic]) -> String {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for d in diagnostics {
        let k = key(workspace, d);
        match index.get(&k) {
            Some(&i) => entries[i].count += 1,
            None => {
                index.insert(k.clone(), entries.len());
                let file = d.location.file as usize;
                let (line, _) = (facts[file].line_index)
                    .line_col(&workspace.files[file].text, d.location.span.start as usize);
                entries.push(Entry {
                    key: k,
                    count: 1,
                    message: d.message.clone(),
                    line,
                });
            }
        }
    }
    let file = File {
        version: BASELINE_VERSION,
        generator: format!("adlint {}", env!("CARGO_PKG_VERSION")),
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a baseline serialises");
    text.push('\n');
    text
}

/// Why `--baseline FILE` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the baseline `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("`{path}` is not an adlint baseline: {reason}")]
    Invalid { path: String, reason: String },
}

/// A loaded baseline: counts by key.
#[derive(Debug, Default)]
pub struct Baseline {
    counts: HashMap<Key, usize>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = crate::workspace::read_text(path, crate::workspace::MAX_FILE_BYTES).map_err(
            |reason| BaselineError::Unreadable {
                path: path.display().to_string(),
                reason,
            },
        )?;
        Baseline::parse(&text).map_err(|reason| BaselineError::Invalid {
            path: path.display().to_string(),
            reason,
        })
    }

    /// A baseline from its text, or why it is none.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.version != BASELINE_VERSION {
            return Err(format!(
                "version {} (this adlint reads version {BASELINE_VERSION})",
                file.version
            ));
        }
        let mut counts = HashMap::new();
        for e in file.findings {
            *counts.entry(e.key).or_insert(0) += e.count;
        }
        Ok(Baseline { counts })
    }

    /// Hide the findings the baseline has. Entries for files that are in the package but
    /// not being reported this run (a check of a subfolder) are neither used nor stale.
    pub fn apply(mut self, workspace: &Workspace, diagnostics: &mut Vec<Diagnostic>) -> Stats {
        let mut stats = Stats::default();
        let mut kept = Vec::with_capacity(diagnostics.len());
        for d in std::mem::take(diagnostics) {
            let k = key(workspace, &d);
            match self.counts.get_mut(&k) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    stats.hidden += 1;
                }
                _ => kept.push(d),
            }
        }
        *diagnostics = kept;
        let not_reported: std::collections::HashSet<String> = (0..workspace.files.len())
            .filter(|&i| !workspace.files[i].reported)
            .map(|i| root_relative(workspace, i as u32))
            .collect();
        stats.stale = self
            .counts
            .iter()
            .filter(|(k, _)| !not_reported.contains(&k.path))
            .map(|(_, n)| *n)
            .sum();
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        // Pinned: a change here invalidates every baseline users have written.
        assert_eq!(
            fnv1a(&["index-assignment", "z[i] = 1"]),
            fnv1a(&["index-assignment", "z[i] = 1"])
        );
        assert_eq!(fnv1a(&[]), "cbf29ce484222325");
        assert_ne!(fnv1a(&["a", "bc"]), fnv1a(&["ab", "c"]));
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        assert!(Baseline::parse("{\"version\": 2, \"findings\": []}").is_err());
        assert!(Baseline::parse("not json").is_err());
        assert!(Baseline::parse("{\"version\": 1, \"findings\": []}").is_ok());
    }
}
