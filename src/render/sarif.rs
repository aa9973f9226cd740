//! `--output-format sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
//!
//! Paths are the same as in the JSON output (relative to the working directory when below
//! it), as URIs relative to `%SRCROOT%`, which is the working directory. Columns count
//! Unicode code points (`columnKind`), like every other format.

use super::path_of;
use crate::analysis::Analysis;
use crate::diagnostic::{Applicability, Diagnostic, Location, Severity};
use crate::rules;
use serde_json::{json, Value};
use std::io::Write;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encode what may not appear in a URI path (keeps `/`).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn artifact(analysis: &Analysis, file: u32) -> Value {
    let path = path_of(
        analysis,
        Location {
            file,
            span: Default::default(),
        },
    );
    if path.starts_with('/') {
        json!({"uri": format!("file://{}", uri_path(path))})
    } else {
        json!({"uri": uri_path(path), "uriBaseId": "%SRCROOT%"})
    }
}

fn region(analysis: &Analysis, loc: Location) -> Value {
    let (sl, sc) = analysis.line_col(loc.file, loc.span.start);
    let (el, ec) = analysis.line_col(loc.file, loc.span.end);
    json!({"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec})
}

fn physical(analysis: &Analysis, loc: Location) -> Value {
    json!({"artifactLocation": artifact(analysis, loc.file), "region": region(analysis, loc)})
}

fn result(analysis: &Analysis, d: &Diagnostic, rule_index: usize) -> Value {
    let mut text = d.message.clone();
    if let Some(e) = &d.entry {
        text.push_str(&format!(" (reached from `{}` via {})", e.function, e.api));
    }
    if let Some(c) = &d.confirmation {
        if c.status == crate::diagnostic::ConfirmationStatus::Confirmed {
            text.push_str(&format!(" [confirmed: {}]", c.detail));
        }
    }
    let mut r = json!({
        "ruleId": d.rule,
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical(analysis, d.location)}],
        "partialFingerprints": {
            "adlintSite/v1": crate::suppress::baseline::fingerprint(&analysis.workspace.files, d),
        },
    });
    let map = r.as_object_mut().expect("an object");
    let mut related = Vec::new();
    if let Some(e) = &d.entry {
        related.push(json!({
            "id": related.len() + 1,
            "physicalLocation": physical(analysis, e.location),
            "message": {"text": format!("entry point: {} differentiates `{}`", e.api, e.function)},
        }));
    }
    for rel in &d.related {
        related.push(json!({
            "id": related.len() + 1,
            "physicalLocation": physical(analysis, rel.location),
            "message": {"text": rel.message},
        }));
    }
    if !related.is_empty() {
        map.insert("relatedLocations".into(), json!(related));
    }
    if !d.chain.is_empty() {
        let mut steps: Vec<Value> = d
            .chain
            .iter()
            .map(|s| {
                let mut what = if s.possible {
                    format!("may call `{}`", s.function)
                } else {
                    format!("calls `{}`", s.function)
                };
                if s.skipped > 0 {
                    what.push_str(&format!(" ({} steps before this one not listed)", s.skipped));
                }
                json!({"location": {"physicalLocation": physical(analysis, s.location), "message": {"text": what}}})
            })
            .collect();
        steps.push(json!({"location": {"physicalLocation": physical(analysis, d.location), "message": {"text": d.message}}}));
        map.insert(
            "codeFlows".into(),
            json!([{"message": {"text": "call chain from the entry point"}, "threadFlows": [{"locations": steps}]}]),
        );
    }
    let fixes: Vec<Value> = d
        .fixes
        .iter()
        .filter(|f| f.applicability != Applicability::DisplayOnly && !f.edits.is_empty())
        .map(|f| {
            let mut by_file: Vec<(u32, Vec<Value>)> = Vec::new();
            for e in &f.edits {
                let rep = json!({
                    "deletedRegion": region(analysis, e.location),
                    "insertedContent": {"text": e.replacement},
                });
                match by_file.iter_mut().find(|(file, _)| *file == e.location.file) {
                    Some((_, reps)) => reps.push(rep),
                    None => by_file.push((e.location.file, vec![rep])),
                }
            }
            let changes: Vec<Value> = by_file
                .into_iter()
                .map(|(file, reps)| json!({"artifactLocation": artifact(analysis, file), "replacements": reps}))
                .collect();
            json!({"description": {"text": f.title}, "artifactChanges": changes})
        })
        .collect();
    if !fixes.is_empty() {
        map.insert("fixes".into(), json!(fixes));
    }
    let mut props = json!({"category": d.category});
    if let Some(c) = &d.confirmation {
        props["confirmation"] = json!({"status": c.status, "detail": c.detail});
    }
    map.insert("properties".into(), props);
    r
}

pub fn write(analysis: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    let all = rules::all_rules();
    let rules_json: Vec<Value> = all
        .iter()
        .map(|r| {
            json!({
                "id": r.name(),
                "name": r.name(),
                "shortDescription": {"text": r.summary()},
                "fullDescription": {"text": r.summary()},
                "help": {"text": r.docs(), "markdown": r.docs()},
                "helpUri": rules::docs_url(r.name()),
                "defaultConfiguration": {"level": level(r.default_severity())},
                "properties": {"category": r.category(), "tags": [r.category().as_str()]},
            })
        })
        .collect();
    // Written result by result, as made ([`super::Lazy`]).
    let results = (analysis.diagnostics.iter()).map(|d| {
        let index = all.iter().position(|r| r.name() == d.rule).unwrap_or(0);
        result(analysis, d, index)
    });
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok())
        .map(|c| {
            let mut s = c.to_string_lossy().replace('\\', "/");
            if !s.ends_with('/') {
                s.push('/');
            }
            format!("file://{}", uri_path(&s))
        })
        .unwrap_or_else(|| "file:///".to_string());
    let run = json!({
        "tool": {"driver": {
            "name": "adlint",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/adlint/adlint",
            "rules": rules_json,
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd}},
        "columnKind": "unicodeCodePoints",
    });
    let doc = Document {
        run,
        results: super::Lazy::new(results),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The SARIF log with its one run, whose results are written as they are made.
struct Document<I> {
    /// The run's fields but its results.
    run: Value,
    results: super::Lazy<I>,
}

impl<I: Iterator<Item = Value>> serde::Serialize for Document<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("$schema", SARIF_SCHEMA)?;
        map.serialize_entry("version", "2.1.0")?;
        map.serialize_entry("runs", &[Run(self)])?;
        map.end()
    }
}

struct Run<'a, I>(&'a Document<I>);

impl<I: Iterator<Item = Value>> serde::Serialize for Run<'_, I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self.0.run.as_object().expect("an object");
        let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
        for (k, v) in fields {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("results", &self.0.results)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::uri_path;

    #[test]
    fn uris_escape_spaces_and_non_ascii() {
        assert_eq!(uri_path("src/my model.jl"), "src/my%20model.jl");
        assert_eq!(uri_path("src/δ.jl"), "src/%CE%B4.jl");
        assert_eq!(uri_path("a/b_c-1.jl"), "a/b_c-1.jl");
    }
}
