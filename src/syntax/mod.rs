//! Parsing Julia with tree-sitter, the compiled queries of `queries/`, byte <-> line/column
//! conversion, and masking of known grammar quirks.
//!
//! This module knows Julia's syntax and nothing about automatic differentiation.

use std::mem::MaybeUninit;
use std::sync::OnceLock;
use tree_sitter::{Language, Node, Parser, Query, Tree};

mod lines;
mod native;
mod quirks;

pub use lines::{ColumnUnit, LineIndex, Position};
pub use quirks::{is_misparsed_not_equal, mask_quirks};

/// Stack for the threads that parse: tree-sitter's error recovery recurses once per level
/// of an unclosed nesting (`stack_node_add_link`), and 13,000 levels overflowed a worker
/// thread's default 2 MiB. The memory is reserved, not used, until a parse goes deep.
pub const PARSE_STACK: usize = 256 << 20;

/// Brackets nested deeper than this are refused before parsing (no Julia program nests
/// so deep). The parser's error recovery takes about 250 bytes of stack per unclosed
/// level: 8,222 levels overflowed a 2 MiB thread (the fuzz driver's), so the limit keeps
/// any thread's default stack safe, not only the 256 MiB ones of [`PARSE_STACK`].
pub const MAX_NESTING: usize = 2_000;

/// Whether `source` nests brackets deeper than [`MAX_NESTING`] (counted over the bytes,
/// strings and comments included: an over-estimate, never an under-estimate).
pub fn nests_too_deep(source: &str) -> bool {
    let mut depth = 0usize;
    for b in source.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return true;
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The tree-sitter language for Julia, pinned in `Cargo.toml`, with the external scanner
/// guarded against its error-mode scan (see [`scanner_guard`]).
pub fn language() -> Language {
    install_allocator();
    scanner_guard::language()
}

/// Every query file in `queries/`, by name, embedded at build time.
pub const QUERY_SOURCES: &[(&str, &str)] = &[("facts", include_str!("../../queries/facts.scm"))];

/// The facts query, compiled once per process. Extraction does not need it (compiling it
/// took half the time of checking a small package): tests use it to check the query and
/// that [`CaptureTable`] reads it as tree-sitter does.
pub fn facts_query() -> &'static Query {
    static QUERY: OnceLock<Query> = OnceLock::new();
    QUERY.get_or_init(|| {
        Query::new(&language(), QUERY_SOURCES[0].1).expect("queries/facts.scm compiles")
    })
}

/// One capture of the facts query: the node, its parent (the walk knows it for free, while
/// tree-sitter's `Node::parent` searches down from the root), and the capture's index into
/// [`CaptureTable::capture_names`].
#[derive(Clone, Copy, Debug)]
pub struct Capture<'t> {
    pub node: Node<'t>,
    pub parent: Option<Node<'t>>,
    pub index: u32,
}

/// The captures of the facts query in a subtree, in pre-order (a node with two captures
/// appears twice, in the order of its patterns).
///
/// Every pattern of `queries/facts.scm` is a single node kind (or a list of them) with a
/// capture: the file is a table of which kinds the extraction looks at. tree-sitter's query
/// engine evaluates every pattern at every node, which cost as much as parsing; this walks
/// the subtree once and looks each node's kind up in the table read from the query
/// ([`CaptureTable`]). `tests/it/quirks.rs` checks that both give the same captures.
///
/// `parent` is `node`'s parent, which the caller knows (tree-sitter's `Node::parent`
/// searches down from the root, costing as much as the statements before `node`).
pub fn facts_captures<'t>(node: Node<'t>, parent: Option<Node<'t>>) -> Vec<Capture<'t>> {
    let table = CaptureTable::facts();
    let mut out = Vec::new();
    for found in nodes_of_kinds(node, &table.wanted) {
        let n = found.node;
        let parent = found.parent.or(parent);
        let caps = &table.by_kind[n.kind_id() as usize];
        out.extend(caps.iter().map(|&index| Capture {
            node: n,
            parent,
            index,
        }));
    }
    out
}

/// A node [`nodes_of_kinds`] found, with its parent and grandparent inside the subtree
/// walked (tree-sitter's `Node::parent` searches down from the root).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found<'t> {
    pub node: Node<'t>,
    pub parent: Option<Node<'t>>,
    pub grandparent: Option<Node<'t>>,
}

/// For each node kind id, whether its name is one of `kinds`: the `wanted` of
/// [`nodes_of_kinds`].
fn kinds_table(kinds: &[&str]) -> Vec<bool> {
    let lang = language();
    (0..lang.node_kind_count() as u16)
        .map(|id| {
            lang.node_kind_for_id(id)
                .is_some_and(|k| kinds.contains(&k))
        })
        .collect()
}

/// A set of node kinds by name, as a `static`, whose [`kinds_table`] is made on first use.
pub struct KindSet {
    kinds: &'static [&'static str],
    table: OnceLock<Vec<bool>>,
}

impl KindSet {
    pub const fn new(kinds: &'static [&'static str]) -> KindSet {
        KindSet {
            kinds,
            table: OnceLock::new(),
        }
    }

    /// The nodes of these kinds in `node`'s subtree ([`nodes_of_kinds`]).
    pub fn find_in<'t>(&self, node: Node<'t>) -> Vec<Found<'t>> {
        nodes_of_kinds(node, self.table.get_or_init(|| kinds_table(self.kinds)))
    }
}

/// The nodes of `node`'s subtree (itself included) whose kind id `k` has `wanted[k]`, in
/// pre-order.
///
/// The walk runs in `src/syntax/native/children.c` and comes back only at the nodes wanted: on
/// the 4 MB bench corpus the facts query wants about one node in ten, and a walk that
/// called back per node cost a fifth of the time after parsing.
pub fn nodes_of_kinds<'t>(node: Node<'t>, wanted: &[bool]) -> Vec<Found<'t>> {
    let mut hits: Vec<native::Hit> = Vec::new();
    let wanted_len = u32::try_from(wanted.len()).unwrap_or(u32::MAX);
    // SAFETY: the walker reads `node`'s tree (alive for `'t`) and `wanted` (alive for the
    // loop); it writes at most the spare capacity it is given; it is freed once, below.
    let complete = unsafe {
        let walker = native::adlint_walker_new(node.into_raw());
        let mut complete = !walker.is_null();
        while complete {
            // Doubling: most subtrees (a top-level statement) have a few dozen hits.
            hits.reserve(hits.capacity().max(32));
            let spare = hits.spare_capacity_mut();
            let cap = u32::try_from(spare.len()).unwrap_or(u32::MAX - 1);
            let read = native::adlint_walker_next(
                walker,
                wanted.as_ptr(),
                wanted_len,
                spare.as_mut_ptr().cast::<native::Hit>(),
                cap,
            );
            if read == u32::MAX {
                complete = false;
            } else {
                hits.set_len(hits.len() + read as usize);
                // The walker fills the space it is given unless the walk is over.
                if read < cap {
                    break;
                }
            }
        }
        native::adlint_walker_free(walker);
        complete
    };
    if complete {
        // SAFETY: the walker returns nodes of `node`'s tree, and null ones only above it.
        let node_of = |raw: tree_sitter::ffi::TSNode| {
            (!raw.id.is_null()).then(|| unsafe { Node::from_raw(raw) })
        };
        return hits
            .into_iter()
            .map(|h| Found {
                // SAFETY: as above; a found node is never null.
                node: unsafe { Node::from_raw(h.node) },
                parent: node_of(h.parent),
                grandparent: node_of(h.grandparent),
            })
            .collect();
    }
    // Out of memory in the C walker: the same walk through tree-sitter's API.
    let mut out = Vec::new();
    visit_subtree(node, |n, ancestors| {
        if wanted.get(n.kind_id() as usize).copied().unwrap_or(false) {
            let mut up = ancestors.iter().rev().copied();
            out.push(Found {
                node: n,
                parent: up.next(),
                grandparent: up.next(),
            });
        }
        true
    });
    out
}

/// The first `argument_list` child of a call (`f(x)`, `f.(x)`, `m.f(x) do ... end`).
pub fn call_arguments(call: Node<'_>) -> Option<Node<'_>> {
    child_of_kind(call, "argument_list")
}

/// The first child of `node` of kind `kind`, for the children that come first (a
/// definition's `signature`, a call's `argument_list`, a macro's arguments): looked for
/// among the first few children without reading them all (a long function's definition
/// has a child per statement of its body).
pub fn child_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    const FIRST: usize = 8;
    let mut first = [const { MaybeUninit::<Node<'t>>::uninit() }; FIRST];
    let read = read_children(node, true, &mut first);
    // SAFETY: `read_children` initialised the first `n` slots.
    let first =
        read.map(|n| unsafe { std::slice::from_raw_parts(first.as_ptr().cast::<Node<'t>>(), n) });
    if let Some(first) = first {
        if let Some(&found) = first.iter().find(|c| c.kind_str() == kind) {
            return Some(found);
        }
        if first.len() < FIRST {
            return None;
        }
    }
    let skip = first.map_or(0, <[_]>::len);
    children(node)
        .into_iter()
        .skip(skip)
        .find(|c| c.kind_str() == kind)
}

/// Visit `node` and the nodes under it in pre-order with an explicit stack (no recursion,
/// so deep nesting is safe; no allocation per node): `visit(n, ancestors)` sees each node
/// with its ancestors inside the subtree (the parent last; none for `node` itself) and
/// returns whether to descend.
fn visit_subtree<'t>(node: Node<'t>, mut visit: impl FnMut(Node<'t>, &[Node<'t>]) -> bool) {
    let mut ancestors: Vec<Node<'t>> = Vec::new();
    // Nodes still to visit, last first, with their depth (their ancestors' count).
    let mut pending: Vec<(Node<'t>, usize)> = vec![(node, 0)];
    let mut kids: Vec<Node<'t>> = Vec::new();
    while let Some((n, depth)) = pending.pop() {
        ancestors.truncate(depth);
        if !visit(n, &ancestors) {
            continue;
        }
        kids.clear();
        push_children(n, true, &mut kids);
        pending.extend(kids.iter().rev().map(|&c| (c, depth + 1)));
        ancestors.push(n);
    }
}

/// [`facts_captures`] by tree-sitter's query engine, in the same order, with each capture's
/// name (for the test that the table reads the query right).
#[doc(hidden)]
pub fn facts_captures_by_query<'t>(node: Node<'t>, source: &str) -> Vec<(Node<'t>, String)> {
    use tree_sitter::StreamingIterator;
    let query = facts_query();
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut out = Vec::new();
    let mut matches = cursor.captures(query, node, source.as_bytes());
    while let Some((m, index)) = matches.next() {
        let c = m.captures()[*index];
        out.push((c.node, query.capture_names()[c.index as usize].to_string()));
    }
    out
}

/// For each node kind (by id), the captures of the facts query that a node of that kind
/// gets.
pub struct CaptureTable {
    by_kind: Vec<Vec<u32>>,
    /// Whether a kind has any capture.
    wanted: Vec<bool>,
    names: Vec<String>,
}

impl CaptureTable {
    /// The table of `queries/facts.scm`, read once per process.
    pub fn facts() -> &'static CaptureTable {
        static TABLE: OnceLock<CaptureTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            CaptureTable::read(QUERY_SOURCES[0].1)
                .unwrap_or_else(|e| panic!("queries/facts.scm: {e}"))
        })
    }

    /// The names of the captures, by the index [`facts_captures`] gives.
    pub fn capture_names(&self) -> &[String] {
        &self.names
    }

    /// Read a query made only of single-node patterns: `(kind) @capture` and
    /// `[(kind) (kind) ...] @capture`, with `;` comments. Anything else (fields, children,
    /// predicates, kinds the grammar does not have) is an error: such a pattern needs the
    /// query engine, or would not compile.
    pub fn read(source: &str) -> Result<CaptureTable, String> {
        let lang = language();
        let mut by_kind: Vec<Vec<u32>> = vec![Vec::new(); lang.node_kind_count()];
        let mut names: Vec<String> = Vec::new();
        let mut pending: Vec<&str> = Vec::new();
        let mut in_list = false;
        let mut rest = source;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            if let Some(r) = rest.strip_prefix(';') {
                rest = r.split_once('\n').map_or("", |(_, after)| after);
            } else if let Some(r) = rest.strip_prefix('[') {
                if in_list || !pending.is_empty() {
                    return Err("a list inside a pattern".into());
                }
                in_list = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix(']') {
                if !in_list {
                    return Err("`]` without `[`".into());
                }
                in_list = false;
                rest = r;
            } else if let Some(r) = rest.strip_prefix('(') {
                let (kind, after) = r.split_once(')').ok_or("`(` without `)`")?;
                let kind = kind.trim();
                if kind.is_empty() || !kind.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(format!("`({kind})` is not a single node kind"));
                }
                if !in_list && !pending.is_empty() {
                    return Err(format!("`({kind})` follows a pattern without a capture"));
                }
                pending.push(kind);
                rest = after;
            } else if let Some(r) = rest.strip_prefix('@') {
                let end = r
                    .find(|c: char| c.is_whitespace() || c == ';')
                    .unwrap_or(r.len());
                let name = &r[..end];
                if in_list || pending.is_empty() {
                    return Err(format!("`@{name}` does not follow a pattern"));
                }
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_.-".contains(c))
                {
                    return Err(format!("`@{name}` is not a capture name"));
                }
                let index = match names.iter().position(|n| n == name) {
                    Some(i) => i as u32,
                    None => {
                        names.push(name.to_string());
                        names.len() as u32 - 1
                    }
                };
                for kind in pending.drain(..) {
                    let id = lang.id_for_node_kind(kind, true);
                    if id == 0 {
                        return Err(format!("`({kind})` is not a node kind of the grammar"));
                    }
                    by_kind[id as usize].push(index);
                }
                rest = &r[end..];
            } else {
                let token: String = rest.chars().take(20).collect();
                return Err(format!("unexpected `{token}`"));
            }
        }
        if in_list || !pending.is_empty() {
            return Err("a pattern without a capture at the end".into());
        }
        let wanted = by_kind.iter().map(|caps| !caps.is_empty()).collect();
        Ok(CaptureTable {
            by_kind,
            wanted,
            names,
        })
    }
}

/// A parsed file: the tree and its error count (a clone shares the tree).
#[derive(Clone, Debug)]
pub struct Parsed {
    pub tree: Tree,
    /// Number of ERROR or MISSING nodes; zero for a clean parse.
    pub error_count: usize,
}

/// Parse Julia source. The source handed to tree-sitter is [`mask_quirks`]'s output, which
/// has the same length, so every byte offset refers to the user's text.
pub fn parse(source: &str) -> Parsed {
    let masked = mask_quirks(source);
    parse_masked(&masked)
}

/// [`parse`], for a tree that is read once and dropped: `f` gets its root and its error
/// count, and the tree's memory comes from this thread's arena (`src/syntax/native/arena.c`),
/// taken back at once when `f` returns instead of freed node by node. What `f` returns
/// cannot hold the tree (nodes borrow it). On the 20 MB bench corpus, parsing this way
/// took 3.8 s instead of 4.5 s (one thread).
pub fn with_transient_parse<R>(source: &str, f: impl FnOnce(Node<'_>, usize) -> R) -> R {
    // Made before the scope, so that nothing made once per process lands in the arena.
    drop(language());
    /// Leaves the scope on every way out, after the tree is gone.
    struct Scope(native::ArenaMark);
    impl Drop for Scope {
        fn drop(&mut self) {
            // SAFETY: entered below on this thread; scopes nest as the stack does.
            unsafe { native::adlint_arena_leave(self.0) }
        }
    }
    // SAFETY: left by `Scope` on this thread, after everything allocated in it is dropped
    // or forgotten (the tree is a local of this frame and does not escape: `f` sees only
    // nodes, which borrow it).
    let scope = Scope(unsafe { native::adlint_arena_enter() });
    let parsed = parse(source);
    // Only the parse allocates in the arena: while `f` runs, this thread may run other
    // work (rayon's), which must not allocate what it keeps there.
    // SAFETY: a switch of this thread's arena.
    unsafe { native::adlint_arena_pause() };
    let out = f(parsed.tree.root_node(), parsed.error_count);
    // SAFETY: reading the arena's counter.
    if unsafe { native::adlint_arena_spilled_since(scope.0) } {
        // Some of it came from malloc: free that, node by node.
        drop(parsed);
    } else {
        // All of it is in the arena, which `scope` takes back.
        std::mem::forget(parsed);
    }
    drop(scope);
    out
}

/// Gives back to the system the memory [`with_transient_parse`] keeps between parses, once
/// a pass of them is over.
pub fn release_parse_memory() {
    // SAFETY: frees only chunks no scope holds.
    unsafe { native::adlint_arena_trim() }
}

/// How many blocks [`with_transient_parse`] on this thread took from malloc instead of its
/// arena (for tests).
#[doc(hidden)]
pub fn parse_memory_spills() -> u64 {
    // SAFETY: reads this thread's counter.
    unsafe { native::adlint_arena_spills() }
}

/// Makes tree-sitter allocate through `src/syntax/native/arena.c` (malloc and free, unless a
/// [`with_transient_parse`] is running on the thread). Called before any parser or
/// language is made, so that every tree-sitter call happens after it.
fn install_allocator() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: the functions behave as malloc, calloc, realloc and free for every
        // pointer they did not hand out inside a scope; a block from before this call is
        // not in any arena and goes to libc.
        unsafe {
            tree_sitter::set_allocator(Some(tree_sitter::Allocator {
                malloc: native::adlint_ts_malloc,
                calloc: native::adlint_ts_calloc,
                realloc: native::adlint_ts_realloc,
                free: native::adlint_ts_free,
            }))
        }
    });
}

/// A node's kind by table: tree-sitter's `Node::kind` measures and checks the C string
/// of the name on every call, and facts ask every node's kind several times.
pub trait KindName {
    fn kind_str(&self) -> &'static str;
}

impl KindName for Node<'_> {
    fn kind_str(&self) -> &'static str {
        // The grammar's kinds by id, then the ERROR kind (id `u16::MAX`, outside the table).
        static NAMES: OnceLock<Vec<String>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            let lang = language();
            (0..lang.node_kind_count() as u16)
                .chain([u16::MAX])
                .map(|id| lang.node_kind_for_id(id).unwrap_or("").to_string())
                .collect()
        });
        let id = self.kind_id() as usize;
        match names.get(id) {
            Some(name) if id + 1 < names.len() => name,
            _ => &names[names.len() - 1],
        }
    }
}

/// A parser for Julia.
fn new_parser() -> Parser {
    install_allocator();
    let mut parser = Parser::new();
    parser
        .set_language(&language())
        .expect("tree-sitter-julia matches the tree-sitter ABI");
    parser
}

/// Run `f` with this thread's parser, set to Julia and the whole document. Making a parser
/// costs as much as parsing a short statement, and the fix builders parse thousands of
/// them. Whole files get a new parser: one that has parsed other files parses a file
/// about a tenth slower (measured on the bench corpus; the reason is inside tree-sitter).
fn with_parser<R>(f: impl FnOnce(&mut Parser) -> R) -> R {
    thread_local! {
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    PARSER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            // Taken out while in use: a panic inside `f` leaves no parser behind in an
            // unknown state.
            let mut parser = slot.take().unwrap_or_else(new_parser);
            drop(slot);
            parser
                .set_included_ranges(&[])
                .expect("the whole document is a valid range");
            let out = f(&mut parser);
            *cell.borrow_mut() = Some(parser);
            out
        }
        Err(_) => f(&mut new_parser()),
    })
}

fn parse_masked(masked: &str) -> Parsed {
    if nests_too_deep(masked) {
        return too_deep();
    }
    let tree = new_parser()
        .parse(masked, None)
        .expect("parsing without a timeout or cancellation always yields a tree");
    let error_count = count_errors(&tree);
    Parsed { tree, error_count }
}

/// The parse of a text nested deeper than [`MAX_NESTING`]: an empty tree, counted as one
/// syntax error (the file's reader says why; the parser would overflow its stack).
fn too_deep() -> Parsed {
    let tree = new_parser()
        .parse("", None)
        .expect("parsing without a timeout or cancellation always yields a tree");
    Parsed {
        tree,
        error_count: 1,
    }
}

/// Parse only `range` of `source` (one top-level statement, say), keeping every byte offset
/// and position those of the whole file: the rest of the file is never read. The range is
/// masked as [`parse`] masks a file.
pub fn parse_range(source: &str, lines: &LineIndex, range: std::ops::Range<usize>) -> Parsed {
    let masked = mask_quirks(&source[range.clone()]);
    if nests_too_deep(&masked) {
        return too_deep();
    }
    let bytes = masked.as_bytes();
    let point = |byte: usize| {
        let line = lines.line_of(byte);
        tree_sitter::Point::new(line, byte - lines.line_start(line))
    };
    let run = |parser: &mut Parser| {
        parser
            .set_included_ranges(&[tree_sitter::Range {
                start_byte: range.start,
                end_byte: range.end,
                start_point: point(range.start),
                end_point: point(range.end),
            }])
            .expect("a single range is always valid");
        parser.parse_with_options(
            &mut |offset, _| match offset.checked_sub(range.start) {
                Some(i) if offset < range.end => &bytes[i..],
                _ => &[][..],
            },
            None,
            None,
        )
    };
    let tree =
        with_parser(run).expect("parsing without a timeout or cancellation always yields a tree");
    let error_count = count_errors(&tree);
    Parsed { tree, error_count }
}

/// Re-parse after edits, reusing an old tree (the LSP's incremental path).
pub fn reparse(source: &str, old: &Tree) -> Parsed {
    let masked = mask_quirks(source);
    if nests_too_deep(&masked) {
        return too_deep();
    }
    let tree = new_parser()
        .parse(masked.as_bytes(), Some(old))
        .expect("parsing without a timeout or cancellation always yields a tree");
    let error_count = count_errors(&tree);
    Parsed { tree, error_count }
}

/// Visit every node in pre-order with an explicit cursor (no recursion, so deep nesting is
/// safe): `visit(cursor, depth)` sees the cursor on each node (for its field name) and
/// returns whether to descend into the node's children.
pub fn walk_preorder<'t>(
    tree: &'t Tree,
    mut visit: impl FnMut(&tree_sitter::TreeCursor<'t>, usize) -> bool,
) {
    let mut cursor = tree.walk();
    let mut depth = 0;
    loop {
        if visit(&cursor, depth) && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
            depth -= 1;
        }
    }
}

/// Every node of a tree in pre-order, one line each: kind, byte range, and whether it is
/// missing. Two trees with the same outline are the same parse (the LSP tests compare an
/// incrementally edited tree with a fresh one this way).
pub fn outline(tree: &Tree) -> String {
    let mut out = String::new();
    walk_preorder(tree, |cursor, _| {
        let n = cursor.node();
        let missing = if n.is_missing() { " missing" } else { "" };
        out.push_str(&format!(
            "{} {}..{}{missing}\n",
            n.kind(),
            n.start_byte(),
            n.end_byte()
        ));
        true
    });
    out
}

/// Where the first ERROR or MISSING node under `node` starts, following the children that
/// hold one (a walk as deep as the tree, not as wide).
pub fn first_error(node: Node<'_>) -> Option<usize> {
    if !node.has_error() {
        return None;
    }
    let mut node = node;
    loop {
        if node.is_error() || node.is_missing() {
            return Some(node.start_byte());
        }
        match children(node).into_iter().find(|c| c.has_error()) {
            Some(child) => node = child,
            None => return Some(node.start_byte()),
        }
    }
}

fn count_errors(tree: &Tree) -> usize {
    let mut count = 0;
    walk_preorder(tree, |cursor, _| {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        node.has_error()
    });
    count
}

/// The text of a node.
pub fn text<'s>(node: Node, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// Named children of a node, collected (tree-sitter's iterator borrows a cursor).
pub fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    push_children(node, false, &mut out);
    out
}

/// Children including anonymous tokens.
pub fn children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    push_children(node, true, &mut out);
    out
}

/// Appends the children of `node` to `out` in order: all of them when `anonymous`, else
/// the named ones; the nodes `Node::child(i)` or `Node::named_child(i)` return.
fn push_children<'t>(node: Node<'t>, anonymous: bool, out: &mut Vec<Node<'t>>) {
    let count = if anonymous {
        node.child_count() as usize
    } else {
        node.named_child_count()
    };
    if count == 0 {
        return;
    }
    out.reserve(count);
    let len = out.len();
    match read_children(node, anonymous, &mut out.spare_capacity_mut()[..count]) {
        // SAFETY: `read_children` initialised the first `n` slots after `len`.
        Some(n) => unsafe { out.set_len(len + n) },
        None => push_children_by_cursor(node, anonymous, out),
    }
}

/// [`push_children`] through tree-sitter's API, for what the one-pass reader leaves.
fn push_children_by_cursor<'t>(node: Node<'t>, anonymous: bool, out: &mut Vec<Node<'t>>) {
    let mut cursor = node.walk();
    if anonymous {
        out.extend(node.children(&mut cursor));
    } else {
        out.extend(node.named_children(&mut cursor));
    }
}

/// Reads the first `out.len()` children of `node` (only the named ones unless `anonymous`)
/// into `out` in one pass and returns how many there were (the first that many slots are
/// initialised); `None` when tree-sitter must be asked instead (hidden nodes nested past
/// what the reader handles).
///
/// `Node::child(i)` steps from the first child on every call (so reading n children costs
/// n²/2 steps), and a tree cursor's step costs several hundred instructions; this reads
/// tree-sitter's subtree arrays directly (`src/syntax/native/children.c`). On the 4 MB bench
/// corpus, reading children took 1.5 G of 15.3 G instructions before it.
fn read_children<'t>(
    node: Node<'t>,
    anonymous: bool,
    out: &mut [MaybeUninit<Node<'t>>],
) -> Option<usize> {
    let cap = u32::try_from(out.len()).unwrap_or(u32::MAX - 1);
    // SAFETY: `Node` is `#[repr(transparent)]` over `ffi::TSNode`; the C side writes at
    // most `cap` nodes of `node`'s own tree (which `'t` keeps alive) into `out` and reads
    // the tree only.
    let read = unsafe {
        native::adlint_node_children(
            node.into_raw(),
            anonymous,
            out.as_mut_ptr().cast::<tree_sitter::ffi::TSNode>(),
            cap,
        )
    };
    (read != u32::MAX).then_some(read as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_nested_past_the_limit_is_not_parsed_even_on_a_small_stack() {
        let deep = format!("usin{}{}", "\"".repeat(12), "(1, ".repeat(13_220));
        assert!(nests_too_deep(&deep));
        assert!(!nests_too_deep(&"(1, ".repeat(MAX_NESTING)));
        assert!(!nests_too_deep(&"(x)".repeat(100_000)));
        // The fuzz driver's inputs overflowed a 2 MiB worker stack inside tree-sitter:
        // refused past the limit, and parsed within it, on such a stack.
        let at_limit = format!("usin{}{}", "\"".repeat(12), "(1, ".repeat(MAX_NESTING));
        let (refused, parsed) = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || (parse(&deep).error_count, parse(&at_limit).error_count))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(refused, 1);
        // Parsed (its many errors counted), not refused and not overflowed.
        assert!(parsed > 1, "{parsed}");
    }

    #[test]
    fn children_are_tree_sitters_with_few_or_many() {
        let src =
            "f(a, b; c = 1)\ng(x) = [1, 2, 3, 4, 5]\ny = (z -> z^2).(v)\nfunction h(\n  a, = )\n\
                   v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]\n\
                   k(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q; r = 1, s = 2)\n\
                   s = \"é $(x) ∂\" # ü\nx[1] .= @. y^2 + 1\n";
        let parsed = parse(src);
        let (mut few, mut many) = (0, 0);
        walk_preorder(&parsed.tree, |cursor, _| {
            let node = cursor.node();
            let mut c = node.walk();
            assert_eq!(children(node), node.children(&mut c).collect::<Vec<_>>());
            // Each child as `Node::child(i)` gives it: the same position and alias.
            for (i, kid) in children(node).into_iter().enumerate() {
                let theirs = node.child(i as u32).unwrap();
                assert_eq!(
                    (kid, kid.start_position(), kid.kind()),
                    (theirs, theirs.start_position(), theirs.kind())
                );
            }
            // The first child of each kind, among the first children or later ones.
            for kid in children(node) {
                let first = children(node)
                    .into_iter()
                    .find(|k| k.kind_str() == kid.kind_str());
                assert_eq!(child_of_kind(node, kid.kind_str()), first);
            }
            assert_eq!(child_of_kind(node, "no_such_kind"), None);
            assert_eq!(
                named_children(node),
                node.named_children(&mut c).collect::<Vec<_>>()
            );
            for anonymous in [true, false] {
                let (mut fast, mut slow) = (vec![node], vec![node]);
                push_children(node, anonymous, &mut fast);
                push_children_by_cursor(node, anonymous, &mut slow);
                assert_eq!(fast, slow);
            }
            match node.child_count() {
                1..=8 => few += 1,
                0 => {}
                _ => many += 1,
            }
            true
        });
        assert!(
            few > 5 && many >= 2,
            "{few} nodes with few children, {many} with many"
        );
        // A wanted-kinds walk stops where a full walk finds those kinds, with their parents.
        let root = parsed.tree.root_node();
        for wanted_kinds in [
            &["identifier"][..],
            &["call_expression", "argument_list", "source_file"],
            &[],
        ] {
            // The table has every id of the name (the grammar has two `identifier`s).
            let wanted = kinds_table(wanted_kinds);
            for k in wanted_kinds {
                assert!(wanted[language().id_for_node_kind(k, true) as usize]);
            }
            let mut expected = Vec::new();
            visit_subtree(root, |n, ancestors| {
                if wanted_kinds.contains(&n.kind()) {
                    let mut up = ancestors.iter().rev().copied();
                    expected.push(Found {
                        node: n,
                        parent: up.next(),
                        grandparent: up.next(),
                    });
                }
                true
            });
            assert_eq!(nodes_of_kinds(root, &wanted), expected);
            assert_eq!(expected.is_empty(), wanted_kinds.is_empty());
        }
        // The stack walk visits what the cursor walk visits, in the same order, with the
        // same ancestors.
        let key = |n: Node| (n.kind_id(), n.byte_range());
        let mut by_cursor = Vec::new();
        let mut path = Vec::new();
        walk_preorder(&parsed.tree, |cursor, depth| {
            path.truncate(depth);
            by_cursor.push((key(cursor.node()), path.clone()));
            path.push(key(cursor.node()));
            true
        });
        let mut by_stack = Vec::new();
        visit_subtree(parsed.tree.root_node(), |n, ancestors| {
            by_stack.push((
                key(n),
                ancestors.iter().map(|&a| key(a)).collect::<Vec<_>>(),
            ));
            true
        });
        assert_eq!(by_stack, by_cursor);
    }

    #[test]
    fn kind_str_is_the_node_kind() {
        // Every kind of a file with errors and missing nodes.
        let src = "module M\nf(x) = x[1] .+ 2\nfunction g(\n  a, = )\ny = [1 2; 3 4]'\n@m begin end\n\u{0}) end";
        let parsed = parse(src);
        assert!(parsed.error_count > 0);
        let mut seen = 0;
        walk_preorder(&parsed.tree, |cursor, _| {
            let node = cursor.node();
            assert_eq!(node.kind_str(), node.kind(), "{node:?}");
            seen += 1;
            true
        });
        assert!(seen > 30, "{seen} nodes");
    }

    #[test]
    fn positions_count_chars_and_utf16() {
        let src = "a = 1\nθ = \"😀\" * x\n";
        let idx = LineIndex::new(src);
        let x = src.find('x').unwrap();
        assert_eq!(
            idx.position(src, x),
            Position {
                line: 1,
                column: 10
            }
        );
        assert_eq!(idx.utf16_column(src, x), (1, 11));
        assert_eq!(idx.offset(src, 1, 11, ColumnUnit::Utf16), x);
        assert_eq!(idx.offset(src, 1, 10, ColumnUnit::Chars), x);
        assert_eq!(idx.offset(src, 9, 0, ColumnUnit::Chars), src.len());
    }

    #[test]
    fn const_field_is_masked_with_same_length() {
        let src = "mutable struct S\n    const a::Int\n    b\nend\nconst K = 1\n";
        let masked = mask_quirks(src);
        assert_eq!(masked.len(), src.len());
        assert!(masked.contains("          a::Int"));
        assert!(masked.contains("const K = 1"));
    }
}

/// A guard around tree-sitter-julia 0.23.1's external scanner.
///
/// When one version of the GLR parse stack meets a token it cannot shift (which happens in
/// perfectly valid files, wherever the grammar keeps two readings alive for a while, such as
/// after `4f0 * sum(...)`), tree-sitter lexes that position again in *error mode*, offering
/// every external token. The grammar's scanner then tries a block comment's rest first and,
/// finding no `=#`, consumes the whole remainder of the file before it gives up. That is a
/// scan to the end of the file for every dying stack version: measured on the bench corpus,
/// three quarters of all lexing. The guard hands the scanner, in error mode only, the set of
/// tokens that cannot run away (the zero-width `IMMEDIATE_*` checks). Outside error mode
/// nothing changes; in error mode the old scanner could only ever return a block comment
/// reaching some later `=#` (its string-content scans start where the comment scan
/// stopped, at that `=#` or at the end of the file), which on a dying version is
/// discarded anyway and on a real error swallows code into a comment.
///
/// This copies the grammar's `TSLanguage` (ABI 14, the layout of `tree_sitter/parser.h` in
/// tree-sitter-julia 0.23.1) and swaps its scan function. If the grammar ever changes ABI or
/// external tokens, the guard steps aside and the language is used as shipped.
mod scanner_guard {
    use std::ffi::c_void;
    use std::sync::OnceLock;
    use tree_sitter::Language;

    type ScanFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *const bool) -> bool;

    /// `struct TSLanguage` of ABI 14.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct RawLanguage {
        version: u32,
        symbol_count: u32,
        alias_count: u32,
        token_count: u32,
        external_token_count: u32,
        state_count: u32,
        large_state_count: u32,
        production_id_count: u32,
        field_count: u32,
        max_alias_sequence_length: u16,
        /// `parse_table` through `lex_modes`.
        tables: [*const c_void; 13],
        lex_fn: *const c_void,
        keyword_lex_fn: *const c_void,
        keyword_capture_token: u16,
        external_states: *const bool,
        external_symbol_map: *const u16,
        external_create: *const c_void,
        external_destroy: *const c_void,
        external_scan: Option<ScanFn>,
        external_serialize: *const c_void,
        external_deserialize: *const c_void,
        primary_state_ids: *const u16,
    }

    /// The patched copy. It only holds pointers into the grammar's static tables.
    struct Patched(RawLanguage);
    // SAFETY: every pointer in it refers to immutable static data or functions of the
    // grammar, which tree-sitter reads from any thread.
    unsafe impl Send for Patched {}
    unsafe impl Sync for Patched {}

    /// The scanner's tokens (`enum TokenType` in the grammar's `scanner.c`).
    const EXTERNAL_TOKENS: usize = 16;
    const BLOCK_COMMENT_REST: usize = 0;
    const IMMEDIATE_FIRST: usize = 1;
    const IMMEDIATE_LAST: usize = 5;
    const CONTENT_STR_1: usize = 10;
    /// What error mode may still scan: the zero-width immediate tokens.
    const ERROR_MODE_TOKENS: [bool; EXTERNAL_TOKENS] = {
        let mut v = [false; EXTERNAL_TOKENS];
        let mut i = IMMEDIATE_FIRST;
        while i <= IMMEDIATE_LAST {
            v[i] = true;
            i += 1;
        }
        v
    };

    static ORIGINAL_SCAN: OnceLock<ScanFn> = OnceLock::new();
    static PATCHED: OnceLock<Option<Patched>> = OnceLock::new();

    /// Whether tree-sitter is lexing in error mode: only then are a block comment's rest
    /// and string content valid at the same time.
    fn is_error_mode(valid: &[bool]) -> bool {
        valid[BLOCK_COMMENT_REST] && valid[CONTENT_STR_1]
    }

    unsafe extern "C" fn guarded_scan(
        payload: *mut c_void,
        lexer: *mut c_void,
        valid: *const bool,
    ) -> bool {
        let original = ORIGINAL_SCAN
            .get()
            .expect("set before the language is handed out");
        // SAFETY: tree-sitter passes one flag per external token of this language.
        let flags = unsafe { std::slice::from_raw_parts(valid, EXTERNAL_TOKENS) };
        let valid = if is_error_mode(flags) {
            ERROR_MODE_TOKENS.as_ptr()
        } else {
            valid
        };
        // SAFETY: the grammar's own scan function, called as tree-sitter would call it.
        unsafe { original(payload, lexer, valid) }
    }

    fn patch() -> Option<Patched> {
        // SAFETY: the grammar's language function returns a pointer to its static
        // `TSLanguage`; its version field says which layout follows.
        let raw = unsafe { (tree_sitter_julia::LANGUAGE.into_raw())() } as *const RawLanguage;
        let original = unsafe { *raw };
        if original.version != 14 || original.external_token_count as usize != EXTERNAL_TOKENS {
            return None;
        }
        let scan = original.external_scan?;
        ORIGINAL_SCAN.get_or_init(|| scan);
        let mut patched = original;
        patched.external_scan = Some(guarded_scan);
        Some(Patched(patched))
    }

    unsafe extern "C" fn patched_language() -> *const () {
        match PATCHED.get_or_init(patch) {
            Some(p) => &p.0 as *const RawLanguage as *const (),
            None => unsafe { (tree_sitter_julia::LANGUAGE.into_raw())() },
        }
    }

    /// The guarded language (or the shipped one if the layout is not the expected one).
    pub fn language() -> Language {
        // SAFETY: `patched_language` returns a valid `TSLanguage` for the process's life.
        unsafe { tree_sitter_language::LanguageFn::from_raw(patched_language) }.into()
    }

    /// Whether the guard is in effect (a test keeps it so).
    pub fn active() -> bool {
        PATCHED.get_or_init(patch).is_some()
    }

    /// The language as the grammar ships it, without the guard.
    pub fn shipped_language() -> Language {
        tree_sitter_julia::LANGUAGE.into()
    }
}

/// Whether the external-scanner guard is in effect (see `scanner_guard`).
pub fn scanner_guard_active() -> bool {
    scanner_guard::active()
}

/// tree-sitter-julia as shipped, without the scanner guard: for tests that compare the two.
#[doc(hidden)]
pub fn shipped_language() -> Language {
    scanner_guard::shipped_language()
}
