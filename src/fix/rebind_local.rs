//! The `rebind-local` builder: a local array written whole is bound to the new value
//! instead (`z = similar(y); z .= f.(y)` -> `z = f.(y)`), dropping the allocation when
//! nothing reads it in between.

use super::attach::Found;
use super::rebinding::{foreign_mentions, rebinding, written_name, Extent};
use super::tree::{callee_name, is_broadcast, is_harmless_read, named_children, occurrences};
use super::tree::{mentions_in_text, squeeze};
use super::tree::{FileCx, Occ};
use crate::diagnostic::{Applicability, Fix};
use crate::facts::{AssignKind, FuncIdx, FunctionKind, Span};
use crate::syntax::KindName;
use tree_sitter::{Node, Tree};

/// A local array written whole: bind the new value instead (`z = f.(y)`,
/// `z = [e(i) for i in I]`), and drop the allocation when nothing reads it in between.
///
/// Unsafe: `similar(y)` keeps `y`'s element type and `zeros(n)` is `Float64`, while the new
/// array's element type is whatever the values are (`[f(x[i]) for i in 1:n]` has the type
/// of `f`'s results, `Float32` or `Dual` or `Any` as may be; adlint cannot prove it is the
/// allocation's), and a `push!` into `Float64[]` or `[]` becomes a comprehension typed by its
/// values. Offered only when the local was made by an allocation in this function, is
/// assigned nowhere else, is not captured by a closure, nothing between the allocation and
/// the write could hold a reference to it, and the write fills it whole
/// ([`super::rebinding`]).
///
/// Safe: `z = similar(y); z .= y` and `z = similar(y); copyto!(z, y)` (or `copy!`), which
/// become `z = copy(y)`. `similar(y)` has `y`'s element type and axes, the write copies
/// every element of `y` into it unchanged, and nothing saw `z` before: `copy(y)` is the same
/// array, element for element, with the same element type and shape (for an `Array`, the
/// usual case, the same type; for a range or a lazy wrapper, `copy` keeps `y`'s own type
/// where `similar` made an `Array`, with the same elements). `similar(y, T)` is not this
/// case: its element type is `T`.
pub(super) fn build(cx: &FileCx, tree: &Tree, site: Node, func: FuncIdx, found: &mut Found) {
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
        .assigns_of(&var)
        .filter(|a| fdef.span.contains(a.span))
        .collect();
    let [def] = assigns.as_slice() else { return };
    if def.func != func || def.kind != AssignKind::Plain {
        return;
    }
    let Some(def_node) = def_node(tree, def.span) else {
        return;
    };
    let Some(alloc) = def_node.named_child(def_node.named_child_count().saturating_sub(1) as u32)
    else {
        return;
    };
    if !is_fresh(cx, alloc) {
        return;
    }
    let extent = extent_of(cx, func, &var, alloc);
    let Some(r) = rebinding(site, &var, cx.src, &extent) else {
        return;
    };
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
    let names = cx.names_in(func, scope);
    let mentions: &[Span] = names.get(&var).map_or(&[], |v| v.as_slice());
    let captured = {
        let nested = cx.nested_spans(func);
        mentions
            .iter()
            .any(|m| nested.iter().any(|s| s.contains(*m)))
    };
    if captured {
        return;
    }
    if foreign_mentions(&r, &var, cx.src, site) {
        return;
    }
    let Some(body) = def_node.parent() else {
        return;
    };
    // Between the allocation and the write: shape queries and element reads only. The
    // function's mentions say where they are; only those are looked at as nodes.
    let (from, to) = (def_node.end_byte() as u32, r.stmt.start_byte() as u32);
    let first = mentions.partition_point(|m| m.start < from);
    let between_spans: Vec<Span> = (mentions[first..].iter())
        .take_while(|m| m.start < to)
        .filter(|m| m.end <= to)
        .copied()
        .collect();
    let between: Vec<Occ> = match between_spans.is_empty() {
        true => Vec::new(),
        false => occurrences(body, &var, cx.src)
            .into_iter()
            .filter(|o| {
                o.node.start_byte() >= def_node.end_byte()
                    && o.node.end_byte() <= r.stmt.start_byte()
            })
            .collect(),
    };
    if between.iter().any(|o| !is_harmless_read(*o, cx.src)) {
        return;
    }
    let in_stmt_reads = occurrences(r.stmt, &var, cx.src).len() > 1
        || r.reads_old
        || mentions_in_text(&r.value, &var);
    let same_block = r.stmt.parent().is_some_and(|p| p.id() == body.id());
    let drop_alloc = between.is_empty() && !in_stmt_reads && same_block;
    let mut edits = Vec::new();
    if drop_alloc {
        edits.push(cx.edit(cx.statement_removal(def_node), String::new()));
    }
    edits.push(cx.edit(stmt, format!("{var} = {}", r.value)));
    // `z = similar(y); z .= y` (or `copyto!(z, y)`) is `z = copy(y)`: the same values,
    // shape and element type, and nothing else saw `z` before. That one is safe.
    let copies = match site.kind_str() {
        "compound_assignment_expression" => true,
        "call_expression" => matches!(callee_name(site, cx.src), Some("copyto!" | "copy!")),
        _ => false,
    };
    let same_as_copy = copies
        && r.value.starts_with("copy(")
        && similar_of(def_node, cx.src).is_some_and(|src_var| {
            r.value == format!("copy({src_var})")
                && !cx
                    .assigns_of(&src_var)
                    .any(|a| a.span.start > def.span.end && a.span.end <= stmt.start)
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

/// What the allocation `alloc` of `var` says of its array ([`Extent`]): the lengths of
/// `zeros(m, n)`, `Vector{T}(undef, n)`, `fill(v, n)`; the array `y` of `similar(y)`,
/// `copy(y)`, `zero(y)` (with its number of dimensions when `y` is a parameter annotated
/// with one, such as `y::AbstractVector`); or an empty vector (`T[]`, `Vector{T}()`).
pub(super) fn extent_of(cx: &FileCx, func: FuncIdx, var: &str, alloc: Node) -> Extent {
    let src = cx.src;
    let mut extent = Extent {
        like: vec![var.to_string()],
        ..Extent::default()
    };
    let annotated_ndims = |name: &str| -> Option<usize> {
        let fdef = &cx.facts.functions[func as usize];
        let p = &fdef.params[fdef.param_index(name)?];
        match crate::facts::type_family(p.annotation.as_deref()?)? {
            crate::facts::TypeFamily::Array(Some(d)) => Some(d as usize),
            _ => None,
        }
    };
    match alloc.kind_str() {
        "vector_expression" if alloc.named_child_count() == 0 => {
            extent.empty = true;
            extent.ndims = Some(1);
            return extent;
        }
        "index_expression" => {
            extent.empty = alloc
                .named_child(1)
                .is_some_and(|i| i.kind_str() == "vector_expression" && i.named_child_count() == 0);
            extent.ndims = Some(1);
            return extent;
        }
        "call_expression" => {}
        _ => return extent,
    }
    let Some(callee) = alloc.named_child(0) else {
        return extent;
    };
    let base = match callee.kind_str() {
        "parametrized_type_expression" => callee.named_child(0).unwrap_or(callee),
        _ => callee,
    };
    let name = squeeze(&src[base.byte_range()]);
    let name = name.rsplit('.').next().unwrap_or(&name).to_string();
    let args: Vec<Node> = alloc.named_child(1).map(named_children).unwrap_or_default();
    if args.iter().any(|a| {
        matches!(
            a.kind_str(),
            "splat_expression" | "assignment" | "keyword_argument"
        )
    }) {
        return extent;
    }
    let text = |n: &Node| src[n.byte_range()].to_string();
    let is_type = |n: &Node| {
        let t = text(n);
        matches!(
            n.kind_str(),
            "parametrized_type_expression" | "curly_expression"
        ) || t.starts_with("eltype(")
            || t.starts_with("typeof(")
            || t.chars().next().is_some_and(char::is_uppercase)
    };
    let dims: Vec<Node> = match name.as_str() {
        "zeros" | "ones" | "rand" | "randn" | "trues" | "falses" => {
            args.iter().copied().skip_while(|a| is_type(a)).collect()
        }
        "fill" => args.iter().copied().skip(1).collect(),
        "Vector" | "Matrix" | "Array" => {
            if args.is_empty() && name == "Vector" {
                extent.empty = true;
                extent.ndims = Some(1);
                return extent;
            }
            match args.first() {
                Some(u) if text(u) == "undef" => args.iter().copied().skip(1).collect(),
                _ => return extent,
            }
        }
        "similar" | "copy" | "zero" | "deepcopy" => {
            let Some(first) = args.first().filter(|a| a.kind_str() == "identifier") else {
                return extent;
            };
            let rest: Vec<Node> = args
                .iter()
                .copied()
                .skip(1)
                .skip_while(|a| is_type(a))
                .collect();
            if rest.is_empty() {
                let y = text(first);
                extent.ndims = annotated_ndims(&y);
                extent.like.push(y);
                return extent;
            }
            if name != "similar" {
                return extent;
            }
            rest
        }
        _ => return extent,
    };
    // `zeros(size(y))`: the axes of `y`; `zeros((m, n))`: the lengths in the tuple.
    if let [one] = dims.as_slice() {
        let t = squeeze(&text(one));
        if let Some(y) = t.strip_prefix("size(").and_then(|r| r.strip_suffix(')')) {
            if y.chars().all(|c| c.is_alphanumeric() || c == '_') {
                extent.ndims = annotated_ndims(y);
                extent.like.push(y.to_string());
            }
            return extent;
        }
        if one.kind_str() == "tuple_expression" {
            let lens: Vec<String> = named_children(*one).iter().map(text).collect();
            extent.ndims = Some(lens.len());
            extent.dims = Some(lens);
            return extent;
        }
    }
    if dims.is_empty() {
        return extent;
    }
    extent.ndims = Some(dims.len());
    extent.dims = Some(dims.iter().map(text).collect());
    extent
}

/// `y` of `z = similar(y)`.
pub(super) fn similar_of(def: Node, src: &str) -> Option<String> {
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

/// An expression that makes a new array nothing else refers to: an allocation
/// (`similar(y)`, `zeros(n)`, `Vector{T}(undef, n)`), a literal or comprehension, an empty
/// typed vector (`T[]`), or a broadcast. The allocating functions are the `[fresh]` row of
/// the knowledge tables.
pub(super) fn is_fresh(cx: &FileCx, v: Node) -> bool {
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
pub(super) fn def_node(tree: &Tree, span: Span) -> Option<Node<'_>> {
    let mut n = tree
        .root_node()
        .descendant_for_byte_range(span.start as usize, span.end as usize)?;
    while Span::of(n) != span || n.kind_str() != "assignment" {
        n = n.parent()?;
    }
    Some(n)
}
