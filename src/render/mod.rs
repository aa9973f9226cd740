//! Writers, one per output format. They turn an [`Analysis`] into text and compute nothing
//! about the code.

mod full;
mod github;
pub mod graph;
mod json;
mod sarif;

use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Location};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source excerpts with the site, the entry point and the call chain (ariadne).
    Full,
    /// One line per finding: `path:line:col: rule message`.
    Concise,
    /// One JSON object (the contract in docs/json-output.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions annotations (`::error file=...`).
    Github,
}

pub fn write(
    format: Format,
    analysis: &Analysis,
    out: &mut dyn Write,
    color: bool,
) -> std::io::Result<()> {
    match format {
        Format::Full => full::write(analysis, out, color),
        Format::Concise => write_concise(analysis, out),
        Format::Json => json::write(analysis, out),
        Format::Sarif => sarif::write(analysis, out),
        Format::Github => github::write(analysis, out),
    }
}

pub use full::write_summary;

/// A JSON array written from an iterator as it yields (the first serialization takes the
/// iterator; a second writes an empty array).
pub(crate) struct Lazy<I>(std::cell::Cell<Option<I>>);

impl<I> Lazy<I> {
    pub(crate) fn new(items: I) -> Self {
        Lazy(std::cell::Cell::new(Some(items)))
    }
}

impl<I: Iterator<Item = serde_json::Value>> serde::Serialize for Lazy<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.take().into_iter().flatten())
    }
}

/// `--statistics`: findings counted per rule and per entry point (each finding counts for
/// the entry point it is reported with). JSON for `json` and `sarif`, a table otherwise.
pub fn write_statistics(
    format: Format,
    analysis: &Analysis,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    use std::collections::BTreeMap;
    let mut by_rule: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    let mut by_entry: BTreeMap<(String, usize, usize, String, String), usize> = BTreeMap::new();
    for d in &analysis.diagnostics {
        let e = by_rule.entry(d.rule).or_insert((0, d.severity.as_str()));
        e.0 += 1;
        if let Some(entry) = &d.entry {
            let (line, col) = analysis.line_col(entry.location.file, entry.location.span.start);
            let key = (
                path_of(analysis, entry.location).to_string(),
                line,
                col,
                entry.api.to_string(),
                entry.function.to_string(),
            );
            *by_entry.entry(key).or_insert(0) += 1;
        }
    }
    let mut rules: Vec<(&str, usize, &str)> =
        by_rule.into_iter().map(|(r, (n, s))| (r, n, s)).collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut entries: Vec<_> = by_entry.into_iter().collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if matches!(format, Format::Json | Format::Sarif) {
        let doc = serde_json::json!({
            "rules": rules.iter().map(|(r, n, s)| serde_json::json!({"rule": r, "severity": s, "count": n})).collect::<Vec<_>>(),
            "entry_points": entries.iter().map(|((p, l, c, api, f), n)| serde_json::json!({
                "path": p, "line": l, "column": c, "api": api, "function": f, "count": n
            })).collect::<Vec<_>>(),
            "entries_by_backend": analysis.summary().entries_by_backend,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        return writeln!(out);
    }
    writeln!(out, "Findings per rule:")?;
    for (rule, n, sev) in &rules {
        writeln!(out, "{n:>6}  {rule:<26} {sev}")?;
    }
    if rules.is_empty() {
        writeln!(out, "     0")?;
    }
    writeln!(out, "Findings per entry point:")?;
    for ((p, l, c, api, f), n) in &entries {
        let (p, f) = (visible(p), visible(f));
        writeln!(out, "{n:>6}  {api}({f}) at {p}:{l}:{c}")?;
    }
    let without = analysis
        .diagnostics
        .iter()
        .filter(|d| d.entry.is_none())
        .count();
    if without > 0 {
        writeln!(out, "{without:>6}  (not tied to an entry point)")?;
    }
    writeln!(out, "Entry points by backend:")?;
    for (backend, n) in analysis.summary().entries_by_backend {
        writeln!(out, "{n:>6}  {backend}")?;
    }
    Ok(())
}

/// A 1-based line and a 1-based column in characters.
pub fn path_of(analysis: &Analysis, loc: Location) -> &str {
    &analysis.workspace.files[loc.file as usize].display
}

// `visible` and `visible_lines` are the model's (the interpreter's report uses them too);
// the renderers call them from here.
pub use crate::diagnostic::{visible, visible_lines};

/// A file's text for excerpts, with the control characters that would act on a terminal
/// replaced by characters of the same length in bytes (`?`, or `\u{bf}` for a two-byte
/// one), so that byte offsets still point where they did. Line breaks and tabs stay.
pub fn visible_source(s: &str) -> std::borrow::Cow<'_, str> {
    let bytes = s.as_bytes();
    let acts = |i: usize, c: char| {
        c.is_control() && c != '\n' && c != '\t' && !(c == '\r' && bytes.get(i + 1) == Some(&b'\n'))
    };
    if !s.char_indices().any(|(i, c)| acts(i, c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if acts(i, c) {
            out.push(if c.len_utf8() == 2 { '\u{bf}' } else { '?' });
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn write_concise(analysis: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    for d in &analysis.diagnostics {
        writeln!(out, "{}", concise_line(analysis, d))?;
    }
    Ok(())
}

pub fn concise_line(analysis: &Analysis, d: &Diagnostic) -> String {
    // A confirmed finding's message already ends with "[confirmed by the reference
    // interpreter]".
    let (line, col) = analysis.line_col(d.location.file, d.location.span.start);
    format!(
        "{}:{}:{}: {} {}",
        visible(path_of(analysis, d.location)),
        line,
        col,
        d.rule,
        visible(&d.message),
    )
}
