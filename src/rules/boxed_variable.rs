//! `boxed-variable`: a local captured by a closure that Julia's lowering puts in a
//! `Core.Box`, in differentiated code.

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, Location, Related, Severity};
use crate::facts::{AssignKind, FileFacts, FuncIdx, FunctionKind, Span};
use crate::index::FuncRef;
use std::collections::BTreeMap;

pub struct BoxedVariable;

const DOCS: &str = r#"## What it does
Reports a local variable that a closure captures and that Julia boxes, when the closure is
differentiated or runs inside differentiated code. Closures are `x -> ...`, do-blocks,
inner functions, comprehensions and generators, and the bodies of `Threads.@threads`,
`@spawn` and `@async`. Julia's lowering boxes a captured local unless it is assigned
exactly once (an argument counts as assigned) and that assignment comes before every
capture in the same block: a variable assigned again anywhere, assigned inside the closure,
or assigned only inside an `if`, loop or `try` that does not contain the closure is boxed.
The finding points at the re-binding that makes Julia box the variable; the capture and
the other assignments are related information.

## Why is this bad
A boxed variable is a `Core.Box`, a mutable struct. Zygote differentiates reads and writes
of its `contents` field through its mutable-struct support, which gives `nothing` or wrong
gradients and errors such as `MethodError: no method matching +(::NamedTuple{(:contents,)...},
::Base.RefValue{Any})` (Zygote issues #1290, #1540). Zygote's own test of a stateful closure
`s = 0; f(x) = (s += x)` is marked broken for broadcasting.

## Example
```julia
using Zygote

function interpolate_all(tvals, ts, us)
    idx = 2
    vals = map(tvals) do t
        while idx < length(ts) && ts[idx] < t
            idx += 1
        end
        us[idx]
    end
    return vals
end

gradient(u -> sum(interpolate_all([0.1, 0.6], [0.0, 0.5, 1.0], u)), rand(3))
```

## Use instead
```julia
using Zygote

function interpolate_all(tvals, ts, us)
    vals = map(tvals) do t
        idx = 2
        while idx < length(ts) && ts[idx] < t
            idx += 1
        end
        us[idx]
    end
    return vals
end

gradient(u -> sum(interpolate_all([0.1, 0.6], [0.0, 0.5, 1.0], u)), rand(3))
```
Give the re-bound value a new name, make the variable local to the closure, or bind it in a
`let` block (`let x = x; ... end`) right before the closure.

## Fix safety
Renaming changes every later use, and a `let` copy freezes the value the closure sees; adlint
shows both rewrites of the user's own code in the help (`f = let s = s; () -> s + x end`, or
`s2 = ...` for the re-binding) but never applies them.
"#;

/// One binding event of a variable in the enclosing function or in the closure.
#[derive(Clone, Copy)]
struct Event {
    span: Span,
    in_closure: bool,
}

impl Rule for BoxedVariable {
    fn name(&self) -> &'static str {
        "boxed-variable"
    }
    fn category(&self) -> Category {
        Category::BoxedVariable
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "captured variable is boxed (Core.Box) in differentiated code"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        // Grouped by the primary span: `(a, b) = f()` boxing two variables is one finding.
        let mut found: BTreeMap<(u32, Span), Group> = BTreeMap::new();
        for (fi, facts) in cx.facts.iter().enumerate() {
            let file = fi as u32;
            for (ci, closure) in facts.functions.iter().enumerate() {
                let ci = ci as FuncIdx;
                let is_inner_named = closure.kind == FunctionKind::Named
                    && closure.parent.get().is_some_and(|p| p != 0);
                if !(closure.kind.is_closure() || is_inner_named) {
                    continue;
                }
                if !cx.graph.is_reached(FuncRef { file, func: ci }) {
                    continue;
                }
                let Some(parent) = closure.parent.get() else {
                    continue;
                };
                let pdef = &facts.functions[parent as usize];
                if matches!(
                    pdef.kind,
                    FunctionKind::TopLevel | FunctionKind::Region { .. }
                ) {
                    // Captured globals are not boxed.
                    continue;
                }
                for (var, primary, captures, events) in boxed_in(facts, parent, ci) {
                    let entry = found
                        .entry((file, primary))
                        .or_insert_with(|| (parent, Vec::new(), Vec::new()));
                    if !entry.1.contains(&var) {
                        entry.1.push(var.clone());
                    }
                    let label = closure.display_name(facts);
                    for c in captures.into_iter().take(1) {
                        entry.2.push(Related {
                            location: Location { file, span: c },
                            message: format!("`{var}` is captured here by the {label}"),
                        });
                    }
                    for e in events.iter().filter(|e| e.span != primary) {
                        entry.2.push(Related {
                            location: Location { file, span: e.span },
                            message: format!(
                                "`{var}` is also assigned here{}",
                                if e.in_closure {
                                    " (inside the closure)"
                                } else {
                                    ""
                                }
                            ),
                        });
                    }
                }
            }
        }
        for ((file, span), (func, vars, mut related)) in found {
            let names = vars
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let plural = vars.len() > 1;
            let reached_func = if cx.graph.is_reached(FuncRef { file, func }) {
                func
            } else {
                // The enclosing function may not be differentiated itself (a training
                // loop); the chain then starts at the closure that is.
                closure_reached(cx, file, func).unwrap_or(func)
            };
            let mut d = cx.diagnostic(self, file, reached_func, span, String::new());
            d.function = Some(cx.function_name(FuncRef { file, func }));
            d.message = format!(
                "captured variable{} {names} {} boxed: {} re-bound here while a closure captures {} (reached from {}); Zygote differentiates a `Core.Box` as a mutable struct, which gives wrong or `nothing` gradients",
                if plural { "s" } else { "" },
                if plural { "are" } else { "is" },
                if plural { "they are" } else { "it is" },
                if plural { "them" } else { "it" },
                cx.entry_phrase(&d)
            );
            d.help = Some(format!(
                "use a new name for the re-bound value, or bind {names} in a `let` block right before the closure"
            ).into());
            related.sort_by_key(|r| r.location.span);
            related.dedup_by_key(|r| r.location.span);
            d.related = related;
            out.push(d);
        }
    }
}

/// A reached closure inside `func` (for the chain of a finding whose function is not
/// itself differentiated).
fn closure_reached(cx: &RuleContext, file: u32, func: FuncIdx) -> Option<FuncIdx> {
    let facts = &cx.facts[file as usize];
    facts
        .functions
        .iter()
        .enumerate()
        .find(|(i, f)| {
            f.parent.get() == Some(func)
                && cx.graph.is_reached(FuncRef {
                    file,
                    func: *i as FuncIdx,
                })
        })
        .map(|(i, _)| i as FuncIdx)
}

/// Functions inside `root` (itself included).
fn subtree(facts: &FileFacts, root: FuncIdx) -> Vec<FuncIdx> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        for (j, f) in facts.functions.iter().enumerate() {
            if f.parent.get() == Some(cur) {
                out.push(j as FuncIdx);
            }
        }
        i += 1;
    }
    out
}

type Boxed = (String, Span, Vec<Span>, Vec<Event>);

/// Variables boxed by one re-binding: the enclosing function, the names, related info.
type Group = (FuncIdx, Vec<String>, Vec<Related>);

/// Variables of `parent` that `closure` captures and Julia boxes.
fn boxed_in(facts: &FileFacts, parent: FuncIdx, closure: FuncIdx) -> Vec<Boxed> {
    let pdef = &facts.functions[parent as usize];
    let cdef = &facts.functions[closure as usize];
    let inside = subtree(facts, closure);
    let mut names: Vec<&str> = facts
        .refs
        .iter()
        .filter(|r| inside.contains(&r.func))
        .map(|r| r.name.as_str())
        .chain(
            facts
                .assigns
                .iter()
                .filter(|a| inside.contains(&a.func) && rebinds(&a.kind))
                .map(|a| a.var.as_str()),
        )
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        // The closure's own parameters and loop variables shadow the outer name.
        if cdef.param_index(name).is_some() {
            continue;
        }
        let is_param = pdef.param_index(name).is_some()
            || matches!(&pdef.kind, FunctionKind::Functor { self_name: Some(s), .. } if s == name);
        let outer: Vec<_> = facts
            .assigns
            .iter()
            .filter(|a| a.func == parent && a.var == name)
            .collect();
        if !is_param && outer.is_empty() {
            continue; // not a local of the enclosing function
        }
        // `let x = x` around the closure makes a fresh variable.
        if outer
            .iter()
            .any(|a| a.kind == AssignKind::Let && a.block.contains(cdef.span))
        {
            continue;
        }
        let outer_rebinds: Vec<_> = outer.iter().filter(|a| rebinds(&a.kind)).collect();
        if !is_param && outer_rebinds.is_empty() {
            continue; // only loop variables or let bindings: fresh each time
        }
        let inner: Vec<_> = facts
            .assigns
            .iter()
            .filter(|a| inside.contains(&a.func) && a.var == name && rebinds(&a.kind))
            .collect();
        let mut events: Vec<Event> = Vec::new();
        if is_param {
            events.push(Event {
                span: pdef.signature,
                in_closure: false,
            });
        }
        events.extend(outer_rebinds.iter().map(|a| Event {
            span: a.span,
            in_closure: false,
        }));
        events.extend(inner.iter().map(|a| Event {
            span: a.span,
            in_closure: true,
        }));
        events.sort_by_key(|e| e.span.start);
        let captures: Vec<Span> = facts
            .refs
            .iter()
            .filter(|r| inside.contains(&r.func) && r.name == name)
            .map(|r| r.span)
            .collect();
        let capture_at = captures.first().copied().unwrap_or(cdef.span);
        let primary = if events.len() >= 2 {
            // Assigned more than once (or inside the closure): the first re-binding.
            events[1].span
        } else if let Some(a) = outer_rebinds.first() {
            // One assignment: boxed unless it comes first and its block holds the closure.
            let dominates = a.span.end <= cdef.span.start && a.block.contains(cdef.span);
            if dominates {
                continue;
            }
            a.span
        } else {
            continue;
        };
        out.push((name.to_string(), primary, vec![capture_at], events));
    }
    out
}

fn rebinds(kind: &AssignKind) -> bool {
    matches!(
        kind,
        AssignKind::Plain | AssignKind::Update | AssignKind::Destructure
    )
}
