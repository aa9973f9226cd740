//! `mutating-call`: in-place library functions (`push!`, `fill!`, `mul!`, `sort!`, ...).

use super::origin::{self, origin_of, Origin};
use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::Call;

pub struct MutatingCall;

const DOCS: &str = r#"## What it does
Reports calls to Base and standard-library functions that modify an array in place and
have no rule, in differentiated code: `push!`, `pop!`, `pushfirst!`, `popfirst!`,
`append!`, `insert!`, `fill!`, `sort!`, `reverse!`, `map!`, `cumsum!`, `mul!`, `ldiv!`,
`unique!`, `filter!`, `circshift!`, `union!`, `resize!`, `deleteat!`, `empty!` and the
others of the table in `src/knowledge/functions.toml`.

## Why is this bad
`push!`, `pop!`, `pushfirst!` and `popfirst!` on a vector have Zygote adjoints that raise
`Mutating arrays is not supported -- called push!(Vector{Any}, ...)` in the reverse pass.
The other functions have no rule, so Zygote traverses their Base implementation and meets
`setindex!`, `copyto!` or a foreign call there. `resize!`, `deleteat!`, `empty!`,
`splice!` and the set operations fail in a way that depends on the Julia version (a
foreign call on Julia 1.10, `Memory` internals on 1.11), so they are warnings. `push!` on a
`Dict` and functions with non-differentiable rules (`rand!`, `sortperm!`, `sizehint!`) are
fine and not reported, as are `fill!` and `reverse!` on an array of `Bool` (`falses(n)`,
`zeros(Bool, n)`, an argument typed `BitVector`), which ChainRules declares
non-differentiable. An index write into such an array is still an error.

## Example
```julia
using Zygote

function column_sums(w, x)
    result = []
    for i in 1:size(x, 2)
        push!(result, w[:, i] .+ x[:, i])
    end
    return sum(hcat(result...))
end

x = rand(5, 20)
Zygote.gradient(w -> column_sums(w, x), rand(5, 20))
```

## Use instead
```julia
using Zygote

function column_sums(w, x)
    result = [w[:, i] .+ x[:, i] for i in 1:size(x, 2)]
    return sum(reduce(hcat, result))
end

x = rand(5, 20)
Zygote.gradient(w -> column_sums(w, x), rand(5, 20))
```
Collect results with a comprehension or `map` instead of `push!`; use the non-mutating
variant (`sort`, `reverse`, `map`, `A * B`, `cumsum`) of in-place functions.

## Fix safety
`out = T[]` (or `[]`, `Vector{T}()`) followed by a loop whose only statement is
`push!(out, e)`, possibly under one `if` and in nested loops, becomes
`out = [e for x in xs if c]` (the `if` becomes the comprehension's filter; a single loop
without one over something not known to be a vector gets `vec(...)`, since a comprehension
over a matrix is a matrix). The fix is **unsafe**: the comprehension's element type is that of
the values (an untyped `[]` becomes a concretely typed vector, `T[]` may become another type).
It is not offered when `out` does not start empty, is used before the loop, captured, or read
inside it. `z = similar(y); copyto!(z, y)` becomes `z = copy(y)` (**safe**: the same values,
element type and shape). An `rrule` skeleton for the function is shown (**display-only**).
"#;

/// A call that goes to a library function, not to a workspace method of the same name.
pub fn is_library_call(cx: &RuleContext, file: u32, ci: u32, call: &Call) -> bool {
    let q = call.qualifier();
    let library_qualifier = q.is_empty()
        || q.last().is_some_and(|m| {
            matches!(
                m.as_str(),
                "Base" | "LinearAlgebra" | "BLAS" | "Random" | "Statistics" | "LA"
            )
        });
    library_qualifier && !cx.is_workspace_call(file, ci) && !call.broadcast
}

impl Rule for MutatingCall {
    fn name(&self) -> &'static str {
        "mutating-call"
    }
    fn category(&self) -> Category {
        Category::Mutation
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "in-place library call (`push!`, `fill!`, `mul!`, ...) in differentiated code"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    /// Rewrites of the write itself first, then of the function around it (shared by
    /// every finding in it). Notes of the function's builders are appended to the help.
    fn fixes(&self) -> &'static [FixBuilder] {
        &[
            FixBuilder::RebindLocal,
            FixBuilder::NonMutatingVariant,
            FixBuilder::ForwarddiffWrap,
            FixBuilder::RruleSkeleton,
        ]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        let k = cx.knowledge();
        for (file, ci, call) in cx.reached_calls() {
            let Some(name) = call.name().map(|n| n.as_str()) else {
                continue;
            };
            let Some(row) = k.mutating_call(call.qualifier(), name, call.args.len()) else {
                continue;
            };
            if matches!(name, "copyto!" | "copy!" | "broadcast!") {
                continue; // broadcast-assignment reports these
            }
            // A generated row says itself which qualifiers reach its function.
            let library = if row.generated {
                !cx.is_workspace_call(file, ci) && !call.broadcast
            } else {
                is_library_call(cx, file, ci, call)
            };
            if !library {
                continue;
            }
            let Some(dest) = cx.facts[file as usize].args(call.args).get(row.dest - 1) else {
                continue;
            };
            let origin = origin_of(cx, file, call.func, dest, call.span);
            if origin.is_supported()
                || (row.bool_ok && matches!(origin, Origin::Array { bools: true, .. }))
            {
                continue;
            }
            let target = super::value_text(dest);
            let mut d = cx.diagnostic(self, file, call.func, call.span, String::new());
            d.severity = row.severity;
            let outcome = if row.via == "push!" {
                format!("Zygote raises \"Mutating arrays is not supported -- called {name}(...)\" when the pullback runs")
            } else if d.severity == Severity::Error {
                format!("it has no rule, so Zygote differentiates its implementation and fails at {} when the pullback runs", row.via)
            } else {
                format!(
                    "it has no rule, and Zygote fails inside {} when the pullback runs",
                    row.via
                )
            };
            // An array written in place (`push!([], x)`) has no name to show.
            let (shown, what) = match dest {
                crate::facts::Value::Array => (
                    format!(
                        "the array literal at line {}",
                        cx.line_of(file, call.span.start)
                    ),
                    "an array literal is an array".to_string(),
                ),
                _ => (
                    format!("`{target}`"),
                    origin::describe(&target, &origin, cx, file),
                ),
            };
            d.message = format!(
                "`{name}` modifies {shown} in place in differentiated code (reached from {}): {outcome}; {what}",
                cx.entry_phrase(&d),
            );
            d.help = Some(match name {
                "push!" | "pushfirst!" | "append!" | "prepend!" => {
                    "collect the values with a comprehension or `map` instead of growing an array"
                        .into()
                }
                _ => {
                    let plain = name.trim_end_matches('!');
                    format!("use a non-mutating alternative (such as `{plain}`) or wrap the in-place code in a function with a `ChainRulesCore.rrule`").into()
                }
            });
            d.related.extend(origin::related(&origin, &target));
            d.knowledge = Some(row.source.clone());
            out.push(d);
        }
    }
}
