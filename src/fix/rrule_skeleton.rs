//! The `rrule-skeleton` builder: a `ChainRulesCore.rrule` for the named function around a
//! finding, with a placeholder tangent per differentiable argument, or
//! `@non_differentiable` when it has no differentiable input; for an in-place function
//! that returns `nothing`, the rule is on a non-mutating twin.

use super::attach::Found;
use super::non_mutating_variant::{call_site_edits, variant_name, write_statement};
use super::tree::{every_return, named_children, occurrences, reached_call_sites, FileCx};
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::facts::{AssignKind, FuncIdx, Function, FunctionKind, Span, Value};
use crate::syntax::KindName;
use tree_sitter::{Node, Tree};

/// The function the skeleton is for: the named function around `func` (a closure's code
/// belongs to it); none at a top level or in a functor's call method.
pub(super) fn owner(cx: &FileCx, func: FuncIdx) -> Option<FuncIdx> {
    let mut cur = Some(func);
    while let Some(f) = cur {
        let def = &cx.facts.functions[f as usize];
        if def.kind == FunctionKind::Named {
            return Some(f);
        }
        if matches!(
            def.kind,
            FunctionKind::TopLevel | FunctionKind::Functor { .. }
        ) {
            return None;
        }
        cur = def.parent.get();
    }
    None
}

/// A `ChainRulesCore.rrule` for the function around the site, with the primal call, a
/// named pullback returning `NoTangent()` for the function and a marked placeholder per
/// argument; or `@non_differentiable` when the output does not depend on the arguments.
///
/// An argument gets `NoTangent()` instead of a placeholder when it has no derivative
/// ([`no_tangent`]): an integer, a `Bool` or a random number generator by its annotation,
/// or a named top-level function (or a `Bool`, or a generator) at every differentiated
/// call. A closure argument keeps its placeholder: it may carry differentiable state. A
/// function none of whose arguments is differentiable gets `@non_differentiable`.
///
/// An in-place function that returns `nothing` (`f!(out, x)` writing `out`) has no
/// output to pull back through, and ChainRules cannot express a rule for a mutation: the
/// skeleton defines the non-mutating twin `f(out, x)`, which writes a copy of `out` and
/// returns it, with the rule on the twin, and the differentiated call sites call it
/// (`f!(out, x)` becomes `out = f(out, x)`).
///
/// Display-only in the CLI: the pullback's math must be written by hand, and a wrong
/// `@non_differentiable` silently zeroes gradients. The editor offers it as a code action.
///
/// `func` is [`owner`]'s answer, so that the findings of many closures in one function
/// share one skeleton.
pub(super) fn build(cx: &FileCx, tree: &Tree, func: FuncIdx, found: &mut Found) {
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
    let none: Vec<Option<&'static str>> = (0..fdef.params.len())
        .map(|i| no_tangent(cx, func, i))
        .collect();
    let indent = cx.indent_at(fnode.start_byte()).to_string();
    let mutated = in_place_returning_nothing(cx, fdef, fnode, &names);
    let mut call_edits = Vec::new();
    let (title, body) = if let Some(pi) = mutated {
        let twin = variant_name(cx, &base);
        let qualified = full_name.strip_suffix(&*base).unwrap_or("").to_string() + &twin;
        if !call_site_edits(cx, func, &base, &twin, pi, &mut call_edits) {
            call_edits.clear();
        }
        let (_, rule) = rrule(fdef, &names, &none, &qualified, &twin);
        let twin_def = twin_text(fdef, &names, &full_name, &twin, pi);
        (
            format!(
                "Define the non-mutating `{twin}` (it returns `{}` instead of `nothing`) and a `ChainRulesCore.rrule` for it (skeleton)",
                names[pi]
            ),
            format!("{twin_def}\n\n{rule}"),
        )
    } else if !fdef.params.is_empty() && (!uses_args || none.iter().all(Option::is_some)) {
        non_differentiable(fdef, &full_name, &none, uses_args)
    } else {
        rrule(fdef, &names, &none, &full_name, &base)
    };
    let body = body.replace('\n', &format!("\n{indent}"));
    let mut edits = vec![cx.edit(
        Span {
            start: fnode.end_byte() as u32,
            end: fnode.end_byte() as u32,
        },
        format!("\n\n{indent}{body}"),
    )];
    edits.extend(call_edits);
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
/// arguments, or none of whose arguments is differentiable: (title, text).
fn non_differentiable(
    fdef: &Function,
    full_name: &str,
    none: &[Option<&str>],
    uses_args: bool,
) -> (String, String) {
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
    let why = if uses_args {
        let mut kinds: Vec<&str> = none.iter().flatten().copied().collect();
        kinds.sort();
        kinds.dedup();
        format!(
            "none of its arguments is differentiable: {}",
            kinds.join(", ")
        )
    } else {
        "its result does not depend on its arguments".to_string()
    };
    (
        format!("Mark `{full_name}` as `@non_differentiable` ({why})"),
        format!(
            "ChainRulesCore.@non_differentiable {full_name}({})",
            sig.join(", ")
        ),
    )
}

/// Annotations of arguments that have no derivative, with what they are.
const NO_TANGENT_TYPES: &[(&str, &str)] = &[
    ("Integer", "an integer"),
    ("Signed", "an integer"),
    ("Unsigned", "an integer"),
    ("Int", "an integer"),
    ("Int8", "an integer"),
    ("Int16", "an integer"),
    ("Int32", "an integer"),
    ("Int64", "an integer"),
    ("Int128", "an integer"),
    ("UInt", "an integer"),
    ("UInt8", "an integer"),
    ("UInt16", "an integer"),
    ("UInt32", "an integer"),
    ("UInt64", "an integer"),
    ("Bool", "a `Bool`"),
    ("AbstractRNG", "a random number generator"),
    ("MersenneTwister", "a random number generator"),
    ("Xoshiro", "a random number generator"),
    ("TaskLocalRNG", "a random number generator"),
    ("RandomDevice", "a random number generator"),
];

/// Constructors of random number generators, as a call site may pass them.
const RNG_MAKERS: &[&str] = &[
    "MersenneTwister",
    "Xoshiro",
    "TaskLocalRNG",
    "RandomDevice",
    "default_rng",
];

/// Why argument `i` of `func` has no tangent (an integer, a `Bool`, a random number
/// generator, a named function), or `None` when it may have one. From its annotation, or
/// else from every differentiated call site (there must be one), which must pass a `Bool`,
/// a generator, or the name of a top-level function (not a closure, not a local).
fn no_tangent(cx: &FileCx, func: FuncIdx, i: usize) -> Option<&'static str> {
    let p = &cx.facts.functions[func as usize].params[i];
    if p.vararg {
        return None;
    }
    if let Some(a) = p.annotation.as_deref() {
        let base = crate::facts::base_type_name(a);
        if a.trim().starts_with("typeof(") {
            return Some("a named function");
        }
        return NO_TANGENT_TYPES
            .iter()
            .find(|(t, _)| *t == base)
            .map(|(_, why)| *why);
    }
    let mut whys = reached_call_sites(cx, func).map(|(cf, call)| {
        let caller = &cx.a.facts[cf as usize];
        if call.has_splat {
            return None;
        }
        match caller.args(call.args).get(i)? {
            Value::Bool(_) => Some("a `Bool`"),
            Value::Call { callee, .. }
                if callee.last().is_some_and(|c| RNG_MAKERS.contains(&&**c)) =>
            {
                Some("a random number generator")
            }
            Value::Ident(n) => {
                let local = caller.functions[call.func as usize]
                    .param_index(n)
                    .is_some()
                    || caller.assigns.iter().any(|a| {
                        a.var == *n
                            && caller.functions[a.func as usize].span.contains(call.span)
                            && a.kind != AssignKind::Default
                    });
                // A workspace function defined at the top level, or a Base one (`sin`).
                let base_function = n.starts_with(char::is_lowercase)
                    && cx.a.settings.knowledge.is_known(n)
                    && !cx
                        .a
                        .facts
                        .iter()
                        .any(|f| f.assigns.iter().any(|a| a.var == *n));
                let named_function = base_function
                    || cx.a.facts.iter().any(|f| {
                        f.functions.iter().any(|d| {
                            d.kind == FunctionKind::Named
                                && d.name.as_deref() == Some(&**n)
                                && d.parent.get().is_none_or(|p| {
                                    f.functions[p as usize].kind == FunctionKind::TopLevel
                                })
                        })
                    });
                (!local && named_function).then_some("a named function")
            }
            _ => None,
        }
    });
    let first = whys.next()??;
    whys.all(|w| w == Some(first)).then_some(first)
}

/// The index of the argument an in-place function (`f!`) writes when it returns `nothing`
/// (its last statement and every `return` are `nothing` or bare).
fn in_place_returning_nothing(
    cx: &FileCx,
    fdef: &Function,
    fnode: Node,
    names: &[String],
) -> Option<usize> {
    let base = fdef.name.as_deref()?;
    if !base.ends_with('!') || !fdef.kwparams.is_empty() || fdef.params.iter().any(|p| p.vararg) {
        return None;
    }
    let is_nothing = |n: Node| {
        (n.kind_str() == "identifier" && cx.text(n) == "nothing")
            || (n.kind_str() == "return_statement"
                && n.named_child(0)
                    .is_none_or(|v| v.kind_str() == "identifier" && cx.text(v) == "nothing"))
    };
    let last = *named_children(fnode).last()?;
    if !is_nothing(last) {
        return None;
    }
    if !every_return(fnode, is_nothing) {
        return None;
    }
    names.iter().position(|n| {
        occurrences(fnode, n, cx.src)
            .into_iter()
            .filter(|o| !fdef.signature.contains(Span::of(o.node)))
            .any(|o| write_statement(o, n, cx.src).is_some())
    })
}

/// `function f(out, x) out = copy(out); f!(out, x); return out end`: the twin that writes
/// a copy of argument `pi` and returns it.
fn twin_text(fdef: &Function, names: &[String], full_name: &str, twin: &str, pi: usize) -> String {
    let sig: Vec<String> = (fdef.params.iter().zip(names))
        .map(|(p, n)| match &p.annotation {
            Some(a) => format!("{n}::{a}"),
            None => n.clone(),
        })
        .collect();
    let out = &names[pi];
    format!(
        "function {twin}({})\n    {out} = copy({out})\n    {full_name}({})\n    return {out}\nend",
        sig.join(", "),
        names.join(", ")
    )
}

/// The `rrule` skeleton with its pullback, `names` being the parameters' names (`arg1`
/// for an unnamed one): (title, text).
fn rrule(
    fdef: &Function,
    names: &[String],
    none: &[Option<&str>],
    full_name: &str,
    base: &str,
) -> (String, String) {
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
    for ((p, n), why) in fdef.params.iter().zip(names).zip(none) {
        if let Some(why) = why {
            s.push_str(&format!(
                "        ∂{n} = ChainRulesCore.NoTangent()  # {why}: no derivative\n"
            ));
            tangents.push(format!("∂{n}"));
            continue;
        }
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
