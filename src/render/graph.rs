//! `adlint graph`: the call graph from the entry points to the findings, in Graphviz DOT.
//!
//! Only what leads to a finding is drawn (a package's whole graph is unreadable): the
//! functions on some path of the call graph from an entry's differentiated functions to a
//! function that holds a finding, every call between them (not only the shortest chain
//! each finding is reported with), the findings, and the escape hatches those functions
//! meet: calls into functions a rule covers (`rrule`, `@adjoint`, `@non_differentiable`,
//! a `has-rule` of the config) and `@ignore_derivatives` regions written in them. Calls
//! adlint only guessed are dashed. The output is sorted, so the same code gives the same
//! text.

use crate::analysis::Analysis;
use crate::callgraph::EdgeKind;
use crate::diagnostic::Severity;
use crate::facts::FunctionKind;
use crate::index::{CustomRules, FuncRef};
use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::io::Write;

/// A node of the drawing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    /// An entry point, by its index in `CallGraph::entries`.
    Entry(usize),
    /// A function on a path to a finding.
    Function(FuncRef),
    /// A finding, by its index in `Analysis::diagnostics`.
    Finding(usize),
    /// A function Zygote does not go into, called from a drawn function.
    Hatch(FuncRef),
}

/// An arrow of the drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Arrow {
    label: String,
    /// Only guessed: every call it stands for is a possible one.
    possible: bool,
    /// Into an escape hatch: Zygote stops there.
    stops: bool,
}

/// The calls one arrow stands for: (line of the call, whether it is only guessed, how it
/// was found).
type Calls = Vec<(u32, bool, EdgeKind)>;

/// The entries a `--entry FILE:LINE` names: those whose call starts on (or spans) that
/// line of that file. `file` is compared with the files' canonical paths and with the
/// paths as shown.
pub fn entries_at(analysis: &Analysis, file: &std::path::Path, line: usize) -> Vec<usize> {
    let canonical = file.canonicalize().ok();
    let shown = file.to_string_lossy();
    let shown = shown.strip_prefix("./").unwrap_or(&shown);
    (analysis.graph.entries.iter().enumerate())
        .filter(|(_, e)| {
            let f = &analysis.workspace.files[e.file as usize];
            canonical.as_ref().is_some_and(|c| *c == f.path) || f.display == shown
        })
        .filter(|(_, e)| {
            let span = analysis.facts[e.file as usize].calls[e.call as usize].span;
            let first = analysis.line_col(e.file, span.start).0;
            let last = analysis
                .line_col(e.file, span.end.max(span.start + 1) - 1)
                .0;
            (first..=last).contains(&line)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Each entry as `FILE:LINE api`, sorted: what `--entry` accepts, for error messages.
pub fn entry_places(analysis: &Analysis) -> Vec<String> {
    let mut out: Vec<String> = (analysis.graph.entries.iter())
        .map(|e| {
            let span = analysis.facts[e.file as usize].calls[e.call as usize].span;
            format!(
                "{}:{} {}",
                super::visible(&analysis.workspace.files[e.file as usize].display),
                analysis.line_col(e.file, span.start).0,
                e.api
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Writes the DOT text of the graph from `entries` (indices into `CallGraph::entries`;
/// all of them when `None`) to the findings they reach.
pub fn write_dot(
    analysis: &Analysis,
    entries: Option<&[usize]>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let drawing = build(analysis, entries);
    writeln!(out, "digraph adlint {{")?;
    writeln!(out, "    rankdir = LR;")?;
    writeln!(
        out,
        "    node [fontname = \"Helvetica\", fontsize = 11, shape = box, style = rounded];"
    )?;
    writeln!(out, "    edge [fontname = \"Helvetica\", fontsize = 9];")?;
    let arrow = |_, e: petgraph::graph::EdgeReference<'_, Arrow>| arrow_attrs(e.weight());
    let node = |_, (_, node): (NodeIndex, &Node)| drawing.node_attrs(node);
    let dot = Dot::with_attr_getters(
        &drawing.graph,
        &[
            Config::GraphContentOnly,
            Config::NodeNoLabel,
            Config::EdgeNoLabel,
        ],
        &arrow,
        &node,
    );
    // The weights are not printed (no labels from them): `Debug` or `Display` alike.
    write!(out, "{dot:?}")?;
    if drawing.graph.node_count() == 0 {
        writeln!(
            out,
            "    empty [label = \"no entry point reaches a finding\", shape = plaintext];"
        )?;
    }
    writeln!(out, "}}")
}

/// The drawing as a graph whose nodes and arrows are in a fixed order.
struct Drawing<'a> {
    analysis: &'a Analysis,
    graph: DiGraph<Node, Arrow>,
    rules: CustomRules,
}

fn build<'a>(analysis: &'a Analysis, entries: Option<&[usize]>) -> Drawing<'a> {
    let cg = &analysis.graph;
    let chosen: Vec<usize> = match entries {
        Some(e) => e.to_vec(),
        None => (0..cg.entries.len()).collect(),
    };
    // What the chosen entries reach (not into functions a rule covers).
    let reached = cg.reached_by_any(&chosen);
    // The findings in reached functions, with the function each is in.
    let mut findings: Vec<(usize, FuncRef)> = Vec::new();
    let mut by_start: HashMap<u32, crate::facts::FunctionsByStart> = HashMap::new();
    for (i, d) in analysis.diagnostics.iter().enumerate() {
        if d.entry.is_none() {
            continue;
        }
        let file = d.location.file;
        let index = (by_start.entry(file))
            .or_insert_with(|| crate::facts::FunctionsByStart::new(&analysis.facts[file as usize]));
        if let Some(f) = innermost_reached(analysis, index, &reached, d.location) {
            findings.push((i, f));
        }
    }
    // The reached functions from which some finding's function is reached: a backward
    // walk through reached callers.
    let mut on_path: HashSet<FuncRef> = HashSet::new();
    let mut queue: VecDeque<FuncRef> = VecDeque::new();
    for &(_, f) in &findings {
        if on_path.insert(f) {
            queue.push_back(f);
        }
    }
    while let Some(f) = queue.pop_front() {
        for e in cg
            .graph
            .edges_directed(cg.node(f), petgraph::Direction::Incoming)
        {
            let caller = cg.graph[e.source()];
            if reached.contains(&caller) && on_path.insert(caller) {
                queue.push_back(caller);
            }
        }
    }
    // Entries drawn: those whose differentiated functions are on a path; every chosen one
    // when `--entry` chose.
    let drawn_entries: Vec<usize> = (chosen.iter().copied())
        .filter(|&e| entries.is_some() || cg.entries[e].roots.iter().any(|r| on_path.contains(r)))
        .collect();

    // The `@ignore_derivatives` regions written in each function (not the regions adlint
    // cannot read, such as `@turbo`: Zygote goes into those), by function.
    let mut regions: HashMap<FuncRef, Vec<FuncRef>> = HashMap::new();
    for (file, facts) in analysis.facts.iter().enumerate() {
        for (i, g) in facts.functions.iter().enumerate() {
            let escape = matches!(g.kind, FunctionKind::Region { opaque: false, .. });
            if let (true, Some(parent)) = (escape, g.parent.get()) {
                let file = file as u32;
                (regions.entry(FuncRef { file, func: parent }).or_default())
                    .push(FuncRef { file, func: i as _ });
            }
        }
    }
    let mut nodes: BTreeSet<Node> = BTreeSet::new();
    let mut arrows: BTreeMap<(Node, Node), Calls> = BTreeMap::new();
    let line_of = |file: u32, byte: u32| analysis.line_col(file, byte).0 as u32;
    for &e in &drawn_entries {
        nodes.insert(Node::Entry(e));
        let entry = &cg.entries[e];
        let at = analysis.facts[entry.file as usize].calls[entry.call as usize].span;
        for &root in &entry.roots {
            let target = if cg.is_cut(root) {
                Node::Hatch(root)
            } else if on_path.contains(&root) || entries.is_some() {
                Node::Function(root)
            } else {
                continue;
            };
            nodes.insert(target.clone());
            (arrows.entry((Node::Entry(e), target)).or_default()).push((
                line_of(entry.file, at.start),
                false,
                EdgeKind::Call,
            ));
        }
    }
    for &f in &on_path {
        nodes.insert(Node::Function(f));
        for e in cg.graph.edges(cg.node(f)) {
            let callee = cg.graph[e.target()];
            let target = if on_path.contains(&callee) {
                Node::Function(callee)
            } else if cg.is_cut(callee) && is_hatch(analysis, callee) {
                Node::Hatch(callee)
            } else {
                continue;
            };
            nodes.insert(target.clone());
            let w = e.weight();
            (arrows.entry((Node::Function(f), target)).or_default()).push((
                line_of(f.file, w.site.start),
                w.possible,
                w.kind,
            ));
        }
        // `@ignore_derivatives` regions written in the function.
        for &region in regions.get(&f).map_or(&[][..], |r| r.as_slice()) {
            let start = analysis.facts[f.file as usize].functions[region.func as usize]
                .span
                .start;
            nodes.insert(Node::Hatch(region));
            (arrows
                .entry((Node::Function(f), Node::Hatch(region)))
                .or_default())
            .push((line_of(f.file, start), false, EdgeKind::Closure));
        }
    }
    for &(i, f) in &findings {
        if on_path.contains(&f) {
            let d = &analysis.diagnostics[i];
            nodes.insert(Node::Finding(i));
            (arrows
                .entry((Node::Function(f), Node::Finding(i)))
                .or_default())
            .push((
                line_of(d.location.file, d.location.span.start),
                false,
                EdgeKind::Call,
            ));
        }
    }

    // Nodes in the order of their place (file as shown, line), then of their kind.
    let mut ordered: Vec<Node> = nodes.into_iter().collect();
    let key = |n: &Node| -> (u8, String, u32, u32, String) {
        let (kind, (file, byte), name) = match n {
            Node::Entry(e) => {
                let entry = &cg.entries[*e];
                let span = analysis.facts[entry.file as usize].calls[entry.call as usize].span;
                (0, (entry.file, span.start), entry.api.to_string())
            }
            Node::Function(f) => (1, function_place(analysis, *f), name_of(analysis, *f)),
            Node::Hatch(f) => (2, function_place(analysis, *f), name_of(analysis, *f)),
            Node::Finding(i) => {
                let d = &analysis.diagnostics[*i];
                (
                    3,
                    (d.location.file, d.location.span.start),
                    d.rule.to_string(),
                )
            }
        };
        let display = analysis.workspace.files[file as usize].display.clone();
        (kind, display, byte, file, name)
    };
    ordered.sort_by_cached_key(|n| key(n));
    let mut graph: DiGraph<Node, Arrow> = DiGraph::new();
    let index: BTreeMap<Node, NodeIndex> = (ordered.iter())
        .map(|n| (n.clone(), graph.add_node(n.clone())))
        .collect();
    let mut sorted_arrows: Vec<((Node, Node), Calls)> = arrows.into_iter().collect();
    sorted_arrows.sort_by_key(|((a, b), _)| (index[a], index[b]));
    for ((from, to), mut calls) in sorted_arrows {
        calls.sort_by_key(|c| (c.0, c.1));
        calls.dedup_by_key(|c| c.0);
        let lines: Vec<String> = calls.iter().map(|c| c.0.to_string()).collect();
        let label = match (&from, &to) {
            (Node::Entry(_), _) => "differentiates".to_string(),
            (_, Node::Finding(_)) => String::new(),
            (_, Node::Hatch(h)) if is_region(analysis, *h) => "not differentiated".to_string(),
            _ => {
                let how = match calls[0].2 {
                    EdgeKind::Closure => "defines, line",
                    EdgeKind::Argument => "passes it, line",
                    EdgeKind::Call | EdgeKind::HigherOrder => "line",
                };
                let plural = if lines.len() > 1 && how == "line" {
                    "s"
                } else {
                    ""
                };
                format!("{how}{plural} {}", lines.join(", "))
            }
        };
        let arrow = Arrow {
            label,
            possible: calls.iter().all(|c| c.1),
            stops: matches!(to, Node::Hatch(_)),
        };
        graph.add_edge(index[&from], index[&to], arrow);
    }
    Drawing {
        analysis,
        graph,
        rules: CustomRules::build(&analysis.facts, &analysis.index),
    }
}

/// The innermost reached function whose text holds `at` (of several with one span, the
/// last defined).
fn innermost_reached(
    analysis: &Analysis,
    by_start: &crate::facts::FunctionsByStart,
    reached: &crate::name::FastSet<FuncRef>,
    at: crate::diagnostic::Location,
) -> Option<FuncRef> {
    let facts = &analysis.facts[at.file as usize];
    (by_start.around(facts, at.span))
        .map(|func| FuncRef {
            file: at.file,
            func,
        })
        .find(|r| reached.contains(r))
}

/// Whether a function Zygote does not enter is an escape hatch worth drawing: a named
/// function or a call method (a rule covers it, or it never runs under AD), not a file's
/// top level or a rule's own body.
fn is_hatch(analysis: &Analysis, f: FuncRef) -> bool {
    let func = &analysis.facts[f.file as usize].functions[f.func as usize];
    matches!(
        func.kind,
        FunctionKind::Named | FunctionKind::Functor { .. }
    )
}

fn is_region(analysis: &Analysis, f: FuncRef) -> bool {
    let func = &analysis.facts[f.file as usize].functions[f.func as usize];
    matches!(func.kind, FunctionKind::Region { .. })
}

/// Where a function is named: its head (the name), or its start.
fn function_place(analysis: &Analysis, f: FuncRef) -> (u32, u32) {
    let func = &analysis.facts[f.file as usize].functions[f.func as usize];
    let byte = match func.head.end > func.head.start {
        true => func.head.start,
        false => func.span.start,
    };
    (f.file, byte)
}

fn name_of(analysis: &Analysis, f: FuncRef) -> String {
    let facts = &analysis.facts[f.file as usize];
    facts.functions[f.func as usize].display_name(facts)
}

impl Drawing<'_> {
    fn place(&self, file: u32, byte: u32) -> String {
        let a = self.analysis;
        format!(
            "{}:{}",
            a.workspace.files[file as usize].display,
            a.line_col(file, byte).0
        )
    }

    fn node_attrs(&self, node: &Node) -> String {
        let a = self.analysis;
        let cg = &a.graph;
        match node {
            Node::Entry(e) => {
                let entry = &cg.entries[*e];
                let span = a.facts[entry.file as usize].calls[entry.call as usize].span;
                let mut lines = vec![
                    format!("entry: {}", entry.api),
                    self.place(entry.file, span.start),
                ];
                if entry.expected_failure.is_some() {
                    lines.push("expected to fail by its test".to_string());
                }
                attrs(&lines, "box", "filled", "#dbe9f6", "#2b6cb0")
            }
            Node::Function(f) => {
                let (file, byte) = function_place(a, *f);
                attrs(
                    &[name_of(a, *f), self.place(file, byte)],
                    "box",
                    "rounded",
                    "",
                    "#333333",
                )
            }
            Node::Hatch(f) => {
                let (file, byte) = function_place(a, *f);
                let why = self.hatch_reason(*f);
                attrs(
                    &[name_of(a, *f), self.place(file, byte), why],
                    "octagon",
                    "filled,dashed",
                    "#e6f4ea",
                    "#2f855a",
                )
            }
            Node::Finding(i) => {
                let d = &a.diagnostics[*i];
                let (fill, line) = match d.severity {
                    Severity::Error => ("#fde2e1", "#c53030"),
                    Severity::Warning => ("#fdf0d5", "#c05621"),
                    Severity::Info => ("#e2eefc", "#2b6cb0"),
                };
                let (l, c) = a.line_col(d.location.file, d.location.span.start);
                attrs(
                    &[
                        format!("{}: {}", d.severity.as_str(), d.rule),
                        format!(
                            "{}:{l}:{c}",
                            a.workspace.files[d.location.file as usize].display
                        ),
                    ],
                    "note",
                    "filled",
                    fill,
                    line,
                )
            }
        }
    }

    /// Why Zygote does not go into an escape hatch.
    fn hatch_reason(&self, f: FuncRef) -> String {
        let a = self.analysis;
        let facts = &a.facts[f.file as usize];
        let func = &facts.functions[f.func as usize];
        let declared_in = |decl_file: u32| a.index.sees(decl_file, f.file);
        let rule = match &func.kind {
            FunctionKind::Region { .. } => return "not differentiated".to_string(),
            FunctionKind::Named => func.name.and_then(|n| {
                (self.rules).covering(&a.facts, &declared_in, n, false, func.arity(), &func.params)
            }),
            FunctionKind::Functor { type_name, .. } => (self.rules).covering(
                &a.facts,
                &declared_in,
                *type_name,
                true,
                func.arity(),
                &func.params,
            ),
            _ => None,
        };
        if let Some(rule) = rule {
            // The file whose declarations hold it.
            let file = (a.facts.iter()).position(|x| {
                x.rule_decls
                    .as_ptr_range()
                    .contains(&std::ptr::from_ref(rule))
            });
            return match file {
                Some(file) => format!(
                    "covered by {} ({})",
                    rule.kind.describe(),
                    self.place(file as u32, rule.span.start)
                ),
                None => format!("covered by {}", rule.kind.describe()),
            };
        }
        if (func.name).is_some_and(|n| a.settings.knowledge.has_rule(&n)) {
            return "covered by a rule the config names".to_string();
        }
        "Zygote does not go in".to_string()
    }
}

fn arrow_attrs(a: &Arrow) -> String {
    let mut out = String::new();
    if !a.label.is_empty() {
        let label = crate::diagnostic::cut_echo(&a.label);
        out.push_str(&format!("label = \"{}\" ", escape(&label)));
    }
    if a.stops {
        out.push_str("style = dotted arrowhead = tee color = \"#2f855a\" ");
    } else if a.possible {
        out.push_str("style = dashed ");
    }
    out
}

/// A node's attributes: its lines of label, shape, style and colours.
fn attrs(lines: &[String], shape: &str, style: &str, fill: &str, color: &str) -> String {
    // Each line cut as findings cut what they echo (a name of 100,000 characters).
    let label: Vec<String> = (lines.iter())
        .map(|l| escape(&crate::diagnostic::cut_echo(l)))
        .collect();
    let mut out = format!(
        "label = \"{}\" shape = {shape} style = \"{style}\" color = \"{color}\" ",
        label.join("\\n")
    );
    if !fill.is_empty() {
        out.push_str(&format!("fillcolor = \"{fill}\" "));
    }
    out
}

/// Text inside a DOT double-quoted string: backslashes and quotes escaped, control
/// characters made visible (a line break in a name would end the label's line). Other
/// characters, `∂f` and `σ` among them, are written as they are (DOT reads UTF-8).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::visible(s).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}
