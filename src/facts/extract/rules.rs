//! Declarations that change what Zygote traverses: rules written as functions
//! (`rrule`, `_pullback`, `@adjoint`) and the escape macros (`@non_differentiable`,
//! `@scalar_rule`, `@nograd`, `@opt_out`).

use super::functions::find_signature_call;
use super::Extractor;
use crate::facts::model::{Function, FunctionKind, Param, RuleDecl, RuleDeclKind};
use crate::facts::types::base_type_name;
use crate::knowledge;
use crate::name::{List, Name};
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    /// Rule definitions written as functions (`function ChainRulesCore.rrule(...)`,
    /// `Zygote._pullback(...) = ...`) become rule bodies plus a [`RuleDecl`].
    pub(super) fn note_rule_definition(&mut self, f: &mut Function) {
        let Some(name) = f.name.as_deref() else {
            return;
        };
        let kind = match name {
            "rrule" => RuleDeclKind::Rrule,
            "_pullback" if f.qualifier.iter().any(|q| q == "Zygote") => RuleDeclKind::Pullback,
            _ => {
                if f.kind == FunctionKind::RuleBody {
                    // `@adjoint f(x) = ...`: the rule covers `f` itself.
                    self.facts.rule_decls.push(RuleDecl {
                        kind: RuleDeclKind::Adjoint,
                        target: Name::new(name),
                        functor: false,
                        arity: Some(f.arity()),
                        module: self.module_of(f.span.start),
                        span: f.span,
                        bare: false,
                        params: f.params,
                    });
                }
                return;
            }
        };
        // Skip a leading config argument (`::RuleConfig{...}`, `::ZygoteRuleConfig`,
        // `::AContext`), then the covered function is `::typeof(g)`, `::Type{T}` or `m::T`.
        let mut params = f.params.iter().peekable();
        while let Some(p) = params.peek() {
            let ann = p.annotation.as_deref().unwrap_or("");
            if ann.contains("RuleConfig") || ann.contains("Context") {
                params.next();
            } else {
                break;
            }
        }
        let Some(first) = params.next() else {
            return;
        };
        let ann = first.annotation.as_deref().unwrap_or("");
        let (target, functor) = if let Some(inner) = ann
            .strip_prefix("typeof(")
            .or_else(|| ann.strip_prefix("Core.Typeof("))
            .and_then(|s| s.strip_suffix(')'))
        {
            (Name::new(inner.rsplit('.').next().unwrap_or(inner)), false)
        } else if let Some(inner) = ann.strip_prefix("Type{").and_then(|s| s.strip_suffix('}')) {
            (Name::new(&base_type_name(inner)), false)
        } else if !ann.is_empty() {
            (Name::new(&base_type_name(ann)), true)
        } else {
            return;
        };
        let rest: Vec<&Param> = params.collect();
        let required = rest.iter().filter(|p| !p.has_default && !p.vararg).count();
        let max = if rest.iter().any(|p| p.vararg) {
            None
        } else {
            Some(rest.len())
        };
        self.facts.rule_decls.push(RuleDecl {
            kind,
            target,
            functor,
            arity: Some((required, max)),
            // `f` is not placed in its module yet.
            module: self.module_of(f.span.start),
            span: f.span,
            bare: kind == RuleDeclKind::Rrule && f.qualifier.is_empty(),
            params: List::new(&rest.iter().map(|p| **p).collect::<Vec<Param>>()),
        });
        f.kind = FunctionKind::RuleBody;
    }

    /// `@non_differentiable f(x)`, `@scalar_rule f(x) ...`, `@nograd f, g`, `@opt_out ...`.
    pub(super) fn record_escape_macro(&mut self, esc: knowledge::EscapeMacro, args: Node) {
        use knowledge::EscapeMacro as E;
        let first = args.named_child(0);
        let kind = match esc {
            E::NonDifferentiable => RuleDeclKind::NonDifferentiable,
            E::ScalarRule => RuleDeclKind::ScalarRule,
            E::NoGrad => RuleDeclKind::NoGrad,
            E::OptOut => RuleDeclKind::OptOut,
            // Function definitions inside `@adjoint` are handled as rule bodies; the
            // ignore macros only make a region.
            E::Adjoint | E::Ignore => return,
        };
        let module = self.module_of(args.start_byte() as u32);
        let Some(first) = first else { return };
        let mut targets: Vec<(Node, Option<Node>)> = Vec::new();
        match first.kind_str() {
            "call_expression" => targets.push((first.child(0).unwrap_or(first), Some(first))),
            "open_tuple" | "tuple_expression" => {
                for c in syntax::named_children(first) {
                    targets.push((c, None));
                }
            }
            "assignment" | "function_definition" => {
                // `@nograd g(x) = ...`: the definition itself is covered.
                if let Some(sig) = syntax::named_children(first)
                    .into_iter()
                    .find(|c| matches!(c.kind_str(), "call_expression" | "signature"))
                {
                    if let Some(call) = find_signature_call(sig).or(Some(sig)) {
                        targets.push((call.child(0).unwrap_or(call), None));
                    }
                }
            }
            _ => targets.push((first, None)),
        }
        for (callee, call) in targets {
            // `@non_differentiable f` without a signature is an error when ChainRulesCore
            // expands it (the documented form is `@non_differentiable f(::T...)`): no rule.
            if kind == RuleDeclKind::NonDifferentiable && call.is_none() {
                continue;
            }
            let path = self.path_of(callee);
            let Some(name) = path.last().cloned() else {
                continue;
            };
            // `@opt_out rrule(::typeof(f), ...)`: the covered function is inside.
            let (target, arity, params) = if kind == RuleDeclKind::OptOut {
                let Some(call) = call else { continue };
                let mut f = Function {
                    kind: FunctionKind::Named,
                    name: Some(name),
                    module: module.into(),
                    head: Span::of(call),
                    ..Function::top_level(Span::of(call))
                };
                if let Some(a) = syntax::call_arguments(call) {
                    self.read_params(a, &mut f);
                }
                let Some(ann) = f
                    .params
                    .iter()
                    .find_map(|p| p.annotation.as_deref())
                    .and_then(|a| a.strip_prefix("typeof("))
                    .and_then(|a| a.strip_suffix(')'))
                else {
                    continue;
                };
                let n = f.params.len().saturating_sub(1);
                (Name::new(ann), Some((n, Some(n))), List::default())
            } else {
                let declared = call.and_then(|c| {
                    let args = syntax::call_arguments(c)?;
                    let mut f = Function {
                        kind: FunctionKind::Named,
                        module: module.into(),
                        head: Span::of(c),
                        ..Function::top_level(Span::of(c))
                    };
                    self.read_params(args, &mut f);
                    Some((f.arity(), f.params))
                });
                (
                    name,
                    declared.map(|d| d.0),
                    declared.map(|d| d.1).unwrap_or_default(),
                )
            };
            self.facts.rule_decls.push(RuleDecl {
                kind,
                target,
                functor: false,
                arity,
                module,
                span: Span::of(args),
                bare: false,
                params,
            });
        }
    }
}
