//! `unused-suppression`: the meta rule for `# adlint: ignore` directives. Its findings are
//! made by the suppression pass (`crate::suppress::apply`), which is the only place that
//! knows which directives hid a finding; this entry gives it a name, docs and selection.

use super::{Rule, RuleContext};
use crate::diagnostic::{Category, Diagnostic, FixBuilder, Severity};

pub struct UnusedSuppression;

/// The rule's name, which the suppression pass gives the findings it makes.
pub const NAME: &str = "unused-suppression";

const DOCS: &str = r#"## What it does
Reports `# adlint: ignore[...]` directives that suppress nothing (the code was fixed, or the
rule name is wrong), and blanket `# adlint: ignore` directives that name no rule.

## Why is this bad
A stale directive hides the next real finding on that line; a blanket one hides every rule,
including ones added later.

## Example
```julia
using Zygote

# adlint: ignore[index-assignment] this helper used to write into its input
double(x) = 2 .* x

gradient(x -> sum(double(x)), rand(3))
```

## Use instead
```julia
using Zygote

double(x) = 2 .* x

gradient(x -> sum(double(x)), rand(3))
```

## Fix safety
Deleting an unused directive changes nothing else; not yet offered as a fix.
"#;

impl Rule for UnusedSuppression {
    fn name(&self) -> &'static str {
        NAME
    }
    fn category(&self) -> Category {
        Category::Meta
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "`# adlint: ignore` that suppresses nothing, or names no rule"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    fn fixes(&self) -> &'static [FixBuilder] {
        &[]
    }
    fn check(&self, _cx: &RuleContext, _out: &mut Vec<Diagnostic>) {
        // Produced after every other rule ran, by `suppress::apply`.
    }
}
