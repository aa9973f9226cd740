//! `nested-ad`: an entry point called inside differentiated code (reverse over reverse).

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, Severity};
use crate::facts::{Call, FuncIdx, Value};
use crate::knowledge::NestedKind;

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
(`Flux.gradient` does not support use within a Zygote gradient). Other combinations may
work (`sin''(1.0)`), so they are warnings. Lux rewrites a nested `Zygote.gradient` or
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
Switching to forward mode changes performance characteristics; no automatic fix. The help
shows the inner call rewritten: `gradient(f, x)[1]` -> `ForwardDiff.gradient(f, x)` (or
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
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
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
                .is_none_or(|v| v >= crate::workspace::Version(0, 15, 0));
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
                _ => (
                    Severity::Warning,
                    format!("Zygote differentiates `{}` itself (reverse over reverse); many of its rules mutate arrays and fail", entry.api),
                ),
            };
            d.severity = severity;
            d.message = format!("nested differentiation: {why} (reached from {outer})");
            d.help = Some("use `Zygote.hessian` (ForwardDiff over Zygote) for second derivatives, or `ForwardDiff` for the inner derivative".into());
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
