//! `misuse` rules: escape hatches used in a way that does not do what users expect.
//! `frozen-buffer-write`, `ignore-derivatives-expression`, `checkpointed-not-escape`,
//! `rrule-not-imported`.

use super::origin::{origin_of, Origin};
use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::{SiteKind, Value};
use crate::index::FuncRef;
use crate::knowledge::OriginKind;

pub struct FrozenBufferWrite;
pub struct IgnoreDerivativesExpression;
pub struct RruleNotImported;
pub struct CheckpointedNotEscape;

const FROZEN_DOCS: &str = r#"## What it does
Reports a write into a `Zygote.Buffer` after `copy(buf)` in the same function.

## Why is this bad
`copy(buf)` freezes the buffer, so that the array returned and the buffer share no
later changes; any write afterwards raises `Buffer is frozen` in the forward pass.

## Example
```julia
using Zygote

function f(x)
    buf = Zygote.Buffer(x)
    buf[1] = x[1]
    y = copy(buf)
    buf[2] = x[2]
    return sum(y)
end

gradient(f, rand(3))
```

## Use instead
```julia
using Zygote

function f(x)
    buf = Zygote.Buffer(x)
    buf[1] = x[1]
    buf[2] = x[2]
    y = copy(buf)
    return sum(y)
end

gradient(f, rand(3))
```
Finish every write before `copy`.

## Fix safety
No automatic fix.
"#;

const IGNORE_DOCS: &str = r#"## What it does
Reports `ignore_derivatives(expr)`, `Zygote.dropgrad(expr)` and `Zygote.ignore(expr)`
called with an expression instead of a closure, when the expression does something Zygote
cannot differentiate (mutation, a foreign call, a helper that does).

## Why is this bad
Julia evaluates the argument before the call, inside the differentiated code; only the
gradient through the resulting value is dropped. The mutation in the argument is still
differentiated and still fails. Only the closure form (`ignore_derivatives(() -> expr)`,
`ignore_derivatives() do ... end`, `@ignore_derivatives expr`) runs the code outside AD.

## Example
```julia
using Zygote, ChainRulesCore

function log_to!(buf, v)
    push!(buf, v)
    return nothing
end

const LOG = Float64[]
gradient(x -> (ignore_derivatives(log_to!(LOG, x)); 2x), 1.0)
```

## Use instead
```julia
using Zygote, ChainRulesCore

function log_to!(buf, v)
    push!(buf, v)
    return nothing
end

const LOG = Float64[]
gradient(x -> (ignore_derivatives(() -> log_to!(LOG, x)); 2x), 1.0)
```

## Fix safety
Wrapping the argument in `() -> ...` keeps its value and effects; offered as a safe rewrite
once the fixes issue lands.
"#;

const CHECKPOINT_DOCS: &str = r#"## What it does
Reports `Zygote.checkpointed(f, xs...)` whose function mutates arrays or does something
else Zygote cannot differentiate.

## Why is this bad
`checkpointed` only saves memory: the forward pass runs `f` without recording, and the
backward pass runs `_pullback(f, xs...)` again, so `f` is differentiated after all and its
errors appear then. It is not an escape hatch like `ignore_derivatives` or an `rrule`.

## Example
```julia
using Zygote

function f!(x)
    x .= 2 .* x
    return sum(x)
end

gradient(x -> Zygote.checkpointed(f!, x), rand(3))
```

## Use instead
```julia
using Zygote

f(x) = sum(2 .* x)

gradient(x -> Zygote.checkpointed(f, x), rand(3))
```

## Fix safety
No automatic fix.
"#;

impl Rule for FrozenBufferWrite {
    fn name(&self) -> &'static str {
        "frozen-buffer-write"
    }
    fn category(&self) -> Category {
        Category::Misuse
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "write into a `Zygote.Buffer` after `copy(buf)` froze it"
    }
    fn docs(&self) -> &'static str {
        FROZEN_DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        for (file, site) in cx.reached_sites() {
            let target = match &site.kind {
                SiteKind::IndexAssign { target, .. } | SiteKind::BroadcastAssign { target, .. } => {
                    target
                }
                _ => continue,
            };
            let Value::Ident(name) = target else { continue };
            if !matches!(
                origin_of(cx, file, site.func, target, site.span),
                Origin::Supported {
                    kind: OriginKind::Buffer,
                    ..
                }
            ) {
                continue;
            }
            let facts = &cx.facts[file as usize];
            let frozen = facts.calls.iter().find(|c| {
                c.func == site.func
                    && c.name().map(|n| n.as_str()) == Some("copy")
                    && c.span.end <= site.span.start
                    && facts.args(c.args).first() == Some(&Value::Ident(*name))
            });
            let Some(frozen) = frozen else { continue };
            let mut d = cx.diagnostic(self, file, site.func, site.span, String::new());
            d.message = format!(
                "write into the `Zygote.Buffer` `{name}` after `copy({name})` on line {} froze it: raises \"Buffer is frozen\" in the forward pass",
                cx.line_of(file, frozen.span.start)
            );
            d.help = Some(format!("finish every write into `{name}` before `copy({name})`").into());
            d.related.push(crate::diagnostic::Related {
                location: crate::diagnostic::Location {
                    file,
                    span: frozen.span,
                },
                message: format!("`{name}` is frozen here"),
            });
            out.push(d);
        }
    }
}

/// Whether a call in an argument does something the mutation or foreign-call rules report:
/// a mutating library function, or a workspace helper whose own body has such a site.
fn argument_is_undifferentiable(
    cx: &RuleContext,
    file: u32,
    func: u32,
    v: &Value,
) -> Option<String> {
    let Value::Call { callee, .. } = v else {
        return None;
    };
    let name = callee.last()?;
    let k = cx.knowledge();
    if k.mutating(name).is_some()
        || k.foreign_call(&callee[..callee.len() - 1], name, 0)
            .is_some()
    {
        return Some(format!("`{name}` mutates or leaves Julia"));
    }
    let module = cx.index.function_module(FuncRef { file, func }, cx.facts);
    let unit = cx.index.unit_of(file);
    let (methods, _) = cx.index.visible_methods(unit, module, *name, cx.facts);
    for m in methods {
        let facts = &cx.facts[m.file as usize];
        let mutates_sites = facts.sites.iter().any(|s| {
            s.func == m.func
                && matches!(
                    s.kind,
                    SiteKind::IndexAssign {
                        empty_index: false,
                        ..
                    } | SiteKind::BroadcastAssign { .. }
                )
        });
        let mutates_calls = facts
            .calls
            .iter()
            .any(|c| c.func == m.func && c.name().is_some_and(|n| k.mutating(&n).is_some()));
        if mutates_sites || mutates_calls {
            return Some(format!("`{name}` mutates an array"));
        }
    }
    None
}

impl Rule for IgnoreDerivativesExpression {
    fn name(&self) -> &'static str {
        "ignore-derivatives-expression"
    }
    fn category(&self) -> Category {
        Category::Misuse
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`ignore_derivatives(expr)` given an expression: the expression is still differentiated"
    }
    fn docs(&self) -> &'static str {
        IGNORE_DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        for (file, _, call) in cx.reached_calls() {
            let Some(name) = call.name().map(|n| n.as_str()) else {
                continue;
            };
            if !matches!(name, "ignore_derivatives" | "dropgrad" | "ignore") {
                continue;
            }
            let Some(arg) = cx.facts[file as usize].args(call.args).first() else {
                continue;
            };
            let Some(why) = argument_is_undifferentiable(cx, file, call.func, arg) else {
                continue;
            };
            let mut d = cx.diagnostic(self, file, call.func, call.span, String::new());
            d.message = format!(
                "`{name}` is given an expression, which Julia evaluates inside the differentiated code before the call; {why}, so Zygote still fails there (reached from {})",
                cx.entry_phrase(&d)
            );
            d.help = Some(
                format!("pass a closure: `{name}(() -> ...)` or `@ignore_derivatives ...`").into(),
            );
            out.push(d);
        }
    }
}

impl Rule for CheckpointedNotEscape {
    fn name(&self) -> &'static str {
        "checkpointed-not-escape"
    }
    fn category(&self) -> Category {
        Category::Misuse
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "`Zygote.checkpointed(f, ...)` does not stop `f` from being differentiated"
    }
    fn docs(&self) -> &'static str {
        CHECKPOINT_DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        for (file, _, call) in cx.reached_calls() {
            if call.name().map(|n| n.as_str()) != Some("checkpointed") {
                continue;
            }
            let Some(f) = cx.facts[file as usize].args(call.args).first() else {
                continue;
            };
            let probe = match f {
                Value::Ident(n) => Value::Call {
                    callee: crate::facts::Path::new(&[*n]),
                    args: Default::default(),
                },
                _ => continue,
            };
            let Some(why) = argument_is_undifferentiable(cx, file, call.func, &probe) else {
                continue;
            };
            let mut d = cx.diagnostic(self, file, call.func, call.span, String::new());
            d.message = format!(
                "`checkpointed` re-runs and differentiates its function in the backward pass; {why}, so it fails there (reached from {})",
                cx.entry_phrase(&d)
            );
            d.help = Some("checkpointing saves memory, it is not an escape hatch: fix the function or give it an `rrule`".into());
            out.push(d);
        }
    }
}

const RRULE_DOCS: &str = r#"## What it does
Reports `rrule` methods defined without a qualifier in a module that has only `using
ChainRulesCore`, for a function that differentiated code reaches.

## Why is this bad
`using ChainRulesCore` makes `rrule` visible but does not let the module add methods to
it: `function rrule(::typeof(f), x)` then defines a new function of the module's own, also
named `rrule`. Zygote asks ChainRulesCore's `rrule`, finds no rule for `f`, and
differentiates `f` itself, so whatever the rule was written to hide (a mutation, a foreign
call) fails as if there were no rule. Nothing reports the mistake: the code loads and runs.

## Example
```julia
using Zygote, ChainRulesCore

function cube!(y, x)
    y .= x .^ 3
    return y
end
cube(x) = cube!(similar(x), x)

function rrule(::typeof(cube), x)
    cube_pullback(ȳ) = (NoTangent(), 3 .* x .^ 2 .* ȳ)
    return cube(x), cube_pullback
end

gradient(x -> sum(cube(x)), rand(3))
```

## Use instead
```julia
using Zygote, ChainRulesCore

function cube!(y, x)
    y .= x .^ 3
    return y
end
cube(x) = cube!(similar(x), x)

function ChainRulesCore.rrule(::typeof(cube), x)
    cube_pullback(ȳ) = (NoTangent(), 3 .* x .^ 2 .* ȳ)
    return cube(x), cube_pullback
end

gradient(x -> sum(cube(x)), rand(3))
```
Qualify the definition, or add `import ChainRulesCore: rrule` to the module.

## Fix safety
No automatic fix: once the rule takes effect, its pullback decides the gradients, so a
person should check it first.
"#;

impl Rule for RruleNotImported {
    fn name(&self) -> &'static str {
        "rrule-not-imported"
    }
    fn category(&self) -> Category {
        Category::Misuse
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "`function rrule(...)` after `using ChainRulesCore` alone defines a new function, not a rule"
    }
    fn docs(&self) -> &'static str {
        RRULE_DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        let packages = ["ChainRulesCore".to_string(), "ChainRules".to_string()];
        for (fi, facts) in cx.facts.iter().enumerate() {
            let file = fi as u32;
            for decl in facts.rule_decls.iter().filter(|d| d.bare) {
                let module = cx.index.module_path(file, decl.module);
                let unit = cx.index.unit_of(file);
                // Imported: a rule in effect. Neither imported nor used: some other `rrule`.
                if cx.index.imports_rrule(unit, module)
                    || !cx.index.package_in_scope(
                        unit,
                        module,
                        &packages,
                        crate::name::Name::new("rrule"),
                    )
                {
                    continue;
                }
                // The methods it was meant for, of the arity it covers, that are reached.
                let (methods, _) = cx
                    .index
                    .visible_methods(unit, module, decl.target, cx.facts);
                let reached = methods.into_iter().find(|&m| {
                    let def = &cx.facts[m.file as usize].functions[m.func as usize];
                    decl.may_cover(def.arity(), &def.params) && cx.graph.is_reached(m)
                });
                let Some(target) = reached else { continue };
                let Some((func, head)) = (facts.functions.iter().enumerate())
                    .find(|(_, f)| f.span == decl.span)
                    .map(|(i, f)| (i as u32, f.head))
                else {
                    continue;
                };
                // The finding carries the entry and chain that reach the function.
                let reach = cx.diagnostic(self, target.file, target.func, head, String::new());
                let mut d = cx.diagnostic(self, file, func, head, String::new());
                d.entry = reach.entry.clone();
                d.entry_count = reach.entry_count;
                d.chain = reach.chain.clone();
                d.message = format!(
                    "this `rrule` is a new function of this module, not a method of `ChainRulesCore.rrule`: `using ChainRulesCore` does not let a module extend it, so Zygote never calls this rule and differentiates `{}` itself (reached from {})",
                    decl.target,
                    cx.entry_phrase(&reach)
                );
                d.help = Some(
                    "define `function ChainRulesCore.rrule(...)`, or add `import ChainRulesCore: rrule`"
                        .into(),
                );
                out.push(d);
            }
        }
    }
}
