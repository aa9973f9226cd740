//! Byte offsets to lines and columns (in bytes, Unicode scalar values or UTF-16 units) and
//! back.

/// Line and column lookup for one file. Lines and columns are 0-based here; renderers add 1.
///
/// A column costs at most a few [`MARK_STRIDE`]s of counting, however long its line: in
/// ASCII text it is the byte offset in the line, and in other text it is counted from the
/// line's start, or on a long line from the marks before it and before the line (a file
/// that is one long line with a finding every few bytes made each column cost the line's
/// length, and its findings the square of it).
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Byte offset of each line's start (files are far below 4 GiB: spans are `u32` too).
    line_starts: Vec<u32>,
    /// The text is all ASCII: columns in every unit are byte offsets in the line.
    ascii: bool,
    /// Text that is not all ASCII: at the first character boundary at or after every
    /// [`MARK_STRIDE`] bytes, the characters and UTF-16 units before it.
    marks: Vec<Mark>,
}

/// Bytes between two [`Mark`]s (1.2% of the text in marks).
pub const MARK_STRIDE: usize = 1024;

/// Characters and UTF-16 units before a byte offset.
#[derive(Debug, Clone, Copy, Default)]
struct Mark {
    byte: u32,
    chars: u32,
    utf16: u32,
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
        let ascii = source.is_ascii();
        let mut marks = Vec::new();
        if !ascii {
            let (mut chars, mut utf16) = (0u32, 0u32);
            let mut next = MARK_STRIDE;
            for (i, &b) in bytes.iter().enumerate() {
                // A character starts at every byte that is not a continuation byte; one of
                // four bytes is two UTF-16 units.
                if b & 0xc0 != 0x80 {
                    if i >= next {
                        marks.push(Mark {
                            byte: i as u32,
                            chars,
                            utf16,
                        });
                        next = i + MARK_STRIDE;
                    }
                    chars += 1;
                    utf16 += if b >= 0xf0 { 2 } else { 1 };
                }
            }
        }
        LineIndex {
            line_starts,
            ascii,
            marks,
        }
    }

    /// The characters and UTF-16 units of `source[start..byte]` (both on character
    /// boundaries, `start` a line's start).
    fn count(&self, source: &str, start: usize, byte: usize) -> (usize, usize) {
        if self.ascii {
            return (byte - start, byte - start);
        }
        let direct = |from: usize, to: usize| {
            let s = &source[from..to];
            (
                s.chars().count(),
                s.chars().map(char::len_utf16).sum::<usize>(),
            )
        };
        if byte - start <= 2 * MARK_STRIDE {
            return direct(start, byte);
        }
        // Long line: the counts before `byte` less those before `start`, each from its mark.
        let before = |at: usize| {
            let i = self.marks.partition_point(|m| m.byte as usize <= at);
            let m = i.checked_sub(1).map_or(Mark::default(), |i| self.marks[i]);
            let (c, u) = direct(m.byte as usize, at);
            (m.chars as usize + c, m.utf16 as usize + u)
        };
        let (c1, u1) = before(byte);
        let (c0, u0) = before(start);
        (c1 - c0, u1 - u0)
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
        let column = self.count(source, start, byte).0;
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
        let column = self.count(source, start, byte).1;
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
        if self.ascii {
            // Every unit is a byte; a `\n` can only end the line.
            let content = text.len() - usize::from(text.ends_with('\n'));
            return start + (column as usize).min(content);
        }
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
