//! The `# adlint:` directive comments of a file, found in its text (not its tree).

use super::model::Comment;
use crate::span::Span;

/// The `# adlint:` comments of a file (line comments only; suppression directives are
/// single-line by design).
pub(super) fn suppression_comments(source: &str) -> Vec<Comment> {
    // One search of the whole text (most files have no directive), the first per line.
    let mut out = Vec::new();
    let mut next_line = 0;
    for (start, _) in source.match_indices("# adlint:") {
        if start < next_line {
            continue;
        }
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let text = source[start..line_end].trim_end().to_string();
        out.push(Comment {
            span: Span {
                start: start as u32,
                end: (start + text.len()) as u32,
            },
            text,
        });
        next_line = line_end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::suppression_comments;

    #[test]
    fn suppression_comments_are_the_first_directive_of_each_line() {
        let src = "x[1] = 2  # adlint: ignore[index-assignment]  \r\n\
                   y = 1 # adlint: ignore # adlint: ignore[try-catch]\n\
                   # nothing here\n\
                   # adlint: ignore-function";
        let found: Vec<(usize, &str)> = suppression_comments(src)
            .iter()
            .map(|c| (c.span.start as usize, &src[c.span.range()]))
            .collect();
        let first = src.find("# adlint: ignore[index").unwrap();
        let second = src.find("# adlint: ignore #").unwrap();
        let last = src.rfind("# adlint: ignore-function").unwrap();
        assert_eq!(
            found,
            vec![
                (first, "# adlint: ignore[index-assignment]"),
                (second, "# adlint: ignore # adlint: ignore[try-catch]"),
                (last, "# adlint: ignore-function"),
            ]
        );
        let texts: Vec<String> = suppression_comments(src)
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(texts[0], "# adlint: ignore[index-assignment]");
        assert!(suppression_comments("f(x) = x\n").is_empty());
    }
}
