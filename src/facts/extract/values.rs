//! Summaries of expressions: values ([`Value`]), dotted paths and macro names.

use super::Extractor;
use crate::facts::model::{Args, FunctionKind, Value};
use crate::knowledge;
use crate::name::{Name, Path};
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    /// The value of `node` as a function returns or a loop iterates it: a call of a
    /// function (lowercase by Julia's convention, unlike a constructor) keeps only its
    /// callee, which is all that following that function's returns needs (its
    /// arguments are stored with the call already); anything else its summary.
    pub(super) fn result_value(&self, node: Node) -> Value {
        let callee = (node.kind_str() == "call_expression")
            .then(|| node.child(0))
            .flatten()
            .map(|c| self.path_of(c))
            .filter(|p| p.last().is_some_and(|n| n.starts_with(char::is_lowercase)));
        match callee {
            Some(path) => Value::Call {
                callee: Path::new(&path),
                args: Args::default(),
            },
            None => self.value_of(node, 0),
        }
    }

    pub(super) fn macro_path(&self, node: Node) -> Vec<Name> {
        let mut path = Vec::new();
        for child in syntax::children(node) {
            match child.kind_str() {
                "identifier" => path.push(self.name(child)),
                "field_expression" => path.extend(self.path_of(child)),
                "macro_identifier" => {
                    let t = self.text(child);
                    // `@Zygote.adjoint` style is rare; keep the last name with its `@`.
                    let name = t.rsplit('.').next().unwrap_or(t);
                    let name = if name.starts_with('@') {
                        name.to_string()
                    } else {
                        format!("@{name}")
                    };
                    path.push(if t == "@." {
                        Name::new("@.")
                    } else {
                        Name::new(&name)
                    });
                    break;
                }
                _ => {}
            }
        }
        path
    }

    /// A dotted chain of identifiers as names; empty when the node is not one.
    pub(super) fn path_of(&self, node: Node) -> Vec<Name> {
        let mut out = Vec::new();
        let mut cur = node;
        loop {
            match cur.kind_str() {
                "identifier" | "operator" => {
                    out.push(self.name(cur));
                    break;
                }
                "field_expression" => {
                    let Some(last) =
                        cur.named_child(cur.named_child_count().saturating_sub(1) as u32)
                    else {
                        return vec![];
                    };
                    out.push(self.name(last));
                    match cur.child_by_field_name("value") {
                        Some(v) => cur = v,
                        None => return vec![],
                    }
                }
                "parametrized_type_expression" => match cur.named_child(0) {
                    Some(c) => cur = c,
                    None => return vec![],
                },
                "quote_expression" => {
                    // `Base.:+`
                    out.push(Name::new(self.text(cur).trim_start_matches(':')));
                    break;
                }
                _ => return vec![],
            }
        }
        out.reverse();
        out
    }

    pub(super) fn value_of(&self, node: Node, depth: u32) -> Value {
        match node.kind_str() {
            "boolean_literal" => Value::Bool(self.text(node) == "true"),
            "identifier" => {
                let t = self.text(node);
                if t == "nothing" {
                    Value::Nothing
                } else {
                    Value::Ident(Name::new(t))
                }
            }
            "field_expression" => {
                let p = self.path_of(node);
                if p.is_empty() {
                    Value::Other
                } else {
                    Value::Path(p.into())
                }
            }
            "call_expression" if depth < 3 => {
                let callee = node.child(0).map(|c| self.path_of(c)).unwrap_or_default();
                let mut args = Vec::new();
                if let Some(list) = syntax::call_arguments(node) {
                    if let Some(&f) = self.func_at.get(&Span::of(list)) {
                        args.push(Value::Func(f));
                    } else {
                        for a in syntax::named_children(list) {
                            if a.kind_str() != "named_argument" {
                                args.push(self.value_of(a, depth + 1));
                            }
                        }
                    }
                }
                Value::Call {
                    callee: callee.into(),
                    args: self.alloc_args(args),
                }
            }
            "arrow_function_expression" | "comprehension_expression" => {
                match self.func_at.get(&Span::of(node)) {
                    Some(&f) if node.kind_str() == "arrow_function_expression" => Value::Func(f),
                    _ => Value::Array,
                }
            }
            // `function (x) ... end`: an anonymous function (a named one defines a
            // function rather than being a value).
            "function_definition" => match self.func_at.get(&Span::of(node)) {
                Some(&f) if self.facts.functions[f as usize].kind == FunctionKind::Anonymous => {
                    Value::Func(f)
                }
                _ => Value::Other,
            },
            "vector_expression" | "matrix_expression" | "comprehension" => Value::Array,
            "tuple_expression" => Value::Tuple,
            "integer_literal" | "float_literal" => Value::Number,
            "string_literal" | "prefixed_string_literal" | "character_literal" => Value::Str,
            "parenthesized_expression" => {
                if let Some(&f) = self.func_at.get(&Span::of(node)) {
                    return Value::Func(f);
                }
                let kids = syntax::named_children(node);
                if kids.len() == 1 && depth < 8 {
                    self.value_of(kids[0], depth + 1)
                } else {
                    Value::Other
                }
            }
            "typed_expression" => node
                .child(0)
                .map(|c| self.value_of(c, depth + 1))
                .unwrap_or(Value::Other),
            "splat_expression" => node
                .named_child(0)
                .map(|c| {
                    let inner = self.value_of(c, depth + 1);
                    Value::Splat(self.alloc_args(vec![inner]))
                })
                .unwrap_or(Value::Other),
            "binary_expression" => {
                let op = node.child(1).map(|o| self.text(o)).unwrap_or("");
                if op == "∘" && depth < 6 {
                    let mut parts = Vec::new();
                    for side in [node.child(0), node.child(2)].into_iter().flatten() {
                        match self.value_of(side, depth + 1) {
                            Value::Compose(inner) => {
                                parts.extend_from_slice(&self.values.borrow()[inner.range()])
                            }
                            v => parts.push(v),
                        }
                    }
                    Value::Compose(self.alloc_args(parts))
                } else {
                    Value::Computed
                }
            }
            "unary_expression" | "broadcast_call_expression" | "range_expression" => {
                Value::Computed
            }
            "macrocall_expression" => {
                // `@compact(...) do x ... end`: the layer runs the do-block.
                let is_layer = syntax::child_of_kind(node, "macro_identifier")
                    .is_some_and(|m| knowledge::is_layer_macro(self.text(m)));
                (syntax::child_of_kind(node, "do_clause").filter(|_| is_layer))
                    .and_then(|d| self.func_at.get(&Span::of(d)))
                    .map_or(Value::Other, |&f| Value::Func(f))
            }
            "index_expression" => Value::Other,
            _ => Value::Other,
        }
    }
}

/// The calls of a literal tuple or vector of (at most 16) calls: `(AutoZygote(),
/// AutoForwardDiff())`.
pub(super) fn literal_calls(node: Node) -> Option<Vec<Node>> {
    let items = syntax::named_children(node);
    (matches!(node.kind_str(), "tuple_expression" | "vector_expression")
        && (1..=16).contains(&items.len())
        && items.iter().all(|i| i.kind_str() == "call_expression"))
    .then_some(items)
}
