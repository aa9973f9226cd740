//! The default terminal format: ariadne reports with the site, the entry point and every
//! step of the call chain as labels, across files.

use crate::analysis::Analysis;
use crate::diagnostic::Severity;
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use std::io::Write;

pub fn write(analysis: &Analysis, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
    let files = &analysis.workspace.files;
    // One line index per file for the whole output, built when a report first shows the
    // file: building it per report made thousands of findings in one file quadratic.
    // Names and texts with their control characters made visible (`super::visible`).
    let names: Vec<String> = (files.iter())
        .map(|f| super::visible(&f.display).into_owned())
        .collect();
    let texts: std::collections::HashMap<&str, std::borrow::Cow<str>> = (names.iter())
        .zip(files)
        .map(|(n, f)| (n.as_str(), super::visible_source(&f.text)))
        .collect();
    let mut sources = ariadne::FnCache::new(|id: &SourceId| {
        texts
            .get(id.name.as_str())
            .map(|t| t.as_ref())
            .ok_or_else(|| format!("no source for `{}`", id.name))
    });
    let v = |s: &str| super::visible_lines(s).into_owned();
    // ariadne takes char offsets: with byte offsets it reads a block's first label (in a
    // file other than the site's) as chars, and panicked inside a multi-byte name.
    let mut chars = CharOffsets::new(analysis);
    let long_lines = LongLines {
        analysis,
        names: &names,
        texts: &texts,
    };
    for d in &analysis.diagnostics {
        let path = SourceId::primary(&names[d.location.file as usize]);
        // Other labels in the site's file name their own location in their block's header
        // (ariadne names the site's for every block of the report's own source), and
        // labels of one file far apart are drawn in blocks of their own ([`BLOCK_GAP`]).
        let last = d.chain_len().saturating_sub(1);
        // A long chain shows its ends: each label is drawn against every other on its
        // line, and 400 steps on one line took minutes to draw (JSON lists more).
        let hidden = d.chain_len().saturating_sub(CHAIN_SHOWN);
        let shown = |i: usize| hidden == 0 || i < CHAIN_SHOWN / 2 || i > last - CHAIN_SHOWN / 2;
        let blocks = Blocks::new(
            analysis,
            d.location.file,
            (d.chain_steps())
                .filter(|(i, s)| shown(*i) && s.location != d.location)
                .map(|(_, s)| s.location)
                .chain(d.related.iter().map(|r| r.location)),
        );
        let id_of = |at: crate::diagnostic::Location| SourceId {
            name: names[at.file as usize].clone(),
            block: blocks.of(at),
        };
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
            Severity::Info => ReportKind::Custom("Info", Color::Cyan),
        };
        let site_color = match d.severity {
            Severity::Error => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Cyan,
        };
        // Labels on a long line are drawn as a note around them ([`LongLines`]): ariadne
        // prints the whole line of each label, and a line of many findings printed once
        // per finding made the output grow with the square of the line.
        let mut long = vec![];
        let site = chars.range(d.location.file, d.location.span);
        let mut report = Report::build(kind, (path.clone(), site.clone()))
            .with_config(
                Config::new()
                    .with_index_type(IndexType::Char)
                    .with_color(color),
            )
            .with_code(d.rule)
            .with_message(v(&d.message));
        match long_lines.around(d.location, &short_label(d)) {
            Some(note) => long.push(note),
            None => {
                report = report.with_label(
                    Label::new((path.clone(), site))
                        .with_message(v(&short_label(d)))
                        .with_color(site_color)
                        .with_order(0),
                )
            }
        }
        for (i, step) in d.chain_steps() {
            let step_path = id_of(step.location);
            if step.location == d.location || !shown(i) {
                continue;
            }
            let msg = if i == 0 {
                format!(
                    "entry: `{}` differentiates {}",
                    d.entry.as_ref().map(|e| e.api.as_str()).unwrap_or("?"),
                    step.function
                )
            } else {
                let possible = if step.possible { " (possibly)" } else { "" };
                format!("step {i}: calls {}{possible}", step.function)
            };
            if let Some(note) = long_lines.around(step.location, &msg) {
                long.push(note);
                continue;
            }
            report = report.with_label(
                Label::new((
                    step_path,
                    chars.range(step.location.file, step.location.span),
                ))
                .with_message(v(&msg))
                .with_color(if i == last { Color::Blue } else { Color::Cyan })
                .with_order(i as i32 + 1),
            );
        }
        for r in &d.related {
            if let Some(note) = long_lines.around(r.location, &r.message) {
                long.push(note);
                continue;
            }
            let rp = id_of(r.location);
            report = report.with_label(
                Label::new((rp, chars.range(r.location.file, r.location.span)))
                    .with_message(v(&r.message))
                    .with_color(Color::Magenta)
                    .with_order(100),
            );
        }
        for note in long {
            report = report.with_note(note);
        }
        if let Some(help) = &d.help {
            report = report.with_help(v(help));
        }
        for fix in &d.fixes {
            report = report.with_help(v(&fix_text(analysis, fix)));
        }
        if hidden > 0 {
            report = report.with_note(format!(
                "{hidden} steps in the middle of the call chain are not shown{}",
                match d.chain_skipped() {
                    0 => " (`--output-format json` lists them all)".to_string(),
                    n => format!(
                        " (`--output-format json` lists {} of them)",
                        hidden.saturating_sub(n)
                    ),
                }
            ));
        }
        if d.entry_count > 1 {
            report = report.with_note(format!(
                "reached from {} entry points; the shortest chain is shown",
                d.entry_count
            ));
        }
        if let Some(k) = d
            .knowledge
            .as_deref()
            .and_then(|k| k.strip_prefix("generated: "))
        {
            report = report.with_note(format!("from the generated knowledge table: {}", v(k)));
        }
        if let Some(c) = &d.confirmation {
            report = report.with_note(format!(
                "{}: {}",
                match c.status {
                    crate::diagnostic::ConfirmationStatus::Confirmed => "confirmed",
                    crate::diagnostic::ConfirmationStatus::NotReproduced => "not reproduced",
                    crate::diagnostic::ConfirmationStatus::NotRun => "not run",
                },
                v(&c.detail)
            ));
        }
        let mut buf = Vec::new();
        report.finish().write(&mut sources, &mut buf)?;
        if !color {
            // ariadne colors a custom kind (`Info`) whatever its config says; sources are
            // shown with their control characters made visible, so every escape here is
            // one of those.
            buf = strip_color(&buf);
        }
        out.write_all(&buf)?;
    }
    Ok(())
}

/// A fix as help: its title, how it is applied, and the new code for fixes that are not
/// applied by a plain `--fix`.
fn fix_text(analysis: &Analysis, fix: &crate::diagnostic::Fix) -> String {
    use crate::diagnostic::Applicability;
    let how = match fix.applicability {
        Applicability::Safe => "safe fix, applied by `--fix`",
        Applicability::Unsafe => "unsafe fix, applied by `--fix --unsafe-fixes`",
        Applicability::DisplayOnly => "suggestion, never applied automatically",
    };
    let mut text = format!("{} ({how})", fix.title);
    if fix.applicability == Applicability::Safe {
        return text;
    }
    for e in fix
        .edits
        .iter()
        .filter(|e| !e.replacement.trim().is_empty())
    {
        let (line, _) = analysis.line_col(e.location.file, e.location.span.start);
        let path = super::visible(&analysis.workspace.files[e.location.file as usize].display);
        text.push_str(&format!("\n  at {path}:{line}:"));
        for l in e
            .replacement
            .replace("\r\n", "\n")
            .trim_matches('\n')
            .lines()
        {
            text.push_str("\n    ");
            text.push_str(l);
        }
    }
    text
}

fn short_label(d: &crate::diagnostic::Diagnostic) -> String {
    match d.category {
        crate::diagnostic::Category::Mutation => "mutates an array".to_string(),
        other => other.as_str().replace('-', " "),
    }
}

pub fn write_summary(analysis: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    let s = analysis.summary();
    let errors = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let infos = analysis.diagnostics.len() - errors - warnings;
    writeln!(
        out,
        "{} error{}, {} warning{}{}; {} file{} checked ({} entry point{}, {} unresolved call{})",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        match infos {
            0 => String::new(),
            n => format!(", {n} info"),
        },
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.entry_points,
        if s.entry_points == 1 { "" } else { "s" },
        s.unresolved_calls,
        if s.unresolved_calls == 1 { "" } else { "s" },
    )?;
    // What the workspace is: its programs, and the entries by backend when any is not
    // Zygote's (the first line's count is of the entries adlint analyses).
    let others: usize = (s.entries_by_backend.iter())
        .filter(|(b, _)| !matches!(**b, "zygote" | "unknown"))
        .map(|(_, n)| n)
        .sum();
    if s.units.len() > 1 || others > 0 || s.ambiguous_entries > 0 {
        let by_backend: Vec<String> = (s.entries_by_backend.iter())
            .map(|(b, n)| format!("{n} {b}"))
            .collect();
        let mut line = format!(
            "{} program unit{}; entry points by backend: {}",
            s.units.len(),
            if s.units.len() == 1 { "" } else { "s" },
            if by_backend.is_empty() {
                "none".to_string()
            } else {
                by_backend.join(", ")
            }
        );
        if s.ambiguous_entries > 0 {
            line.push_str(&format!(
                "; {} ambiguous entry name{} (see --verbose)",
                s.ambiguous_entries,
                if s.ambiguous_entries == 1 { "" } else { "s" }
            ));
        }
        writeln!(out, "{line}")?;
    }
    if s.parse_errors > 0 {
        // Where the parser gave up on a part of a file: a syntax error, or Julia the
        // grammar does not know; the rest of the file is analysed.
        let places: Vec<String> = (analysis.facts.iter().enumerate())
            .filter(|(_, f)| f.parse_errors > 0)
            .take(3)
            .map(|(i, f)| {
                let file = &analysis.workspace.files[i];
                let at = (f.first_parse_error)
                    .map(|b| f.line_index.line_col(&file.text, b as usize))
                    .map_or(String::new(), |(l, c)| format!(":{l}:{c}"));
                format!("{}{at}", super::visible(&file.display))
            })
            .collect();
        writeln!(
            out,
            "{} file{} with code adlint could not parse, analysed around it: {}{}",
            s.parse_errors,
            if s.parse_errors == 1 { "" } else { "s" },
            places.join(", "),
            match s.parse_errors.saturating_sub(places.len()) {
                0 => String::new(),
                n => format!(" and {n} more"),
            }
        )?;
    }
    if !s.unresolved_names.is_empty() {
        let top: Vec<String> = (s.unresolved_names.iter().take(5))
            .map(|n| format!("{} ({})", n.name, n.count))
            .collect();
        writeln!(
            out,
            "most frequent unresolved calls: {} (all with --verbose)",
            top.join(", ")
        )?;
    }
    if s.hidden_guesses > 0 {
        writeln!(
            out,
            "{} finding{} reached only through two or more guessed calls not shown (--include-guesses shows them)",
            s.hidden_guesses,
            if s.hidden_guesses == 1 { "" } else { "s" }
        )?;
    }
    if let Some(b) = &s.baseline {
        writeln!(
            out,
            "{} finding{} hidden by the baseline; {} baseline entr{} stale (fixed or moved: rewrite the baseline to drop {})",
            b.hidden,
            if b.hidden == 1 { "" } else { "s" },
            b.stale,
            if b.stale == 1 { "y is" } else { "ies are" },
            if b.stale == 1 { "it" } else { "them" },
        )?;
    }
    Ok(())
}

/// Steps of a call chain drawn as labels at most: the first and the last half of them.
const CHAIN_SHOWN: usize = 12;

/// A file as ariadne sees it: its name, and which block of the report its labels are
/// drawn in. The same file under another block shows the same text but is a different
/// source to ariadne, so that block names its own first label's location. Block 0 of the
/// site's file holds the site alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SourceId {
    name: String,
    block: u32,
}

impl SourceId {
    fn primary(name: &str) -> Self {
        SourceId {
            name: name.to_string(),
            block: 0,
        }
    }
}

/// Labels of one file more lines apart than this are drawn in blocks of their own.
/// ariadne walks every line between the first and last label of a block, for each
/// finding: the chains of 8,000 findings across one file of 8,000 functions made that
/// quadratic.
const BLOCK_GAP: usize = 40;

/// The block of each label of one finding (but its site): by file, then by runs of lines
/// no more than [`BLOCK_GAP`] apart.
struct Blocks {
    /// By (file, byte offset) of each label's start.
    block: std::collections::HashMap<(u32, u32), u32>,
    site_file: u32,
}

impl Blocks {
    fn new(
        analysis: &Analysis,
        site_file: u32,
        labels: impl Iterator<Item = crate::diagnostic::Location>,
    ) -> Blocks {
        // (file, line, offset) of each label, in order.
        let mut at: Vec<(u32, usize, u32)> = labels
            .map(|l| {
                (
                    l.file,
                    analysis.line_col(l.file, l.span.start).0,
                    l.span.start,
                )
            })
            .collect();
        at.sort_unstable();
        let mut block = std::collections::HashMap::with_capacity(at.len());
        let mut prev: Option<(u32, usize, u32)> = None;
        for &(file, line, offset) in &at {
            let b = match prev {
                Some((f, p, b)) if f == file => match line - p > BLOCK_GAP {
                    true => b + 1,
                    false => b,
                },
                _ => u32::from(file == site_file),
            };
            block.insert((file, offset), b);
            prev = Some((file, line, b));
        }
        Blocks { block, site_file }
    }

    /// The block of the label at `at` (one given to [`Blocks::new`]; the site: block 0).
    fn of(&self, at: crate::diagnostic::Location) -> u32 {
        match self.block.get(&(at.file, at.span.start)) {
            Some(&b) => b,
            None => u32::from(at.file == self.site_file),
        }
    }
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// `bytes` without ANSI color sequences (`ESC [ ... m`).
fn strip_color(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            let end = (bytes[i + 2..].iter()).position(|b| !(b.is_ascii_digit() || *b == b';'));
            if let Some(k) = end.filter(|&k| bytes[i + 2 + k] == b'm') {
                i += k + 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Byte spans as char ranges, through each file's line index and the char count at each
/// line's start (built when a report first shows the file).
struct CharOffsets<'a> {
    analysis: &'a Analysis,
    line_chars: std::collections::HashMap<u32, Vec<usize>>,
}

impl<'a> CharOffsets<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        CharOffsets {
            analysis,
            line_chars: Default::default(),
        }
    }

    fn at(&mut self, file: u32, byte: usize) -> usize {
        let text = &self.analysis.workspace.files[file as usize].text;
        let lines = &self.analysis.facts[file as usize].line_index;
        let byte = floor_char_boundary(text, byte.min(text.len()));
        let starts = self.line_chars.entry(file).or_insert_with(|| {
            let mut out = Vec::with_capacity(lines.line_count());
            let mut count = 0;
            let mut prev = 0;
            for line in 0..lines.line_count() {
                let start = lines.line_start(line).min(text.len());
                count += text[prev..start].chars().count();
                out.push(count);
                prev = start;
            }
            out
        });
        // The column from the line index, which does not count a long line from its start.
        let p = lines.position(text, byte);
        starts.get(p.line as usize).copied().unwrap_or(0) + p.column as usize
    }

    /// The characters a label covers: `span`, or its first line when it spans more than
    /// [`MAX_LABEL_LINES`] (ariadne prints every line a label spans: each of 4,000 nested
    /// `try` blocks printed the thousands of lines inside it).
    fn range(&mut self, file: u32, span: crate::span::Span) -> std::ops::Range<usize> {
        let lines = &self.analysis.facts[file as usize].line_index;
        let (first, last) = (
            lines.line_of(span.start as usize),
            lines.line_of(span.end as usize),
        );
        let end = match last.saturating_sub(first) > MAX_LABEL_LINES {
            true => {
                let text = &self.analysis.workspace.files[file as usize].text;
                let next = lines.line_start(first + 1).min(text.len());
                let line = &text[(span.start as usize).min(next)..next];
                span.start as usize + line.trim_end_matches(['\n', '\r']).len()
            }
            false => span.end as usize,
        };
        let start = self.at(file, span.start as usize);
        let end = self.at(file, end);
        start..end.max(start)
    }
}

/// Most lines a label of the full output spans; a longer one is shown on its first line.
const MAX_LABEL_LINES: usize = 12;

/// The largest char boundary of `s` at or before `i`.
fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A line longer than this (in bytes) is shown around a label, not whole.
const LONG_LINE: usize = 1000;

/// Characters of a long line shown on either side of a label, and of a long label.
const AROUND: usize = 40;

/// Labels on long lines, drawn as a note with the part of the line around them.
struct LongLines<'a> {
    analysis: &'a Analysis,
    /// Files' names and texts as shown (control characters made visible).
    names: &'a [String],
    texts: &'a std::collections::HashMap<&'a str, std::borrow::Cow<'a, str>>,
}

impl LongLines<'_> {
    /// For a label at `at` on a line longer than [`LONG_LINE`]: its place, `message`, and
    /// the line from [`AROUND`] characters before it to as many after it (a long label
    /// shown in its first [`AROUND`] characters), with the label underlined.
    fn around(&self, at: crate::diagnostic::Location, message: &str) -> Option<String> {
        let name = &self.names[at.file as usize];
        let text = self.texts.get(name.as_str())?.as_ref();
        let lines = &self.analysis.facts[at.file as usize].line_index;
        let start = floor_char_boundary(text, (at.span.start as usize).min(text.len()));
        let line = lines.line_of(start);
        let from = lines.line_start(line).min(text.len());
        let to = match line + 1 < lines.line_count() {
            true => lines.line_start(line + 1).min(text.len()),
            false => text.len(),
        };
        let to = from + text[from..to].trim_end_matches(['\n', '\r']).len();
        if to - from <= LONG_LINE {
            return None;
        }
        let end = floor_char_boundary(text, (at.span.end as usize).clamp(start, to));
        let before = step_back(text, start, from, AROUND);
        let shown_end = step_on(text, start, end, AROUND);
        let after = step_on(text, shown_end, to, AROUND);
        let flat = |s: &str| s.replace('\t', " ");
        let lead = if before > from { "…" } else { "" };
        let excerpt = format!(
            "{lead}{}{}",
            flat(&text[before..after]),
            if after < to { "…" } else { "" }
        );
        let pad = lead.chars().count() + text[before..start].chars().count();
        let width = text[start..shown_end].chars().count().max(1);
        let (l, c) = self.analysis.line_col(at.file, start as u32);
        Some(format!(
            "{name}:{l}:{c} ({}) is on a line of {} bytes, shown around it:\n{excerpt}\n{}{}",
            super::visible(message),
            to - from,
            " ".repeat(pad),
            "^".repeat(width)
        ))
    }
}

/// The byte `count` characters before `at` in `s`, not before `floor`.
fn step_back(s: &str, at: usize, floor: usize, count: usize) -> usize {
    (s[floor..at].char_indices().rev().take(count).last()).map_or(at, |(i, _)| floor + i)
}

/// The byte `count` characters after `at` in `s`, not past `ceiling`.
fn step_on(s: &str, at: usize, ceiling: usize, count: usize) -> usize {
    (s[at..ceiling].char_indices().nth(count)).map_or(ceiling, |(i, _)| at + i)
}
