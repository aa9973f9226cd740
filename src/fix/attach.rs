//! The driver of the fix builders: [`attach`] runs, for each diagnostic, the builders its
//! rule lists, keeps the rewrites that delete no comment, gives each edit the line ending of
//! its file, and sets the help (a builder's guidance in place of the rule's, with the
//! builders' notes after it).

use super::tree::{FileCx, FileMemo, Trees};
use super::{forwarddiff_wrap, guidance, non_mutating_variant, rebind_local, rrule_skeleton};
use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Fix, FixBuilder};
use crate::facts::FuncIdx;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tree_sitter::{Node, Tree};

/// Which diagnostics [`attach`] builds fixes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixScope {
    /// Every diagnostic (the command line).
    All,
    /// Those of the files whose trees the caller gave (the editor's open documents, where
    /// code actions are asked for); the others keep their rule's help.
    GivenTrees,
}

/// Attach fixes (and pattern-specific help) to the diagnostics of the analysis in `scope`.
/// `trees` holds parses of some files (by index) made already; the others are parsed on
/// demand.
pub fn attach(analysis: &mut Analysis, trees: HashMap<u32, Tree>, scope: FixScope) {
    use rayon::prelude::*;
    // Diagnostics come file by file; each file's are built on their own (in parallel),
    // with the statements of that file parsed once and dropped when it is done.
    let wanted = |file: u32| scope == FixScope::All || trees.contains_key(&file);
    let fixes_of: HashMap<&str, &[FixBuilder]> = (crate::rules::all_rules().into_iter())
        .map(|r| (r.name(), r.fixes()))
        .collect();
    let files: Vec<&[Diagnostic]> = analysis
        .diagnostics
        .chunk_by(|a, b| a.location.file == b.location.file)
        .collect();
    let built: Vec<Option<(Vec<Fix>, Option<String>)>> = files
        .par_iter()
        .flat_map_iter(|ds| {
            let b = Builder::new(analysis, &trees, &fixes_of);
            match wanted(ds[0].location.file) {
                true => b.build_file(ds).into_iter().map(Some).collect(),
                false => vec![None; ds.len()],
            }
        })
        .collect();
    for (d, built) in analysis.diagnostics.iter_mut().zip(built) {
        let Some((fixes, help)) = built else { continue };
        d.fixes = fixes;
        if let Some(help) = help {
            d.help = Some(help.into());
        }
    }
}

struct Builder<'a> {
    a: &'a Analysis,
    trees: Trees<'a>,
    /// The builders of each rule ([`crate::rules::Rule::fixes`]), by rule name.
    fixes_of: &'a HashMap<&'static str, &'static [FixBuilder]>,
    /// What the builders that look only at the function found, by builder and function:
    /// every finding of a function shares it (a function of 4,000 writes is walked once,
    /// not 4,000 times).
    per_function: RefCell<HashMap<(FixBuilder, FuncIdx), Rc<Found>>>,
    /// The same for the builders that look at one written variable of the function: every
    /// write of `x` in a function shares what they found for `x`.
    per_variable: RefCell<HashMap<(FixBuilder, FuncIdx, String), Rc<Found>>>,
    /// Lookups in the file the builders share ([`FileMemo`]); a builder handles one file.
    memo: FileMemo,
    /// Bytes of functions the whole-function builders have looked at ([`Builder::afford`]).
    walked: std::cell::Cell<u64>,
}

/// How many times the size of its file the whole-function builders of a file may look at
/// ([`Builder::afford`]), and bytes they may look at in any file.
const WALK_BUDGET: u64 = 8;
const WALK_FLOOR: u64 = 1 << 20;

/// The note of a function the builders did not look at ([`Builder::afford`]).
fn over_budget(cx: &FileCx, func: FuncIdx) -> String {
    let name = cx.facts.functions[func as usize].display_name(cx.facts);
    format!(
        "no rewrite of `{}` was built: the functions of this file nest so deep that building one for each would take too long",
        crate::diagnostic::cut_echo(&name)
    )
}

/// What one builder found: fixes, and a sentence for the help when it declined for a
/// reason the user should know.
#[derive(Default)]
pub(super) struct Found {
    pub(super) fixes: Vec<Fix>,
    pub(super) notes: Vec<String>,
}

/// The code of a builder, by the kind of what it gives ([`FixKind`]).
enum Code {
    Site(fn(&FileCx, &Tree, Node, FuncIdx, &mut Found)),
    /// Given the function it is for: `owner`'s answer for the function around the
    /// finding (none: nothing to build).
    Function {
        owner: fn(&FileCx, FuncIdx) -> Option<FuncIdx>,
        build: fn(&FileCx, &Tree, FuncIdx, &mut Found),
    },
    /// Given the variable the finding writes ([`super::rebinding::written_name`]).
    Variable(fn(&FileCx, &Tree, FuncIdx, &str, &mut Found)),
    /// Given the node the finding points at; `None` when the code is not recognised.
    Guidance(fn(&FileCx, &Tree, Node, &Diagnostic) -> Option<String>),
}

/// The code each builder name stands for.
fn code(builder: FixBuilder) -> Code {
    match builder {
        FixBuilder::RebindLocal => Code::Site(rebind_local::build),
        FixBuilder::NonMutatingVariant => Code::Variable(non_mutating_variant::build),
        FixBuilder::ForwarddiffWrap => Code::Function {
            owner: |_, func| Some(func),
            build: forwarddiff_wrap::build,
        },
        FixBuilder::RruleSkeleton => Code::Function {
            owner: rrule_skeleton::owner,
            build: rrule_skeleton::build,
        },
        FixBuilder::TryCatchGuidance => {
            Code::Guidance(|cx, _, site, _| guidance::try_catch::build(cx, site))
        }
        FixBuilder::FieldGuidance => {
            Code::Guidance(|cx, _, site, _| guidance::field::build(cx, site))
        }
        FixBuilder::NestedAdGuidance => {
            Code::Guidance(|cx, _, site, _| guidance::nested::build(cx, site))
        }
        FixBuilder::BoxedGuidance => {
            Code::Guidance(|cx, tree, _, d| guidance::boxed::build(cx, tree, d))
        }
    }
}

impl<'a> Builder<'a> {
    fn new(
        a: &'a Analysis,
        trees: &'a HashMap<u32, Tree>,
        fixes_of: &'a HashMap<&'static str, &'static [FixBuilder]>,
    ) -> Self {
        Builder {
            a,
            trees: Trees {
                a,
                given: trees,
                parsed: Default::default(),
            },
            fixes_of,
            per_function: RefCell::default(),
            per_variable: RefCell::default(),
            memo: FileMemo::default(),
            walked: Default::default(),
        }
    }

    /// The fixes and help of each of `ds`, the findings of one file in order
    /// ([`Self::build`]). The findings in one statement share its tree and the walk
    /// that finds the nodes they point at.
    fn build_file(&self, ds: &[Diagnostic]) -> Vec<(Vec<Fix>, Option<String>)> {
        let file = ds[0].location.file;
        let facts = &self.a.facts[file as usize];
        // The function around each finding, and the key of the tree that holds it.
        let funcs: Vec<Option<(FuncIdx, (u32, crate::facts::Span))>> = {
            let cx = self.cx(file);
            (ds.iter())
                .map(|d| {
                    let func = cx.innermost_function(d.location.span)?;
                    let span = facts.functions[func as usize].span;
                    Some((func, self.trees.key(file, span)))
                })
                .collect()
        };
        let mut out = Vec::with_capacity(ds.len());
        let mut i = 0;
        while i < ds.len() {
            let Some((_, key)) = funcs[i] else {
                out.push((Vec::new(), None));
                i += 1;
                continue;
            };
            let end = i
                + (funcs[i..].iter())
                    .take_while(|f| f.is_some_and(|(_, k)| k == key))
                    .count();
            // The statement is parsed again, and its sites found, only when a builder
            // asks for them.
            let group = &ds[i..end];
            let func_span = facts.functions[funcs[i].expect("a function").0 as usize].span;
            let parsed = std::cell::OnceCell::new();
            let tree = || parsed.get_or_init(|| self.trees.covering(file, func_span));
            let sites = std::cell::OnceCell::new();
            for (j, d) in group.iter().enumerate() {
                let func = funcs[i + j].expect("a function").0;
                let site = || {
                    let all = sites.get_or_init(|| {
                        let spans: Vec<_> = group.iter().map(|d| d.location.span).collect();
                        super::tree::site_nodes(tree(), &spans)
                    });
                    all[j]
                };
                out.push(self.build(d, func, &tree, &site));
            }
            i = end;
        }
        out
    }

    /// Whether the builders that look at a whole function may still look at `func`: each
    /// costs the function's size, and a file's builders may spend [`WALK_BUDGET`] times
    /// its size. A function holds those nested in it, so 4,000 functions each nested in
    /// the one before, each with a finding, cost the square of the file (20 s; 16,000
    /// took over five minutes).
    fn afford(&self, cx: &FileCx, func: FuncIdx) -> bool {
        let span = cx.facts.functions[func as usize].span;
        let cost = (span.end - span.start) as u64;
        let budget = WALK_BUDGET * cx.src.len() as u64 + WALK_FLOOR;
        let spent = self.walked.get() + cost;
        (spent <= budget).then(|| self.walked.set(spent)).is_some()
    }

    fn cx(&self, file: u32) -> FileCx<'_> {
        FileCx {
            a: self.a,
            file,
            src: self.src(file),
            facts: &self.a.facts[file as usize],
            trees: &self.trees,
            memo: &self.memo,
        }
    }

    /// The fixes of `d` and its help when the builders change it: the builders its rule
    /// lists, run in that order. `func` is the function around it, which holds the nodes
    /// the builders look at and their edits in this file (other than an import added at
    /// the top); `tree` parses its statement, `site` finds the node `d` points at.
    fn build<'t>(
        &self,
        d: &Diagnostic,
        func: FuncIdx,
        tree: &dyn Fn() -> &'t Tree,
        site: &dyn Fn() -> Option<Node<'t>>,
    ) -> (Vec<Fix>, Option<String>) {
        let builders = self.fixes_of.get(d.rule).copied().unwrap_or_default();
        let cx = self.cx(d.location.file);
        let mut found = Found::default();
        let mut guidance = None;
        for &builder in builders {
            match code(builder) {
                Code::Site(build) => {
                    if let Some(site) = site() {
                        build(&cx, tree(), site, func, &mut found);
                    }
                }
                Code::Function { owner, build } => {
                    let Some(func) = owner(&cx, func) else {
                        continue;
                    };
                    let whole = once(&self.per_function, (builder, func), || {
                        let mut f = Found::default();
                        match self.afford(&cx, func) {
                            true => build(&cx, tree(), func, &mut f),
                            false => f.notes.push(over_budget(&cx, func)),
                        }
                        f
                    });
                    found.fixes.extend(whole.fixes.iter().cloned());
                    found.notes.extend(whole.notes.iter().cloned());
                }
                Code::Variable(build) => {
                    let Some(var) = site().and_then(|s| super::rebinding::written_name(s, cx.src))
                    else {
                        continue;
                    };
                    let whole = once(&self.per_variable, (builder, func, var.clone()), || {
                        let mut f = Found::default();
                        match self.afford(&cx, func) {
                            true => build(&cx, tree(), func, &var, &mut f),
                            false => f.notes.push(over_budget(&cx, func)),
                        }
                        f
                    });
                    found.fixes.extend(whole.fixes.iter().cloned());
                    found.notes.extend(whole.notes.iter().cloned());
                }
                Code::Guidance(build) => {
                    if guidance.is_none() {
                        guidance = site().and_then(|site| build(&cx, tree(), site, d));
                    }
                }
            }
        }
        self.keep_comments_and_line_endings(&cx, &mut found.fixes);
        (found.fixes, help(d, guidance, &found.notes))
    }

    /// Drop the rewrites that would delete a comment, and give each edit the line ending
    /// of the file it lands in (builders write `\n`).
    fn keep_comments_and_line_endings(&self, cx: &FileCx, fixes: &mut Vec<Fix>) {
        let file = cx.file;
        fixes.retain(|f| {
            f.edits.iter().all(|e| {
                e.location.file != file || {
                    let comments = self.trees.comments(file, e.location.span);
                    super::keeps_comments(cx.src, &comments, e.location.span, &e.replacement)
                }
            })
        });
        for fix in fixes {
            for e in &mut fix.edits {
                let target = &self.a.workspace.files[e.location.file as usize].text;
                let crlf = target
                    .find('\n')
                    .is_some_and(|i| target[..i].ends_with('\r'));
                if crlf {
                    e.replacement = e.replacement.replace("\r\n", "\n").replace('\n', "\r\n");
                }
            }
        }
    }

    fn src(&self, file: u32) -> &'a str {
        &self.a.workspace.files[file as usize].text
    }
}

/// What `make` finds, made once for `key` and shared after.
fn once<K: std::hash::Hash + Eq>(
    memo: &RefCell<HashMap<K, Rc<Found>>>,
    key: K,
    make: impl FnOnce() -> Found,
) -> Rc<Found> {
    if let Some(found) = memo.borrow().get(&key) {
        return found.clone();
    }
    let found = Rc::new(make());
    memo.borrow_mut().insert(key, found.clone());
    found
}

/// The help of a finding after its builders, when they change it: the guidance in place
/// of the rule's help, then the builders' notes.
fn help(d: &Diagnostic, guidance: Option<String>, notes: &[String]) -> Option<String> {
    if notes.is_empty() {
        return guidance;
    }
    let mut text = guidance
        .or_else(|| d.help.as_deref().map(str::to_string))
        .unwrap_or_default();
    for n in notes {
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(n);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::FixKind;

    /// The kind the model gives each builder (what a rule's reader sees) is the kind of
    /// its code here.
    #[test]
    fn each_builder_has_code_of_its_kind() {
        for b in FixBuilder::ALL {
            let kind = match code(b) {
                // Built once per written variable, but for each site's fix it is a site fix.
                Code::Site(_) | Code::Variable(_) => FixKind::Site,
                Code::Function { .. } => FixKind::Function,
                Code::Guidance(_) => FixKind::Guidance,
            };
            assert_eq!(kind, b.kind(), "{b:?}");
        }
    }
}
