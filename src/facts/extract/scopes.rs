//! Scopes: the stack of open functions and blocks during the walk, and the
//! pseudo-functions of blocks and macro arguments that are scopes or regions of their own.

use super::Extractor;
use crate::facts::model::{FileFactsData, FuncIdx, Function, FunctionKind};
use crate::knowledge::{self, MacroClass};
use crate::name::Name;
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    /// A `let`, `for` or `while` outside any function is a local scope of its own, as a
    /// `@testset` body is: a function defined inside is local to it (`loss` in one `let`
    /// is not `loss` in the next, nor a method of the file's `loss`). Inside a function
    /// such blocks share the function's variables, and stay part of it.
    pub(super) fn define_block_scope(&mut self, node: Node, scopes: &mut ScopeStack) {
        let what = match node.kind_str() {
            "let_statement" => "`let` block",
            "for_statement" => "`for` loop",
            "while_statement" => "`while` loop",
            _ => return,
        };
        let outer = &self.facts.functions[scopes.current_func() as usize];
        if !matches!(
            outer.kind,
            FunctionKind::TopLevel | FunctionKind::Scope { .. }
        ) {
            return;
        }
        let span = Span::of(node);
        let f = Function {
            kind: FunctionKind::Scope {
                macro_name: Name::new(what),
            },
            head: span,
            ..Function::top_level(span)
        };
        self.push_function(span, f, scopes);
    }

    /// Macro calls that delimit code: closures made by the macro, escape regions and
    /// opaque regions become functions of their own, keyed by the argument list's span.
    pub(super) fn define_macro_scope(&mut self, node: Node, scopes: &mut ScopeStack) {
        let path = self.macro_path(node);
        let Some(name) = path.last() else { return };
        let Some(args) = syntax::child_of_kind(node, "macro_argument_list") else {
            return;
        };
        let class = knowledge::macro_class(name);
        let kind = match class {
            MacroClass::ClosureBody => FunctionKind::MacroClosure,
            MacroClass::LocalScope => FunctionKind::Scope { macro_name: *name },
            MacroClass::Escape(_) => FunctionKind::Region {
                macro_name: *name,
                opaque: false,
            },
            MacroClass::Opaque => FunctionKind::Region {
                macro_name: *name,
                opaque: true,
            },
            _ => return,
        };
        let span = Span::of(args);
        let f = Function {
            kind,
            head: Span::of(node),
            in_macro: Some(*name),
            ..Function::top_level(span)
        };
        self.push_function(span, f, scopes);
        if let MacroClass::Escape(esc) = class {
            self.record_escape_macro(esc, args);
        }
    }
}

#[derive(Default)]
pub(super) struct ScopeStack {
    /// Open functions: (end byte, index).
    pub(super) funcs: Vec<(u32, FuncIdx)>,
    /// Open blocks: (end byte, span, is a loop, owning function).
    pub(super) blocks: Vec<(u32, Span, bool, FuncIdx)>,
}

impl ScopeStack {
    pub(super) fn leave_before(&mut self, start: u32) {
        while self.funcs.last().is_some_and(|&(end, _)| end <= start) {
            self.funcs.pop();
        }
        while self.blocks.last().is_some_and(|&(end, ..)| end <= start) {
            self.blocks.pop();
        }
    }
    pub(super) fn current_func(&self) -> FuncIdx {
        self.funcs.last().map(|&(_, f)| f).unwrap_or(0)
    }
    pub(super) fn current_macro(&self, facts: &FileFactsData) -> Option<Name> {
        let f = self.current_func();
        facts.functions[f as usize].in_macro.filter(|_| {
            matches!(
                facts.functions[f as usize].kind,
                FunctionKind::Region { .. } | FunctionKind::MacroClosure
            )
        })
    }
    pub(super) fn block_of(&self, func: FuncIdx, f: &Function) -> (Span, bool) {
        let mut in_loop = false;
        let mut innermost = None;
        for &(_, span, is_loop, owner) in self.blocks.iter().rev() {
            if owner != func {
                break;
            }
            if innermost.is_none() {
                innermost = Some(span);
            }
            in_loop |= is_loop;
        }
        (innermost.unwrap_or(f.span), in_loop)
    }
}
