//! Variables: assignments (plain, updating, destructuring, of fields and indices), loop
//! and `let` bindings, and the reads of names inside closures (for captures).

use super::values::literal_calls;
use super::{Extractor, ScopeStack};
use crate::facts::model::{
    Assign, AssignKind, FuncIdx, FunctionKind, Site, SiteKind, Value, VarRef,
};
use crate::name::Name;
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    /// For `x[...]` the indexed object; for a plain name the name itself.
    pub(super) fn assign_target(&self, lhs: Node) -> (Option<Value>, bool) {
        match lhs.kind_str() {
            "index_expression" => (lhs.child(0).map(|c| self.value_of(c, 1)), true),
            "identifier" | "field_expression" => (Some(self.value_of(lhs, 1)), false),
            _ => (None, false),
        }
    }

    fn is_inside_macro_dot(&self, node: Node) -> bool {
        // The `@.` handler records the broadcast; the plain assignment inside must not.
        self.dot_macro_args.contains(&Span::of(node))
    }

    pub(super) fn record_assign(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
        if syntax::is_misparsed_not_equal(node, self.src) {
            return;
        }
        // Short function definitions are definitions, not assignments.
        if self.func_at.contains_key(&Span::of(node)) {
            return;
        }
        let Some(lhs) = node.child(0) else { return };
        let Some(rhs) = node.named_child(node.named_child_count().saturating_sub(1) as u32) else {
            return;
        };
        if rhs.id() == lhs.id() {
            return;
        }
        if self.is_inside_macro_dot(node) {
            return;
        }
        let value = self.value_of(rhs, 0);
        let span = Span::of(node);
        match lhs.kind_str() {
            "identifier" => {
                self.push_assign(func, self.text(lhs), value, AssignKind::Plain, span, scopes);
            }
            "typed_expression" => {
                if let Some(id) = lhs.child(0).filter(|c| c.kind_str() == "identifier") {
                    self.push_assign(func, self.text(id), value, AssignKind::Plain, span, scopes);
                }
            }
            "index_expression" => self.push_index_assign(lhs, func, "=".into(), span),
            "field_expression" => self.push_field_assign(lhs, func, span),
            "open_tuple" | "tuple_expression" | "parenthesized_expression" => {
                self.destructure(lhs, func, span, scopes);
            }
            _ => {}
        }
    }

    fn destructure(&mut self, lhs: Node, func: FuncIdx, span: Span, scopes: &ScopeStack) {
        let mut stack = vec![lhs];
        while let Some(n) = stack.pop() {
            for item in syntax::named_children(n) {
                match item.kind_str() {
                    "identifier" => self.push_assign(
                        func,
                        self.text(item),
                        Value::Other,
                        AssignKind::Destructure,
                        span,
                        scopes,
                    ),
                    "field_expression" => self.push_field_assign(item, func, span),
                    "index_expression" => {
                        if let Some(target) = item.child(0).map(|c| self.value_of(c, 1)) {
                            self.facts.sites.push(Site {
                                func,
                                kind: SiteKind::IndexAssign {
                                    target,
                                    op: "=".into(),
                                    empty_index: false,
                                },
                                span: Span::of(item),
                            });
                        }
                    }
                    "tuple_expression" | "parenthesized_expression" | "open_tuple" => {
                        stack.push(item)
                    }
                    "typed_expression" => {
                        if let Some(id) = item.child(0).filter(|c| c.kind_str() == "identifier") {
                            self.push_assign(
                                func,
                                self.text(id),
                                Value::Other,
                                AssignKind::Destructure,
                                span,
                                scopes,
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// `x[i] op= v`: an index-assignment site on what `x` is.
    fn push_index_assign(&mut self, lhs: Node, func: FuncIdx, op: Name, span: Span) {
        let empty_index = (lhs.named_child(1)).is_some_and(|i| i.named_child_count() == 0);
        if let Some(target) = lhs.child(0).map(|c| self.value_of(c, 1)) {
            self.facts.sites.push(Site {
                func,
                kind: SiteKind::IndexAssign {
                    target,
                    op,
                    empty_index,
                },
                span,
            });
        }
    }

    /// `x .op= v` (also `x[i] .= v` and inside `@.`): a broadcast-assignment site.
    pub(super) fn push_broadcast_assign(&mut self, lhs: Node, func: FuncIdx, op: Name, span: Span) {
        let (target, indexed) = self.assign_target(lhs);
        if let Some(target) = target {
            self.facts.sites.push(Site {
                func,
                kind: SiteKind::BroadcastAssign {
                    target,
                    op,
                    indexed,
                },
                span,
            });
        }
    }

    fn push_field_assign(&mut self, lhs: Node, func: FuncIdx, span: Span) {
        let Some(object) = lhs.child_by_field_name("value") else {
            return;
        };
        let field = lhs
            .named_child(lhs.named_child_count().saturating_sub(1) as u32)
            .map(|f| self.name(f))
            .unwrap_or_default();
        self.facts.sites.push(Site {
            func,
            kind: SiteKind::FieldAssign {
                object: self.value_of(object, 1),
                field,
            },
            span,
        });
    }

    fn push_assign(
        &mut self,
        func: FuncIdx,
        var: &str,
        value: Value,
        kind: AssignKind,
        span: Span,
        scopes: &ScopeStack,
    ) {
        let (block, in_loop) = scopes.block_of(func, &self.facts.functions[func as usize]);
        self.facts.assigns.push(Assign {
            func,
            var: Name::new(var),
            value,
            kind,
            span,
            block,
            in_loop,
        });
    }

    pub(super) fn record_update(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
        if self.is_inside_macro_dot(node) {
            return;
        }
        let Some(lhs) = node.child(0) else { return };
        let op = node.child(1).map(|o| self.name(o)).unwrap_or_default();
        let span = Span::of(node);
        if op.starts_with('.') {
            self.push_broadcast_assign(lhs, func, op, span);
            return;
        }
        match lhs.kind_str() {
            "identifier" => {
                self.push_assign(
                    func,
                    self.text(lhs),
                    Value::Computed,
                    AssignKind::Update,
                    span,
                    scopes,
                );
            }
            "index_expression" => self.push_index_assign(lhs, func, op, span),
            "field_expression" => self.push_field_assign(lhs, func, span),
            _ => {}
        }
    }

    pub(super) fn record_loop_binding(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
        let Some(lhs) = node.child(0) else { return };
        let span = Span::of(node);
        match lhs.kind_str() {
            "identifier" => {
                // `for b in (AutoZygote(), AutoForwardDiff())`: over a literal list of calls
                // the variable takes each of them; over a call's result, an element of it
                // (`for b in backends()`); otherwise its value is not followed.
                let collection = (node
                    .named_child(node.named_child_count().saturating_sub(1) as u32))
                .filter(|c| c.id() != lhs.id());
                let values = match collection {
                    Some(c) => match literal_calls(c) {
                        Some(items) => items.into_iter().map(|i| self.value_of(i, 0)).collect(),
                        None if c.kind_str() == "call_expression" => {
                            let v = self.result_value(c);
                            vec![Value::Element(self.alloc_args(vec![v]))]
                        }
                        None => vec![Value::Other],
                    },
                    None => vec![Value::Other],
                };
                for value in values {
                    self.push_assign(func, self.text(lhs), value, AssignKind::Loop, span, scopes);
                }
            }
            _ => {
                let mut stack = vec![lhs];
                while let Some(n) = stack.pop() {
                    for c in syntax::named_children(n) {
                        if c.kind_str() == "identifier" {
                            self.push_assign(
                                func,
                                self.text(c),
                                Value::Other,
                                AssignKind::Loop,
                                span,
                                scopes,
                            );
                        } else {
                            stack.push(c);
                        }
                    }
                }
            }
        }
    }

    pub(super) fn record_let_binding(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
        // `let x = x` is handled as an assignment inside the binding; `let x` alone declares.
        if let Some(id) = node.child(0).filter(|c| c.kind_str() == "identifier") {
            if node.named_child_count() == 1 {
                self.push_assign(
                    func,
                    self.text(id),
                    Value::Nothing,
                    AssignKind::Let,
                    Span::of(node),
                    scopes,
                );
            } else if let Some(rhs) = node.named_child(node.named_child_count() as u32 - 1) {
                let value = self.value_of(rhs, 0);
                self.push_assign(
                    func,
                    self.text(id),
                    value,
                    AssignKind::Let,
                    Span::of(node),
                    scopes,
                );
            }
        }
    }

    pub(super) fn record_ref(&mut self, node: Node, parent: Option<Node>, mut func: FuncIdx) {
        // `[f(x) for x in xs]` reads `xs` before its closure runs: a read of the code
        // around it.
        while let Some(it) = self.outer_iterable.get(&func) {
            if !it.contains(Span::of(node)) {
                break;
            }
            match self.facts.functions[func as usize].parent.get() {
                Some(p) => func = p,
                None => break,
            }
        }
        // Only closures' reads matter (captures); skip names that are not variable reads.
        let f = &self.facts.functions[func as usize];
        if !f.kind.is_closure()
            && f.parent
                .get()
                .is_none_or(|p| self.facts.functions[p as usize].kind == FunctionKind::TopLevel)
        {
            return;
        }
        let Some(parent) = parent else { return };
        match parent.kind_str() {
            "field_expression" if parent.child_by_field_name("value") != Some(node) => return,
            "named_argument" if parent.child(0) == Some(node) => return,
            "macro_identifier" | "import_path" | "selected_import" | "quote_expression" => return,
            "typed_expression" | "unary_typed_expression" if parent.child(0) != Some(node) => {
                return
            }
            "assignment" | "compound_assignment_expression" | "for_binding" | "let_binding"
                if parent.child(0) == Some(node)
                    && parent.kind_str() != "compound_assignment_expression" =>
            {
                return
            }
            _ => {}
        }
        self.facts.refs.push(VarRef {
            func,
            name: self.name(node),
            span: Span::of(node),
        });
    }
}
