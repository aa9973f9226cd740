//! `try-catch`: `try` blocks in differentiated code, by Zygote version.

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};
use crate::facts::{FuncIdx, Name, SiteKind, Value};
use crate::index::FuncRef;
use crate::version::Version;

pub struct TryCatch;

/// The first release that differentiates the happy path of a `try` (PR #1474).
pub const HAPPY_PATH_SINCE: Version = Version(0, 6, 71);

const DOCS: &str = r#"## What it does
Reports `try` blocks (statements and `y = try ... end` expressions) in differentiated code.
The severity depends on the Zygote version adlint finds in `Manifest.toml` (or
`zygote-version` in `adlint.toml`, or `--zygote-version`).

## Why is this bad
Zygote 0.3.0 to 0.6.70 refuse any function that contains a `try`: the call to `gradient`
fails at once with `Compiling Tuple{typeof(f), ...}: try/catch is not supported.` (an
error). Since 0.6.71 the happy path works and differentiation fails only if the catch block
actually runs, in the reverse pass, with `Can't differentiate function execution in catch
block at file:line.` (a warning: it depends on the data). A `try ... finally` without
`catch` cannot fail that way on 0.6.71 and later and is not reported there. When no
version is known, adlint applies the newest behaviour and says what older versions do.
Where the entry's constant arguments send it into the catch block (a literal `true` passed
for the `cond` of `cond && throw(...)` or `if cond throw(...) end` in the `try`, as in
`pullback(f, true, 1.0)`), the failure is certain: an error, unless the test expects it
(`@test_throws` around the entry, or around a call of the pullback it returned).

## Example
```julia
using Zygote

function safe_sqrt(x)
    try
        sqrt(x)
    catch
        0.0
    end
end

gradient(safe_sqrt, 4.0)
```

## Use instead
```julia
using Zygote

safe_sqrt(x) = x >= 0 ? sqrt(x) : zero(x)

gradient(safe_sqrt, 4.0)
```
Test the condition instead of catching the exception and return a sentinel value, or move
the `try` into a function marked `ChainRulesCore.@non_differentiable` (when its result does
not need a gradient) or given an `rrule`.

## Fix safety
There is no automatic fix: the condition that replaces the `catch` depends on what can
throw. For the common domain errors the help rewrites the user's own `try e catch; s end`
(`sqrt(x)` -> `x < 0 ? s : sqrt(x)`, `log(x)` -> `x <= 0`); otherwise it says which call to
guard and shows the helper to give an `rrule`, as real code
(`myfun_or_fallback(x) = try myfun(x) catch; 0.0 end`).
"#;

impl Rule for TryCatch {
    fn name(&self) -> &'static str {
        "try-catch"
    }
    fn category(&self) -> Category {
        Category::TryCatch
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "`try` in differentiated code (fails when the catch block runs; always before Zygote 0.6.71)"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    /// The guidance shows the finding's own code rewritten, and stands in for the help
    /// `check` sets whenever it recognises that code.
    fn fixes(&self) -> &'static [FixBuilder] {
        &[FixBuilder::TryCatchGuidance]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        for (file, site) in cx.reached_sites() {
            let SiteKind::Try {
                has_catch,
                throws_when,
                ..
            } = site.kind
            else {
                continue;
            };
            let mut d = cx.diagnostic(self, file, site.func, site.span, String::new());
            let zygote = cx.versions_for(&d, file).zygote;
            let old = zygote.map(|v| v < HAPPY_PATH_SINCE);
            if old != Some(true) && !has_catch {
                continue;
            }
            let entry = cx.entry_phrase(&d);
            let into_catch = throws_when
                .filter(|_| has_catch && old != Some(true))
                .and_then(|flag| passes_true(cx, file, site.func, flag).map(|at| (flag, at)));
            if let Some((flag, at)) = into_catch {
                d.severity = Severity::Error;
                d.message = format!(
                    "`try` in differentiated code (reached from {entry}): the entry at {at} passes `true` for `{flag}`, so the `try` throws and its catch block runs; Zygote then fails in the reverse pass: \"Can't differentiate function execution in catch block\""
                );
                d.help = Some("test the failing condition instead of catching it (return a sentinel value), or move the `try` into a function with `@non_differentiable` or an `rrule`".into());
                out.push(d);
                continue;
            }
            match (old, zygote) {
                (Some(true), Some(v)) => {
                    d.severity = Severity::Error;
                    d.message = format!(
                        "`try` in differentiated code (reached from {entry}): Zygote {v} refuses the whole function when `gradient` is called: \"try/catch is not supported\""
                    );
                }
                (Some(false), Some(v)) => {
                    d.message = format!(
                        "`try` in differentiated code (reached from {entry}): with Zygote {v}, differentiation fails only if the catch block runs, in the reverse pass: \"Can't differentiate function execution in catch block\""
                    );
                }
                _ => {
                    d.message = format!(
                        "`try` in differentiated code (reached from {entry}): differentiation fails if the catch block runs (\"Can't differentiate function execution in catch block\"); Zygote 0.6.70 and older refuse any `try` (\"try/catch is not supported\")"
                    );
                }
            }
            d.help = Some("test the failing condition instead of catching it (return a sentinel value), or move the `try` into a function with `@non_differentiable` or an `rrule`".into());
            out.push(d);
        }
    }
}

/// Where an entry that differentiates `func` directly passes a literal `true` for its
/// parameter `flag` (`pullback(f, true, 1.0)` for `f(cond, x)`), outside
/// `@test_throws`/`@test_broken`: `file:line`.
fn passes_true(cx: &RuleContext, file: u32, func: FuncIdx, flag: Name) -> Option<String> {
    let index = cx.facts[file as usize].functions[func as usize].param_index_of(flag)?;
    let me = FuncRef { file, func };
    cx.graph.entries_of_root(me).find_map(|e| {
        let (first, count) = e.passes?;
        if e.expected_failure.is_some() || index as u32 >= count {
            return None;
        }
        let facts = &cx.facts[e.file as usize];
        let call = &facts.calls[e.call as usize];
        let arg = facts.args(call.args).get(first as usize + index)?;
        matches!(arg, Value::Bool(true)).then(|| {
            format!(
                "{}:{}",
                cx.files[e.file as usize].display,
                cx.line_of(e.file, call.span.start)
            )
        })
    })
}
