//! `foreign-call`: `ccall`, `@ccall`, `GC.@preserve`, `Threads.@threads`, and library
//! functions that end in a foreign call without a rule.

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::{SiteKind, Value};
use crate::version::Version;

pub struct ForeignCall;

const DOCS: &str = r#"## What it does
Reports code that Zygote cannot differentiate because it leaves Julia: `ccall`, `@ccall`,
`cglobal`, `@cfunction`, `GC.@preserve`, `Threads.@threads` loops, calls through Python
objects (`pyimport`), `@timed` on Julia 1.11 and later, `@simd` before Zygote 0.6.11, and
library functions that end in a foreign call and have no rule (`time()`, `qr`, `GC.gc()`,
...). Functions that end in a foreign call but have a rule are fine: `time_ns()`, `rand`,
`println`, `zeros`, `Threads.threadid()`.

## Why is this bad
Zygote transforms Julia code; a foreign call has no Julia code to transform. In the reverse
pass it raises `Can't differentiate foreigncall expression` (with the expression appended
since Zygote 0.6.44). `GC.@preserve` gives `Can't differentiate gc_preserve_end
expression`. `Threads.@threads` runs `threading_run`, which calls into the runtime and
writes its task array.

## Example
```julia
using Zygote

jclock(x) = ccall(:clock, Int32, ()) * x

gradient(jclock, rand())
```

## Use instead
```julia
using Zygote, ChainRulesCore

jclock(x) = ccall(:clock, Int32, ()) * x

function ChainRulesCore.rrule(::typeof(jclock), x)
    y = jclock(x)
    pb(ȳ) = (ChainRulesCore.NoTangent(), ȳ * y)
    return y, pb
end

gradient(jclock, rand())
```
Give the function that makes the foreign call an `rrule` (or `@non_differentiable` when its
result does not depend on the differentiated input).

## Fix safety
adlint generates a `ChainRulesCore.rrule` skeleton for the function that makes the foreign
call: the primal call, a named pullback that returns `NoTangent()` for the function and a
`ChainRulesCore.@not_implemented` placeholder per differentiable argument, and the
`import ChainRulesCore` it needs. Integer, `Bool` and `AbstractRNG` arguments, and named
top-level functions passed at every call, get `NoTangent()` (a closure keeps its
placeholder: it may carry differentiable state). When the function's result does not depend
on its arguments (`jtime(x) = ccall(:clock, Int32, ())`), or none of them is differentiable,
it offers `ChainRulesCore.@non_differentiable jtime(::Any)` instead. Both are **display-only**: the pullback's math must be written by hand and a wrong
`@non_differentiable` silently zeroes gradients, so `--fix` never applies them; editors
offer them as code actions.
"#;

impl Rule for ForeignCall {
    fn name(&self) -> &'static str {
        "foreign-call"
    }
    fn category(&self) -> Category {
        Category::Foreigncall
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`ccall`, `GC.@preserve`, `Threads.@threads` or a library call ending in a foreign call"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    /// No rewrite of a foreign call is safe to guess: a skeleton rule for the function.
    fn fixes(&self) -> &'static [FixBuilder] {
        &[FixBuilder::RruleSkeleton]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        let k = cx.knowledge();
        for (file, ci, call) in cx.reached_calls() {
            let Some(name) = call.name().map(|n| n.as_str()) else {
                continue;
            };
            if cx.is_workspace_call(file, ci) {
                continue;
            }
            let row = k.foreign_call(call.qualifier(), name, call.args.len());
            let what = if row.is_some() {
                match name {
                    // The construct itself, not a function that ends in one.
                    "ccall" | "cglobal" => format!("`{name}` calls native code directly"),
                    _ => format!(
                        "`{}` ends in a foreign call and has no rule",
                        call.callee.join(".")
                    ),
                }
            } else if let Some(obj) = call.callee.first().filter(|_| call.callee.len() > 1) {
                if !is_foreign_object(cx, file, call.func, obj) {
                    continue;
                }
                format!(
                    "`{}` calls into Python through `{obj}` (a foreign call)",
                    call.callee.join(".")
                )
            } else {
                continue;
            };
            let mut d = cx.diagnostic(self, file, call.func, call.span, String::new());
            d.message = format!(
                "{what} in differentiated code (reached from {}): Zygote raises \"Can't differentiate foreigncall expression\" in the reverse pass",
                cx.entry_phrase(&d)
            );
            d.help = Some(format!(
                "define a `ChainRulesCore.rrule` (or `@non_differentiable`) for the function that calls `{name}`"
            ).into());
            d.knowledge = row.map(|r| r.source.clone());
            out.push(d);
        }
        for (file, site) in cx.reached_sites() {
            let SiteKind::Macro { path } = &site.kind else {
                continue;
            };
            let Some(name) = path.last() else { continue };
            let Some(row) = k.foreign_macro(name) else {
                continue;
            };
            if name == "@preserve" && path.first().map(crate::facts::Name::as_str) != Some("GC") {
                continue;
            }
            let shown = path.join(".");
            let mut d = cx.diagnostic(self, file, site.func, site.span, String::new());
            let versions = cx.versions_for(&d, file);
            if let Some(below) = row.zygote_below.as_deref().and_then(Version::parse) {
                // Only older Zygote fails; with no version known, assume the newest.
                if versions.zygote.is_none_or(|v| v >= below) {
                    continue;
                }
            }
            if let Some(since) = row.julia_at_least.as_deref().and_then(Version::parse) {
                if versions.julia.is_some_and(|v| v < since)
                    || cx.only_below(file, site.span, since)
                {
                    continue;
                }
            }
            d.severity = row.severity;
            d.message = format!(
                "`{shown}` {} in differentiated code (reached from {}): Zygote cannot differentiate it",
                row.message,
                cx.entry_phrase(&d)
            );
            d.help = Some(match name.as_str() {
                "@threads" => "run the loop serially (or with `map`) in differentiated code, or hide the threaded function behind an `rrule`".into(),
                "@timed" => "time the call outside the differentiated function, or use `@elapsed`/`time_ns()`, which have rules".into(),
                _ => "move the foreign call into a function with a `ChainRulesCore.rrule`".into(),
            });
            out.push(d);
        }
    }
}

/// `np.mean(...)` where `np = pyimport("numpy")`.
fn is_foreign_object(cx: &RuleContext, file: u32, func: u32, name: &str) -> bool {
    let k = cx.knowledge();
    let facts = &cx.facts[file as usize];
    let mut cur = Some(func);
    while let Some(f) = cur {
        for a in facts
            .assigns
            .iter()
            .filter(|a| a.func == f && a.var == name)
        {
            if let Value::Call { callee, .. } = &a.value {
                if callee
                    .last()
                    .is_some_and(|c| k.is_foreign_object_constructor(c))
                {
                    return true;
                }
            }
        }
        cur = facts.functions[f as usize].parent.get();
    }
    false
}
