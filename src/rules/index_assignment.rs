//! `index-assignment`: `x[i] = v` on an array inside differentiated code.

use super::origin::{self, origin_of};
use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::SiteKind;

pub struct IndexAssignment;

const DOCS: &str = r#"## What it does
Reports indexed assignment (`x[i] = v`, `x[i, j] = v`, `x[:, j] = v`, `x[mask] = v`,
`x[i] += v`) into an array, in code that Zygote differentiates: reached from an entry point
such as `gradient`, `pullback` or `Flux.train!` through functions that have no rule.

## Why is this bad
Julia lowers `x[i] = v` to `setindex!(x, v, i)`. Zygote's adjoint for `setindex!` on any
`AbstractArray` raises `Mutating arrays is not supported -- called setindex!(Vector{Float64}, ...)`
when the pullback runs. Zygote does no activity analysis, so the error comes even when the
array is a fresh local that has nothing to do with the input (`z = similar(y); z[1] = 0.0`).
Writes into a `Dict`, a `Ref` (`r[] = v`) or a `Zygote.Buffer` are supported and not
reported. This has been the behaviour of every Zygote release since 0.2.

## Example
```julia
using Zygote

function g_inner!(x, y)
    for i in eachindex(x, y)
        x[i] = 2 * y[i]
    end
    return x
end

function g_outer(y)
    z = similar(y)
    g_inner!(z, y)
    return z
end

Zygote.gradient(y -> sum(g_outer(y)), rand(3))
```

## Use instead
```julia
using Zygote

g_better(y) = 2 .* y

Zygote.gradient(y -> sum(g_better(y)), rand(3))
```
Build the array without writing into it: broadcasting, a comprehension
`[f(i) for i in eachindex(y)]`, or `map`. When the write cannot be avoided, allocate a
`Zygote.Buffer`, write into it and return `copy(buf)`, or define a `ChainRulesCore.rrule`
for the function that writes.

## Fix safety
For `z = similar(y)` (or `zeros`, `ones`, `fill`, `Vector{T}(undef, n)`) followed by a loop
whose only statement is `z[i] = e(i)` (or `z[i, j] = e(i, j)` in two nested loops, or one
loop over two iterators), adlint offers `z = [e(i) for i in I]` /
`z = [e(i, j) for i in I, j in J]`, only when it provably makes the same array:

- the loops run over exactly `z`'s axes: `1:n` for `zeros(n)`, `eachindex(z)`, `axes(z, 1)`,
  `1:length(z)`, `eachindex(y)` for `similar(y)`, `1:m` and `1:n` for `zeros(m, n)`. A
  partial or offset range (`1:n-1`, `2:n`) is refused: it leaves elements as allocated;
- the written index is the bare loop variable (`z[i]`, not `z[i+1]` or `z[2i]`);
- the shape is kept: nested loops give a matrix comprehension; a single loop over all the
  elements of an array not known to be a vector (`eachindex(z)` of `z = similar(y)`, with `y`
  not annotated as a vector) gives `reshape([e for i in eachindex(z)], size(y))`;
- a reversed range (`n:-1:1`) becomes the forward range (the same elements in order), and a
  comprehension that evaluates in another order than the loops is refused when the value
  draws random numbers or prints;
- `z` is a fresh local not captured, aliased or read in the loop (a recurrence like
  `z[i] = z[i-1] + y[i]` is not a map), and the loop has no second effect.

The fix is **unsafe**: the comprehension's element type is that of the values (`f(x[i])` may
be `Float32`, a dual number or `Any`), not `similar(y)`'s or `Float64`, and adlint cannot
prove them equal.

When the array is an argument that the helper fills and returns (the limitations page's
`g_inner!`), adlint adds a non-mutating twin (`g_inner(x, y) = reshape([2 * y[i] for i in
eachindex(x, y)], size(x))`, since `x` may be a matrix) and switches the differentiated call
sites (`g_inner!(z, y)` becomes `z = g_inner(z, y)`): **unsafe**, since callers may rely on
the mutation; the original stays. A twin never takes a name Base exports (`step!` gets
`step_nonmutating`, not `step`). `Zygote.forwarddiff` and an `rrule` skeleton are offered as
for `broadcast-assignment`.
"#;

impl Rule for IndexAssignment {
    fn name(&self) -> &'static str {
        "index-assignment"
    }
    fn category(&self) -> Category {
        Category::Mutation
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`x[i] = v` into an array in differentiated code (setindex! is not supported)"
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
        for (file, site) in cx.reached_sites() {
            let SiteKind::IndexAssign {
                target,
                op,
                empty_index,
            } = &site.kind
            else {
                continue;
            };
            if *empty_index {
                // `r[] = v`: a `Ref` (or zero-dimensional array) write, which Zygote supports.
                continue;
            }
            let origin = origin_of(cx, file, site.func, target, site.span);
            if origin.is_supported() {
                continue;
            }
            let name = super::value_text(target);
            let stmt = if op == "=" {
                format!("`{name}[...] = ...`")
            } else {
                format!("`{name}[...] {op} ...`")
            };
            let mut d = cx.diagnostic(self, file, site.func, site.span, String::new());
            d.message = format!(
                "{stmt} writes into an array in differentiated code (reached from {}): Zygote raises \"Mutating arrays is not supported -- called setindex!(...)\" when the pullback runs; {}",
                cx.entry_phrase(&d),
                origin::describe(&name, &origin, cx, file)
            );
            d.help = Some(
                "build the array without writing into it (broadcasting, a comprehension or `map`), or write into a `Zygote.Buffer` and return `copy(buf)`".into(),
            );
            d.related.extend(origin::related(&origin, &name));
            out.push(d);
        }
    }
}
