//! Recognising a write that can become a binding, shared by [`super::rebind_local`] and
//! [`super::non_mutating_variant`]: `var .= e`, `var .op= e`, a loop nest that fills every
//! element (`var[i, j] = e(i, j)`), a loop of `push!(var, e)` into an empty vector, or a
//! loop that computes temporaries before its one write (a `map` do-block).
//!
//! A rewrite is offered only when it provably computes the same array as the writes did,
//! whenever the original ran without error:
//!
//! - **Every element.** The loops run over exactly the array's axes ([`Extent`]): `1:n` for
//!   `zeros(n)`, `eachindex(z)`, `axes(z, 1)`, `1:length(z)`, `eachindex(y)` for
//!   `z = similar(y)`. A partial range (`1:n-1`, `2:n`) would leave the other elements as
//!   they were allocated; it is refused.
//! - **Each element once, at its own place.** The written index is the bare loop
//!   variable (`z[i]`, never `z[i+1]` or `z[2i]`), one per dimension.
//! - **The same shape.** A matrix stays a matrix: nested loops over the axes become a
//!   comprehension with one iterator per dimension; a single loop over all the elements
//!   of an array whose dimensions are not known to be one (`eachindex(z)` of
//!   `z = similar(y)`) becomes `reshape([e for i in eachindex(z)], size(y))`, because the
//!   comprehension over a linear index range alone is a vector.
//! - **The same order of effects.** A reversed range (`n:-1:1`) fills the same elements
//!   and becomes the forward range (the array is the same), and a comprehension runs its
//!   first iterator fastest, unlike the loops `for i in I, j in J`; both are refused when
//!   the value draws random numbers or prints ([`ORDER_SENSITIVE`]), whose results depend
//!   on the order of the calls.

use super::tree::is_harmless_read;
use super::tree::squeeze;
use super::tree::{callee_name, is_broadcast, mentions, named_children, occurrences, paren};
use crate::facts::Span;
use crate::syntax::KindName;
use tree_sitter::Node;

/// How a statement that writes every element of `var` becomes a binding of a new array.
pub(super) struct Rebinding<'t> {
    /// The statement replaced (the assignment, or the outermost loop).
    pub(super) stmt: Node<'t>,
    /// `var = <value>`'s right-hand side.
    pub(super) value: String,
    /// Nodes inside `stmt` that may mention `var` without making the rewrite wrong
    /// (the loop iterators); every other mention is refused.
    pub(super) allowed_reads: Vec<Node<'t>>,
    /// The rewrite reads the old value of `var` (`z .+= v`, `z .= f.(z)`).
    pub(super) reads_old: bool,
}

/// What is known of the array a write fills, from its allocation or its annotation: the
/// lengths of its dimensions, the arrays with its axes, whether it starts empty.
#[derive(Debug, Default, Clone)]
pub(super) struct Extent {
    /// The lengths of its dimensions as written in the allocation (`zeros(m, n)`: `m`,
    /// `n`), when it states them.
    pub(super) dims: Option<Vec<String>>,
    /// Its number of dimensions, when known (from `dims`, or from an annotation such as
    /// `AbstractVector` of the array it copies).
    pub(super) ndims: Option<usize>,
    /// The arrays that have its axes: itself, and `y` of `z = similar(y)`.
    pub(super) like: Vec<String>,
    /// It starts with no elements (`T[]`, `[]`, `Vector{T}()`): the only start from which
    /// a `push!` loop makes what a comprehension makes.
    pub(super) empty: bool,
}

/// Calls whose results or effects depend on the order in which they run: a rewrite that
/// changes the order of evaluation is refused when the value calls one.
pub(super) const ORDER_SENSITIVE: &[&str] = &[
    "rand",
    "randn",
    "randexp",
    "randperm",
    "randcycle",
    "randsubseq",
    "shuffle",
    "sample",
    "print",
    "println",
    "printstyled",
    "display",
    "show",
    "write",
    "time",
    "time_ns",
];

/// Whether evaluating `n` calls one of [`ORDER_SENSITIVE`].
pub(super) fn order_sensitive(n: Node, src: &str) -> bool {
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        if matches!(
            n.kind_str(),
            "call_expression" | "broadcast_call_expression"
        ) && callee_name(n, src).is_some_and(|c| ORDER_SENSITIVE.contains(&c))
        {
            return true;
        }
        stack.extend(crate::syntax::children(n));
    }
    false
}

/// Recognise a write into `var` at `site` that can become a binding: `var .= e`,
/// `var .op= e`, a loop nest whose only statement is `var[i, j] = e(i, j)`, or a loop nest
/// whose only statement is `push!(var, e)` (possibly under one `if`). `extent` is what is
/// known of `var`'s array; the rewrite must keep its shape (see the module's doc).
pub(super) fn rebinding<'t>(
    site: Node<'t>,
    var: &str,
    src: &str,
    extent: &Extent,
) -> Option<Rebinding<'t>> {
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
            // `z .= e` broadcasts `e` to `z`'s axes; `z = e` has `e`'s own, which are the
            // same only when an operand has `z`'s axes (`z .= 2 .* v` with a shorter `v`
            // repeats it; `z = 2 .* v` would not).
            if op == ".="
                && !broadcast_operands(rhs, src)
                    .iter()
                    .any(|o| extent.like.contains(o))
            {
                return None;
            }
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
        "assignment" => fill_loop(site, var, src, extent),
        "call_expression" => match callee_name(site, src) {
            Some("copyto!" | "copy!") => copy_call(site, var, src, extent),
            _ => push_loop(site, var, src, extent),
        },
        _ => None,
    }
}

/// The loops around `stmt` in which each body is exactly the next statement, innermost
/// last; with the filter of an `if` directly around `stmt` (no `else`).
pub(super) fn enclosing_loops<'t>(
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
pub(super) fn loop_bindings<'t>(loops: &[Node<'t>], src: &str) -> Option<Vec<(String, Node<'t>)>> {
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

/// `for i in I, j in J; var[i, j] = e; end` -> `[e for i in I, j in J]`, when the loops
/// cover exactly `var`'s axes (see the module's doc).
pub(super) fn fill_loop<'t>(
    site: Node<'t>,
    var: &str,
    src: &str,
    extent: &Extent,
) -> Option<Rebinding<'t>> {
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
    let index_list = lhs.named_child(1)?;
    // The written index is the bare loop variable, one per dimension: `z[i + 1]`,
    // `z[2i]` or `z[i, 1]` write other elements than the comprehension would make.
    let indices: Vec<&str> = named_children(index_list)
        .into_iter()
        .map(|i| (i.kind_str() == "identifier").then(|| &src[i.byte_range()]))
        .collect::<Option<_>>()?;
    let Some((loops, _)) = enclosing_loops(site, false) else {
        let [index] = indices[..] else {
            return None;
        };
        return map_do(site, rhs, index, var, src, extent);
    };
    let bindings = loop_bindings(&loops, src)?;
    if mentions(rhs, var, src) || has_effect(rhs, src) {
        return None;
    }
    let c = cover(&bindings, &indices, extent, src)?;
    if c.reordered && order_sensitive(rhs, src) {
        return None;
    }
    let iters: Vec<String> = (c.iters.iter())
        .map(|(v, it)| format!("{v} in {it}"))
        .collect();
    let comprehension = format!("[{} for {}]", &src[rhs.byte_range()], iters.join(", "));
    Some(Rebinding {
        stmt: loops[0],
        value: c.reshaped(comprehension),
        allowed_reads: bindings.iter().map(|(_, it)| *it).collect(),
        reads_old: false,
    })
}

/// `copyto!(var, y)` or `copy!(var, y)` -> `copy(y)`, when `y` has `var`'s axes (`var`
/// made by `similar(y)`): every element is copied, none is left as allocated.
fn copy_call<'t>(site: Node<'t>, var: &str, src: &str, extent: &Extent) -> Option<Rebinding<'t>> {
    let args = named_children(site.named_child(1)?);
    let [dest, from] = args.as_slice() else {
        return None;
    };
    let from_name = &src[from.byte_range()];
    if dest.kind_str() != "identifier"
        || &src[dest.byte_range()] != var
        || from.kind_str() != "identifier"
        || from_name == var
        || !extent.like.iter().any(|l| l == from_name)
    {
        return None;
    }
    Some(Rebinding {
        stmt: site,
        value: format!("copy({from_name})"),
        allowed_reads: Vec::new(),
        reads_old: false,
    })
}

/// How a loop nest covers the array it fills: the comprehension's iterators in index
/// order, and the shape to restore.
pub(super) struct Cover {
    /// `(variable, iterator)` in index order: dimension k comes from iterator k.
    pub(super) iters: Vec<(String, String)>,
    /// The dimensions to reshape the comprehension to (`size(y)`, `m, n`), when a single
    /// linear loop fills an array not known to be a vector.
    pub(super) reshape: Option<String>,
    /// The comprehension evaluates the elements in another order than the loops did.
    pub(super) reordered: bool,
}

impl Cover {
    pub(super) fn reshaped(&self, value: String) -> String {
        match &self.reshape {
            Some(dims) => format!("reshape({value}, {dims})"),
            None => value,
        }
    }
}

/// Whether the loops (`bindings`, outermost first) with the written `indices` (in
/// dimension order) visit every element of the array of `extent` exactly once.
pub(super) fn cover(
    bindings: &[(String, Node)],
    indices: &[&str],
    extent: &Extent,
    src: &str,
) -> Option<Cover> {
    if indices.len() != bindings.len() {
        return None;
    }
    let mut ordered = Vec::new();
    for idx in indices {
        let (name, iter) = bindings.iter().find(|(v, _)| v == idx)?;
        ordered.push((name.clone(), *iter));
    }
    let mut names: Vec<&str> = indices.to_vec();
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
    if let [(v, it)] = ordered.as_slice() {
        let text = &src[it.byte_range()];
        if extent.ndims == Some(1) {
            if let Some((t, reversed)) = exact_dim(text, 0, extent) {
                return Some(Cover {
                    iters: vec![(v.clone(), t)],
                    reshape: None,
                    reordered: reversed,
                });
            }
        }
        if !all_linear(text, extent) {
            return None;
        }
        let reshape = match extent.ndims {
            Some(1) => None,
            _ => Some(shape_of(extent)?),
        };
        return Some(Cover {
            iters: vec![(v.clone(), text.to_string())],
            reshape,
            reordered: false,
        });
    }
    if extent.ndims != Some(indices.len()) {
        return None;
    }
    let mut iters = Vec::new();
    let mut reordered = false;
    for (k, (v, it)) in ordered.iter().enumerate() {
        let (t, reversed) = exact_dim(&src[it.byte_range()], k, extent)?;
        reordered |= reversed;
        iters.push((v.clone(), t));
    }
    // The loops run the innermost variable fastest; the comprehension its first iterator.
    let loop_order: Vec<&str> = bindings.iter().rev().map(|(v, _)| v.as_str()).collect();
    reordered |= loop_order != indices;
    Some(Cover {
        iters,
        reshape: None,
        reordered,
    })
}

/// The expressions known to equal the length of dimension `k` (from 0) of the array.
fn lengths(k: usize, extent: &Extent) -> Vec<String> {
    let mut out: Vec<String> = (extent.dims.iter())
        .filter_map(|d| d.get(k))
        .map(|d| squeeze(d))
        .collect();
    for a in &extent.like {
        out.push(format!("size({a},{})", k + 1));
        if extent.ndims == Some(1) {
            out.push(format!("length({a})"));
        }
    }
    out
}

/// An iterator over exactly the indices of dimension `k` of the array, as the text the
/// comprehension uses and whether the loop ran it backwards (`n:-1:1` becomes `1:n`).
fn exact_dim(iter: &str, k: usize, extent: &Extent) -> Option<(String, bool)> {
    let t = squeeze(iter);
    if let Some(inner) = t.strip_prefix("reverse(").and_then(|r| r.strip_suffix(')')) {
        let (fwd, reversed) = exact_dim(inner, k, extent)?;
        return (!reversed).then_some((fwd, true));
    }
    let lengths = lengths(k, extent);
    for l in &lengths {
        if t == format!("1:{l}") || t == format!("OneTo({l})") {
            return Some((iter.to_string(), false));
        }
        if t == format!("{l}:-1:1") {
            let written = iter.split(':').next().unwrap_or(l).trim();
            return Some((format!("1:{written}"), true));
        }
    }
    for a in &extent.like {
        if t == format!("axes({a},{})", k + 1) {
            return Some((iter.to_string(), false));
        }
    }
    if k == 0 && extent.ndims == Some(1) {
        let args = call_args(&t, "eachindex")?;
        let covers = args
            .iter()
            .any(|a| extent.like.contains(a) || lengths.contains(&format!("length({a})")));
        return covers.then(|| (iter.to_string(), false));
    }
    None
}

/// An iterator over every element of the array, whatever its number of dimensions:
/// `eachindex(z)`, `eachindex(y)` of `z = similar(y)`, `1:length(z)`.
fn all_linear(iter: &str, extent: &Extent) -> bool {
    let t = squeeze(iter);
    if let Some(args) = call_args(&t, "eachindex") {
        return args.iter().any(|a| extent.like.contains(a));
    }
    extent
        .like
        .iter()
        .any(|a| t == format!("1:length({a})") || t == format!("OneTo(length({a}))"))
}

/// The arguments of `name(a, b)` in squeezed text, when they are plain names.
fn call_args(t: &str, name: &str) -> Option<Vec<String>> {
    let inner = t.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')?;
    let args: Vec<String> = inner.split(',').map(str::to_string).collect();
    args.iter()
        .all(|a| !a.is_empty() && a.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then_some(args)
}

/// The dimensions of the array, for `reshape`: `m, n` as allocated, or `size(y)` of an
/// array with its axes (the last named: the one it was made like, else itself).
fn shape_of(extent: &Extent) -> Option<String> {
    match &extent.dims {
        Some(d) => Some(d.join(", ")),
        None => extent.like.last().map(|a| format!("size({a})")),
    }
}

/// Whether a loop iterates a vector, so that a comprehension over it is a vector too: a
/// range (`1:n`, `a:h:b`), `axes(x, k)`, `Base.OneTo(n)`.
fn iterates_a_vector(iter: Node, src: &str) -> bool {
    let t = squeeze(&src[iter.byte_range()]);
    iter.kind_str() == "range_expression"
        || t.starts_with("OneTo(")
        || (t.starts_with("axes(") && t.contains(','))
}

/// `for x in xs; if c; push!(var, e); end; end` -> `[e for x in xs if c]`, when `var`
/// starts empty. A single loop over something not known to be a vector (a matrix, say)
/// gets `vec`: `push!` makes a vector, a comprehension the shape of what it iterates.
pub(super) fn push_loop<'t>(
    site: Node<'t>,
    var: &str,
    src: &str,
    extent: &Extent,
) -> Option<Rebinding<'t>> {
    if callee_name(site, src) != Some("push!") || !extent.empty {
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
        return map_do(site, value, "", var, src, extent);
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
    if let [(_, it)] = bindings.as_slice() {
        if filter.is_none() && !iterates_a_vector(*it, src) {
            text = format!("vec({text})");
        }
    }
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
/// written index (empty for `push!`), which must be the loop variable; the loop must
/// cover the array like [`fill_loop`]'s, or start from an empty one for `push!`.
pub(super) fn map_do<'t>(
    site: Node<'t>,
    value: Node<'t>,
    index: &str,
    var: &str,
    src: &str,
    extent: &Extent,
) -> Option<Rebinding<'t>> {
    let the_loop = site.parent().filter(|p| p.kind_str() == "for_statement")?;
    let bindings = loop_bindings(&[the_loop], src)?;
    let [(loop_var, iter)] = bindings.as_slice() else {
        return None;
    };
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
    let (iter_text, wrap): (String, Box<dyn Fn(String) -> String>) = if index.is_empty() {
        if !extent.empty {
            return None;
        }
        let vector = iterates_a_vector(*iter, src);
        (
            src[iter.byte_range()].to_string(),
            Box::new(move |t| if vector { t } else { format!("vec({t})") }),
        )
    } else {
        let c = cover(&bindings, &[index], extent, src)?;
        let reordered = c.reordered
            && (temps.iter().any(|t| order_sensitive(*t, src)) || order_sensitive(value, src));
        if reordered {
            return None;
        }
        let iter_text = c.iters[0].1.clone();
        (iter_text, Box::new(move |t| c.reshaped(t)))
    };
    let indent = indent_of(src, the_loop.start_byte());
    let inner = indent_of(src, temps[0].start_byte());
    let mut text = format!("map({iter_text}) do {loop_var}\n");
    for t in temps {
        text.push_str(&format!("{inner}{}\n", &src[t.byte_range()]));
    }
    text.push_str(&format!("{inner}{}\n{indent}end", &src[value.byte_range()]));
    Some(Rebinding {
        stmt: the_loop,
        value: wrap(text),
        allowed_reads: vec![*iter],
        reads_old: false,
    })
}

/// The names a broadcast combines element by element: `y` and `v` of `2 .* y .+ f.(v)`
/// (not those inside a non-dotted call such as `sum(y)`).
pub(super) fn broadcast_operands(n: Node, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        match n.kind_str() {
            "identifier" => out.push(src[n.byte_range()].to_string()),
            "parenthesized_expression" => stack.extend(named_children(n)),
            "binary_expression" | "unary_expression" if is_broadcast(n, src) => stack.extend(
                named_children(n)
                    .into_iter()
                    .filter(|c| c.kind_str() != "operator"),
            ),
            "broadcast_call_expression" => {
                if let Some(args) = n.named_child(1) {
                    stack.extend(named_children(args));
                }
            }
            _ => {}
        }
    }
    out
}

pub(super) fn indent_of(src: &str, byte: usize) -> &str {
    let line_start = src[..byte].rfind('\n').map_or(0, |i| i + 1);
    let rest = &src[line_start..];
    let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..len]
}

/// A call to a `!` function or an assignment inside an expression: evaluating it has an
/// effect that a comprehension would reorder.
pub(super) fn has_effect(n: Node, src: &str) -> bool {
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
pub(super) fn foreign_mentions(r: &Rebinding, var: &str, src: &str, site: Node) -> bool {
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

/// The name an array write targets: `z` of `z .= e`, `z[i] = e`, `push!(z, e)`.
pub(super) fn written_name(site: Node, src: &str) -> Option<String> {
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
