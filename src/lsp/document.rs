//! An open document: its text, version, line index and tree-sitter tree, kept up to date
//! with incremental edits (`tree.edit` + [`syntax::reparse`]).

use super::convert::Encoding;
use crate::syntax::{self, LineIndex};
use tower_lsp_server::ls_types::{Range, TextDocumentContentChangeEvent};
use tree_sitter::{InputEdit, Point, Tree};

pub struct Document {
    pub text: String,
    pub version: i32,
    pub line_index: LineIndex,
    pub tree: Tree,
    /// ERROR and MISSING nodes in the latest tree.
    pub parse_errors: usize,
}

impl Document {
    pub fn new(text: String, version: i32) -> Document {
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let parsed = syntax::parse(&text);
        Document {
            line_index: LineIndex::new(&text),
            text,
            version,
            tree: parsed.tree,
            parse_errors: parsed.error_count,
        }
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
            match change.range {
                None => {
                    self.text = change.text;
                    self.line_index = LineIndex::new(&self.text);
                    // A full replacement: nothing of the old tree can be reused.
                    self.tree = syntax::parse(&self.text).tree;
                }
                Some(range) => self.edit(range, &change.text, enc),
            }
        }
        let parsed = syntax::reparse(&self.text, &self.tree);
        self.tree = parsed.tree;
        self.parse_errors = parsed.error_count;
        self.version = version;
    }

    fn edit(&mut self, range: Range, new_text: &str, enc: Encoding) {
        let start = self.offset(range.start.line, range.start.character, enc);
        let end = self
            .offset(range.end.line, range.end.character, enc)
            .max(start);
        let start_point = self.point(start);
        let old_end_point = self.point(end);
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
            start_byte: start,
            old_end_byte: end,
            new_end_byte: new_end,
            start_position: start_point,
            old_end_position: old_end_point,
            new_end_position: new_end_point,
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
    fn utf8_and_utf16_offsets_differ_on_non_ascii() {
        let mut doc = Document::new("s = \"😀\"; y = 1\n".into(), 1);
        // `y` is at UTF-16 column 10 and UTF-8 column 12.
        doc.apply(vec![change(0, 10, 0, 11, "z")], 2, Encoding::Utf16);
        assert_eq!(doc.text, "s = \"😀\"; z = 1\n");
        doc.apply(vec![change(0, 12, 0, 13, "w")], 3, Encoding::Utf8);
        assert_eq!(doc.text, "s = \"😀\"; w = 1\n");
    }
}
