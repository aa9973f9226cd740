//! `mutable-struct-field`: `x.f = v` on a mutable struct in differentiated code.

use super::origin::struct_type_of;
use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::{SiteKind, Value};

pub struct MutableStructField;

const DOCS: &str = r#"## What it does
Reports field assignment (`x.f = v`, also inside `x.f, y = ...`, and the calls
`setproperty!`/`setfield!`) on an instance of a `mutable struct` in differentiated code.
The type comes from argument annotations, the object of a call method (`(m::T)(x)`),
constructor calls, and, when none of these tells, from the workspace's mutable structs
that have a field of that name.

## Why is this bad
Zygote accepts it (`setfield!` has an adjoint that keeps the field's gradient in a side
table), but the support is fragile: gradients of mutable structs held in arrays or tuples
have been wrong or `nothing` across versions, and accumulation can fail with
`MethodError: no method matching +(::Base.RefValue{Any}, ::NamedTuple...)`. Zygote's
documentation says to avoid it. Writing into an array held in a field (`m.W .= ...`,
`m.W[i] = v`, `push!(m.buf, x)`) is array mutation and is reported by the mutation rules.
Field assignment on an immutable struct is a Julia error, not reported here.
Writing a literal (a counter `o.n += 1`, a flag `m.done = true`) carries no gradient: that
is only an `info` hint.

## Example
```julia
using Zygote

mutable struct Holder
    c
end

function f(a, s)
    s.c = 2 .* a
    return sum(s.c)
end

s = Holder(zeros(3))
gradient(a -> f(a, s), rand(3))
```

## Use instead
```julia
using Zygote

struct Holder
    c
end

f(a, s) = sum(Holder(2 .* a).c)

s = Holder(zeros(3))
gradient(a -> f(a, s), rand(3))
```
Use immutable structs and build a new value instead of changing a field
(`Accessors.@set s.c = v` returns a modified copy). For state that must change during the
forward pass (running statistics, recurrent state), update it outside the differentiated
function or under `ignore_derivatives`.

## Fix safety
Changing a struct to immutable changes every place that mutates it; never automatic. The
help shows the finding's own write rewritten with Accessors.jl: `m.a = v` ->
`m = Accessors.@set m.a = v`.
"#;

impl Rule for MutableStructField {
    fn name(&self) -> &'static str {
        "mutable-struct-field"
    }
    fn category(&self) -> Category {
        Category::MutableStruct
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "`x.f = v` on a mutable struct in differentiated code (supported, but fragile gradients)"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    /// The guidance shows the finding's own code rewritten, and stands in for the help
    /// `check` sets whenever it recognises that code.
    fn fixes(&self) -> &'static [FixBuilder] {
        &[FixBuilder::FieldGuidance]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        let mut sites: Vec<(u32, u32, crate::facts::Span, Value, String)> = Vec::new();
        for (file, site) in cx.reached_sites() {
            if let SiteKind::FieldAssign { object, field } = &site.kind {
                sites.push((
                    file,
                    site.func,
                    site.span,
                    object.clone(),
                    field.to_string(),
                ));
            }
        }
        for (file, _, call) in cx.reached_calls() {
            if matches!(
                call.name().map(|n| n.as_str()),
                Some("setproperty!" | "setfield!")
            ) && call.args.len() >= 3
            {
                // The field is a quoted symbol (`:f`), not kept in the call's summary.
                sites.push((
                    file,
                    call.func,
                    call.span,
                    cx.facts[file as usize].args(call.args)[0].clone(),
                    String::new(),
                ));
            }
        }
        for (file, func, span, object, field) in sites {
            let obj = super::value_text(&object);
            let (ty, certain) = match struct_type_of(cx, file, func, &object) {
                Some(t) => match crate::name::Name::lookup(&t)
                    .and_then(|n| cx.index.struct_mutability(n, cx.facts))
                {
                    Some(true) => (t, true),
                    // Immutable: Julia itself refuses the assignment. Unknown: not ours.
                    _ => continue,
                },
                None => match mutable_with_field(cx, &field) {
                    Some(t) => (t, false),
                    None => continue,
                },
            };
            let field = if field.is_empty() {
                "<field>".to_string()
            } else {
                field
            };
            let mut d = cx.diagnostic(self, file, func, span, String::new());
            let how = if certain {
                format!("`{obj}` is a `{ty}`, a mutable struct")
            } else {
                format!("`{obj}` may be a `{ty}`, a mutable struct with a field `{field}`")
            };
            d.message = format!(
                "field assignment `{obj}.{field} = ...` in differentiated code (reached from {}): {how}; Zygote supports this through a side table, but its gradients are fragile",
                cx.entry_phrase(&d)
            );
            d.help = Some(format!(
                "make `{ty}` immutable and build a new value (`Accessors.@set {obj}.{field} = ...`), or update the field outside differentiation"
            ).into());
            // A counter or a flag (`o.ncalls += 1`, `m.done = true`): no gradient flows
            // through the field, and Zygote's own test of such a counter passes.
            if writes_constant(cx.text(file, span)) {
                d.severity = Severity::Info;
                d.message.push_str(
                    "; the value written is a constant (a counter or a flag), so no gradient flows through the field",
                );
            }
            out.push(d);
        }
    }
}

/// Whether a field assignment writes a literal: `x.f = 0`, `x.f = true`, `x.f += 1`.
fn writes_constant(text: &str) -> bool {
    let Some((_, rhs)) = text.split_once('=') else {
        return false;
    };
    let rhs = rhs.trim();
    rhs.parse::<f64>().is_ok()
        || matches!(rhs, "true" | "false" | "nothing")
        || (rhs.starts_with(':') && rhs[1..].chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// A workspace mutable struct that has `field`, for objects whose type is unknown.
fn mutable_with_field(cx: &RuleContext, field: &str) -> Option<String> {
    let mut names: Vec<&crate::facts::Name> = cx
        .facts
        .iter()
        .flat_map(|f| f.structs.iter())
        .filter(|s| s.mutable && s.fields.iter().any(|f| f == field))
        .map(|s| &s.name)
        .collect();
    names.sort();
    names.first().map(|s| s.to_string())
}
