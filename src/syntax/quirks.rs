//! Grammar quirks of tree-sitter-julia 0.23.1, masked before parsing or recognised after.

use tree_sitter::Node;

/// Blank out constructs that tree-sitter-julia 0.23.1 misparses so badly that the rest of the
/// file is lost, keeping every byte offset. Today: the `const` of a `const` field inside a
/// `mutable struct` (Julia 1.8+), which otherwise turns the struct and everything after it
/// into one ERROR node. A `const` line without `=` can only be such a field. Also a `\r`
/// alone as a line ending, which the grammar does not know.
pub fn mask_quirks(source: &str) -> std::borrow::Cow<'_, str> {
    // Old Mac line endings (a `\r` alone): the grammar knows only `\n` and `\r\n`, and
    // read a file of them as one line of errors. Each becomes a `\n` (one byte for one).
    let bytes = source.as_bytes();
    let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    let lines: std::borrow::Cow<'_, str> = match (0..bytes.len()).any(lone_cr) {
        true => {
            let fixed: Vec<u8> = (0..bytes.len())
                .map(|i| if lone_cr(i) { b'\n' } else { bytes[i] })
                .collect();
            std::borrow::Cow::Owned(String::from_utf8(fixed).expect("one ASCII byte for another"))
        }
        false => std::borrow::Cow::Borrowed(source),
    };
    let masked = match mask_const_fields(&lines) {
        std::borrow::Cow::Owned(s) => Some(s),
        std::borrow::Cow::Borrowed(_) => None,
    };
    match masked {
        Some(s) => std::borrow::Cow::Owned(s),
        None => lines,
    }
}

/// The `const` fields of [`mask_quirks`].
fn mask_const_fields(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains("const") {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut out: Option<String> = None;
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("const") {
            let is_field = rest.starts_with([' ', '\t'])
                && !rest.contains('=')
                && rest
                    .trim()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_');
            if is_field {
                let start = offset + (line.len() - trimmed.len());
                let buf = out.get_or_insert_with(|| source.to_string());
                buf.replace_range(start..start + 5, "     ");
            }
        }
        offset += line.len();
    }
    match out {
        Some(s) => std::borrow::Cow::Owned(s),
        None => std::borrow::Cow::Borrowed(source),
    }
}

/// `x!=0` is parsed as the assignment `x! = 0`, and `m.w!=0` as a field assignment to `w!`.
/// True when `node` (an `assignment`) is really such a comparison.
pub fn is_misparsed_not_equal(node: Node, source: &str) -> bool {
    if node.kind() != "assignment" {
        return false;
    }
    let Some(lhs) = node.child(0) else {
        return false;
    };
    let Some(op) = node.child(1) else {
        return false;
    };
    lhs.end_byte() == op.start_byte() && source[lhs.byte_range()].ends_with('!')
}
