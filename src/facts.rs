//! Per-file extraction of facts from the tree alone, driven by `queries/facts.scm`.
//!
//! One pass per file collects every definition, call, assignment, import and syntactic
//! site that later passes and rules need; the tree is dropped afterwards, so only these
//! facts stay in memory. The query names the node kinds to collect; since each of its
//! patterns is a single node, the pass is a walk of the tree with a table read from the
//! query ([`syntax::facts_captures`]), not tree-sitter's query engine, which cost as much as
//! parsing the file. This module must not look at other files or decide what a
//! name refers to: that is `index` and `callgraph`'s job. It consults `knowledge` only to
//! classify macros, whose meaning is syntactic (a macro rewrites code before anything runs).

use crate::knowledge::{self, MacroClass};
use crate::name::{FastMap, FastSet};
pub use crate::name::{List, Name, Path};
pub use crate::span::Span;
use crate::syntax::{self, KindName, LineIndex};
use std::collections::HashMap;
use std::sync::OnceLock;
use tree_sitter::Node;

/// Index of a function inside one file's [`FileFactsData::functions`].
pub type FuncIdx = u32;

/// An optional index into one of a file's lists in four bytes (an `Option<u32>` takes
/// eight, and every function holds two).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptIdx(u32);

impl OptIdx {
    pub const NONE: OptIdx = OptIdx(u32::MAX);

    pub fn get(self) -> Option<u32> {
        (self.0 != u32::MAX).then_some(self.0)
    }
}

impl From<Option<u32>> for OptIdx {
    fn from(i: Option<u32>) -> OptIdx {
        match i {
            // Files have far fewer than 2^32 functions or modules.
            Some(i) => OptIdx(i.min(u32::MAX - 1)),
            None => OptIdx::NONE,
        }
    }
}

impl std::fmt::Debug for OptIdx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.get(), f)
    }
}

/// Index of a module inside one file's [`FileFactsData::modules`].
pub type ModIdx = u32;

/// Everything adlint knows about one file after the per-file pass. Facts do not change
/// once extracted, and a clone shares them: the language server's cache and each of its
/// analyses hold one copy of a file's facts, not one each.
#[derive(Debug, Default, Clone)]
pub struct FileFacts(std::sync::Arc<FileFactsData>);

impl std::ops::Deref for FileFacts {
    type Target = FileFactsData;
    fn deref(&self) -> &FileFactsData {
        &self.0
    }
}

/// The lists of facts of one file (what [`FileFacts`] shares).
#[derive(Debug, Default, Clone)]
pub struct FileFactsData {
    /// `functions[0]` is the file's top level and each `module ... end` has its own: pseudo-
    /// functions of kind `TopLevel` that are never called.
    pub functions: Vec<Function>,
    pub calls: Vec<Call>,
    pub assigns: Vec<Assign>,
    pub sites: Vec<Site>,
    pub refs: Vec<VarRef>,
    /// Code that runs only under a condition adlint can decide: the branches of `if`s on a
    /// name (`if !nested`) or on `VERSION`.
    pub guards: Vec<Guard>,
    /// What named functions return, by function: the value of a short form's body, of
    /// each `return` and of the last statement; a literal list of calls gives each call
    /// (`backends() = [AutoZygote(), AutoForwardDiff()]`).
    pub returns: Vec<(FuncIdx, Value)>,
    pub structs: Vec<StructDef>,
    /// Every type the file declares (structs and abstract types) with its supertype.
    pub types: Vec<TypeDecl>,
    pub modules: Vec<ModuleDef>,
    pub imports: Vec<Import>,
    pub exports: Vec<(Option<ModIdx>, Name)>,
    pub includes: Vec<Include>,
    pub rule_decls: Vec<RuleDecl>,
    pub comments: Vec<Comment>,
    /// The top-level statements (of the file and of its modules; a module itself is not
    /// one, its statements are), in source order: each can be parsed again on its own
    /// ([`syntax::parse_range`]) when a tree is needed after the file's was dropped.
    pub chunks: Vec<Span>,
    /// The argument values of calls and of call values, which hold ranges of it
    /// ([`FileFactsData::args`]): one list per file instead of one per call.
    pub values: Vec<Value>,
    /// The keyword arguments of calls, likewise ([`FileFactsData::kwargs`]).
    pub keywords: Vec<(Name, Value)>,
    pub parse_errors: usize,
    pub line_index: LineIndex,
}

impl FileFactsData {
    /// Give back the spare capacity of the fact lists: facts of every file of a workspace
    /// stay in memory for the whole analysis.
    fn shrink_to_fit(&mut self) {
        self.functions.shrink_to_fit();
        self.calls.shrink_to_fit();
        self.assigns.shrink_to_fit();
        self.sites.shrink_to_fit();
        self.refs.shrink_to_fit();
        self.guards.shrink_to_fit();
        // Looked up by function ([`FileFactsData::returns_of`]).
        self.returns.sort_by_key(|r| r.0);
        self.returns.shrink_to_fit();
        self.structs.shrink_to_fit();
        self.types.shrink_to_fit();
        self.modules.shrink_to_fit();
        self.imports.shrink_to_fit();
        self.exports.shrink_to_fit();
        self.includes.shrink_to_fit();
        self.rule_decls.shrink_to_fit();
        self.comments.shrink_to_fit();
        self.chunks.shrink_to_fit();
        self.values.shrink_to_fit();
        self.keywords.shrink_to_fit();
    }
    /// Whether closure `func` reads a local of the function around it (a captured
    /// variable, as opposed to its own parameters): ForwardDiff inside Zygote would give
    /// such a variable no gradient.
    pub fn captures_parent_locals(&self, func: FuncIdx) -> bool {
        let def = &self.functions[func as usize];
        def.kind.is_closure()
            && (self.refs.iter()).any(|r| {
                r.func == func
                    && def.param_index_of(r.name).is_none()
                    && (self.assigns.iter())
                        .any(|a| a.var == r.name && Some(a.func) == def.parent.get())
            })
    }

    /// What function `func` returns ([`FileFactsData::returns`]).
    pub fn returns_of(&self, func: FuncIdx) -> impl Iterator<Item = &Value> {
        let start = self.returns.partition_point(|r| r.0 < func);
        self.returns[start..]
            .iter()
            .take_while(move |r| r.0 == func)
            .map(|r| &r.1)
    }

    /// The values of an argument list of this file.
    pub fn args(&self, args: Args) -> &[Value] {
        self.values.get(args.range()).unwrap_or(&[])
    }

    /// The keyword arguments of a call of this file.
    pub fn kwargs(&self, kwargs: KwArgs) -> &[(Name, Value)] {
        self.keywords.get(kwargs.0.range()).unwrap_or(&[])
    }

    /// The top-level statement that contains `span`, if one does.
    pub fn chunk_containing(&self, span: Span) -> Option<Span> {
        let i = self.chunks.partition_point(|c| c.start <= span.start);
        let c = *self.chunks.get(i.checked_sub(1)?)?;
        c.contains(span).then_some(c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionKind {
    /// The statements of a file outside any function.
    TopLevel,
    /// `function f(x) ... end` or `f(x) = ...`, possibly qualified (`Base.f`).
    Named,
    /// A call method of a type: `(m::T)(x) = ...`; `self_name` is `m`.
    Functor {
        type_name: Name,
        self_name: Option<Name>,
    },
    /// `x -> ...`.
    Anonymous,
    /// The block of `f(args) do x ... end`.
    DoBlock,
    /// A comprehension or generator, which Julia lowers to a closure.
    Comprehension,
    /// The body of `Threads.@threads`, `@spawn`, `@async`: a closure made by the macro.
    MacroClosure,
    /// The definition of a rule (`rrule`, `@adjoint`, `_pullback`): its body is not
    /// differentiated by Zygote.
    RuleBody,
    /// The argument of a macro whose contents are not differentiated (`@ignore_derivatives`)
    /// or not analysable (`@turbo`): nothing inside is reachable.
    Region { macro_name: Name, opaque: bool },
    /// Code that runs in place in a local scope of its own (a `@testset` body): its
    /// functions and variables are local to it. Never called.
    Scope { macro_name: Name },
}

impl FunctionKind {
    /// Closures capture the locals of the function they are written in.
    pub fn is_closure(&self) -> bool {
        matches!(
            self,
            FunctionKind::Anonymous
                | FunctionKind::DoBlock
                | FunctionKind::Comprehension
                | FunctionKind::MacroClosure
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: Option<Name>,
    /// The type annotation as written, e.g. `AbstractVector{T}` or `typeof(f)`.
    pub annotation: Option<Name>,
    pub has_default: bool,
    pub vararg: bool,
}

impl crate::name::Interned for Option<Name> {
    fn lists() -> &'static crate::name::ListInterner<Option<Name>> {
        static LISTS: std::sync::OnceLock<crate::name::ListInterner<Option<Name>>> =
            std::sync::OnceLock::new();
        crate::name::ListInterner::get_or_init(&LISTS)
    }
}

impl crate::name::Interned for Param {
    fn lists() -> &'static crate::name::ListInterner<Param> {
        static LISTS: std::sync::OnceLock<crate::name::ListInterner<Param>> =
            std::sync::OnceLock::new();
        crate::name::ListInterner::get_or_init(&LISTS)
    }
}

#[derive(Debug, Clone)]
pub struct Function {
    pub kind: FunctionKind,
    /// Name for named methods and functors' type; `None` for closures.
    pub name: Option<Name>,
    /// Module qualification written in the definition: `["Base"]` for `Base.f`.
    pub qualifier: Path,
    /// Interned: functions share a few parameter lists.
    pub params: List<Param>,
    pub kwparams: Path,
    /// The function it is written in (`None` for a file's top level).
    pub parent: OptIdx,
    /// The module it is written in (`None` at a file's top level).
    pub module: OptIdx,
    pub span: Span,
    /// Where the name (or `->`, `do`) is: what a diagnostic chain points at.
    pub head: Span,
    /// The signature or parameter list; captures inside it are definitions, not uses.
    pub signature: Span,
    /// Set on named functions defined inside a macro call such as `Zygote.@nograd`.
    pub in_macro: Option<Name>,
}

impl Function {
    /// The pseudo-function of a file's or a module's top level over `span` (its parent
    /// and module are set where it is pushed); also the base the other kinds are built on.
    fn top_level(span: Span) -> Function {
        Function {
            kind: FunctionKind::TopLevel,
            name: None,
            qualifier: Path::default(),
            params: List::default(),
            kwparams: Path::default(),
            parent: OptIdx::NONE,
            module: OptIdx::NONE,
            span,
            head: Span::default(),
            signature: Span::default(),
            in_macro: None,
        }
    }

    pub fn display_name(&self, facts: &FileFactsData) -> String {
        match &self.kind {
            FunctionKind::TopLevel => "top level".to_string(),
            FunctionKind::Functor { type_name, .. } => format!("({type_name})(...)"),
            FunctionKind::Named | FunctionKind::RuleBody => {
                let mut s = self.qualifier.join(".");
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(self.name.as_deref().unwrap_or("?"));
                s
            }
            FunctionKind::Anonymous => self.closure_label("anonymous function", facts),
            FunctionKind::DoBlock => self.closure_label("do-block", facts),
            FunctionKind::Comprehension => self.closure_label("comprehension", facts),
            FunctionKind::MacroClosure => self.closure_label("macro body", facts),
            FunctionKind::Region { macro_name, .. } => format!("{macro_name} region"),
            FunctionKind::Scope { macro_name } => self.closure_label(macro_name, facts),
        }
    }

    fn closure_label(&self, what: &str, facts: &FileFactsData) -> String {
        let line = facts.line_index.line_of(self.span.start as usize) + 1;
        format!("{what} at line {line}")
    }

    /// Positional parameter count bounds: (required, maximum or `None` for varargs).
    pub fn arity(&self) -> (usize, Option<usize>) {
        let required = self
            .params
            .iter()
            .filter(|p| !p.has_default && !p.vararg)
            .count();
        if self.params.iter().any(|p| p.vararg) {
            (required, None)
        } else {
            (required, Some(self.params.len()))
        }
    }

    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params
            .iter()
            .position(|p| p.name.as_deref() == Some(name))
    }

    /// [`Function::param_index`] of a name (compared by number, not text).
    pub fn param_index_of(&self, name: Name) -> Option<usize> {
        self.params.iter().position(|p| p.name == Some(name))
    }
}

/// Positional arguments of a call or of a call value: a range of the file's
/// [`FileFactsData::values`] (read them with [`FileFactsData::args`]). Two ranges are equal
/// when they are the same place of one file, not when the values are.
///
/// Six bytes, so that a [`Value`] is twelve: a list keeps at most 65,535 items (the rest of
/// a longer argument list, which only generated code has, is not kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, packed(2))]
pub struct Args {
    start: u32,
    len: u16,
}

impl Args {
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append `items` (the first 65,535) to `list` and return where they are.
    fn append<T>(list: &mut Vec<T>, items: impl IntoIterator<Item = T>) -> Args {
        let start = list.len() as u32;
        list.extend(items.into_iter().take(u16::MAX as usize));
        Args {
            start,
            len: (list.len() as u32 - start) as u16,
        }
    }

    fn range(self) -> std::ops::Range<usize> {
        let (start, len) = (self.start as usize, self.len as usize);
        start..start + len
    }

    /// The same items after `by` items were put before them (chunk relocation).
    fn shifted(self, by: u32) -> Args {
        Args {
            start: self.start + by,
            len: self.len,
        }
    }
}

/// Keyword arguments of a call: a range of the file's [`FileFactsData::keywords`] (read
/// them with [`FileFactsData::kwargs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KwArgs(Args);

impl KwArgs {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A summary of an expression, enough to follow values through calls and assignments.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Ident(Name),
    /// A dotted chain of names: `Zygote.gradient`, `m.cell`.
    Path(Path),
    /// A call: the callee's path (type parameters dropped: `Vector{T}(...)` is `["Vector"]`).
    Call {
        callee: Path,
        args: Args,
    },
    /// A closure defined in this file.
    Func(FuncIdx),
    /// `f ∘ g`: the composed functions, a range of the file's values like call arguments
    /// (read them with [`FileFactsData::args`]).
    Compose(Args),
    /// An array literal or comprehension.
    Array,
    Number,
    Str,
    Nothing,
    /// `true` or `false`.
    Bool(bool),
    /// A tuple literal: `(a, b)`, `()`.
    Tuple,
    /// `xs...`: the splatted value, a range of one of the file's values.
    Splat(Args),
    /// `a .+ b`, `2 .* x`: a new array or number computed by operators.
    Computed,
    /// An element of the value in this range (one value): a loop variable over a call's
    /// result (`for b in backends()`).
    Element(Args),
    Other,
}

impl Value {
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Value::Ident(n) => Some(n),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Call {
    pub func: FuncIdx,
    /// The callee as a path of names (`["Zygote", "gradient"]`), empty when it is not one.
    pub callee: Path,
    /// `f'(x)`: the adjoint syntax for a derivative.
    pub adjoint: bool,
    /// `f.(x)`.
    pub broadcast: bool,
    /// Positional arguments; a do-block is the first one, as in Julia.
    pub args: Args,
    pub kwargs: KwArgs,
    pub has_splat: bool,
    pub span: Span,
    /// Where the callee ends: it starts where the call does.
    pub callee_end: u32,
}

impl Call {
    /// The callee as written (`Zygote.gradient`, `f'`, `f.`'s `f`).
    pub fn callee_span(&self) -> Span {
        Span {
            start: self.span.start,
            end: self.callee_end,
        }
    }

    pub fn name(&self) -> Option<Name> {
        self.callee.last().copied()
    }
    pub fn qualifier(&self) -> &[Name] {
        if self.callee.is_empty() {
            &[]
        } else {
            &self.callee[..self.callee.len() - 1]
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignKind {
    /// `x = v` (also `local x = v`, `const x = v`).
    Plain,
    /// `x += v` and friends: a read and a re-binding.
    Update,
    /// One name of `a, b = v`.
    Destructure,
    /// A `for` loop variable.
    Loop,
    /// A `let` binding: a fresh variable of the `let` block.
    Let,
    /// `local x` or `global x` without a value.
    Declaration { global: bool },
    /// The default value of a parameter (`backend = AutoZygote()` in a signature): what
    /// the parameter holds when a call does not give it.
    Default,
}

#[derive(Debug, Clone)]
pub struct Assign {
    pub func: FuncIdx,
    pub var: Name,
    pub value: Value,
    pub kind: AssignKind,
    pub span: Span,
    /// The innermost `if`/`for`/`while`/`try`/`let` around the assignment inside its
    /// function, or the function itself.
    pub block: Span,
    pub in_loop: bool,
}

/// A read of a plain name inside a closure, kept for capture analysis.
#[derive(Debug, Clone)]
pub struct VarRef {
    pub func: FuncIdx,
    pub name: Name,
    pub span: Span,
}

/// A branch that runs only when `cond` is `holds`: the body of `if !nested ... end` runs
/// when `nested` is false, its `else` when it is true.
#[derive(Debug, Clone)]
pub struct Guard {
    pub func: FuncIdx,
    pub span: Span,
    pub cond: Cond,
    pub holds: bool,
}

/// A condition adlint can decide from constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// A name: decided where it is a parameter given a literal `true`/`false` (or
    /// defaulting to one).
    Flag(Name),
    /// `VERSION >= v"1.11"` (the operator, the version): decided by the unit's Julia.
    Version(Cmp, crate::version::Version),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Cond {
    /// The condition as Julia code, for messages: `` `VERSION >= v"1.11.0"` ``.
    pub fn source_text(self) -> String {
        match self {
            Cond::Flag(n) => format!("`{n}`"),
            Cond::Version(op, v) => {
                let op = match op {
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                    Cmp::Eq => "==",
                    Cmp::Ne => "!=",
                };
                format!("`VERSION {op} v\"{v}\"`")
            }
        }
    }

    /// The condition's value with Julia `julia`, for a `Version` condition.
    pub fn version_holds(self, julia: crate::version::Version) -> Option<bool> {
        let Cond::Version(op, v) = self else {
            return None;
        };
        Some(match op {
            Cmp::Lt => julia < v,
            Cmp::Le => julia <= v,
            Cmp::Gt => julia > v,
            Cmp::Ge => julia >= v,
            Cmp::Eq => julia == v,
            Cmp::Ne => julia != v,
        })
    }
}

/// A syntactic construct that some rule cares about.
#[derive(Debug, Clone)]
pub struct Site {
    pub func: FuncIdx,
    pub kind: SiteKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum SiteKind {
    /// `x[i] = v`, `x[i] += v`: `target` is the indexed object; `empty_index` for `r[] = v`.
    IndexAssign {
        target: Value,
        op: Name,
        empty_index: bool,
    },
    /// `x .= v`, `x .+= v`, `x[:, j] .= v`, `@. x = v`.
    BroadcastAssign {
        target: Value,
        op: Name,
        indexed: bool,
    },
    /// `x.f = v` (also inside `a.f, b = v`).
    FieldAssign { object: Value, field: Name },
    Try {
        has_catch: bool,
        has_finally: bool,
        /// A name whose truth makes the `try` body throw: `cond && throw(...)` or
        /// `if cond throw(...) end` among its statements.
        throws_when: Option<Name>,
    },
    /// A macro call, named by its path (`["Threads", "@threads"]`).
    Macro { path: Path },
}

#[derive(Debug, Clone)]
pub struct StructDef {
    pub name: Name,
    pub mutable: bool,
    pub fields: List<Name>,
    /// Each field's declared type as written (`Vector{Float32}`), in the order of `fields`
    /// (interned: structs repeat the same lists of types).
    pub field_types: List<Option<Name>>,
    pub module: Option<ModIdx>,
    pub span: Span,
}

/// A declared type: `struct S <: T`, `abstract type A <: B end`.
#[derive(Debug, Clone)]
pub struct TypeDecl {
    pub name: Name,
    /// The supertype's name, without module or parameters (`DiffEqBase.AbstractODEAlgorithm`
    /// gives `AbstractODEAlgorithm`); none for `Any`.
    pub supertype: Option<Name>,
    pub is_abstract: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ModuleDef {
    pub name: Name,
    pub parent: Option<ModIdx>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub module: Option<ModIdx>,
    /// Path of the imported module; leading dots of relative paths are kept as `"."` items.
    pub path: Vec<Name>,
    /// `using A: f, g` / `import A: f`; `None` for the whole module.
    pub names: Option<Vec<Name>>,
    pub alias: Option<Name>,
    pub is_using: bool,
    /// The whole `using`/`import` statement.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Include {
    pub module: Option<ModIdx>,
    pub path: String,
    pub span: Span,
}

/// A rule or other declaration that changes whether Zygote traverses a function.
#[derive(Debug, Clone)]
pub struct RuleDecl {
    pub kind: RuleDeclKind,
    /// The function covered, by name; for functor rules the type's name.
    pub target: Name,
    pub functor: bool,
    /// Positional arity the rule covers; `None` when it covers every method.
    pub arity: Option<(usize, Option<usize>)>,
    pub module: Option<ModIdx>,
    pub span: Span,
    /// An `rrule` method defined without a qualifier (`function rrule(...)`): it extends
    /// ChainRulesCore's `rrule` only where the module imports that name.
    pub bare: bool,
    /// The covered function's parameters as the rule declares them (types as written);
    /// empty when the declaration does not say.
    pub params: List<Param>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleDeclKind {
    Rrule,
    ScalarRule,
    NonDifferentiable,
    Adjoint,
    NoGrad,
    Pullback,
    OptOut,
}

impl RuleDeclKind {
    pub fn describe(&self) -> &'static str {
        match self {
            RuleDeclKind::Rrule => "a ChainRulesCore.rrule",
            RuleDeclKind::ScalarRule => "@scalar_rule",
            RuleDeclKind::NonDifferentiable => "@non_differentiable",
            RuleDeclKind::Adjoint => "Zygote.@adjoint",
            RuleDeclKind::NoGrad => "Zygote.@nograd",
            RuleDeclKind::Pullback => "a Zygote._pullback method",
            RuleDeclKind::OptOut => "@opt_out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// Extract the facts of one file.
pub fn extract(source: &str) -> FileFacts {
    syntax::with_transient_parse(source, |root, errors| {
        Assembler::new(source, root, errors, None).run()
    })
}

/// [`extract`] from a tree made already (an open document's, kept up to date by
/// incremental parsing); `parsed` must be the parse of exactly `source`.
pub fn extract_parsed(source: &str, parsed: &syntax::Parsed) -> FileFacts {
    Assembler::new(source, parsed.tree.root_node(), parsed.error_count, None).run()
}

/// [`extract_parsed`], reusing the facts of every statement whose text `memo` saw in the
/// previous extraction of this file, and leaving this extraction's statements in `memo`.
/// The language server calls it on every edit: only the edited statements are extracted
/// again, the facts of the rest are moved to their new place.
pub fn extract_incremental(
    source: &str,
    parsed: &syntax::Parsed,
    memo: &mut ChunkMemo,
) -> FileFacts {
    let previous = std::mem::take(memo);
    Assembler::new(
        source,
        parsed.tree.root_node(),
        parsed.error_count,
        Some((previous, memo)),
    )
    .run()
}

/// Facts are extracted per chunk: a statement directly at the top level of the file or of
/// a module (`module ... end` itself is not a chunk; its statements are). A chunk's facts
/// do not depend on the text around it: the function and module it sits in are local
/// placeholders (function 0, module 0 inside a module) and the span of the enclosing top
/// level is [`CONTEXT`]; [`Relocation`] maps them into the file's facts.
#[derive(Debug)]
struct Chunk {
    facts: FileFactsData,
    /// Where the chunk started when it was extracted.
    start: u32,
}

/// The chunks of a file's previous extraction, by (inside a module, text).
#[derive(Debug, Default)]
pub struct ChunkMemo {
    chunks: HashMap<(bool, String), std::sync::Arc<Chunk>>,
    reused: usize,
}

impl ChunkMemo {
    /// How many chunks the last extraction took from the memo instead of extracting.
    pub fn reused(&self) -> usize {
        self.reused
    }
    /// How many chunks the last extraction had.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// The span of the enclosing top level inside a chunk's facts (never a real span: files
/// are limited far below 4 GiB).
const CONTEXT: Span = Span {
    start: u32::MAX,
    end: u32::MAX,
};

/// Builds a file's facts chunk by chunk.
struct Assembler<'s, 't, 'm> {
    src: &'s str,
    root: Node<'t>,
    facts: FileFactsData,
    /// The previous memo (read) and the new one (written).
    memo: Option<(ChunkMemo, &'m mut ChunkMemo)>,
}

impl<'s, 't, 'm> Assembler<'s, 't, 'm> {
    /// The assembly of the facts of `src`, whose tree's root is `root`, with `errors`
    /// syntax errors.
    fn new(
        src: &'s str,
        root: Node<'t>,
        errors: usize,
        memo: Option<(ChunkMemo, &'m mut ChunkMemo)>,
    ) -> Self {
        let mut facts = FileFactsData {
            parse_errors: errors,
            line_index: LineIndex::new(src),
            ..FileFactsData::default()
        };
        facts.functions.push(Function::top_level(Span {
            start: 0,
            end: src.len() as u32,
        }));
        Assembler {
            src,
            root,
            facts,
            memo,
        }
    }

    fn run(mut self) -> FileFacts {
        let root = self.root;
        let whole = self.facts.functions[0].span;
        self.top_level(root, 0, None, whole);
        self.facts.comments = suppression_comments(self.src);
        self.facts.shrink_to_fit();
        FileFacts(std::sync::Arc::new(self.facts))
    }

    /// The statements of a top level (the file's, or a module's whose pseudo-function is
    /// `func`, module `module` and span `span`).
    fn top_level(&mut self, node: Node, func: FuncIdx, module: Option<ModIdx>, span: Span) {
        for child in syntax::named_children(node) {
            if child.kind_str() == "module_definition" {
                let name = syntax::child_of_kind(child, "identifier")
                    .map(|c| Name::new(syntax::text(c, self.src)))
                    .unwrap_or_default();
                let mspan = Span::of(child);
                let idx = self.facts.modules.len() as ModIdx;
                self.facts.modules.push(ModuleDef {
                    name,
                    parent: module,
                    span: mspan,
                });
                let mut f = Function::top_level(mspan);
                f.parent = Some(func).into();
                f.module = Some(idx).into();
                let fidx = self.facts.functions.len() as FuncIdx;
                self.facts.functions.push(f);
                self.top_level(child, fidx, Some(idx), mspan);
            } else {
                self.chunk(child, node, func, module, span);
            }
        }
    }

    /// One statement `node` of a top level whose node is `parent`.
    fn chunk(
        &mut self,
        node: Node,
        parent: Node,
        func: FuncIdx,
        module: Option<ModIdx>,
        span: Span,
    ) {
        let in_module = module.is_some();
        let start = node.start_byte() as u32;
        self.facts.chunks.push(Span::of(node));
        let chunk = match &mut self.memo {
            Some((previous, next)) => {
                let key = (in_module, syntax::text(node, self.src).to_string());
                let chunk = match previous.chunks.get(&key) {
                    Some(c) => {
                        next.reused += 1;
                        c.clone()
                    }
                    None => std::sync::Arc::new(Chunk {
                        facts: Extractor::chunk_facts(self.src, node, parent, in_module),
                        start,
                    }),
                };
                next.chunks.insert(key, chunk.clone());
                chunk
            }
            None => std::sync::Arc::new(Chunk {
                facts: Extractor::chunk_facts(self.src, node, parent, in_module),
                start,
            }),
        };
        let r = Relocation {
            shift: start as i64 - chunk.start as i64,
            func,
            func_base: self.facts.functions.len() as FuncIdx,
            module,
            module_base: self.facts.modules.len() as ModIdx,
            in_module,
            span,
            values_base: self.facts.values.len() as u32,
            keywords_base: self.facts.keywords.len() as u32,
        };
        r.append(&chunk.facts, &mut self.facts);
    }
}

/// Maps a chunk's facts to their place in the file: spans shifted, local function and
/// module indices offset, the placeholders replaced by the enclosing top level.
struct Relocation {
    shift: i64,
    /// The enclosing top level's pseudo-function, and where the chunk's own functions go.
    func: FuncIdx,
    func_base: FuncIdx,
    /// The enclosing module, and where the chunk's own modules go.
    module: Option<ModIdx>,
    module_base: ModIdx,
    in_module: bool,
    /// The enclosing top level's span.
    span: Span,
    /// Where the chunk's argument values and keyword arguments go in the file's.
    values_base: u32,
    keywords_base: u32,
}

impl Relocation {
    fn span(&self, s: Span) -> Span {
        if s == CONTEXT {
            self.span
        } else if s == Span::default() {
            s
        } else {
            Span {
                start: (s.start as i64 + self.shift) as u32,
                end: (s.end as i64 + self.shift) as u32,
            }
        }
    }

    fn func(&self, f: FuncIdx) -> FuncIdx {
        if f == 0 {
            self.func
        } else {
            self.func_base + f - 1
        }
    }

    fn module(&self, m: Option<ModIdx>) -> Option<ModIdx> {
        match m {
            None => None,
            Some(0) if self.in_module => self.module,
            Some(m) if self.in_module => Some(self.module_base + m - 1),
            Some(m) => Some(self.module_base + m),
        }
    }

    fn value(&self, v: &Value) -> Value {
        match v {
            Value::Func(f) => Value::Func(self.func(*f)),
            Value::Call { callee, args } => Value::Call {
                callee: *callee,
                args: args.shifted(self.values_base),
            },
            Value::Compose(parts) => Value::Compose(parts.shifted(self.values_base)),
            Value::Splat(inner) => Value::Splat(inner.shifted(self.values_base)),
            Value::Element(inner) => Value::Element(inner.shifted(self.values_base)),
            other => other.clone(),
        }
    }

    fn append(&self, c: &FileFactsData, out: &mut FileFactsData) {
        out.values.extend(c.values.iter().map(|v| self.value(v)));
        out.keywords
            .extend(c.keywords.iter().map(|(k, v)| (*k, self.value(v))));
        out.functions
            .extend(c.functions.iter().skip(1).map(|f| Function {
                parent: f.parent.get().map(|p| self.func(p)).into(),
                module: self.module(f.module.get()).into(),
                span: self.span(f.span),
                head: self.span(f.head),
                signature: self.span(f.signature),
                ..f.clone()
            }));
        out.modules.extend(
            c.modules
                .iter()
                .skip(usize::from(self.in_module))
                .map(|m| ModuleDef {
                    name: m.name,
                    parent: self.module(m.parent),
                    span: self.span(m.span),
                }),
        );
        out.calls.extend(c.calls.iter().map(|x| Call {
            func: self.func(x.func),
            args: x.args.shifted(self.values_base),
            kwargs: KwArgs(x.kwargs.0.shifted(self.keywords_base)),
            span: self.span(x.span),
            callee_end: self.span(x.callee_span()).end,
            ..x.clone()
        }));
        out.assigns.extend(c.assigns.iter().map(|a| Assign {
            func: self.func(a.func),
            value: self.value(&a.value),
            span: self.span(a.span),
            block: self.span(a.block),
            ..a.clone()
        }));
        out.sites.extend(c.sites.iter().map(|x| Site {
            func: self.func(x.func),
            kind: match &x.kind {
                SiteKind::IndexAssign {
                    target,
                    op,
                    empty_index,
                } => SiteKind::IndexAssign {
                    target: self.value(target),
                    op: *op,
                    empty_index: *empty_index,
                },
                SiteKind::BroadcastAssign {
                    target,
                    op,
                    indexed,
                } => SiteKind::BroadcastAssign {
                    target: self.value(target),
                    op: *op,
                    indexed: *indexed,
                },
                SiteKind::FieldAssign { object, field } => SiteKind::FieldAssign {
                    object: self.value(object),
                    field: *field,
                },
                other => other.clone(),
            },
            span: self.span(x.span),
        }));
        out.returns.extend(
            c.returns
                .iter()
                .map(|(f, v)| (self.func(*f), self.value(v))),
        );
        out.refs.extend(c.refs.iter().map(|x| VarRef {
            func: self.func(x.func),
            name: x.name,
            span: self.span(x.span),
        }));
        out.guards.extend(c.guards.iter().map(|x| Guard {
            func: self.func(x.func),
            span: self.span(x.span),
            ..x.clone()
        }));
        out.types.extend(c.types.iter().map(|x| TypeDecl {
            span: self.span(x.span),
            ..x.clone()
        }));
        out.structs.extend(c.structs.iter().map(|x| StructDef {
            module: self.module(x.module),
            span: self.span(x.span),
            ..x.clone()
        }));
        out.imports.extend(c.imports.iter().map(|x| Import {
            module: self.module(x.module),
            span: self.span(x.span),
            ..x.clone()
        }));
        out.exports
            .extend(c.exports.iter().map(|(m, name)| (self.module(*m), *name)));
        out.includes.extend(c.includes.iter().map(|x| Include {
            module: self.module(x.module),
            path: x.path.clone(),
            span: self.span(x.span),
        }));
        out.rule_decls.extend(c.rule_decls.iter().map(|x| RuleDecl {
            module: self.module(x.module),
            span: self.span(x.span),
            ..x.clone()
        }));
    }
}

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

struct Extractor<'s> {
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

    fn chunk_facts(src: &'s str, node: Node, parent: Node, in_module: bool) -> FileFactsData {
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

    /// The facts of `root`, a statement of the top level `parent`.
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

    fn run(&mut self, root: Node, parent: Node) {
        static BY_INDEX: OnceLock<Vec<Option<Cap>>> = OnceLock::new();
        let by_index = BY_INDEX.get_or_init(|| {
            (syntax::CaptureTable::facts().capture_names())
                .iter()
                .map(|n| cap_of(n))
                .collect()
        });
        // (node, capture, parent)
        let mut caps: Vec<(Node, Cap, Option<Node>)> = syntax::facts_captures(root, Some(parent))
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

        // Pass 1: modules, functions and regions, so that closures passed as arguments can
        // be named when the enclosing call is summarised in pass 2.
        // A generator `(f(x) for x in xs)` is found through its `for_clause`; its scope
        // starts at the enclosing parentheses, so those are added as captures first.
        let mut generators: Vec<(Node, Cap, Option<Node>)> = Vec::new();
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
        let mut scopes = ScopeStack::default();
        for &(node, cap, _) in &caps {
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

        // Pass 2: uses, attributed to the innermost function and block.
        let mut scopes = ScopeStack::default();
        for &(node, cap, parent) in &caps {
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
                Cap::Try => self.record_try(node, func),
                Cap::Ident => self.record_ref(node, parent, func),
                Cap::Using | Cap::Import => self.record_import(node, cap == Cap::Using),
                Cap::Export => {
                    let module = self.module_of(start);
                    for child in syntax::named_children(node) {
                        if child.kind_str() == "identifier" {
                            self.facts.exports.push((module, self.name(child)));
                        }
                    }
                }
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

    /// The value of `node` as a function returns or a loop iterates it: a call of a
    /// function (lowercase by Julia's convention, unlike a constructor) keeps only its
    /// callee, which is all that following that function's returns needs (its
    /// arguments are stored with the call already); anything else its summary.
    fn result_value(&self, node: Node) -> Value {
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

    /// The default values of the parameters of the function defined at `node`, as
    /// assignments of kind [`AssignKind::Default`] in that function.
    /// The branches of an `if` whose conditions adlint can decide ([`Guard`]): each
    /// branch runs when its own condition holds and every earlier one does not.
    fn record_guards(&mut self, node: Node, func: FuncIdx) {
        let mut earlier: Vec<(Cond, bool)> = Vec::new();
        let mut cursor = node.walk();
        let alternatives: Vec<Node> = node
            .children_by_field_name("alternative", &mut cursor)
            .collect();
        let mut branches: Vec<(Option<Node>, Span)> = Vec::new();
        let cond = node.child_by_field_name("condition");
        let then_end = alternatives
            .first()
            .map_or(node.end_byte() as u32, |a| a.start_byte() as u32);
        if let Some(c) = cond {
            branches.push((
                Some(c),
                Span {
                    start: c.end_byte() as u32,
                    end: then_end,
                },
            ));
        }
        for alt in alternatives {
            let c = alt.child_by_field_name("condition");
            let start = c.map_or(alt.start_byte(), |c| c.end_byte()) as u32;
            branches.push((
                c,
                Span {
                    start,
                    end: alt.end_byte() as u32,
                },
            ));
        }
        for (c, span) in branches {
            for &(cond, holds) in &earlier {
                self.facts.guards.push(Guard {
                    func,
                    span,
                    cond,
                    holds,
                });
            }
            let Some((cond, holds)) = c.and_then(|c| self.condition(c)) else {
                continue;
            };
            self.facts.guards.push(Guard {
                func,
                span,
                cond,
                holds,
            });
            // Later branches run only when it does not hold.
            earlier.push((cond, !holds));
        }
    }

    /// A condition adlint can decide, with the value it must have for the branch to run:
    /// `flag` (true), `!flag` (false), `VERSION >= v"1.11"`.
    fn condition(&self, node: Node) -> Option<(Cond, bool)> {
        match node.kind_str() {
            "identifier" => Some((Cond::Flag(self.name(node)), true)),
            "parenthesized_expression" => self.condition(node.named_child(0)?),
            "unary_expression" => {
                let op = node.child(0)?;
                if self.text(op) != "!" {
                    return None;
                }
                let (c, holds) =
                    self.condition(node.named_child(node.named_child_count() as u32 - 1)?)?;
                Some((c, !holds))
            }
            "binary_expression" => {
                let (lhs, op, rhs) = (node.child(0)?, node.child(1)?, node.child(2)?);
                let version = |n: Node| -> Option<crate::version::Version> {
                    (n.kind_str() == "prefixed_string_literal"
                        && n.child_by_field_name("prefix")
                            .is_some_and(|p| self.text(p) == "v"))
                    .then(|| {
                        let t = self.text(n);
                        crate::version::Version::parse(t.trim_start_matches('v').trim_matches('"'))
                    })
                    .flatten()
                };
                let cmp = match self.text(op) {
                    "<" => Cmp::Lt,
                    "<=" | "≤" => Cmp::Le,
                    ">" => Cmp::Gt,
                    ">=" | "≥" => Cmp::Ge,
                    "==" => Cmp::Eq,
                    "!=" | "≠" => Cmp::Ne,
                    _ => return None,
                };
                if self.text(lhs) == "VERSION" {
                    return Some((Cond::Version(cmp, version(rhs)?), true));
                }
                if self.text(rhs) == "VERSION" {
                    let flipped = match cmp {
                        Cmp::Lt => Cmp::Gt,
                        Cmp::Le => Cmp::Ge,
                        Cmp::Gt => Cmp::Lt,
                        Cmp::Ge => Cmp::Le,
                        other => other,
                    };
                    return Some((Cond::Version(flipped, version(lhs)?), true));
                }
                None
            }
            _ => None,
        }
    }

    fn record_defaults(&mut self, node: Node, short: bool) {
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
    fn record_returns(&mut self, node: Node, short: bool) {
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

    fn module_of(&self, byte: u32) -> Option<ModIdx> {
        self.module_at
            .iter()
            .filter(|(span, _)| span.start <= byte && byte < span.end)
            .max_by_key(|(span, _)| span.start)
            .map(|&(_, m)| m)
    }

    /// A module and its top level: a pseudo-function like the file's, so that the code in
    /// `module M ... end` is attributed to M (its imports, its globals).
    fn define_module(&mut self, node: Node, scopes: &mut ScopeStack) {
        let name = syntax::child_of_kind(node, "identifier")
            .map(|c| self.name(c))
            .unwrap_or_default();
        let span = Span::of(node);
        let parent = self.module_of(span.start);
        let idx = self.facts.modules.len() as ModIdx;
        self.facts.modules.push(ModuleDef { name, parent, span });
        self.module_at.push((span, idx));
        self.push_function(span, Function::top_level(span), scopes);
    }

    fn push_function(&mut self, node_span: Span, mut f: Function, scopes: &mut ScopeStack) {
        f.parent = Some(scopes.current_func()).into();
        f.module = self.module_of(node_span.start).into();
        let idx = self.facts.functions.len() as FuncIdx;
        self.facts.functions.push(f);
        self.func_at.insert(node_span, idx);
        scopes.funcs.push((node_span.end, idx));
    }

    fn define_function(&mut self, node: Node, cap: Cap, scopes: &mut ScopeStack) {
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

    /// Rule definitions written as functions (`function ChainRulesCore.rrule(...)`,
    /// `Zygote._pullback(...) = ...`) become rule bodies plus a [`RuleDecl`].
    fn note_rule_definition(&mut self, f: &mut Function) {
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

    fn read_params(&self, list: Node, f: &mut Function) {
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

    /// Macro calls that delimit code: closures made by the macro, escape regions and
    /// opaque regions become functions of their own, keyed by the argument list's span.
    /// A `let`, `for` or `while` outside any function is a local scope of its own, as a
    /// `@testset` body is: a function defined inside is local to it (`loss` in one `let`
    /// is not `loss` in the next, nor a method of the file's `loss`). Inside a function
    /// such blocks share the function's variables, and stay part of it.
    fn define_block_scope(&mut self, node: Node, scopes: &mut ScopeStack) {
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

    fn define_macro_scope(&mut self, node: Node, scopes: &mut ScopeStack) {
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

    /// `@non_differentiable f(x)`, `@scalar_rule f(x) ...`, `@nograd f, g`, `@opt_out ...`.
    fn record_escape_macro(&mut self, esc: knowledge::EscapeMacro, args: Node) {
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

    /// `abstract type A <: B end`.
    fn define_abstract(&mut self, node: Node) {
        if let Some(head) = syntax::child_of_kind(node, "type_head") {
            self.record_type(head, node, true);
        }
    }

    /// A type the workspace declares, with the supertype its head names (`S <: T{X}` gives
    /// `T`).
    fn record_type(&mut self, head: Node, node: Node, is_abstract: bool) {
        let Some(name) = first_identifier(head).map(|n| self.name(n)) else {
            return;
        };
        let supertype = syntax::child_of_kind(head, "binary_expression")
            .filter(|b| b.child(1).is_some_and(|op| self.text(op) == "<:"))
            .and_then(|b| b.child(2))
            .and_then(|t| self.path_of(t).last().copied());
        self.facts.types.push(TypeDecl {
            name,
            supertype,
            is_abstract,
            span: Span::of(node),
        });
    }

    fn define_struct(&mut self, node: Node, _scopes: &ScopeStack) {
        let mutable = syntax::children(node)
            .iter()
            .any(|c| c.kind_str() == "mutable" || self.text(*c) == "mutable");
        let Some(head) = syntax::child_of_kind(node, "type_head") else {
            return;
        };
        let name = first_identifier(head)
            .map(|n| self.name(n))
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut field_types = Vec::new();
        for child in syntax::named_children(node) {
            if child.id() == head.id() {
                continue;
            }
            match child.kind_str() {
                "identifier" => {
                    fields.push(self.name(child));
                    field_types.push(None);
                }
                "typed_expression" => {
                    if let Some(n) = child.child(0) {
                        fields.push(self.name(n));
                        let declared = (self.text(child).split_once("::"))
                            .map(|(_, t)| t.trim())
                            .filter(|t| !t.is_empty());
                        field_types.push(declared.map(Name::new));
                    }
                }
                _ => {}
            }
        }
        self.record_type(head, node, false);
        self.facts.structs.push(StructDef {
            name,
            mutable,
            fields: List::new(&fields),
            field_types: List::new(&field_types),
            module: self.module_of(node.start_byte() as u32),
            span: Span::of(node),
        });
    }

    fn macro_path(&self, node: Node) -> Vec<Name> {
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
    fn path_of(&self, node: Node) -> Vec<Name> {
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

    fn value_of(&self, node: Node, depth: u32) -> Value {
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

    fn record_call(&mut self, node: Node, func: FuncIdx, broadcast: bool) {
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

    fn record_macro(&mut self, node: Node, func: FuncIdx) {
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
                            let (target, indexed) = self.assign_target(lhs);
                            if let Some(target) = target {
                                self.facts.sites.push(Site {
                                    func,
                                    kind: SiteKind::BroadcastAssign {
                                        target,
                                        op: Name::new(&format!(".{op}")),
                                        indexed,
                                    },
                                    span: Span::of(node),
                                });
                            }
                        }
                    }
                }
            }
        }
    }

    /// For `x[...]` the indexed object; for a plain name the name itself.
    fn assign_target(&self, lhs: Node) -> (Option<Value>, bool) {
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

    fn record_assign(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
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
            "index_expression" => {
                let empty_index = lhs
                    .named_child(1)
                    .is_some_and(|i| i.named_child_count() == 0);
                if let Some(target) = lhs.child(0).map(|c| self.value_of(c, 1)) {
                    self.facts.sites.push(Site {
                        func,
                        kind: SiteKind::IndexAssign {
                            target,
                            op: "=".into(),
                            empty_index,
                        },
                        span,
                    });
                }
            }
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

    fn record_update(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
        if self.is_inside_macro_dot(node) {
            return;
        }
        let Some(lhs) = node.child(0) else { return };
        let op = node.child(1).map(|o| self.name(o)).unwrap_or_default();
        let span = Span::of(node);
        if op.starts_with('.') {
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
            "index_expression" => {
                let empty_index = lhs
                    .named_child(1)
                    .is_some_and(|i| i.named_child_count() == 0);
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
            "field_expression" => self.push_field_assign(lhs, func, span),
            _ => {}
        }
    }

    fn record_loop_binding(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
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

    fn record_let_binding(&mut self, node: Node, func: FuncIdx, scopes: &ScopeStack) {
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

    fn record_try(&mut self, node: Node, func: FuncIdx) {
        let kids = syntax::named_children(node);
        let has_catch = kids.iter().any(|c| c.kind_str() == "catch_clause");
        let has_finally = kids.iter().any(|c| c.kind_str() == "finally_clause");
        let is_throw = |n: Node| {
            n.kind_str() == "call_expression" && n.child(0).is_some_and(|c| self.text(c) == "throw")
        };
        let throws_when = (kids.iter())
            .filter(|c| {
                !matches!(
                    c.kind_str(),
                    "catch_clause" | "finally_clause" | "else_clause"
                )
            })
            .find_map(|&c| {
                let cond = match c.kind_str() {
                    "binary_expression" => {
                        let op = c.child(1).map(|o| self.text(o));
                        let rhs = c.named_child(c.named_child_count().saturating_sub(1) as u32);
                        (op == Some("&&") && rhs.is_some_and(is_throw)).then(|| c.named_child(0))?
                    }
                    "if_statement" => {
                        let cond = c.child_by_field_name("condition")?;
                        let body = syntax::named_children(c);
                        body.iter().any(|&b| is_throw(b)).then_some(Some(cond))?
                    }
                    _ => None,
                }?;
                (cond.kind_str() == "identifier").then(|| self.name(cond))
            });
        // `y = try ... end`: the finding points at the assignment.
        let span = node
            .parent()
            .filter(|p| p.kind_str() == "assignment" && p.child(0) != Some(node))
            .map(Span::of)
            .unwrap_or(Span::of(node));
        self.facts.sites.push(Site {
            func,
            kind: SiteKind::Try {
                has_catch,
                has_finally,
                throws_when,
            },
            span,
        });
    }

    fn record_ref(&mut self, node: Node, parent: Option<Node>, mut func: FuncIdx) {
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

    fn record_import(&mut self, node: Node, is_using: bool) {
        let module = self.module_of(node.start_byte() as u32);
        for item in syntax::named_children(node) {
            let mut imp = Import {
                module,
                path: vec![],
                names: None,
                alias: None,
                is_using,
                span: Span::of(node),
            };
            match item.kind_str() {
                "identifier" | "import_path" | "field_expression" | "scoped_identifier" => {
                    imp.path = self.import_path(item);
                }
                "selected_import" => {
                    let kids = syntax::named_children(item);
                    if let Some((first, rest)) = kids.split_first() {
                        imp.path = self.import_path(*first);
                        imp.names = Some(
                            rest.iter()
                                .map(|n| {
                                    let t = self.text(*n);
                                    Name::new(t.rsplit(' ').next().unwrap_or(t))
                                })
                                .collect(),
                        );
                    }
                }
                "import_alias" => {
                    let kids = syntax::named_children(item);
                    if let (Some(first), Some(last)) = (kids.first(), kids.last()) {
                        imp.path = self.import_path(*first);
                        imp.alias = Some(self.name(*last));
                    }
                }
                _ => continue,
            }
            if !imp.path.is_empty() {
                self.facts.imports.push(imp);
            }
        }
    }

    fn import_path(&self, node: Node) -> Vec<Name> {
        let t = self.text(node);
        let mut out = Vec::new();
        let trimmed = t.trim_start_matches('.');
        for _ in 0..(t.len() - trimmed.len()) {
            out.push(Name::new("."));
        }
        out.extend(trimmed.split('.').map(|s| Name::new(s.trim())));
        out
    }
}

/// The `# adlint:` comments of a file (line comments only; suppression directives are
/// single-line by design).
fn suppression_comments(source: &str) -> Vec<Comment> {
    // One search of the whole text (most files have no directive), the first per line.
    let mut out = Vec::new();
    let mut next_line = 0;
    for (start, _) in source.match_indices("# adlint:") {
        if start < next_line {
            continue;
        }
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let text = source[start..line_end].trim_end().to_string();
        out.push(Comment {
            span: Span {
                start: start as u32,
                end: (start + text.len()) as u32,
            },
            text,
        });
        next_line = line_end + 1;
    }
    out
}

#[derive(Default)]
struct ScopeStack {
    /// Open functions: (end byte, index).
    funcs: Vec<(u32, FuncIdx)>,
    /// Open blocks: (end byte, span, is a loop, owning function).
    blocks: Vec<(u32, Span, bool, FuncIdx)>,
}

impl ScopeStack {
    fn leave_before(&mut self, start: u32) {
        while self.funcs.last().is_some_and(|&(end, _)| end <= start) {
            self.funcs.pop();
        }
        while self.blocks.last().is_some_and(|&(end, ..)| end <= start) {
            self.blocks.pop();
        }
    }
    fn current_func(&self) -> FuncIdx {
        self.funcs.last().map(|&(_, f)| f).unwrap_or(0)
    }
    fn current_macro(&self, facts: &FileFactsData) -> Option<Name> {
        let f = self.current_func();
        facts.functions[f as usize].in_macro.filter(|_| {
            matches!(
                facts.functions[f as usize].kind,
                FunctionKind::Region { .. } | FunctionKind::MacroClosure
            )
        })
    }
    fn block_of(&self, func: FuncIdx, f: &Function) -> (Span, bool) {
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

/// `f(x) = ...`, `f(x) where T = ...`, `f(x)::T = ...`: an assignment whose left side is a
/// call is a method definition.
fn is_short_definition(node: Node) -> bool {
    node.child(0).is_some_and(|lhs| match lhs.kind_str() {
        "call_expression" => true,
        "where_expression" | "typed_expression" => lhs
            .named_child(0)
            .is_some_and(|c| c.kind_str() == "call_expression"),
        _ => false,
    })
}

/// The call inside a signature: `f(x)`, `f(x) where T`, `f(x)::T`.
/// The calls of a literal tuple or vector of (at most 16) calls: `(AutoZygote(),
/// AutoForwardDiff())`.
/// What [`Extractor::record_call_as`] records a node as.
struct CallShape<'t> {
    callee: Vec<Name>,
    adjoint: bool,
    broadcast: bool,
    callee_node: Node<'t>,
    /// Keyword arguments given a literal list of calls are recorded once per element.
    list_keywords: bool,
}

fn literal_calls(node: Node) -> Option<Vec<Node>> {
    let items = syntax::named_children(node);
    (matches!(node.kind_str(), "tuple_expression" | "vector_expression")
        && (1..=16).contains(&items.len())
        && items.iter().all(|i| i.kind_str() == "call_expression"))
    .then_some(items)
}

fn find_signature_call(node: Node) -> Option<Node> {
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

fn first_identifier(node: Node) -> Option<Node> {
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

/// `Foo{T}` -> `Foo`, `M.Foo` -> `Foo`, `<:Foo` -> `Foo`.
pub fn base_type_name(text: &str) -> String {
    let t = text.trim().trim_start_matches("<:").trim();
    let t = t.split('{').next().unwrap_or(t);
    t.rsplit('.').next().unwrap_or(t).trim().to_string()
}

/// What an annotation says a value is, when adlint can tell: a number, a string, or an
/// array with a known number of dimensions (`None`: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    Number,
    Text,
    Array(Option<u8>),
}

pub fn type_family(annotation: &str) -> Option<TypeFamily> {
    let base = base_type_name(annotation);
    let base = base.rsplit('.').next().unwrap_or(&base);
    Some(match base {
        "Number" | "Real" | "Integer" | "Signed" | "Unsigned" | "AbstractFloat" | "Int"
        | "Int8" | "Int16" | "Int32" | "Int64" | "Int128" | "UInt" | "UInt8" | "UInt16"
        | "UInt32" | "UInt64" | "UInt128" | "Float16" | "Float32" | "Float64" | "Bool"
        | "Complex" | "ComplexF32" | "ComplexF64" | "Rational" | "AbstractIrrational" => {
            TypeFamily::Number
        }
        "String" | "AbstractString" | "Symbol" | "Char" | "AbstractChar" => TypeFamily::Text,
        "Vector" | "AbstractVector" | "DenseVector" | "StridedVector" | "BitVector"
        | "SparseVector" | "CuVector" => TypeFamily::Array(Some(1)),
        "Matrix" | "AbstractMatrix" | "DenseMatrix" | "StridedMatrix" | "BitMatrix"
        | "SparseMatrixCSC" | "CuMatrix" => TypeFamily::Array(Some(2)),
        "Array" | "AbstractArray" | "DenseArray" | "StridedArray" | "BitArray" | "CuArray" => {
            TypeFamily::Array(None)
        }
        _ => return None,
    })
}

/// Whether two annotations can hold no common value, as far as [`type_family`] tells.
pub fn types_disjoint(a: &str, b: &str) -> bool {
    match (type_family(a), type_family(b)) {
        (Some(TypeFamily::Array(Some(x))), Some(TypeFamily::Array(Some(y)))) => x != y,
        (Some(TypeFamily::Array(_)), Some(TypeFamily::Array(_))) => false,
        (Some(x), Some(y)) => x != y,
        _ => false,
    }
}

/// The annotations of `declared` and `params` position by position, where both have one,
/// up to either side's varargs.
pub fn positional_pairs<'p>(
    declared: &'p [Param],
    params: &'p [Param],
) -> impl Iterator<Item = (Name, Name)> + 'p {
    (declared.iter().zip(params))
        .take_while(|(d, p)| !d.vararg && !p.vararg)
        .filter_map(|(d, p)| Some((d.annotation?, p.annotation?)))
}

impl RuleDecl {
    /// Whether the declaration may cover a method of this arity and these parameters: the
    /// arities overlap, and no position's declared type is disjoint from the method's
    /// ([`types_disjoint`]): a rule applies to the argument types it is declared for
    /// (zygote-semantics.md §6.1).
    pub fn may_cover(&self, arity: (usize, Option<usize>), params: &[Param]) -> bool {
        let overlaps = self.arity.is_none_or(|(req, max)| {
            let lo = req.max(arity.0);
            let hi = match (max, arity.1) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => usize::MAX,
            };
            lo <= hi
        });
        overlaps && !positional_pairs(&self.params, params).any(|(a, b)| types_disjoint(&a, &b))
    }
}

#[cfg(test)]
mod tests {
    use super::suppression_comments;

    #[test]
    fn suppression_comments_are_the_first_directive_of_each_line() {
        let src = "x[1] = 2  # adlint: ignore[index-assignment]  \r\n\
                   y = 1 # adlint: ignore # adlint: ignore[try-catch]\n\
                   # nothing here\n\
                   # adlint: ignore-function";
        let found: Vec<(usize, &str)> = suppression_comments(src)
            .iter()
            .map(|c| (c.span.start as usize, &src[c.span.range()]))
            .collect();
        let first = src.find("# adlint: ignore[index").unwrap();
        let second = src.find("# adlint: ignore #").unwrap();
        let last = src.rfind("# adlint: ignore-function").unwrap();
        assert_eq!(
            found,
            vec![
                (first, "# adlint: ignore[index-assignment]"),
                (second, "# adlint: ignore # adlint: ignore[try-catch]"),
                (last, "# adlint: ignore-function"),
            ]
        );
        let texts: Vec<String> = suppression_comments(src)
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(texts[0], "# adlint: ignore[index-assignment]");
        assert!(suppression_comments("f(x) = x\n").is_empty());
    }
}
