//! Writers, one per output format. They turn an [`Analysis`] into text and compute nothing
//! about the code.

mod full;
mod github;
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
    /// One JSON object (the contract in docs/architecture.md §3).
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
            let (line, col) = line_col(analysis, entry.location.file, entry.location.span.start);
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
pub fn line_col(analysis: &Analysis, file: u32, byte: u32) -> (usize, usize) {
    let facts = &analysis.facts[file as usize];
    let pos = facts
        .line_index
        .position(&analysis.workspace.files[file as usize].text, byte as usize);
    (pos.line as usize + 1, pos.column as usize + 1)
}

pub fn path_of(analysis: &Analysis, loc: Location) -> &str {
    &analysis.workspace.files[loc.file as usize].display
}

fn write_concise(analysis: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    for d in &analysis.diagnostics {
        writeln!(out, "{}", concise_line(analysis, d))?;
    }
    Ok(())
}

pub fn concise_line(analysis: &Analysis, d: &Diagnostic) -> String {
    let (line, col) = line_col(analysis, d.location.file, d.location.span.start);
    let confirmed = match &d.confirmation {
        Some(c) if c.status == crate::diagnostic::ConfirmationStatus::Confirmed => " [confirmed]",
        _ => "",
    };
    format!(
        "{}:{}:{}: {} {}{}",
        path_of(analysis, d.location),
        line,
        col,
        d.rule,
        d.message,
        confirmed
    )
}
