//! Reductions: `sum`, `prod`, `maximum`, `minimum`, `mean` (also with `dims`), `argmax`,
//! folds, `cumsum`, `any`/`all`/`count`, and NNlib's `softmax` and `logsumexp`.
//!
//! A sum or product of tracked numbers records one tape node with one partial per element.

use super::super::interp::{Interp, R};
use super::super::ir::Span;
use super::super::value::*;
use super::{as_index, as_matrix_parts, hcat, size_of, vcat, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["sum", "prod", "maximum", "minimum", "mean"],
        call: reduction,
    },
    Builtin {
        names: &["argmax", "argmin", "findmax", "findmin"],
        call: argmax,
    },
    Builtin {
        names: &["extrema"],
        call: extrema,
    },
    Builtin {
        names: &["median"],
        call: median,
    },
    Builtin {
        names: &["issorted"],
        call: issorted,
    },
    Builtin {
        names: &["searchsortedfirst", "searchsortedlast", "searchsorted"],
        call: search_sorted,
    },
    Builtin {
        names: &["reduce", "foldl", "foldr"],
        call: fold,
    },
    Builtin {
        names: &["mapreduce"],
        call: mapreduce,
    },
    Builtin {
        names: &["cumsum"],
        call: cumsum,
    },
    Builtin {
        names: &["any", "all", "count"],
        call: any_all_count,
    },
    Builtin {
        names: &["softmax", "logsumexp"],
        call: softmax,
    },
];

/// `sum(x)`, `sum(f, x)`, `sum(x; dims)` and the same for `prod`, `maximum`, `minimum`, `mean`.
fn reduction(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    let (f, x) = match c.args.as_slice() {
        [x] => (None, x.clone()),
        [f, x] => (Some(f.clone()), x.clone()),
        _ => return Err(c.no_method(it)),
    };
    let mapped = match &f {
        Some(f) => it.broadcast(f, vec![x.clone()], c.span)?,
        None => x.clone(),
    };
    let mut red = |it: &mut Interp, vals: &[Value]| -> R<Value> {
        match name {
            "sum" => it.sum_vals(vals),
            "prod" => it.prod_vals(vals),
            "mean" => {
                if vals.is_empty() {
                    return Ok(Value::F(f64::NAN));
                }
                let s = it.sum_vals(vals)?;
                it.arith("/", &s, &Value::Int(vals.len() as i64))
            }
            _ => {
                if vals.is_empty() {
                    return Err(empty_reduction(it));
                }
                // Julia's `max` and `min`: NaN wins, else the order of `isless` (-0.0
                // below 0.0; strings and tuples compare too).
                let mut best = &vals[0];
                for v in &vals[1..] {
                    if is_nan(best) {
                        break;
                    }
                    let better = match name {
                        "maximum" => it.isless(best, v)?,
                        _ => it.isless(v, best)?,
                    };
                    if better || is_nan(v) {
                        best = v;
                    }
                }
                Ok(best.clone())
            }
        }
    };
    if let Some(d) = c.kwarg("dims") {
        let d = as_index(it, d)?;
        return it.reduce_dims(&mapped, d, &mut red);
    }
    let vals = match &mapped {
        Value::Arr(x) => it.copy_values(&x.borrow().data)?,
        other => it.iterate(other)?,
    };
    red(it, &vals)
}

/// `argmax(x)`, `argmin(x)`, `findmax(x)`, `findmin(x)` of a vector or a tuple: the
/// position of the extreme, and for `find*` the extreme with it. Of a matrix Julia
/// answers with a `CartesianIndex`, which is not modelled.
fn argmax(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    if matches!(x, Value::Arr(a) if a.borrow().dims.len() > 1) {
        return Err(c.no_method(it));
    }
    let name: &str = c.name;
    let items = it.iterate(x)?;
    if items.is_empty() {
        return Err(it.throw(
            "ArgumentError",
            "ArgumentError: collection must be non-empty",
        ));
    }
    // The first NaN (Julia's `findmax` and `findmin` both take NaN as the extreme), else
    // the first extreme by `isless`.
    let mut best = 0;
    for (i, v) in items.iter().enumerate().skip(1) {
        if is_nan(&items[best]) {
            break;
        }
        let better = match name {
            "argmax" | "findmax" => it.isless(&items[best], v)?,
            _ => it.isless(v, &items[best])?,
        };
        if better || is_nan(v) {
            best = i;
        }
    }
    let at = Value::Int(best as i64 + 1);
    Ok(match name {
        "findmax" | "findmin" => Value::tuple(vec![items[best].clone(), at]),
        _ => at,
    })
}

/// Stops the run as unsupported when `x` may hold values being differentiated: how Zygote
/// differentiates the builtin `c` calls is not modelled.
fn not_differentiated(it: &Interp, c: &Call, x: &Value) -> R<()> {
    if holds_tracked(x) {
        let what = format!(
            "{} of values being differentiated (or nested too deep to tell)",
            c.name
        );
        return Err(it.unsupported(&what, c.span));
    }
    Ok(())
}

/// `extrema(x)`: `(minimum(x), maximum(x))`, NaN in both when there is one. Outside
/// differentiated code only: how Zygote differentiates it is not modelled.
fn extrema(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    not_differentiated(it, &c, x)?;
    let lo = super::call_builtin(it, &"minimum".into(), vec![x.clone()], vec![], c.span)?;
    let hi = super::call_builtin(it, &"maximum".into(), vec![x.clone()], vec![], c.span)?;
    Ok(Value::tuple(vec![lo, hi]))
}

/// `median(x)` (Statistics): the middle of the sorted numbers, the mean of the two middle
/// ones for an even count; NaN when there is one; an empty collection is an error.
/// Outside differentiated code only, as `extrema`.
fn median(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    not_differentiated(it, &c, x)?;
    let items = it.iterate(x)?;
    if items.is_empty() {
        return Err(it.throw(
            "ArgumentError",
            "ArgumentError: median of an empty array is undefined, Float64[]",
        ));
    }
    if !items.iter().all(Value::is_num) {
        return Err(c.no_method(it));
    }
    if items.iter().any(is_nan) {
        return Ok(Value::F(f64::NAN));
    }
    let sorted = super::call_builtin(it, &"sort".into(), vec![x.clone()], vec![], c.span)?;
    let sorted = it.iterate(&sorted)?;
    let n = sorted.len();
    let (a, b) = (&sorted[(n - 1) / 2], &sorted[n / 2]);
    let sum = it.arith("+", a, b)?;
    it.arith("/", &sum, &Value::Int(2))
}

/// `issorted(x; lt, by, rev)`: whether no element is before the one ahead of it, by
/// `isless` or the given order.
fn issorted(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let order = Order::of(it, &c)?;
    let items = it.iterate(x)?;
    let mut keys = it.scratch(items.len())?;
    for v in items.iter() {
        keys.push(order.key(it, v, c.span)?);
    }
    for w in keys.windows(2) {
        if order.before(it, &w[1], &w[0], c.span)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

/// The order `sort` and its kin take from their `by`, `lt` and `rev` keywords.
pub(super) struct Order {
    pub by: Option<Value>,
    pub lt: Option<Value>,
    pub rev: bool,
}

impl Order {
    pub fn of(it: &Interp, c: &Call) -> R<Order> {
        let rev = match c.kwarg("rev") {
            None | Some(Value::Nothing) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                let what = format!("{} with rev = {}", c.name, type_name(other));
                return Err(it.unsupported(&what, c.span));
            }
        };
        Ok(Order {
            by: c.kwarg("by").cloned(),
            lt: c.kwarg("lt").cloned(),
            rev,
        })
    }

    /// What `v` is ordered by.
    pub fn key(&self, it: &mut Interp, v: &Value, span: Span) -> R<Value> {
        match &self.by {
            Some(f) => it.call_value(f, vec![v.clone()], vec![], span),
            None => Ok(v.clone()),
        }
    }

    /// Whether the key `a` comes before the key `b`.
    fn before(&self, it: &mut Interp, a: &Value, b: &Value, span: Span) -> R<bool> {
        let (a, b) = if self.rev { (b, a) } else { (a, b) };
        match &self.lt {
            Some(f) => {
                let r = it.call_value(f, vec![a.clone(), b.clone()], vec![], span)?;
                it.truthy(&r)
            }
            None => it.isless(a, b),
        }
    }
}

/// `searchsortedfirst(v, x)` (the first index whose element does not come before `x`,
/// `length(v) + 1` if none), `searchsortedlast(v, x)` (the last index whose element `x`
/// does not come before, 0 if none) and `searchsorted(v, x)` (the range between them), by
/// binary search over a sorted `v`, in the order of `by`, `lt` and `rev` as Julia's.
fn search_sorted(it: &mut Interp, c: Call) -> R<Value> {
    let [v, x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let order = Order::of(it, &c)?;
    let items = it.iterate(v)?;
    let kx = order.key(it, x, c.span)?;
    let (mut lo, mut hi) = (0, items.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let k = order.key(it, &items[mid], c.span)?;
        if order.before(it, &k, &kx, c.span)? {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let first = lo;
    let (mut lo, mut hi) = (first, items.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let k = order.key(it, &items[mid], c.span)?;
        if order.before(it, &kx, &k, c.span)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let (first, last) = (first as i64 + 1, lo as i64);
    Ok(match c.name.as_ref() {
        "searchsortedfirst" => Value::Int(first),
        "searchsortedlast" => Value::Int(last),
        _ => Value::Range(first, 1, last.max(first - 1)),
    })
}

/// Whether `v` may hold a value being differentiated (a tracked number). Past a few
/// levels of nesting the answer is yes: an array that contains itself recursed until the
/// stack overflowed, and a caller refuses what may be tracked.
fn holds_tracked(v: &Value) -> bool {
    fn within(v: &Value, depth: u32) -> bool {
        const DEEPEST: u32 = 8;
        match v {
            Value::T(..) => true,
            Value::Arr(_) | Value::Tuple(_) if depth >= DEEPEST => true,
            Value::Arr(a) => a.borrow().data.iter().any(|x| within(x, depth + 1)),
            Value::Tuple(t) => t.iter().any(|x| within(x, depth + 1)),
            _ => false,
        }
    }
    within(v, 0)
}

fn is_nan(v: &Value) -> bool {
    matches!(v, Value::F(f) | Value::T(f, _, _) if f.is_nan())
}

/// `reduce`, `foldl`, `foldr` with an optional `init`; `reduce(vcat, xs)` and
/// `reduce(hcat, xs)` concatenate.
fn fold(it: &mut Interp, c: Call) -> R<Value> {
    let [op, xs] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let name: &str = c.name;
    let mut items = it.iterate(xs)?;
    let init = c.kwarg("init").cloned();
    if name == "reduce" {
        // With `init`, the first part (`reduce(vcat, xs; init = Any[])` is a `Vector{Any}`).
        let parts = || init.iter().cloned().chain(items.iter().cloned()).collect();
        if let Value::Builtin(op) = op {
            if op.as_ref() == "vcat" {
                return vcat(it, parts());
            }
            if op.as_ref() == "hcat" {
                return hcat(it, parts());
            }
        }
    }
    if name == "foldr" {
        items.reverse();
        let f = op.clone();
        let mut acc = match init {
            Some(v) => v,
            None if items.is_empty() => return Err(empty_reduction(it)),
            None => items.remove(0),
        };
        for x in items {
            acc = it.call_elem(&f, vec![x, acc], c.span)?;
        }
        return Ok(acc);
    }
    it.fold_with(op, items.into_vec(), init, c.span)
}

/// Julia's error for a reduction over nothing without `init`.
fn empty_reduction(it: &Interp) -> crate::refad::Ctrl {
    it.throw(
        "ArgumentError",
        "ArgumentError: reducing over an empty collection is not allowed",
    )
}

fn mapreduce(it: &mut Interp, c: Call) -> R<Value> {
    let [f, op, xs] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let mapped = it.broadcast(f, vec![xs.clone()], c.span)?;
    let items = it.iterate(&mapped)?;
    let init = c.kwarg("init").cloned();
    it.fold_with(op, items.into_vec(), init, c.span)
}

fn cumsum(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let items = it.iterate(x)?;
    let mut out = it.scratch(items.len())?;
    let mut acc: Option<Value> = None;
    for x in items {
        it.charge(1)?;
        let next = match acc {
            None => x,
            Some(p) => it.arith("+", &p, &x)?,
        };
        out.push(next.clone());
        acc = Some(next);
    }
    let t = promote_elty(&out);
    let n = out.len();
    Ok(Value::arr(vec![n], out.into_vec(), t))
}

/// `any`, `all`, `count`, with or without a predicate.
fn any_all_count(it: &mut Interp, c: Call) -> R<Value> {
    let (f, x) = match c.args.as_slice() {
        [x] => (None, x.clone()),
        [f, x] => (Some(f.clone()), x.clone()),
        _ => return Err(c.no_method(it)),
    };
    let items = it.iterate(&x)?;
    let mut count = 0;
    for v in &items {
        let b = match &f {
            Some(f) => it.call_value(f, vec![v.clone()], vec![], c.span)?,
            None => v.clone(),
        };
        if it.truthy(&b)? {
            count += 1;
        }
    }
    Ok(match c.name.as_ref() {
        "any" => Value::Bool(count > 0),
        "all" => Value::Bool(count == items.len()),
        _ => Value::Int(count as i64),
    })
}

/// NNlib's `softmax(x)` and `logsumexp(x)`, shifted by the maximum for stability.
fn softmax(it: &mut Interp, c: Call) -> R<Value> {
    let x = c.args.first().cloned().ok_or_else(|| c.no_method(it))?;
    let items = it.iterate(&x)?;
    let m = items
        .iter()
        .filter_map(|v| v.as_f64())
        .fold(f64::NEG_INFINITY, f64::max);
    let mv = Value::F(m);
    let mut exps = vec![];
    for v in &items {
        let d = it.arith("-", v, &mv)?;
        exps.push(it.unary("exp", &d)?);
    }
    let s = it.sum_vals(&exps)?;
    if c.name.as_ref() == "logsumexp" {
        let l = it.unary("log", &s)?;
        return it.arith("+", &l, &mv);
    }
    let mut out = vec![];
    for e in exps {
        out.push(it.arith("/", &e, &s)?);
    }
    Ok(Value::arr(size_of(&x), out, ElTy::F64))
}

impl Interp {
    pub fn sum_vals(&mut self, vals: &[Value]) -> R<Value> {
        if vals
            .iter()
            .all(|v| matches!(v, Value::Int(_) | Value::Bool(_)))
        {
            // Exact and wrapping, as Julia's integer sum.
            let int = |v: &Value| match v {
                Value::Int(i) => *i,
                Value::Bool(b) => *b as i64,
                _ => 0,
            };
            return Ok(Value::Int(
                vals.iter().fold(0i64, |s, v| s.wrapping_add(int(v))),
            ));
        }
        if vals.iter().all(|v| v.is_num()) {
            let s: f64 = vals.iter().map(|v| v.as_f64().unwrap_or(0.0)).sum();
            let ps: Vec<(u32, f64)> = vals
                .iter()
                .filter_map(|v| self.tid(v).map(|n| (n, 1.0)))
                .collect();
            return self.rec_ids(s, ps);
        }
        // arrays etc.: fold with +
        let mut acc = match vals.first() {
            Some(v) => v.clone(),
            None => return Ok(Value::Int(0)),
        };
        for v in &vals[1..] {
            acc = self.math_op("+", &[acc, v.clone()], Span::default())?;
        }
        Ok(acc)
    }

    pub(super) fn prod_vals(&mut self, vals: &[Value]) -> R<Value> {
        if vals.iter().all(|v| matches!(v, Value::Int(_))) {
            return Ok(Value::Int(
                vals.iter()
                    .map(|v| v.as_f64().unwrap_or(0.0) as i64)
                    .fold(1i64, |a, b| a.wrapping_mul(b)),
            ));
        }
        let xs: Vec<f64> = vals
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        let n = xs.len();
        let mut pre = vec![1.0; n + 1];
        for i in 0..n {
            pre[i + 1] = pre[i] * xs[i];
        }
        let mut suf = vec![1.0; n + 1];
        for i in (0..n).rev() {
            suf[i] = suf[i + 1] * xs[i];
        }
        let ps: Vec<(u32, f64)> = vals
            .iter()
            .enumerate()
            .filter_map(|(i, v)| self.tid(v).map(|p| (p, pre[i] * suf[i + 1])))
            .collect();
        self.rec_ids(pre[n], ps)
    }

    fn reduce_dims(
        &mut self,
        x: &Value,
        dim: usize,
        f: &mut dyn FnMut(&mut Interp, &[Value]) -> R<Value>,
    ) -> R<Value> {
        let (r, c, d) = as_matrix_parts(self, x)?;
        match dim {
            1 => {
                let mut out = vec![];
                for j in 0..c {
                    let col: Vec<Value> = (0..r).map(|i| d[i + j * r].clone()).collect();
                    out.push(f(self, &col)?);
                }
                let t = promote_elty(&out);
                Ok(Value::arr(vec![1, c], out, t))
            }
            2 => {
                let mut out = vec![];
                for i in 0..r {
                    let row: Vec<Value> = (0..c).map(|j| d[i + j * r].clone()).collect();
                    out.push(f(self, &row)?);
                }
                let t = promote_elty(&out);
                Ok(Value::arr(vec![r, 1], out, t))
            }
            _ => Err(self.unsupported_here("a reduction over dims other than 1 or 2 of a matrix")),
        }
    }

    fn fold_with(
        &mut self,
        op: &Value,
        items: Vec<Value>,
        init: Option<Value>,
        span: Span,
    ) -> R<Value> {
        let mut it = items.into_iter();
        let mut acc = match init {
            Some(v) => v,
            None => match it.next() {
                Some(v) => v,
                None => return Err(empty_reduction(self)),
            },
        };
        for x in it {
            acc = self.call_elem(op, vec![acc, x], span)?;
        }
        Ok(acc)
    }
}
