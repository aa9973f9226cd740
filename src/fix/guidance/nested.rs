//! Guidance for `nested-ad`: the inner derivative by ForwardDiff, or `Zygote.hessian`.

use super::one_line;
use crate::facts::FuncIdx;
use crate::fix::tree::FileCx;
use crate::syntax::KindName;
use tree_sitter::Node;

/// `gradient(x -> gradient(f, x)[1], x)`: the inner derivative by ForwardDiff, or
/// `Zygote.hessian` for the whole second derivative.
pub(in crate::fix) fn build(cx: &FileCx, node: Node) -> Option<String> {
    if node.kind_str() != "call_expression" {
        return None;
    }
    let callee = node.named_child(0)?;
    let name = cx.text(callee).rsplit('.').next()?.to_string();
    let args = cx.text(node.named_child(1)?);
    // Zygote returns a tuple, ForwardDiff the derivative itself: `gradient(f, x)[1]`
    // becomes `ForwardDiff.gradient(f, x)`.
    let whole = node
        .parent()
        .filter(|p| {
            p.kind_str() == "index_expression"
                && p.named_child(1).is_some_and(|i| cx.text(i) == "[1]")
        })
        .unwrap_or(node);
    let call = one_line(cx.text(whole))?;
    // ForwardDiff inside Zygote leaves what a closure captures without a gradient
    // (zygote-semantics.md §5.3): only `Zygote.hessian` for a capturing closure.
    let f = node.named_child(1)?.named_child(0)?;
    let captures = (cx.facts.functions.iter().enumerate()).any(|(i, def)| {
        def.span == crate::facts::Span::of(f) && cx.facts.captures_parent_locals(i as FuncIdx)
    });
    if captures {
        return Some(format!(
            "compute the second derivative with `Zygote.hessian` (forward over reverse) instead of `{call}` inside a gradient; `ForwardDiff` for the inner derivative alone would give the variables its closure captures no gradient"
        ));
    }
    let forward = match name.as_str() {
        "gradient" => format!(
            "`ForwardDiff.gradient{args}` (or `ForwardDiff.derivative{args}` when the argument is a number)"
        ),
        "jacobian" | "derivative" | "hessian" => format!("`ForwardDiff.{name}{args}`"),
        _ => return None,
    };
    Some(format!(
        "take the inner derivative with forward mode: replace `{call}` by {forward}; ForwardDiff over Zygote is well supported. For a full second derivative, call `Zygote.hessian` once instead"
    ))
}
