//! The fix builders: for each diagnostic, the rewrites adlint can offer, most specific
//! first, and the help text that shows the user's own code rewritten.
//!
//! Builders read syntax trees and the facts. The analysis keeps facts, not trees, so the
//! statement around a finding is parsed again here, on its own ([`Trees`]). They never
//! guess: a rewrite is offered only when the pattern is recognised whole, and each builder
//! states why its applicability is what it is.
//!
//! - [`rebind_local`]: `z = similar(y); z .= f.(y)` and allocate-then-fill loops become a
//!   binding of a new array (unsafe: the element type can change).
//! - [`non_mutating_variant`]: a helper that writes into its argument and returns it gets
//!   a non-mutating twin, and the differentiated call sites switch to it (unsafe: callers
//!   may rely on the mutation).
//! - [`forwarddiff_wrap`]: `g(y)` becomes `Zygote.forwarddiff(g, y)` (unsafe: the argument
//!   is no longer mutated, and the gradient comes from another AD).
//! - [`rrule_skeleton`]: an `rrule` or `@non_differentiable` for the function (display
//!   only: the pullback must be written by hand).
//! - [`guidance`]: help text for try/catch, mutable structs, boxed variables, nested AD.

use crate::analysis::Analysis;
use crate::diagnostic::{Applicability, Category, Diagnostic, Edit, Fix, Location};
use crate::facts::{AssignKind, FileFacts, FuncIdx, FunctionKind, Span, Value};
use crate::index::FuncRef;
use crate::syntax::KindName;
use std::collections::HashMap;
use tree_sitter::{Node, Tree};

/// Functions that only look at an array's shape: reading them does not alias it.
const SHAPE_QUERIES: &[&str] = &[
    "size",
    "length",
    "axes",
    "eachindex",
    "eltype",
    "ndims",
    "firstindex",
    "lastindex",
    "isempty",
];

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

struct Builder<'a> {
    a: &'a Analysis,
    trees: Trees<'a>,
    /// What the builders that look only at the function found, by function: every
    /// finding of a function shares it (a function of 4,000 writes is walked once, not
    /// 4,000 times).
    per_function: HashMap<(Category, FuncIdx), std::rc::Rc<Found>>,
}

/// Syntax trees for the builders. A file the caller had a tree of (an open document in the
/// editor) uses it; otherwise each top-level statement is parsed on its own when first
/// needed ([`syntax::parse_range`]): a finding's fixes look inside the function around it
/// and at call sites, never across statements, and parsing one statement costs a fraction
/// of parsing its file again.
struct Trees<'a> {
    a: &'a Analysis,
    /// Whole files given by the caller.
    given: &'a HashMap<u32, Tree>,
    /// Parsed here, by (file, the statement or the whole file), with their comments once
    /// asked for: the last few only. Findings come in file order, so the statement of the
    /// next finding is almost always one of them; keeping every statement of a large file
    /// parsed until its findings are done would hold trees many times the size of its
    /// source.
    parsed: std::cell::RefCell<std::collections::VecDeque<Entry>>,
}

/// How many statements [`Trees`] keeps parsed.
const TREES_KEPT: usize = 4;

/// A parsed statement or file: its key, its tree, and the comments in it (found when a
/// fix's edits are checked against them; most findings have none).
type Entry = ((u32, Span), Tree, Option<std::rc::Rc<Vec<Span>>>);

impl<'a> Trees<'a> {
    /// The key of the tree that covers `span` of `file`: its statement, or the whole file
    /// when the caller gave the file's tree.
    fn key(&self, file: u32, span: Span) -> (u32, Span) {
        let src = &self.a.workspace.files[file as usize].text;
        let whole = Span {
            start: 0,
            end: src.len() as u32,
        };
        let key = match self.given.contains_key(&file) {
            true => whole,
            false => self.a.facts[file as usize]
                .chunk_containing(span)
                .unwrap_or(whole),
        };
        (file, key)
    }

    /// The index in `parsed` of the tree that covers `span` of `file`, parsed if needed.
    fn entry(&self, file: u32, span: Span) -> usize {
        let key = self.key(file, span);
        let mut parsed = self.parsed.borrow_mut();
        if let Some(i) = parsed.iter().position(|e| e.0 == key) {
            return i;
        }
        let src = &self.a.workspace.files[file as usize].text;
        let tree = match self.given.get(&file) {
            Some(t) => t.clone(),
            None if key.1.start == 0 && key.1.end as usize == src.len() => {
                crate::syntax::parse(src).tree
            }
            None => {
                let lines = &self.a.facts[file as usize].line_index;
                crate::syntax::parse_range(src, lines, key.1.range()).tree
            }
        };
        if parsed.len() == TREES_KEPT {
            parsed.pop_front();
        }
        parsed.push_back((key, tree, None));
        parsed.len() - 1
    }

    /// The tree that covers `span` of `file`.
    fn covering(&self, file: u32, span: Span) -> Tree {
        let i = self.entry(file, span);
        self.parsed.borrow()[i].1.clone()
    }

    /// The comments in the tree that covers `span` of `file`.
    fn comments(&self, file: u32, span: Span) -> std::rc::Rc<Vec<Span>> {
        let i = self.entry(file, span);
        let mut parsed = self.parsed.borrow_mut();
        let entry = &mut parsed[i];
        let tree = &entry.1;
        entry
            .2
            .get_or_insert_with(|| std::rc::Rc::new(super::comments_in(tree.root_node())))
            .clone()
    }
}

/// What one builder found: fixes, and a sentence for the help when it declined for a
/// reason the user should know.
#[derive(Default)]
struct Found {
    fixes: Vec<Fix>,
    notes: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(a: &'a Analysis, trees: &'a HashMap<u32, Tree>) -> Self {
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

    fn build(&mut self, d: &Diagnostic) -> (Vec<Fix>, Option<String>) {
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
                rebind_local(&cx, tree(), site, func, &mut found);
                non_mutating_variant(&cx, tree(), site, func, &mut found);
            }
        }
        if matches!(d.category, Category::Mutation | Category::Foreigncall) {
            let whole = self
                .per_function
                .entry((d.category, func))
                .or_insert_with(|| {
                    let mut f = Found::default();
                    if d.category == Category::Mutation {
                        forwarddiff_wrap(&cx, tree(), func, &mut f);
                    }
                    rrule_skeleton(&cx, tree(), func, &mut f);
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

    fn src(&self, file: u32) -> &'a str {
        &self.a.workspace.files[file as usize].text
    }
}

/// One file's view for the builders.
struct FileCx<'a> {
    a: &'a Analysis,
    file: u32,
    src: &'a str,
    facts: &'a FileFacts,
    trees: &'a Trees<'a>,
}

impl<'a> FileCx<'a> {
    fn text(&self, n: Node) -> &'a str {
        &self.src[n.byte_range()]
    }

    fn edit(&self, span: Span, replacement: String) -> Edit {
        Edit {
            location: Location {
                file: self.file,
                span,
            },
            replacement,
        }
    }

    fn innermost_function(&self, span: Span) -> Option<FuncIdx> {
        self.facts
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.span.contains(span))
            .max_by_key(|(_, f)| f.span.start)
            .map(|(i, _)| i as FuncIdx)
    }

    /// The node a diagnostic points at: the smallest node covering exactly its span.
    fn site_node<'t>(&self, tree: &'t Tree, span: Span) -> Option<Node<'t>> {
        let mut n = tree
            .root_node()
            .descendant_for_byte_range(span.start as usize, span.end as usize)?;
        while Span::of(n) != span {
            n = n.parent()?;
        }
        Some(n)
    }

    fn function_node<'t>(&self, tree: &'t Tree, func: FuncIdx) -> Option<Node<'t>> {
        let span = self.facts.functions[func as usize].span;
        self.site_node(tree, span)
    }

    /// Whether `name` is a parameter of `func` or of a function around it.
    fn is_param(&self, func: FuncIdx, name: &str) -> bool {
        let mut cur = Some(func);
        while let Some(f) = cur {
            let def = &self.facts.functions[f as usize];
            if def.param_index(name).is_some() {
                return true;
            }
            cur = def.parent.get();
        }
        false
    }

    /// Functions nested inside `func` (closures, comprehensions, do-blocks).
    fn nested_spans(&self, func: FuncIdx) -> Vec<Span> {
        let outer = self.facts.functions[func as usize].span;
        self.facts
            .functions
            .iter()
            .enumerate()
            .filter(|(i, f)| *i as FuncIdx != func && outer.contains(f.span) && f.span != outer)
            .map(|(_, f)| f.span)
            .collect()
    }

    /// The line's leading whitespace of the line that contains `byte`.
    fn indent_at(&self, byte: usize) -> &'a str {
        let line_start = self.src[..byte].rfind('\n').map_or(0, |i| i + 1);
        let rest = &self.src[line_start..];
        let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        &rest[..len]
    }

    /// The span that removes a statement: its whole line when nothing else is on it, with
    /// a `;` that follows it on the same line.
    fn statement_removal(&self, n: Node) -> Span {
        let (mut start, mut end) = (n.start_byte(), n.end_byte());
        let bytes = self.src.as_bytes();
        let mut after = end;
        while after < bytes.len() && (bytes[after] == b' ' || bytes[after] == b'\t') {
            after += 1;
        }
        if after < bytes.len() && bytes[after] == b';' {
            end = after + 1;
            while end < bytes.len() && (bytes[end] == b' ' || bytes[end] == b'\t') {
                end += 1;
            }
            after = end;
        }
        let line_start = self.src[..start].rfind('\n').map_or(0, |i| i + 1);
        let only_before = self.src[line_start..start].trim().is_empty();
        let at_eol = after >= bytes.len() || bytes[after] == b'\n' || bytes[after] == b'\r';
        if only_before && at_eol {
            start = line_start;
            end = self.src[after..]
                .find('\n')
                .map_or(self.src.len(), |i| after + i + 1);
        }
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tree helpers.

fn named_children(n: Node) -> Vec<Node> {
    crate::syntax::named_children(n)
        .into_iter()
        .filter(|c| !matches!(c.kind_str(), "line_comment" | "block_comment"))
        .collect()
}

/// An `identifier` found by [`occurrences`], with the two ancestors the walk came through
/// (`Node::parent` costs a walk down from the root, which is quadratic in deep trees).
type Occ<'t> = crate::syntax::Found<'t>;

/// Every `identifier` named `name` under `n`, except field names (`m.name`) and keyword
/// names in calls.
fn occurrences<'t>(n: Node<'t>, name: &str, src: &str) -> Vec<Occ<'t>> {
    static IDENTIFIERS: crate::syntax::KindSet = crate::syntax::KindSet::new(&["identifier"]);
    let mut found = IDENTIFIERS.find_in(n);
    found.retain(|occ| {
        let n = occ.node;
        let is_field = occ.parent.is_some_and(|p: Node| {
            p.kind_str() == "field_expression" && p.named_child(0).is_some_and(|v| v.id() != n.id())
        });
        &src[n.byte_range()] == name && !is_field
    });
    // Pre-order: already by start.
    found
}

fn mentions(n: Node, name: &str, src: &str) -> bool {
    !occurrences(n, name, src).is_empty()
}

/// The callee's name of a call node, without qualification.
fn callee_name<'s>(call: Node, src: &'s str) -> Option<&'s str> {
    let callee = call.named_child(0)?;
    let text = &src[callee.byte_range()];
    Some(text.rsplit('.').next().unwrap_or(text))
}

/// A read that neither aliases nor writes the array: a shape query (`size(z)`) or an
/// element read (`z[i]` outside an assignment target).
fn is_harmless_read(occ: Occ, src: &str) -> bool {
    let Some(parent) = occ.parent else {
        return false;
    };
    match parent.kind_str() {
        "argument_list" => occ
            .grandparent
            .filter(|c| c.kind_str() == "call_expression")
            .and_then(|c| callee_name(c, src))
            .is_some_and(|name| SHAPE_QUERIES.contains(&name)),
        "index_expression" => {
            parent
                .named_child(0)
                .is_some_and(|o| o.id() == occ.node.id())
                && !occ.grandparent.is_some_and(|g| {
                    matches!(
                        g.kind_str(),
                        "assignment" | "compound_assignment_expression"
                    ) && g.child(0).is_some_and(|l| l.id() == parent.id())
                })
        }
        _ => false,
    }
}

/// `f.(x)`, `a .+ b`, `.-x`, or one of them in parentheses: an expression that makes a new
/// array when any operand is one.
fn is_broadcast(n: Node, src: &str) -> bool {
    match n.kind_str() {
        "broadcast_call_expression" => true,
        "binary_expression" | "unary_expression" => n
            .children(&mut n.walk())
            .any(|c| c.kind_str() == "operator" && src[c.byte_range()].starts_with('.')),
        "parenthesized_expression" => n.named_child(0).is_some_and(|c| is_broadcast(c, src)),
        _ => false,
    }
}

/// Wrap in parentheses unless the expression is atomic or already bracketed.
fn paren(n: Node, src: &str) -> String {
    let text = &src[n.byte_range()];
    match n.kind_str() {
        "identifier"
        | "call_expression"
        | "broadcast_call_expression"
        | "index_expression"
        | "parenthesized_expression"
        | "integer_literal"
        | "float_literal"
        | "field_expression" => text.to_string(),
        _ => format!("({text})"),
    }
}

// ---------------------------------------------------------------------------------------
// Rewriting a write into a binding.

/// How a statement that writes every element of `var` becomes a binding of a new array.
struct Rebinding<'t> {
    /// The statement replaced (the assignment, or the outermost loop).
    stmt: Node<'t>,
    /// `var = <value>`'s right-hand side.
    value: String,
    /// Nodes inside `stmt` that may mention `var` without making the rewrite wrong
    /// (the loop iterators); every other mention is refused.
    allowed_reads: Vec<Node<'t>>,
    /// The rewrite reads the old value of `var` (`z .+= v`, `z .= f.(z)`).
    reads_old: bool,
}

/// Recognise a write into `var` at `site` that can become a binding: `var .= e`,
/// `var .op= e`, a loop nest whose only statement is `var[i, j] = e(i, j)`, or a loop nest
/// whose only statement is `push!(var, e)` (possibly under one `if`).
fn rebinding<'t>(site: Node<'t>, var: &str, src: &str) -> Option<Rebinding<'t>> {
    match site.kind_str() {
        "compound_assignment_expression" => {
            let lhs = site.child(0)?;
            let op = &src[site.child(1)?.byte_range()];
            let rhs = site.named_child(site.named_child_count().checked_sub(1)? as u32)?;
            if lhs.kind_str() != "identifier"
                || &src[lhs.byte_range()] != var
                || !op.starts_with('.')
            {
                return None;
            }
            let reads_old = mentions(rhs, var, src) || op != ".=";
            let value = if op == ".=" {
                if is_broadcast(rhs, src) {
                    src[rhs.byte_range()].to_string()
                } else if rhs.kind_str() == "identifier" {
                    format!("copy({})", &src[rhs.byte_range()])
                } else {
                    return None;
                }
            } else {
                let bin = &op[..op.len() - 1];
                format!("{var} {bin} {}", paren(rhs, src))
            };
            Some(Rebinding {
                stmt: site,
                value,
                allowed_reads: Vec::new(),
                reads_old,
            })
        }
        "assignment" => fill_loop(site, var, src),
        "call_expression" => push_loop(site, var, src),
        _ => None,
    }
}

/// The loops around `stmt` in which each body is exactly the next statement, innermost
/// last; with the filter of an `if` directly around `stmt` (no `else`).
fn enclosing_loops<'t>(
    stmt: Node<'t>,
    allow_if: bool,
) -> Option<(Vec<Node<'t>>, Option<Node<'t>>)> {
    let mut inner = stmt;
    let mut filter = None;
    let mut loops = Vec::new();
    while let Some(parent) = inner.parent() {
        // Only a loop or an `if` has a body to look at: not the function's (a function of
        // thousands of statements would be listed again for each of its findings).
        if !matches!(parent.kind_str(), "if_statement" | "for_statement") {
            break;
        }
        let body: Vec<Node> = named_children(parent)
            .into_iter()
            .filter(|c| {
                !matches!(c.kind_str(), "for_binding")
                    && Some(*c) != parent.child_by_field_name("condition")
            })
            .collect();
        match parent.kind_str() {
            "if_statement" if allow_if && loops.is_empty() && filter.is_none() => {
                let has_else = parent.child_by_field_name("alternative").is_some();
                if has_else || body.len() != 1 {
                    return None;
                }
                filter = parent.child_by_field_name("condition");
                inner = parent;
            }
            "for_statement" if body.len() == 1 => {
                loops.push(parent);
                inner = parent;
            }
            _ => break,
        }
    }
    if loops.is_empty() || (filter.is_some() && inner.kind_str() == "if_statement") {
        return None;
    }
    loops.reverse();
    Some((loops, filter))
}

/// (variable, iterator) of each binding of a loop, outermost loop first.
fn loop_bindings<'t>(loops: &[Node<'t>], src: &str) -> Option<Vec<(String, Node<'t>)>> {
    let mut out = Vec::new();
    for l in loops {
        for b in named_children(*l)
            .into_iter()
            .filter(|c| c.kind_str() == "for_binding")
        {
            let var = b.named_child(0)?;
            let iter = b.named_child(b.named_child_count().checked_sub(1)? as u32)?;
            if var.kind_str() != "identifier" || var.id() == iter.id() {
                return None;
            }
            out.push((src[var.byte_range()].to_string(), iter));
        }
    }
    Some(out)
}

/// `for i in I, j in J; var[i, j] = e; end` -> `[e for i in I, j in J]`.
fn fill_loop<'t>(site: Node<'t>, var: &str, src: &str) -> Option<Rebinding<'t>> {
    let lhs = site.child(0)?;
    if lhs.kind_str() != "index_expression"
        || site.child(1).map(|o| &src[o.byte_range()]) != Some("=")
    {
        return None;
    }
    let object = lhs.named_child(0)?;
    if object.kind_str() != "identifier" || &src[object.byte_range()] != var {
        return None;
    }
    let rhs = site.named_child(site.named_child_count().checked_sub(1)? as u32)?;
    let Some((loops, _)) = enclosing_loops(site, false) else {
        let index_list = lhs.named_child(1)?;
        let [index] = named_children(index_list)[..] else {
            return None;
        };
        return map_do(site, rhs, &src[index.byte_range()], var, src);
    };
    let bindings = loop_bindings(&loops, src)?;
    let index_list = lhs.named_child(1)?;
    let indices: Vec<&str> = named_children(index_list)
        .into_iter()
        .map(|i| (i.kind_str() == "identifier").then(|| &src[i.byte_range()]))
        .collect::<Option<_>>()?;
    // Every loop variable indexes exactly one dimension, in any order; the comprehension
    // lists the iterators in index order so that dimension k comes from index k.
    if indices.len() != bindings.len() {
        return None;
    }
    let mut ordered = Vec::new();
    for idx in &indices {
        let (name, iter) = bindings.iter().find(|(v, _)| v == idx)?;
        ordered.push((name.clone(), *iter));
    }
    let mut names: Vec<&str> = indices.clone();
    names.sort();
    names.dedup();
    if names.len() != indices.len() {
        return None;
    }
    // A product of iterators: none may depend on another loop variable.
    if ordered.len() > 1
        && ordered
            .iter()
            .any(|(_, it)| bindings.iter().any(|(v, _)| mentions(*it, v, src)))
    {
        return None;
    }
    if mentions(rhs, var, src) || has_effect(rhs, src) {
        return None;
    }
    let iters: Vec<String> = ordered
        .iter()
        .map(|(v, it)| format!("{v} in {}", &src[it.byte_range()]))
        .collect();
    Some(Rebinding {
        stmt: loops[0],
        value: format!("[{} for {}]", &src[rhs.byte_range()], iters.join(", ")),
        allowed_reads: bindings.iter().map(|(_, it)| *it).collect(),
        reads_old: false,
    })
}

/// `for x in xs; if c; push!(var, e); end; end` -> `[e for x in xs if c]`.
fn push_loop<'t>(site: Node<'t>, var: &str, src: &str) -> Option<Rebinding<'t>> {
    if callee_name(site, src) != Some("push!") {
        return None;
    }
    let args = named_children(site.named_child(1)?);
    if args.len() != 2
        || args[0].kind_str() != "identifier"
        || &src[args[0].byte_range()] != var
        || args[1].kind_str() == "splat_expression"
    {
        return None;
    }
    let value = args[1];
    let Some((loops, filter)) = enclosing_loops(site, true) else {
        return map_do(site, value, "", var, src);
    };
    let bindings = loop_bindings(&loops, src)?;
    if mentions(value, var, src) || has_effect(value, src) {
        return None;
    }
    if let Some(c) = filter {
        if mentions(c, var, src) || has_effect(c, src) {
            return None;
        }
    }
    // `for a in A, b in B` and nested loops both flatten to `for a in A for b in B`, which
    // allows an inner iterator to depend on an outer variable, like the loops did.
    let mut text = format!("[{}", &src[value.byte_range()]);
    for (v, it) in &bindings {
        text.push_str(&format!(" for {v} in {}", &src[it.byte_range()]));
    }
    if let Some(c) = filter {
        text.push_str(&format!(" if {}", &src[c.byte_range()]));
    }
    text.push(']');
    Some(Rebinding {
        stmt: loops[0],
        value: text,
        allowed_reads: bindings.iter().map(|(_, it)| *it).collect(),
        reads_old: false,
    })
}

/// A loop whose body computes temporaries before its one write, `for i in I; t = g(i);
/// z[i] = e(t); end` -> `map(I) do i; t = g(i); e(t); end`. The temporaries must be plain
/// local bindings without effects that nothing reads after the loop. `index` is the
/// written index (empty for `push!`), which must be the loop variable.
fn map_do<'t>(
    site: Node<'t>,
    value: Node<'t>,
    index: &str,
    var: &str,
    src: &str,
) -> Option<Rebinding<'t>> {
    let the_loop = site.parent().filter(|p| p.kind_str() == "for_statement")?;
    let bindings = loop_bindings(&[the_loop], src)?;
    let [(loop_var, iter)] = bindings.as_slice() else {
        return None;
    };
    if !index.is_empty() && index != loop_var {
        return None;
    }
    let body: Vec<Node> = named_children(the_loop)
        .into_iter()
        .filter(|c| c.kind_str() != "for_binding")
        .collect();
    let (last, temps) = body.split_last()?;
    if last.id() != site.id() || temps.is_empty() {
        return None;
    }
    let after = the_loop.parent()?;
    for t in temps {
        let lhs = t.child(0)?;
        if t.kind_str() != "assignment"
            || lhs.kind_str() != "identifier"
            || &src[lhs.byte_range()] == var
            || mentions(*t, var, src)
            || has_effect(
                t.named_child(t.named_child_count().checked_sub(1)? as u32)?,
                src,
            )
        {
            return None;
        }
        let name = &src[lhs.byte_range()];
        let used_later = occurrences(after, name, src)
            .iter()
            .any(|o| o.node.start_byte() >= the_loop.end_byte());
        if used_later {
            return None;
        }
    }
    if mentions(value, var, src) || has_effect(value, src) || mentions(*iter, var, src) {
        return None;
    }
    let indent = indent_of(src, the_loop.start_byte());
    let inner = indent_of(src, temps[0].start_byte());
    let mut text = format!("map({}) do {loop_var}\n", &src[iter.byte_range()]);
    for t in temps {
        text.push_str(&format!("{inner}{}\n", &src[t.byte_range()]));
    }
    text.push_str(&format!("{inner}{}\n{indent}end", &src[value.byte_range()]));
    Some(Rebinding {
        stmt: the_loop,
        value: text,
        allowed_reads: vec![*iter],
        reads_old: false,
    })
}

fn indent_of(src: &str, byte: usize) -> &str {
    let line_start = src[..byte].rfind('\n').map_or(0, |i| i + 1);
    let rest = &src[line_start..];
    let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..len]
}

/// A call to a `!` function or an assignment inside an expression: evaluating it has an
/// effect that a comprehension would reorder.
fn has_effect(n: Node, src: &str) -> bool {
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        match n.kind_str() {
            "call_expression" | "broadcast_call_expression" | "macrocall_expression"
                if callee_name(n, src).is_some_and(|c| c.ends_with('!') || c.starts_with('@')) =>
            {
                return true
            }
            "assignment" | "compound_assignment_expression" => return true,
            _ => {}
        }
        stack.extend(crate::syntax::children(n));
    }
    false
}

/// Every mention of `var` inside `stmt` other than the write itself and the allowed reads.
fn foreign_mentions(r: &Rebinding, var: &str, src: &str, site: Node) -> bool {
    occurrences(r.stmt, var, src).into_iter().any(|o| {
        let in_allowed = r
            .allowed_reads
            .iter()
            .any(|a| Span::of(*a).contains(Span::of(o.node)));
        if in_allowed {
            return !is_harmless_read(o, src);
        }
        // The written object itself: `var` in `var .= ...`, `var[i] = ...`, `push!(var, ...)`.
        let target = match site.kind_str() {
            "compound_assignment_expression" => site.child(0),
            "assignment" => site.child(0).and_then(|l| l.named_child(0)),
            _ => site.named_child(1).and_then(|a| a.named_child(0)),
        };
        if target.is_some_and(|t| t.id() == o.node.id()) {
            return false;
        }
        // `var .= f.(var)`: reading the old value is the same computation.
        !(site.kind_str() == "compound_assignment_expression" && r.reads_old)
    })
}

/// A local array written whole: bind the new value instead (`z = f.(y)`,
/// `z = [e(i) for i in I]`), and drop the allocation when nothing reads it in between.
///
/// Unsafe: `similar(y)` keeps `y`'s element type and `zeros(n)` is `Float64`, while the new
/// array's element type is whatever the values are. Offered only when the local was made by
/// an allocation in this function, is assigned nowhere else, is not captured by a closure,
/// and nothing between the allocation and the write could hold a reference to it. The one
/// safe case is `z = similar(y); z .= y`, which becomes `z = copy(y)`.
fn rebind_local(cx: &FileCx, tree: &Tree, site: Node, func: FuncIdx, found: &mut Found) {
    let fdef = &cx.facts.functions[func as usize];
    if fdef.kind == FunctionKind::TopLevel || fdef.kind.is_closure() {
        return;
    }
    let Some(var) = written_name(site, cx.src) else {
        return;
    };
    if cx.is_param(func, &var) {
        return;
    }
    let assigns: Vec<_> = cx
        .facts
        .assigns
        .iter()
        .filter(|a| a.var == var && fdef.span.contains(a.span))
        .collect();
    let [def] = assigns.as_slice() else { return };
    if def.func != func || def.kind != AssignKind::Plain {
        return;
    }
    let Some(r) = rebinding(site, &var, cx.src) else {
        return;
    };
    let Some(def_node) = def_node(tree, def.span) else {
        return;
    };
    let fresh = def_node
        .named_child(def_node.named_child_count().saturating_sub(1) as u32)
        .is_some_and(|v| is_fresh(cx, v));
    if !fresh {
        return;
    }
    let stmt = Span::of(r.stmt);
    if def.span.end > stmt.start || !def.block.contains(stmt) {
        return;
    }
    // A closure that mentions the name captures it: re-binding would box it.
    let fspan = cx.facts.functions[func as usize].span;
    let root = tree.root_node();
    let scope = root
        .descendant_for_byte_range(fspan.start as usize, fspan.end as usize)
        .unwrap_or(root);
    let nested = cx.nested_spans(func);
    let captured = occurrences(scope, &var, cx.src)
        .iter()
        .any(|o| nested.iter().any(|s| s.contains(Span::of(o.node))));
    if captured {
        return;
    }
    if foreign_mentions(&r, &var, cx.src, site) {
        return;
    }
    let Some(body) = def_node.parent() else {
        return;
    };
    // Between the allocation and the write: shape queries and element reads only.
    let between: Vec<Occ> = occurrences(body, &var, cx.src)
        .into_iter()
        .filter(|o| {
            o.node.start_byte() >= def_node.end_byte() && o.node.end_byte() <= r.stmt.start_byte()
        })
        .collect();
    if between.iter().any(|o| !is_harmless_read(*o, cx.src)) {
        return;
    }
    let in_stmt_reads = occurrences(r.stmt, &var, cx.src).len() > 1 || r.reads_old;
    let same_block = r.stmt.parent().is_some_and(|p| p.id() == body.id());
    let drop_alloc = between.is_empty() && !in_stmt_reads && same_block;
    let mut edits = Vec::new();
    if drop_alloc {
        edits.push(cx.edit(cx.statement_removal(def_node), String::new()));
    }
    edits.push(cx.edit(stmt, format!("{var} = {}", r.value)));
    // `z = similar(y); z .= y` is `z = copy(y)`: the same values, shape and element type,
    // and nothing else saw `z` before. That one is safe.
    let same_as_copy = site.kind_str() == "compound_assignment_expression"
        && r.value.starts_with("copy(")
        && similar_of(def_node, cx.src).is_some_and(|src_var| {
            r.value == format!("copy({src_var})")
                && !cx.facts.assigns.iter().any(|a| {
                    a.var == src_var && a.span.start > def.span.end && a.span.end <= stmt.start
                })
        });
    found.fixes.push(Fix {
        title: format!("Bind a new array: `{var} = {}`", r.value),
        applicability: if same_as_copy {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        edits,
    });
}

/// `y` of `z = similar(y)`.
fn similar_of(def: Node, src: &str) -> Option<String> {
    let call = def.named_child(def.named_child_count().checked_sub(1)? as u32)?;
    if call.kind_str() != "call_expression" || callee_name(call, src) != Some("similar") {
        return None;
    }
    let args = named_children(call.named_child(1)?);
    match args.as_slice() {
        [a] if a.kind_str() == "identifier" => Some(src[a.byte_range()].to_string()),
        _ => None,
    }
}

/// The name an array write targets: `z` of `z .= e`, `z[i] = e`, `push!(z, e)`.
fn written_name(site: Node, src: &str) -> Option<String> {
    let n = match site.kind_str() {
        "compound_assignment_expression" => site.child(0)?,
        "assignment" => {
            let l = site.child(0)?;
            if l.kind_str() != "index_expression" {
                return None;
            }
            l.named_child(0)?
        }
        "call_expression" => site.named_child(1)?.named_child(0)?,
        _ => return None,
    };
    (n.kind_str() == "identifier").then(|| src[n.byte_range()].to_string())
}

/// An expression that makes a new array nothing else refers to: an allocation
/// (`similar(y)`, `zeros(n)`, `Vector{T}(undef, n)`), a literal or comprehension, an empty
/// typed vector (`T[]`), or a broadcast. The allocating functions are the `[fresh]` row of
/// the knowledge tables.
fn is_fresh(cx: &FileCx, v: Node) -> bool {
    let src = cx.src;
    match v.kind_str() {
        "call_expression" => v.named_child(0).is_some_and(|c| {
            let base = match c.kind_str() {
                "parametrized_type_expression" => c.named_child(0).unwrap_or(c),
                _ => c,
            };
            let name = &src[base.byte_range()];
            (cx.a.settings.knowledge).is_fresh_allocation(name.rsplit('.').next().unwrap_or(name))
        }),
        "vector_expression" | "matrix_expression" | "comprehension_expression" => true,
        "index_expression" => v
            .named_child(1)
            .is_some_and(|i| i.kind_str() == "vector_expression" && i.named_child_count() == 0),
        _ => is_broadcast(v, src),
    }
}

/// The assignment node with exactly this span.
fn def_node(tree: &Tree, span: Span) -> Option<Node<'_>> {
    let mut n = tree
        .root_node()
        .descendant_for_byte_range(span.start as usize, span.end as usize)?;
    while Span::of(n) != span || n.kind_str() != "assignment" {
        n = n.parent()?;
    }
    Some(n)
}

// ---------------------------------------------------------------------------------------
// A non-mutating variant of a helper that writes into its argument.

/// `function f!(x) x .= 2 .* x; return x end` gets `f(x) = 2 .* x`, and the call sites in
/// differentiated code call it: `f!(z)` as a statement becomes `z = f(z)`, `f!(z)` inside an
/// expression becomes `f(z)`.
///
/// Unsafe: callers may rely on the argument being modified. The original is never deleted,
/// so other callers keep working.
fn non_mutating_variant(cx: &FileCx, tree: &Tree, site: Node, func: FuncIdx, found: &mut Found) {
    let fdef = &cx.facts.functions[func as usize];
    if fdef.kind != FunctionKind::Named || !fdef.kwparams.is_empty() {
        return;
    }
    let Some(var) = written_name(site, cx.src) else {
        return;
    };
    let Some(pi) = fdef.param_index(&var) else {
        return;
    };
    let Some(fnode) = cx.function_node(tree, func) else {
        return;
    };
    let Some(name) = fdef.name else {
        return;
    };
    // Every write into the argument must be rewritable, and nothing else may touch it.
    let writes: Vec<Node> = occurrences(fnode, &var, cx.src)
        .into_iter()
        .filter(|o| !fdef.signature.contains(Span::of(o.node)))
        .filter_map(|o| write_statement(o, &var, cx.src))
        .collect();
    let mut rewrites: Vec<Rebinding> = Vec::new();
    for w in writes {
        let Some(r) = rebinding(w, &var, cx.src) else {
            return;
        };
        if foreign_mentions(&r, &var, cx.src, w) {
            return;
        }
        if r.stmt.parent().map(|p| p.id()) != Some(fnode.id()) {
            return; // inside a branch or a loop: the rewrite could run zero or many times
        }
        if !rewrites.iter().any(|x| x.stmt.id() == r.stmt.id()) {
            rewrites.push(r);
        }
    }
    if rewrites.is_empty() {
        return;
    }
    let nested = cx.nested_spans(func);
    let mut all_ok = true;
    for o in occurrences(fnode, &var, cx.src) {
        let s = Span::of(o.node);
        if fdef.signature.contains(s) || rewrites.iter().any(|r| Span::of(r.stmt).contains(s)) {
            continue;
        }
        // Captured by a closure, passed to a `!` function, or written some other way.
        if nested.iter().any(|n| n.contains(s)) || passed_to_mutating(o, cx.src) {
            all_ok = false;
        }
    }
    if !all_ok || !returns_only(fnode, &var, cx.src) {
        return;
    }
    let new_name = variant_name(cx, &name);
    // The variant: the same text with the writes replaced by bindings.
    let base = fnode.start_byte();
    let body_stmts = named_children(fnode)
        .into_iter()
        .filter(|c| c.kind_str() != "signature")
        .collect::<Vec<_>>();
    let is_long = cx.text(fnode).starts_with("function");
    let signature = fnode
        .children(&mut fnode.walk())
        .find(|c| c.kind_str() == "signature" || c.kind_str() == "call_expression")
        .or_else(|| {
            fnode
                .child(0)
                .filter(|c| !is_long && c.kind_str() != "function")
        });
    let Some(signature) = signature else { return };
    let sig_text = rename_in(cx.text(signature), &name, &new_name);
    let text = if rewrites.len() == 1
        && body_stmts.len() == 2
        && body_stmts[0].id() == rewrites[0].stmt.id()
        && is_long
    {
        format!("{sig_text} = {}", rewrites[0].value)
    } else if !is_long {
        return;
    } else {
        let edits: Vec<(Span, String)> = rewrites
            .iter()
            .map(|r| {
                (
                    Span {
                        start: (r.stmt.start_byte() - base) as u32,
                        end: (r.stmt.end_byte() - base) as u32,
                    },
                    format!("{var} = {}", r.value),
                )
            })
            .chain(std::iter::once((
                Span {
                    start: (signature.start_byte() - base) as u32,
                    end: (signature.end_byte() - base) as u32,
                },
                sig_text.clone(),
            )))
            .collect();
        super::apply_edits(
            cx.text(fnode),
            edits.iter().map(|(s, t)| (*s, t.as_str())).collect(),
        )
    };
    let indent = cx.indent_at(fnode.start_byte());
    let mut edits = vec![cx.edit(
        Span {
            start: fnode.end_byte() as u32,
            end: fnode.end_byte() as u32,
        },
        format!("\n\n{indent}{text}"),
    )];
    // The differentiated call sites.
    for (cf, call) in reached_call_sites(cx, func) {
        let src = &cx.a.workspace.files[cf as usize].text;
        let renamed = format!(
            "{}{}",
            &src[call.callee_span().range()]
                .strip_suffix(name.as_str())
                .unwrap_or(""),
            new_name
        );
        let statement = is_statement_call(cx, cf, call.span);
        // `z = f(z)` must bind a local of the calling function: assigning a variable the
        // caller captures from outside would box it.
        let caller_facts = &cx.a.facts[cf as usize];
        let local_to_caller = |arg: &str| {
            caller_facts.functions[call.func as usize]
                .param_index(arg)
                .is_some()
                || caller_facts
                    .assigns
                    .iter()
                    .any(|a| a.func == call.func && a.var == arg)
        };
        match (statement, caller_facts.args(call.args).get(pi)) {
            (true, Some(Value::Ident(arg))) if local_to_caller(arg) => {
                let rest = &src[call.callee_span().end as usize..call.span.end as usize];
                edits.push(Edit {
                    location: Location {
                        file: cf,
                        span: call.span,
                    },
                    replacement: format!("{arg} = {renamed}{rest}"),
                });
            }
            (true, _) => return,
            (false, _) => edits.push(Edit {
                location: Location {
                    file: cf,
                    span: call.callee_span(),
                },
                replacement: renamed,
            }),
        }
    }
    if edits.len() < 2 {
        return;
    }
    let sig_first_line = text.lines().next().unwrap_or("").to_string();
    found.fixes.push(Fix {
        title: format!(
            "Add the non-mutating `{sig_first_line}` and call it from differentiated code"
        ),
        applicability: Applicability::Unsafe,
        edits,
    });
}

/// The statement that writes `var` where `occ` is the written object, if any.
fn write_statement<'t>(occ: Occ<'t>, var: &str, src: &str) -> Option<Node<'t>> {
    let p = occ.parent?;
    match p.kind_str() {
        "compound_assignment_expression" if p.child(0)?.id() == occ.node.id() => Some(p),
        "index_expression" if p.named_child(0)?.id() == occ.node.id() => {
            let g = occ.grandparent?;
            (matches!(
                g.kind_str(),
                "assignment" | "compound_assignment_expression"
            ) && g.child(0)?.id() == p.id())
            .then_some(g)
        }
        "argument_list" => {
            let call = occ.grandparent?;
            let first = p.named_child(0)?;
            (call.kind_str() == "call_expression"
                && first.id() == occ.node.id()
                && callee_name(call, src).is_some_and(|c| c.ends_with('!'))
                && written_name(call, src).as_deref() == Some(var))
            .then_some(call)
        }
        _ => None,
    }
}

fn passed_to_mutating(occ: Occ, src: &str) -> bool {
    occ.parent
        .filter(|p| p.kind_str() == "argument_list")
        .and(occ.grandparent)
        .and_then(|c| callee_name(c, src))
        .is_some_and(|c| c.ends_with('!'))
}

/// The function returns `var` and nothing else: its last statement is `var` or `return var`,
/// and so is every `return`.
fn returns_only(fnode: Node, var: &str, src: &str) -> bool {
    let stmts = named_children(fnode);
    let Some(last) = stmts.last() else {
        return false;
    };
    let is_var = |n: Node| n.kind_str() == "identifier" && &src[n.byte_range()] == var;
    let returns_var = |n: Node| n.named_child(0).is_some_and(is_var);
    let last_ok = is_var(*last) || (last.kind_str() == "return_statement" && returns_var(*last));
    let mut stack = vec![fnode];
    while let Some(n) = stack.pop() {
        if n.kind_str() == "return_statement" && !returns_var(n) {
            return false;
        }
        if n.id() != fnode.id()
            && matches!(
                n.kind_str(),
                "function_definition" | "arrow_function_expression"
            )
        {
            continue;
        }
        stack.extend(crate::syntax::children(n));
    }
    last_ok
}

/// `f!` -> `f`, unless the workspace already defines `f`; then `f_nonmutating`.
fn variant_name(cx: &FileCx, name: &str) -> String {
    let stripped = name.trim_end_matches('!');
    let taken = |n: &str| {
        cx.a.facts
            .iter()
            .any(|f| f.functions.iter().any(|d| d.name.as_deref() == Some(n)))
    };
    if stripped != name && !taken(stripped) {
        stripped.to_string()
    } else {
        format!("{stripped}_nonmutating")
    }
}

fn rename_in(sig: &str, old: &str, new: &str) -> String {
    match sig.find(old) {
        Some(i) => format!("{}{new}{}", &sig[..i], &sig[i + old.len()..]),
        None => sig.to_string(),
    }
}

/// Whether the call is a statement of its own (its value is not used).
fn is_statement_call(cx: &FileCx, file: u32, span: Span) -> bool {
    let tree = cx.trees.covering(file, span);
    let Some(mut n) = tree
        .root_node()
        .descendant_for_byte_range(span.start as usize, span.end as usize)
    else {
        return false;
    };
    while Span::of(n) != span {
        match n.parent() {
            Some(p) => n = p,
            None => return false,
        }
    }
    let Some(parent) = n.parent() else {
        return false;
    };
    let is_last = parent
        .named_child(parent.named_child_count().saturating_sub(1) as u32)
        .is_some_and(|l| l.id() == n.id());
    match parent.kind_str() {
        "for_statement" | "while_statement" | "source_file" | "compound_statement"
        | "let_statement" | "module_definition" => true,
        // The last statement of a function or branch is its value.
        "function_definition"
        | "if_statement"
        | "else_clause"
        | "elseif_clause"
        | "try_statement"
        | "catch_clause"
        | "finally_clause"
        | "do_clause" => !is_last,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Zygote.forwarddiff.

/// `g(y)` -> `Zygote.forwarddiff(g, y)` for a helper of one argument that mutates.
///
/// Unsafe: ForwardDiff runs `g` on a copy of `y` made of dual numbers, so `y` itself is no
/// longer modified, and the gradient costs one pass per input element. Offered only when
/// `g`'s body can take dual numbers; otherwise the help says what stops it.
fn forwarddiff_wrap(cx: &FileCx, tree: &Tree, func: FuncIdx, found: &mut Found) {
    let fdef = &cx.facts.functions[func as usize];
    if fdef.kind != FunctionKind::Named || fdef.params.len() != 1 || !fdef.kwparams.is_empty() {
        return;
    }
    let Some(name) = fdef.name else {
        return;
    };
    let Some(fnode) = cx.function_node(tree, func) else {
        return;
    };
    let param = fdef.params[0].name.unwrap_or_else(|| "y".into());
    let blockers = dual_blockers(fnode, cx.src);
    if !blockers.is_empty() {
        found.notes.push(format!(
            "`Zygote.forwarddiff({name}, {param})` is not offered: {} cannot hold dual numbers",
            blockers.join(", ")
        ));
        return;
    }
    let mut edits = Vec::new();
    for (cf, call) in reached_call_sites(cx, func) {
        if call.args.len() != 1 || !call.kwargs.is_empty() || call.has_splat || call.broadcast {
            continue;
        }
        let src = &cx.a.workspace.files[cf as usize].text;
        let callee = &src[call.callee_span().range()];
        let args = &src[call.callee_span().end as usize..call.span.end as usize];
        let Some(inner) = args.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
            continue;
        };
        let wrapped = format!("Zygote.forwarddiff({callee}, {})", inner.trim());
        // As a statement the call was run for its effect on the argument: keep the result
        // under the argument's name, which must be a local of the caller.
        let replacement = if is_statement_call(cx, cf, call.span) {
            let caller = &cx.a.facts[cf as usize];
            match &caller.args(call.args)[0] {
                Value::Ident(arg)
                    if caller.functions[call.func as usize]
                        .param_index(arg)
                        .is_some()
                        || caller
                            .assigns
                            .iter()
                            .any(|a| a.func == call.func && a.var == *arg) =>
                {
                    format!("{arg} = {wrapped}")
                }
                _ => continue,
            }
        } else {
            wrapped
        };
        edits.push(Edit {
            location: Location {
                file: cf,
                span: call.span,
            },
            replacement,
        });
    }
    if edits.is_empty() {
        return;
    }
    found.fixes.push(Fix {
        title: format!(
            "Let ForwardDiff differentiate `{name}`: `Zygote.forwarddiff({name}, {param})`"
        ),
        applicability: Applicability::Unsafe,
        edits,
    });
}

/// What in a function body would reject dual numbers: `Float64` annotations and
/// conversions, and buffers allocated with the default element type `Float64`.
fn dual_blockers(fnode: Node, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![fnode];
    while let Some(n) = stack.pop() {
        let text = &src[n.byte_range()];
        match n.kind_str() {
            "identifier" if matches!(text, "Float64" | "Float32" | "Float16") => {
                let p = n.parent().map(|p| &src[p.byte_range()]).unwrap_or(text);
                out.push(format!(
                    "`{}` (a `{text}` annotation or buffer)",
                    first_line(p)
                ));
            }
            "call_expression" => {
                let name = callee_name(n, src).unwrap_or("");
                let first = n
                    .named_child(1)
                    .and_then(|a| named_children(a).into_iter().next());
                let typed = first.is_some_and(|f| {
                    let t = &src[f.byte_range()];
                    t.starts_with("eltype")
                        || t.starts_with("typeof")
                        || t.chars().next().is_some_and(char::is_uppercase)
                });
                let untyped_buffer = match name {
                    "zeros" | "ones" | "rand" | "randn" => !typed,
                    "fill" => first.is_some_and(|f| f.kind_str() == "float_literal"),
                    _ => false,
                };
                if untyped_buffer {
                    out.push(format!("`{}` (a `Float64` buffer)", first_line(text)));
                    continue;
                }
            }
            _ => {}
        }
        stack.extend(crate::syntax::children(n));
    }
    out.sort();
    out.dedup();
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

// ---------------------------------------------------------------------------------------
// rrule skeleton.

/// A `ChainRulesCore.rrule` for the function around the site, with the primal call, a
/// named pullback returning `NoTangent()` for the function and a marked placeholder per
/// argument; or `@non_differentiable` when the output does not depend on the arguments.
///
/// Display-only in the CLI: the pullback's math must be written by hand, and a wrong
/// `@non_differentiable` silently zeroes gradients. The editor offers it as a code action.
fn rrule_skeleton(cx: &FileCx, tree: &Tree, func: FuncIdx, found: &mut Found) {
    // The named function around the site (a closure's code belongs to it).
    let mut cur = Some(func);
    let mut named = None;
    while let Some(f) = cur {
        let def = &cx.facts.functions[f as usize];
        if def.kind == FunctionKind::Named {
            named = Some(f);
            break;
        }
        if matches!(
            def.kind,
            FunctionKind::TopLevel | FunctionKind::Functor { .. }
        ) {
            return;
        }
        cur = def.parent.get();
    }
    let Some(func) = named else { return };
    let fdef = &cx.facts.functions[func as usize];
    let Some(fnode) = cx.function_node(tree, func) else {
        return;
    };
    let full_name = fdef.display_name(cx.facts);
    let base = fdef.name.unwrap_or_default();
    let names: Vec<String> = fdef
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| match p.name {
            Some(n) => n.to_string(),
            None => format!("arg{}", i + 1),
        })
        .collect();
    let uses_args = names.iter().zip(&fdef.params).any(|(n, p)| {
        p.name.is_none()
            || occurrences(fnode, n, cx.src)
                .iter()
                .any(|o| !fdef.signature.contains(Span::of(o.node)))
    }) || !fdef.kwparams.is_empty();
    let indent = cx.indent_at(fnode.start_byte()).to_string();
    let (title, body) = if !uses_args && !fdef.params.is_empty() {
        let sig: Vec<String> = fdef
            .params
            .iter()
            .map(|p| {
                let ann = p.annotation.as_deref().unwrap_or("Any");
                if p.vararg {
                    format!("::{ann}...")
                } else {
                    format!("::{ann}")
                }
            })
            .collect();
        (
            format!("Mark `{full_name}` as `@non_differentiable` (its result does not depend on its arguments)"),
            format!("ChainRulesCore.@non_differentiable {full_name}({})", sig.join(", ")),
        )
    } else {
        let sig: Vec<String> = fdef
            .params
            .iter()
            .zip(&names)
            .map(|(p, n)| {
                let mut s = n.clone();
                if let Some(a) = &p.annotation {
                    s.push_str("::");
                    s.push_str(a);
                }
                if p.vararg {
                    s.push_str("...");
                }
                s
            })
            .collect();
        let call_args: Vec<String> = fdef
            .params
            .iter()
            .zip(&names)
            .map(|(p, n)| {
                if p.vararg {
                    format!("{n}...")
                } else {
                    n.clone()
                }
            })
            .collect();
        let kw = if fdef.kwparams.is_empty() {
            ""
        } else {
            "; kwargs..."
        };
        let pb = format!("{}_pullback", base.trim_end_matches('!'));
        let mut s = format!(
            "function ChainRulesCore.rrule(::typeof({full_name}){}{}{kw})\n",
            if sig.is_empty() { "" } else { ", " },
            sig.join(", ")
        );
        s.push_str(&format!(
            "    Ω = {full_name}({}{kw})\n",
            call_args.join(", ")
        ));
        s.push_str(&format!("    function {pb}(ΔΩ)\n"));
        s.push_str("        # adlint: replace each placeholder by the argument's tangent (ΔΩ times ∂Ω/∂arg)\n");
        let mut tangents = vec!["ChainRulesCore.NoTangent()".to_string()];
        for (p, n) in fdef.params.iter().zip(&names) {
            let placeholder = format!(
                "ChainRulesCore.@not_implemented(\"adlint: tangent of `{n}` for `{full_name}`\")"
            );
            if p.vararg {
                s.push_str(&format!("        ∂{n} = map(_ -> {placeholder}, {n})\n"));
                tangents.push(format!("∂{n}..."));
            } else {
                s.push_str(&format!("        ∂{n} = {placeholder}\n"));
                tangents.push(format!("∂{n}"));
            }
        }
        s.push_str(&format!("        return ({})\n", tangents.join(", ")));
        s.push_str("    end\n");
        s.push_str(&format!("    return Ω, {pb}\n"));
        s.push_str("end");
        (
            format!("Define a `ChainRulesCore.rrule` for `{full_name}` (skeleton)"),
            s,
        )
    };
    let body = body.replace('\n', &format!("\n{indent}"));
    let mut edits = vec![cx.edit(
        Span {
            start: fnode.end_byte() as u32,
            end: fnode.end_byte() as u32,
        },
        format!("\n\n{indent}{body}"),
    )];
    let imported = cx.a.facts.iter().any(|f| {
        f.imports
            .iter()
            .any(|i| i.path.first().is_some_and(|p| p == "ChainRulesCore"))
    });
    if !imported {
        edits.insert(0, import_edit(cx, fnode));
    }
    found.fixes.push(Fix {
        title,
        applicability: Applicability::DisplayOnly,
        edits,
    });
}

/// `import ChainRulesCore` after the last top-level `using`/`import` (of the file or of a
/// module) before the function, or on its own line above the function.
fn import_edit(cx: &FileCx, fnode: Node) -> Edit {
    let last = cx
        .facts
        .imports
        .iter()
        .map(|i| i.span)
        .filter(|s| s.start < fnode.start_byte() as u32 && cx.facts.chunks.binary_search(s).is_ok())
        .max_by_key(|s| s.end);
    match last {
        Some(l) => {
            let indent = cx.indent_at(l.start as usize);
            cx.edit(
                Span {
                    start: l.end,
                    end: l.end,
                },
                format!("\n{indent}import ChainRulesCore"),
            )
        }
        None => {
            let line_start = cx.src[..fnode.start_byte()]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let indent = cx.indent_at(fnode.start_byte());
            cx.edit(
                Span {
                    start: line_start as u32,
                    end: line_start as u32,
                },
                format!("{indent}import ChainRulesCore\n\n"),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Guidance.

/// Help that shows the user's own code rewritten, for findings adlint cannot fix
/// mechanically: try/catch, mutable struct fields, boxed variables, nested AD. `tree`
/// parses the finding's statement; it is called only for those categories.
fn guidance<'t>(cx: &FileCx, tree: &dyn Fn() -> &'t Tree, d: &Diagnostic) -> Option<String> {
    let site = || cx.site_node(tree(), d.location.span);
    match d.category {
        Category::TryCatch => try_guidance(cx, site()?),
        Category::MutableStruct => field_guidance(cx, site()?),
        Category::NestedAd => nested_guidance(cx, site()?),
        Category::BoxedVariable => {
            site()?;
            boxed_guidance(cx, tree(), d)
        }
        _ => None,
    }
}

fn one_line(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.contains('\n') && t.len() <= 80).then(|| t.to_string())
}

/// `try e catch; s end` -> check the failing case first and return the sentinel.
fn try_guidance(cx: &FileCx, node: Node) -> Option<String> {
    let t = if node.kind_str() == "try_statement" {
        node
    } else {
        let mut n = node;
        while n.kind_str() != "try_statement" {
            n = n.parent()?;
        }
        n
    };
    let kids = named_children(t);
    let body: Vec<Node> = kids
        .iter()
        .copied()
        .take_while(|c| !matches!(c.kind_str(), "catch_clause" | "finally_clause"))
        .collect();
    let catch = kids.iter().find(|c| c.kind_str() == "catch_clause")?;
    let handler: Vec<Node> = named_children(*catch)
        .into_iter()
        .filter(|c| c.kind_str() != "identifier" || c.start_byte() > catch.start_byte() + 6)
        .collect();
    let [tried] = body.as_slice() else {
        return None;
    };
    let [fallback] = handler.as_slice() else {
        return None;
    };
    let tried_text = one_line(cx.text(*tried))?;
    let fallback = one_line(cx.text(*fallback))?;
    // The common domain errors have a known condition.
    let condition = (tried.kind_str() == "call_expression")
        .then(|| {
            let name = callee_name(*tried, cx.src)?;
            let args = named_children(tried.named_child(1)?);
            let [arg] = args.as_slice() else { return None };
            let a = paren(*arg, cx.src);
            match name {
                "sqrt" => Some(format!("{a} < 0")),
                "log" | "log2" | "log10" => Some(format!("{a} <= 0")),
                "asin" | "acos" => Some(format!("abs({a}) > 1")),
                _ => None,
            }
        })
        .flatten();
    let rewritten = match condition {
        Some(c) => format!("`{c} ? {fallback} : {tried_text}`"),
        None => {
            format!("`<condition under which {tried_text} throws> ? {fallback} : {tried_text}`")
        }
    };
    Some(format!(
        "return the sentinel without try/catch by testing for the failing case first: {rewritten}; or move the try/catch into a helper with a `ChainRulesCore.rrule`"
    ))
}

/// `m.a = v` -> an immutable struct and `m = Accessors.@set m.a = v`.
fn field_guidance(cx: &FileCx, node: Node) -> Option<String> {
    let assign = if node.kind_str() == "assignment" {
        node
    } else {
        let mut n = node;
        while n.kind_str() != "assignment" {
            n = n.parent()?;
        }
        n
    };
    let lhs = assign.child(0)?;
    if lhs.kind_str() != "field_expression" {
        return None;
    }
    let object = lhs.named_child(0)?;
    let stmt = one_line(cx.text(assign))?;
    let obj = cx.text(object);
    Some(format!(
        "make the struct immutable (`struct` instead of `mutable struct`) and replace the field write by a new object: `{obj} = Accessors.@set {stmt}`"
    ))
}

/// `gradient(x -> gradient(f, x)[1], x)`: the inner derivative by ForwardDiff, or
/// `Zygote.hessian` for the whole second derivative.
fn nested_guidance(cx: &FileCx, node: Node) -> Option<String> {
    if node.kind_str() != "call_expression" {
        return None;
    }
    let callee = node.named_child(0)?;
    let name = cx.text(callee).rsplit('.').next()?.to_string();
    let args = cx.text(node.named_child(1)?);
    // Zygote returns a tuple, ForwardDiff the derivative itself: `gradient(f, x)[1]`
    // becomes `ForwardDiff.gradient(f, x)`.
    let whole = node
        .parent()
        .filter(|p| {
            p.kind_str() == "index_expression"
                && p.named_child(1).is_some_and(|i| cx.text(i) == "[1]")
        })
        .unwrap_or(node);
    let call = one_line(cx.text(whole))?;
    // ForwardDiff inside Zygote leaves what a closure captures without a gradient
    // (zygote-semantics.md §5.3): only `Zygote.hessian` for a capturing closure.
    let f = node.named_child(1)?.named_child(0)?;
    let captures = (cx.facts.functions.iter().enumerate()).any(|(i, def)| {
        def.span == crate::facts::Span::of(f) && cx.facts.captures_parent_locals(i as FuncIdx)
    });
    if captures {
        return Some(format!(
            "compute the second derivative with `Zygote.hessian` (forward over reverse) instead of `{call}` inside a gradient; `ForwardDiff` for the inner derivative alone would give the variables its closure captures no gradient"
        ));
    }
    let forward = match name.as_str() {
        "gradient" => format!(
            "`ForwardDiff.gradient{args}` (or `ForwardDiff.derivative{args}` when the argument is a number)"
        ),
        "jacobian" | "derivative" | "hessian" => format!("`ForwardDiff.{name}{args}`"),
        _ => return None,
    };
    Some(format!(
        "take the inner derivative with forward mode: replace `{call}` by {forward}; ForwardDiff over Zygote is well supported. For a full second derivative, call `Zygote.hessian` once instead"
    ))
}

/// A boxed capture: capture a `let` copy, or re-bind under a fresh name.
fn boxed_guidance(cx: &FileCx, tree: &Tree, d: &Diagnostic) -> Option<String> {
    let (var, capture) = d.related.iter().find_map(|r| {
        let rest = r.message.strip_prefix('`')?;
        let (var, tail) = rest.split_once('`')?;
        tail.starts_with(" is captured here")
            .then(|| (var.to_string(), r.location.span))
    })?;
    let closure = cx
        .facts
        .functions
        .iter()
        .filter(|f| f.kind.is_closure() && f.span.contains(capture))
        .min_by_key(|f| f.span.end - f.span.start)?;
    let closure_node = cx.site_node(tree, closure.span)?;
    let closure_text = one_line(cx.text(closure_node))?;
    let let_form = match closure_node.parent() {
        Some(p)
            if p.kind_str() == "assignment"
                && p.child(0).is_some_and(|l| l.kind_str() == "identifier") =>
        {
            let name = cx.text(p.child(0)?);
            format!("`{name} = let {var} = {var}; {closure_text} end`")
        }
        _ => format!("`let {var} = {var}; {closure_text} end`"),
    };
    let site = cx.site_node(tree, d.location.span)?;
    let fresh = if site.kind_str() == "assignment"
        && site.child(0).is_some_and(|l| cx.text(l) == var)
    {
        let rhs = site.named_child(site.named_child_count().checked_sub(1)? as u32)?;
        one_line(cx.text(rhs)).map(|v| {
            format!(", or give the re-bound value a fresh name: `{var}2 = {v}`, and use `{var}2` after it")
        })
    } else {
        None
    };
    Some(format!(
        "capture a copy that is never re-bound: {let_form}{}",
        fresh.unwrap_or_default()
    ))
}

/// The calls of `func` (in the file of `cx`) made from differentiated code: (file, call).
fn reached_call_sites<'a>(
    cx: &FileCx<'a>,
    func: FuncIdx,
) -> impl Iterator<Item = (u32, &'a crate::facts::Call)> + 'a {
    let a = cx.a;
    let me = FuncRef {
        file: cx.file,
        func,
    };
    a.graph
        .call_sites_of(me)
        .into_iter()
        .map(move |(cf, ci)| (cf, &a.facts[cf as usize].calls[ci as usize]))
        .filter(move |(cf, call)| {
            a.graph.is_reached(FuncRef {
                file: *cf,
                func: call.func,
            })
        })
}
