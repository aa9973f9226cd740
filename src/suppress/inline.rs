//! Inline suppression: `# adlint: ignore[rule-or-category, ...] reason` on the line before a
//! statement covers that statement (at the end of a line, that line); before a function
//! definition it covers the whole function; `# adlint: ignore-file[...]` covers the file.
//! Directives that suppress nothing are reported by the `unused-suppression` meta rule, and
//! a directive that names no rule is reported as a blanket suppression.

use crate::diagnostic::{Category, Diagnostic, Location, Severity};
use crate::facts::{FileFacts, FunctionKind, Span};
use crate::workspace::SourceFile;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Directive {
    pub file: u32,
    pub span: Span,
    /// Rule names or categories; empty for a blanket `# adlint: ignore`.
    pub codes: Vec<String>,
    pub whole_file: bool,
    /// The byte range the directive covers.
    pub covers: Span,
    pub used: bool,
}

/// Parse `# adlint: ignore[...]` / `# adlint: ignore-file[...]`.
fn parse(text: &str) -> Option<(bool, Vec<String>)> {
    let rest = text.strip_prefix("# adlint:")?.trim_start();
    let (whole_file, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("ignore") {
        (false, r)
    } else {
        return None;
    };
    let codes = match rest.strip_prefix('[') {
        Some(r) => r
            .split(']')
            .next()
            .unwrap_or("")
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        None => Vec::new(),
    };
    Some((whole_file, codes))
}

/// Find every directive of a file and what it covers.
pub fn directives(file: u32, source: &SourceFile, facts: &FileFacts) -> Vec<Directive> {
    let text = &source.text;
    let li = &facts.line_index;
    let mut out = Vec::new();
    // What starts on each line, found once for all directives: asking every function,
    // site and call once per directive made a file of many directives quadratic.
    let starts = std::cell::OnceCell::new();
    let starts = || {
        starts.get_or_init(|| {
            // The first named function or call method that starts on a line.
            let mut function: HashMap<usize, Span> = HashMap::new();
            for f in facts.functions.iter() {
                if matches!(f.kind, FunctionKind::Named | FunctionKind::Functor { .. }) {
                    (function.entry(li.line_of(f.span.start as usize))).or_insert(f.span);
                }
            }
            // The furthest end of a site or call that starts on a line.
            let mut end: HashMap<usize, u32> = HashMap::new();
            let spans = (facts.sites.iter().map(|site| site.span))
                .chain(facts.calls.iter().map(|c| c.span));
            for sp in spans {
                let e = end.entry(li.line_of(sp.start as usize)).or_insert(sp.end);
                *e = (*e).max(sp.end);
            }
            (function, end)
        })
    };
    // The last line searched for code after a directive, and the line found: a directive
    // between them (a block of comments) finds the same line without searching again.
    let mut searched: Option<(usize, usize)> = None;
    for c in &facts.comments {
        let Some((whole_file, codes)) = parse(&c.text) else {
            continue;
        };
        let line = li.line_of(c.span.start as usize);
        let line_start = li.line_start(line);
        let own_line = text[line_start..c.span.start as usize].trim().is_empty();
        let covers = if whole_file {
            Span {
                start: 0,
                end: text.len() as u32,
            }
        } else if !own_line {
            // A trailing comment covers its own line.
            line_span(text, li, line)
        } else {
            // The next line with code: a function definition there is covered whole.
            let next = match searched {
                Some((from, found)) if from < line && line < found => found,
                _ => {
                    let mut next = line + 1;
                    while next < li.line_count() {
                        let s = line_span(text, li, next);
                        let t = text[s.range()].trim();
                        if !t.is_empty() && !t.starts_with('#') {
                            break;
                        }
                        next += 1;
                    }
                    next
                }
            };
            searched = Some((line, next));
            let s = line_span(text, li, next.min(li.line_count() - 1));
            let (function, end) = starts();
            match function.get(&next) {
                Some(f) => *f,
                None => {
                    // The statement starting on that line: up to the end of the innermost
                    // multi-line construct that starts there, else the line.
                    let stmt_end = end.get(&next).copied().unwrap_or(s.end).max(s.end);
                    Span {
                        start: s.start,
                        end: stmt_end,
                    }
                }
            }
        };
        out.push(Directive {
            file,
            span: c.span,
            codes,
            whole_file,
            covers,
            used: false,
        });
    }
    out
}

fn line_span(text: &str, li: &crate::syntax::LineIndex, line: usize) -> Span {
    let start = li.line_start(line);
    let end = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    Span {
        start: start as u32,
        end: end as u32,
    }
}

fn matches(codes: &[String], d: &Diagnostic) -> bool {
    codes.is_empty()
        || codes
            .iter()
            .any(|c| c == d.rule || c == d.category.as_str())
}

/// Drop suppressed diagnostics; add `unused-suppression` findings for directives that
/// suppressed nothing or name no rule. `enabled(file, code)` says whether a rule or category
/// is selected for a file: the meta rule runs where it is enabled, and a directive naming only
/// rules that are switched off there is not reported as unused.
pub fn apply(
    files: &[SourceFile],
    facts: &[FileFacts],
    diagnostics: Vec<Diagnostic>,
    enabled: &dyn Fn(u32, &str) -> bool,
) -> Vec<Diagnostic> {
    let mut all: Vec<Directive> = Vec::new();
    for (i, (f, x)) in files.iter().zip(facts).enumerate() {
        if f.reported && !x.comments.is_empty() {
            all.extend(directives(i as u32, f, x));
        }
    }
    if all.is_empty() {
        return diagnostics;
    }
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let hit = all.iter_mut().find(|dir| {
            dir.file == d.location.file
                && dir.covers.contains(Span {
                    start: d.location.span.start,
                    end: d.location.span.start,
                })
                && matches(&dir.codes, &d)
        });
        match hit {
            Some(dir) => dir.used = true,
            None => kept.push(d),
        }
    }
    let names = crate::rules::selector_names();
    for dir in &all {
        if !enabled(dir.file, crate::rules::unused_suppression::NAME) {
            continue;
        }
        let unknown: Vec<&String> = dir
            .codes
            .iter()
            .filter(|c| !crate::rules::is_selector(c))
            .collect();
        let message = if dir.codes.is_empty() {
            "blanket suppression: `# adlint: ignore` without a rule hides every finding; name the rules, as in `# adlint: ignore[index-assignment]`".to_string()
        } else if let Some(u) = unknown.first() {
            format!(
                "unknown rule or category `{u}` in a suppression{}",
                crate::config::hint(u, &names)
            )
        } else if !dir.used && dir.codes.iter().any(|c| enabled(dir.file, c)) {
            format!(
                "unused suppression: no {} finding here to ignore",
                dir.codes.join(", ")
            )
        } else {
            continue;
        };
        let at = Location {
            file: dir.file,
            span: dir.span,
        };
        let name = crate::rules::unused_suppression::NAME;
        let mut d = Diagnostic::new(name, Category::Meta, Severity::Warning, message, at);
        d.help = Some("remove the directive, or name the rules it is meant to ignore".into());
        kept.push(d);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn directive_syntax() {
        assert_eq!(
            parse("# adlint: ignore[index-assignment, try-catch] caches"),
            Some((false, vec!["index-assignment".into(), "try-catch".into()]))
        );
        assert_eq!(
            parse("# adlint: ignore-file[mutation]"),
            Some((true, vec!["mutation".into()]))
        );
        assert_eq!(parse("# adlint: ignore"), Some((false, vec![])));
        assert_eq!(parse("# adlint: check this"), None);
    }
}
