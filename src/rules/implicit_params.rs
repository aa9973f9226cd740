//! `implicit-params`: the deprecated implicit-parameters style of `gradient`.

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::version::Version;

pub struct ImplicitParams;

/// The release that deprecated `pullback(f, ::Params)` (PR #1629).
const DEPRECATED_SINCE: Version = Version(0, 7, 11);

const DOCS: &str = r#"## What it does
Reports entry points that use implicit parameters: `gradient(() -> loss(x), ps)` with
`ps = Flux.params(model)` or `Params([...])`, and `Flux.train!(loss, ps, data, opt)`, on
Zygote 0.7.11 and later (or when the version is not known).

## Why is this bad
Zygote deprecated implicit `Params` in 0.7.11 and Flux removed them from its training API;
they also hide which arrays are differentiated, so findings through captured globals are
easy to miss.

## Example
```julia
using Flux

model = Dense(2 => 1)
x = rand(Float32, 2, 4)
ps = Flux.params(model)
gradient(() -> sum(model(x)), ps)
```

## Use instead
```julia
using Flux

model = Dense(2 => 1)
x = rand(Float32, 2, 4)
Flux.gradient(m -> sum(m(x)), model)
```

## Fix safety
Moving to explicit gradients changes the shape of the result; no automatic fix.
"#;

impl Rule for ImplicitParams {
    fn name(&self) -> &'static str {
        "implicit-params"
    }
    fn category(&self) -> Category {
        Category::Deprecation
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "implicit `Params` gradient (deprecated since Zygote 0.7.11)"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        for entry in &cx.graph.entries {
            if !entry.implicit_params || !cx.files[entry.file as usize].reported {
                continue;
            }
            let zygote = cx.settings.versions_of(cx.index.unit_of(entry.file)).zygote;
            if zygote.is_some_and(|v| v < DEPRECATED_SINCE) {
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
            d.entry = None;
            d.chain.clear();
            d.message = format!(
                "`{}` with implicit parameters (`Params`) is deprecated since Zygote 0.7.11",
                entry.api
            );
            d.help = Some("differentiate with respect to the model explicitly: `Flux.gradient(m -> loss(m, x), model)`".into());
            out.push(d);
        }
    }
}
