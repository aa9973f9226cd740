//! Calls, broadcast calls and macro calls (with the entry APIs run by a macro, and
//! `@.`'s assignments), and the `include`s among calls.

use super::values::literal_calls;
use super::Extractor;
use crate::facts::model::{Args, Call, FuncIdx, Include, KwArgs, Site, SiteKind, Value};
use crate::name::Name;
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    pub(super) fn record_call(&mut self, node: Node, func: FuncIdx, broadcast: bool) {
        let Some(callee_node) = node.child(0) else {
            return;
        };
        debug_assert_eq!(callee_node.start_byte(), node.start_byte());
        let (callee, adjoint) = if callee_node.kind_str() == "adjoint_expression" {
            (
                callee_node
                    .named_child(0)
                    .map(|c| self.path_of(c))
                    .unwrap_or_default(),
                true,
            )
        } else {
            (self.path_of(callee_node), false)
        };
        let call = CallShape {
            callee,
            adjoint,
            broadcast,
            callee_node,
            list_keywords: false,
        };
        self.record_call_as(node, func, call);
    }

    /// Record `node` as a call of `call.callee`: a call expression, or a macro call that
    /// runs an entry API (`@test_gradients(f, x; broken_backends = [...])`).
    fn record_call_as(&mut self, node: Node, func: FuncIdx, call: CallShape) {
        let CallShape {
            callee,
            adjoint,
            broadcast,
            callee_node,
            list_keywords,
        } = call;
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let mut has_splat = false;
        let kids = syntax::named_children(node);
        if let Some(do_clause) = kids.iter().find(|c| c.kind_str() == "do_clause") {
            if let Some(&f) = self.func_at.get(&Span::of(*do_clause)) {
                args.push(Value::Func(f));
            }
        }
        if let Some(list) = kids.iter().find(|c| c.kind_str() == "argument_list") {
            if let Some(&f) = self.func_at.get(&Span::of(*list)) {
                // `sum(f(x) for x in xs)`: the generator is the one argument.
                args.push(Value::Func(f));
            } else {
                let mut after_semicolon = false;
                for a in syntax::children(*list) {
                    match a.kind_str() {
                        ";" => after_semicolon = true,
                        _ if !a.is_named() => {}
                        "named_argument" => {
                            let name = a.child(0).map(|n| self.name(n)).unwrap_or_default();
                            let value_node =
                                a.named_child(a.named_child_count().saturating_sub(1) as u32);
                            // A list of backends (`broken_backends = [AutoZygote()]`): the
                            // keyword once per element.
                            match value_node.and_then(literal_calls).filter(|_| list_keywords) {
                                Some(items) => {
                                    for i in items {
                                        kwargs.push((name, self.value_of(i, 1)));
                                    }
                                }
                                None => {
                                    let value = value_node
                                        .map(|v| self.value_of(v, 1))
                                        .unwrap_or(Value::Other);
                                    kwargs.push((name, value));
                                }
                            }
                        }
                        _ if after_semicolon => {
                            // `f(x; y)`: keyword shorthand.
                            kwargs.push((self.name(a), self.value_of(a, 1)));
                        }
                        "splat_expression" => {
                            has_splat = true;
                            args.push(self.value_of(a, 1));
                        }
                        _ => args.push(self.value_of(a, 1)),
                    }
                }
            }
        }
        self.facts.calls.push(Call {
            func,
            callee: callee.into(),
            adjoint,
            broadcast,
            args: self.alloc_args(args),
            kwargs: KwArgs(Args::append(&mut self.facts.keywords, kwargs)),
            has_splat,
            span: Span::of(node),
            // A call starts with its callee (the grammar has nothing before it; the test
            // suite's debug builds check it on every corpus).
            callee_end: callee_node.end_byte() as u32,
        });
        if callee_node.kind_str() == "identifier" && self.text(callee_node) == "include" {
            if let Some(path) = kids
                .iter()
                .find(|c| c.kind_str() == "argument_list")
                .and_then(|l| l.named_child(0))
                .filter(|s| s.kind_str() == "string_literal")
                .and_then(|s| {
                    let kids = syntax::named_children(s);
                    (kids.len() == 1 && kids[0].kind_str() == "content")
                        .then(|| self.text(kids[0]).to_string())
                })
            {
                self.facts.includes.push(Include {
                    module: self.module_of(node.start_byte() as u32),
                    path,
                    span: Span::of(node),
                });
            }
        }
    }

    pub(super) fn record_macro(&mut self, node: Node, func: FuncIdx) {
        let path = self.macro_path(node);
        if path.is_empty() {
            return;
        }
        // `@test_gradients(f, x; kw...)`: a macro that runs an entry API is its call too.
        let entry =
            (path.last()).is_some_and(|m| crate::knowledge::builtin().is_entry_api_name(*m));
        if entry && syntax::child_of_kind(node, "argument_list").is_some() {
            if let Some(callee_node) = node.child(0) {
                let call = CallShape {
                    callee: path.clone(),
                    adjoint: false,
                    broadcast: false,
                    callee_node,
                    list_keywords: true,
                };
                self.record_call_as(node, func, call);
            }
        }
        let is_dot = path.last().is_some_and(|p| p == "@.");
        self.facts.sites.push(Site {
            func,
            kind: SiteKind::Macro { path: path.into() },
            span: Span::of(node),
        });
        if is_dot {
            // `@. x = y + 1` is `x .= y .+ 1`.
            if let Some(args) = syntax::child_of_kind(node, "macro_argument_list") {
                if let Some(inner) = args.named_child(0) {
                    self.dot_macro_args.insert(Span::of(inner));
                    if matches!(
                        inner.kind_str(),
                        "assignment" | "compound_assignment_expression"
                    ) && !syntax::is_misparsed_not_equal(inner, self.src)
                    {
                        if let Some(lhs) = inner.child(0) {
                            let op = inner.child(1).map(|o| self.text(o)).unwrap_or("=");
                            let op = Name::new(&format!(".{op}"));
                            self.push_broadcast_assign(lhs, func, op, Span::of(node));
                        }
                    }
                }
            }
        }
    }
}

/// What [`Extractor::record_call_as`] records a node as.
struct CallShape<'t> {
    callee: Vec<Name>,
    adjoint: bool,
    broadcast: bool,
    callee_node: Node<'t>,
    /// Keyword arguments given a literal list of calls are recorded once per element.
    list_keywords: bool,
}
