//! The `forwarddiff-wrap` builder: the differentiated calls of a mutating helper of one
//! argument become `Zygote.forwarddiff(g, y)`, or the help says why not (what in its body
//! cannot hold dual numbers, an argument that may not be real numbers, random numbers).

use super::attach::Found;
use super::tree::{callee_name, is_statement_call, named_children, reached_call_sites, FileCx};
use crate::diagnostic::{Applicability, Edit, Fix, Location};
use crate::facts::{FileFacts, FuncIdx, FunctionKind, Param, TypeFamily, Value};
use crate::syntax::KindName;
use tree_sitter::{Node, Tree};

/// `g(y)` -> `Zygote.forwarddiff(g, y)` for a helper of one argument that mutates.
///
/// Unsafe: ForwardDiff runs `g` on a copy of `y` made of dual numbers, so `y` itself is no
/// longer modified, the gradient comes from another AD, and it costs one forward pass of
/// `g` per chunk of at most 12 input elements (ForwardDiff's default chunk threshold, which
/// `Zygote.forwarddiff` uses), which the title says. Offered only when:
///
/// - `y` is a real number or an array of them, as its annotation says (`y::Real`,
///   `y::AbstractVector{Float64}`) or as every differentiated call passes (`rand(3)`,
///   `zeros(n)`, a number, a local made by one of them): `Zygote.forwarddiff` seeds dual
///   numbers into reals only, and adlint does not guess;
/// - `g`'s body can take dual numbers (no `Float64` annotation or buffer);
/// - `g` draws no random numbers: each chunk runs `g` again, with other numbers.
///
/// Otherwise the help says what stops it.
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
    if super::rebinding::order_sensitive(fnode, cx.src) {
        found.notes.push(format!(
            "`Zygote.forwarddiff({name}, {param})` is not offered: `{name}` draws random numbers (or prints), and ForwardDiff runs it once per chunk of inputs"
        ));
        return;
    }
    let reals = real_annotation(&fdef.params[0])
        || reached_call_sites(cx, func).all(|(cf, call)| {
            let caller = &cx.a.facts[cf as usize];
            caller
                .args(call.args)
                .first()
                .is_some_and(|v| real_value(caller, call.func, v))
        });
    if !reals {
        found.notes.push(format!(
            "`Zygote.forwarddiff({name}, {param})` is not offered: adlint cannot tell that `{param}` is a real number or an array of them (annotate it, e.g. `{param}::AbstractVector{{<:Real}}`)"
        ));
        return;
    }
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
            "Let ForwardDiff differentiate `{name}`: `Zygote.forwarddiff({name}, {param})` (one forward pass per chunk of at most 12 input elements)"
        ),
        applicability: Applicability::Unsafe,
        edits,
    });
}

/// Real number types as annotations name them (not `Complex`, not `Bool`: ForwardDiff
/// seeds neither).
const REALS: &[&str] = &[
    "Real",
    "AbstractFloat",
    "Float16",
    "Float32",
    "Float64",
    "Integer",
    "Signed",
    "Int",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "Rational",
];

/// `y::Float64`, `y::AbstractVector{<:Real}`, `y::Matrix{Float32}`: a real or an array of
/// reals.
fn real_annotation(p: &Param) -> bool {
    let Some(a) = p.annotation.as_deref() else {
        return false;
    };
    let base = crate::facts::base_type_name(a);
    match crate::facts::type_family(a) {
        Some(TypeFamily::Number) => REALS.contains(&base.as_str()),
        Some(TypeFamily::Array(_)) => a
            .split_once('{')
            .and_then(|(_, rest)| rest.split([',', '}']).next())
            .is_some_and(|elt| REALS.contains(&crate::facts::base_type_name(elt).as_str())),
        _ => false,
    }
}

/// Allocations whose result is an array of `Float64` when given only dimensions.
const FLOAT_MAKERS: &[&str] = &["rand", "randn", "zeros", "ones"];

/// A value known to be a real or an array of reals: a number, `rand(n)`, `zeros(m, n)`,
/// a local of `func` bound once to one of them, or a parameter annotated as one.
fn real_value(facts: &FileFacts, func: FuncIdx, v: &Value) -> bool {
    match v {
        Value::Number => true,
        Value::Call { callee, args } => {
            // Dimensions only: `rand(Bool, 3)` or `zeros(Int, n)` name an element type.
            callee.last().is_some_and(|c| FLOAT_MAKERS.contains(&&**c))
                && facts.args(*args).iter().all(|a| match a {
                    Value::Number | Value::Computed | Value::Call { .. } => true,
                    Value::Ident(n) => !n.starts_with(char::is_uppercase),
                    _ => false,
                })
        }
        Value::Ident(n) => {
            let fdef = &facts.functions[func as usize];
            if let Some(i) = fdef.param_index(n) {
                return real_annotation(&fdef.params[i]);
            }
            let binds: Vec<_> = (facts.assigns.iter())
                .filter(|a| a.func == func && a.var == *n)
                .collect();
            matches!(binds.as_slice(), [one] if one.kind == crate::facts::AssignKind::Plain
                && matches!(one.value, Value::Call { .. } | Value::Number)
                && real_value(facts, func, &one.value))
        }
        _ => false,
    }
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
