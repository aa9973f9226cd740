//! Guidance for `try-catch`: test for the failing case first and return the sentinel.

use super::one_line;
use crate::fix::tree::{callee_name, named_children, paren, FileCx};
use crate::syntax::KindName;
use tree_sitter::Node;

/// `try e catch; s end` -> check the failing case first and return the sentinel.
pub(in crate::fix) fn build(cx: &FileCx, node: Node) -> Option<String> {
    let t = if node.kind_str() == "try_statement" {
        node
    } else {
        let mut n = node;
        while n.kind_str() != "try_statement" {
            n = n.parent()?;
        }
        n
    };
    let kids = named_children(t);
    let body: Vec<Node> = kids
        .iter()
        .copied()
        .take_while(|c| !matches!(c.kind_str(), "catch_clause" | "finally_clause"))
        .collect();
    let catch = kids.iter().find(|c| c.kind_str() == "catch_clause")?;
    let handler: Vec<Node> = named_children(*catch)
        .into_iter()
        .filter(|c| c.kind_str() != "identifier" || c.start_byte() > catch.start_byte() + 6)
        .collect();
    let [tried] = body.as_slice() else {
        return None;
    };
    let [fallback] = handler.as_slice() else {
        return None;
    };
    let tried_text = one_line(cx.text(*tried))?;
    let fallback = one_line(cx.text(*fallback))?;
    // The common domain errors have a known condition.
    let condition = (tried.kind_str() == "call_expression")
        .then(|| {
            let name = callee_name(*tried, cx.src)?;
            let args = named_children(tried.named_child(1)?);
            let [arg] = args.as_slice() else { return None };
            let a = paren(*arg, cx.src);
            match name {
                "sqrt" => Some(format!("{a} < 0")),
                "log" | "log2" | "log10" => Some(format!("{a} <= 0")),
                "asin" | "acos" => Some(format!("abs({a}) > 1")),
                _ => None,
            }
        })
        .flatten();
    if let Some(c) = condition {
        return Some(format!(
            "return the sentinel without try/catch by testing for the failing case first: `{c} ? {fallback} : {tried_text}`; or move the try/catch into a helper with a `ChainRulesCore.rrule`"
        ));
    }
    // No known condition: no made-up one either. The helper is real code when the tried
    // expression is a call of plain names.
    let helper = (tried.kind_str() == "call_expression")
        .then(|| {
            let name = callee_name(*tried, cx.src)?;
            let args = named_children(tried.named_child(1)?);
            let names: Vec<&str> = args
                .iter()
                .map(|a| (a.kind_str() == "identifier").then(|| cx.text(*a)))
                .collect::<Option<_>>()?;
            let helper = format!("{}_or_fallback", name.trim_end_matches('!'));
            Some(format!(
                ": `{helper}({}) = try {tried_text} catch; {fallback} end`, and call `{helper}({})`",
                names.join(", "),
                names.join(", ")
            ))
        })
        .flatten()
        .unwrap_or_default();
    Some(format!(
        "return the sentinel without try/catch: test before `{tried_text}` for the inputs on which it throws, and return `{fallback}` for them; or move the try/catch into a helper with a `ChainRulesCore.rrule`{helper}"
    ))
}
