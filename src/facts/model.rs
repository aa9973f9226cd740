//! The facts of a file: what the per-file pass keeps of its tree (functions, calls,
//! assignments, sites, declarations, imports...) and the small methods that read them.
//! Every later stage reads these types; only the extractor ([`super::extract`]) and the
//! chunk reuse ([`super::reuse`]) build them.

use super::types::{positional_pairs, types_disjoint};
use crate::name::{List, Name, Path};
use crate::span::Span;
use crate::syntax::LineIndex;

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
pub struct FileFacts(pub(super) std::sync::Arc<FileFactsData>);

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
    /// ([`crate::syntax::parse_range`]) when a tree is needed after the file's was dropped.
    pub chunks: Vec<Span>,
    /// The argument values of calls and of call values, which hold ranges of it
    /// ([`FileFactsData::args`]): one list per file instead of one per call.
    pub values: Vec<Value>,
    /// The keyword arguments of calls, likewise ([`FileFactsData::kwargs`]).
    pub keywords: Vec<(Name, Value)>,
    pub parse_errors: usize,
    /// Where the first of them starts (a byte), when the tree holds one.
    pub first_parse_error: Option<u32>,
    pub line_index: LineIndex,
    /// Indexes into `assigns` by function, then variable (by its interned number), then
    /// place: [`FileFactsData::assigns_to`] (set when the facts are complete).
    pub(super) assigns_by: Vec<u32>,
}

impl FileFactsData {
    /// Give back the spare capacity of the fact lists: facts of every file of a workspace
    /// stay in memory for the whole analysis.
    pub(super) fn shrink_to_fit(&mut self) {
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
        let mut by: Vec<u32> = (0..self.assigns.len() as u32).collect();
        let assigns = &self.assigns;
        by.sort_unstable_by_key(|&i| {
            let a = &assigns[i as usize];
            (a.func, a.var.number(), i)
        });
        self.assigns_by = by;
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

    /// The assignments to `var` written directly in `func`, in order (looked up, not
    /// searched for among all the file's assignments: a question per finding or per value
    /// traced, over a long file).
    pub fn assigns_to(&self, func: FuncIdx, var: Name) -> impl Iterator<Item = &Assign> {
        let key = |i: u32| {
            let a = &self.assigns[i as usize];
            (a.func, a.var.number())
        };
        let first = (self.assigns_by).partition_point(|&i| key(i) < (func, var.number()));
        (self.assigns_by[first..].iter())
            .take_while(move |&&i| key(i) == (func, var.number()))
            .map(|&i| &self.assigns[i as usize])
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

/// What a search out through the functions around a function found ([`first_around`]), by
/// (file, function, name): the function where the name was found, or none.
pub type AroundMemo = std::sync::Mutex<crate::name::FastMap<(u32, FuncIdx, Name), Option<FuncIdx>>>;

/// The first of `func` and the functions around it, inner first, where `here` finds `name`
/// (`Some(true)`; `Some(false)` ends the search with none), remembered in `memo` for each
/// function on the way: code nested deep looks out through every function around it, once
/// for all of its questions and those of the functions inside it (each of 16,000 closures
/// nested in one another asking where `x` is bound was quadratic).
pub fn first_around(
    memo: &AroundMemo,
    functions: &[Function],
    file: u32,
    func: FuncIdx,
    name: Name,
    here: impl Fn(FuncIdx) -> Option<bool>,
) -> Option<FuncIdx> {
    let mut path: Vec<FuncIdx> = Vec::new();
    let mut cur = Some(func);
    let found = loop {
        let Some(f) = cur else { break None };
        let known = (memo.lock().expect("not poisoned"))
            .get(&(file, f, name))
            .copied();
        if let Some(known) = known {
            break known;
        }
        // At most one step per function, whatever the parents say.
        if path.len() > functions.len() {
            break None;
        }
        path.push(f);
        match here(f) {
            Some(true) => break Some(f),
            Some(false) => break None,
            None => cur = functions.get(f as usize).and_then(|d| d.parent.get()),
        }
    };
    if !path.is_empty() {
        let mut memo = memo.lock().expect("not poisoned");
        for f in path {
            memo.insert((file, f, name), found);
        }
    }
    found
}

/// A file's functions ordered by the start of their span, to find the functions around a
/// place by following parents from the last one that starts before it, rather than by
/// asking every function (once per finding, that was quadratic in a file of many
/// functions and findings).
#[derive(Debug, Default, Clone)]
pub struct FunctionsByStart(Vec<(u32, FuncIdx)>);

impl FunctionsByStart {
    pub fn new(facts: &FileFactsData) -> Self {
        let mut v: Vec<(u32, FuncIdx)> = (facts.functions.iter().enumerate())
            .map(|(i, f)| (f.span.start, i as FuncIdx))
            .collect();
        v.sort_unstable();
        FunctionsByStart(v)
    }

    /// The functions whose span contains `span`, innermost first; of several with one
    /// span, the last defined first. The function that starts last at or before `span`
    /// starts inside the innermost one around `span` (spans nest, and so do parents), so
    /// every function around `span` is among its parents.
    pub fn around<'a>(
        &'a self,
        facts: &'a FileFactsData,
        span: Span,
    ) -> impl Iterator<Item = FuncIdx> + 'a {
        let last = self.0.partition_point(|&(start, _)| start <= span.start);
        let mut cur = last.checked_sub(1).map(|i| self.0[i].1);
        // At most one step per function, whatever the parents say.
        let mut steps = facts.functions.len();
        std::iter::from_fn(move || {
            while let Some(f) = cur {
                if steps == 0 {
                    return None;
                }
                steps -= 1;
                let def = facts.functions.get(f as usize)?;
                cur = def.parent.get();
                if def.span.contains(span) {
                    return Some(f);
                }
            }
            None
        })
    }

    /// The functions that start inside `outer`, by start.
    pub fn starting_in(&self, outer: Span) -> impl Iterator<Item = FuncIdx> + '_ {
        let first = self.0.partition_point(|&(start, _)| start < outer.start);
        (self.0[first..].iter())
            .take_while(move |&&(start, _)| start < outer.end.max(outer.start + 1))
            .map(|&(_, i)| i)
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
    pub(super) fn top_level(span: Span) -> Function {
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
    pub(super) fn append<T>(list: &mut Vec<T>, items: impl IntoIterator<Item = T>) -> Args {
        let start = list.len() as u32;
        list.extend(items.into_iter().take(u16::MAX as usize));
        Args {
            start,
            len: (list.len() as u32 - start) as u16,
        }
    }

    pub(super) fn range(self) -> std::ops::Range<usize> {
        let (start, len) = (self.start as usize, self.len as usize);
        start..start + len
    }

    /// The same items after `by` items were put before them (chunk relocation).
    pub(super) fn shifted(self, by: u32) -> Args {
        Args {
            start: self.start + by,
            len: self.len,
        }
    }
}

/// Keyword arguments of a call: a range of the file's [`FileFactsData::keywords`] (read
/// them with [`FileFactsData::kwargs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KwArgs(pub(super) Args);

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
