//! Byte spans to LSP positions, and adlint diagnostics to LSP diagnostics.

use crate::diagnostic::{self as adl, Severity};
use crate::facts::Span;
use crate::syntax::{ColumnUnit, LineIndex};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, PositionEncodingKind, Range, Uri,
};

/// How the client counts columns, negotiated at `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    pub fn unit(self) -> ColumnUnit {
        match self {
            Encoding::Utf8 => ColumnUnit::Utf8,
            Encoding::Utf16 => ColumnUnit::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    /// UTF-8 when the client offers it (no conversion needed), else the mandatory UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }
}

/// A text with its line index, enough to convert offsets both ways.
#[derive(Clone, Copy)]
pub struct TextRef<'a> {
    pub text: &'a str,
    pub lines: &'a LineIndex,
}

impl<'a> TextRef<'a> {
    pub fn position(&self, byte: usize, enc: Encoding) -> Position {
        let byte = byte.min(self.text.len());
        match enc {
            Encoding::Utf16 => {
                let (line, character) = self.lines.utf16_column(self.text, byte);
                Position::new(line, character)
            }
            Encoding::Utf8 => {
                let mut b = byte;
                while !self.text.is_char_boundary(b) {
                    b -= 1;
                }
                let line = self.lines.line_of(b);
                Position::new(line as u32, (b - self.lines.line_start(line)) as u32)
            }
        }
    }

    pub fn range(&self, span: Span, enc: Encoding) -> Range {
        Range::new(
            self.position(span.start as usize, enc),
            self.position(span.end as usize, enc),
        )
    }

    pub fn offset(&self, pos: Position, enc: Encoding) -> usize {
        self.lines
            .offset(self.text, pos.line, pos.character, enc.unit())
    }

    /// The byte span of an LSP range.
    pub fn span(&self, range: Range, enc: Encoding) -> Span {
        let start = self.offset(range.start, enc);
        let end = self.offset(range.end, enc).max(start);
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The 0-based line of a byte offset, its start, and its leading whitespace.
    pub fn line_info(&self, byte: usize) -> (usize, usize, &'a str) {
        let line = self.lines.line_of(byte.min(self.text.len()));
        let start = self.lines.line_start(line);
        let rest = &self.text[start..];
        let indent_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        (line, start, &rest[..indent_len])
    }
}

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

pub fn rule_docs_url(rule: &str) -> String {
    crate::rules::docs_url(rule)
}

/// How to reach any file of an analysis: its text and its URI.
pub trait FileMap {
    fn text(&self, file: u32) -> TextRef<'_>;
    fn uri(&self, file: u32) -> Option<Uri>;
}

pub fn location<M: FileMap + ?Sized>(
    files: &M,
    loc: adl::Location,
    enc: Encoding,
) -> Option<Location> {
    Some(Location::new(
        files.uri(loc.file)?,
        files.text(loc.file).range(loc.span, enc),
    ))
}

/// The message of step `i` of the chain (numbered in the whole chain,
/// [`adl::Diagnostic::chain_steps`]).
pub fn chain_message(d: &adl::Diagnostic, i: usize, step: &adl::ChainStep) -> String {
    let skipped = match step.skipped {
        0 => String::new(),
        n => format!(" ({n} steps before this one not listed)"),
    };
    let possible = if step.possible {
        " (possible: dispatch not certain)"
    } else {
        ""
    };
    if i == 0 {
        let api = d
            .entry
            .as_ref()
            .map(|e| e.api.as_str())
            .unwrap_or("an entry point");
        format!("entry: {api} differentiates {}{possible}", step.function)
    } else {
        format!("step {i}: calls {}{possible}{skipped}", step.function)
    }
}

pub fn diagnostic<M: FileMap + ?Sized>(
    files: &M,
    d: &adl::Diagnostic,
    enc: Encoding,
) -> Diagnostic {
    let mut related = Vec::new();
    for (i, step) in d.chain_steps() {
        if let Some(location) = location(files, step.location, enc) {
            related.push(DiagnosticRelatedInformation {
                location,
                message: chain_message(d, i, step),
            });
        }
    }
    if d.entry_count > 1 {
        if let Some(location) = d
            .entry
            .as_ref()
            .and_then(|e| location(files, e.location, enc))
        {
            related.push(DiagnosticRelatedInformation {
                location,
                message: format!(
                    "reached from {} entry points; this is the nearest",
                    d.entry_count
                ),
            });
        }
    }
    for r in &d.related {
        if let Some(location) = location(files, r.location, enc) {
            related.push(DiagnosticRelatedInformation {
                location,
                message: r.message.clone(),
            });
        }
    }
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    Diagnostic {
        range: files.text(d.location.file).range(d.location.span, enc),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.rule.to_string())),
        code_description: rule_docs_url(d.rule)
            .parse::<Uri>()
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("adlint".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(serde_json::json!({"rule": d.rule, "category": d.category.as_str()})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_in_both_encodings() {
        let text = "a = 1\nθ = \"😀\" * x\n";
        let lines = LineIndex::new(text);
        let t = TextRef {
            text,
            lines: &lines,
        };
        let x = text.find('x').unwrap();
        assert_eq!(t.position(x, Encoding::Utf16), Position::new(1, 11));
        assert_eq!(t.position(x, Encoding::Utf8), Position::new(1, 14));
        assert_eq!(t.offset(Position::new(1, 14), Encoding::Utf8), x);
        assert_eq!(t.offset(Position::new(1, 11), Encoding::Utf16), x);
    }
}
