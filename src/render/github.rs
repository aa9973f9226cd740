//! `--output-format github`: GitHub Actions workflow commands, one per finding, so that
//! findings appear as annotations on the pull request's diff.

use super::path_of;
use crate::analysis::Analysis;
use crate::diagnostic::Severity;
use std::io::Write;

/// Escape a command's message (`%`, CR, LF), as the runner expects, and make the other
/// control characters visible (they would act on the log's terminal).
fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    super::visible(&s).into_owned()
}

/// Escape a property value (also `:` and `,`, which separate properties).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(analysis: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    for d in &analysis.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let (line, col) = analysis.line_col(d.location.file, d.location.span.start);
        let (end_line, end_col) = analysis.line_col(d.location.file, d.location.span.end);
        let mut message = d.message.clone();
        if let Some(e) = &d.entry {
            let mut chain: Vec<std::borrow::Cow<str>> = Vec::new();
            for s in &d.chain {
                if s.skipped > 0 {
                    chain.push(format!("({} more)", s.skipped).into());
                }
                chain.push((&*s.function).into());
            }
            message.push_str(&format!(
                "\nreached from {} via {}",
                if chain.is_empty() {
                    format!("`{}`", e.function)
                } else {
                    chain.join(" -> ")
                },
                e.api
            ));
        }
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        writeln!(
            out,
            "::{command} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
            escape_property(path_of(analysis, d.location)),
            escape_property(&format!("adlint ({})", d.rule)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
