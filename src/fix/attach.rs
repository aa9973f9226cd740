//! The driver of the fix builders: [`attach`] runs, for each diagnostic, the builders its
//! rule lists, keeps the rewrites that delete no comment, gives each edit the line ending of
//! its file, and sets the help (a builder's guidance in place of the rule's, with the
//! builders' notes after it).

use super::guidance::guidance;
use super::tree::{FileCx, Trees};
use super::{forwarddiff_wrap, non_mutating_variant, rebind_local, rrule_skeleton};
use crate::analysis::Analysis;
use crate::diagnostic::{Category, Diagnostic, Fix};
use crate::facts::FuncIdx;
use std::collections::HashMap;
use tree_sitter::Tree;

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
    let files: Vec<&[Diagnostic]> = analysis
        .diagnostics
        .chunk_by(|a, b| a.location.file == b.location.file)
        .collect();
    let built: Vec<Option<(Vec<Fix>, Option<String>)>> = files
        .par_iter()
        .flat_map_iter(|ds| {
            let mut b = Builder::new(analysis, &trees);
            (ds.iter())
                .map(|d| wanted(d.location.file).then(|| b.build(d)))
                .collect::<Vec<_>>()
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

pub(super) struct Builder<'a> {
    pub(super) a: &'a Analysis,
    pub(super) trees: Trees<'a>,
    /// What the builders that look only at the function found, by function: every
    /// finding of a function shares it (a function of 4,000 writes is walked once, not
    /// 4,000 times).
    pub(super) per_function: HashMap<(Category, FuncIdx), std::rc::Rc<Found>>,
}

/// What one builder found: fixes, and a sentence for the help when it declined for a
/// reason the user should know.
#[derive(Default)]
pub(super) struct Found {
    pub(super) fixes: Vec<Fix>,
    pub(super) notes: Vec<String>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(a: &'a Analysis, trees: &'a HashMap<u32, Tree>) -> Self {
        Builder {
            a,
            trees: Trees {
                a,
                given: trees,
                parsed: Default::default(),
            },
            per_function: HashMap::default(),
        }
    }

    pub(super) fn build(&mut self, d: &Diagnostic) -> (Vec<Fix>, Option<String>) {
        let file = d.location.file;
        let cx = FileCx {
            a: self.a,
            file,
            src: self.src(file),
            facts: &self.a.facts[file as usize],
            trees: &self.trees,
        };
        let Some(func) = cx.innermost_function(d.location.span) else {
            return (Vec::new(), None);
        };
        // The function holds the finding, the nodes the builders look at, and their edits
        // in this file (other than an import added at the top). Its statement is parsed
        // again only when a builder applies to the finding's category.
        let func_span = self.a.facts[file as usize].functions[func as usize].span;
        let parsed = std::cell::OnceCell::new();
        let tree = || parsed.get_or_init(|| self.trees.covering(file, func_span));
        let mut found = Found::default();
        let mut help = None;
        if d.category == Category::Mutation {
            if let Some(site) = cx.site_node(tree(), d.location.span) {
                rebind_local::build(&cx, tree(), site, func, &mut found);
                non_mutating_variant::build(&cx, tree(), site, func, &mut found);
            }
        }
        if matches!(d.category, Category::Mutation | Category::Foreigncall) {
            let whole = self
                .per_function
                .entry((d.category, func))
                .or_insert_with(|| {
                    let mut f = Found::default();
                    if d.category == Category::Mutation {
                        forwarddiff_wrap::build(&cx, tree(), func, &mut f);
                    }
                    rrule_skeleton::build(&cx, tree(), func, &mut f);
                    std::rc::Rc::new(f)
                });
            found.fixes.extend(whole.fixes.iter().cloned());
            found.notes.extend(whole.notes.iter().cloned());
        }
        if let Some(text) = guidance(&cx, &tree, d) {
            help = Some(text);
        }
        // A rewrite that would delete a comment is not offered.
        found.fixes.retain(|f| {
            f.edits.iter().all(|e| {
                e.location.file != file || {
                    let comments = self.trees.comments(file, e.location.span);
                    super::keeps_comments(cx.src, &comments, e.location.span, &e.replacement)
                }
            })
        });
        // Builders write `\n`; each edit takes the line ending of the file it lands in.
        for fix in &mut found.fixes {
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
        if !found.notes.is_empty() {
            let base = help
                .or_else(|| d.help.as_deref().map(str::to_string))
                .unwrap_or_default();
            let mut text = base;
            for n in &found.notes {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(n);
            }
            help = Some(text);
        }
        (found.fixes, help)
    }

    pub(super) fn src(&self, file: u32) -> &'a str {
        &self.a.workspace.files[file as usize].text
    }
}
