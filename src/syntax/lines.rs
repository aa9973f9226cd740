//! Byte offsets to lines and columns (in bytes, Unicode scalar values or UTF-16 units) and
//! back.

/// Line and column lookup for one file. Lines and columns are 0-based here; renderers add 1.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Byte offset of each line's start (files are far below 4 GiB: spans are `u32` too).
    line_starts: Vec<u32>,
}

/// A 0-based position: line, and column in Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let mut line_starts = vec![0];
        let bytes = source.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            // `\n`, and a `\r` alone (old Mac line endings; the language server protocol
            // counts it as a line break too).
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i as u32 + 1);
            }
        }
        line_starts.shrink_to_fit();
        LineIndex { line_starts }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line containing `byte`.
    pub fn line_of(&self, byte: usize) -> usize {
        let byte = u32::try_from(byte).unwrap_or(u32::MAX);
        match self.line_starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line.min(self.line_starts.len() - 1)] as usize
    }

    /// Byte offset -> position with a column in Unicode scalar values.
    pub fn position(&self, source: &str, byte: usize) -> Position {
        let byte = clamp_to_char_boundary(source, byte);
        let line = self.line_of(byte);
        let start = self.line_starts[line] as usize;
        let column = source[start..byte].chars().count();
        Position {
            line: line as u32,
            column: column as u32,
        }
    }

    /// Byte offset -> 1-based line and column (in Unicode scalar values), as users read
    /// them in `path:line:column`.
    pub fn line_col(&self, source: &str, byte: usize) -> (usize, usize) {
        let p = self.position(source, byte);
        (p.line as usize + 1, p.column as usize + 1)
    }

    /// Byte offset -> column in UTF-16 code units (for LSP clients that want it).
    pub fn utf16_column(&self, source: &str, byte: usize) -> (u32, u32) {
        let byte = clamp_to_char_boundary(source, byte);
        let line = self.line_of(byte);
        let start = self.line_starts[line] as usize;
        let column: usize = source[start..byte].chars().map(char::len_utf16).sum();
        (line as u32, column as u32)
    }

    /// Line and column in a given unit back to a byte offset; past-the-end clamps.
    pub fn offset(&self, source: &str, line: u32, column: u32, unit: ColumnUnit) -> usize {
        let line = line as usize;
        if line >= self.line_starts.len() {
            return source.len();
        }
        let start = self.line_starts[line] as usize;
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(source.len(), |&e| e as usize);
        let text = &source[start..end];
        let mut remaining = column as usize;
        for (i, ch) in text.char_indices() {
            if ch == '\n' || remaining == 0 {
                return start + i;
            }
            let width = match unit {
                ColumnUnit::Utf8 => ch.len_utf8(),
                ColumnUnit::Utf16 => ch.len_utf16(),
                ColumnUnit::Chars => 1,
            };
            if width > remaining {
                return start + i;
            }
            remaining -= width;
        }
        end
    }
}

/// How a client counts columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUnit {
    Utf8,
    Utf16,
    Chars,
}

fn clamp_to_char_boundary(source: &str, mut byte: usize) -> usize {
    byte = byte.min(source.len());
    while !source.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}
