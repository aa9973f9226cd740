//! Writers, one per output format. They turn an [`Analysis`] into text and compute nothing
//! about the code.

mod full;
mod json;

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
    }
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
