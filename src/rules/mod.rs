//! The rules. How to add one:
//!
//! 1. Write `src/rules/<name>.rs` with a unit struct implementing [`Rule`]: a stable
//!    kebab-case name, a category, a default severity, a one-line summary and markdown docs
//!    with the sections *What it does*, *Why is this bad*, *Example* (a Julia block that
//!    triggers the rule), *Use instead* (one that does not) and *Fix safety*; the fix
//!    builders its findings get ([`Rule::fixes`]), and the help its `check` sets. The docs'
//!    examples are run by `tests/it/rule_docs.rs`.
//! 2. Add it to [`all_rules`]. That list is the only registry: valid names for `--select`,
//!    `adlint rules` and `adlint explain` all come from it.
//! 3. Add fixtures under `tests/` asserting exact rule, line and column.
//! 4. Publish its page: `ADLINT_BLESS=1 cargo test --test it published_docs` writes
//!    `docs/rules/<name>.md`, and the rule table of `README.md` gets a row.
//!
//! A fix the existing builders do not make needs a builder: a [`FixBuilder`] name, and its
//! code in `src/fix/` (see `src/fix/mod.rs`).
//!
//! A rule reads facts and reachability through [`RuleContext`] and pushes diagnostics; it
//! does not decide paths, suppression or exit codes.

mod boxed_variable;
mod broadcast_assignment;
mod foreign_call;
mod implicit_params;
mod index_assignment;
mod misuse;
mod mutable_struct;
mod mutating_call;
mod nested_ad;
pub mod origin;
mod rebinding;
mod try_catch;
pub mod unused_suppression;

use crate::callgraph::CallGraph;
use crate::diagnostic::{
    Category, ChainStep, Diagnostic, EntryInfo, FixBuilder, Location, Severity,
};
use crate::facts::{Call, FileFacts, FuncIdx, Site, Span};
use crate::index::{FuncRef, Index};
use crate::version::Version;
use crate::workspace::{SourceFile, Workspace};

pub trait Rule: Sync {
    fn name(&self) -> &'static str;
    fn category(&self) -> Category;
    fn default_severity(&self) -> Severity;
    fn summary(&self) -> &'static str;
    fn docs(&self) -> &'static str;
    /// The fix builders of `src/fix/` run for each finding, in this order: their rewrites
    /// are offered most specific first, and a builder of kind
    /// [`Guidance`](crate::diagnostic::FixKind::Guidance) replaces the
    /// help `check` set when it recognises the code. Every rule states its list (empty when
    /// it has none) rather than inherit a default, so that its file tells the whole story.
    fn fixes(&self) -> &'static [FixBuilder];
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>);
}

/// Every rule, in the order `adlint rules` lists them.
pub fn all_rules() -> Vec<&'static dyn Rule> {
    vec![
        &index_assignment::IndexAssignment,
        &broadcast_assignment::BroadcastAssignment,
        &mutating_call::MutatingCall,
        &try_catch::TryCatch,
        &foreign_call::ForeignCall,
        &mutable_struct::MutableStructField,
        &boxed_variable::BoxedVariable,
        &rebinding::TypeChangingRebinding,
        &nested_ad::NestedAd,
        &misuse::FrozenBufferWrite,
        &misuse::IgnoreDerivativesExpression,
        &misuse::CheckpointedNotEscape,
        &misuse::RruleNotImported,
        &implicit_params::ImplicitParams,
        &unused_suppression::UnusedSuppression,
    ]
}

/// A rule's documentation page: what `adlint explain RULE` prints and `docs/rules/RULE.md`
/// holds.
pub fn explain_text(rule: &dyn Rule) -> String {
    format!(
        "# {} ({}, {})\n\n{}\n",
        rule.name(),
        rule.category().as_str(),
        rule.default_severity().as_str(),
        rule.docs().trim_end()
    )
}

/// Where a rule's documentation is published (the same text as `adlint explain RULE`).
pub fn docs_url(rule: &str) -> String {
    format!("https://github.com/adlint/adlint/blob/main/docs/rules/{rule}.md")
}

pub fn rule_by_name(name: &str) -> Option<&'static dyn Rule> {
    all_rules().into_iter().find(|r| r.name() == name)
}

/// Rule names, categories and `ALL`: what `select`, `ignore` and suppressions accept.
pub fn selector_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = all_rules().iter().map(|r| r.name()).collect();
    names.extend(Category::ALL.iter().map(|c| c.as_str()));
    names.push("ALL");
    names
}

/// Whether a name is a rule, a category or `ALL`.
pub fn is_selector(s: &str) -> bool {
    s == "ALL" || Category::parse(s).is_some() || rule_by_name(s).is_some()
}

/// The first rule name or category of a config file that names no rule or category.
pub fn check_config(config: &crate::config::Config) -> Result<(), crate::config::ConfigError> {
    config.check_selectors(is_selector, &selector_names())
}

/// [`check_config`] for every config file of a workspace.
pub fn check_configs(workspace: &Workspace) -> Result<(), crate::config::ConfigError> {
    workspace.configs.iter().try_for_each(check_config)
}

/// Facts about the environment that change what Zygote does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The workspace's versions: the command line's or the config's Zygote version, else
    /// the root manifest's.
    pub zygote: Option<Version>,
    pub flux: Option<Version>,
    pub julia: Option<Version>,
    /// Whether `zygote` was given (command line, config): it then holds for every unit.
    pub zygote_given: bool,
    /// Versions from the manifest of the environment each program unit runs in (a test
    /// suite's, an example's), by unit; missing ones fall back to the workspace's.
    pub units: Vec<crate::version::Versions>,
    /// The embedded tables plus the config's `[entry-points]` and `[knowledge]`.
    pub knowledge: std::sync::Arc<crate::knowledge::Knowledge>,
}

pub struct RuleContext<'a> {
    pub files: &'a [SourceFile],
    pub facts: &'a [FileFacts],
    pub index: &'a Index,
    pub graph: &'a CallGraph,
    pub settings: &'a Settings,
    /// Where a name is a parameter or assigned, looking out from a function
    /// ([`crate::facts::first_around`]), for the rules that follow a value to its origin.
    pub binders: crate::facts::AroundMemo,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            zygote: None,
            flux: None,
            julia: None,
            zygote_given: false,
            units: Vec::new(),
            knowledge: std::sync::Arc::clone(crate::knowledge::builtin()),
        }
    }
}

impl Settings {
    /// The versions code of `unit` runs with.
    pub fn versions_of(&self, unit: u32) -> crate::version::Versions {
        let own = self.units.get(unit as usize);
        crate::version::Versions {
            zygote: match self.zygote_given {
                true => self.zygote,
                false => own.and_then(|v| v.zygote).or(self.zygote),
            },
            flux: own.and_then(|v| v.flux).or(self.flux),
            julia: own.and_then(|v| v.julia).or(self.julia),
            packages: own.map(|v| v.packages.clone()).unwrap_or_default(),
        }
    }
}

impl<'a> RuleContext<'a> {
    pub fn new(
        files: &'a [SourceFile],
        facts: &'a [FileFacts],
        index: &'a Index,
        graph: &'a CallGraph,
        settings: &'a Settings,
    ) -> Self {
        RuleContext {
            files,
            facts,
            index,
            graph,
            settings,
            binders: Default::default(),
        }
    }
}

impl RuleContext<'_> {
    /// The versions of the environment a finding's code runs in: that of the entry's
    /// program when the diagnostic has an entry, else of the file's own.
    pub fn versions_for(&self, d: &Diagnostic, file: u32) -> crate::version::Versions {
        let at = d.entry.as_ref().map_or(file, |e| e.location.file);
        self.settings.versions_of(self.index.unit_of(at))
    }

    /// Whether the code at `span` of `file` runs only on Julia older than `since`: it is
    /// inside a branch on `VERSION` that no Julia at or above `since` takes (the `else` of
    /// `if VERSION >= v"1.11"`), whatever the manifest says.
    pub fn only_below(&self, file: u32, span: Span, since: crate::version::Version) -> bool {
        let newest = crate::version::Version(u32::MAX, 0, 0);
        (self.facts[file as usize].guards.iter())
            .filter(|g| g.span.contains(span))
            .any(|g| {
                // Comparisons are monotone in the version: refused at `since` and at the
                // newest, refused in between.
                let refused = |v| g.cond.version_holds(v).is_some_and(|h| h != g.holds);
                !matches!(
                    g.cond,
                    crate::facts::Cond::Version(crate::facts::Cmp::Eq | crate::facts::Cmp::Ne, _)
                ) && refused(since)
                    && refused(newest)
            })
    }

    /// What adlint knows about functions outside the workspace, for this run.
    pub fn knowledge(&self) -> &crate::knowledge::Knowledge {
        &self.settings.knowledge
    }
}

impl<'a> RuleContext<'a> {
    /// Sites inside differentiated code.
    pub fn reached_sites(&self) -> impl Iterator<Item = (u32, &'a Site)> + '_ {
        self.facts.iter().enumerate().flat_map(move |(fi, facts)| {
            facts
                .sites
                .iter()
                .filter(move |s| {
                    self.graph.is_reached(FuncRef {
                        file: fi as u32,
                        func: s.func,
                    }) && !self.graph.is_dead(fi as u32, s.span)
                })
                .map(move |s| (fi as u32, s))
        })
    }

    /// Calls inside differentiated code, with their index in the file.
    pub fn reached_calls(&self) -> impl Iterator<Item = (u32, u32, &'a Call)> + '_ {
        self.facts.iter().enumerate().flat_map(move |(fi, facts)| {
            facts
                .calls
                .iter()
                .enumerate()
                .filter(move |(_, c)| {
                    self.graph.is_reached(FuncRef {
                        file: fi as u32,
                        func: c.func,
                    }) && !self.graph.is_dead(fi as u32, c.span)
                })
                .map(move |(ci, c)| (fi as u32, ci as u32, c))
        })
    }

    /// Whether a call resolved to workspace code (so it is not a library function).
    /// Methods the workspace adds to a function defined elsewhere (`Base.push!` for its
    /// own buffer type) do not make a call to that function the workspace's: they run
    /// only for their own types.
    pub fn is_workspace_call(&self, file: u32, call: u32) -> bool {
        let Some(name) = self.facts[file as usize].calls[call as usize].name() else {
            return false;
        };
        (self.graph.targets_of(file, call).into_iter())
            .any(|t| !self.index.extends_external(t, name, self.facts))
    }

    pub fn source(&self, file: u32) -> &'a str {
        &self.files[file as usize].text
    }

    pub fn text(&self, file: u32, span: Span) -> &'a str {
        self.source(file).get(span.range()).unwrap_or("")
    }

    pub fn line_of(&self, file: u32, byte: u32) -> usize {
        self.facts[file as usize].line_index.line_of(byte as usize) + 1
    }

    pub fn function_name(&self, f: FuncRef) -> String {
        let facts = &self.facts[f.file as usize];
        facts.functions[f.func as usize].display_name(facts)
    }

    /// A diagnostic at `span` inside reached function `func`, with its entry and chain.
    pub fn diagnostic(
        &self,
        rule: &dyn Rule,
        file: u32,
        func: FuncIdx,
        span: Span,
        message: String,
    ) -> Diagnostic {
        let f = FuncRef { file, func };
        // Display names are shared by the steps that name the same function (the entry's
        // root and the first step; the last step and the finding's function).
        let name_of_f: std::sync::Arc<str> = self.function_name(f).into();
        let name = |g: FuncRef| -> std::sync::Arc<str> {
            match g == f {
                true => name_of_f.clone(),
                false => self.function_name(g).into(),
            }
        };
        let (category, severity) = (rule.category(), rule.default_severity());
        let at = Location { file, span };
        let mut d = Diagnostic::new(rule.name(), category, severity, message, at);
        d.function = Some(name_of_f.clone());
        if let Some(reach) = self.graph.reach_of(f) {
            let entry = &self.graph.entries[reach.entry as usize];
            let call = &self.facts[entry.file as usize].calls[entry.call as usize];
            let entry_loc = Location {
                file: entry.file,
                span: call.span,
            };
            let root = name(self.graph.root_of(f));
            d.entry = Some(EntryInfo {
                location: entry_loc,
                api: entry.api,
                function: root.clone(),
                backend: entry.backend,
                expected_failure: entry.expected_failure.map(|span| Location {
                    file: entry.file,
                    span,
                }),
                unit: self.index.units.label_of_file(entry.file).map(Into::into),
            });
            d.chain.push(ChainStep {
                function: root,
                location: entry_loc,
                possible: false,
                skipped: 0,
            });
            // A long chain keeps its ends and its guessed steps ([`crate::diagnostic::keeps_step`]).
            for (e, skipped) in self.graph.kept_chain(f) {
                let edge = self.graph.graph[e];
                let (src, dst) = self.graph.graph.edge_endpoints(e).expect("edge exists");
                let src = self.graph.graph[src];
                d.chain.push(ChainStep {
                    function: name(self.graph.graph[dst]),
                    location: Location {
                        file: src.file,
                        span: edge.site,
                    },
                    possible: edge.possible,
                    skipped,
                });
            }
            d.entry_count = self.graph.entry_count(f);
        }
        d
    }

    /// "`Zygote.gradient` at train.jl:12" for messages ("reached from ..."), naming the
    /// entry's program unit when the workspace has several ("in test suite of Lux").
    pub fn entry_phrase(&self, d: &Diagnostic) -> String {
        match &d.entry {
            Some(e) => {
                let unit = match &e.unit {
                    Some(u) => format!(" in {u}"),
                    None => String::new(),
                };
                // The backend, where the API does not say it: `DI.gradient` (Zygote).
                let named = (self.knowledge().profile(e.backend))
                    .filter(|_| e.backend != crate::backend::Backend::Unknown)
                    .map(|p| p.name.as_str())
                    .filter(|name| {
                        !(e.api.strip_prefix(name)).is_some_and(|rest| rest.starts_with('.'))
                            && !e.api.ends_with('\'')
                    });
                let backend = match named {
                    Some(name) => format!(" ({name})"),
                    None => String::new(),
                };
                format!(
                    "`{}`{backend} at {}:{}{unit}",
                    e.api,
                    self.files[e.location.file as usize].display,
                    self.line_of(e.location.file, e.location.span.start)
                )
            }
            None => "an entry point".to_string(),
        }
    }
}

/// Run every rule (side by side: they only read the context) and sort the result by path,
/// line, column, rule.
pub fn run_all(cx: &RuleContext, rules: &[&dyn Rule]) -> Vec<Diagnostic> {
    run_all_with(cx, rules, &|| {})
}

/// [`run_all`], calling `done` after each rule has checked the workspace (for progress).
pub fn run_all_with(
    cx: &RuleContext,
    rules: &[&dyn Rule],
    done: &(dyn Fn() + Sync),
) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let mut out: Vec<Diagnostic> = rules
        .par_iter()
        .flat_map_iter(|rule| {
            let mut found = Vec::new();
            rule.check(cx, &mut found);
            done();
            found
        })
        .collect();
    out.sort_by(|a, b| {
        (
            &cx.files[a.location.file as usize].display,
            a.location.span.start,
            a.rule,
        )
            .cmp(&(
                &cx.files[b.location.file as usize].display,
                b.location.span.start,
                b.rule,
            ))
    });
    out.dedup_by(|a, b| a.rule == b.rule && a.location == b.location);
    out
}

/// A value as users wrote it, for messages: `x`, `m.W`.
pub fn value_text(v: &crate::facts::Value) -> String {
    use crate::facts::Value;
    match v {
        Value::Ident(n) => n.to_string(),
        Value::Path(p) => p.join("."),
        Value::Call { callee, .. } => format!("{}(...)", callee.join(".")),
        _ => "the array".to_string(),
    }
}
