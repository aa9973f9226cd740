//! `nested-ad`: an entry point called inside differentiated code (reverse over reverse).

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::{Call, FuncIdx, Value};
use crate::index::FuncRef;
use crate::knowledge::NestedKind;
use std::collections::HashSet;

pub struct NestedAd;

const DOCS: &str = r#"## What it does
Reports a call to a differentiation entry point (`gradient`, `pullback`, `jacobian`,
`Flux.gradient`, `DI.gradient(f, AutoZygote(), x)`, ...) inside code that an outer Zygote
call differentiates. The inner call is an entry of its own, so what it reaches is checked
too.

## Why is this bad
Zygote then differentiates its own generated code and many of its rules, which were not
written to be differentiated: they allocate and write arrays, so the outer pass fails with
`Mutating arrays is not supported` (Zygote issues #1244, #1497) or gets slow. `jacobian` and
`withjacobian` always write their result with `copyto!`, so they always fail inside a
gradient (errors). `Flux.gradient` refuses to run inside a Zygote gradient since Flux 0.15
(`Flux.gradient` does not support use within a Zygote gradient). An inner function that
calls `sort`, `repeat` with keywords or a `Zygote.Buffer` fails too (errors): their
pullbacks write into arrays. Other combinations may work: scalar code (`sin''(1.0)`) is
differentiated twice, only far more slowly, and array code may or may not reach a rule
whose pullback is not differentiable; those are warnings that say which. Lux rewrites a nested `Zygote.gradient` or
`Zygote.jacobian` of a `StatefulLuxLayer` into forward over reverse, which is meant to
work but has failed in Lux's own issues: a warning, with that explanation.

## Example
```julia
using Zygote

energy(x, y) = 1 + x^2 + y^2
dE_dx(x, y) = gradient(energy, x, y)[1]

gradient(dE_dx, 1.0, 1.0)
```

## Use instead
```julia
using Zygote

energy(xy) = 1 + xy[1]^2 + xy[2]^2

Zygote.hessian(energy, [1.0, 1.0])
```
Use `Zygote.hessian` (ForwardDiff over Zygote) for second derivatives, or compute the inner
derivative with ForwardDiff (`ForwardDiff.gradient` inside a Zygote gradient is routed
through forward mode).

## Fix safety
Switching to forward mode changes performance characteristics; no automatic fix. ForwardDiff
inside a Zygote gradient gives the variables a closure captures no gradient, so the help
suggests it only for an inner function that captures none. The help shows the inner call
rewritten: `gradient(f, x)[1]` -> `ForwardDiff.gradient(f, x)` (or
`ForwardDiff.derivative` for a number), or `Zygote.hessian` for the whole second derivative.
"#;

impl Rule for NestedAd {
    fn name(&self) -> &'static str {
        "nested-ad"
    }
    fn category(&self) -> Category {
        Category::NestedAd
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "entry point called inside differentiated code (reverse over reverse)"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    /// The guidance shows the finding's own code rewritten, and stands in for the help
    /// `check` sets whenever it recognises that code.
    fn fixes(&self) -> &'static [FixBuilder] {
        &[FixBuilder::NestedAdGuidance]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        let entry_calls: HashSet<(u32, u32)> = (cx.graph.entries.iter())
            .map(|e| (e.file, e.call))
            .collect();
        for entry in &cx.graph.entries {
            if !cx.graph.is_reached(entry.caller) {
                continue;
            }
            let call = &cx.facts[entry.file as usize].calls[entry.call as usize];
            let mut d = cx.diagnostic(
                self,
                entry.file,
                entry.caller.func,
                call.span,
                String::new(),
            );
            let outer = cx.entry_phrase(&d);
            let flux_refuses = cx
                .settings
                .flux
                .is_none_or(|v| v >= crate::version::Version(0, 15, 0));
            let lux = is_lux_rewritten(cx, entry, call);
            let (severity, why) = match entry.nested {
                _ if lux => (
                    Severity::Warning,
                    format!("Lux rewrites `{}` of a `StatefulLuxLayer` into forward-over-reverse, which the outer pass can differentiate, but nested AD through Lux layers is fragile (a `MethodError` from ForwardDiff or silently zero gradients have been reported)", entry.api),
                ),
                NestedKind::ErrorFlux if flux_refuses => (
                    Severity::Error,
                    format!("`{}` refuses to run inside a Zygote gradient since Flux 0.15 (\"`Flux.gradient` does not support use within a Zygote gradient\")", entry.api),
                ),
                NestedKind::ErrorJacobian => (
                    Severity::Error,
                    format!("`{}` writes its result with `copyto!`, so the outer pass fails with \"Mutating arrays is not supported\"", entry.api),
                ),
                NestedKind::ForwardOverReverse => (
                    Severity::Warning,
                    format!("`{}` (ForwardDiff over Zygote) is differentiated again by the outer Zygote pass", entry.api),
                ),
                _ => match inner_code(cx, entry, &entry_calls) {
                    Inner::MutatingRule(what) => (
                        Severity::Error,
                        format!("Zygote differentiates `{}` itself (reverse over reverse), and the inner function calls `{what}`, whose Zygote pullback writes into an array, so the outer pass fails with \"Mutating arrays is not supported\"", entry.api),
                    ),
                    // Scalar code differentiated twice works (Zygote's own `sin''`
                    // tests) but can be orders of magnitude slower (the labelled case
                    // d22, Zygote#1239): still a warning, worded as such.
                    Inner::Scalar => (
                        Severity::Warning,
                        format!("Zygote differentiates `{}` itself (reverse over reverse); the inner function is scalar code through scalar rules, which Zygote can differentiate twice, but far more slowly than forward over reverse", entry.api),
                    ),
                    Inner::Other => (
                        Severity::Warning,
                        format!("Zygote differentiates `{}` itself (reverse over reverse); the inner function runs array rules or code adlint cannot see, and many of Zygote's rules mutate arrays in their pullbacks", entry.api),
                    ),
                },
            };
            d.severity = severity;
            d.message = format!("nested differentiation: {why} (reached from {outer})");
            // ForwardDiff inside Zygote gives a closure's captured variables no gradient
            // (zygote-semantics.md §5.3): suggested only where the inner function
            // captures nothing.
            d.help = Some(if captures_outer(cx, entry) {
                "use `Zygote.hessian` (ForwardDiff over Zygote) for second derivatives; not `ForwardDiff` for the inner derivative alone, since the variables its closure captures would get no gradient".into()
            } else {
                "use `Zygote.hessian` (ForwardDiff over Zygote) for second derivatives, or `ForwardDiff` for the inner derivative".into()
            });
            out.push(d);
        }
    }
}

/// Whether Lux's Zygote extension rewrites this nested call (zygote-semantics.md §1.2):
/// `Zygote.gradient` or `Zygote.jacobian` whose function is a `StatefulLuxLayer`, alone or
/// composed (`f ∘ smodel`) or fixed (`Base.Fix1(f, smodel)`).
fn is_lux_rewritten(cx: &RuleContext, entry: &crate::callgraph::Entry, call: &Call) -> bool {
    if !matches!(entry.api.as_str(), "Zygote.gradient" | "Zygote.jacobian") {
        return false;
    }
    let facts = &cx.facts[entry.file as usize];
    let Some(f) = facts.args(call.args).first() else {
        return false;
    };
    stateful_layer(cx, entry.file, entry.caller.func, f, 0)
}

fn stateful_layer(cx: &RuleContext, file: u32, func: FuncIdx, value: &Value, depth: u32) -> bool {
    let facts = &cx.facts[file as usize];
    if depth > 4 {
        return false;
    }
    match value {
        Value::Call { callee, args } => match callee.last().map(|n| n.as_str()) {
            Some("StatefulLuxLayer") => true,
            Some("Fix1" | "Fix2" | "ComposedFunction") => {
                (facts.args(*args).iter()).any(|a| stateful_layer(cx, file, func, a, depth + 1))
            }
            _ => false,
        },
        Value::Compose(parts) => {
            (facts.args(*parts).iter()).any(|p| stateful_layer(cx, file, func, p, depth + 1))
        }
        Value::Ident(name) => {
            // Its assignments in the function or those around it.
            let mut cur = Some(func);
            while let Some(f) = cur {
                let assigned: Vec<&Value> = (facts.assigns.iter())
                    .filter(|a| a.func == f && a.var == *name)
                    .map(|a| &a.value)
                    .collect();
                if !assigned.is_empty() {
                    return (assigned.iter()).any(|v| stateful_layer(cx, file, f, v, depth + 1));
                }
                cur = facts.functions[f as usize].parent.get();
            }
            false
        }
        _ => false,
    }
}

/// What the inner differentiated function of a nested entry runs, for the severity.
enum Inner {
    /// A call to a rule whose Zygote pullback writes into an array (zygote-semantics.md
    /// §5.3): the outer pass fails.
    MutatingRule(&'static str),
    /// Only scalar code: arithmetic and elementary functions on numbers, the workspace's
    /// own functions made of the same, and the pullbacks of the nested entries. It works,
    /// slowly.
    Scalar,
    /// Array rules, layers, or code adlint cannot see.
    Other,
}

/// Rules whose Zygote pullback writes into an array (zygote-semantics.md §5.3): `sort`
/// (`x̄[p] = ȳ`), `repeat` with keywords, a `Buffer`. `maximum(...; dims)` (#1244) is left
/// out: Zygote's own test of that report (`test/gradcheck_p1.jl`, `h1244`) passes at the
/// pinned commit.
fn mutating_pullback(call: &Call, facts: &crate::facts::FileFacts) -> Option<&'static str> {
    match call.name()?.as_str() {
        "sort" => Some("sort"),
        "repeat" if !facts.kwargs(call.kwargs).is_empty() => Some("repeat"),
        "Buffer" | "bufferfrom" => Some("Zygote.Buffer"),
        _ => None,
    }
}

/// Scalar functions of Base whose rules are scalar rules.
const SCALAR: &[&str] = &[
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "sincos",
    "sinpi",
    "cospi",
    "exp",
    "exp2",
    "exp10",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "sqrt",
    "cbrt",
    "abs",
    "abs2",
    "inv",
    "sign",
    "min",
    "max",
    "clamp",
    "hypot",
    "one",
    "zero",
    "float",
    "real",
    "imag",
    "conj",
    "identity",
    "tuple",
    "muladd",
    "fma",
    "ifelse",
    "isderiving",
    "deg2rad",
    "rad2deg",
];

/// Classify the code a nested entry differentiates: the functions reached from its
/// roots (at most 256), or the function it names when that is not the workspace's.
fn inner_code(
    cx: &RuleContext,
    entry: &crate::callgraph::Entry,
    entry_calls: &HashSet<(u32, u32)>,
) -> Inner {
    if entry.roots.is_empty() {
        // `gradient(sin, x)`: a function of Base.
        let facts = &cx.facts[entry.file as usize];
        let call = &facts.calls[entry.call as usize];
        return match facts.args(call.args).first() {
            Some(Value::Ident(n)) if SCALAR.contains(&n.as_str()) => Inner::Scalar,
            _ => Inner::Other,
        };
    }
    let mut seen: HashSet<FuncRef> = entry.roots.iter().copied().collect();
    let mut queue: Vec<FuncRef> = entry.roots.clone();
    let mut scalar = true;
    while let Some(f) = queue.pop() {
        if seen.len() > 256 {
            return Inner::Other;
        }
        let facts = &cx.facts[f.file as usize];
        let def = &facts.functions[f.func as usize];
        if !def.kind.is_closure() && def.kind != crate::facts::FunctionKind::Named {
            scalar = false;
        }
        for (ci, call) in facts.calls.iter().enumerate() {
            if call.func != f.func {
                continue;
            }
            if let Some(what) = mutating_pullback(call, facts) {
                return Inner::MutatingRule(what);
            }
            if entry_calls.contains(&(f.file, ci as u32)) {
                continue; // a nested entry: judged on its own
            }
            let targets = cx.graph.targets_of(f.file, ci as u32);
            if !targets.is_empty() {
                for t in targets {
                    if seen.insert(t) {
                        queue.push(t);
                    }
                }
                continue;
            }
            let name = call.name().map(|n| n.as_str()).unwrap_or("");
            let known_scalar = !call.broadcast && SCALAR.contains(&name);
            if !known_scalar && !calls_entry_result(facts, f.file, f.func, call, entry_calls) {
                scalar = false;
            }
        }
        if scalar && array_syntax(cx.text(f.file, def.span)) {
            scalar = false;
        }
    }
    if scalar {
        Inner::Scalar
    } else {
        Inner::Other
    }
}

/// `back(1)` after `y, back = pullback(f, x)`: calling what an entry returned (the
/// nested entry itself is judged on its own).
fn calls_entry_result(
    facts: &crate::facts::FileFacts,
    file: u32,
    func: FuncIdx,
    call: &Call,
    entry_calls: &HashSet<(u32, u32)>,
) -> bool {
    let Some(name) = call.callee.first().filter(|_| call.callee.len() == 1) else {
        return false;
    };
    let mut cur = Some(func);
    while let Some(f) = cur {
        let bound = (facts.assigns.iter()).find(|a| a.func == f && a.var == *name);
        if let Some(a) = bound {
            return (facts.calls.iter().enumerate()).any(|(ci, c)| {
                c.func == f && a.span.contains(c.span) && entry_calls.contains(&(file, ci as u32))
            });
        }
        cur = facts.functions[f as usize].parent.get();
    }
    false
}

/// Array code written with operators rather than calls: a dotted operator (`y .^ 2`,
/// `x .* w`) or indexing a variable (`x[1]`; indexing a call's result, `grad(f, x)[1]`,
/// takes a tuple apart).
fn array_syntax(text: &str) -> bool {
    let b = text.as_bytes();
    (1..b.len()).any(|i| {
        let prev = b[i - 1];
        match b[i] {
            b'^' | b'*' | b'/' | b'+' | b'-' | b'=' if prev == b'.' => {
                i < 2 || !b[i - 2].is_ascii_digit()
            }
            b'[' => prev.is_ascii_alphanumeric() || prev == b'_',
            _ => false,
        }
    })
}

/// Whether the inner function is a closure that captures variables of the code around
/// it (which ForwardDiff inside Zygote would leave without a gradient).
fn captures_outer(cx: &RuleContext, entry: &crate::callgraph::Entry) -> bool {
    (entry.roots.iter()).any(|r| cx.facts[r.file as usize].captures_parent_locals(r.func))
}
