//! `broadcast-assignment`: `x .= v`, `x .+= v`, `@. x = v`, `broadcast!`, `copyto!`, `copy!`.

use super::origin::{self, origin_of};
use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::SiteKind;

pub struct BroadcastAssignment;

const DOCS: &str = r#"## What it does
Reports in-place broadcasting into an array in differentiated code: `x .= v`, every dotted
update (`x .+= v`, `x .*= v`, ...), `@. x = ...`, `x[:, j] .= v`, and the calls
`broadcast!(f, dest, ...)`, `copyto!(dest, src)` and `copy!(dest, src)`.

## Why is this bad
`x .= v` lowers to `Base.materialize!(x, ...)`, which calls `copyto!`. Zygote's adjoint for
`copyto!` accepts any destination except a `Zygote.Buffer` and raises
`Mutating arrays is not supported -- called copyto!(Vector{Float64}, ...)` when the pullback
runs. It does so whether or not the array depends on the input.

## Example
```julia
using Zygote

function f!(x)
    x .= 2 .* x
    return x
end

gradient(rand(3)) do x
    sum(f!(x))
end
```

## Use instead
```julia
using Zygote

f(x) = 2 .* x

gradient(rand(3)) do x
    sum(f(x))
end
```
Bind a new array (`y = 2 .* x`) instead of writing into an existing one. When a function
must stay in-place for other callers, add a non-mutating variant for the differentiated
path, or call it through `Zygote.forwarddiff`.

## Fix safety
When the target is a local made by an allocation (`similar`, `zeros`, `Vector{T}(undef, n)`,
a literal or a broadcast) in the same function, assigned nowhere else, not captured by a
closure and not read in between except for its shape, adlint offers `z = similar(y);
z .= f.(y)` -> `z = f.(y)` (the allocation is dropped when nothing reads it in between;
`z .+= v` becomes `z = z .+ v`), when an operand of the broadcast has `z`'s axes (else `z .=`
would repeat a shorter value into `z`). This fix is **unsafe**: `similar(y)` keeps `y`'s
element type and `zeros(n)` is `Float64`, while the new array's element type is whatever `f`
returns. The **safe** case is `z = similar(y); z .= y` (or `copyto!(z, y)`) -> `z = copy(y)`:
same values, shape and element type. `--fix --unsafe-fixes` applies unsafe fixes; `--fix`
alone applies safe ones.

When the target is an argument of a helper that returns it (`x .= 2 .* x; return x`), adlint
adds a non-mutating twin (`f(x) = 2 .* x`) next to it and switches the differentiated call
sites to it (`f!(z)` as a statement becomes `z = f(z)`); a twin never takes a name Base
exports (`step!` gets `step_nonmutating`). **Unsafe**: callers may rely on the mutation; the
original function is kept for them. For a helper of one argument that is a real number or an
array of them (by its annotation, or `rand(n)`, `zeros(n)` or a number at every
differentiated call), whose body can take dual numbers (no `Float64` annotations, no
`zeros(n)`-style `Float64` buffers) and draws no random numbers, adlint also offers `g(y)` ->
`Zygote.forwarddiff(g, y)`, its title stating the cost: one forward pass per chunk of at most
12 input elements (**unsafe**: `y` is no longer modified, and the gradient comes from
another AD); the help says what blocks it otherwise. An `rrule` skeleton for the function is
shown too (**display-only**: its pullback must be written by hand; editors offer it as a
code action); an in-place helper that returns `nothing` gets it on a non-mutating twin.
"#;

impl Rule for BroadcastAssignment {
    fn name(&self) -> &'static str {
        "broadcast-assignment"
    }
    fn category(&self) -> Category {
        Category::Mutation
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`x .= v`, `@. x = v`, `copyto!` into an array in differentiated code"
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
            let SiteKind::BroadcastAssign {
                target,
                op,
                indexed,
                ..
            } = &site.kind
            else {
                continue;
            };
            let origin = origin_of(cx, file, site.func, target, site.span);
            if origin.is_supported() {
                continue;
            }
            let name = super::value_text(target);
            // `y[:, 1] .= v` writes into `y` through the indexed view.
            let written = match indexed {
                true => format!("{name}[...]"),
                false => name.clone(),
            };
            let mut d = cx.diagnostic(self, file, site.func, site.span, String::new());
            d.message = format!(
                "`{written} {op} ...` writes into an array in differentiated code (reached from {}): Zygote raises \"Mutating arrays is not supported -- called copyto!(...)\" when the pullback runs; {}",
                cx.entry_phrase(&d),
                origin::describe(&name, &origin, cx, file)
            );
            d.help = Some(format!(
                "bind a new array instead (`{name} = ...` with the dotted expression) or return the result without writing into `{name}`"
            ).into());
            d.related.extend(origin::related(&origin, &name));
            out.push(d);
        }
        for (file, ci, call) in cx.reached_calls() {
            let Some(name) = call.name().map(|n| n.as_str()) else {
                continue;
            };
            let Some(row) = cx.knowledge().mutating(name) else {
                continue;
            };
            if row.via != "copyto!" || !super::mutating_call::is_library_call(cx, file, ci, call) {
                continue;
            }
            if !matches!(name, "copyto!" | "copy!" | "broadcast!") {
                continue;
            }
            let Some(dest) = cx.facts[file as usize].args(call.args).get(row.dest - 1) else {
                continue;
            };
            let origin = origin_of(cx, file, call.func, dest, call.span);
            if origin.is_supported() {
                continue;
            }
            let target = super::value_text(dest);
            let mut d = cx.diagnostic(self, file, call.func, call.span, String::new());
            d.message = format!(
                "`{name}` writes into `{target}` in differentiated code (reached from {}): Zygote raises \"Mutating arrays is not supported -- called copyto!(...)\" when the pullback runs; {}",
                cx.entry_phrase(&d),
                origin::describe(&target, &origin, cx, file)
            );
            d.help = Some("use the value directly (`copy(src)`, `f.(xs)`) instead of writing it into an existing array".into());
            d.related.extend(origin::related(&origin, &target));
            out.push(d);
        }
    }
}
