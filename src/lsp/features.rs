//! Hover and code actions, read from an analysis snapshot.

use super::analyze::{Snapshot, Unit};
use super::convert::{self, Encoding, FileMap};
use crate::diagnostic::{self as adl, Applicability};
use crate::facts::{FunctionKind, Span};
use crate::index::FuncRef;
use crate::rules;
use std::collections::{HashMap, HashSet};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Hover, HoverContents, MarkupContent,
    MarkupKind, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

/// The code action kind of "fix all": `source.fixAll.adlint`.
pub fn fix_all_kind() -> CodeActionKind {
    CodeActionKind::new("source.fixAll.adlint")
}

fn where_(unit: &Unit, loc: adl::Location) -> String {
    let f = &unit.analysis.workspace.files[loc.file as usize];
    let p = unit.analysis.facts[loc.file as usize]
        .line_index
        .position(&f.text, loc.span.start as usize);
    format!("{}:{}:{}", f.display, p.line + 1, p.column + 1)
}

/// The innermost function of a file whose span contains `span`.
fn enclosing_function(
    unit: &Unit,
    file: u32,
    span: Span,
    pick: impl Fn(&FunctionKind) -> bool,
) -> Option<u32> {
    let facts = &unit.analysis.facts[file as usize];
    facts
        .functions
        .iter()
        .enumerate()
        .filter(|(_, f)| pick(&f.kind) && f.span.contains(span))
        .min_by_key(|(_, f)| f.span.end - f.span.start)
        .map(|(i, _)| i as u32)
}

pub fn hover(snap: &Snapshot, uri: &Uri, pos: Position) -> Option<Hover> {
    let (unit, file) = snap.locate(uri)?;
    let enc = snap.encoding;
    let text = unit.text(file);
    let offset = text.offset(pos, enc) as u32;
    let at = |s: Span| s.start <= offset && (offset < s.end || offset == s.start);
    let mut parts: Vec<String> = Vec::new();
    let mut range: Option<Span> = None;

    for &di in &unit.by_file[file as usize] {
        let d = &unit.analysis.diagnostics[di];
        if !at(d.location.span) {
            continue;
        }
        let mut s = format!(
            "### adlint: `{}` ({}, {})\n\n{}\n",
            d.rule,
            d.category.as_str(),
            d.severity.as_str(),
            d.message
        );
        if let Some(help) = &d.help {
            s.push_str(&format!("\n**help:** {help}\n"));
        }
        if !d.chain.is_empty() {
            s.push_str("\n**Call chain**\n\n");
            for (i, step) in d.chain_steps() {
                s.push_str(&format!(
                    "{}. {} — `{}`\n",
                    i + 1,
                    convert::chain_message(d, i, step),
                    where_(unit, step.location)
                ));
            }
            if d.entry_count > 1 {
                s.push_str(&format!(
                    "\nReached from {} entry points; this chain is the shortest.\n",
                    d.entry_count
                ));
            }
        }
        if let Some(rule) = rules::rule_by_name(d.rule) {
            s.push_str("\n---\n\n");
            s.push_str(rule.docs());
        }
        parts.push(s);
        range.get_or_insert(d.location.span);
    }

    let g = &unit.analysis.graph;
    let facts = &unit.analysis.facts[file as usize];
    for (ei, e) in g.entries.iter().enumerate() {
        if e.file != file {
            continue;
        }
        let span = facts.calls[e.call as usize].span;
        if !at(span) {
            continue;
        }
        let reached = g.reached_by(ei);
        let roots: Vec<String> = e
            .roots
            .iter()
            .map(|r| {
                let f = &unit.analysis.facts[r.file as usize];
                format!("`{}`", f.functions[r.func as usize].display_name(f))
            })
            .collect();
        let findings: Vec<&adl::Diagnostic> = unit
            .analysis
            .diagnostics
            .iter()
            .filter(|d| {
                let func = enclosing_function(unit, d.location.file, d.location.span, |_| true)
                    .unwrap_or(0);
                reached.contains(&FuncRef {
                    file: d.location.file,
                    func,
                })
            })
            .collect();
        let mut s = format!(
            "### adlint: entry point `{}`\n\nDifferentiates {}.\n\nReaches {} function{} of the workspace; {} finding{} in them.\n",
            e.api,
            if roots.is_empty() {
                format!("`{}` (not resolved to workspace code)", e.label)
            } else {
                roots.join(", ")
            },
            reached.len(),
            if reached.len() == 1 { "" } else { "s" },
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
        );
        for d in findings.iter().take(20) {
            s.push_str(&format!(
                "\n- `{}` at `{}`",
                d.rule,
                where_(unit, d.location)
            ));
        }
        if findings.len() > 20 {
            s.push_str(&format!("\n- ... and {} more", findings.len() - 20));
        }
        parts.push(s);
        range.get_or_insert(span);
    }

    if parts.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range: range.map(|s| text.range(s, enc)),
    })
}

fn workspace_edit(unit: &Unit, edits: &[adl::Edit], enc: Encoding) -> Option<WorkspaceEdit> {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for e in edits {
        let uri = unit.uri(e.location.file)?;
        changes.entry(uri).or_default().push(TextEdit {
            range: unit.text(e.location.file).range(e.location.span, enc),
            new_text: e.replacement.clone(),
        });
    }
    Some(WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    })
}

fn insert_line_above(
    unit: &Unit,
    file: u32,
    byte: u32,
    line: &str,
    enc: Encoding,
) -> Option<WorkspaceEdit> {
    let text = unit.text(file);
    let (_, start, indent) = text.line_info(byte as usize);
    let pos = text.position(start, enc);
    let mut changes = HashMap::new();
    changes.insert(
        unit.uri(file)?,
        vec![TextEdit {
            range: Range::new(pos, pos),
            new_text: format!("{indent}{line}\n"),
        }],
    );
    Some(WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    })
}

fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    match only {
        None => true,
        Some(kinds) => kinds.iter().any(|k| {
            kind.as_str() == k.as_str() || kind.as_str().starts_with(&format!("{}.", k.as_str()))
        }),
    }
}

pub fn code_actions(
    snap: &Snapshot,
    uri: &Uri,
    range: Range,
    only: Option<&[CodeActionKind]>,
) -> Vec<CodeActionOrCommand> {
    let Some((unit, file)) = snap.locate(uri) else {
        return Vec::new();
    };
    let enc = snap.encoding;
    let span = unit.text(file).span(range, enc);
    let mut out = Vec::new();
    let mut titles = HashSet::new();
    let mut push = |out: &mut Vec<CodeActionOrCommand>, action: CodeAction| {
        if titles.insert(action.title.clone()) {
            out.push(CodeActionOrCommand::CodeAction(action));
        }
    };

    if wanted(only, &CodeActionKind::QUICKFIX) {
        for &di in &unit.by_file[file as usize] {
            let d = &unit.analysis.diagnostics[di];
            let s = d.location.span;
            if !(s.start <= span.end && span.start <= s.end) {
                continue;
            }
            let diag = convert::diagnostic(unit, d, enc);
            // Every fix is a code action, display-only ones (the rrule skeleton) included:
            // the user sees the edit before taking it, which is what display-only asks for.
            for fix in &d.fixes {
                if let Some(edit) = workspace_edit(unit, &fix.edits, enc) {
                    push(
                        &mut out,
                        CodeAction {
                            title: fix.title.clone(),
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![diag.clone()]),
                            edit: Some(edit),
                            is_preferred: Some(fix.applicability == Applicability::Safe),
                            ..CodeAction::default()
                        },
                    );
                }
            }
            let comment = format!("# adlint: ignore[{}]", d.rule);
            let site_line = unit.text(file).line_info(s.start as usize).0;
            if let Some(edit) = insert_line_above(unit, file, s.start, &comment, enc) {
                push(
                    &mut out,
                    CodeAction {
                        title: format!("Suppress {} on this line", d.rule),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![diag.clone()]),
                        edit: Some(edit),
                        ..CodeAction::default()
                    },
                );
            }
            let named =
                |k: &FunctionKind| matches!(k, FunctionKind::Named | FunctionKind::Functor { .. });
            if let Some(func) = enclosing_function(unit, file, s, named) {
                let start = unit.analysis.facts[file as usize].functions[func as usize]
                    .span
                    .start;
                let func_line = unit.text(file).line_info(start as usize).0;
                if func_line != site_line {
                    if let Some(edit) = insert_line_above(unit, file, start, &comment, enc) {
                        push(
                            &mut out,
                            CodeAction {
                                title: format!("Suppress {} in this function", d.rule),
                                kind: Some(CodeActionKind::QUICKFIX),
                                diagnostics: Some(vec![diag.clone()]),
                                edit: Some(edit),
                                ..CodeAction::default()
                            },
                        );
                    }
                }
            }
        }
    }

    let kind = fix_all_kind();
    if wanted(only, &kind) {
        // Every safe fix of the file, skipping any that overlaps one already taken.
        let mut edits: Vec<adl::Edit> = Vec::new();
        let mut taken: Vec<(u32, Span)> = Vec::new();
        for &di in &unit.by_file[file as usize] {
            for fix in &unit.analysis.diagnostics[di].fixes {
                if fix.applicability != Applicability::Safe {
                    continue;
                }
                let overlaps = fix.edits.iter().any(|e| {
                    taken.iter().any(|(f, s)| {
                        *f == e.location.file
                            && e.location.span.start < s.end
                            && s.start < e.location.span.end
                    })
                });
                if overlaps {
                    continue;
                }
                for e in &fix.edits {
                    taken.push((e.location.file, e.location.span));
                    edits.push(e.clone());
                }
            }
        }
        if !edits.is_empty() {
            if let Some(edit) = workspace_edit(unit, &edits, enc) {
                push(
                    &mut out,
                    CodeAction {
                        title: "Fix all safe adlint findings".to_string(),
                        kind: Some(kind),
                        edit: Some(edit),
                        ..CodeAction::default()
                    },
                );
            }
        }
    }
    out
}
