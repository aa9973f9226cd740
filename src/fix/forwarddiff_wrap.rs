//! The `forwarddiff-wrap` builder: the differentiated calls of a mutating helper of one
//! argument become `Zygote.forwarddiff(g, y)`, or the help says what in its body cannot
//! hold dual numbers.

use super::attach::Found;
use super::tree::{callee_name, is_statement_call, named_children, reached_call_sites, FileCx};
use crate::diagnostic::{Applicability, Edit, Fix, Location};
use crate::facts::{FuncIdx, FunctionKind, Value};
use crate::syntax::KindName;
use tree_sitter::{Node, Tree};

/// `g(y)` -> `Zygote.forwarddiff(g, y)` for a helper of one argument that mutates.
///
/// Unsafe: ForwardDiff runs `g` on a copy of `y` made of dual numbers, so `y` itself is no
/// longer modified, and the gradient costs one pass per input element. Offered only when
/// `g`'s body can take dual numbers; otherwise the help says what stops it.
pub(super) fn build(cx: &FileCx, tree: &Tree, func: FuncIdx, found: &mut Found) {
    let fdef = &cx.facts.functions[func as usize];
    if fdef.kind != FunctionKind::Named || fdef.params.len() != 1 || !fdef.kwparams.is_empty() {
        return;
    }
    let Some(name) = fdef.name else {
        return;
    };
    let Some(fnode) = cx.function_node(tree, func) else {
        return;
    };
    let param = fdef.params[0].name.unwrap_or_else(|| "y".into());
    let blockers = dual_blockers(fnode, cx.src);
    if !blockers.is_empty() {
        found.notes.push(format!(
            "`Zygote.forwarddiff({name}, {param})` is not offered: {} cannot hold dual numbers",
            blockers.join(", ")
        ));
        return;
    }
    let mut edits = Vec::new();
    for (cf, call) in reached_call_sites(cx, func) {
        if call.args.len() != 1 || !call.kwargs.is_empty() || call.has_splat || call.broadcast {
            continue;
        }
        let src = &cx.a.workspace.files[cf as usize].text;
        let callee = &src[call.callee_span().range()];
        let args = &src[call.callee_span().end as usize..call.span.end as usize];
        let Some(inner) = args.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
            continue;
        };
        let wrapped = format!("Zygote.forwarddiff({callee}, {})", inner.trim());
        // As a statement the call was run for its effect on the argument: keep the result
        // under the argument's name, which must be a local of the caller.
        let replacement = if is_statement_call(cx, cf, call.span) {
            let caller = &cx.a.facts[cf as usize];
            match &caller.args(call.args)[0] {
                Value::Ident(arg)
                    if caller.functions[call.func as usize]
                        .param_index(arg)
                        .is_some()
                        || caller
                            .assigns
                            .iter()
                            .any(|a| a.func == call.func && a.var == *arg) =>
                {
                    format!("{arg} = {wrapped}")
                }
                _ => continue,
            }
        } else {
            wrapped
        };
        edits.push(Edit {
            location: Location {
                file: cf,
                span: call.span,
            },
            replacement,
        });
    }
    if edits.is_empty() {
        return;
    }
    found.fixes.push(Fix {
        title: format!(
            "Let ForwardDiff differentiate `{name}`: `Zygote.forwarddiff({name}, {param})`"
        ),
        applicability: Applicability::Unsafe,
        edits,
    });
}

/// What in a function body would reject dual numbers: `Float64` annotations and
/// conversions, and buffers allocated with the default element type `Float64`.
pub(super) fn dual_blockers(fnode: Node, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![fnode];
    while let Some(n) = stack.pop() {
        let text = &src[n.byte_range()];
        match n.kind_str() {
            "identifier" if matches!(text, "Float64" | "Float32" | "Float16") => {
                let p = n.parent().map(|p| &src[p.byte_range()]).unwrap_or(text);
                out.push(format!(
                    "`{}` (a `{text}` annotation or buffer)",
                    first_line(p)
                ));
            }
            "call_expression" => {
                let name = callee_name(n, src).unwrap_or("");
                let first = n
                    .named_child(1)
                    .and_then(|a| named_children(a).into_iter().next());
                let typed = first.is_some_and(|f| {
                    let t = &src[f.byte_range()];
                    t.starts_with("eltype")
                        || t.starts_with("typeof")
                        || t.chars().next().is_some_and(char::is_uppercase)
                });
                let untyped_buffer = match name {
                    "zeros" | "ones" | "rand" | "randn" => !typed,
                    "fill" => first.is_some_and(|f| f.kind_str() == "float_literal"),
                    _ => false,
                };
                if untyped_buffer {
                    out.push(format!("`{}` (a `Float64` buffer)", first_line(text)));
                    continue;
                }
            }
            _ => {}
        }
        stack.extend(crate::syntax::children(n));
    }
    out.sort();
    out.dedup();
    out
}

pub(super) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
