//! The diagnostic model shared by rules, suppression, renderers and the language server.

use crate::span::Span;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Mutation,
    TryCatch,
    Foreigncall,
    MutableStruct,
    BoxedVariable,
    NestedAd,
    Rebinding,
    Misuse,
    Deprecation,
    Meta,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Mutation,
        Category::TryCatch,
        Category::Foreigncall,
        Category::MutableStruct,
        Category::BoxedVariable,
        Category::NestedAd,
        Category::Rebinding,
        Category::Misuse,
        Category::Deprecation,
        Category::Meta,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Mutation => "mutation",
            Category::TryCatch => "try-catch",
            Category::Foreigncall => "foreigncall",
            Category::MutableStruct => "mutable-struct",
            Category::BoxedVariable => "boxed-variable",
            Category::NestedAd => "nested-ad",
            Category::Rebinding => "rebinding",
            Category::Misuse => "misuse",
            Category::Deprecation => "deprecation",
            Category::Meta => "meta",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// `error`: Zygote fails whenever the site runs; `warning`: it may fail or give wrong
/// gradients; `info`: a hint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A place in a workspace file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: u32,
    pub span: Span,
}

/// The entry point a finding is reached from.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    pub location: Location,
    pub api: crate::name::Name,
    pub function: std::sync::Arc<str>,
    /// The AD backend that runs it (`unknown`: may be Zygote).
    pub backend: crate::backend::Backend,
    /// The `@test_throws`/`@test_broken` the entry is in: the test expects the failure.
    pub expected_failure: Option<Location>,
    /// The program unit of the entry (`test suite of Lux`), when the workspace has more
    /// than one.
    pub unit: Option<std::sync::Arc<str>>,
}

/// One step of the call chain: the function entered and where the previous function
/// calls it (for the first step: the entry call).
#[derive(Debug, Clone)]
pub struct ChainStep {
    pub function: std::sync::Arc<str>,
    pub location: Location,
    /// The step is an over-approximation (dispatch on an unknown type, a model call).
    pub possible: bool,
    /// How many steps of the chain were left out just before this one ([`CHAIN_ENDS`]).
    pub skipped: u32,
}

/// How many steps a finding keeps at each end of a long call chain. The steps between are
/// left out (but for guessed ones, which decide how sure the finding is): 2,000 closures
/// nested in one another gave 4,000 findings with a chain as long as their depth each,
/// and checking them took 13 GB.
pub const CHAIN_ENDS: usize = 16;

/// Most places a finding lists as related (where a boxed variable is captured and
/// assigned).
pub const MAX_RELATED: usize = 16;

/// Whether a finding keeps step `i` of a call chain of `len` steps ([`CHAIN_ENDS`]).
pub fn keeps_step(len: usize, i: usize, possible: bool) -> bool {
    possible || i < CHAIN_ENDS || i + CHAIN_ENDS >= len
}

#[derive(Debug, Clone)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    Safe,
    Unsafe,
    DisplayOnly,
}

/// A fix builder, by name: what a rule lists in its `fixes`, in the order they run for each
/// of its findings. The code of each is in `src/fix/` (one file per builder); this name is
/// all a rule needs, so that rules come before fixes in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixBuilder {
    /// `z = similar(y); z .= f.(y)` and allocate-then-fill loops become a binding of a new
    /// array (`fix/rebind_local.rs`).
    RebindLocal,
    /// A helper that writes into its argument and returns it gets a non-mutating twin,
    /// called from differentiated code (`fix/non_mutating_variant.rs`).
    NonMutatingVariant,
    /// `g(y)` becomes `Zygote.forwarddiff(g, y)`, or a note says what in `g` cannot hold
    /// dual numbers (`fix/forwarddiff_wrap.rs`).
    ForwarddiffWrap,
    /// An `rrule` or `@non_differentiable` for the function around the finding
    /// (`fix/rrule_skeleton.rs`).
    RruleSkeleton,
    /// A `try` rewritten as a test of the failing case (`fix/guidance/try_catch.rs`).
    TryCatchGuidance,
    /// A field write rewritten with `Accessors.@set` (`fix/guidance/field.rs`).
    FieldGuidance,
    /// An inner gradient rewritten with ForwardDiff or `Zygote.hessian`
    /// (`fix/guidance/nested.rs`).
    NestedAdGuidance,
    /// A boxed capture rewritten with a `let` copy (`fix/guidance/boxed.rs`).
    BoxedGuidance,
}

/// What a builder gives, which says how its result joins the finding's fixes and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixKind {
    /// Rewrites of the statement the finding points at.
    Site,
    /// Rewrites of the function around the finding, and notes appended to the help when it
    /// declines: the same for every finding in that function, so built once per function.
    Function,
    /// Help that shows the user's own code rewritten. When the builder recognises the code
    /// it stands in for the generic help the rule set; otherwise the rule's help stays.
    Guidance,
}

impl FixBuilder {
    pub const ALL: [FixBuilder; 8] = [
        FixBuilder::RebindLocal,
        FixBuilder::NonMutatingVariant,
        FixBuilder::ForwarddiffWrap,
        FixBuilder::RruleSkeleton,
        FixBuilder::TryCatchGuidance,
        FixBuilder::FieldGuidance,
        FixBuilder::NestedAdGuidance,
        FixBuilder::BoxedGuidance,
    ];

    pub fn kind(self) -> FixKind {
        match self {
            FixBuilder::RebindLocal | FixBuilder::NonMutatingVariant => FixKind::Site,
            FixBuilder::ForwarddiffWrap | FixBuilder::RruleSkeleton => FixKind::Function,
            FixBuilder::TryCatchGuidance
            | FixBuilder::FieldGuidance
            | FixBuilder::NestedAdGuidance
            | FixBuilder::BoxedGuidance => FixKind::Guidance,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Edit {
    pub location: Location,
    pub replacement: String,
}

#[derive(Debug, Clone)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfirmationStatus {
    Confirmed,
    NotReproduced,
    NotRun,
}

#[derive(Debug, Clone)]
pub struct Confirmation {
    pub status: ConfirmationStatus,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub message: String,
    /// The usual rewrite, one line (most rules' is the same text for every finding).
    pub help: Option<std::borrow::Cow<'static, str>>,
    pub location: Location,
    pub entry: Option<EntryInfo>,
    pub entry_count: usize,
    pub chain: Vec<ChainStep>,
    pub related: Vec<Related>,
    pub fixes: Vec<Fix>,
    pub confirmation: Option<Confirmation>,
    /// The knowledge-table row the finding rests on (a library function's mutation or
    /// foreign call), with its provenance.
    pub knowledge: Option<String>,
    /// The function the site is in (for baselines and suppression).
    pub function: Option<std::sync::Arc<str>>,
}

impl Diagnostic {
    /// The steps of the call chain with their number in the whole chain (the entry call
    /// is 0), which counts the steps left out.
    pub fn chain_steps(&self) -> impl Iterator<Item = (usize, &ChainStep)> {
        let mut number = 0usize;
        self.chain.iter().map(move |step| {
            number += step.skipped as usize;
            let here = number;
            number += 1;
            (here, step)
        })
    }

    /// How many steps the whole call chain has, those left out included.
    pub fn chain_len(&self) -> usize {
        (self.chain.iter()).map(|s| 1 + s.skipped as usize).sum()
    }

    /// How many steps of the call chain were left out.
    pub fn chain_skipped(&self) -> usize {
        self.chain.iter().map(|s| s.skipped as usize).sum()
    }

    /// A finding of `rule` at `location`, with no entry, chain, help or fixes yet.
    pub fn new(
        rule: &'static str,
        category: Category,
        severity: Severity,
        message: String,
        location: Location,
    ) -> Diagnostic {
        Diagnostic {
            rule,
            category,
            severity,
            message,
            help: None,
            location,
            entry: None,
            entry_count: 0,
            chain: Vec::new(),
            related: Vec::new(),
            fixes: Vec::new(),
            confirmation: None,
            knowledge: None,
            function: None,
        }
    }

    /// Cuts what the finding echoes from the user's code: each `code` span of its message
    /// and related notes, and the function names of its entry and chain, to
    /// [`MAX_ECHO`] characters with an ellipsis (a name of 200,000 characters made every
    /// line of output that long). Help and fixes are code to insert, and are kept.
    pub fn bound_echoes(&mut self) {
        cut_spans(&mut self.message);
        for r in &mut self.related {
            cut_spans(&mut r.message);
        }
        for step in &mut self.chain {
            cut_arc(&mut step.function);
        }
        if let Some(e) = &mut self.entry {
            cut_arc(&mut e.function);
        }
        if let Some(f) = &mut self.function {
            cut_arc(f);
        }
    }
}

/// Longest name or code span a finding echoes, in characters.
pub const MAX_ECHO: usize = 120;

/// `s` cut to [`MAX_ECHO`] characters and an ellipsis, when longer.
pub fn cut_echo(s: &str) -> std::borrow::Cow<'_, str> {
    cut_to(s, MAX_ECHO)
}

/// `s` cut to `n` characters and an ellipsis, when longer.
pub fn cut_to(s: &str, n: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(n) {
        None => std::borrow::Cow::Borrowed(s),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}…", &s[..at])),
    }
}

fn cut_arc(name: &mut std::sync::Arc<str>) {
    if let std::borrow::Cow::Owned(cut) = cut_echo(name) {
        *name = cut.into();
    }
}

/// Each span between a pair of backticks in `text` cut by [`cut_echo`].
fn cut_spans(text: &mut String) {
    if text.len() <= MAX_ECHO {
        return;
    }
    let mut out = String::with_capacity(text.len().min(4 * MAX_ECHO));
    let mut rest = text.as_str();
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        out.push_str(&rest[..=open]);
        out.push_str(&cut_echo(&rest[open + 1..open + 1 + len]));
        out.push('`');
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    *text = out;
}

/// Text that comes from the user's files or code (a file name, a name or value echoed in
/// a message, the interpreter's output) with its control characters made visible: `\n`,
/// `\r`, `\u{1b}`. Printed raw, they move a terminal's cursor, change its colours, or
/// start a forged line in `concise` output. Tabs are kept.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(s, false)
}

/// [`visible`] for multi-line text (help with code, notes): its line breaks are kept.
pub fn visible_lines(s: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(s, true)
}

fn escape_controls(s: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() && c != '\t' && !(keep_lines && c == '\n');
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_code_spans_are_cut_and_short_ones_kept() {
        let long = "v".repeat(1000);
        let mut text = format!("`{long}[...] = ...` writes; `{long}` is an array; `x` too");
        cut_spans(&mut text);
        let cut = format!("`{}…`", "v".repeat(MAX_ECHO));
        assert_eq!(text, format!("{cut} writes; {cut} is an array; `x` too"));
        // An unpaired backtick ends the cutting, and nothing is lost before it.
        let mut odd = format!("`{long}` and ` {long}");
        cut_spans(&mut odd);
        assert!(odd.starts_with(&cut) && odd.ends_with(&long), "{odd}");
        let mut short = "`x[...] = ...` writes".to_string();
        cut_spans(&mut short);
        assert_eq!(short, "`x[...] = ...` writes");
    }
}
