//! Guidance for `boxed-variable`: capture a `let` copy, or re-bind under a fresh name.

use super::one_line;
use crate::diagnostic::Diagnostic;
use crate::fix::tree::FileCx;
use crate::syntax::KindName;
use tree_sitter::Tree;

/// A boxed capture: capture a `let` copy, or re-bind under a fresh name.
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
    let closure_node = cx.site_node(tree, closure.span)?;
    let closure_text = one_line(cx.text(closure_node))?;
    let let_form = match closure_node.parent() {
        Some(p)
            if p.kind_str() == "assignment"
                && p.child(0).is_some_and(|l| l.kind_str() == "identifier") =>
        {
            let name = cx.text(p.child(0)?);
            format!("`{name} = let {var} = {var}; {closure_text} end`")
        }
        _ => format!("`let {var} = {var}; {closure_text} end`"),
    };
    let site = cx.site_node(tree, d.location.span)?;
    let fresh = if site.kind_str() == "assignment"
        && site.child(0).is_some_and(|l| cx.text(l) == var)
    {
        let rhs = site.named_child(site.named_child_count().checked_sub(1)? as u32)?;
        one_line(cx.text(rhs)).map(|v| {
            format!(", or give the re-bound value a fresh name: `{var}2 = {v}`, and use `{var}2` after it")
        })
    } else {
        None
    };
    Some(format!(
        "capture a copy that is never re-bound: {let_form}{}",
        fresh.unwrap_or_default()
    ))
}
