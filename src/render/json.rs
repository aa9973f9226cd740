//! `--output-format json`: one object on stdout, as specified in docs/json-output.md.

use super::path_of;
use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Location};
use serde_json::{json, Value};
use std::io::Write;

/// The JSON contract's version; bump it when a field is removed or renamed.
pub const JSON_VERSION: u32 = 1;

fn point(analysis: &Analysis, file: u32, byte: u32) -> Value {
    let (line, column) = analysis.line_col(file, byte);
    json!({"line": line, "column": column})
}

fn range(analysis: &Analysis, loc: Location) -> (Value, Value) {
    (
        point(analysis, loc.file, loc.span.start),
        point(analysis, loc.file, loc.span.end),
    )
}

pub fn diagnostic_json(analysis: &Analysis, d: &Diagnostic) -> Value {
    let (start, end) = range(analysis, d.location);
    let mut obj = json!({
        "rule": d.rule,
        "category": d.category,
        "severity": d.severity,
        "message": d.message,
        "path": path_of(analysis, d.location),
        "start": start,
        "end": end,
    });
    let map = obj.as_object_mut().expect("an object");
    if let Some(help) = &d.help {
        map.insert("help".into(), json!(help));
    }
    if let Some(e) = &d.entry {
        let (line, column) = analysis.line_col(e.location.file, e.location.span.start);
        let mut entry = json!({
            "path": path_of(analysis, e.location),
            "line": line,
            "column": column,
            "api": e.api.as_str(),
            "function": &*e.function,
            "backend": e.backend,
        });
        let fields = entry.as_object_mut().expect("an object");
        if let Some(unit) = &e.unit {
            fields.insert("unit".into(), json!(&**unit));
        }
        if let Some(test) = e.expected_failure {
            let (line, column) = analysis.line_col(test.file, test.span.start);
            fields.insert(
                "expected_failure".into(),
                json!({"path": path_of(analysis, test), "line": line, "column": column}),
            );
        }
        map.insert("entry".into(), entry);
        map.insert("entry_count".into(), json!(d.entry_count));
    }
    let chain: Vec<Value> = d
        .chain
        .iter()
        .map(|step| {
            let (line, column) = analysis.line_col(step.location.file, step.location.span.start);
            let mut s = json!({
                "function": &*step.function,
                "path": path_of(analysis, step.location),
                "line": line,
                "column": column,
            });
            let fields = s.as_object_mut().expect("an object");
            if step.possible {
                fields.insert("possible".into(), json!(true));
            }
            if step.skipped > 0 {
                fields.insert("skipped".into(), json!(step.skipped));
            }
            s
        })
        .collect();
    map.insert("chain".into(), json!(chain));
    let related: Vec<Value> = d
        .related
        .iter()
        .map(|r| {
            let (start, end) = range(analysis, r.location);
            json!({"path": path_of(analysis, r.location), "start": start, "end": end, "message": r.message})
        })
        .collect();
    map.insert("related".into(), json!(related));
    if let Some(k) = &d.knowledge {
        map.insert("knowledge".into(), json!(k));
    }
    if let Some(c) = &d.confirmation {
        map.insert(
            "confirmation".into(),
            json!({"status": c.status, "detail": c.detail}),
        );
    }
    let fixes: Vec<Value> = d
        .fixes
        .iter()
        .map(|f| {
            let edits: Vec<Value> = f
                .edits
                .iter()
                .map(|e| {
                    let (start, end) = range(analysis, e.location);
                    json!({"path": path_of(analysis, e.location), "start": start, "end": end, "replacement": e.replacement})
                })
                .collect();
            json!({"title": f.title, "applicability": f.applicability, "edits": edits})
        })
        .collect();
    map.insert("fixes".into(), json!(fixes));
    obj
}

pub fn write(analysis: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Document(analysis))?;
    writeln!(out)
}

/// The output document, written as it is made: each finding's object is built, written
/// and dropped in turn (the whole document as one value took ten times the memory of the
/// text).
struct Document<'a>(&'a Analysis);

impl serde::Serialize for Document<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let analysis = self.0;
        let diagnostics = (analysis.diagnostics.iter()).map(|d| diagnostic_json(analysis, d));
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("version", &JSON_VERSION)?;
        map.serialize_entry("diagnostics", &super::Lazy::new(diagnostics))?;
        map.serialize_entry("summary", &analysis.summary())?;
        map.end()
    }
}
