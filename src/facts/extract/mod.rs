//! The extractor: one chunk's facts from its tree. The query's captures are collected
//! and ordered here, then walked twice (definitions first, then uses); what each
//! construct records is in the submodule named after it.

mod calls;
mod control;
mod functions;
mod modules;
mod rules;
mod scopes;
mod typedefs;
mod values;
mod variables;

use super::model::{Args, FileFactsData, FuncIdx, Function, ModIdx, ModuleDef, Value};
use super::reuse::CONTEXT;
use crate::name::{FastMap, FastSet, Name};
use crate::span::Span;
use crate::syntax::{self, KindName};
use functions::is_short_definition;
use scopes::ScopeStack;
use std::collections::HashMap;
use std::sync::OnceLock;
use tree_sitter::Node;

/// A capture of the facts query: (node, capture, parent).
type Capture<'t> = (Node<'t>, Cap, Option<Node<'t>>);

/// What a capture name of `facts.scm` stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cap {
    Module,
    Function,
    Short,
    Lambda,
    Do,
    Comprehension,
    Generator,
    Macro,
    Struct,
    Abstract,
    Block,
    Call,
    Broadcast,
    Assign,
    Update,
    BindFor,
    BindLet,
    Try,
    Ident,
    Using,
    Import,
    Export,
    Quoted,
    Interpolated,
}

fn cap_of(name: &str) -> Option<Cap> {
    Some(match name {
        "def.module" => Cap::Module,
        "def.function" => Cap::Function,
        "def.lambda" => Cap::Lambda,
        "def.do" => Cap::Do,
        "def.comprehension" => Cap::Comprehension,
        "generator" => Cap::Generator,
        "def.macro" => Cap::Macro,
        "def.struct" => Cap::Struct,
        "def.abstract" => Cap::Abstract,
        "block" => Cap::Block,
        "call" => Cap::Call,
        "call.broadcast" => Cap::Broadcast,
        "assign" => Cap::Assign,
        "update" => Cap::Update,
        "bind.for" => Cap::BindFor,
        "bind.let" => Cap::BindLet,
        "try" => Cap::Try,
        "ident" => Cap::Ident,
        "using" => Cap::Using,
        "import" => Cap::Import,
        "export" => Cap::Export,
        "quoted" => Cap::Quoted,
        "interpolated" => Cap::Interpolated,
        _ => return None,
    })
}

pub(super) struct Extractor<'s> {
    src: &'s str,
    facts: FileFactsData,
    /// Function index by the span of the node that defines it.
    func_at: FastMap<Span, FuncIdx>,
    /// Module spans, to find the module of a node.
    module_at: Vec<(Span, ModIdx)>,
    /// The statements directly inside `@. ...`, recorded as broadcasts by the macro.
    dot_macro_args: FastSet<Span>,
    /// Per comprehension, what its first `for` iterates: evaluated by the enclosing code
    /// before the comprehension's closure runs, so names read there are not captures.
    outer_iterable: FastMap<FuncIdx, Span>,
    /// Argument values, moved to `facts.values` at the end (summarising a value adds to
    /// it, from code that only reads the extractor otherwise).
    values: std::cell::RefCell<Vec<Value>>,
}

impl<'s> Extractor<'s> {
    /// An extractor for one chunk: function 0 stands for the enclosing top level and,
    /// inside a module, module 0 for the enclosing module.
    fn new(src: &'s str, in_module: bool) -> Self {
        let mut facts = FileFactsData::default();
        facts.functions.push(Function::top_level(CONTEXT));
        let mut module_at = Vec::new();
        if in_module {
            facts.modules.push(ModuleDef {
                name: Name::default(),
                parent: None,
                span: CONTEXT,
            });
            module_at.push((
                Span {
                    start: 0,
                    end: u32::MAX,
                },
                0,
            ));
        }
        Extractor {
            src,
            facts,
            func_at: HashMap::default(),
            module_at,
            dot_macro_args: Default::default(),
            outer_iterable: Default::default(),
            values: Default::default(),
        }
    }

    pub(super) fn chunk_facts(
        src: &'s str,
        node: Node,
        parent: Node,
        in_module: bool,
    ) -> FileFactsData {
        let mut ex = Extractor::new(src, in_module);
        ex.run(node, parent);
        ex.facts.values = ex.values.into_inner();
        ex.facts
    }

    fn text(&self, node: Node) -> &'s str {
        syntax::text(node, self.src)
    }

    /// Store an argument list's values.
    fn alloc_args(&self, args: Vec<Value>) -> Args {
        Args::append(&mut self.values.borrow_mut(), args)
    }

    fn name(&self, node: Node) -> Name {
        Name::new(self.text(node))
    }

    /// Drop the captures inside quoted code (`quote ... end`, `:(...)`) and macro
    /// definitions: that code is built, not run where it is written, so its functions
    /// define no methods, its calls run nothing and its `gradient` is no entry. What `$`
    /// interpolates runs where the quote is built, and `init_code = quote ... end` is the
    /// setup code ParallelTestRunner runs in each test file's module: both are kept.
    /// `caps` is in start order, outer nodes first.
    fn drop_quoted(&self, caps: &mut Vec<(Node, Cap, Option<Node>)>) {
        if !caps.iter().any(|c| c.1 == Cap::Quoted) {
            return;
        }
        let setup_code = |n: Node| {
            n.parent().is_some_and(|p| {
                p.kind_str() == "assignment"
                    && p.named_child(0).is_some_and(|lhs| {
                        lhs.kind_str() == "identifier" && self.text(lhs) == "init_code"
                    })
            })
        };
        // The outermost quoted span open at each capture, and the interpolations in it.
        let mut quoted: Option<Span> = None;
        let mut interpolated: Vec<Span> = Vec::new();
        caps.retain(|&(node, cap, _)| {
            let span = Span::of(node);
            if quoted.is_some_and(|q| q.end <= span.start) {
                quoted = None;
                interpolated.clear();
            }
            interpolated.retain(|i| i.end > span.start);
            match (quoted, cap) {
                (None, Cap::Quoted) => {
                    if !setup_code(node) {
                        quoted = Some(span);
                    }
                    false
                }
                (None, Cap::Interpolated) => false,
                (None, _) => true,
                (Some(_), Cap::Interpolated) => {
                    interpolated.push(span);
                    false
                }
                (Some(_), _) => interpolated.iter().any(|i| i.contains(span)),
            }
        });
    }

    /// The facts of `root`, a statement of the top level `parent`.
    fn run(&mut self, root: Node, parent: Node) {
        let caps = self.captures(root, parent);
        self.define_all(&caps);
        self.record_uses(&caps);
    }

    /// The captures of the facts query in `root`, in the order the passes walk them,
    /// without those inside quoted code.
    fn captures<'t>(&self, root: Node<'t>, parent: Node<'t>) -> Vec<Capture<'t>> {
        static BY_INDEX: OnceLock<Vec<Option<Cap>>> = OnceLock::new();
        let by_index = BY_INDEX.get_or_init(|| {
            (syntax::CaptureTable::facts().capture_names())
                .iter()
                .map(|n| cap_of(n))
                .collect()
        });
        let mut caps: Vec<Capture> = syntax::facts_captures(root, Some(parent))
            .into_iter()
            .filter_map(|c| Some((c.node, by_index[c.index as usize]?, c.parent)))
            .collect();
        // Outer nodes first at the same start, then by capture kind, so that definitions
        // exist before the uses inside them are attributed.
        let order = |caps: &mut Vec<(Node, Cap, Option<Node>)>| {
            caps.sort_by(|a, b| {
                (a.0.start_byte(), std::cmp::Reverse(a.0.end_byte()), a.1).cmp(&(
                    b.0.start_byte(),
                    std::cmp::Reverse(b.0.end_byte()),
                    b.1,
                ))
            });
            caps.dedup_by(|a, b| a.0.id() == b.0.id() && a.1 == b.1);
        };
        order(&mut caps);
        self.drop_quoted(&mut caps);

        // A generator `(f(x) for x in xs)` is found through its `for_clause`; its scope
        // starts at the enclosing parentheses, so those are added as captures first.
        let mut generators: Vec<Capture> = Vec::new();
        for &(_, cap, parent) in &caps {
            if cap == Cap::Generator {
                if let Some(parent) = parent {
                    if matches!(
                        parent.kind_str(),
                        "parenthesized_expression" | "argument_list"
                    ) {
                        generators.push((parent, Cap::Comprehension, parent.parent()));
                    }
                }
            }
        }
        if !generators.is_empty() {
            caps.extend(generators);
            order(&mut caps);
        }
        caps
    }

    /// Pass 1: modules, functions and regions, so that closures passed as arguments can
    /// be named when the enclosing call is summarised in pass 2.
    fn define_all(&mut self, caps: &[Capture]) {
        let mut scopes = ScopeStack::default();
        for &(node, cap, _) in caps {
            scopes.leave_before(node.start_byte() as u32);
            match cap {
                Cap::Module => self.define_module(node, &mut scopes),
                Cap::Function | Cap::Lambda | Cap::Do | Cap::Comprehension => {
                    self.define_function(node, cap, &mut scopes)
                }
                Cap::Assign if is_short_definition(node) => {
                    self.define_function(node, Cap::Short, &mut scopes)
                }
                Cap::Macro => self.define_macro_scope(node, &mut scopes),
                Cap::Block => self.define_block_scope(node, &mut scopes),
                Cap::Struct => self.define_struct(node, &scopes),
                Cap::Abstract => self.define_abstract(node),
                _ => {}
            }
        }
    }

    /// Pass 2: uses, attributed to the innermost function and block.
    fn record_uses(&mut self, caps: &[Capture]) {
        let mut scopes = ScopeStack::default();
        for &(node, cap, parent) in caps {
            let start = node.start_byte() as u32;
            scopes.leave_before(start);
            let span = Span::of(node);
            // The function a use belongs to is the innermost one open *before* this node;
            // a definition then opens its own scope for the nodes inside it.
            let func = scopes.current_func();
            let scope_span = match cap {
                Cap::Function
                | Cap::Assign
                | Cap::Lambda
                | Cap::Do
                | Cap::Comprehension
                | Cap::Module => Some(span),
                Cap::Macro => syntax::child_of_kind(node, "macro_argument_list").map(Span::of),
                Cap::Block => Some(span),
                _ => None,
            };
            if let Some(s) = scope_span {
                if let Some(&idx) = self.func_at.get(&s) {
                    scopes.funcs.push((s.end, idx));
                }
            }
            let fdef = &self.facts.functions[func as usize];
            // Inside a signature: parameters and defaults, not uses.
            if fdef.signature.contains(span) && fdef.signature != Span::default() {
                continue;
            }
            match cap {
                Cap::Block => {
                    let is_loop = matches!(node.kind_str(), "for_statement" | "while_statement");
                    scopes.blocks.push((span.end, span, is_loop, func));
                    if node.kind_str() == "if_statement" {
                        self.record_guards(node, func);
                    }
                }
                Cap::Call | Cap::Broadcast => self.record_call(node, func, cap == Cap::Broadcast),
                Cap::Macro => self.record_macro(node, func),
                Cap::Assign => self.record_assign(node, func, &scopes),
                Cap::Update => self.record_update(node, func, &scopes),
                Cap::BindFor => self.record_loop_binding(node, func, &scopes),
                Cap::BindLet => self.record_let_binding(node, func, &scopes),
                Cap::Try => self.record_try(node, parent, func),
                Cap::Ident => self.record_ref(node, parent, func),
                Cap::Using | Cap::Import => self.record_import(node, cap == Cap::Using),
                Cap::Export => self.record_export(node),
                Cap::Struct | Cap::Abstract | Cap::Module | Cap::Generator => {}
                // Dropped before the passes.
                Cap::Quoted | Cap::Interpolated => {}
                Cap::Function => {
                    self.record_returns(node, false);
                    self.record_defaults(node, false);
                }
                Cap::Short | Cap::Lambda | Cap::Do | Cap::Comprehension => {}
            }
            if cap == Cap::Assign && is_short_definition(node) {
                self.record_returns(node, true);
                self.record_defaults(node, true);
            }
        }
    }
}
