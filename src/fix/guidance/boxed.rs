//! Guidance for `boxed-variable`: a `let` copy when the closure is made after the last
//! re-binding (it then sees the same value), else a `Ref` that the closure and the
//! re-bindings share (the closure then sees every new value, as the box did).

use super::{one_line, ONE_LINE};
use crate::diagnostic::Diagnostic;
use crate::facts::{AssignKind, Span};
use crate::fix::tree::{occurrences, FileCx};
use crate::syntax::KindName;
use tree_sitter::{Node, Tree};

/// A boxed capture, rewritten so that the closure computes what it computed with the box:
///
/// - every assignment of the variable comes before the closure is made, outside any loop
///   and outside the closure: `f = let s = s; () -> s + x end` captures the final value,
///   which is what the box held whenever the closure ran;
/// - otherwise (a re-binding after the closure is made, or inside it) the closure sees the
///   value at the time it runs, which a `let` copy would freeze (changing the result) and
///   an assignment inside the closure would box again: make the variable a `Ref`,
///   `s = Ref(0.0)`, and read and write `s[]` (`() -> s[] + x`, `s[] = 1.0`). Zygote
///   differentiates through a `Ref` (zygote-semantics.md §8 row 17).
pub(in crate::fix) fn build(cx: &FileCx, tree: &Tree, d: &Diagnostic) -> Option<String> {
    let (var, capture) = d.related.iter().find_map(|r| {
        let rest = r.message.strip_prefix('`')?;
        let (var, tail) = rest.split_once('`')?;
        tail.starts_with(" is captured here")
            .then(|| (var.to_string(), r.location.span))
    })?;
    let closure = cx
        .facts
        .functions
        .iter()
        .filter(|f| f.kind.is_closure() && f.span.contains(capture))
        .min_by_key(|f| f.span.end - f.span.start)?;
    let outer = closure.parent.get()?;
    // The guidance quotes the closure on one line: look no further at a longer one (each
    // finding of closures nested thousands deep looked its node up from the root).
    if closure.span.end - closure.span.start > 2 * ONE_LINE as u32 {
        return None;
    }
    let closure_node = cx.site_node(tree, closure.span)?;
    let closure_text = one_line(cx.text(closure_node))?;
    let outer_span = cx.facts.functions[outer as usize].span;
    let assigns: Vec<_> = (cx.facts.assigns.iter())
        .filter(|a| a.var == var && outer_span.contains(a.span))
        .filter(|a| !matches!(a.kind, AssignKind::Declaration { .. }))
        .collect();
    let frozen_is_same = !assigns.is_empty()
        && assigns
            .iter()
            .all(|a| a.span.end <= closure.span.start && !a.in_loop && a.func == outer);
    let named = |form: String| match closure_node.parent() {
        Some(p)
            if p.kind_str() == "assignment"
                && p.child(0).is_some_and(|l| l.kind_str() == "identifier") =>
        {
            Some(format!("`{} = {form}`", cx.text(p.child(0)?)))
        }
        _ => Some(format!("`{form}`")),
    };
    if frozen_is_same {
        let form = named(format!("let {var} = {var}; {closure_text} end"))?;
        return Some(format!(
            "capture a copy that is never re-bound: {form} (the closure is made after the last assignment of `{var}`, so it sees the same value)"
        ));
    }
    // The first plain assignment makes the `Ref`.
    let first = assigns
        .iter()
        .filter(|a| a.kind == AssignKind::Plain && a.func == outer)
        .min_by_key(|a| a.span.start)?;
    let first_node = crate::fix::rebind_local::def_node(tree, first.span)?;
    let init = first_node.named_child(first_node.named_child_count().checked_sub(1)? as u32)?;
    let init = one_line(cx.text(init))?;
    let closure_ref = one_line(&with_ref(cx, closure_node, &var))?;
    let form = named(closure_ref)?;
    let site = cx.site_node(tree, d.location.span)?;
    let site_text = matches!(
        site.kind_str(),
        "assignment" | "compound_assignment_expression"
    )
    .then(|| one_line(&with_ref(cx, site, &var)))
    .flatten()
    .map(|t| format!(", `{t}`"))
    .unwrap_or_default();
    Some(format!(
        "keep one `{var}` that the closure and the re-bindings share, without a box: make it a `Ref`, `{var} = Ref({init})`, and read and write `{var}[]`: {form}{site_text} (a `let` copy would freeze the value the closure sees and change the result)"
    ))
}

/// The text of `n` with every mention of `var` read through the `Ref`: `var[]`.
fn with_ref(cx: &FileCx, n: Node, var: &str) -> String {
    let base = n.start_byte();
    let edits: Vec<(Span, &str)> = occurrences(n, var, cx.src)
        .into_iter()
        .map(|o| {
            let s = Span::of(o.node);
            (
                Span {
                    start: s.start - base as u32,
                    end: s.end - base as u32,
                },
                "",
            )
        })
        .collect();
    let replacement = format!("{var}[]");
    crate::fix::apply_edits(
        cx.text(n),
        edits
            .into_iter()
            .map(|(s, _)| (s, replacement.as_str()))
            .collect(),
    )
}
