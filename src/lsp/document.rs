//! An open document: its text, version, line index and tree-sitter tree, kept up to date
//! with incremental edits (`tree.edit` + [`syntax::reparse`]).
//!
//! Where the text has syntax errors, tree-sitter's incremental parse can recover from them
//! differently than a parse from scratch would (tree-sitter issues #1645 and #4001: the
//! error-recovery path reuses nodes a fresh parse would not build), and the CLI always
//! parses from scratch. So a tree with errors is provisional: the analysis worker parses
//! such a document afresh off the message loop and [`Document::settle`]s it, which keeps
//! typing fast and makes the settled tree the one `adlint check` would build.

use super::convert::Encoding;
use crate::syntax::{self, LineIndex};
use crate::workspace::MAX_FILE_BYTES;
use tower_lsp_server::ls_types::{Range, TextDocumentContentChangeEvent};
use tree_sitter::{InputEdit, Point, Tree};

pub struct Document {
    pub text: String,
    pub version: i32,
    pub line_index: LineIndex,
    pub tree: Tree,
    /// ERROR and MISSING nodes in the latest tree.
    pub parse_errors: usize,
    /// The tree is a parse from scratch of the current text (not an incremental one).
    pub fresh: bool,
    /// The text is over the size `adlint check` reads ([`MAX_FILE_BYTES`]): it is kept
    /// for the edits to come, but neither parsed nor analysed (its tree is empty).
    pub too_large: bool,
}

/// Whether a text is over what `adlint check` reads: its size, or its nesting.
fn over_limit(text: &str) -> bool {
    text.len() as u64 > MAX_FILE_BYTES || syntax::nests_too_deep(text)
}

impl Document {
    pub fn new(text: String, version: i32) -> Document {
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let too_large = over_limit(&text);
        let parsed = syntax::parse(if too_large { "" } else { &text });
        Document {
            line_index: LineIndex::new(&text),
            text,
            version,
            tree: parsed.tree,
            parse_errors: parsed.error_count,
            fresh: true,
            too_large,
        }
    }

    /// Whether the tree may differ from a parse from scratch: an incremental parse that
    /// met syntax errors.
    pub fn provisional(&self) -> bool {
        !self.fresh && self.parse_errors > 0
    }

    /// Take a parse from scratch of `text`, made off the message loop, unless the
    /// document changed since.
    pub fn settle(&mut self, text: &str, parsed: syntax::Parsed) -> bool {
        if self.text != text {
            return false;
        }
        self.tree = parsed.tree;
        self.parse_errors = parsed.error_count;
        self.fresh = true;
        true
    }

    /// Apply the changes of one `didChange`, in order, then re-parse once reusing the
    /// edited tree.
    pub fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        enc: Encoding,
    ) {
        for change in changes {
            if self.too_large {
                self.edit_text(change, enc);
                continue;
            }
            match change.range {
                None => {
                    self.text = change.text;
                    self.line_index = LineIndex::new(&self.text);
                    self.too_large = over_limit(&self.text);
                    // A full replacement: nothing of the old tree can be reused.
                    if !self.too_large {
                        self.tree = syntax::parse(&self.text).tree;
                    }
                }
                Some(range) => {
                    self.edit(range, &change.text, enc);
                    self.too_large = over_limit(&self.text);
                }
            }
        }
        self.version = version;
        if self.too_large {
            // Parsed from scratch once back under the limit; until then, an empty tree.
            self.too_large = over_limit(&self.text);
            let parsed = syntax::parse(if self.too_large { "" } else { &self.text });
            self.tree = parsed.tree;
            self.parse_errors = parsed.error_count;
            self.fresh = true;
            return;
        }
        let parsed = syntax::reparse(&self.text, &self.tree);
        self.tree = parsed.tree;
        self.parse_errors = parsed.error_count;
        self.fresh = false;
    }

    /// One change to the text alone (the document is too large to be parsed).
    fn edit_text(&mut self, change: TextDocumentContentChangeEvent, enc: Encoding) {
        match change.range {
            None => self.text = change.text,
            Some(range) => {
                let start = self.offset(range.start.line, range.start.character, enc);
                let end = (self.offset(range.end.line, range.end.character, enc)).max(start);
                self.text.replace_range(start..end, &change.text);
            }
        }
        self.line_index = LineIndex::new(&self.text);
    }

    fn edit(&mut self, range: Range, new_text: &str, enc: Encoding) {
        let start = self.offset(range.start.line, range.start.character, enc);
        let end = self
            .offset(range.end.line, range.end.character, enc)
            .max(start);
        let start_point = self.point(start);
        let old_end_point = self.point(end);
        // The parser sees `syntax::mask_quirks(text)`, which decides line by line: an edit
        // can change how the untouched rest of its lines is masked, so the tree is told
        // that the whole lines changed.
        let line_start = self.line_index.line_start(start_point.row);
        let line_end = self.text[end..]
            .find('\n')
            .map_or(self.text.len(), |i| end + i);
        let tail = line_end - end;
        self.text.replace_range(start..end, new_text);
        let new_end = start + new_text.len();
        // The new end's row and byte column, computed from the inserted text.
        let new_end_point = match new_text.rfind('\n') {
            Some(i) => Point {
                row: start_point.row + new_text.matches('\n').count(),
                column: new_text.len() - i - 1,
            },
            None => Point {
                row: start_point.row,
                column: start_point.column + new_text.len(),
            },
        };
        self.tree.edit(&InputEdit {
            start_byte: line_start,
            old_end_byte: line_end,
            new_end_byte: new_end + tail,
            start_position: Point {
                row: start_point.row,
                column: 0,
            },
            old_end_position: Point {
                row: old_end_point.row,
                column: old_end_point.column + tail,
            },
            new_end_position: Point {
                row: new_end_point.row,
                column: new_end_point.column + tail,
            },
        });
        self.line_index = LineIndex::new(&self.text);
    }

    pub fn offset(&self, line: u32, character: u32, enc: Encoding) -> usize {
        self.line_index
            .offset(&self.text, line, character, enc.unit())
    }

    fn point(&self, byte: usize) -> Point {
        let row = self.line_index.line_of(byte);
        Point {
            row,
            column: byte - self.line_index.line_start(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::Position;

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_edits_match_a_fresh_parse() {
        let mut doc = Document::new(
            "function f(x)\n    θ = x .* 2\n    return θ\nend\n".into(),
            1,
        );
        // θ is one UTF-16 unit and two UTF-8 bytes.
        doc.apply(
            vec![
                change(1, 13, 1, 14, "3.0"),
                change(3, 0, 3, 0, "# done\n"),
                change(0, 9, 0, 10, "g"),
            ],
            2,
            Encoding::Utf16,
        );
        assert_eq!(
            doc.text,
            "function g(x)\n    θ = x .* 3.0\n    return θ\n# done\nend\n"
        );
        let fresh = syntax::parse(&doc.text);
        assert_eq!(
            doc.tree.root_node().to_sexp(),
            fresh.tree.root_node().to_sexp()
        );
        assert_eq!(doc.version, 2);
    }

    #[test]
    fn an_edit_that_changes_masking_of_its_line_reparses_the_line() {
        // `const x` without `=` is a field and gets masked; adding `= 1` makes it a
        // constant again, which changes bytes before the edit as the parser sees them.
        let mut doc = Document::new("mutable struct S\n    const x\nend\n".into(), 1);
        doc.apply(vec![change(1, 11, 1, 11, " = 1")], 2, Encoding::Utf8);
        assert_eq!(doc.text, "mutable struct S\n    const x = 1\nend\n");
        let fresh = syntax::parse(&doc.text);
        assert_eq!(
            doc.tree.root_node().to_sexp(),
            fresh.tree.root_node().to_sexp()
        );
        doc.apply(vec![change(1, 11, 1, 15, "")], 3, Encoding::Utf8);
        let fresh = syntax::parse(&doc.text);
        assert_eq!(
            doc.tree.root_node().to_sexp(),
            fresh.tree.root_node().to_sexp()
        );
    }

    #[test]
    fn utf8_and_utf16_offsets_differ_on_non_ascii() {
        let mut doc = Document::new("s = \"😀\"; y = 1\n".into(), 1);
        // `y` is at UTF-16 column 10 and UTF-8 column 12.
        doc.apply(vec![change(0, 10, 0, 11, "z")], 2, Encoding::Utf16);
        assert_eq!(doc.text, "s = \"😀\"; z = 1\n");
        doc.apply(vec![change(0, 12, 0, 13, "w")], 3, Encoding::Utf8);
        assert_eq!(doc.text, "s = \"😀\"; w = 1\n");
    }
}
