//! The `non-mutating-variant` builder: a helper that writes into its argument and returns
//! it gets a non-mutating twin, and the differentiated call sites switch to it.

use super::attach::Found;
use super::rebinding::{foreign_mentions, rebinding, written_name, Extent, Rebinding};
use super::tree::{callee_name, is_statement_call, named_children, occurrences};
use super::tree::{every_return, reached_call_sites, FileCx, Occ};
use crate::diagnostic::{Applicability, Edit, Fix, Location};
use crate::facts::{FuncIdx, FunctionKind, Span, Value};
use crate::syntax::KindName;
use tree_sitter::{Node, Tree};

/// `function f!(x) x .= 2 .* x; return x end` gets `f(x) = 2 .* x`, and the call sites in
/// differentiated code call it: `f!(z)` as a statement becomes `z = f(z)`, `f!(z)` inside an
/// expression becomes `f(z)`.
///
/// Unsafe: callers may rely on the argument being modified. The original is never deleted,
/// so other callers keep working.
///
/// It depends on the function and the written variable `var` only, not on which write of
/// `var` the finding is: the driver builds it once for each (`attach::Code::Variable`).
pub(super) fn build(cx: &FileCx, tree: &Tree, func: FuncIdx, var: &str, found: &mut Found) {
    let fdef = &cx.facts.functions[func as usize];
    if fdef.kind != FunctionKind::Named || !fdef.kwparams.is_empty() {
        return;
    }
    let Some(pi) = fdef.param_index(var) else {
        return;
    };
    let Some(fnode) = cx.function_node(tree, func) else {
        return;
    };
    let Some(name) = fdef.name else {
        return;
    };
    let Some(rewrites) = rewrites_of(cx, func, fnode, var) else {
        return;
    };
    let new_name = variant_name(cx, &name);
    let Some(text) = variant_text(cx, fnode, &rewrites, var, &name, &new_name) else {
        return;
    };
    let indent = cx.indent_at(fnode.start_byte());
    let mut edits = vec![cx.edit(
        Span {
            start: fnode.end_byte() as u32,
            end: fnode.end_byte() as u32,
        },
        format!("\n\n{indent}{text}"),
    )];
    if !call_site_edits(cx, func, &name, &new_name, pi, &mut edits) || edits.len() < 2 {
        return;
    }
    let sig_first_line = text.lines().next().unwrap_or("").to_string();
    found.fixes.push(Fix {
        title: format!(
            "Add the non-mutating `{sig_first_line}` and call it from differentiated code"
        ),
        applicability: Applicability::Unsafe,
        edits,
    });
}

/// The bindings that replace the writes into the parameter `var` of `func`, when every
/// write can become one, nothing else touches `var`, and the function returns it.
fn rewrites_of<'t>(
    cx: &FileCx,
    func: FuncIdx,
    fnode: Node<'t>,
    var: &str,
) -> Option<Vec<Rebinding<'t>>> {
    let fdef = &cx.facts.functions[func as usize];
    // Every write into the argument must be rewritable, and nothing else may touch it.
    let writes: Vec<Node> = occurrences(fnode, var, cx.src)
        .into_iter()
        .filter(|o| !fdef.signature.contains(Span::of(o.node)))
        .filter_map(|o| write_statement(o, var, cx.src))
        .collect();
    // A parameter: all that is known of its array is its annotation's dimensions.
    let ndims = fdef.param_index(var).and_then(|i| {
        match crate::facts::type_family(fdef.params[i].annotation.as_deref()?)? {
            crate::facts::TypeFamily::Array(Some(d)) => Some(d as usize),
            _ => None,
        }
    });
    let extent = Extent {
        ndims,
        like: vec![var.to_string()],
        ..Extent::default()
    };
    let mut rewrites: Vec<Rebinding> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for w in writes {
        let r = rebinding(w, var, cx.src, &extent)?;
        if foreign_mentions(&r, var, cx.src, w) {
            return None;
        }
        if r.stmt.parent().map(|p| p.id()) != Some(fnode.id()) {
            return None; // inside a branch or a loop: the rewrite could run zero or many times
        }
        if seen.insert(r.stmt.id()) {
            rewrites.push(r);
        }
    }
    if rewrites.is_empty() {
        return None;
    }
    // Statements of the function's body: disjoint, found in order.
    let rewritten: Vec<Span> = rewrites.iter().map(|r| Span::of(r.stmt)).collect();
    let in_rewrite = |s: Span| {
        let i = rewritten.partition_point(|r| r.start <= s.start);
        i > 0 && rewritten[i - 1].contains(s)
    };
    let nested = cx.nested_spans(func);
    let mut all_ok = true;
    for o in occurrences(fnode, var, cx.src) {
        let s = Span::of(o.node);
        if fdef.signature.contains(s) || in_rewrite(s) {
            continue;
        }
        // Captured by a closure, passed to a `!` function, or written some other way.
        if nested.iter().any(|n| n.contains(s)) || passed_to_mutating(o, cx.src) {
            all_ok = false;
        }
    }
    (all_ok && returns_only(fnode, var, cx.src)).then_some(rewrites)
}

/// The variant: the function's text with the writes replaced by bindings and the name
/// replaced by `new_name`, or a one-line definition when the function is one write and
/// `return`. A short-form function (`f!(x) = ...`) gets none.
fn variant_text(
    cx: &FileCx,
    fnode: Node,
    rewrites: &[Rebinding],
    var: &str,
    name: &str,
    new_name: &str,
) -> Option<String> {
    let base = fnode.start_byte();
    let body_stmts = named_children(fnode)
        .into_iter()
        .filter(|c| c.kind_str() != "signature")
        .collect::<Vec<_>>();
    let is_long = cx.text(fnode).starts_with("function");
    let signature = fnode
        .children(&mut fnode.walk())
        .find(|c| c.kind_str() == "signature" || c.kind_str() == "call_expression")
        .or_else(|| {
            fnode
                .child(0)
                .filter(|c| !is_long && c.kind_str() != "function")
        })?;
    let sig_text = rename_in(cx.text(signature), name, new_name);
    if rewrites.len() == 1
        && body_stmts.len() == 2
        && body_stmts[0].id() == rewrites[0].stmt.id()
        && is_long
    {
        return Some(format!("{sig_text} = {}", rewrites[0].value));
    }
    if !is_long {
        return None;
    }
    let edits: Vec<(Span, String)> = rewrites
        .iter()
        .map(|r| {
            (
                Span {
                    start: (r.stmt.start_byte() - base) as u32,
                    end: (r.stmt.end_byte() - base) as u32,
                },
                format!("{var} = {}", r.value),
            )
        })
        .chain(std::iter::once((
            Span {
                start: (signature.start_byte() - base) as u32,
                end: (signature.end_byte() - base) as u32,
            },
            sig_text.clone(),
        )))
        .collect();
    Some(super::apply_edits(
        cx.text(fnode),
        edits.iter().map(|(s, t)| (*s, t.as_str())).collect(),
    ))
}

/// Push the edits that make the differentiated call sites of `func` call `new_name`; false
/// when one of them cannot (a statement call whose argument is not a local of its caller).
pub(super) fn call_site_edits(
    cx: &FileCx,
    func: FuncIdx,
    name: &str,
    new_name: &str,
    pi: usize,
    edits: &mut Vec<Edit>,
) -> bool {
    for (cf, call) in reached_call_sites(cx, func) {
        let src = &cx.a.workspace.files[cf as usize].text;
        let renamed = format!(
            "{}{}",
            &src[call.callee_span().range()]
                .strip_suffix(name)
                .unwrap_or(""),
            new_name
        );
        let statement = is_statement_call(cx, cf, call.span);
        // `z = f(z)` must bind a local of the calling function: assigning a variable the
        // caller captures from outside would box it.
        let caller_facts = &cx.a.facts[cf as usize];
        let local_to_caller = |arg: &str| {
            caller_facts.functions[call.func as usize]
                .param_index(arg)
                .is_some()
                || caller_facts
                    .assigns
                    .iter()
                    .any(|a| a.func == call.func && a.var == arg)
        };
        match (statement, caller_facts.args(call.args).get(pi)) {
            (true, Some(Value::Ident(arg))) if local_to_caller(arg) => {
                let rest = &src[call.callee_span().end as usize..call.span.end as usize];
                edits.push(Edit {
                    location: Location {
                        file: cf,
                        span: call.span,
                    },
                    replacement: format!("{arg} = {renamed}{rest}"),
                });
            }
            (true, _) => return false,
            (false, _) => edits.push(Edit {
                location: Location {
                    file: cf,
                    span: call.callee_span(),
                },
                replacement: renamed,
            }),
        }
    }
    true
}

/// The statement that writes `var` where `occ` is the written object, if any.
pub(super) fn write_statement<'t>(occ: Occ<'t>, var: &str, src: &str) -> Option<Node<'t>> {
    let p = occ.parent?;
    match p.kind_str() {
        "compound_assignment_expression" if p.child(0)?.id() == occ.node.id() => Some(p),
        "index_expression" if p.named_child(0)?.id() == occ.node.id() => {
            let g = occ.grandparent?;
            (matches!(
                g.kind_str(),
                "assignment" | "compound_assignment_expression"
            ) && g.child(0)?.id() == p.id())
            .then_some(g)
        }
        "argument_list" => {
            let call = occ.grandparent?;
            let first = p.named_child(0)?;
            (call.kind_str() == "call_expression"
                && first.id() == occ.node.id()
                && callee_name(call, src).is_some_and(|c| c.ends_with('!'))
                && written_name(call, src).as_deref() == Some(var))
            .then_some(call)
        }
        _ => None,
    }
}

pub(super) fn passed_to_mutating(occ: Occ, src: &str) -> bool {
    occ.parent
        .filter(|p| p.kind_str() == "argument_list")
        .and(occ.grandparent)
        .and_then(|c| callee_name(c, src))
        .is_some_and(|c| c.ends_with('!'))
}

/// The function returns `var` and nothing else: its last statement is `var` or `return var`,
/// and so is every `return`.
pub(super) fn returns_only(fnode: Node, var: &str, src: &str) -> bool {
    let stmts = named_children(fnode);
    let Some(last) = stmts.last() else {
        return false;
    };
    let is_var = |n: Node| n.kind_str() == "identifier" && &src[n.byte_range()] == var;
    let returns_var = |n: Node| n.named_child(0).is_some_and(is_var);
    let last_ok = is_var(*last) || (last.kind_str() == "return_statement" && returns_var(*last));
    last_ok && every_return(fnode, returns_var)
}

/// `f!` -> `f`, unless the workspace already defines `f` or Base (or a package usually
/// loaded beside Zygote) exports it (`step!` -> `step_nonmutating`, not `step`, which
/// would shadow `Base.step`; the table is `[base_exports]` in the knowledge files); then
/// `f_nonmutating`.
pub(super) fn variant_name(cx: &FileCx, name: &str) -> String {
    let stripped = name.trim_end_matches('!');
    let taken = |n: &str| {
        cx.a.settings.knowledge.is_base_export(n)
            || cx
                .a
                .facts
                .iter()
                .any(|f| f.functions.iter().any(|d| d.name.as_deref() == Some(n)))
    };
    if stripped != name && !taken(stripped) {
        stripped.to_string()
    } else {
        format!("{stripped}_nonmutating")
    }
}

pub(super) fn rename_in(sig: &str, old: &str, new: &str) -> String {
    match sig.find(old) {
        Some(i) => format!("{}{new}{}", &sig[..i], &sig[i + old.len()..]),
        None => sig.to_string(),
    }
}
