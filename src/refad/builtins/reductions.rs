//! Reductions: `sum`, `prod`, `maximum`, `minimum`, `mean` (also with `dims`), `argmax`,
//! folds, `cumsum`, `any`/`all`/`count`, and NNlib's `softmax` and `logsumexp`.
//!
//! A sum or product of tracked numbers records one tape node with one partial per element.

use super::super::interp::{Interp, R};
use super::super::ir::Span;
use super::super::value::*;
use super::{as_index, as_matrix_parts, hcat, size_of, unmodelled, vcat, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["sum", "prod", "maximum", "minimum", "mean"],
        call: reduction,
    },
    Builtin {
        names: &["argmax", "argmin"],
        call: argmax,
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
    Builtin {
        names: &["findmax", "findmin"],
        call: unmodelled,
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

fn argmax(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
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
            "argmax" => it.isless(&items[best], v)?,
            _ => it.isless(v, &items[best])?,
        };
        if better || is_nan(v) {
            best = i;
        }
    }
    Ok(Value::Int(best as i64 + 1))
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
            _ => Err(self.error("dims must be 1 or 2")),
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
