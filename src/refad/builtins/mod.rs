//! Builtin functions: the parts of Base, LinearAlgebra, Random, NNlib and the Zygote /
//! ChainRules API that the interpreter models.
//!
//! Each domain file registers its builtins in a `BUILTINS` table whose entries hold the names
//! a function answers to together with the function, so a name is a builtin exactly when it
//! has code. The registry behind [`is_builtin`] and [`call_builtin`] is built once from those
//! tables. A builtin called with arguments outside its modelled methods answers
//! `Call::no_method`: "unsupported", never a MethodError the program could catch.
//!
//! Scalar primitives record their partial derivatives on the tape; array functions are built
//! from scalar nodes. Mutating array functions run normally and record a Zygote mutation event.
//!
//! The domains:
//! - `numbers.rs`: arithmetic, comparison, logic, the one-argument math functions and their
//!   derivatives;
//! - `arrays.rs`: shape, ranges, construction, copying, concatenation (`cat` with any
//!   `dims`), `circshift`, `mapslices`, ordering;
//! - `indexing.rs`: `getindex`, `setindex!` and iteration;
//! - `broadcast.rs`: broadcasting, `map`, `foreach`, `filter` and `.=`;
//! - `reductions.rs`: `sum`, `prod`, `maximum`, folds, `any`/`all`, `softmax`;
//! - `linalg.rs`: matrix product, `dot`, `norm`, transposes, `diag`, `tr`, `\\`, `inv`,
//!   `det`, `qr`, `mul!`, `I`;
//! - `mutation.rs`: in-place array functions, which record Zygote's mutation events;
//! - `collections.rs`: `Dict`, tuples, named tuples, pairs, `Ref`, membership;
//! - `strings.rs`: `string`, `repr`, `Symbol`;
//! - `io.rs`: printing (which prints nothing), clocks, `include`;
//! - `iterators.rs`: `Base.Iterators` (`product`, `take`, `partition`, ...), materialised;
//! - `errors.rs`: `error`, `throw`, `rethrow` and the exception constructors;
//! - `reflection.rs`: types, fields and properties;
//! - `random.rs`: `rand`, `randn`, `seed!` and the generator;
//! - `zygote.rs`: the AD API: `gradient`, `pullback`, `ignore_derivatives`, `Buffer`, tangents.
//!
//! This file holds the registry, the named constants, constructors ([`construct`]) and the
//! helpers the domains share (lengths, sizes, ranges, concatenation, argument checks).
//!
//! To add a builtin, write its function in the domain file it belongs to and add an entry to
//! that file's `BUILTINS` table; a new domain file also goes into `DOMAINS`.

mod arrays;
mod broadcast;
mod collections;
mod errors;
mod indexing;
mod io;
mod iterators;
mod linalg;
mod mutation;
mod numbers;
mod random;
mod reductions;
mod reflection;
pub mod strings;
mod tasks;
mod zygote;

use super::interp::{Ctrl, Interp, R};
use super::ir::{Name, Span};
use super::value::*;
use crate::name::FastMap;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::OnceLock;

/// The code of a builtin. One function may serve several names (`push!`, `pushfirst!`, ...);
/// it reads the name it was called by from [`Call::name`].
type BuiltinFn = fn(&mut Interp, Call) -> R<Value>;

/// One entry of a domain's `BUILTINS` table: the names and the function that answers them.
struct Builtin {
    names: &'static [&'static str],
    call: BuiltinFn,
}

/// A call of a builtin, as the function registered for its name receives it.
struct Call<'a> {
    name: &'a Name,
    args: Vec<Value>,
    kw: Vec<(Name, Value)>,
    span: Span,
    /// Which keywords the builtin read (bit `i` for `kw[i]`): one it never read would be
    /// ignored, and `argmax(x; dims = 1)` answered as `argmax(x)` (see [`call_builtin`]).
    read: &'a std::cell::Cell<u64>,
}

impl Call<'_> {
    /// The answer to arguments outside the modelled methods. Julia may well have a method, so
    /// this is "unsupported", never a MethodError the program could catch.
    fn no_method(&self, it: &Interp) -> Ctrl {
        it.unsupported(
            &format!(
                "{}({})",
                self.name,
                self.args
                    .iter()
                    .map(|x| format!("::{}", type_name(x)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            self.span,
        )
    }

    fn kwarg(&self, k: &str) -> Option<&Value> {
        let i = self.kw.iter().position(|(n, _)| n.as_ref() == k)?;
        self.read
            .set(self.read.get() | 1u64.checked_shl(i as u32).unwrap_or(0));
        Some(&self.kw[i].1)
    }

    /// The keywords, for a builtin that passes them on to another call, which reads them.
    fn forward_kw(&self) -> Vec<(Name, Value)> {
        self.read.set(u64::MAX);
        self.kw.clone()
    }
}

/// Names known as Base or package functions whose methods are not modelled: a call is
/// reported as unsupported, like a modelled builtin called with unmodelled arguments, and a
/// user method added to one of them falls back to that answer when no user method applies.
fn unmodelled(it: &mut Interp, c: Call) -> R<Value> {
    Err(c.no_method(it))
}

/// Every domain's table. A name registered twice is a bug, caught when the registry is built.
const DOMAINS: &[&[Builtin]] = &[
    numbers::BUILTINS,
    arrays::BUILTINS,
    indexing::BUILTINS,
    broadcast::BUILTINS,
    reductions::BUILTINS,
    linalg::BUILTINS,
    mutation::BUILTINS,
    collections::BUILTINS,
    strings::BUILTINS,
    io::BUILTINS,
    tasks::BUILTINS,
    iterators::BUILTINS,
    errors::BUILTINS,
    reflection::BUILTINS,
    random::BUILTINS,
    zygote::BUILTINS,
];

fn registry() -> &'static FastMap<&'static str, BuiltinFn> {
    static REGISTRY: OnceLock<FastMap<&'static str, BuiltinFn>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = FastMap::default();
        let mut add = |name: &'static str, call: BuiltinFn| {
            let old = map.insert(name, call);
            assert!(old.is_none(), "builtin `{name}` is registered twice");
        };
        for b in DOMAINS.iter().flat_map(|d| d.iter()) {
            for &name in b.names {
                add(name, b.call);
            }
        }
        // The one-argument math functions are registered from their own table, which also
        // holds their derivatives.
        for &(names, _, _) in numbers::UNARY {
            for &name in names {
                add(name, numbers::unary_builtin);
            }
        }
        map
    })
}

/// Every builtin function's name, sorted (the hostile-argument tests call each).
pub fn builtin_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = registry().keys().copied().collect();
    names.sort_unstable();
    names
}

/// Whether `n` names a builtin function: one registered, with its code, by a domain table.
pub fn is_builtin(n: &str) -> bool {
    registry().contains_key(n)
}

/// Dispatch of builtin functions by name.
pub fn call_builtin(
    it: &mut Interp,
    n: &Name,
    args: Vec<Value>,
    kw: Vec<(Name, Value)>,
    span: Span,
) -> R<Value> {
    // A builtin over a large array is one step of the step budget but may take as long
    // as thousands (`sum` of nine million elements): the clock is read after it, so the
    // time budget holds within one such call.
    let large = |v: &Value| matches!(v, Value::Arr(a) if a.borrow().data.len() >= LARGE);
    let timed = args.iter().any(large);
    // A keyword the builtin never read was ignored, and its answer may be wrong: the run
    // stops as unsupported instead (whatever the builtin answered; a stop stays a stop).
    let read = std::cell::Cell::new(0u64);
    let given: Vec<Name> = kw.iter().map(|(k, _)| k.clone()).collect();
    let out = match registry().get(n.as_ref()) {
        Some(call) => call(
            it,
            Call {
                name: n,
                args,
                kw,
                span,
                read: &read,
            },
        ),
        None => Err(it.unsupported(&format!("function {n}"), span)),
    };
    let ignored = (given.iter().enumerate())
        .find(|(i, _)| *i < 64 && read.get() & (1 << i) == 0)
        .map(|(_, k)| k);
    if let (Some(k), false) = (ignored, matches!(out, Err(Ctrl::Stop(_)))) {
        return Err(it.unsupported(&format!("{n} with the keyword {k}"), span));
    }
    if timed || out.as_ref().is_ok_and(large) {
        it.check_time()?;
    }
    out
}

/// Elements from which work on an array is timed on its own (`call_builtin`).
const LARGE: usize = 4096;

// ---------------------------------------------------------------- shared helpers

/// The named constants: `pi`, `ℯ`, `Inf`, `NaN`, `nothing`, `undef`, `stdout`, ...
pub fn constant(n: &str) -> Option<Value> {
    Some(match n {
        "pi" | "π" => Value::F(std::f64::consts::PI),
        "ℯ" => Value::F(std::f64::consts::E),
        "Inf" | "Inf64" => Value::F(f64::INFINITY),
        "NaN" | "NaN64" => Value::F(f64::NAN),
        "nothing" => Value::Nothing,
        "undef" => Value::Sym(Rc::from("undef")),
        "stdout" | "stderr" => Value::Nothing,
        _ => return None,
    })
}

fn nm(s: &str) -> Name {
    Rc::from(s)
}

pub fn length_of(v: &Value) -> usize {
    match v {
        Value::Arr(a) => a.borrow().data.len(),
        Value::Range(a, s, b) => range_len(*a, *s, *b),
        Value::Tuple(t) => t.len(),
        Value::NT(_, t) => t.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::Str(s) => s.chars().count(),
        Value::Buffer(b) => length_of(&b.borrow().arr),
        _ => 1,
    }
}

pub fn size_of(v: &Value) -> Vec<usize> {
    match v {
        Value::Arr(a) => a.borrow().dims.clone(),
        Value::Buffer(b) => size_of(&b.borrow().arr),
        Value::Range(..) | Value::Tuple(_) => vec![length_of(v)],
        _ => vec![],
    }
}

/// The length of `a:s:b`, in wide arithmetic (`typemin(Int):typemax(Int)` overflowed) and
/// at most `usize::MAX`.
pub fn range_len(a: i64, s: i64, b: i64) -> usize {
    if s == 0 {
        return 0;
    }
    if (s > 0 && b < a) || (s < 0 && b > a) {
        0
    } else {
        let n = (b as i128 - a as i128) / s as i128 + 1;
        usize::try_from(n).unwrap_or(usize::MAX)
    }
}

pub fn make_range(it: &mut Interp, a: &Value, s: Option<&Value>, b: &Value) -> R<Value> {
    match (a, s, b) {
        // An empty range ends at `a - 1` (for `a` = typemin(Int), `b` is never below it).
        (Value::Int(a), None, Value::Int(b)) => {
            Ok(Value::Range(*a, 1, (*b).max(a.saturating_sub(1))))
        }
        (Value::Int(a), Some(Value::Int(s)), Value::Int(b)) => {
            if *s == 0 {
                return Err(it.throw("ArgumentError", "ArgumentError: step cannot be zero"));
            }
            let n = range_len(*a, *s, *b);
            // The last element, within `a..=b`; an empty range ends one step before `a`, or
            // at `b` where that step is past the integers.
            let stop = match n {
                0 => a.checked_sub(*s).unwrap_or(*b),
                n => a.wrapping_add((n as i64).wrapping_sub(1).wrapping_mul(*s)),
            };
            Ok(Value::Range(*a, *s, stop))
        }
        _ => {
            // float range: materialise
            let a = a.as_f64();
            let s = s.map(|v| v.as_f64()).unwrap_or(Some(1.0));
            let b = b.as_f64();
            match (a, s, b) {
                (Some(a), Some(s), Some(b)) if s != 0.0 => {
                    let n = ((b - a) / s + 1e-10).floor() + 1.0;
                    let n = if n < 0.0 { 0 } else { n as usize };
                    it.check_elements(n)?;
                    Ok(Value::vec_f((0..n).map(|i| a + s * i as f64).collect()))
                }
                _ => Err(it.unsupported_here("a range whose endpoints are not numbers")),
            }
        }
    }
}

fn to_usize(it: &Interp, v: &Value) -> R<usize> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as usize),
        Value::Bool(b) => Ok(*b as usize),
        _ => Err(it.throw(
            "ArgumentError",
            format!("ArgumentError: invalid dimension {}", show(v)),
        )),
    }
}

fn dims_from(it: &Interp, args: &[Value]) -> R<Vec<usize>> {
    if args.len() == 1 {
        if let Value::Tuple(t) = &args[0] {
            return t.iter().map(|x| to_usize(it, x)).collect();
        }
    }
    args.iter().map(|x| to_usize(it, x)).collect()
}

/// The number of elements of an array of `dims`, within the element budget. A product
/// past the address width is Julia's `ArgumentError` (it wrapped to a small number, so
/// `zeros(2^32, 2^32)` made an empty array).
pub fn element_count(it: &Interp, dims: &[usize]) -> R<usize> {
    let n = (dims.iter()).try_fold(1usize, |n, &d| {
        n.checked_mul(d).filter(|&n| n <= isize::MAX as usize)
    });
    let Some(n) = n else {
        return Err(it.throw("ArgumentError", "ArgumentError: invalid Array dimensions"));
    };
    it.check_elements(n)?;
    if n >= LARGE {
        it.check_time()?;
    }
    Ok(n)
}

pub fn build_matrix(it: &mut Interp, rows: Vec<Vec<Value>>) -> R<Value> {
    // `[a; b; c]` is `vcat(a, b, c)`: a vector of scalars, not a column matrix.
    if rows.len() > 1 && rows.iter().all(|r| r.len() == 1) {
        return vcat(it, rows.into_iter().flatten().collect());
    }
    let mut row_vals = vec![];
    for r in rows {
        row_vals.push(hcat(it, r)?);
    }
    if row_vals.len() == 1 {
        return Ok(row_vals.pop().unwrap_or(Value::Nothing));
    }
    vcat(it, row_vals)
}

/// An array or range as (rows, columns, elements in column order); anything else as one
/// element. A range is materialised within the budgets.
fn as_matrix_parts(it: &Interp, v: &Value) -> R<(usize, usize, Scratch<Value>)> {
    Ok(match v {
        Value::Arr(a) => {
            let a = a.borrow();
            let (r, c) = match a.dims.len() {
                1 => (a.dims[0], 1),
                2 => (a.dims[0], a.dims[1]),
                _ => (a.data.len(), 1),
            };
            (r, c, it.copy_values(&a.data)?)
        }
        Value::Range(..) => {
            let items = range_items(it, v)?;
            (items.len(), 1, items)
        }
        other => {
            let mut one = it.scratch(1)?;
            one.push(other.clone());
            (1, 1, one)
        }
    })
}

/// The elements of a range, within the budgets of one value's size and of memory (a
/// range stands for up to 2^64 numbers in a few bytes); nothing for another value.
fn range_items(it: &Interp, v: &Value) -> R<Scratch<Value>> {
    match v {
        Value::Range(a, s, b) => {
            let n = range_len(*a, *s, *b);
            it.check_size(n)?;
            let mut out = it.scratch(n)?;
            out.extend((0..n).map(|i| range_item(*a, *s, i)));
            Ok(out)
        }
        _ => it.scratch(0),
    }
}

/// The `k`th element (from 0) of the range `a:s:b`.
fn range_item(a: i64, s: i64, k: usize) -> Value {
    Value::Int(a.wrapping_add(s.wrapping_mul(k as i64)))
}

/// How many elements the concatenation of `parts` has (an array or a range its elements,
/// anything else one), checked against the budgets before the result is made.
fn total_length(it: &Interp, parts: &[Value]) -> R<usize> {
    let n = (parts.iter())
        .map(|p| match p {
            Value::Arr(_) | Value::Range(..) => length_of(p),
            _ => 1,
        })
        .fold(0usize, usize::saturating_add);
    it.check_elements(n)?;
    Ok(n)
}

pub fn hcat(it: &mut Interp, parts: Vec<Value>) -> R<Value> {
    let mut rows = None;
    // Room for the whole result at once, checked before it is made (`hcat(fill(x, 10^4)...)`
    // of a large `x`): grown by doubling, it held up to twice its size.
    let mut data = Vec::with_capacity(total_length(it, &parts)?);
    let mut cols = 0;
    for p in &parts {
        let (r, c, d) = as_matrix_parts(it, p)?;
        if let Some(r0) = rows {
            if r0 != r {
                return Err(it.throw(
                    "DimensionMismatch",
                    "DimensionMismatch: number of rows of each array must match",
                ));
            }
        }
        rows = Some(r);
        cols += c;
        it.charge(d.len())?;
        data.extend(d);
    }
    let t = promote_elty(&data);
    let data: Vec<Value> = data.into_iter().map(|v| convert_el(v, t)).collect();
    let r = rows.unwrap_or(0);
    Ok(Value::arr(vec![r, cols], data, t))
}

pub fn vcat(it: &mut Interp, parts: Vec<Value>) -> R<Value> {
    let any_matrix = parts
        .iter()
        .any(|p| matches!(p, Value::Arr(a) if a.borrow().dims.len() == 2));
    if !any_matrix {
        let mut data = Vec::with_capacity(total_length(it, &parts)?);
        for p in &parts {
            it.charge(match p {
                Value::Arr(_) | Value::Range(..) => length_of(p),
                _ => 1,
            })?;
            match p {
                Value::Arr(a) => data.extend(a.borrow().data.iter().cloned()),
                Value::Range(a, s, b) => {
                    data.extend((0..range_len(*a, *s, *b)).map(|i| range_item(*a, *s, i)))
                }
                other => data.push(other.clone()),
            }
        }
        // The parts' element types promoted: a `Vector{Any}` part makes the whole one.
        let any_part =
            (parts.iter()).any(|p| matches!(p, Value::Arr(a) if a.borrow().elty == ElTy::Any));
        let t = if any_part {
            ElTy::Any
        } else {
            promote_elty(&data)
        };
        let n = data.len();
        return Ok(Value::arr(
            vec![n],
            data.into_iter().map(|v| convert_el(v, t)).collect(),
            t,
        ));
    }
    let mats: Vec<(usize, usize, Scratch<Value>)> = (parts.iter())
        .map(|p| as_matrix_parts(it, p))
        .collect::<R<_>>()?;
    let cols = mats[0].1;
    if mats.iter().any(|m| m.1 != cols) {
        return Err(it.throw(
            "DimensionMismatch",
            "DimensionMismatch: number of columns of each array must match",
        ));
    }
    let rows: usize = mats.iter().map(|m| m.0).sum();
    it.check_elements(rows.saturating_mul(cols))?;
    let mut data = vec![Value::Nothing; rows * cols];
    let mut r0 = 0;
    for (r, c, d) in &mats {
        for j in 0..*c {
            it.charge(*r)?;
            for i in 0..*r {
                data[(r0 + i) + j * rows] = d[i + j * r].clone();
            }
        }
        r0 += r;
    }
    let t = promote_elty(&data);
    Ok(Value::arr(
        vec![rows, cols],
        data.into_iter().map(|v| convert_el(v, t)).collect(),
        t,
    ))
}

/// Dict key lookup: object identity first (arrays as keys, as in `IdDict`/`Grads`), then
/// `isequal`, as Julia's `Dict` (a NaN key is found, -0.0 and 0.0 are two keys).
pub fn dict_pos(it: &Interp, entries: &[(Value, Value)], key: &Value) -> R<Option<usize>> {
    let same = |a: &Value, b: &Value| match (a, b) {
        (Value::Arr(x), Value::Arr(y)) => Rc::ptr_eq(x, y),
        (Value::Struct(x), Value::Struct(y)) => Rc::ptr_eq(x, y),
        _ => false,
    };
    if let Some(i) = entries.iter().position(|(k, _)| same(k, key)) {
        return Ok(Some(i));
    }
    // identity-keyed use: do not fall back to contents for arrays
    let by_identity = matches!(key, Value::Arr(_) | Value::Struct(_));
    for (i, (k, _)) in entries.iter().enumerate() {
        if by_identity && matches!(k, Value::Arr(_)) {
            continue;
        }
        if it.values_isequal(k, key)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

impl Interp {
    /// Structural equality (`==`) on untracked views. Each element visited is charged
    /// ([`Interp::charge`]), and each pair of arrays found equal is remembered for the
    /// rest of the walk: arrays that share their elements made it as long as the product
    /// of their lengths (`fill(fill(fill(x, 3000), 3000), 3000) == ...` ran for hours).
    /// An array is not taken as equal to itself without a look, as `x == x` is false in
    /// Julia when `x` holds a NaN.
    pub fn values_equal(&self, a: &Value, b: &Value) -> R<bool> {
        self.eq_depth(a, b, 0, Equality::Equal, &mut HashSet::new())
    }

    /// Julia's `isequal`: `==` but for NaN, equal to itself, and -0.0, not equal to 0.0
    /// (what `unique`, `Dict` and `in` of a set go by).
    pub fn values_isequal(&self, a: &Value, b: &Value) -> R<bool> {
        self.eq_depth(a, b, 0, Equality::IsEqual, &mut HashSet::new())
    }

    /// A copy of an array's elements, made in chunks each charged ([`Interp::charge`]): a
    /// copy of nine million elements is a quarter of a second, past which a builtin that
    /// copies its argument overshot the time budget.
    pub fn copy_values(&self, data: &[Value]) -> R<Scratch<Value>> {
        const CHUNK: usize = 1 << 16;
        let mut out = self.scratch(data.len())?;
        for part in data.chunks(CHUNK) {
            self.charge(part.len())?;
            out.extend_from_slice(part);
        }
        Ok(out)
    }

    /// Whether one of `items` is `==` to `x` (`x in items`).
    pub fn any_equal(&self, items: &[Value], x: &Value) -> R<bool> {
        for v in items {
            if self.values_equal(v, x)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether one of `items` is `isequal` to `x` (a set's membership: `unique`, `union!`).
    pub fn any_isequal(&self, items: &[Value], x: &Value) -> R<bool> {
        for v in items {
            if self.values_isequal(v, x)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The position of the entry whose key is `isequal` to `k`, as in Julia's `Dict`.
    pub fn key_pos(&self, entries: &[(Value, Value)], k: &Value) -> R<Option<usize>> {
        for (i, (x, _)) in entries.iter().enumerate() {
            if self.values_isequal(x, k)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// `==` or `isequal` with a depth bound (self-containing arrays must not recurse
    /// forever); `equal` holds the pairs of arrays (by address) found equal so far in this
    /// walk.
    fn eq_depth(
        &self,
        a: &Value,
        b: &Value,
        d: u32,
        how: Equality,
        equal: &mut HashSet<(usize, usize)>,
    ) -> R<bool> {
        // Julia recurses without a bound (a vector that contains itself overflows its
        // stack); past this depth the answer is not guessed.
        if d > 1000 {
            return Err(self.unsupported_here(match how {
                Equality::Equal => "== of values nested deeper than 1000",
                Equality::IsEqual => "isequal of values nested deeper than 1000",
            }));
        }
        self.charge(1)?;
        let all = |xs: &[Value], ys: &[Value], equal: &mut HashSet<_>| -> R<bool> {
            for (p, q) in xs.iter().zip(ys) {
                if !self.eq_depth(p, q, d + 1, how, equal)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        if how == Equality::IsEqual && a.is_num() && b.is_num() {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            if x.is_nan() || y.is_nan() {
                return Ok(x.is_nan() && y.is_nan());
            }
            if x.is_sign_negative() != y.is_sign_negative() {
                return Ok(false);
            }
        }
        Ok(match (a, b) {
            // Exactly: through Float64, integers past 2^53 that differ compared equal.
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Int(i), Value::F(f)) | (Value::F(f), Value::Int(i)) => {
                !f.is_nan() && arrays::int_float_cmp(*i, *f) == std::cmp::Ordering::Equal
            }
            (x, y) if x.is_num() && y.is_num() => x.as_f64() == y.as_f64(),
            (Value::Nothing, Value::Nothing) => true,
            (Value::Str(x), Value::Str(y)) => {
                self.charge(x.len() / 64)?;
                x == y
            }
            (Value::Sym(x), Value::Sym(y)) => x == y,
            (Value::Char(x), Value::Char(y)) => x == y,
            (Value::Tuple(x), Value::Tuple(y)) => x.len() == y.len() && all(x, y, equal)?,
            (Value::Arr(p), Value::Arr(q)) => {
                let pair = (Rc::as_ptr(p) as usize, Rc::as_ptr(q) as usize);
                if equal.contains(&pair) || (how == Equality::IsEqual && pair.0 == pair.1) {
                    return Ok(true);
                }
                let (x, y) = (p.borrow(), q.borrow());
                let same = x.dims == y.dims && all(&x.data, &y.data, equal)?;
                if same {
                    equal.insert(pair);
                }
                same
            }
            (Value::Range(a1, s1, b1), Value::Range(a2, s2, b2)) => {
                let (n, m) = (range_len(*a1, *s1, *b1), range_len(*a2, *s2, *b2));
                // Empty ranges are equal whatever their ends, as in Julia.
                n == m && (n == 0 || (a1 == a2 && (n == 1 || s1 == s2)))
            }
            // `1:3 == [1, 2, 3]`: a range is a vector.
            (Value::Range(start, step, stop), Value::Arr(v))
            | (Value::Arr(v), Value::Range(start, step, stop)) => {
                let v = v.borrow();
                let n = range_len(*start, *step, *stop);
                v.dims.len() == 1 && v.data.len() == n && {
                    let mut same = true;
                    for (k, x) in v.data.iter().enumerate() {
                        if !self.eq_depth(&range_item(*start, *step, k), x, d + 1, how, equal)? {
                            same = false;
                            break;
                        }
                    }
                    same
                }
            }
            (Value::Type(x), Value::Type(y)) => x == y,
            (Value::Struct(x), Value::Struct(y)) => {
                Rc::ptr_eq(x, y)
                    || (!x.def.mutable
                        && Rc::ptr_eq(&x.def, &y.def)
                        && all(&x.fields.borrow(), &y.fields.borrow(), equal)?)
            }
            (Value::Func(x), Value::Func(y)) => Rc::ptr_eq(x, y),
            (Value::Builtin(x), Value::Builtin(y)) => x == y,
            (Value::Ref(x), Value::Ref(y)) => Rc::ptr_eq(x, y),
            // The same keys (by `isequal`) with values equal by `how`; remembered as arrays
            // are, so that dictionaries sharing their values are compared once a pair.
            (Value::Dict(p), Value::Dict(q)) => {
                let pair = (Rc::as_ptr(p) as usize, Rc::as_ptr(q) as usize);
                if equal.contains(&pair) || (how == Equality::IsEqual && pair.0 == pair.1) {
                    return Ok(true);
                }
                let (x, y) = (p.borrow(), q.borrow());
                let mut same = x.len() == y.len();
                for (k, v) in x.iter() {
                    if !same {
                        break;
                    }
                    // The key looked up within this walk's depth, not by `key_pos`, whose
                    // fresh walk let a dictionary that is its own key recurse until the
                    // stack overflowed.
                    let mut at = None;
                    for (i, (key, _)) in y.iter().enumerate() {
                        let fresh = &mut HashSet::new();
                        if self.eq_depth(key, k, d + 1, Equality::IsEqual, fresh)? {
                            at = Some(i);
                            break;
                        }
                    }
                    same = match at {
                        Some(i) => self.eq_depth(v, &y[i].1, d + 1, how, equal)?,
                        None => false,
                    };
                }
                if same {
                    equal.insert(pair);
                }
                same
            }
            // Julia compares pairs part by part, and named tuples by their names (in
            // order) and then their values.
            (Value::Pair(p), Value::Pair(q)) => {
                self.eq_depth(&p.0, &q.0, d + 1, how, equal)?
                    && self.eq_depth(&p.1, &q.1, d + 1, how, equal)?
            }
            (Value::NT(n, x), Value::NT(m, y)) => n == m && all(x, y, equal)?,
            (Value::Module(x), Value::Module(y)) => x == y,
            (Value::Exc(x), Value::Exc(y)) => Rc::ptr_eq(x, y),
            (Value::Pullback(x), Value::Pullback(y)) => Rc::ptr_eq(x, y),
            (Value::Buffer(x), Value::Buffer(y)) => Rc::ptr_eq(x, y),
            (Value::NoTangent, Value::NoTangent) => true,
            _ => false,
        })
    }
}

/// Which equality a walk over two values decides.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Equality {
    /// `==`: NaN equal to nothing, -0.0 equal to 0.0.
    Equal,
    /// `isequal`: NaN equal to itself, -0.0 apart from 0.0.
    IsEqual,
}

/// Constructors and conversions: `Float64(x)`, struct types, `Vector{Float64}(undef, n)`, ...
pub fn construct(
    it: &mut Interp,
    t: &Name,
    args: Vec<Value>,
    kw: Vec<(Name, Value)>,
    span: Span,
) -> R<Value> {
    // `T{P}(args...)` of a struct `T`: its parameters are not modelled
    let t = &match t.split_once('{') {
        Some((base, _)) if it.structs.contains_key(base) => nm(base),
        _ => t.clone(),
    };
    if let Some(sd) = it.structs.get(t).cloned() {
        if args.len() != sd.fields.len() {
            return Err(it.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching {}({})",
                    t,
                    args.iter()
                        .map(|a| format!("::{}", type_name(a)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut fields = vec![];
        for (v, ty) in args.into_iter().zip(sd.field_tys.iter()) {
            let v = match ty {
                super::ir::Ty::Named(n) if n.as_ref() == "Float64" => {
                    if !v.is_num() {
                        return Err(it.throw("MethodError", format!("MethodError: Cannot `convert` an object of type {} to an object of type Float64", type_name(&v))));
                    }
                    convert_el(v, ElTy::F64)
                }
                _ => v,
            };
            fields.push(v);
        }
        return Ok(Value::Struct(Rc::new(Obj::new(sd, fields))));
    }
    let _ = kw;
    let base = t.split('{').next().unwrap_or("");
    match (t.as_ref(), args.as_slice()) {
        ("Float64" | "Float32", [x]) => match x {
            Value::T(..) | Value::F(_) => Ok(x.clone()),
            Value::Int(i) => Ok(Value::F(*i as f64)),
            Value::Bool(b) => Ok(Value::F(*b as i64 as f64)),
            _ => Err(it.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching Float64(::{})",
                    type_name(x)
                ),
            )),
        },
        ("Int" | "Int64" | "Int32", [x]) => to_int(it, t, x),
        ("Bool", [x]) => match x.as_f64() {
            Some(f) if f == 0.0 || f == 1.0 => Ok(Value::Bool(f == 1.0)),
            _ => Err(it.throw("InexactError", format!("InexactError: Bool({})", show(x)))),
        },
        ("String", [x]) => Ok(Value::str(&strings::joined_text(
            it,
            std::slice::from_ref(x),
        )?)),
        // `Symbol(x, y...)` joins the texts of its arguments, as `string` does.
        ("Symbol", [_, ..]) => Ok(Value::Sym(it.symbol(&strings::joined_text(it, &args)?)?)),
        ("Tuple", [x]) => {
            let items = it.iterate(x)?;
            it.check_elements(items.len())?;
            Ok(Value::tuple(items.into_vec()))
        }
        _ if base == "Dict" => call_builtin(it, &nm("Dict"), args, vec![], span),
        _ if base == "Matrix" && args.first().and_then(linalg::uniform_scaling).is_some() => {
            // Matrix(I, m, n), Matrix{T}(I, m, n)
            let lambda = match &args[0] {
                Value::Struct(o) => o.fields.borrow()[0].clone(),
                _ => Value::Nothing,
            };
            let dims = dims_from(it, &args[1..])?;
            let [m, n] = dims[..] else {
                return Err(it.unsupported(&format!("constructor {t} with these arguments"), span));
            };
            element_count(it, &dims)?;
            let elty = match t.split('{').nth(1).map(|s| s.trim_end_matches('}')) {
                Some("Float64") => ElTy::F64,
                Some("Float32") => ElTy::F32,
                Some("Int") | Some("Int64") => ElTy::I64,
                Some("Bool") => ElTy::Bool,
                Some(_) => ElTy::Any,
                None => promote_elty(std::slice::from_ref(&lambda)),
            };
            let zero = match elty {
                ElTy::F64 | ElTy::F32 => Value::F(0.0),
                ElTy::I64 => Value::Int(0),
                _ => Value::Bool(false),
            };
            let data = (0..m * n)
                .map(|i| {
                    if i % m == i / m {
                        convert_el(lambda.clone(), elty)
                    } else {
                        convert_el(zero.clone(), elty)
                    }
                })
                .collect();
            Ok(Value::arr(vec![m, n], data, elty))
        }
        _ if matches!(base, "Vector" | "Matrix" | "Array") => {
            let elty = match t.split('{').nth(1).map(|s| s.trim_end_matches('}')) {
                Some("Float64") => ElTy::F64,
                Some("Float32") => ElTy::F32,
                Some("Int") | Some("Int64") => ElTy::I64,
                Some("Bool") => ElTy::Bool,
                _ => ElTy::Any,
            };
            let rest: Vec<Value> = args
                .into_iter()
                .filter(|a| !matches!(a, Value::Sym(s) if s.as_ref() == "undef"))
                .collect();
            let dims = if rest.is_empty() {
                vec![0]
            } else {
                dims_from(it, &rest)?
            };
            let n = element_count(it, &dims)?;
            let z = match elty {
                ElTy::F64 | ElTy::F32 => Value::F(0.0),
                ElTy::I64 => Value::Int(0),
                ElTy::Bool => Value::Bool(false),
                ElTy::Any => Value::Nothing,
            };
            Ok(Value::arr(dims, vec![z; n], elty))
        }
        _ => Err(it.unsupported(&format!("constructor {t}"), span)),
    }
}

/// `Int(x)` (or `Int32(x)`): a whole number in the type's range; a float past it, or with
/// a fraction, is an InexactError (`as` saturated `Int(1e30)` to typemax).
pub fn to_int(it: &Interp, t: &str, x: &Value) -> R<Value> {
    let int32 = t == "Int32";
    let (lo, hi) = match int32 {
        true => (i32::MIN as i64, i32::MAX as i64),
        false => (i64::MIN, i64::MAX),
    };
    let whole = match x {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => (x.as_f64())
            .filter(|f| f.fract() == 0.0 && *f >= -(2f64.powi(63)) && *f < 2f64.powi(63))
            .map(|f| f as i64),
    };
    match whole.filter(|i| (lo..=hi).contains(i)) {
        Some(i) => Ok(Value::Int(i)),
        None => Err(it.throw(
            "InexactError",
            format!(
                "InexactError: {}({})",
                if int32 { "Int32" } else { "Int64" },
                show(x)
            ),
        )),
    }
}

fn as_index(it: &Interp, v: &Value) -> R<usize> {
    match v {
        Value::Int(i) if *i >= 1 => Ok(*i as usize),
        _ => Err(it.throw(
            "ArgumentError",
            format!("ArgumentError: invalid dimension {}", show(v)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_registered_once() {
        // building the registry asserts that no name is registered twice
        assert!(is_builtin("push!") && is_builtin("exp") && is_builtin("gradient"));
        assert!(!is_builtin("GLOBAL_RNG") && !is_builtin("no_such_function"));
    }
}
