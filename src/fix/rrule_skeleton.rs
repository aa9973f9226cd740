//! The `rrule-skeleton` builder: a `ChainRulesCore.rrule` for the named function around a
//! finding, with a placeholder tangent per argument, or `@non_differentiable` when its
//! result does not depend on its arguments.

use super::attach::Found;
use super::tree::{occurrences, FileCx};
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::facts::{FuncIdx, Function, FunctionKind, Span};
use tree_sitter::{Node, Tree};

/// A `ChainRulesCore.rrule` for the function around the site, with the primal call, a
/// named pullback returning `NoTangent()` for the function and a marked placeholder per
/// argument; or `@non_differentiable` when the output does not depend on the arguments.
///
/// Display-only in the CLI: the pullback's math must be written by hand, and a wrong
/// `@non_differentiable` silently zeroes gradients. The editor offers it as a code action.
pub(super) fn build(cx: &FileCx, tree: &Tree, func: FuncIdx, found: &mut Found) {
    // The named function around the site (a closure's code belongs to it).
    let mut cur = Some(func);
    let mut named = None;
    while let Some(f) = cur {
        let def = &cx.facts.functions[f as usize];
        if def.kind == FunctionKind::Named {
            named = Some(f);
            break;
        }
        if matches!(
            def.kind,
            FunctionKind::TopLevel | FunctionKind::Functor { .. }
        ) {
            return;
        }
        cur = def.parent.get();
    }
    let Some(func) = named else { return };
    let fdef = &cx.facts.functions[func as usize];
    let Some(fnode) = cx.function_node(tree, func) else {
        return;
    };
    let full_name = fdef.display_name(cx.facts);
    let base = fdef.name.unwrap_or_default();
    let names: Vec<String> = fdef
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| match p.name {
            Some(n) => n.to_string(),
            None => format!("arg{}", i + 1),
        })
        .collect();
    let uses_args = names.iter().zip(&fdef.params).any(|(n, p)| {
        p.name.is_none()
            || occurrences(fnode, n, cx.src)
                .iter()
                .any(|o| !fdef.signature.contains(Span::of(o.node)))
    }) || !fdef.kwparams.is_empty();
    let indent = cx.indent_at(fnode.start_byte()).to_string();
    let (title, body) = if !uses_args && !fdef.params.is_empty() {
        non_differentiable(fdef, &full_name)
    } else {
        rrule(fdef, &names, &full_name, &base)
    };
    let body = body.replace('\n', &format!("\n{indent}"));
    let mut edits = vec![cx.edit(
        Span {
            start: fnode.end_byte() as u32,
            end: fnode.end_byte() as u32,
        },
        format!("\n\n{indent}{body}"),
    )];
    let imported = cx.a.facts.iter().any(|f| {
        f.imports
            .iter()
            .any(|i| i.path.first().is_some_and(|p| p == "ChainRulesCore"))
    });
    if !imported {
        edits.insert(0, import_edit(cx, fnode));
    }
    found.fixes.push(Fix {
        title,
        applicability: Applicability::DisplayOnly,
        edits,
    });
}

/// `@non_differentiable f(::T, ...)`, for a function whose result does not depend on its
/// arguments: (title, text).
fn non_differentiable(fdef: &Function, full_name: &str) -> (String, String) {
    let sig: Vec<String> = fdef
        .params
        .iter()
        .map(|p| {
            let ann = p.annotation.as_deref().unwrap_or("Any");
            if p.vararg {
                format!("::{ann}...")
            } else {
                format!("::{ann}")
            }
        })
        .collect();
    (
        format!("Mark `{full_name}` as `@non_differentiable` (its result does not depend on its arguments)"),
        format!("ChainRulesCore.@non_differentiable {full_name}({})", sig.join(", ")),
    )
}

/// The `rrule` skeleton with its pullback, `names` being the parameters' names (`arg1`
/// for an unnamed one): (title, text).
fn rrule(fdef: &Function, names: &[String], full_name: &str, base: &str) -> (String, String) {
    let sig: Vec<String> = fdef
        .params
        .iter()
        .zip(names)
        .map(|(p, n)| {
            let mut s = n.clone();
            if let Some(a) = &p.annotation {
                s.push_str("::");
                s.push_str(a);
            }
            if p.vararg {
                s.push_str("...");
            }
            s
        })
        .collect();
    let call_args: Vec<String> = fdef
        .params
        .iter()
        .zip(names)
        .map(|(p, n)| {
            if p.vararg {
                format!("{n}...")
            } else {
                n.clone()
            }
        })
        .collect();
    let kw = if fdef.kwparams.is_empty() {
        ""
    } else {
        "; kwargs..."
    };
    let pb = format!("{}_pullback", base.trim_end_matches('!'));
    let mut s = format!(
        "function ChainRulesCore.rrule(::typeof({full_name}){}{}{kw})\n",
        if sig.is_empty() { "" } else { ", " },
        sig.join(", ")
    );
    s.push_str(&format!(
        "    Ω = {full_name}({}{kw})\n",
        call_args.join(", ")
    ));
    s.push_str(&format!("    function {pb}(ΔΩ)\n"));
    s.push_str(
        "        # adlint: replace each placeholder by the argument's tangent (ΔΩ times ∂Ω/∂arg)\n",
    );
    let mut tangents = vec!["ChainRulesCore.NoTangent()".to_string()];
    for (p, n) in fdef.params.iter().zip(names) {
        let placeholder = format!(
            "ChainRulesCore.@not_implemented(\"adlint: tangent of `{n}` for `{full_name}`\")"
        );
        if p.vararg {
            s.push_str(&format!("        ∂{n} = map(_ -> {placeholder}, {n})\n"));
            tangents.push(format!("∂{n}..."));
        } else {
            s.push_str(&format!("        ∂{n} = {placeholder}\n"));
            tangents.push(format!("∂{n}"));
        }
    }
    s.push_str(&format!("        return ({})\n", tangents.join(", ")));
    s.push_str("    end\n");
    s.push_str(&format!("    return Ω, {pb}\n"));
    s.push_str("end");
    (
        format!("Define a `ChainRulesCore.rrule` for `{full_name}` (skeleton)"),
        s,
    )
}

/// `import ChainRulesCore` after the last top-level `using`/`import` (of the file or of a
/// module) before the function, or on its own line above the function.
pub(super) fn import_edit(cx: &FileCx, fnode: Node) -> Edit {
    let last = cx
        .facts
        .imports
        .iter()
        .map(|i| i.span)
        .filter(|s| s.start < fnode.start_byte() as u32 && cx.facts.chunks.binary_search(s).is_ok())
        .max_by_key(|s| s.end);
    match last {
        Some(l) => {
            let indent = cx.indent_at(l.start as usize);
            cx.edit(
                Span {
                    start: l.end,
                    end: l.end,
                },
                format!("\n{indent}import ChainRulesCore"),
            )
        }
        None => {
            let line_start = cx.src[..fnode.start_byte()]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let indent = cx.indent_at(fnode.start_byte());
            cx.edit(
                Span {
                    start: line_start as u32,
                    end: line_start as u32,
                },
                format!("{indent}import ChainRulesCore\n\n"),
            )
        }
    }
}
