//! The small IR the interpreter evaluates. Lowered once from the tree-sitter tree
//! (see `lower.rs`); the interpreter never looks at tree nodes.

use std::rc::Rc;

pub type Name = Rc<str>;

/// Where a construct is in the source: file index, byte span, 1-based line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
    pub line: u32,
}

/// Literal constants appearing in source.
#[derive(Clone, Debug)]
pub enum Lit {
    Nothing,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string literal, made once when the program is lowered (it counts in the memory
    /// budget like any string).
    Str(Rc<super::value::Text>),
    Sym(Name),
    Char(char),
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub ex: Ex,
    pub splat: bool,
}

#[derive(Clone, Debug)]
pub enum KwArg {
    Named(Name, Ex),
    Splat(Ex),
}

/// Assignment targets (also loop / let patterns).
#[derive(Clone, Debug)]
pub enum Lv {
    Var(Name),
    Tuple(Vec<Lv>),
    /// `(; a, b) = nt`
    Props(Vec<Name>),
    Index(Box<Ex>, Vec<Ex>),
    Field(Box<Ex>, Name),
    /// `_`
    Discard,
}

/// A type annotation, reduced to what dispatch needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Any,
    /// A named type with its parameters dropped, e.g. `AbstractVector`.
    Named(Name),
    /// `::typeof(f)`
    TypeOf(Name),
    /// `::Type{T}` (matches type values)
    TypeVal,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: Option<Name>,
    pub ty: Ty,
    pub default: Option<Ex>,
    pub splat: bool,
}

#[derive(Debug)]
pub struct FuncDef {
    pub name: Option<Name>,
    /// Qualifier path of the defined name (`ChainRulesCore.rrule` -> ["ChainRulesCore"]).
    pub qualifier: Vec<Name>,
    /// For callable-struct methods `(m::T)(x)`: the struct name and the receiver variable.
    pub callable: Option<(Name, Option<Name>)>,
    pub params: Vec<Param>,
    pub kwparams: Vec<Param>,
    pub kwsplat: Option<Name>,
    pub body: Ex,
    /// Span of the first `try` in the body (Zygote <= 0.6.70 rejects such functions).
    pub try_span: Option<Span>,
    pub span: Span,
    /// Destructured positional parameters `f(a, (x, y))`: (parameter index, pattern).
    pub destructure: Vec<(usize, Lv)>,
}

#[derive(Debug)]
pub struct StructDef {
    pub name: Name,
    pub mutable: bool,
    pub fields: Vec<Name>,
    pub field_tys: Vec<Ty>,
    pub supertype: Option<Name>,
}

#[derive(Clone, Debug)]
pub enum Ex {
    Lit(Lit),
    Var(Name, Span),
    Call {
        f: Box<Ex>,
        args: Vec<Arg>,
        kw: Vec<KwArg>,
        span: Span,
    },
    /// `f.(args)` and dotted operators; `f` evaluates to the function.
    Bcast {
        f: Box<Ex>,
        args: Vec<Arg>,
        span: Span,
    },
    Index {
        obj: Box<Ex>,
        idx: Vec<Ex>,
        span: Span,
    },
    /// `end` inside an index expression.
    End,
    /// a bare `:` inside an index expression.
    Colon,
    Field {
        obj: Box<Ex>,
        name: Name,
        span: Span,
    },
    Tuple(Vec<Arg>),
    NamedTuple(Vec<(Name, Ex)>),
    Vect(Vec<Arg>),
    /// `[a b; c d]`: rows of entries (a single row is an hcat).
    Matrix(Vec<Vec<Ex>>),
    Range(Box<Ex>, Option<Box<Ex>>, Box<Ex>),
    And(Box<Ex>, Box<Ex>),
    Or(Box<Ex>, Box<Ex>),
    If(Box<Ex>, Box<Ex>, Option<Box<Ex>>),
    Block(Vec<Ex>),
    /// A new local scope around the body (let, loop bodies).
    Let(Vec<(Lv, Option<Ex>)>, Box<Ex>),
    Lambda(Rc<FuncDef>),
    FuncDef(Rc<FuncDef>),
    Comprehension {
        body: Box<Ex>,
        iters: Vec<(Lv, Ex)>,
        cond: Option<Box<Ex>>,
        span: Span,
    },
    Assign(Lv, Box<Ex>, Span),
    /// `lhs .= rhs` (also `.+=`, `@. lhs = rhs`)
    DotAssign(Lv, Box<Ex>, Span),
    For {
        iters: Vec<(Lv, Ex)>,
        body: Box<Ex>,
    },
    While(Box<Ex>, Box<Ex>),
    Break,
    Continue,
    Return(Box<Ex>),
    Try {
        body: Box<Ex>,
        catch_var: Option<Name>,
        catch_body: Option<Box<Ex>>,
        catch_line: u32,
        finally: Option<Box<Ex>>,
        span: Span,
    },
    StructDef(Rc<StructDef>),
    Global(Vec<Name>),
    /// `const x = ...`: a global whose binding never changes (Zygote does not accumulate
    /// gradients of constant globals).
    Const(Vec<Name>),
    Local(Vec<Name>),
    Ccall {
        name: Name,
        ret: Name,
        argtys: Name,
        args: Vec<Ex>,
        span: Span,
    },
    /// `Zygote.@ignore ex`, `@ignore_derivatives ex`: evaluated without recording.
    Ignore(Box<Ex>),
    /// `@non_differentiable f(args...)`
    NonDiff(Name),
    /// `@adjoint f(x) = ...`
    Adjoint(Rc<FuncDef>),
    /// String interpolation pieces.
    Interp(Vec<Ex>),
    /// Raised when evaluated.
    Unsupported(String, Span),
}
