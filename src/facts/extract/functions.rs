//! Function definitions (named, short, functor, anonymous, do-blocks, comprehensions):
//! their parameters, the defaults of those, and what they return.

use super::values::literal_calls;
use super::{Cap, Extractor, ScopeStack};
use crate::facts::model::{
    Args, Assign, AssignKind, FuncIdx, Function, FunctionKind, Param, Value,
};
use crate::facts::types::base_type_name;
use crate::knowledge::{self, MacroClass};
use crate::name::{List, Name, Path};
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    pub(super) fn push_function(
        &mut self,
        node_span: Span,
        mut f: Function,
        scopes: &mut ScopeStack,
    ) {
        f.parent = Some(scopes.current_func()).into();
        f.module = self.module_of(node_span.start).into();
        let idx = self.facts.functions.len() as FuncIdx;
        self.facts.functions.push(f);
        self.func_at.insert(node_span, idx);
        scopes.funcs.push((node_span.end, idx));
    }

    pub(super) fn define_function(&mut self, node: Node, cap: Cap, scopes: &mut ScopeStack) {
        if cap == Cap::Short && syntax::is_misparsed_not_equal(node, self.src) {
            return;
        }
        let enclosing_macro = scopes.current_macro(&self.facts);
        let span = Span::of(node);
        let mut f = Function {
            kind: FunctionKind::Anonymous,
            head: span,
            in_macro: enclosing_macro,
            ..Function::top_level(span)
        };
        match cap {
            Cap::Function | Cap::Short => {
                return self.define_method(node, cap, f, enclosing_macro, scopes);
            }
            Cap::Lambda => {
                f.kind = FunctionKind::Anonymous;
                if let Some(params) = node.child(0) {
                    f.signature = Span::of(params);
                    match params.kind_str() {
                        "argument_list" | "tuple_expression" => self.read_params(params, &mut f),
                        _ => f.params = List::new(&[self.param_of(params)]),
                    }
                }
                if let Some(arrow) = syntax::children(node)
                    .into_iter()
                    .find(|c| c.kind_str() == "->")
                {
                    f.head = Span::of(arrow);
                }
            }
            Cap::Do => {
                f.kind = FunctionKind::DoBlock;
                let kids = syntax::children(node);
                if let Some(kw) = kids.iter().find(|c| c.kind_str() == "do") {
                    f.head = Span::of(*kw);
                }
                if let Some(params) = kids.iter().find(|c| c.kind_str() == "argument_list") {
                    f.signature = Span::of(*params);
                    self.read_params(*params, &mut f);
                }
            }
            Cap::Comprehension => {
                f.kind = FunctionKind::Comprehension;
                let iterable = syntax::child_of_kind(node, "for_clause")
                    .and_then(|c| syntax::child_of_kind(c, "for_binding"))
                    .and_then(|b| b.named_child(b.named_child_count().saturating_sub(1) as u32));
                if let Some(it) = iterable {
                    self.outer_iterable
                        .insert(self.facts.functions.len() as FuncIdx, Span::of(it));
                }
            }
            _ => return,
        }
        self.push_function(span, f, scopes);
    }

    /// A definition by signature (`function f(x) ... end`, `f(x) = ...`, a functor's
    /// `(m::T)(x) = ...`, a rule), or `function (x, y) ... end`, which is anonymous.
    fn define_method(
        &mut self,
        node: Node,
        cap: Cap,
        mut f: Function,
        enclosing_macro: Option<Name>,
        scopes: &mut ScopeStack,
    ) {
        let span = Span::of(node);
        let sig_call = if cap == Cap::Function {
            let Some(sig) = syntax::child_of_kind(node, "signature") else {
                return;
            };
            f.signature = Span::of(sig);
            find_signature_call(sig)
        } else {
            let lhs = node.child(0).expect("pattern guarantees a child");
            f.signature = Span::of(lhs);
            find_signature_call(lhs)
        };
        let Some(call) = sig_call else {
            // `function (x, y) ... end`: an anonymous function.
            let tuple = (syntax::child_of_kind(node, "signature"))
                .and_then(|sig| sig.named_child(0))
                .filter(|t| {
                    matches!(
                        t.kind_str(),
                        "tuple_expression" | "parenthesized_expression" | "argument_list"
                    )
                });
            if let (Cap::Function, Some(tuple)) = (cap, tuple) {
                if tuple.kind_str() == "parenthesized_expression" {
                    if let Some(only) = tuple.named_child(0) {
                        let p = self.param_of(only);
                        f.params = List::new(&[p]);
                    }
                } else {
                    self.read_params(tuple, &mut f);
                }
                f.kind = FunctionKind::Anonymous;
                self.push_function(span, f, scopes);
                return;
            }
            // `function f end` or an unusual signature: still a named definition.
            if cap == Cap::Function {
                if let Some(sig) = syntax::child_of_kind(node, "signature") {
                    if let Some(id) = first_identifier(sig) {
                        f.kind = FunctionKind::Named;
                        f.name = Some(self.name(id));
                        f.head = Span::of(id);
                        self.push_function(span, f, scopes);
                    }
                }
            }
            return;
        };
        let callee = call.child(0).expect("a call has a callee");
        if let Some(args) = call
            .child_by_field_name("arguments")
            .or_else(|| syntax::call_arguments(call))
        {
            self.read_params(args, &mut f);
        }
        match callee.kind_str() {
            "parenthesized_expression" => {
                // `(m::T)(x) = ...`: a functor method.
                let inner = syntax::named_children(callee);
                let ty = inner.first().and_then(|t| {
                    if t.kind_str() == "typed_expression"
                        || t.kind_str() == "unary_typed_expression"
                    {
                        t.named_child(t.named_child_count().saturating_sub(1) as u32)
                    } else {
                        None
                    }
                });
                let Some(ty) = ty else { return };
                let type_name = Name::new(&base_type_name(self.text(ty)));
                let self_name = inner
                    .first()
                    .filter(|t| t.kind_str() == "typed_expression")
                    .and_then(|t| t.child(0))
                    .filter(|n| n.kind_str() == "identifier")
                    .map(|n| self.name(n));
                f.kind = FunctionKind::Functor {
                    type_name,
                    self_name,
                };
                f.name = Some(type_name);
                f.head = Span::of(callee);
            }
            _ => {
                let path = self.path_of(callee);
                let Some((name, qual)) = path.split_last() else {
                    return;
                };
                f.kind = FunctionKind::Named;
                f.name = Some(*name);
                f.qualifier = Path::new(qual);
                f.head = Span::of(callee);
            }
        }
        let is_rule_macro = enclosing_macro.as_deref().is_some_and(|m| {
            matches!(
                knowledge::macro_class(m),
                MacroClass::Escape(knowledge::EscapeMacro::Adjoint)
            )
        });
        if is_rule_macro {
            f.kind = FunctionKind::RuleBody;
        }
        self.note_rule_definition(&mut f);
        self.push_function(span, f, scopes);
    }

    pub(super) fn read_params(&self, list: Node, f: &mut Function) {
        let mut params = f.params.to_vec();
        let mut kwparams = f.kwparams.to_vec();
        self.read_params_into(list, &mut params, &mut kwparams);
        f.params = List::new(&params);
        f.kwparams = Path::new(&kwparams);
    }

    fn read_params_into(&self, list: Node, params: &mut Vec<Param>, kwparams: &mut Vec<Name>) {
        let mut after_semicolon = false;
        for child in syntax::children(list) {
            match child.kind_str() {
                ";" => after_semicolon = true,
                "(" | ")" | "," => {}
                _ if !child.is_named() => {}
                "named_argument" if !after_semicolon => {
                    // A positional parameter with a default: `y=1`.
                    let mut p = self.param_of(child.child(0).unwrap_or(child));
                    p.has_default = true;
                    params.push(p);
                }
                "keyword_parameters" => {
                    for kw in syntax::named_children(child) {
                        if let Some(n) = self.param_of(kw).name {
                            kwparams.push(n);
                        }
                    }
                }
                _ if after_semicolon => {
                    let target = if child.kind_str() == "named_argument" {
                        child.child(0).unwrap_or(child)
                    } else {
                        child
                    };
                    if let Some(n) = self.param_of(target).name {
                        kwparams.push(n);
                    }
                }
                _ => params.push(self.param_of(child)),
            }
        }
    }

    fn param_of(&self, node: Node) -> Param {
        match node.kind_str() {
            "identifier" => Param {
                name: Some(self.name(node)),
                annotation: None,
                has_default: false,
                vararg: false,
            },
            "typed_expression" => {
                let name = node
                    .child(0)
                    .filter(|c| c.kind_str() == "identifier")
                    .map(|c| self.name(c));
                let ann = node
                    .named_child(node.named_child_count().saturating_sub(1) as u32)
                    .map(|c| self.name(c));
                Param {
                    name,
                    annotation: ann,
                    has_default: false,
                    vararg: false,
                }
            }
            "unary_typed_expression" => Param {
                name: None,
                annotation: node.named_child(0).map(|c| self.name(c)),
                has_default: false,
                vararg: false,
            },
            "splat_expression" => {
                let mut p = node
                    .named_child(0)
                    .map(|c| self.param_of(c))
                    .unwrap_or(Param {
                        name: None,
                        annotation: None,
                        has_default: false,
                        vararg: false,
                    });
                p.vararg = true;
                p
            }
            "named_argument" => {
                let mut p = self.param_of(node.child(0).unwrap_or(node));
                p.has_default = true;
                p
            }
            _ => Param {
                // A destructured parameter such as `(x, y)`: positional, unnamed.
                name: None,
                annotation: None,
                has_default: false,
                vararg: false,
            },
        }
    }

    /// The default values of the parameters of the function defined at `node`, as
    /// assignments of kind [`AssignKind::Default`] in that function.
    pub(super) fn record_defaults(&mut self, node: Node, short: bool) {
        let Some(&func) = self.func_at.get(&Span::of(node)) else {
            return;
        };
        let sig = match short {
            true => node.child(0),
            false => syntax::child_of_kind(node, "signature"),
        };
        let Some(call) = sig.and_then(find_signature_call) else {
            return;
        };
        let Some(list) = call
            .child_by_field_name("arguments")
            .or_else(|| syntax::call_arguments(call))
        else {
            return;
        };
        let mut with_default: Vec<Node> = Vec::new();
        for child in syntax::named_children(list) {
            match child.kind_str() {
                "named_argument" => with_default.push(child),
                "keyword_parameters" => with_default.extend(
                    syntax::named_children(child)
                        .into_iter()
                        .filter(|k| k.kind_str() == "named_argument"),
                ),
                _ => {}
            }
        }
        for arg in with_default {
            let (Some(target), Some(value)) = (
                arg.child(0),
                arg.named_child(arg.named_child_count().saturating_sub(1) as u32),
            ) else {
                continue;
            };
            let Some(name) = self.param_of(target).name else {
                continue;
            };
            // Kept: a constructor's value (`AutoZygote()`) or a name; a function's result
            // (`rng = default_rng()`) or a literal says nothing adlint follows.
            let constructor = value.kind_str() == "call_expression"
                && (value.child(0))
                    .map(|c| self.path_of(c))
                    .is_some_and(|p| p.last().is_some_and(|n| n.starts_with(char::is_uppercase)));
            if !(constructor
                || matches!(
                    value.kind_str(),
                    "identifier" | "field_expression" | "boolean_literal"
                ))
            {
                continue;
            }
            let value = self.value_of(value, 0);
            if matches!(
                value,
                Value::Call { .. } | Value::Ident(_) | Value::Path(_) | Value::Bool(_)
            ) {
                self.facts.assigns.push(Assign {
                    func,
                    var: name,
                    value,
                    kind: AssignKind::Default,
                    span: Span::of(arg),
                    block: self.facts.functions[func as usize].span,
                    in_loop: false,
                });
            }
        }
    }

    /// What the named function defined at `node` returns ([`FileFactsData::returns`]).
    pub(super) fn record_returns(&mut self, node: Node, short: bool) {
        let Some(&func) = self.func_at.get(&Span::of(node)) else {
            return;
        };
        if self.facts.functions[func as usize].kind != FunctionKind::Named {
            return;
        }
        let last = node.named_child(node.named_child_count().saturating_sub(1) as u32);
        let mut exprs: Vec<Node> = Vec::new();
        match last {
            Some(l) if short || l.kind_str() != "signature" => exprs.push(l),
            _ => {}
        }
        if !short {
            // `return x` anywhere in the body, outside functions defined inside it.
            let mut stack: Vec<Node> = syntax::named_children(node);
            let mut budget = 4096;
            while let Some(n) = stack.pop() {
                budget -= 1;
                if budget == 0 {
                    break;
                }
                match n.kind_str() {
                    "return_statement" => exprs.extend(n.named_child(0)),
                    "function_definition"
                    | "arrow_function_expression"
                    | "do_clause"
                    | "macro_definition" => {}
                    _ => stack.extend(syntax::named_children(n)),
                }
            }
        }
        for e in exprs {
            if e.kind_str() == "return_statement" {
                continue;
            }
            let exprs = literal_calls(e).unwrap_or_else(|| vec![e]);
            let values: Vec<Value> = (exprs.into_iter()).map(|x| self.result_value(x)).collect();
            for v in values {
                // Kept only what may be a function or a backend: a closure, a name, a call
                // (a factory's, a constructor's). A call to a function (lowercase, by
                // Julia's convention) keeps only its callee, which is all that following
                // its returns needs; a constructor keeps its arguments (the layers a
                // `Chain` holds).
                let v = match v {
                    Value::Call { callee, .. }
                        if callee
                            .last()
                            .is_some_and(|c| c.starts_with(char::is_lowercase)) =>
                    {
                        Value::Call {
                            callee,
                            args: Args::default(),
                        }
                    }
                    v @ (Value::Func(_)
                    | Value::Ident(_)
                    | Value::Path(_)
                    | Value::Call { .. }
                    | Value::Compose(_)) => v,
                    _ => continue,
                };
                self.facts.returns.push((func, v));
            }
        }
    }
}

/// `f(x) = ...`, `f(x) where T = ...`, `f(x)::T = ...`: an assignment whose left side is a
/// call is a method definition.
pub(super) fn is_short_definition(node: Node) -> bool {
    node.child(0).is_some_and(|lhs| match lhs.kind_str() {
        "call_expression" => true,
        "where_expression" | "typed_expression" => lhs
            .named_child(0)
            .is_some_and(|c| c.kind_str() == "call_expression"),
        _ => false,
    })
}

/// The call inside a signature: `f(x)`, `f(x) where T`, `f(x)::T`.
pub(super) fn find_signature_call(node: Node) -> Option<Node> {
    let mut cur = node;
    for _ in 0..8 {
        match cur.kind_str() {
            "call_expression" => return Some(cur),
            "signature" | "where_expression" | "typed_expression" => cur = cur.named_child(0)?,
            _ => return None,
        }
    }
    None
}

pub(super) fn first_identifier(node: Node) -> Option<Node> {
    let mut stack = vec![node];
    let mut steps = 0;
    while let Some(n) = stack.pop() {
        steps += 1;
        if steps > 64 {
            return None;
        }
        if n.kind_str() == "identifier" {
            return Some(n);
        }
        let kids = syntax::named_children(n);
        stack.extend(kids.into_iter().rev());
    }
    None
}
