//! Recognising a write that can become a binding, shared by [`super::rebind_local`] and
//! [`super::non_mutating_variant`]: `var .= e`, `var .op= e`, a loop nest that fills every
//! element (`var[i, j] = e(i, j)`), a loop of `push!(var, e)`, or a loop that computes
//! temporaries before its one write (a `map` do-block).

use super::tree::is_harmless_read;
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

/// Recognise a write into `var` at `site` that can become a binding: `var .= e`,
/// `var .op= e`, a loop nest whose only statement is `var[i, j] = e(i, j)`, or a loop nest
/// whose only statement is `push!(var, e)` (possibly under one `if`).
pub(super) fn rebinding<'t>(site: Node<'t>, var: &str, src: &str) -> Option<Rebinding<'t>> {
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

/// `for i in I, j in J; var[i, j] = e; end` -> `[e for i in I, j in J]`.
pub(super) fn fill_loop<'t>(site: Node<'t>, var: &str, src: &str) -> Option<Rebinding<'t>> {
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
pub(super) fn push_loop<'t>(site: Node<'t>, var: &str, src: &str) -> Option<Rebinding<'t>> {
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
pub(super) fn map_do<'t>(
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
