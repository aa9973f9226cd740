//! `type-changing-rebinding`: an accumulator that starts as an integer and is updated in a
//! loop, in differentiated code (a hint).

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::{Assign, AssignKind, FuncIdx, Name};
use crate::index::FuncRef;
use std::collections::HashMap;

pub struct TypeChangingRebinding;

const DOCS: &str = r#"## What it does
Gives a hint when a variable starts as an integer literal (`tot = 0`) and is re-bound in a
loop (`tot += x^i`) in differentiated code, so its type likely changes from `Int` to a
float on the first iteration. Without a closure the variable is not boxed, so this is only
a hint; captured by a closure it is a `boxed-variable` finding instead.

## Why is this bad
Zygote's limitations page: re-binding "sometimes confuses Zygote, especially if the type of
the value changes". A type-unstable accumulator also makes the forward pass slower.

## Example
```julia
using Zygote

function mysum(x::Real, n::Int)
    tot = 0
    for i in 1:n
        tot += x^i
    end
    return tot
end

gradient(x -> mysum(x, 3), 2.0)
```

## Use instead
```julia
using Zygote

function mysum(x::Real, n::Int)
    tot = zero(x)
    for i in 1:n
        tot += x^i
    end
    return tot
end

gradient(x -> mysum(x, 3), 2.0)
```
Start the accumulator with a value of the final type: `zero(x)`, `0.0`, `zero(eltype(x))`.

## Fix safety
Replacing `0` with `zero(x)` is only equivalent when `x` has the accumulated type; shown,
not applied.
"#;

impl Rule for TypeChangingRebinding {
    fn name(&self) -> &'static str {
        "type-changing-rebinding"
    }
    fn category(&self) -> Category {
        Category::Rebinding
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "integer accumulator re-bound in a loop in differentiated code (its type changes)"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        for (fi, facts) in cx.facts.iter().enumerate() {
            let file = fi as u32;
            // The updates in loops by function and variable, in order: looking for them
            // among all assignments once per literal made a long function quadratic.
            let mut updates: HashMap<(FuncIdx, Name), Vec<&Assign>> = HashMap::new();
            for u in (facts.assigns.iter()).filter(|u| u.kind == AssignKind::Update && u.in_loop) {
                updates.entry((u.func, u.var)).or_default().push(u);
            }
            for init in facts.assigns.iter().filter(|a| a.kind == AssignKind::Plain) {
                if !cx.graph.is_reached(FuncRef {
                    file,
                    func: init.func,
                }) {
                    continue;
                }
                let text = cx.text(file, init.span);
                let rhs = text.split_once('=').map(|(_, r)| r.trim()).unwrap_or("");
                if rhs.is_empty() || !rhs.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                let update = (updates.get(&(init.func, init.var)))
                    .and_then(|us| us.iter().find(|u| u.span.start > init.span.start));
                let Some(update) = update else { continue };
                let op = cx.text(file, update.span);
                if !(op.contains("+=")
                    || op.contains("*=")
                    || op.contains("-=")
                    || op.contains("/="))
                {
                    continue;
                }
                let mut d = cx.diagnostic(self, file, init.func, init.span, String::new());
                d.message = format!(
                    "`{}` starts as the integer `{rhs}` and is re-bound in a loop (line {}): its type likely changes, which Zygote's documentation warns can confuse it",
                    init.var,
                    cx.line_of(file, update.span.start)
                );
                d.help = Some(format!("start with a value of the accumulated type, such as `{} = zero(x)` or `{} = 0.0`", init.var, init.var).into());
                out.push(d);
            }
        }
    }
}
