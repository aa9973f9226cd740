//! What the fix builders share: the syntax trees of the statements around findings
//! ([`Trees`]), one file's view of them with its facts ([`FileCx`]), and small questions
//! about nodes (the occurrences of a name, a callee's name, whether a call is a statement,
//! the differentiated call sites of a function).
//!
//! The analysis keeps facts, not trees, so the statement around a finding is parsed again
//! here, on its own.

use crate::analysis::Analysis;
use crate::diagnostic::{Edit, Location};
use crate::facts::{FileFacts, FuncIdx, Span};
use crate::index::FuncRef;
use crate::syntax::KindName;
use std::collections::HashMap;
use std::rc::Rc;
use tree_sitter::{Node, Tree};

/// Functions that only look at an array's shape: reading them does not alias it.
pub(super) const SHAPE_QUERIES: &[&str] = &[
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

/// Syntax trees for the builders. A file the caller had a tree of (an open document in the
/// editor) uses it; otherwise each top-level statement is parsed on its own when first
/// needed ([`syntax::parse_range`]): a finding's fixes look inside the function around it
/// and at call sites, never across statements, and parsing one statement costs a fraction
/// of parsing its file again.
pub(super) struct Trees<'a> {
    pub(super) a: &'a Analysis,
    /// Whole files given by the caller.
    pub(super) given: &'a HashMap<u32, Tree>,
    /// Parsed here, by (file, the statement or the whole file), with their comments once
    /// asked for: the last few only. Findings come in file order, so the statement of the
    /// next finding is almost always one of them; keeping every statement of a large file
    /// parsed until its findings are done would hold trees many times the size of its
    /// source.
    pub(super) parsed: std::cell::RefCell<std::collections::VecDeque<Entry>>,
}

/// How many statements [`Trees`] keeps parsed.
pub(super) const TREES_KEPT: usize = 4;

/// A parsed statement or file: its key, its tree, and the comments in it (found when a
/// fix's edits are checked against them; most findings have none).
pub(super) type Entry = ((u32, Span), Tree, Option<std::rc::Rc<Vec<Span>>>);

impl<'a> Trees<'a> {
    /// The key of the tree that covers `span` of `file`: its statement, or the whole file
    /// when the caller gave the file's tree.
    pub(super) fn key(&self, file: u32, span: Span) -> (u32, Span) {
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
    pub(super) fn entry(&self, file: u32, span: Span) -> usize {
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
    pub(super) fn covering(&self, file: u32, span: Span) -> Tree {
        let i = self.entry(file, span);
        self.parsed.borrow()[i].1.clone()
    }

    /// The comments in the tree that covers `span` of `file`.
    pub(super) fn comments(&self, file: u32, span: Span) -> std::rc::Rc<Vec<Span>> {
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

/// One file's view for the builders.
pub(super) struct FileCx<'a> {
    pub(super) a: &'a Analysis,
    pub(super) file: u32,
    pub(super) src: &'a str,
    pub(super) facts: &'a FileFacts,
    pub(super) trees: &'a Trees<'a>,
    pub(super) memo: &'a FileMemo,
}

/// What the builders look up in one file again and again, found once for all its
/// findings: a function of a thousand findings was walked whole, and its file's
/// assignments scanned, once per finding.
#[derive(Default)]
pub(super) struct FileMemo {
    /// The identifiers of each function that [`occurrences`] would find, by name.
    names: std::cell::RefCell<HashMap<FuncIdx, Rc<Names>>>,
    /// The file's assignments by variable: indexes into `facts.assigns`.
    assigns: std::cell::OnceCell<HashMap<crate::name::Name, Vec<u32>>>,
    /// The file's functions by the start of their span.
    by_start: std::cell::OnceCell<crate::facts::FunctionsByStart>,
}

/// Spans of identifiers by name, in order.
pub(super) type Names = HashMap<String, Vec<Span>>;

impl<'a> FileCx<'a> {
    pub(super) fn text(&self, n: Node) -> &'a str {
        &self.src[n.byte_range()]
    }

    pub(super) fn edit(&self, span: Span, replacement: String) -> Edit {
        Edit {
            location: Location {
                file: self.file,
                span,
            },
            replacement,
        }
    }

    /// The identifiers of `func`, whose node is `fnode`, by name: what [`occurrences`]
    /// finds under `fnode`, walked once per function.
    pub(super) fn names_in(&self, func: FuncIdx, fnode: Node) -> Rc<Names> {
        let mut memo = self.memo.names.borrow_mut();
        let names = memo.entry(func).or_insert_with(|| {
            let mut names = Names::new();
            for occ in identifiers(fnode) {
                let text = &self.src[occ.node.byte_range()];
                (names.entry(text.to_string()).or_default()).push(Span::of(occ.node));
            }
            Rc::new(names)
        });
        names.clone()
    }

    /// The assignments of this file to `var`.
    pub(super) fn assigns_of(&self, var: &str) -> impl Iterator<Item = &'a crate::facts::Assign> {
        let facts: &'a FileFacts = self.facts;
        let memo: &'a FileMemo = self.memo;
        let by_var = memo.assigns.get_or_init(|| {
            let mut by_var: HashMap<crate::name::Name, Vec<u32>> = HashMap::new();
            for (i, a) in facts.assigns.iter().enumerate() {
                by_var.entry(a.var).or_default().push(i as u32);
            }
            by_var
        });
        let found: &'a [u32] = crate::name::Name::lookup(var)
            .and_then(|n| by_var.get(&n))
            .map_or(&[], |v| v.as_slice());
        found.iter().map(move |&i| &facts.assigns[i as usize])
    }

    /// The file's functions by the start of their span.
    fn by_start(&self) -> &'a crate::facts::FunctionsByStart {
        let memo: &'a FileMemo = self.memo;
        (memo.by_start).get_or_init(|| crate::facts::FunctionsByStart::new(self.facts))
    }

    /// The function with the latest start that contains `span` (of several with that
    /// start, the last defined).
    pub(super) fn innermost_function(&self, span: Span) -> Option<FuncIdx> {
        self.by_start().around(self.facts, span).next().or_else(|| {
            // Parents that do not nest as their spans do (never seen): ask every function.
            (self.facts.functions.iter().enumerate())
                .filter(|(_, f)| f.span.contains(span))
                .max_by_key(|(_, f)| f.span.start)
                .map(|(i, _)| i as FuncIdx)
        })
    }

    /// The node a diagnostic points at: the smallest node covering exactly its span.
    pub(super) fn site_node<'t>(&self, tree: &'t Tree, span: Span) -> Option<Node<'t>> {
        let mut n = tree
            .root_node()
            .descendant_for_byte_range(span.start as usize, span.end as usize)?;
        while Span::of(n) != span {
            n = n.parent()?;
        }
        Some(n)
    }

    pub(super) fn function_node<'t>(&self, tree: &'t Tree, func: FuncIdx) -> Option<Node<'t>> {
        let span = self.facts.functions[func as usize].span;
        self.site_node(tree, span)
    }

    /// Whether `name` is a parameter of `func` or of a function around it.
    pub(super) fn is_param(&self, func: FuncIdx, name: &str) -> bool {
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
    pub(super) fn nested_spans(&self, func: FuncIdx) -> Vec<Span> {
        let outer = self.facts.functions[func as usize].span;
        // Only the functions that start inside `outer` can be in it.
        (self.by_start().starting_in(outer))
            .map(|i| (i, self.facts.functions[i as usize].span))
            .filter(|&(i, f)| i != func && outer.contains(f) && f != outer)
            .map(|(_, f)| f)
            .collect()
    }

    /// The line's leading whitespace of the line that contains `byte`.
    pub(super) fn indent_at(&self, byte: usize) -> &'a str {
        let line_start = self.src[..byte].rfind('\n').map_or(0, |i| i + 1);
        let rest = &self.src[line_start..];
        let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        &rest[..len]
    }

    /// The span that removes a statement: its whole line when nothing else is on it, with
    /// a `;` that follows it on the same line.
    pub(super) fn statement_removal(&self, n: Node) -> Span {
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

pub(super) fn named_children(n: Node) -> Vec<Node> {
    crate::syntax::named_children(n)
        .into_iter()
        .filter(|c| !matches!(c.kind_str(), "line_comment" | "block_comment"))
        .collect()
}

/// An `identifier` found by [`occurrences`], with the two ancestors the walk came through
/// (`Node::parent` costs a walk down from the root, which is quadratic in deep trees).
pub(super) type Occ<'t> = crate::syntax::Found<'t>;

/// Every `identifier` named `name` under `n`, except field names (`m.name`) and keyword
/// names in calls.
pub(super) fn occurrences<'t>(n: Node<'t>, name: &str, src: &str) -> Vec<Occ<'t>> {
    let mut found = identifiers(n);
    found.retain(|occ| &src[occ.node.byte_range()] == name);
    found
}

/// Every `identifier` under `n` except field names and keyword names in calls, in order.
fn identifiers(n: Node) -> Vec<Occ> {
    static IDENTIFIERS: crate::syntax::KindSet = crate::syntax::KindSet::new(&["identifier"]);
    let mut found = IDENTIFIERS.find_in(n);
    found.retain(|occ| {
        let n = occ.node;
        !occ.parent.is_some_and(|p: Node| {
            p.kind_str() == "field_expression" && p.named_child(0).is_some_and(|v| v.id() != n.id())
        })
    });
    // Pre-order: already by start.
    found
}

pub(super) fn mentions(n: Node, name: &str, src: &str) -> bool {
    !occurrences(n, name, src).is_empty()
}

/// The callee's name of a call node, without qualification.
pub(super) fn callee_name<'s>(call: Node, src: &'s str) -> Option<&'s str> {
    let callee = call.named_child(0)?;
    let text = &src[callee.byte_range()];
    Some(text.rsplit('.').next().unwrap_or(text))
}

/// A read that neither aliases nor writes the array: a shape query (`size(z)`) or an
/// element read (`z[i]` outside an assignment target).
pub(super) fn is_harmless_read(occ: Occ, src: &str) -> bool {
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
pub(super) fn is_broadcast(n: Node, src: &str) -> bool {
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
pub(super) fn paren(n: Node, src: &str) -> String {
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

/// Whether the call is a statement of its own (its value is not used).
pub(super) fn is_statement_call(cx: &FileCx, file: u32, span: Span) -> bool {
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

/// The calls of `func` (in the file of `cx`) made from differentiated code: (file, call).
pub(super) fn reached_call_sites<'a>(
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

/// Code text without whitespace and without `Base.` qualifiers, to compare iterators and
/// lengths as written: `1 : length(z)` and `Base.OneTo(n)` become `1:length(z)`, `OneTo(n)`.
pub(super) fn squeeze(text: &str) -> String {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    t.replace("Base.", "")
}

/// Whether `name` occurs in `text` as a whole identifier (`z` in `size(z)`, not in `zz`).
pub(super) fn mentions_in_text(text: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '!';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(|c| is_ident(c) || c == '.') && !after.is_some_and(is_ident)
    })
}

/// Whether every `return` statement of the function `fnode` (not those of functions
/// defined inside it) satisfies `ok`.
pub(super) fn every_return(fnode: Node, ok: impl Fn(Node) -> bool) -> bool {
    let mut stack = vec![fnode];
    while let Some(n) = stack.pop() {
        if n.kind_str() == "return_statement" && !ok(n) {
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
    true
}

/// [`FileCx::site_node`] of each of `spans` in one walk of `tree`: the deepest node with
/// exactly that span. From the root, each lookup costs the depth of its node, and the
/// findings of 4,000 `try` blocks nested in one another took seconds. The walk enters only
/// the nodes that hold the start of a span, so one span costs what one lookup does.
pub(super) fn site_nodes<'t>(tree: &'t Tree, spans: &[Span]) -> Vec<Option<Node<'t>>> {
    let mut out: Vec<Option<Node<'t>>> = vec![None; spans.len()];
    if spans.is_empty() {
        return out;
    }
    // The spans by start, and where each is wanted.
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_unstable_by_key(|&i| spans[i]);
    let starts: Vec<u32> = order.iter().map(|&i| spans[i].start).collect();
    let holds_a_start = |n: Span| {
        let first = starts.partition_point(|&s| s < n.start);
        starts.get(first).is_some_and(|&s| s <= n.end)
    };
    let mut depth_found: Vec<usize> = vec![0; spans.len()];
    crate::syntax::walk_preorder(tree, |cursor, depth| {
        let node = cursor.node();
        let here = Span::of(node);
        // Each wanted span equal to this node's: the deepest such node wins.
        let first = order.partition_point(|&i| spans[i] < here);
        for &i in order[first..].iter().take_while(|&&i| spans[i] == here) {
            if out[i].is_none() || depth > depth_found[i] {
                out[i] = Some(node);
                depth_found[i] = depth;
            }
        }
        holds_a_start(here)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What [`FileCx::site_node`] finds, from the root.
    fn from_root(tree: &Tree, span: Span) -> Option<Node<'_>> {
        let mut n =
            (tree.root_node()).descendant_for_byte_range(span.start as usize, span.end as usize)?;
        while Span::of(n) != span {
            n = n.parent()?;
        }
        Some(n)
    }

    /// The one walk finds what a lookup from the root finds, for the span of every node of
    /// the example package and the labelled cases, and for spans no node has.
    #[test]
    fn one_walk_finds_each_site_as_a_lookup_from_the_root_does() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples/src", "tests/corpus/dev"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "jl") {
                        files.push(p);
                    }
                }
            }
        }
        assert!(files.len() > 20, "{} files", files.len());
        for path in files {
            let src = std::fs::read_to_string(&path).unwrap();
            let tree = crate::syntax::parse(&src).tree;
            let mut spans = Vec::new();
            crate::syntax::walk_preorder(&tree, |cursor, _| {
                spans.push(Span::of(cursor.node()));
                true
            });
            // Spans that are no node's: one byte into each node, and past the end.
            let n = spans.len();
            for i in 0..n {
                let s = spans[i];
                if s.end > s.start + 1 {
                    spans.push(Span {
                        start: s.start + 1,
                        end: s.end,
                    });
                }
            }
            let len = src.len() as u32;
            spans.push(Span {
                start: len,
                end: len + 4,
            });
            let found = site_nodes(&tree, &spans);
            for (span, node) in spans.iter().zip(&found) {
                assert_eq!(
                    node.map(|n| n.id()),
                    from_root(&tree, *span).map(|n| n.id()),
                    "{}: {span:?}",
                    path.display()
                );
            }
        }
    }
}
