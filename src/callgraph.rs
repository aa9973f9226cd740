//! Call resolution, entry points, and reachability from all entry points at once.
//!
//! Calls are resolved by name, module, qualification and arity; function values are
//! followed through locals, parameters (bound at the callers' call sites), closures,
//! compositions, `Base.Fix1/Fix2` and functors. Higher-order edges exist exactly where
//! Zygote traverses the function argument (`knowledge` says where). Reachability is one
//! breadth-first search seeded with every entry's roots, cut at rule-covered functions,
//! and keeps the shortest chain to each function. This module decides nothing about what
//! is an error.

mod by_annotation;

use crate::backend::Backend;
use crate::facts::{
    AssignKind, Call, FileFacts, FuncIdx, Function, FunctionKind, Name, Span, Value,
};
use crate::index::{CustomRules, ExternalBinding, FuncRef, Index};
use crate::knowledge::{self, EntryApi, Knowledge, Traverse};
// The call graph hashes functions, calls and names many times each: its maps use the
// fast hasher.
use crate::name::{FastMap as HashMap, FastSet as HashSet};
use fixedbitset::FixedBitSet;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::Arc;

/// How a call edge was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A direct call resolved by name.
    Call,
    /// A closure that runs inside the function it is written in.
    Closure,
    /// A local value called as a function: a closure, a function bound to a parameter at
    /// the call sites, an object whose call method runs. The call's arguments are its.
    HigherOrder,
    /// A function value passed as an argument to code that calls it (`map(f, xs)`, a
    /// function outside the workspace): the call's arguments are not its arguments.
    Argument,
}

#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// Where the call is, in the caller's file.
    pub site: Span,
    pub kind: EdgeKind,
    /// Not certain: an over-approximation (dispatch on unknown types, model calls).
    pub possible: bool,
}

/// A differentiated entry-point call.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: u32,
    pub call: u32,
    /// The function containing the call.
    pub caller: FuncRef,
    /// What users call it: `Zygote.gradient`, `f'`.
    pub api: Name,
    pub nested: knowledge::NestedKind,
    /// The functions differentiated (several for a name with several methods).
    pub roots: Vec<FuncRef>,
    /// The differentiated argument as written (for messages).
    pub label: String,
    pub implicit_params: bool,
    /// Where the call's arguments that the differentiated function is called with start,
    /// and how many of its parameters they bind (`u32::MAX`: all); `None` when the API
    /// calls it with values of its own ([`knowledge::Passes`]).
    pub passes: Option<(u32, u32)>,
    /// The AD backend that runs it: `Zygote`, or `Unknown` when the backend argument may
    /// be Zygote but adlint cannot tell (findings reached only from it are at most
    /// warnings). Entries of other backends are kept apart ([`CallGraph::other_entries`]).
    pub backend: Backend,
    /// The `@test_throws`/`@test_broken` around the call: the test expects it to fail.
    pub expected_failure: Option<Span>,
}

/// An unqualified entry-point name that two `using`s export with different bindings:
/// Julia refuses the call, so it is no entry.
#[derive(Debug, Clone)]
pub struct AmbiguousEntry {
    pub file: u32,
    pub call: u32,
    /// The modules whose bindings clash.
    pub modules: Vec<Name>,
}

/// How a function was first reached.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    pub entry: u32,
    pub depth: u32,
    /// The edge it was reached through; `None` for a root.
    pub via: Option<EdgeIndex>,
}

/// A [`Reach`] as each node keeps it: 12 bytes instead of an `Option<Reach>`'s 20 (a
/// workspace has a node per function), with `u32::MAX` for "not reached" in `entry` and
/// for "a root" in `via`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    entry: u32,
    depth: u32,
    via: u32,
}

impl Slot {
    const UNREACHED: Slot = Slot {
        entry: u32::MAX,
        depth: 0,
        via: u32::MAX,
    };

    fn of(r: Reach) -> Slot {
        debug_assert!(r.entry != u32::MAX);
        Slot {
            entry: r.entry,
            depth: r.depth,
            via: r.via.map_or(u32::MAX, |e| e.index() as u32),
        }
    }

    fn get(self) -> Option<Reach> {
        (self.entry != u32::MAX).then(|| Reach {
            entry: self.entry,
            depth: self.depth,
            via: (self.via != u32::MAX).then(|| EdgeIndex::new(self.via as usize)),
        })
    }

    fn is_reached(self) -> bool {
        self.entry != u32::MAX
    }
}

#[derive(Debug, Clone)]
pub struct Unresolved {
    pub file: u32,
    pub span: Span,
    /// The callee, or the macro's path.
    pub path: crate::facts::Path,
    pub is_macro: bool,
}

impl Unresolved {
    /// What was not resolved, as users write it: `f`, `Mod.g`, `macro @m`.
    pub fn what(&self) -> String {
        match self.is_macro {
            true => format!("macro {}", self.path.join(".")),
            false => self.path.join("."),
        }
    }
}

pub struct CallGraph {
    pub graph: DiGraph<FuncRef, Edge>,
    offsets: Vec<u32>,
    /// Entries run by Zygote, or by a backend that may be Zygote.
    pub entries: Vec<Entry>,
    /// Entries of other AD backends (`ForwardDiff.gradient`, `DI.gradient(f,
    /// AutoEnzyme(), x)`): counted, not differentiated by Zygote.
    pub other_entries: Vec<Entry>,
    /// Unqualified entry names that resolve to clashing bindings.
    pub ambiguous: Vec<AmbiguousEntry>,
    reach: Vec<Slot>,
    pub unresolved: Vec<Unresolved>,
    /// Where each file's calls start in the workspace's numbering of calls.
    call_base: Vec<u32>,
    /// Workspace functions each call resolves to, by call number.
    call_targets: Multimap<FuncRef>,
    /// Functions that a rule declaration keeps Zygote out of, by node.
    cut: Vec<bool>,
    /// Calls on values adlint cannot know (`f(x)` with `f` a parameter nothing binds):
    /// not linked to every callable of the workspace, counted as unresolved when reached.
    unknown_callables: Vec<(u32, u32)>,
    /// Callers of each workspace function through resolved calls, by node: (file, call
    /// index).
    call_sites: Multimap<(u32, u32)>,
    /// Entries by root node, and [`CallGraph::entry_count`]'s answers so far: every
    /// finding asks, and findings share functions.
    entries_by_root: std::sync::OnceLock<Multimap<u32>>,
    entry_counts: std::sync::Mutex<HashMap<FuncRef, usize>>,
    /// Shortcuts along the chains of the reach ([`Shortcuts`]), made when first asked.
    shortcuts: std::sync::OnceLock<Shortcuts>,
    /// Per file: code that never runs with the unit's Julia (`if VERSION < v"1.9"`).
    dead: Vec<Vec<Span>>,
    /// How many calls resolution looked at (the rest no entry can run): for timings.
    pub resolved_calls: usize,
}

/// A call's shape for arity matching: positional argument count, and whether one is splat.
type Shape = (u32, bool);

impl CallGraph {
    /// Whether the code at `span` of `file` never runs with its unit's Julia (a branch on
    /// `VERSION` the manifest's Julia does not take).
    pub fn is_dead(&self, file: u32, span: Span) -> bool {
        (self.dead.get(file as usize)).is_some_and(|d| d.iter().any(|s| s.contains(span)))
    }

    pub fn node(&self, f: FuncRef) -> NodeIndex {
        node_of(&self.offsets, f)
    }

    /// The workspace's number of call `call` of `file`.
    fn call_number(&self, file: u32, call: u32) -> usize {
        (self.call_base[file as usize] + call) as usize
    }

    /// Whether a rule declaration keeps Zygote out of `f` (an `rrule`, `@non_differentiable`
    /// ...): nothing is reached through it.
    pub fn is_cut(&self, f: FuncRef) -> bool {
        self.cut[self.node(f).index()]
    }

    /// Every function one entry reaches, whether or not another entry is nearer to it:
    /// the walk of the graph's reachability from the entry's roots, not into cut
    /// functions.
    pub fn reached_by(&self, entry: usize) -> HashSet<FuncRef> {
        self.reached_by_any(&[entry])
    }

    /// Every function some of `entries` reach ([`CallGraph::reached_by`] of each, joined):
    /// one walk, rather than one per entry over a set as large as the graph.
    pub fn reached_by_any(&self, entries: &[usize]) -> HashSet<FuncRef> {
        let mut seen = FixedBitSet::with_capacity(self.graph.node_count());
        let mut queue: VecDeque<NodeIndex> = VecDeque::new();
        let mut out = HashSet::default();
        for &entry in entries {
            for &root in &self.entries[entry].roots {
                let n = self.node(root);
                if !self.cut[n.index()] && !seen.put(n.index()) {
                    queue.push_back(n);
                }
            }
        }
        while let Some(n) = queue.pop_front() {
            out.insert(self.graph[n]);
            for t in self.graph.neighbors(n) {
                if !self.cut[t.index()] && !seen.put(t.index()) {
                    queue.push_back(t);
                }
            }
        }
        out
    }

    pub fn reach_of(&self, f: FuncRef) -> Option<Reach> {
        self.reach[self.node(f).index()].get()
    }

    pub fn is_reached(&self, f: FuncRef) -> bool {
        self.reach_of(f).is_some()
    }

    /// The chain of (edge) steps from the entry's root to `f`, root first.
    pub fn chain_to(&self, f: FuncRef) -> Vec<EdgeIndex> {
        let mut out = Vec::new();
        let mut node = self.node(f);
        let mut guard = 0;
        while let Some(Reach { via: Some(e), .. }) = self.reach[node.index()].get() {
            out.push(e);
            node = self.graph.edge_endpoints(e).expect("edge exists").0;
            guard += 1;
            if guard > self.graph.node_count() {
                break;
            }
        }
        out.reverse();
        out
    }

    /// The workspace functions a call may run.
    pub fn targets_of(&self, file: u32, call: u32) -> Vec<FuncRef> {
        self.call_targets.get(self.call_number(file, call)).to_vec()
    }

    /// Whether a call may run workspace code.
    pub fn has_targets(&self, file: u32, call: u32) -> bool {
        !self
            .call_targets
            .get(self.call_number(file, call))
            .is_empty()
    }

    /// The calls that may run `f` with their own arguments (not those that pass `f` to
    /// other code), as (file, call index), sorted.
    pub fn call_sites_of(&self, f: FuncRef) -> Vec<(u32, u32)> {
        self.call_sites.get(self.node(f).index()).to_vec()
    }

    /// The functions `f` may call directly (edges and closures).
    pub fn successors(&self, f: FuncRef) -> Vec<FuncRef> {
        let mut out: Vec<FuncRef> = self
            .graph
            .edges(self.node(f))
            .map(|e| self.graph[e.target()])
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The root at the start of `f`'s chain.
    pub fn root_of(&self, f: FuncRef) -> FuncRef {
        let n = self.node(f);
        match self.reach[n.index()].is_reached() {
            true => self.graph[NodeIndex::new(self.shortcuts().root[n.index()] as usize)],
            false => f,
        }
    }

    /// The steps of [`CallGraph::chain_to`] that a finding keeps
    /// ([`crate::diagnostic::keeps_step`]: the first and last few, and every guessed one),
    /// each with how many steps were left out just before it. Found from the ends of the
    /// chain, without walking its middle unless a guessed step is there: findings in each
    /// of 16,000 closures nested in one another walked their whole chains.
    pub fn kept_chain(&self, f: FuncRef) -> Vec<(EdgeIndex, u32)> {
        use crate::diagnostic::{keeps_step, CHAIN_ENDS};
        let n = self.node(f);
        let Some(reach) = self.reach[n.index()].get() else {
            return Vec::new();
        };
        let len = reach.depth as usize + 1;
        let up = |e: EdgeIndex| self.graph.edge_endpoints(e).expect("edge exists").0;
        let via = |n: NodeIndex| self.reach[n.index()].get().and_then(|r| r.via);
        let keep_all = |edges: Vec<EdgeIndex>| {
            let mut out = Vec::new();
            let mut skipped = 0;
            for (i, e) in edges.into_iter().enumerate() {
                match keeps_step(len, i + 1, self.graph[e].possible) {
                    true => out.push((e, std::mem::take(&mut skipped))),
                    false => skipped += 1,
                }
            }
            out
        };
        let cuts = self.shortcuts();
        // The node at the last step of the head (depth CHAIN_ENDS - 1) and the one before
        // the tail (depth len - 1 - CHAIN_ENDS); a middle with a guess is walked whole.
        let head_end = NodeIndex::new(cuts.head_end[n.index()] as usize);
        let mut tail = Vec::new();
        let mut cur = n;
        if len <= 2 * CHAIN_ENDS + 1 {
            return keep_all(self.chain_to(f));
        }
        for _ in 0..CHAIN_ENDS {
            let e = via(cur).expect("a chain this long");
            tail.push(e);
            cur = up(e);
        }
        let guessed_between = cuts.guesses[cur.index()] > cuts.guesses[head_end.index()];
        if guessed_between {
            return keep_all(self.chain_to(f));
        }
        let mut head = Vec::new();
        let mut h = head_end;
        while let Some(e) = via(h) {
            head.push(e);
            h = up(e);
        }
        head.reverse();
        tail.reverse();
        let skipped = (len - 1 - head.len() - tail.len()) as u32;
        let mut out: Vec<(EdgeIndex, u32)> = head.into_iter().map(|e| (e, 0)).collect();
        for (i, e) in tail.into_iter().enumerate() {
            out.push((e, if i == 0 { skipped } else { 0 }));
        }
        out
    }

    fn shortcuts(&self) -> &Shortcuts {
        self.shortcuts.get_or_init(|| Shortcuts::new(self))
    }

    /// The entries that differentiate `f` (it is one of their roots).
    pub fn entries_of_root(&self, f: FuncRef) -> impl Iterator<Item = &Entry> + '_ {
        (self.entries_by_root().get(self.node(f).index()).iter())
            .map(|&i| &self.entries[i as usize])
    }

    /// The entries by root node: `entries_by_root().get(n)` are the entries that
    /// differentiate node `n`.
    fn entries_by_root(&self) -> &Multimap<u32> {
        self.entries_by_root.get_or_init(|| {
            let pairs = (self.entries.iter().enumerate())
                .flat_map(|(i, e)| e.roots.iter().map(move |r| (*r, i as u32)))
                .map(|(r, i)| (self.node(r).index() as u32, i))
                .collect();
            Multimap::new(self.graph.node_count(), pairs)
        })
    }

    /// The entries whose roots reach any of `starts`, walking edges backwards through
    /// reached functions.
    fn reaching_entries(&self, starts: &[NodeIndex]) -> Vec<u32> {
        let by_root = self.entries_by_root();
        SEARCH.with(|search| {
            let mut search = search.borrow_mut();
            search.begin(self.graph.node_count(), self.entries.len());
            let mut found = Vec::new();
            let mut queue: VecDeque<NodeIndex> = starts.iter().copied().collect();
            while let Some(n) = queue.pop_front() {
                if search.nodes.put(n.index()) {
                    continue;
                }
                for &e in by_root.get(n.index()) {
                    if !search.entries.put(e as usize) {
                        found.push(e);
                    }
                }
                for e in self.graph.edges_directed(n, Direction::Incoming) {
                    let src = e.source();
                    if !search.nodes.contains(src.index()) && self.reach[src.index()].is_reached() {
                        queue.push_back(src);
                    }
                }
            }
            found.sort_unstable();
            found
        })
    }

    /// How many entries reach `f` (walking edges backwards, respecting cuts). Every
    /// finding asks; the answer is kept for the function.
    ///
    /// A function that is no entry's root and is called from one reached function only is
    /// reached by the same entries as that caller: the count is that caller's, found once
    /// for the whole line of such functions (each of a chain of 8,000 functions that call
    /// the next walked back to the first).
    pub fn entry_count(&self, f: FuncRef) -> usize {
        let mut line = Vec::new();
        let mut node = self.node(f);
        let n = loop {
            let known = (self.entry_counts.lock().expect("not poisoned"))
                .get(&self.graph[node])
                .copied();
            if let Some(n) = known {
                break n;
            }
            line.push(node);
            // (A line longer than the graph would be a loop, which no root reaches.)
            match self.sole_caller(node) {
                Some(caller) if line.len() <= self.graph.node_count() => node = caller,
                _ => break self.reaching_entries(&[node]).len(),
            }
        };
        let mut counts = self.entry_counts.lock().expect("not poisoned");
        for node in line {
            counts.insert(self.graph[node], n);
        }
        n
    }

    /// The one reached function that calls `n` (through one or more edges), when `n` is no
    /// entry's root: then the entries that reach `n` are those that reach the caller.
    fn sole_caller(&self, n: NodeIndex) -> Option<NodeIndex> {
        if !self.entries_by_root().get(n.index()).is_empty() {
            return None;
        }
        let mut caller = None;
        for e in self.graph.edges_directed(n, Direction::Incoming) {
            let src = e.source();
            if src == n || !self.reach[src.index()].is_reached() {
                continue;
            }
            match caller {
                None => caller = Some(src),
                Some(c) if c == src => {}
                Some(_) => return None,
            }
        }
        caller
    }
}

/// For each reached node, facts of its chain ([`CallGraph::chain_to`]) that a finding needs
/// without walking it: its root, the node at the end of the chain's head (depth
/// [`crate::diagnostic::CHAIN_ENDS`] - 1, or the node itself when nearer to the root), and
/// how many guessed edges the chain has.
#[derive(Debug)]
struct Shortcuts {
    root: Vec<u32>,
    head_end: Vec<u32>,
    guesses: Vec<u32>,
}

impl Shortcuts {
    fn new(cg: &CallGraph) -> Shortcuts {
        let count = cg.graph.node_count();
        let mut s = Shortcuts {
            root: (0..count as u32).collect(),
            head_end: (0..count as u32).collect(),
            guesses: vec![0; count],
        };
        // Callers first: a node's chain is its caller's and one more step.
        let mut order: Vec<(u32, u32)> = (cg.reach.iter().enumerate())
            .filter(|(_, r)| r.is_reached())
            .map(|(i, r)| (r.depth, i as u32))
            .collect();
        order.sort_unstable();
        for (depth, n) in order {
            let n = n as usize;
            let Some(Reach { via: Some(e), .. }) = cg.reach[n].get() else {
                continue;
            };
            let from = cg.graph.edge_endpoints(e).expect("edge exists").0.index();
            s.root[n] = s.root[from];
            if depth as usize >= crate::diagnostic::CHAIN_ENDS {
                s.head_end[n] = s.head_end[from];
            }
            s.guesses[n] = s.guesses[from] + u32::from(cg.graph[e].possible);
        }
        s
    }
}

/// Values grouped by a dense key (a node, a call number): one list of all values in key
/// order and where each key's values start, instead of a vector (and an allocation) per
/// key. Most keys of a workspace have no values or one.
#[derive(Debug)]
struct Multimap<V> {
    starts: Vec<u32>,
    values: Vec<V>,
}

impl<V> Default for Multimap<V> {
    fn default() -> Self {
        Multimap {
            starts: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<V: Copy> Multimap<V> {
    /// The values of `(key, value)` pairs with keys below `keys`; each key's values keep
    /// the pairs' order. Placed by counting (keys are dense), not by sorting the pairs.
    fn new(keys: usize, pairs: Vec<(u32, V)>) -> Self {
        let mut starts = vec![0u32; keys + 1];
        for &(k, _) in &pairs {
            starts[k as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        // The pair at each place: each key's pairs go to its next free place, in order.
        let mut next = starts.clone();
        let mut order = vec![0u32; pairs.len()];
        for (i, &(k, _)) in pairs.iter().enumerate() {
            let at = &mut next[k as usize];
            order[*at as usize] = i as u32;
            *at += 1;
        }
        drop(next);
        Multimap {
            starts,
            values: order.into_iter().map(|i| pairs[i as usize].1).collect(),
        }
    }
}

impl<V> Multimap<V> {
    /// The same keys, each value mapped.
    fn map<W>(self, f: impl Fn(&V) -> W) -> Multimap<W> {
        Multimap {
            starts: self.starts,
            values: self.values.iter().map(f).collect(),
        }
    }

    fn get(&self, key: usize) -> &[V] {
        match (self.starts.get(key), self.starts.get(key + 1)) {
            (Some(&a), Some(&b)) => &self.values[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// What [`CallGraph::entry_count`]'s backward search has seen: a bit per node and per
/// entry, kept per thread and cleared for each search (a few kilobytes per search, where a
/// word per node would hold megabytes per thread for the whole run).
#[derive(Default)]
struct Search {
    nodes: FixedBitSet,
    entries: FixedBitSet,
}

impl Search {
    /// Start a search of a graph of this size: nothing seen.
    fn begin(&mut self, nodes: usize, entries: usize) {
        for (bits, len) in [(&mut self.nodes, nodes), (&mut self.entries, entries)] {
            bits.clear();
            bits.grow(len);
        }
    }
}

thread_local! {
    static SEARCH: std::cell::RefCell<Search> = std::cell::RefCell::default();
}

/// Where a function value came from, for messages.
struct Resolver<'a> {
    files: &'a [FileFacts],
    index: &'a Index,
    knowledge: &'a Knowledge,
    /// Where each file's functions start among the graph's nodes.
    node_base: &'a [u32],
    /// Callers of each function found so far, by node: (file, call index, whether the
    /// call only possibly runs it).
    callers: Multimap<(u32, u32, bool)>,
    /// The entry calls that differentiate each function, by node: (file, call index,
    /// position of the first argument they pass to it, how many). `gradient(b -> b(x),
    /// bn)` binds the closure's `b` to `bn`, so that `b(x)` runs `bn`'s call method.
    /// Sorted by node: (node, binding).
    entry_args: Vec<(u32, (u32, u32, u32, u32))>,
    /// Per file, built the first time resolution looks into it (most files it never
    /// does).
    lookups: Vec<std::sync::OnceLock<FileLookups>>,
    /// Flux's version by unit, when known: before 0.14 its `gradient` was Zygote's.
    flux: Vec<Option<crate::version::Version>>,
    /// Per file: code that never runs with the unit's Julia (`if VERSION < v"1.9"`).
    dead: &'a [Vec<Span>],
    /// The methods a bare name may run, by (unit, module, name), each looked up once
    /// ([`Resolver::visible_methods`]).
    visible: Memo<(u32, &'a [Name], Name), Visible>,
    /// Those whose arity fits a call's shape, by (unit, module, name, shape)
    /// ([`Resolver::dispatch`]).
    dispatch: Memo<(u32, Lookup<'a>, Name, Shape), Arc<Dispatch>>,
    /// The function that binds a name as a local, looking out from a function
    /// ([`Resolver::local`]), by (file, function, name).
    binders: crate::facts::AroundMemo,
    /// The function that holds an inner named function of a name, looking out from a
    /// function ([`Resolver::inner_named`]), likewise.
    inner_holders: crate::facts::AroundMemo,
}

/// Values computed once by key, shared between resolution's threads.
type Memo<K, V> = std::sync::Mutex<HashMap<K, V>>;

/// The methods a bare name may run and whether they are certain
/// ([`Index::visible_methods`]), shared.
type Visible = Arc<(Vec<FuncRef>, bool)>;

/// Where a call's methods are looked up ([`Resolver::dispatch`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Lookup<'a> {
    /// A bare name, from this module: the methods it sees.
    Bare(&'a [Name]),
    /// `M.f` with `M` a module of the workspace: its methods and those added to it.
    InModule(Name),
    /// `M.f` with `M` outside the workspace: the methods the workspace adds to it.
    Extends(Name),
}

/// The methods a call of one name may run before its arguments are looked at: those its
/// [`Lookup`] finds whose arity fits the call's shape.
struct Dispatch {
    methods: Vec<FuncRef>,
    certain: bool,
    /// How many of `methods` no argument can refuse ([`Resolver::may_refuse`]).
    unrefusable: usize,
    /// `methods` by the type they annotate at one position, when there are many.
    by_annotation: Option<by_annotation::ByAnnotation>,
}

/// Where a name is bound ([`Resolver::local`]).
enum Local<'a> {
    Param { func: FuncIdx, index: usize },
    Assigned(Vec<&'a crate::facts::Assign>),
}

/// What [`Resolver`] looks up in one file, indexed so that lookups do not scan it.
struct FileLookups {
    /// The assignments' (function, variable, index), sorted by function and variable (in
    /// file order within each).
    assigns_by: Vec<(FuncIdx, Name, u32)>,
    /// Inner named functions by (parent, name).
    inner_by: HashMap<(FuncIdx, Name), Vec<FuncIdx>>,
    /// Guards on names ([`crate::facts::Cond::Flag`]), by the function whose `if` they
    /// are, as indices of the file's guards.
    flag_guards: HashMap<FuncIdx, Vec<u32>>,
    /// The `@test_throws`/`@test_broken` of the file, each with the plain names it calls
    /// (`back` of `@test_throws ... back(1.0)`), sorted.
    failure_tests: Vec<(Span, Vec<Name>)>,
}

impl FileLookups {
    fn new(f: &FileFacts) -> FileLookups {
        let mut assigns_by: Vec<(FuncIdx, Name, u32)> = (f.assigns.iter().enumerate())
            .map(|(i, a)| (a.func, a.var, i as u32))
            .collect();
        assigns_by.sort_by_key(|a| (a.0, a.1.number()));
        let mut inner_by: HashMap<(FuncIdx, Name), Vec<FuncIdx>> = HashMap::default();
        for (i, g) in f.functions.iter().enumerate() {
            if let (Some(p), FunctionKind::Named, Some(n)) = (g.parent.get(), &g.kind, &g.name) {
                if f.functions[p as usize].kind != FunctionKind::TopLevel {
                    inner_by.entry((p, *n)).or_default().push(i as FuncIdx);
                }
            }
        }
        let mut flag_guards: HashMap<FuncIdx, Vec<u32>> = HashMap::default();
        for (i, g) in f.guards.iter().enumerate() {
            if matches!(g.cond, crate::facts::Cond::Flag(_)) {
                flag_guards.entry(g.func).or_default().push(i as u32);
            }
        }
        let mut failure_tests: Vec<(Span, Vec<Name>)> = (f.sites.iter())
            .filter_map(|s| match &s.kind {
                crate::facts::SiteKind::Macro { path }
                    if (path.last())
                        .is_some_and(|m| m == "@test_throws" || m == "@test_broken") =>
                {
                    Some((s.span, Vec::new()))
                }
                _ => None,
            })
            .collect();
        if !failure_tests.is_empty() {
            for c in f.calls.iter().filter(|c| c.callee.len() == 1) {
                for (span, names) in &mut failure_tests {
                    if span.contains(c.span) {
                        names.push(c.callee[0]);
                    }
                }
            }
            for (_, names) in &mut failure_tests {
                names.sort_unstable_by_key(|n| n.number());
                names.dedup();
            }
        }
        FileLookups {
            assigns_by,
            inner_by,
            flag_guards,
            failure_tests,
        }
    }
}

/// A call's resolution.
#[derive(Default)]
struct Resolved {
    targets: Vec<(FuncRef, EdgeKind, bool)>,
    /// Closures that must not get a lexical edge (passed where Zygote does not traverse).
    blocked: Vec<FuncRef>,
    external: bool,
    /// A call on a value adlint cannot know (what is called is not resolved).
    unknown_callable: bool,
    /// The nodes whose call sites found so far the resolution read, following a parameter
    /// (it may change when their call sites change). Taken out before it is kept.
    read_callers: Vec<u32>,
}

impl Resolved {
    /// Whether two resolutions of a call run the same functions.
    fn same_targets(&self, other: &Resolved) -> bool {
        self.unknown_callable == other.unknown_callable
            && self.targets.len() == other.targets.len()
            && self
                .targets
                .iter()
                .zip(&other.targets)
                .all(|(a, b)| a.0 == b.0 && a.2 == b.2)
    }
}

/// The state of one search for the functions a value may be: the names followed so far
/// (so that cycles end), and whether the search read the call sites found so far.
#[derive(Default, Clone)]
struct Trail {
    seen: HashSet<(u32, FuncIdx, Name)>,
    /// The nodes whose call sites were read.
    read_callers: Vec<u32>,
    /// Whether the search goes into what workspace functions return (a factory's
    /// closure). Not for the arguments of every library call: those are what most calls
    /// are, and a factory's result passed straight to one is rare.
    no_returns: bool,
    /// Values looked at so far: a search stops after [`Trail::BUDGET`], so that its cost
    /// is bounded whatever the shape of the code.
    steps: u32,
    /// The call (file, span) whose argument the search is following: a parameter read
    /// there takes only the values of the call sites under which that call runs
    /// (`if !nested ... f(x)` with `nested=true` passed leaves that caller's `f` out).
    via: Option<(u32, Span)>,
}

/// What adlint knows of the types of a call's positional arguments, each found once
/// however many methods are checked against it.
#[derive(Clone)]
struct ArgTypes<'v> {
    file: u32,
    func: FuncIdx,
    args: &'v [Value],
    found: Vec<Option<Option<Vec<Name>>>>,
}

impl<'v> ArgTypes<'v> {
    fn new(file: u32, func: FuncIdx, args: &'v [Value]) -> Self {
        ArgTypes {
            file,
            func,
            args,
            found: vec![None; args.len()],
        }
    }

    /// The possible types of argument `i`, when all are known.
    fn of(&mut self, r: &Resolver, i: usize, trail: &mut Trail) -> Option<&[Name]> {
        if self.found[i].is_none() {
            let mut out = Vec::new();
            let known = r.known_types(self.file, self.func, &self.args[i], 0, trail, &mut out);
            self.found[i] = Some((known && !out.is_empty()).then_some(out));
        }
        self.found[i].as_ref().and_then(|t| t.as_deref())
    }
}

/// More methods than this left after narrowing make a call unresolved.
const MAX_METHODS: usize = 8;

/// The parameter positions [`by_annotation::ByAnnotation`] considers indexing.
const INDEXED_POSITIONS: usize = 8;

impl Trail {
    const BUDGET: u32 = 256;

    /// A search of what an argument of the call at `span` of `file` may be.
    fn at(file: u32, span: Span) -> Trail {
        Trail {
            via: Some((file, span)),
            ..Trail::default()
        }
    }
}

/// The resolution of every call, by file and call index, alive until the graph is built.
/// Most calls resolve to nothing (library functions): those are stored as `None`, not as
/// an empty resolution of several words.
struct Resolutions(Vec<Vec<Option<Box<Resolved>>>>);

/// A call resolved again: its kept resolution and the range of its read nodes.
type Redone = (Option<Box<Resolved>>, u32, u32);

/// What a call with no stored resolution resolved to.
static UNRESOLVED: Resolved = Resolved {
    targets: Vec::new(),
    blocked: Vec::new(),
    external: false,
    unknown_callable: false,
    read_callers: Vec::new(),
};

impl Resolutions {
    /// The resolution to keep: nothing when it runs nothing. Whether it read call sites
    /// is not kept (the rounds of [`build`] track the calls to resolve again).
    fn compact(res: Resolved) -> Option<Box<Resolved>> {
        let empty = res.targets.is_empty() && res.blocked.is_empty() && !res.unknown_callable;
        (!empty).then(|| Box::new(res))
    }

    fn get(&self, file: u32, call: u32) -> &Resolved {
        self.0[file as usize][call as usize]
            .as_deref()
            .unwrap_or(&UNRESOLVED)
    }

    /// Store a resolution made compact by [`Resolutions::compact`].
    fn set(&mut self, file: u32, call: u32, res: Option<Box<Resolved>>) {
        self.0[file as usize][call as usize] = res;
    }

    /// Every call's resolution, as ((file, call index), resolution), in order.
    fn iter(&self) -> impl Iterator<Item = ((u32, u32), &Resolved)> {
        self.0.iter().enumerate().flat_map(|(fi, rs)| {
            rs.iter().enumerate().map(move |(ci, res)| {
                (
                    (fi as u32, ci as u32),
                    res.as_deref().unwrap_or(&UNRESOLVED),
                )
            })
        })
    }

    /// The callers of each function through the resolved calls (except `skip`), by node
    /// (`node_base` numbers each file's functions), sorted: the calls whose arguments are
    /// the function's, not those that pass it as an argument ([`EdgeKind::Argument`]).
    fn callers(&self, node_base: &[u32], skip: &HashSet<(u32, u32)>) -> Multimap<(u32, u32, bool)> {
        let nodes = node_base.last().copied().unwrap_or(0) as usize;
        let pairs = (self.iter())
            .filter(|(key, _)| !skip.contains(key))
            .flat_map(|(key, res)| {
                (res.targets.iter())
                    .filter(|(_, kind, _)| *kind != EdgeKind::Argument)
                    .map(move |&(t, _, possible)| {
                        (
                            node_base[t.file as usize] + t.func,
                            (key.0, key.1, possible),
                        )
                    })
            })
            .collect();
        Multimap::new(nodes, pairs)
    }
}

/// A call: (file, index of the call in the file).
type CallKey = (u32, u32);

/// Appends a call's read nodes to `read_nodes`; their range there.
fn note_read(read_nodes: &mut Vec<u32>, read: &[u32]) -> (u32, u32) {
    let start = read_nodes.len() as u32;
    read_nodes.extend_from_slice(read);
    (start, read_nodes.len() as u32)
}

/// The calls [`build`] resolves, found as it goes ([`Demand::expand`]).
struct Demand {
    /// Functions whose calls are resolved.
    scope: FixedBitSet,
    /// Functions that gained a call site since the call sites were last gathered.
    gained: FixedBitSet,
    /// Functions by the function they are written in.
    children: Multimap<u32>,
    /// Calls (file, index) by the function they are in.
    calls_of: Multimap<(u32, u32)>,
    resolutions: Resolutions,
    /// The calls that read call sites, and the nodes each read (`read_nodes[start..end]`):
    /// flat, as a large workspace has many.
    reads: Vec<(u32, u32, u32, u32)>,
    read_nodes: Vec<u32>,
    /// Calls resolved so far.
    resolved: usize,
}

impl Demand {
    /// Resolve `calls` (on all threads) and keep what they read and run.
    fn resolve(&mut self, r: &Resolver, calls: Vec<(u32, u32)>) -> Vec<u32> {
        let done: Vec<(Option<Box<Resolved>>, Vec<u32>)> = calls
            .par_iter()
            .map(|&(fi, ci)| r.resolve_kept(fi, &r.files[fi as usize].calls[ci as usize]))
            .collect();
        self.resolved += calls.len();
        let mut runs = Vec::new();
        for ((fi, ci), (res, read)) in calls.into_iter().zip(done) {
            if !read.is_empty() {
                let (start, end) = note_read(&mut self.read_nodes, &read);
                self.reads.push((fi, ci, start, end));
            }
            if let Some(res) = &res {
                for &(t, _, _) in &res.targets {
                    let n = r.node_base[t.file as usize] + t.func;
                    self.gained.insert(n as usize);
                    runs.push(n);
                }
            }
            self.resolutions.set(fi, ci, res);
        }
        runs
    }

    /// Bring `frontier` and everything its calls may run into the scope, level by level,
    /// resolving each function's calls once; functions in `cut` are not gone into.
    fn expand(&mut self, r: &Resolver, cut: &[bool], mut frontier: Vec<u32>) {
        loop {
            let mut level = Vec::new();
            while let Some(n) = frontier.pop() {
                if cut[n as usize] || self.scope.put(n as usize) {
                    continue;
                }
                level.push(n);
                // What is written inside a function runs as part of it (closures) or
                // is defined by it (inner functions).
                frontier.extend_from_slice(self.children.get(n as usize));
            }
            if level.is_empty() {
                return;
            }
            let calls: Vec<(u32, u32)> = (level.iter())
                .flat_map(|&n| self.calls_of.get(n as usize).iter().copied())
                .collect();
            frontier = self.resolve(r, calls);
        }
    }
}

/// Per node: whether Zygote does not go into the function. A rule covers it (in the
/// workspace, or one the config names), it is a rule's body, or it is no code that runs
/// when called (the top level, a region adlint does not analyse, the generator of an
/// `@generated` function, a module's `__init__`).
fn cuts(
    files: &[FileFacts],
    index: &Index,
    rules: &CustomRules,
    knowledge: &Knowledge,
    versions: &[crate::version::Versions],
) -> Vec<bool> {
    // Whether a workspace method may be a method of the function a rule of the ecosystem's
    // tables is declared for: it extends a function from elsewhere (`Base.sum(...) = ...`,
    // `NNlib.conv(...)`), or it is written inside the package that declares the rule (the
    // workspace holds that package: DiffEqBase inside OrdinaryDiffEq's repository). A
    // workspace's own `sum` without a qualifier is a new function no rule covers.
    // A definition qualified by its own module (`function MyPkg.f(...)` inside `MyPkg`)
    // extends nothing.
    let extends = |fi: usize, f: &crate::facts::Function, r: &crate::knowledge::tables::RuleRow| {
        let path = index.module_path(fi as u32, f.module.get());
        let inside = |m: &str| path.iter().any(|p| *p == m);
        inside(&r.package)
            || f.qualifier
                .last()
                .is_some_and(|q| *q == r.package || !inside(q))
    };
    let mut cut = Vec::new();
    for (fi, facts) in files.iter().enumerate() {
        for f in &facts.functions {
            let declared_in = |decl_file: u32| index.sees(decl_file, fi as u32);
            cut.push(match &f.kind {
                // The body of an `@generated` function runs when the method is compiled,
                // not under AD: it builds the code that runs, which adlint cannot see.
                FunctionKind::Named if f.in_macro.is_some_and(|m| m == "@generated") => true,
                // A module's `__init__` runs when the module loads, not under AD.
                FunctionKind::Named if f.name.is_some_and(|n| n == "__init__") => true,
                // A rule in the workspace, or one the config says exists elsewhere
                // (`[knowledge] has-rule`, e.g. in a package extension adlint does not see).
                FunctionKind::Named => f.name.as_ref().is_some_and(|n| {
                    rules
                        .covering(files, &declared_in, *n, false, f.arity(), &f.params)
                        .is_some()
                        || knowledge.has_rule(n)
                        || rules
                            .ecosystem_covering(
                                knowledge,
                                n,
                                &|r| extends(fi, f, r),
                                f.arity(),
                                &f.params,
                                &|package| {
                                    let unit = index.unit_of(fi as u32) as usize;
                                    versions.get(unit).and_then(|v| v.of(package))
                                },
                            )
                            .is_some()
                }),
                FunctionKind::Functor { type_name, .. } => rules
                    .covering(files, &declared_in, *type_name, true, f.arity(), &f.params)
                    .is_some(),
                FunctionKind::RuleBody | FunctionKind::Region { .. } | FunctionKind::TopLevel => {
                    true
                }
                _ => false,
            });
        }
    }
    cut
}

pub fn build(
    files: &[FileFacts],
    index: &Index,
    rules: &CustomRules,
    knowledge: &Knowledge,
    versions: &[crate::version::Versions],
) -> CallGraph {
    let dead = dead_branches(files, index, versions);
    // Nodes and calls are numbered file after file; each list ends with the total.
    let mut offsets = Vec::with_capacity(files.len() + 1);
    let mut call_base = Vec::with_capacity(files.len() + 1);
    let mut graph = DiGraph::new();
    let (mut total, mut calls) = (0u32, 0u32);
    for (fi, f) in files.iter().enumerate() {
        offsets.push(total);
        call_base.push(calls);
        for i in 0..f.functions.len() {
            graph.add_node(FuncRef {
                file: fi as u32,
                func: i as FuncIdx,
            });
        }
        total += f.functions.len() as u32;
        calls += f.calls.len() as u32;
    }
    offsets.push(total);
    call_base.push(calls);
    let mut cg = CallGraph {
        graph,
        offsets: offsets.clone(),
        call_base,
        entries: Vec::new(),
        other_entries: Vec::new(),
        ambiguous: Vec::new(),
        reach: Vec::new(),
        unresolved: Vec::new(),
        call_targets: Multimap::default(),
        cut: Vec::new(),
        unknown_callables: Vec::new(),
        call_sites: Multimap::default(),
        entries_by_root: Default::default(),
        entry_counts: Default::default(),
        shortcuts: Default::default(),
        dead: Vec::new(),
        resolved_calls: 0,
    };
    let mut r = Resolver {
        files,
        index,
        knowledge,
        node_base: &offsets,
        callers: Multimap::default(),
        lookups: files.iter().map(|_| std::sync::OnceLock::new()).collect(),
        flux: versions.iter().map(|v| v.flux).collect(),
        dead: &dead,
        entry_args: Vec::new(),
        visible: Default::default(),
        dispatch: Default::default(),
        binders: Default::default(),
        inner_holders: Default::default(),
    };
    let node_of = |t: FuncRef| (offsets[t.file as usize] + t.func) as usize;
    // Functions Zygote does not go into: a rule covers them, or they are no code it runs.
    cg.cut = cuts(files, index, rules, knowledge, versions);
    // Which arguments the entry calls pass to the functions they differentiate, before
    // the rounds follow values through parameters.
    let (around, entry_calls_seen) = r.around_entries();
    let mut bindings: Vec<(u32, (u32, u32, u32, u32))> = (entry_calls_seen.par_iter())
        .flat_map_iter(|&(fi, ci, _)| {
            r.entry_bindings(fi, ci, &files[fi as usize].calls[ci as usize])
        })
        .collect();
    bindings.sort_unstable();
    bindings.dedup();
    r.entry_args = bindings;

    // Only the calls whose targets can matter are resolved (on a large package, the code
    // that may run under a Zygote entry is a few hundred of its tens of thousands of
    // calls): first the calls that reach the functions around the entries (their
    // parameters give the entries their functions and backends), then, from the entries'
    // roots, the calls of every function a resolved call may run, until nothing new is
    // reached. A function's parameters take their values from these calls only: code
    // that never runs under an entry hands it nothing.
    let mut state = Demand::new(files, &offsets);
    state.resolve(&r, around);
    r.callers = state.resolutions.callers(&offsets, &HashSet::default());
    let mut roots: Vec<u32> = r.entry_args.iter().map(|b| b.0).collect();
    for &(fi, ci, _) in entry_calls_seen.iter().filter(|c| c.2) {
        let call = &files[fi as usize].calls[ci as usize];
        if let Some(Ok(entry)) = r.entry_of(fi, ci, call) {
            roots.extend(entry.roots.iter().map(|&f| node_of(f) as u32));
        }
    }
    state.expand(&r, &cg.cut, roots);

    follow_parameters(&mut state, &mut r, &cg.cut, &offsets);

    // Entries.
    let mut blocked: HashSet<FuncRef> = HashSet::default();
    let found: Vec<Result<Entry, AmbiguousEntry>> = (entry_calls_seen.par_iter())
        .filter_map(|&(fi, ci, _)| r.entry_of(fi, ci, &files[fi as usize].calls[ci as usize]))
        .collect();
    for entry in found {
        match entry {
            Ok(entry) => match knowledge.analyses(entry.backend) {
                true => {
                    blocked.extend(entry.roots.iter().copied());
                    cg.entries.push(entry)
                }
                false => cg.other_entries.push(entry),
            },
            Err(ambiguous) => cg.ambiguous.push(ambiguous),
        }
    }

    // Roots that only the final call sites give: what they run is resolved too.
    let late: Vec<u32> = (cg.entries.iter())
        .flat_map(|e| e.roots.iter().map(|&f| node_of(f) as u32))
        .filter(|&n| !state.scope.contains(n as usize))
        .collect();
    state.expand(&r, &cg.cut, late);
    cg.resolved_calls = state.resolved;
    let Demand {
        resolutions, scope, ..
    } = state;
    // Entries were the last to follow parameters to their call sites.
    r.callers = Multimap::default();
    // Calls of other backends' entries keep their edges: Zygote differentiating such a
    // call goes into what it runs (nested-ad says so).
    let entry_calls: HashSet<(u32, u32)> = cg.entries.iter().map(|e| (e.file, e.call)).collect();
    add_edges(
        &mut cg,
        &r,
        resolutions,
        &scope,
        &entry_calls,
        blocked,
        calls,
    );

    reachability(&mut cg);
    cg.unresolved = collect_unresolved(&cg, files, &entry_calls, &r);
    drop(r);
    cg.dead = dead;
    cg
}

impl Demand {
    /// Nothing resolved yet, over the functions and calls of `files` (numbered from
    /// `offsets`).
    fn new(files: &[FileFacts], offsets: &[u32]) -> Demand {
        let nodes = offsets.last().copied().unwrap_or(0) as usize;
        Demand {
            scope: FixedBitSet::with_capacity(nodes),
            gained: FixedBitSet::with_capacity(nodes),
            children: Multimap::new(
                nodes,
                (files.iter().enumerate())
                    .flat_map(|(fi, facts)| {
                        let base = offsets[fi];
                        (facts.functions.iter().enumerate()).filter_map(move |(i, f)| {
                            Some((base + f.parent.get()?, base + i as u32))
                        })
                    })
                    .collect(),
            ),
            calls_of: Multimap::new(
                nodes,
                (files.iter().enumerate())
                    .flat_map(|(fi, facts)| {
                        let base = offsets[fi];
                        (facts.calls.iter().enumerate())
                            .map(move |(ci, c)| (base + c.func, (fi as u32, ci as u32)))
                    })
                    .collect(),
            ),
            resolutions: Resolutions(
                (files.iter())
                    .map(|f| (0..f.calls.len()).map(|_| None).collect())
                    .collect(),
            ),
            reads: Vec::new(),
            read_nodes: Vec::new(),
            resolved: 0,
        }
    }
}

/// Per file: the branches on `VERSION` its unit's Julia never runs.
fn dead_branches(
    files: &[FileFacts],
    index: &Index,
    versions: &[crate::version::Versions],
) -> Vec<Vec<Span>> {
    (files.iter().enumerate())
        .map(|(fi, facts)| {
            let julia = versions
                .get(index.unit_of(fi as u32) as usize)
                .and_then(|v| v.julia);
            let Some(julia) = julia else {
                return Vec::new();
            };
            (facts.guards.iter())
                .filter(|g| g.cond.version_holds(julia).is_some_and(|v| v != g.holds))
                .map(|g| g.span)
                .collect()
        })
        .collect()
}

/// The rounds after the first: each follows function values through the parameters bound
/// at the call sites the round before found, so it resolves again only the calls whose
/// resolution read the call sites of a function whose call sites changed since (a call
/// that read only unchanged ones would resolve as it did), and goes into what the calls
/// resolved again newly run.
fn follow_parameters(state: &mut Demand, r: &mut Resolver, cut: &[bool], offsets: &[u32]) {
    // Later rounds follow function values through the parameters bound at the
    // call sites found by the round before, so they resolve again only the calls whose
    // resolution read the call sites of a function whose call sites changed since (a call
    // that read only unchanged ones would resolve as it did), and go into what the calls
    // resolved again newly run.
    let files = r.files;
    let nodes = offsets.last().copied().unwrap_or(0) as usize;
    let node_of = |t: FuncRef| (offsets[t.file as usize] + t.func) as usize;
    let no_calls = HashSet::default();
    r.callers = state.resolutions.callers(offsets, &no_calls);
    // The first round read no call sites: every function called somewhere has new ones.
    let mut changed_nodes = std::mem::replace(&mut state.gained, FixedBitSet::with_capacity(nodes));
    for _round in 1..3 {
        let (reads, read_nodes) = (&state.reads, &state.read_nodes);
        let again: Vec<usize> = (0..reads.len())
            .filter(|&i| {
                let (_, _, start, end) = reads[i];
                (read_nodes[start as usize..end as usize].iter())
                    .any(|&n| changed_nodes.contains(n as usize))
            })
            .collect();
        // Kept compact as they come (most calls resolved again still run nothing), with
        // their read nodes in one list per slice of calls.
        let redone: Vec<(Vec<Redone>, Vec<u32>)> = again
            .par_chunks(1024)
            .map(|slice| {
                let mut slice_nodes = Vec::new();
                let res = (slice.iter())
                    .map(|&i| {
                        let (fi, ci, _, _) = reads[i];
                        let (res, read) =
                            r.resolve_kept(fi, &files[fi as usize].calls[ci as usize]);
                        let (start, end) = note_read(&mut slice_nodes, &read);
                        (res, start, end)
                    })
                    .collect();
                (res, slice_nodes)
            })
            .collect();
        let mut changed = false;
        // A function's call sites change when a call gains or loses it as a target.
        let mut next_changed = FixedBitSet::with_capacity(nodes);
        let mut newly_run = Vec::new();
        for (slice, (res, slice_nodes)) in again.chunks(1024).zip(redone) {
            let base = state.read_nodes.len() as u32;
            state.read_nodes.extend(slice_nodes);
            for (&i, (res, start, end)) in slice.iter().zip(res) {
                let (fi, ci, _, _) = state.reads[i];
                let old = state.resolutions.get(fi, ci);
                let new = res.as_deref().unwrap_or(&UNRESOLVED);
                changed |= !old.same_targets(new);
                let has = |res: &Resolved, t: FuncRef| res.targets.iter().any(|x| x.0 == t);
                for t in old.targets.iter().filter(|t| !has(new, t.0)) {
                    next_changed.insert(node_of(t.0));
                }
                for t in new.targets.iter().filter(|t| !has(old, t.0)) {
                    next_changed.insert(node_of(t.0));
                    newly_run.push(node_of(t.0) as u32);
                }
                state.reads[i] = (fi, ci, start + base, end + base);
                state.resolutions.set(fi, ci, res);
            }
        }
        if !changed {
            break;
        }
        // What the calls newly run is resolved too; the call sites it adds change.
        state.expand(r, cut, newly_run);
        next_changed.union_with(&state.gained);
        state.gained.clear();
        changed_nodes = next_changed;
        r.callers = state.resolutions.callers(offsets, &no_calls);
    }
}

/// The graph's edges: each resolved call's targets (but not those of analysed entries'
/// calls, whose roots are seeded separately), and a lexical edge into each closure from
/// the function that defines it, unless it is handed to code that does not differentiate
/// it. The call sites and targets by call are kept for the rules.
fn add_edges(
    cg: &mut CallGraph,
    r: &Resolver,
    resolutions: Resolutions,
    scope: &FixedBitSet,
    entry_calls: &HashSet<(u32, u32)>,
    mut blocked: HashSet<FuncRef>,
    calls: u32,
) {
    // Edges. The graph's edge list is made its final size at once (the calls' targets and
    // at most one lexical edge per function) instead of growing by doubling.
    let call_edges: usize = (resolutions.iter())
        .filter(|(key, _)| !entry_calls.contains(key))
        .map(|(_, res)| res.targets.len())
        .sum();
    let files = r.files;
    let offsets = cg.offsets.clone();
    let lexical_edges: usize = (files.iter().enumerate())
        .map(|(fi, facts)| {
            (facts.functions.iter())
                .filter_map(|f| lexical_parent(facts, f))
                .filter(|&p| scope.contains((offsets[fi] + p) as usize))
                .count()
        })
        .sum();
    cg.graph.reserve_exact_edges(call_edges + lexical_edges);
    for (key, res) in resolutions.iter() {
        let call = &files[key.0 as usize].calls[key.1 as usize];
        let caller = FuncRef {
            file: key.0,
            func: call.func,
        };
        blocked.extend(res.blocked.iter().copied());
        if entry_calls.contains(&key) {
            continue;
        }
        if res.unknown_callable {
            cg.unknown_callables.push(key);
        }
        for &(t, kind, possible) in &res.targets {
            cg.graph.add_edge(
                cg.node(caller),
                cg.node(t),
                Edge {
                    site: call.span,
                    kind,
                    possible,
                },
            );
        }
    }
    let sites = resolutions.callers(&offsets, entry_calls);
    cg.call_sites = sites.map(|&(file, call, _)| (file, call));
    let pairs = (resolutions.iter())
        .filter(|(key, _)| !entry_calls.contains(key))
        .flat_map(|(key, res)| {
            let number = cg.call_base[key.0 as usize] + key.1;
            res.targets.iter().map(move |&(t, _, _)| (number, t))
        })
        .collect();
    cg.call_targets = Multimap::new(calls as usize, pairs);
    // Everything the graph needs from the resolutions is in it now: they go before the
    // rest of the graph is built (they are most of the memory the construction takes).
    drop(resolutions);
    crate::memory::release_free_memory(calls as usize);
    // Lexical edges: a closure runs inside the function that defines it, unless it is
    // handed to code that does not differentiate it.
    for (fi, facts) in files.iter().enumerate() {
        for (idx, f) in facts.functions.iter().enumerate() {
            let me = FuncRef {
                file: fi as u32,
                func: idx as FuncIdx,
            };
            let Some(parent) = lexical_parent(facts, f) else {
                continue;
            };
            // Reached only through a reached parent, which is in the scope.
            let in_scope = scope.contains((offsets[fi] + parent) as usize);
            if !in_scope || blocked.contains(&me) || r.is_dead(fi as u32, f.span) {
                continue;
            }
            let parent = FuncRef {
                file: fi as u32,
                func: parent,
            };
            cg.graph.add_edge(
                cg.node(parent),
                cg.node(me),
                Edge {
                    site: f.head,
                    kind: EdgeKind::Closure,
                    possible: false,
                },
            );
        }
    }
}

/// The graph node of `f`, given where each file's functions start (`CallGraph::offsets`).
fn node_of(offsets: &[u32], f: FuncRef) -> NodeIndex {
    NodeIndex::new((offsets[f.file as usize] + f.func) as usize)
}

/// The function a closure or an inner named function runs inside (and is reached from),
/// if `f` is one.
fn lexical_parent(facts: &FileFacts, f: &Function) -> Option<FuncIdx> {
    let parent = f.parent.get()?;
    let lexical = f.kind.is_closure()
        || (f.kind == FunctionKind::Named
            && !matches!(
                facts.functions[parent as usize].kind,
                FunctionKind::TopLevel | FunctionKind::Region { .. }
            ));
    lexical.then_some(parent)
}

/// Breadth-first searches from the entries' roots: the first visit of a function is
/// through the shortest chain; seeding in (path, line) order breaks ties.
fn reachability(cg: &mut CallGraph) {
    let mut reach: Vec<Slot> = vec![Slot::UNREACHED; cg.graph.node_count()];
    // Entries in three rounds, each reaching only what the rounds before did not: Zygote's
    // entries, then those whose backend may be Zygote, then those a test expects to fail.
    // A function is reported with the first round's entry that reaches it.
    let round_of = |e: &Entry| match (e.expected_failure, e.backend) {
        (Some(_), _) => 2,
        (None, Backend::Unknown) => 1,
        (None, _) => 0,
    };
    for round in 0..3 {
        let mut queue = VecDeque::new();
        for (ei, e) in cg.entries.iter().enumerate() {
            if round_of(e) != round {
                continue;
            }
            for root in &e.roots {
                let n = cg.node(*root);
                if cg.cut[n.index()] || reach[n.index()].is_reached() {
                    continue;
                }
                reach[n.index()] = Slot::of(Reach {
                    entry: ei as u32,
                    depth: 0,
                    via: None,
                });
                queue.push_back(n);
            }
        }
        // Breadth first: the first visit of a function is through the shortest chain;
        // edges are taken in the order of their call sites.
        let mut steps: Vec<(Span, NodeIndex, EdgeIndex)> = Vec::new();
        while let Some(n) = queue.pop_front() {
            let here = reach[n.index()].get().expect("queued nodes are reached");
            steps.clear();
            steps.extend((cg.graph.edges(n)).map(|e| (e.weight().site, e.target(), e.id())));
            steps.sort_by_key(|s| (s.0, s.1));
            for &(_, t, e) in &steps {
                if reach[t.index()].is_reached() || cg.cut[t.index()] {
                    continue;
                }
                reach[t.index()] = Slot::of(Reach {
                    entry: here.entry,
                    depth: here.depth + 1,
                    via: Some(e),
                });
                queue.push_back(t);
            }
        }
    }
    cg.reach = reach;
}

fn collect_unresolved(
    cg: &CallGraph,
    files: &[FileFacts],
    entry_calls: &HashSet<(u32, u32)>,
    r: &Resolver,
) -> Vec<Unresolved> {
    let k = r.knowledge;
    let unknown: HashSet<(u32, u32)> = cg.unknown_callables.iter().copied().collect();
    let by_file: Vec<Vec<Unresolved>> = (files.par_iter().enumerate())
        .map(|(fi, facts)| unresolved_in(cg, fi, facts, entry_calls, &unknown, r, k))
        .collect();
    by_file.into_iter().flatten().collect()
}

/// [`collect_unresolved`] in one file.
fn unresolved_in(
    cg: &CallGraph,
    fi: usize,
    facts: &FileFacts,
    entry_calls: &HashSet<(u32, u32)>,
    unknown: &HashSet<(u32, u32)>,
    r: &Resolver,
    k: &Knowledge,
) -> Vec<Unresolved> {
    let mut out = Vec::new();
    for (ci, call) in facts.calls.iter().enumerate() {
        let caller = FuncRef {
            file: fi as u32,
            func: call.func,
        };
        if !cg.is_reached(caller) {
            continue;
        }
        // Entry calls have no targets here; they are skipped below.
        if !cg
            .call_targets
            .get(cg.call_number(fi as u32, ci as u32))
            .is_empty()
        {
            continue;
        }
        let Some(name) = call.name() else { continue };
        if unknown.contains(&(fi as u32, ci as u32)) {
            out.push(Unresolved {
                file: fi as u32,
                span: call.callee_span(),
                path: call.callee,
                is_macro: false,
            });
            continue;
        }
        if k.is_known(&name)
            || r.lookup(fi as u32, call.func, name).is_some()
            || !r.inner_named(fi as u32, call.func, name).is_empty()
            || entry_calls.contains(&(fi as u32, ci as u32))
        {
            continue;
        }
        out.push(Unresolved {
            file: fi as u32,
            span: call.callee_span(),
            path: call.callee,
            is_macro: false,
        });
    }
    for site in &facts.sites {
        if let crate::facts::SiteKind::Macro { path } = &site.kind {
            let caller = FuncRef {
                file: fi as u32,
                func: site.func,
            };
            let name = path.last().map(Name::as_str).unwrap_or("");
            if cg.is_reached(caller)
                && knowledge::macro_class(name) == knowledge::MacroClass::Opaque
            {
                out.push(Unresolved {
                    file: fi as u32,
                    span: site.span,
                    path: *path,
                    is_macro: true,
                });
            }
        }
    }
    out
}

/// Kinds of values of Base as [`Resolver::known_type`] names them, with the annotations
/// that take each.
const KINDS: &[(&str, &[&str])] = &[
    (
        "Array",
        &[
            "AbstractArray",
            "AbstractVector",
            "AbstractMatrix",
            "AbstractVecOrMat",
            "DenseArray",
            "DenseVector",
            "DenseMatrix",
            "Array",
            "Vector",
            "Matrix",
            "StridedArray",
            "StridedVector",
            "StridedMatrix",
            "AbstractVecOrTuple",
        ],
    ),
    (
        "Number",
        &[
            "Number",
            "Real",
            "AbstractFloat",
            "Float64",
            "Float32",
            "Float16",
            "Integer",
            "Int",
            "Int64",
            "Int32",
            "Signed",
            "Unsigned",
            "Complex",
        ],
    ),
    ("Bool", &["Bool", "Integer", "Real", "Number"]),
    ("String", &["String", "AbstractString"]),
    ("Tuple", &["Tuple", "NTuple", "AbstractVecOrTuple"]),
    ("Nothing", &["Nothing"]),
    ("Function", &["Function", "Callable"]),
];

/// The type an annotation names, without module or parameters (`DiffEqBase.
/// AbstractODEProblem{uType}` gives `AbstractODEProblem`); none for annotations that are not
/// one type (`Union{...}`, `Type{T}`, `typeof(f)`, `<:Real`).
fn head_of(annotation: &str) -> Option<&str> {
    let a = annotation.trim();
    let head = a.split('{').next()?.trim();
    let head = head.rsplit('.').next()?.trim();
    let plain = !head.is_empty()
        && head.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !matches!(head, "Union" | "Type" | "typeof" | "Val");
    plain.then_some(head)
}

fn shape(call: &Call) -> Shape {
    (
        call.args.len().min(u32::MAX as usize) as u32,
        call.has_splat,
    )
}

/// What an entry-looking call is.
enum EntryMatch<'a> {
    Api(&'a EntryApi),
    /// `f'(x)`.
    Adjoint,
    /// A bare name two `using`s export with different bindings.
    Ambiguous(Vec<Name>),
}

/// The backends a value may be ([`Resolver::backends_of`]).
#[derive(Default)]
struct BackendValues {
    found: Vec<Backend>,
    unknown: bool,
}

/// A name bound in a function or the functions around it.
enum Binding<'a> {
    Param { func: FuncIdx, index: usize },
    Values(Vec<&'a Value>),
}

impl<'a> Resolver<'a> {
    fn facts(&self, file: u32) -> &'a FileFacts {
        &self.files[file as usize]
    }

    fn module_of(&self, f: FuncRef) -> &'a [Name] {
        self.index.function_module(f, self.files)
    }

    /// Look a name up in `func` and the functions around it (closures capture), ending
    /// with the file's top level (globals).
    fn lookup(&self, file: u32, func: FuncIdx, name: Name) -> Option<Binding<'a>> {
        self.lookup_first(file, func, name, usize::MAX)
    }

    /// [`Resolver::lookup`] keeping the first `most` assignments: a search whose step
    /// budget would end before the rest gathered each of thousands of them at each use
    /// (`y = identity(y)` repeated: quadratic).
    fn lookup_first(
        &self,
        file: u32,
        func: FuncIdx,
        name: Name,
        most: usize,
    ) -> Option<Binding<'a>> {
        Some(match self.local_first(file, func, name, most)? {
            Local::Param { func, index } => Binding::Param { func, index },
            Local::Assigned(assigns) => {
                Binding::Values(assigns.into_iter().map(|a| &a.value).collect())
            }
        })
    }

    /// Where `name` is bound seen from `func`: a parameter of it or of a function around
    /// it, or the assignments in the innermost one that assigns it. A keyword parameter
    /// binds the name even when adlint keeps nothing of its default (a literal, a
    /// function's result): no assignments, but never a function of that name outside.
    fn local(&self, file: u32, func: FuncIdx, name: Name) -> Option<Local<'a>> {
        self.local_first(file, func, name, usize::MAX)
    }

    /// [`Resolver::local`] with at most `most` of the assignments.
    fn local_first(&self, file: u32, func: FuncIdx, name: Name, most: usize) -> Option<Local<'a>> {
        let facts = self.facts(file);
        let assigns_of = |f: FuncIdx| {
            let by = &self.lookups(file).assigns_by;
            let first = by.partition_point(|a| (a.0, a.1.number()) < (f, name.number()));
            by[first..]
                .iter()
                .take_while(move |a| a.0 == f && a.1 == name)
                .map(|a| &facts.assigns[a.2 as usize])
        };
        let f = self.first_around(&self.binders, file, func, name, |f| {
            let def = &facts.functions[f as usize];
            let binds = def.param_index_of(name).is_some()
                || assigns_of(f).next().is_some()
                || def.kwparams.contains(&name);
            binds.then_some(true)
        })?;
        let def = &facts.functions[f as usize];
        if let Some(i) = def.param_index_of(name) {
            return Some(Local::Param { func: f, index: i });
        }
        Some(Local::Assigned(assigns_of(f).take(most).collect()))
    }

    fn inner_named(&self, file: u32, func: FuncIdx, name: Name) -> Vec<FuncRef> {
        let facts = self.facts(file);
        let inner_by = &self.lookups(file).inner_by;
        let holder = self.first_around(&self.inner_holders, file, func, name, |f| {
            if facts.functions[f as usize].kind == FunctionKind::TopLevel {
                return Some(false);
            }
            inner_by.contains_key(&(f, name)).then_some(true)
        });
        match holder.and_then(|f| inner_by.get(&(f, name))) {
            Some(found) => found.iter().map(|&i| FuncRef { file, func: i }).collect(),
            None => vec![],
        }
    }

    /// [`crate::facts::first_around`] in `file`.
    fn first_around(
        &self,
        memo: &crate::facts::AroundMemo,
        file: u32,
        func: FuncIdx,
        name: Name,
        here: impl Fn(FuncIdx) -> Option<bool>,
    ) -> Option<FuncIdx> {
        let functions = &self.facts(file).functions;
        crate::facts::first_around(memo, functions, file, func, name, here)
    }

    /// The workspace functions a value may be, with whether each is only possible.
    fn function_values(
        &self,
        file: u32,
        func: FuncIdx,
        value: &Value,
        depth: u32,
        trail: &mut Trail,
    ) -> Vec<(FuncRef, bool)> {
        trail.steps += 1;
        if depth > 6 || trail.steps > Trail::BUDGET {
            return vec![];
        }
        match value {
            Value::Func(idx) => vec![(FuncRef { file, func: *idx }, false)],
            Value::Ident(name) => {
                if !trail.seen.insert((file, func, *name)) {
                    return vec![];
                }
                let inner = self.inner_named(file, func, *name);
                if !inner.is_empty() {
                    return inner.into_iter().map(|f| (f, false)).collect();
                }
                // Each value costs a step at least: those past the budget would find
                // nothing, so they are not gathered.
                let room = (Trail::BUDGET.saturating_sub(trail.steps) as usize).saturating_add(1);
                match self.lookup_first(file, func, *name, room) {
                    Some(Binding::Values(values)) => values
                        .into_iter()
                        .flat_map(|v| self.function_values(file, func, v, depth + 1, trail))
                        .collect(),
                    Some(Binding::Param { func: owner, index }) => {
                        self.param_values(file, owner, index, depth, trail)
                    }
                    None => {
                        let module = self.module_of(FuncRef { file, func });
                        let unit = self.index.unit_of(file);
                        let visible = self.visible_methods(unit, module, *name);
                        let (methods, certain) = &*visible;
                        if !methods.is_empty() {
                            return methods.iter().map(|&m| (m, !certain)).collect();
                        }
                        // A struct instance used as a function: its call methods.
                        self.functors_named(file, *name)
                    }
                }
            }
            Value::Path(path) => {
                let (q, name) = path.split_at(path.len() - 1);
                let unit = self.index.unit_of(file);
                let module = self
                    .index
                    .unalias(unit, self.module_of(FuncRef { file, func }), q[0]);
                if self.index.module_names.contains(&module) {
                    self.index
                        .methods_in_module(unit, module, name[0], self.files)
                        .into_iter()
                        .map(|f| (f, false))
                        .collect()
                } else {
                    vec![]
                }
            }
            Value::Call { callee, args } => {
                let Some(last) = callee.last() else {
                    return vec![];
                };
                match last.as_str() {
                    "Fix1" | "Fix2" | "ComposedFunction" => (self.facts(file).args(*args).iter())
                        .take(if last == "ComposedFunction" { 2 } else { 1 })
                        .flat_map(|a| self.function_values(file, func, a, depth + 1, trail))
                        .collect(),
                    _ => {
                        // A constructor call: the object's call methods, if it has any; a
                        // container such as `Chain(...)` calls what it holds.
                        let functors = self.functors_named(file, *last);
                        if !functors.is_empty() {
                            return functors;
                        }
                        if matches!(
                            last.as_str(),
                            "Chain"
                                | "Parallel"
                                | "SkipConnection"
                                | "PairwiseFusion"
                                | "Maxout"
                                | "BranchLayer"
                                | "StatefulLuxLayer"
                        ) {
                            // A container runs every layer it holds: what flows into it
                            // is reached as certainly as the container is.
                            return (self.facts(file).args(*args).iter())
                                .flat_map(|a| self.function_values(file, func, a, depth + 1, trail))
                                .collect();
                        }
                        // A function of the workspace: what it returns (a closure made by
                        // a factory, a model built by a helper).
                        let mut out = Vec::new();
                        if trail.no_returns {
                            return out;
                        }
                        for m in self.callee_methods(file, func, callee) {
                            let facts = self.facts(m.file);
                            for v in facts.returns_of(m.func) {
                                out.extend(self.function_values(
                                    m.file,
                                    m.func,
                                    v,
                                    depth + 1,
                                    trail,
                                ));
                            }
                        }
                        out
                    }
                }
            }
            Value::Compose(parts) => (self.facts(file).args(*parts).iter())
                .flat_map(|p| self.function_values(file, func, p, depth + 1, trail))
                .collect(),
            _ => vec![],
        }
    }

    /// The call methods of the struct type `name` that code in `file` may reach.
    fn functors_named(&self, file: u32, name: Name) -> Vec<(FuncRef, bool)> {
        (self.index.functors.get(&name).into_iter().flatten())
            .filter(|f| self.index.sees(file, f.file))
            .map(|&f| (f, false))
            .collect()
    }

    /// Values bound to parameter `index` of `owner`, from every call site found so far.
    fn param_values(
        &self,
        file: u32,
        owner: FuncIdx,
        index: usize,
        depth: u32,
        trail: &mut Trail,
    ) -> Vec<(FuncRef, bool)> {
        let me = FuncRef { file, func: owner };
        let mut out = Vec::new();
        // Where the parameter is read: a caller whose constant arguments make that code
        // dead passes nothing there.
        let via = trail.via.filter(|v| v.0 == file).map(|v| v.1);
        // Call sites on values of unknown type (`model(f, x)`) are not followed into a
        // functor's parameters: every such call would be a candidate for every functor.
        {
            let node = self.node_base[me.file as usize] + me.func;
            trail.read_callers.push(node);
            for &(cf, ci, guessed) in self.callers.get(node as usize) {
                let call = &self.facts(cf).calls[ci as usize];
                if via.is_some_and(|v| self.dead_for_caller(me, v, cf, call)) {
                    continue;
                }
                if let Some(arg) = self.facts(cf).args(call.args).get(index) {
                    if matches!(arg, Value::Splat(_)) {
                        continue;
                    }
                    // A value passed by a call that only possibly runs this function
                    // (a `map` call that may reach the workspace's `Base.map` method) is
                    // itself only possibly here: the guess carries over.
                    let outer = trail.via.replace((cf, call.span));
                    let values = self.function_values(cf, call.func, arg, depth + 1, trail);
                    trail.via = outer;
                    out.extend(values.into_iter().map(|(f, p)| (f, p || guessed)));
                }
            }
        }
        // Arguments an entry call passes to the function it differentiates.
        let node = self.node_base[me.file as usize] + me.func;
        let start = self.entry_args.partition_point(|b| b.0 < node);
        let bound = self.entry_args[start..].iter().take_while(|b| b.0 == node);
        for &(_, (cf, ci, first, count)) in bound {
            if index as u32 >= count {
                continue;
            }
            let call = &self.facts(cf).calls[ci as usize];
            let args = self.facts(cf).args(call.args);
            if let Some(arg) = args.get(first as usize + index) {
                if !matches!(arg, Value::Splat(_)) {
                    let outer = trail.via.replace((cf, call.span));
                    out.extend(self.function_values(cf, call.func, arg, depth + 1, trail));
                    trail.via = outer;
                }
            }
        }
        out
    }

    /// Whether method `m` may run for the positional arguments of `types`: no annotated
    /// parameter is given a value whose possible types adlint knows and the annotation
    /// refuses them all (`g(x::Grads)` for `g(())`, `solve(prob, ::FwdEulerAlg)` for
    /// `solve(prob, alg)` with `alg` a `Tsit5()` or a `TRBDF2()`).
    fn accepts(&self, m: FuncRef, types: &mut ArgTypes, trail: &mut Trail) -> bool {
        let def = &self.facts(m.file).functions[m.func as usize];
        for (i, p) in def.params.iter().enumerate() {
            if p.vararg {
                break;
            }
            let Some(ann) = p.annotation else { continue };
            if i >= types.args.len()
                || types.args[..=i]
                    .iter()
                    .any(|a| matches!(a, Value::Splat(_)))
            {
                break;
            }
            // `ODEProblem{..., <:ODEForwardSensitivityProblem}` refuses an `ODEProblem`
            // built without one of those.
            let bounds = self.workspace_bounds(&ann);
            if let Some(head) = head_of(&ann).filter(|_| !bounds.is_empty()) {
                let arg = &types.args[i];
                if (bounds.iter())
                    .any(|&b| self.built_without(types.file, types.func, arg, head, b, 0, trail))
                {
                    return false;
                }
            }
            let Some(known) = types.of(self, i, trail) else {
                continue;
            };
            if known.iter().all(|&k| self.admits(ann, k) == Some(false)) {
                return false;
            }
        }
        true
    }

    /// The workspace types by which an annotation of a type declared outside the
    /// workspace bounds one of its parameters: `ODEProblem{uType, ..., <:ODEForwardSensitivityProblem}`
    /// (SciMLSensitivity's `remake` method for the problems it builds).
    fn workspace_bounds(&self, ann: &str) -> Vec<Name> {
        // (Parameters first: most annotations have none, and the interner's lookup is
        // shared by every thread, once per call and method.)
        let Some(open) = ann.find('{') else {
            return Vec::new();
        };
        let Some(head) = head_of(ann) else {
            return Vec::new();
        };
        let types = &self.index.types;
        if Name::lookup(head).is_some_and(|h| types.contains_key(&h)) {
            return Vec::new();
        }
        (ann[open..].split("<:").skip(1))
            .filter_map(|rest| {
                let path: String = (rest.trim_start().chars())
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                    .collect();
                let last = path.rsplit('.').next()?;
                Name::lookup(last).filter(|n| types.get(n).is_some())
            })
            .collect()
    }

    /// Whether `value` is always an instance of `head`, a type declared outside the
    /// workspace, that its own constructor built from positional arguments none of which
    /// may be a `bound` (a type of the workspace), without keyword arguments, or a copy of
    /// one (`copy`, `remake(prob; p)`): code outside the workspace cannot give one of its
    /// type parameters a type of the workspace by itself.
    #[allow(clippy::too_many_arguments)]
    fn built_without(
        &self,
        file: u32,
        func: FuncIdx,
        value: &Value,
        head: &str,
        bound: Name,
        depth: u32,
        trail: &mut Trail,
    ) -> bool {
        let Value::Ident(name) = value else {
            return false;
        };
        if depth > 4 {
            return false;
        }
        let facts = self.facts(file);
        let Some(Local::Assigned(assigns)) = self.local(file, func, *name) else {
            return false;
        };
        !assigns.is_empty()
            && assigns.iter().all(|a| {
                let Value::Call { callee, args } = &a.value else {
                    return false;
                };
                let Some(last) = callee.last() else {
                    return false;
                };
                let args = facts.args(*args);
                let copies =
                    self.knowledge.origin(last) == Some(knowledge::OriginKind::SameAsFirst);
                if copies || last == "remake" {
                    return args.first().is_some_and(|v| {
                        self.built_without(file, a.func, v, head, bound, depth + 1, trail)
                    });
                }
                if last.as_str() != head {
                    return false;
                }
                // The constructor call itself, for its keywords.
                let call =
                    (facts.calls.iter()).find(|c| a.span.contains(c.span) && c.callee == *callee);
                call.is_some_and(|c| c.kwargs.is_empty() && !c.has_splat)
                    && args
                        .iter()
                        .all(|v| self.cannot_be(file, a.func, v, bound, trail))
            })
    }

    /// Whether adlint knows every type `value` may have and none of them is `bound`.
    fn cannot_be(
        &self,
        file: u32,
        func: FuncIdx,
        value: &Value,
        bound: Name,
        trail: &mut Trail,
    ) -> bool {
        // A function outside the workspace (`complex(u0)`) cannot make a type of the
        // workspace by itself: its result is one only if an argument is. Functions that
        // return what their argument holds (`first(xs)`) could hand one out.
        if let Value::Call { callee, args } = value {
            let unit = self.index.unit_of(file);
            let module = self.module_of(FuncRef { file, func });
            let external = callee.last().is_some_and(|f| {
                f.starts_with(char::is_lowercase)
                    && !matches!(
                        f.as_str(),
                        "first"
                            | "last"
                            | "only"
                            | "getindex"
                            | "get"
                            | "getfield"
                            | "getproperty"
                            | "identity"
                            | "something"
                            | "pop!"
                            | "popfirst!"
                    )
                    && self.lookup(file, func, *f).is_none()
                    && (self.visible_methods(unit, module, *f).0).is_empty()
            });
            let args = self.facts(file).args(*args);
            if external && !args.is_empty() && trail.steps < Trail::BUDGET {
                trail.steps += 1;
                return (args.iter()).all(|a| self.cannot_be(file, func, a, bound, trail));
            }
        }
        // A name that no local binds but a function has: a function.
        if let Value::Ident(n) = value {
            if self.lookup(file, func, *n).is_none() {
                let unit = self.index.unit_of(file);
                let module = self.module_of(FuncRef { file, func });
                let function = !self.inner_named(file, func, *n).is_empty()
                    || !(self.visible_methods(unit, module, *n).0).is_empty();
                if function {
                    return self.admits(bound, Name::new("Function")) == Some(false);
                }
            }
        }
        let mut out = Vec::new();
        self.known_types(file, func, value, 0, trail, &mut out)
            && !out.is_empty()
            && out.iter().all(|&k| self.admits(bound, k) == Some(false))
    }

    /// The types a value may have, into `out`, when adlint knows them all (else
    /// `false`): a kind of Base's ([`KINDS`]: a literal, an array maker), a constructor's
    /// type (`Tsit5()`), what a local's assignments give, or what a parameter's call sites
    /// found so far pass it, with its default when one of them leaves it out.
    fn known_types(
        &self,
        file: u32,
        func: FuncIdx,
        value: &Value,
        depth: u32,
        trail: &mut Trail,
        out: &mut Vec<Name>,
    ) -> bool {
        let mut push = |n: Name| {
            if !out.contains(&n) {
                out.push(n);
            }
            out.len() <= 8
        };
        trail.steps += 1;
        if trail.steps > Trail::BUDGET {
            return false;
        }
        match value {
            Value::Array => push(Name::new("Array")),
            Value::Number => push(Name::new("Number")),
            Value::Str => push(Name::new("String")),
            Value::Bool(_) => push(Name::new("Bool")),
            Value::Nothing => push(Name::new("Nothing")),
            Value::Tuple => push(Name::new("Tuple")),
            Value::Func(_) => push(Name::new("Function")),
            Value::Call { callee, args } => {
                let Some(last) = callee.last() else {
                    return false;
                };
                // A copy (the knowledge's `same_as_first` origins), or SciML's
                // `remake(prob; p)`, is of the type of what it copies.
                let same = self.knowledge.origin(last) == Some(knowledge::OriginKind::SameAsFirst);
                if (same || last == "remake") && depth < 4 {
                    let first = self.facts(file).args(*args).first();
                    return first
                        .is_some_and(|a| self.known_types(file, func, a, depth + 1, trail, out));
                }
                // `ALG()` with `ALG` a variable holding a type: not the type `ALG`.
                if callee.len() == 1 && self.lookup(file, func, *last).is_some() {
                    return false;
                }
                match last.as_str() {
                    "vec" | "reshape" | "zeros" | "ones" | "rand" | "randn" | "collect"
                    | "fill" | "hcat" | "vcat" | "cat" => push(Name::new("Array")),
                    "tuple" => push(Name::new("Tuple")),
                    "string" => push(Name::new("String")),
                    "Float64" | "Float32" | "Int" | "Int64" => push(Name::new("Number")),
                    n if n.starts_with(char::is_uppercase) => push(*last),
                    _ => false,
                }
            }
            Value::Ident(name) if depth < 4 => match self.lookup(file, func, *name) {
                Some(Binding::Values(vs)) => vs
                    .into_iter()
                    .all(|v| self.known_types(file, func, v, depth + 1, trail, out)),
                Some(Binding::Param { func: owner, index }) => {
                    let facts = self.facts(file);
                    let def = &facts.functions[owner as usize];
                    let Some(p) = def.params.get(index) else {
                        return false;
                    };
                    if let Some(ann) = p.annotation.and_then(|a| head_of(&a).map(Name::new)) {
                        // A concrete type of the workspace is exactly that type.
                        if self.index.types.get(&ann).is_some_and(|t| !t.1) {
                            return push(ann);
                        }
                    }
                    let node = self.node_base[file as usize] + owner;
                    trail.read_callers.push(node);
                    let mut defaulted = self.callers.get(node as usize).is_empty();
                    if defaulted && !p.has_default {
                        return false;
                    }
                    for &(cf, ci, _) in self.callers.get(node as usize) {
                        let call = &self.facts(cf).calls[ci as usize];
                        let args = self.facts(cf).args(call.args);
                        if args.iter().any(|a| matches!(a, Value::Splat(_))) {
                            return false;
                        }
                        match args.get(index) {
                            Some(a) => {
                                if !self.known_types(cf, call.func, a, depth + 1, trail, out) {
                                    return false;
                                }
                            }
                            None => defaulted = true,
                        }
                    }
                    if !defaulted {
                        return true;
                    }
                    if !p.has_default {
                        return false;
                    }
                    let default = (facts.assigns.iter()).find(|a| {
                        a.func == owner && a.var == *name && a.kind == AssignKind::Default
                    });
                    default.is_some_and(|d| {
                        self.known_types(file, owner, &d.value, depth + 1, trail, out)
                    })
                }
                None => false,
            },
            _ => false,
        }
    }

    /// Whether a parameter annotated `annotation` takes a value of type `known`: `Some`
    /// when adlint can tell from Base's kinds and the workspace's type declarations,
    /// `None` when it cannot (an abstract type declared outside the workspace).
    fn admits(&self, annotation: Name, known: Name) -> Option<bool> {
        let a = head_of(&annotation)?;
        if a == "Any" || a == known.as_str() {
            return Some(true);
        }
        let types = &self.index.types;
        // An annotation without parameters is its own head (no lookup in the interner).
        let a_name = match a.len() == annotation.len() {
            true => Some(annotation),
            false => Name::lookup(a),
        };
        let a_declared = a_name.and_then(|n| types.get(&n)).map(|t| t.1);
        let in_a_kind = KINDS.iter().any(|k| k.1.contains(&a));
        if let Some(k) = KINDS.iter().find(|k| k.0 == known.as_str()) {
            if k.1.contains(&a) {
                return Some(true);
            }
            return (a_declared.is_some() || in_a_kind).then_some(false);
        }
        if types.contains_key(&known) {
            // Up the workspace's declarations: `a` is one of them, or the chain ends at
            // `Any` without it, or leaves the workspace (where `a` may still be).
            let mut cur = known;
            for _ in 0..16 {
                match types.get(&cur) {
                    Some((Some(sup), _)) => {
                        if sup.as_str() == a {
                            return Some(true);
                        }
                        cur = *sup;
                    }
                    Some((None, _)) => return Some(false),
                    None => return a_declared.is_some().then_some(false),
                }
            }
            return None;
        }
        // A type declared outside the workspace is no struct of the workspace.
        (a_declared == Some(false)).then_some(false)
    }

    /// The methods an entry differentiates that may run for the arguments it passes them
    /// (`pullback(map, -, ())` does not run a `map` method for `Grads`); closures and
    /// functors are kept.
    fn narrow_roots(
        &self,
        file: u32,
        call: &Call,
        roots: Vec<(FuncRef, bool)>,
        passes: Option<(u32, u32)>,
        trail: &mut Trail,
    ) -> Vec<(FuncRef, bool)> {
        let Some((first, _)) = passes else {
            return roots;
        };
        let args = self.facts(file).args(call.args);
        let mut types = ArgTypes::new(file, call.func, args.get(first as usize..).unwrap_or(&[]));
        roots
            .into_iter()
            .filter(|&(m, _)| {
                let def = &self.facts(m.file).functions[m.func as usize];
                def.kind != FunctionKind::Named || self.accepts(m, &mut types, trail)
            })
            .collect()
    }

    /// Whether the code at `via` in `owner` never runs when `call` (a call site of
    /// `owner` in file `cf`) calls it: `via` is inside a branch on a parameter of `owner`
    /// (`if !nested`) that the call gives a literal `true`/`false` the branch does not
    /// run with, or leaves at such a default.
    fn dead_for_caller(&self, owner: FuncRef, via: Span, cf: u32, call: &Call) -> bool {
        let Some(guards) = self.lookups(owner.file).flag_guards.get(&owner.func) else {
            return false;
        };
        let facts = self.facts(owner.file);
        let def = &facts.functions[owner.func as usize];
        let args = self.facts(cf).args(call.args);
        let splat = args.iter().any(|a| matches!(a, Value::Splat(_)));
        (guards.iter()).any(|&g| {
            let g = &facts.guards[g as usize];
            let crate::facts::Cond::Flag(name) = g.cond else {
                return false;
            };
            if !g.span.contains(via) {
                return false;
            }
            let passed = match def.param_index_of(name) {
                Some(i) if !splat => args.get(i),
                Some(_) => return false,
                None if def.kwparams.contains(&name) => (self.facts(cf).kwargs(call.kwargs))
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v),
                None => return false,
            };
            let value = passed.or_else(|| {
                (facts.assigns.iter())
                    .find(|a| {
                        a.func == owner.func && a.var == name && a.kind == AssignKind::Default
                    })
                    .map(|a| &a.value)
            });
            matches!(value, Some(Value::Bool(b)) if *b != g.holds)
        })
    }

    /// Whether the code at `span` of `file` never runs with its unit's Julia.
    fn lookups(&self, file: u32) -> &FileLookups {
        self.lookups[file as usize].get_or_init(|| FileLookups::new(self.facts(file)))
    }

    fn is_dead(&self, file: u32, span: Span) -> bool {
        self.dead[file as usize].iter().any(|d| d.contains(span))
    }

    /// [`Index::visible_methods`], looked up once for each (unit, module, name): a file
    /// that calls one name many times asked for all of its methods at each call.
    fn visible_methods(&self, unit: u32, module: &'a [Name], name: Name) -> Visible {
        let key = (unit, module, name);
        if let Some(v) = self.visible.lock().expect("not poisoned").get(&key) {
            return v.clone();
        }
        let v = Arc::new(self.index.visible_methods(unit, module, name, self.files));
        let mut memo = self.visible.lock().expect("not poisoned");
        memo.entry(key).or_insert(v).clone()
    }

    /// The methods `lookup` finds for a name whose arity fits a call's shape, once for each
    /// (unit, lookup, name, shape).
    fn dispatch(&self, unit: u32, lookup: Lookup<'a>, name: Name, shape: Shape) -> Arc<Dispatch> {
        let key = (unit, lookup, name, shape);
        if let Some(d) = self.dispatch.lock().expect("not poisoned").get(&key) {
            return d.clone();
        }
        let (found, certain) = match lookup {
            Lookup::Bare(module) => {
                let visible = self.visible_methods(unit, module, name);
                (visible.0.clone(), visible.1)
            }
            Lookup::InModule(q) => (
                (self.index).methods_in_module(unit, q, name, self.files),
                true,
            ),
            Lookup::Extends(q) => {
                let all = self.index.by_name.get(name).map_or(&[][..], |v| v);
                let extends = (all.iter().copied()).filter(|m| {
                    let def = &self.facts(m.file).functions[m.func as usize];
                    (self.index.units).sees(unit, self.index.unit_of(m.file))
                        && def.qualifier.last() == Some(&q)
                });
                (extends.collect(), true)
            }
        };
        let methods: Vec<FuncRef> = (found.into_iter())
            .filter(|&m| self.arity_fits(m, shape))
            .collect();
        let unrefusable = methods.iter().filter(|&&m| !self.may_refuse(m)).count();
        let positions = (shape.0 as usize).min(INDEXED_POSITIONS);
        let by_annotation = by_annotation::ByAnnotation::build(
            &methods,
            &self.index.types,
            |m, p| self.plain_annotation(m, p),
            positions,
        );
        let d = Arc::new(Dispatch {
            methods,
            certain,
            unrefusable,
            by_annotation,
        });
        let mut memo = self.dispatch.lock().expect("not poisoned");
        memo.entry(key).or_insert(d).clone()
    }

    /// The methods of `d` that may run for the arguments of `types` ([`Resolver::accepts`]),
    /// looking only at those [`Dispatch::by_annotation`] leaves when it can narrow them.
    /// With `capped`, stops past [`MAX_METHODS`]: the call is unresolved however many more
    /// there are.
    fn narrow(
        &self,
        d: &Dispatch,
        types: &mut ArgTypes,
        trail: &mut Trail,
        capped: bool,
    ) -> Vec<FuncRef> {
        #[cfg(debug_assertions)]
        let before = (types.clone(), trail.clone());
        let candidates = d.by_annotation.as_ref().and_then(|ix| {
            let p = ix.pos();
            let args = types.args;
            if p >= args.len() || args[..=p].iter().any(|a| matches!(a, Value::Splat(_))) {
                return None;
            }
            let known = types.of(self, p, trail)?.to_vec();
            ix.candidates(&known, &self.index.types)
        });
        let mut out = Vec::new();
        let mut check = |m: FuncRef| {
            if self.accepts(m, types, trail) {
                out.push(m);
            }
            !capped || out.len() <= MAX_METHODS
        };
        match &candidates {
            Some(c) => {
                let _ = c.iter().all(|&i| check(d.methods[i as usize]));
            }
            None => {
                let _ = d.methods.iter().all(|&m| check(m));
            }
        }
        if capped && out.len() > MAX_METHODS {
            // The methods not looked at may have read the other arguments: a resolution
            // read again when their call sites change must know it read them.
            for i in 0..types.args.len() {
                types.of(self, i, trail);
            }
        }
        #[cfg(debug_assertions)]
        if candidates.is_some() && d.methods.len() <= 512 {
            let (mut types, mut trail) = before;
            let all: Vec<FuncRef> = (d.methods.iter().copied())
                .filter(|&m| self.accepts(m, &mut types, &mut trail))
                .collect();
            if capped && out.len() > MAX_METHODS {
                debug_assert!(all.len() > MAX_METHODS);
            } else {
                let mut got = out.clone();
                got.sort_unstable();
                let mut all = all;
                all.sort_unstable();
                debug_assert_eq!(got, all, "the annotation index left out a method");
            }
        }
        out
    }

    /// The annotation of parameter `pos` of method `m` when [`Resolver::accepts`] decides
    /// it by [`Resolver::admits`] alone: a plain type, no vararg up to it, no bound on a
    /// workspace type ([`Resolver::workspace_bounds`]).
    fn plain_annotation(&self, m: FuncRef, pos: usize) -> Option<Name> {
        let def = &self.facts(m.file).functions[m.func as usize];
        let params = def.params.get(..=pos)?;
        if params.iter().any(|p| p.vararg) {
            return None;
        }
        let ann = params[pos].annotation?;
        (head_of(&ann).is_some() && self.workspace_bounds(&ann).is_empty()).then_some(ann)
    }

    /// Whether [`Resolver::accepts`] may refuse method `m` for some arguments: a positional
    /// parameter before any vararg is annotated with one type ([`head_of`]). Others (no
    /// annotation, `Val{3}`, `Union{...}`) it never refuses: [`Resolver::admits`] says
    /// nothing of them.
    fn may_refuse(&self, m: FuncRef) -> bool {
        let def = &self.facts(m.file).functions[m.func as usize];
        (def.params.iter())
            .take_while(|p| !p.vararg)
            .any(|p| p.annotation.is_some_and(|a| head_of(&a).is_some()))
    }

    fn arity_ok(&self, f: FuncRef, call: &Call) -> bool {
        self.arity_fits(f, shape(call))
    }

    fn arity_fits(&self, f: FuncRef, (n, splat): Shape) -> bool {
        let n = n as usize;
        let def = &self.facts(f.file).functions[f.func as usize];
        let (req, max) = def.arity();
        if splat {
            return max.is_none_or(|m| n.saturating_sub(1) <= m);
        }
        n >= req && max.is_none_or(|m| n <= m)
    }

    /// A call's resolution as it is kept ([`Resolutions::compact`]), and the nodes whose
    /// call sites found so far it read (when those change, a later round resolves it
    /// again).
    fn resolve_kept(&self, file: u32, call: &Call) -> (Option<Box<Resolved>>, Vec<u32>) {
        let mut res = self.resolve_call(file, call);
        let mut read = std::mem::take(&mut res.read_callers);
        read.sort_unstable();
        read.dedup();
        (Resolutions::compact(res), read)
    }

    fn resolve_call(&self, file: u32, call: &Call) -> Resolved {
        let mut res = Resolved::default();
        let Some(name) = call.name() else {
            return res;
        };
        if self.is_dead(file, call.span) {
            return res;
        }
        // An entry call differentiates its function argument; it does not call it as part
        // of the caller's own differentiated code (its roots are seeded separately). Other
        // backends' entries are calls like any other: Zygote differentiating one goes in.
        match self.entry_api(file, call) {
            Some(EntryMatch::Adjoint) => return res,
            Some(EntryMatch::Api(api))
                if api
                    .backend
                    .is_none_or(|b| b != Backend::Unknown && self.knowledge.analyses(b)) =>
            {
                return res
            }
            _ => {}
        }
        let unit = self.index.unit_of(file);
        let module = self.module_of(FuncRef {
            file,
            func: call.func,
        });
        let qualifier: Vec<Name> = call
            .qualifier()
            .iter()
            .map(|&q| self.index.unalias(unit, module, q))
            .collect();
        let mut trail = Trail::at(file, call.span);

        if qualifier.is_empty() {
            let local = self.lookup(file, call.func, name);
            let inner = self.inner_named(file, call.func, name);
            if !inner.is_empty() {
                for f in inner {
                    res.targets.push((f, EdgeKind::Call, false));
                }
            } else if let Some(binding) = local {
                // A local value called as a function: a closure, a parameter bound at the
                // call sites, or an object whose call method runs.
                let values = match binding {
                    Binding::Values(vs) => vs
                        .into_iter()
                        .flat_map(|v| self.function_values(file, call.func, v, 0, &mut trail))
                        .collect::<Vec<_>>(),
                    Binding::Param { func, index } => {
                        self.param_values(file, func, index, 0, &mut trail)
                    }
                };
                if values.is_empty() {
                    Self::mark_unknown_callable(&mut res);
                } else {
                    for (f, possible) in values {
                        // A call method of a struct is chosen by its arguments like any
                        // method (`tf(u, p, t)` does not run the in-place `tf(du, u, p,
                        // t)`); a closure's own parameters are not checked.
                        if self.arity_ok(f, call)
                            || self.facts(f.file).functions[f.func as usize]
                                .kind
                                .is_closure()
                        {
                            res.targets.push((f, EdgeKind::HigherOrder, possible));
                        }
                    }
                }
            } else {
                let dispatch = self.dispatch(unit, Lookup::Bare(module), name, shape(call));
                let certain = dispatch.certain;
                let mut types = ArgTypes::new(file, call.func, self.facts(file).args(call.args));
                // More methods than the most a call may run that no argument can refuse:
                // the call is unresolved whatever its arguments are (without this, a file
                // that calls one name of many methods many times looked at every method's
                // parameters at each call).
                let methods: Vec<FuncRef> = if dispatch.unrefusable > MAX_METHODS {
                    Vec::new()
                } else {
                    self.narrow(&dispatch, &mut types, &mut trail, true)
                };
                if dispatch.unrefusable > MAX_METHODS || methods.len() > MAX_METHODS {
                    // Too many methods remain to say which runs: unresolved, counted,
                    // not linked to all of them.
                    Self::mark_unknown_callable(&mut res);
                    res.read_callers.append(&mut trail.read_callers);
                    return res;
                }
                if call.broadcast && !methods.is_empty() {
                    // `f.(xs)` with a named function over numbers takes ForwardDiff's fast
                    // path: Zygote does not traverse `f` (zygote-semantics.md §6.3).
                    return res;
                }
                // Methods the workspace adds to a function defined elsewhere (`Base.show`,
                // `SciMLBase.remake`) run only for the argument types they are declared
                // for, which adlint does not know here: guesses.
                let extends = |m: FuncRef| self.index.extends_external(m, name, self.files);
                if methods.iter().all(|&m| extends(m)) {
                    // The function is not the workspace's (calling a constructor does not
                    // run its call method either).
                    res.external = true;
                }
                for m in methods {
                    res.targets
                        .push((m, EdgeKind::Call, !certain || extends(m)));
                }
            }
        } else {
            let q = qualifier.last().expect("non-empty");
            if self.index.module_names.contains(q) {
                let mut types = ArgTypes::new(file, call.func, self.facts(file).args(call.args));
                let dispatch = self.dispatch(unit, Lookup::InModule(*q), name, shape(call));
                for m in self.narrow(&dispatch, &mut types, &mut trail, false) {
                    res.targets.push((m, EdgeKind::Call, false));
                }
            } else if self.lookup(file, call.func, call.callee[0]).is_some() {
                // `m.cell(h, x)`: a field of an object, called.
                Self::mark_unknown_callable(&mut res);
            } else {
                res.external = true;
                // Methods that extend this package's function (`Base.show`) may run.
                let dispatch = self.dispatch(unit, Lookup::Extends(*q), name, shape(call));
                if !dispatch.methods.is_empty() {
                    let mut types =
                        ArgTypes::new(file, call.func, self.facts(file).args(call.args));
                    for m in self.narrow(&dispatch, &mut types, &mut trail, false) {
                        res.targets.push((m, EdgeKind::Call, true));
                    }
                }
            }
        }

        if res.external {
            self.passed_outside(file, call, &qualifier, &name, &mut res);
        }
        res.read_callers.append(&mut trail.read_callers);
        // A target reached both certainly and possibly is certain.
        res.targets.sort_by_key(|t| (t.0, t.2));
        res.targets.dedup_by_key(|t| t.0);
        // Every call's resolution is kept until the graph is built.
        res.targets.shrink_to_fit();
        res.blocked.shrink_to_fit();
        res
    }

    /// Function values passed as arguments to code outside the workspace: edges where the
    /// knowledge says that code runs them (or, unknown, possibly to named functions), none
    /// where it says it does not.
    fn passed_outside(
        &self,
        file: u32,
        call: &Call,
        qualifier: &[Name],
        name: &str,
        res: &mut Resolved,
    ) {
        let k = self.knowledge;
        for (i, arg) in self.facts(file).args(call.args).iter().enumerate() {
            let fvals = self.argument_values(file, call, arg, res);
            if fvals.is_empty() {
                continue;
            }
            match k.traverse(qualifier, name, i + 1) {
                Some(Traverse::Yes) => {
                    for (f, p) in fvals {
                        res.targets.push((f, EdgeKind::Argument, p));
                    }
                }
                Some(Traverse::No) | Some(Traverse::Cut) => {
                    res.blocked.extend(fvals.into_iter().map(|(f, _)| f));
                }
                None => {
                    // Unknown code that receives a function usually calls it; named
                    // functions get a possible edge, closures their lexical one.
                    for (f, _) in fvals {
                        let def = &self.facts(f.file).functions[f.func as usize];
                        if !def.kind.is_closure() {
                            res.targets.push((f, EdgeKind::Argument, true));
                        }
                    }
                }
            }
        }
        for (kw, v) in self.facts(file).kwargs(call.kwargs) {
            if kw == "by" || kw == "lt" {
                let fvals = self.argument_values(file, call, v, res);
                res.blocked.extend(fvals.into_iter().map(|(f, _)| f));
            }
        }
    }

    /// The functions an argument of a call being resolved may be (a search of its own),
    /// noting in `res` whether that read call sites found so far.
    fn argument_values(
        &self,
        file: u32,
        call: &Call,
        arg: &Value,
        res: &mut Resolved,
    ) -> Vec<(FuncRef, bool)> {
        let mut trail = Trail {
            no_returns: true,
            ..Trail::at(file, call.span)
        };
        let values = self.function_values(file, call.func, arg, 0, &mut trail);
        res.read_callers.append(&mut trail.read_callers);
        values
    }

    /// A call on a value whose functions adlint cannot know (`model(x)` with `model` a
    /// parameter nothing binds, `m.cell(h, x)`): unresolved, not linked to every callable
    /// of the workspace (which made most findings on real packages false).
    fn mark_unknown_callable(res: &mut Resolved) {
        res.unknown_callable = true;
    }

    /// The backends a value may be (`AutoZygote()`, a variable or parameter holding one,
    /// a loop variable over a literal list of them), following assignments, parameter
    /// annotations and the arguments at the call sites found so far. Values that are not
    /// backends give nothing; `unknown` is set when the value may be a backend adlint
    /// cannot tell (a parameter typed with an abstract backend type, never called).
    fn backends_of(
        &self,
        file: u32,
        func: FuncIdx,
        value: &Value,
        depth: u32,
        seen: &mut HashSet<(u32, FuncIdx, Name)>,
        out: &mut BackendValues,
    ) {
        if depth > 6 {
            out.unknown = true;
            return;
        }
        match value {
            Value::Call { callee, .. } => {
                if let Some(b) = callee
                    .last()
                    .and_then(|c| self.knowledge.backend_of_constructor(c))
                {
                    out.found.push(b);
                    return;
                }
                // A function of the workspace: what it returns (`backend() = AutoZygote()`).
                for m in self.callee_methods(file, func, callee) {
                    let facts = self.facts(m.file);
                    for v in facts.returns_of(m.func) {
                        self.backends_of(m.file, m.func, v, depth + 1, seen, out);
                    }
                }
            }
            // An element of a list a function returns (`for b in backends()`): the
            // returned lists are recorded element by element.
            Value::Element(inner) => {
                if let Some(v) = self.facts(file).args(*inner).first() {
                    self.backends_of(file, func, v, depth + 1, seen, out);
                }
            }
            Value::Ident(n) => {
                if !seen.insert((file, func, *n)) {
                    return;
                }
                match self.lookup(file, func, *n) {
                    Some(Binding::Values(vs)) => {
                        for v in vs {
                            self.backends_of(file, func, v, depth + 1, seen, out);
                        }
                    }
                    Some(Binding::Param { func: owner, index }) => {
                        let def = &self.facts(file).functions[owner as usize];
                        // Its default value, when a call does not give it.
                        for a in (self.facts(file).assigns.iter()).filter(|a| {
                            a.func == owner
                                && a.var == *n
                                && a.kind == crate::facts::AssignKind::Default
                        }) {
                            self.backends_of(file, owner, &a.value, depth + 1, seen, out);
                        }
                        let annotation = def.params.get(index).and_then(|p| p.annotation);
                        if let Some(a) = annotation {
                            let base = crate::facts::base_type_name(&a);
                            if let Some(b) = self.knowledge.backend_of_constructor(&base) {
                                out.found.push(b);
                                return;
                            }
                            if base.contains("ADType") || base.contains("Backend") {
                                out.unknown = true;
                            }
                        }
                        let node = self.node_base[file as usize] + owner;
                        let sites = self.callers.get(node as usize);
                        for &(cf, ci, _) in sites {
                            let call = &self.facts(cf).calls[ci as usize];
                            if let Some(arg) = self.facts(cf).args(call.args).get(index) {
                                self.backends_of(cf, call.func, arg, depth + 1, seen, out);
                            }
                        }
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// The functions an entry call differentiates, by node, with the arguments it passes
    /// them ([`Resolver::entry_args`]).
    /// The calls of entry APIs of every backend (with whether each may run Zygote), and
    /// the calls that reach the functions around the Zygote ones. An entry's function and
    /// backend may come from the parameters of the function it is written in
    /// (`test(f) = gradient(f, x)`), and those from its callers', up to the top level: the
    /// calls named after these functions (in programs that see them) are the ones to
    /// resolve for the parameters to get their values.
    fn around_entries(&self) -> (Vec<CallKey>, Vec<(u32, u32, bool)>) {
        let entry_calls: Vec<(u32, u32, bool)> = (self.files.par_iter().enumerate())
            .flat_map_iter(|(fi, facts)| {
                (facts.calls.iter().enumerate()).filter_map(move |(ci, call)| {
                    let zygote = match self.entry_api(fi as u32, call)? {
                        EntryMatch::Api(api) => self.knowledge.may_run_analysed(api),
                        EntryMatch::Adjoint => true,
                        EntryMatch::Ambiguous(_) => false,
                    };
                    Some((fi as u32, ci as u32, zygote))
                })
            })
            .collect();
        let mut around: HashSet<FuncRef> = HashSet::default();
        let mut todo: Vec<FuncRef> = (entry_calls.iter())
            .filter(|&&(file, ci, zygote)| {
                zygote && !self.is_dead(file, self.facts(file).calls[ci as usize].span)
            })
            .map(|&(file, ci, _)| FuncRef {
                file,
                func: self.facts(file).calls[ci as usize].func,
            })
            .collect();
        let mut callers: Vec<(u32, u32)> = Vec::new();
        let mut seen: HashSet<(u32, u32)> = HashSet::default();
        loop {
            // Named functions newly around an entry, with the files that define them.
            let mut named: HashMap<Name, Vec<u32>> = HashMap::default();
            while let Some(f) = todo.pop() {
                if !around.insert(f) {
                    continue;
                }
                let def = &self.facts(f.file).functions[f.func as usize];
                if let Some(parent) = def.parent.get() {
                    todo.push(FuncRef {
                        file: f.file,
                        func: parent,
                    });
                }
                if let (FunctionKind::Named, Some(n)) = (&def.kind, def.name) {
                    named.entry(n).or_default().push(f.file);
                }
            }
            if named.is_empty() {
                return (callers, entry_calls);
            }
            let mut def_files: Vec<u32> = named.values().flatten().copied().collect();
            def_files.sort_unstable();
            def_files.dedup();
            let found: Vec<(u32, u32)> = (self.files.par_iter().enumerate())
                .filter(|(fi, _)| def_files.iter().any(|&d| self.index.sees(*fi as u32, d)))
                .flat_map_iter(|(fi, facts)| {
                    let named = &named;
                    (facts.calls.iter().enumerate())
                        .filter(move |(_, call)| {
                            (call.name().and_then(|n| named.get(&n))).is_some_and(|defs| {
                                defs.iter().any(|&d| self.index.sees(fi as u32, d))
                            })
                        })
                        .map(move |(ci, _)| (fi as u32, ci as u32))
                })
                .collect();
            for (fi, ci) in found {
                if seen.insert((fi, ci)) {
                    callers.push((fi, ci));
                    todo.push(FuncRef {
                        file: fi,
                        func: self.facts(fi).calls[ci as usize].func,
                    });
                }
            }
        }
    }

    fn entry_bindings(&self, file: u32, ci: u32, call: &Call) -> Vec<(u32, (u32, u32, u32, u32))> {
        let (farg, first, count) = match self.entry_api(file, call) {
            Some(EntryMatch::Api(api)) => {
                let (_, backend_at) = self.entry_backend(file, call, api);
                let first = api.function_arg.max(backend_at) as u32;
                let count = match api.passes {
                    knowledge::Passes::All => u32::MAX,
                    knowledge::Passes::First => 1,
                    knowledge::Passes::None => return vec![],
                };
                let args = self.facts(file).args(call.args);
                match args.get(api.function_arg - 1) {
                    Some(f) => (f.clone(), first, count),
                    None => return vec![],
                }
            }
            Some(EntryMatch::Adjoint) => match call.name() {
                Some(n) => (Value::Ident(n), 0, u32::MAX),
                None => return vec![],
            },
            _ => return vec![],
        };
        let mut trail = Trail::at(file, call.span);
        let values = self.function_values(file, call.func, &farg, 0, &mut trail);
        (self
            .narrow_roots(file, call, values, Some((first, count)), &mut trail)
            .into_iter())
        .map(|(f, _)| {
            (
                self.node_base[f.file as usize] + f.func,
                (file, ci, first, count),
            )
        })
        .collect()
    }

    /// The workspace methods a callee path written in `func` of `file` names.
    fn callee_methods(&self, file: u32, func: FuncIdx, callee: &[Name]) -> Vec<FuncRef> {
        let Some((&name, qualifier)) = callee.split_last() else {
            return vec![];
        };
        let unit = self.index.unit_of(file);
        let module = self.module_of(FuncRef { file, func });
        match qualifier.last() {
            None => match &*self.visible_methods(unit, module, name) {
                (methods, true) => methods.clone(),
                (_, false) => vec![],
            },
            Some(&q) => {
                let q = self.index.unalias(unit, module, q);
                self.index.methods_in_module(unit, q, name, self.files)
            }
        }
    }

    /// Which entry API a call is, if it is one: qualified calls by their module
    /// (`Zygote.gradient`, `DI.gradient`); unqualified ones by what the name resolves to
    /// through the `using`/`import`s of the caller's unit and module (`using ForwardDiff:
    /// gradient` makes it ForwardDiff's; a function of the workspace named `gradient`
    /// shadows it, unless the workspace is the package defining the API).
    fn entry_api(&self, file: u32, call: &Call) -> Option<EntryMatch<'a>> {
        let k = self.knowledge;
        let name = call.name()?;
        // Most calls are not to an API of that name: say so before resolving anything.
        if !call.adjoint && !k.is_entry_api_name(name) {
            return None;
        }
        let unit = self.index.unit_of(file);
        let module = self.module_of(FuncRef {
            file,
            func: call.func,
        });
        if call.adjoint {
            // `f'(x)`: the default backend's `Base.adjoint(::Function)` (Zygote's).
            let packages = &self.knowledge.default_profile().adjoint_operator;
            return self
                .index
                .package_in_scope(unit, module, packages, name)
                .then_some(EntryMatch::Adjoint);
        }
        let qualifier: Vec<Name> = call
            .qualifier()
            .iter()
            .map(|&q| self.index.unalias(unit, module, q))
            .collect();
        let has_function = |api: &EntryApi| {
            (self.facts(file).args(call.args))
                .get(api.function_arg - 1)
                .is_some()
        };
        if let Some(q) = qualifier.last() {
            return (k.entry_apis.iter())
                .find(|api| api.name == name && api.modules.iter().any(|m| m == q))
                .filter(|api| has_function(api) && self.entry_conditions(file, call, api))
                .map(EntryMatch::Api);
        }
        // APIs a project's config names match unqualified calls inside their module too.
        if let Some(api) = (k.entry_apis.iter()).find(|api| {
            api.configured
                && api.name == name
                && module.iter().any(|m| api.modules.iter().any(|a| a == m))
        }) {
            return has_function(api).then_some(EntryMatch::Api(api));
        }
        if self.lookup(file, call.func, name).is_some() {
            return None;
        }
        let visible = self.visible_methods(unit, module, name);
        let (methods, certain) = &*visible;
        let origin = if *certain && !methods.is_empty() {
            // A workspace function of that name: the API itself when the workspace is the
            // package that defines it (Zygote's own tests call `pullback`), else a
            // function that shadows it.
            let own = methods.iter().find_map(|&m| {
                let defined_in = self.module_of(m).first().copied()?;
                (k.entry_apis.iter())
                    .any(|api| api.name == name && api.modules[0] == defined_in)
                    .then_some(defined_in)
            });
            own?
        } else {
            let exporter = |module: Name, name: Name| {
                k.entry_exporter(&module, &name, &|package| {
                    (package == "Flux")
                        .then(|| self.flux.get(unit as usize).copied().flatten())
                        .flatten()
                })
            };
            match self.index.external_binding(unit, module, name, &exporter) {
                ExternalBinding::Module(m) => m,
                ExternalBinding::Ambiguous(modules) => return Some(EntryMatch::Ambiguous(modules)),
                ExternalBinding::Unknown => return None,
            }
        };
        (k.entry_apis.iter())
            .find(|api| api.name == name && api.modules[0] == origin)
            .filter(|api| has_function(api) && self.entry_conditions(file, call, api))
            .map(EntryMatch::Api)
    }

    /// Whether a call of `api` meets the API's conditions for running AD: a backend
    /// argument given, a keyword bound ([`EntryApi::only_with_backend`],
    /// [`EntryApi::requires_keyword`]).
    fn entry_conditions(&self, file: u32, call: &Call, api: &EntryApi) -> bool {
        if let Some([key, value]) = &api.requires_keyword {
            let bound = (self.facts(file).kwargs(call.kwargs).iter()).any(|(k, v)| {
                k == key.as_str()
                    && (matches!(v, Value::Ident(n) if n == value.as_str())
                        || matches!(v, Value::Path(p) if p.last().is_some_and(|n| n == value.as_str())))
            });
            if !bound {
                return false;
            }
        }
        !api.only_with_backend || self.entry_backend(file, call, api).1 != 0
    }

    /// The backend that runs an entry call of `api`, and the position of the argument
    /// that said so (0: none).
    fn entry_backend(&self, file: u32, call: &Call, api: &EntryApi) -> (Backend, usize) {
        let args = self.facts(file).args(call.args);
        let mut seen = HashSet::default();
        if let Some(b) = api.duplicated {
            for a in args {
                let mut vals = BackendValues::default();
                self.backends_of(file, call.func, a, 0, &mut seen, &mut vals);
                if vals.found.contains(&b) {
                    return (b, 0);
                }
            }
        }
        let mut unknown = false;
        for &pos in &api.backend_arg {
            let Some(v) = args.get(pos - 1) else { continue };
            let mut vals = BackendValues::default();
            self.backends_of(file, call.func, v, 0, &mut seen, &mut vals);
            // Several values (a loop over backends): the entry runs each, and the analysed
            // ones are those adlint follows.
            let analysed = (vals.found.iter()).find(|&&b| self.knowledge.analyses(b));
            if let Some(&b) = analysed {
                return (b, pos);
            }
            if let Some(&b) = vals.found.first() {
                return (b, pos);
            }
            unknown |= vals.unknown || api.backend.is_none();
        }
        match api.backend {
            Some(b) if !(unknown && api.backend.is_none()) => (b, 0),
            _ => (Backend::Unknown, 0),
        }
    }

    fn entry_of(&self, file: u32, ci: u32, call: &Call) -> Option<Result<Entry, AmbiguousEntry>> {
        let caller = FuncRef {
            file,
            func: call.func,
        };
        let unit = self.index.unit_of(file);
        let module = self.module_of(FuncRef {
            file,
            func: call.func,
        });
        let name = call.name()?;
        if self.is_dead(file, call.span) {
            return None;
        }
        let api = self.entry_api(file, call)?;
        let mut expected_failure = self.expected_failure(file, call);
        let api = match api {
            EntryMatch::Ambiguous(modules) => {
                return Some(Err(AmbiguousEntry {
                    file,
                    call: ci,
                    modules,
                }))
            }
            EntryMatch::Adjoint => {
                let f = Value::Ident(name);
                let roots =
                    self.function_values(file, call.func, &f, 0, &mut Trail::at(file, call.span));
                return Some(Ok(Entry {
                    file,
                    call: ci,
                    caller,
                    api: Name::new(&format!("{name}'")),
                    nested: knowledge::NestedKind::Warning,
                    roots: roots.into_iter().map(|(f, _)| f).collect(),
                    label: name.to_string(),
                    implicit_params: false,
                    passes: Some((0, u32::MAX)),
                    backend: self.knowledge.default_profile().backend,
                    expected_failure,
                }));
            }
            EntryMatch::Api(api) => api,
        };
        let (backend, backend_at) = self.entry_backend(file, call, api);
        // Backends the call lists as skipped (the entry's backend is not run: no entry) or
        // as broken (its failure is expected, as inside `@test_broken`).
        let lists_backend = |key: &Option<String>| {
            key.as_deref().is_some_and(|key| {
                let mut seen = HashSet::default();
                (self.facts(file).kwargs(call.kwargs).iter())
                    .filter(|(k, _)| k == key)
                    .any(|(_, v)| {
                        let mut vals = BackendValues::default();
                        self.backends_of(file, call.func, v, 0, &mut seen, &mut vals);
                        vals.found.contains(&backend)
                    })
            })
        };
        let listed = |key| {
            backend != Backend::Unknown && self.knowledge.analyses(backend) && lists_backend(key)
        };
        if listed(&api.skip_keyword) {
            return None;
        }
        if listed(&api.broken_keyword) {
            expected_failure = expected_failure.or(Some(call.span));
        }
        let qualifier: Vec<Name> = call
            .qualifier()
            .iter()
            .map(|&q| self.index.unalias(unit, module, q))
            .collect();
        let args = self.facts(file).args(call.args);
        let farg = args.get(api.function_arg - 1)?;
        // The function's arguments follow it, and the backend when there is one.
        let first = api.function_arg.max(backend_at) as u32;
        let passes = match api.passes {
            knowledge::Passes::All => Some((first, u32::MAX)),
            knowledge::Passes::First => Some((first, 1)),
            knowledge::Passes::None => None,
        };
        let mut trail = Trail::at(file, call.span);
        let roots = self.function_values(file, call.func, farg, 0, &mut trail);
        let roots = self.narrow_roots(file, call, roots, passes, &mut trail);
        let implicit_params = args.iter().skip(api.function_arg).any(|a| {
            matches!(a, Value::Call { callee, .. } if callee.last().is_some_and(|c| c == "Params" || c == "params"))
                || matches!(a, Value::Ident(n) if self.is_params_value(file, call.func, *n))
        });
        let facts = self.facts(file);
        let label = match farg {
            Value::Func(idx) => facts.functions[*idx as usize].display_name(facts),
            Value::Ident(n) => n.to_string(),
            Value::Path(p) => p.join("."),
            _ => "the differentiated function".to_string(),
        };
        Some(Ok(Entry {
            file,
            call: ci,
            caller,
            api: Name::new(&match qualifier.last() {
                Some(q) => format!("{q}.{name}"),
                None => api.display(),
            }),
            nested: api.nested,
            roots: roots.into_iter().map(|(f, _)| f).collect(),
            label,
            implicit_params,
            passes,
            backend,
            expected_failure,
        }))
    }

    /// The `@test_throws` or `@test_broken` whose expression holds the call, if one does.
    fn expected_failure(&self, file: u32, call: &Call) -> Option<Span> {
        let tests = &self.lookups(file).failure_tests;
        if tests.is_empty() {
            return None;
        }
        // The span test first: it rules out nearly every site without reading a name.
        if let Some((span, _)) = tests.iter().find(|(s, _)| s.contains(call.span)) {
            return Some(*span);
        }
        // `y, back = pullback(f, x)` and then `@test_throws ... back(1.0)`: the failure the
        // test asserts is that of the pullback the call returned.
        let facts = self.facts(file);
        let assigned: Vec<Name> = (facts.assigns.iter())
            .filter(|a| a.func == call.func && a.span.contains(call.span))
            .map(|a| a.var)
            .collect();
        (tests.iter())
            .find(|(_, names)| assigned.iter().any(|a| names.contains(a)))
            .map(|&(span, _)| span)
    }

    fn is_params_value(&self, file: u32, func: FuncIdx, name: Name) -> bool {
        match self.lookup(file, func, name) {
            Some(Binding::Values(vs)) => vs.iter().any(|v| {
                matches!(v, Value::Call { callee, .. } if callee.last().is_some_and(|c| c == "Params" || c == "params"))
            }),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Multimap;

    #[test]
    fn a_multimap_keeps_each_keys_values_in_the_order_given() {
        let m = Multimap::new(5, vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (3, 'e')]);
        assert_eq!(m.get(0), ['d']);
        assert_eq!(m.get(1), ['b']);
        assert!(m.get(2).is_empty());
        assert_eq!(m.get(3), ['a', 'c', 'e']);
        assert!(m.get(4).is_empty());
        // Keys past the end, and the empty map, have no values.
        assert!(m.get(5).is_empty());
        assert!(Multimap::<char>::default().get(0).is_empty());
    }
}
