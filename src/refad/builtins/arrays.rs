//! Arrays and ranges: shape, index ranges, construction, copying, concatenation, ordering.
//!
//! In-place array functions are in `mutation.rs`, linear algebra in `linalg.rs`.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{
    as_index, as_matrix_parts, call_builtin, dims_from, hcat, length_of, make_range, nm, size_of,
    to_usize, unmodelled, vcat, Builtin, Call,
};
use std::cell::RefCell;
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["length"],
        call: length,
    },
    Builtin {
        names: &["ndims"],
        call: ndims,
    },
    Builtin {
        names: &["size"],
        call: size,
    },
    Builtin {
        names: &["axes"],
        call: axes,
    },
    Builtin {
        names: &["eachindex", "keys", "lastindex", "firstindex"],
        call: indices,
    },
    Builtin {
        names: &["OneTo", "Base.OneTo"],
        call: one_to,
    },
    Builtin {
        names: &["step"],
        call: step,
    },
    Builtin {
        names: &["range"],
        call: range,
    },
    Builtin {
        names: &["collect", "vec"],
        call: collect,
    },
    Builtin {
        names: &["first", "last", "only"],
        call: first_last,
    },
    Builtin {
        names: &["reshape"],
        call: reshape,
    },
    Builtin {
        names: &["vcat"],
        call: |it, c| vcat(it, c.args),
    },
    Builtin {
        names: &["hcat"],
        call: |it, c| hcat(it, c.args),
    },
    Builtin {
        names: &["zeros", "ones", "trues", "falses"],
        call: filled,
    },
    Builtin {
        names: &["fill"],
        call: fill,
    },
    Builtin {
        names: &["similar"],
        call: similar,
    },
    Builtin {
        names: &["copy", "deepcopy"],
        call: copy,
    },
    Builtin {
        names: &["eachcol", "eachrow"],
        call: slices,
    },
    Builtin {
        names: &["sort"],
        call: sort,
    },
    Builtin {
        names: &["reverse"],
        call: reverse,
    },
    Builtin {
        names: &["unique"],
        call: unique,
    },
    Builtin {
        names: &["cat", "stack", "sortperm"],
        call: unmodelled,
    },
];

fn length(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::Int(length_of(x) as i64)),
        _ => Err(c.no_method(it)),
    }
}

fn ndims(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::Int(size_of(x).len() as i64)),
        _ => Err(c.no_method(it)),
    }
}

fn size(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::tuple(
            size_of(x)
                .into_iter()
                .map(|d| Value::Int(d as i64))
                .collect(),
        )),
        [x, d] => {
            let d = as_index(it, d)?;
            Ok(Value::Int(*size_of(x).get(d - 1).unwrap_or(&1) as i64))
        }
        _ => Err(c.no_method(it)),
    }
}

fn axes(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::tuple(
            size_of(x)
                .into_iter()
                .map(|d| Value::Range(1, 1, d as i64))
                .collect(),
        )),
        [x, d] => {
            let d = as_index(it, d)?;
            Ok(Value::Range(
                1,
                1,
                *size_of(x).get(d - 1).unwrap_or(&1) as i64,
            ))
        }
        _ => Err(c.no_method(it)),
    }
}

/// `eachindex`, `keys`, `lastindex`, `firstindex`: also the keys of a Dict or named tuple.
fn indices(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.is_empty() {
        return Err(c.no_method(it));
    }
    if let Value::Dict(d) = &a[0] {
        let ks: Vec<Value> = d.borrow().iter().map(|(k, _)| k.clone()).collect();
        let n = ks.len();
        return Ok(Value::arr(vec![n], ks, ElTy::Any));
    }
    if let Value::NT(ns, _) = &a[0] {
        return Ok(Value::tuple(
            ns.iter().map(|s| Value::Sym(s.clone())).collect(),
        ));
    }
    let n = length_of(&a[0]);
    for x in &a[1..] {
        if length_of(x) != n {
            return Err(it.throw("DimensionMismatch", format!("DimensionMismatch: all inputs to eachindex must have the same indices, got Base.OneTo({}) and Base.OneTo({})", n, length_of(x))));
        }
    }
    match c.name.as_ref() {
        "lastindex" => Ok(Value::Int(n as i64)),
        "firstindex" => Ok(Value::Int(1)),
        _ => Ok(Value::Range(1, 1, n as i64)),
    }
}

fn one_to(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => {
            let n = to_usize(it, x)?;
            Ok(Value::Range(1, 1, n as i64))
        }
        _ => Err(c.no_method(it)),
    }
}

fn step(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Range(_, s, _)] => Ok(Value::Int(*s)),
        _ => Err(c.no_method(it)),
    }
}

/// `range(start, stop; length)`, `range(start; stop, step)`.
fn range(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    let start = a.first().cloned().unwrap_or(Value::Int(1));
    let stop = c.kwarg("stop").cloned().or_else(|| a.get(1).cloned());
    let len = c.kwarg("length").cloned();
    match (stop, len) {
        (Some(stop), Some(Value::Int(n))) => {
            let (x0, x1) = (start.as_f64().unwrap_or(0.0), stop.as_f64().unwrap_or(0.0));
            let n = n.max(0) as usize;
            it.check_elements(n)?;
            let data = (0..n)
                .map(|i| {
                    if n == 1 {
                        x0
                    } else {
                        x0 + (x1 - x0) * i as f64 / (n - 1) as f64
                    }
                })
                .collect();
            Ok(Value::vec_f(data))
        }
        (Some(stop), None) => make_range(it, &start, c.kwarg("step"), &stop),
        _ => Err(it.unsupported("range form", c.span)),
    }
}

fn collect(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Arr(x)] if c.name.as_ref() == "collect" => {
            let x = x.borrow();
            Ok(Value::arr(x.dims.clone(), x.data.clone(), x.elty))
        }
        [x] => {
            let items = it.iterate(x)?;
            let t = promote_elty(&items);
            let n = items.len();
            Ok(Value::arr(vec![n], items, t))
        }
        _ => Err(c.no_method(it)),
    }
}

/// `first(x)`, `last(x)`, `only(x)` and `first(x, k)`.
fn first_last(it: &mut Interp, c: Call) -> R<Value> {
    match (c.name.as_ref(), c.args.as_slice()) {
        (name, [x]) => {
            let items = it.iterate(x)?;
            let v = if name == "last" {
                items.last()
            } else {
                items.first()
            };
            v.cloned().ok_or_else(|| {
                it.throw(
                    "BoundsError",
                    "BoundsError: attempt to access empty collection",
                )
            })
        }
        ("first", [x, k]) => {
            let items = it.iterate(x)?;
            let k = to_usize(it, k)?;
            let v: Vec<Value> = items.into_iter().take(k).collect();
            let t = promote_elty(&v);
            let n = v.len();
            Ok(Value::arr(vec![n], v, t))
        }
        _ => Err(c.no_method(it)),
    }
}

fn reshape(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.len() < 2 {
        return Err(c.no_method(it));
    }
    let dims = dims_from(it, &a[1..])?;
    let items = match &a[0] {
        Value::Arr(x) => x.borrow().data.clone(),
        other => it.iterate(other)?,
    };
    // Checked: a product that wraps could equal the length (`reshape([], 2^32, 2^32)`).
    let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if count != Some(items.len()) {
        return Err(it.throw(
            "DimensionMismatch",
            format!(
                "DimensionMismatch: new dimensions {:?} must be consistent with array length {}",
                dims,
                items.len()
            ),
        ));
    }
    let t = promote_elty(&items);
    Ok(Value::arr(dims, items, t))
}

/// `zeros`, `ones`, `trues`, `falses`, with an optional element type first.
fn filled(it: &mut Interp, c: Call) -> R<Value> {
    let (name, a): (&str, &[Value]) = (c.name, &c.args);
    let (elty, rest) = match a.first() {
        Some(Value::Type(t)) if t.starts_with("Int") => (ElTy::I64, &a[1..]),
        Some(Value::Type(t)) if t.as_ref() == "Bool" => (ElTy::Bool, &a[1..]),
        Some(Value::Type(t)) if t.as_ref() == "Float32" => (ElTy::F32, &a[1..]),
        Some(Value::Type(_)) => (ElTy::F64, &a[1..]),
        _ => (ElTy::F64, a),
    };
    let elty = match name {
        "trues" | "falses" => ElTy::Bool,
        _ => elty,
    };
    let dims = dims_from(it, rest)?;
    let n = super::element_count(it, &dims)?;
    let one = matches!(name, "ones" | "trues");
    let v = match elty {
        ElTy::I64 => Value::Int(one as i64),
        ElTy::Bool => Value::Bool(one),
        _ => Value::F(one as i64 as f64),
    };
    Ok(Value::arr(dims, vec![v; n], elty))
}

fn fill(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.len() < 2 {
        return Err(c.no_method(it));
    }
    let dims = dims_from(it, &a[1..])?;
    let n = super::element_count(it, &dims)?;
    let t = elty_of(&a[0]);
    Ok(Value::arr(dims, vec![a[0].clone(); n], t))
}

fn similar(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.is_empty() {
        return Err(c.no_method(it));
    }
    let (dims, elty) = match &a[0] {
        Value::Arr(x) => (x.borrow().dims.clone(), x.borrow().elty),
        other => (size_of(other), ElTy::F64),
    };
    let (elty, rest) = match a.get(1) {
        Some(Value::Type(t)) if t.starts_with("Int") => (ElTy::I64, &a[2..]),
        Some(Value::Type(_)) => (ElTy::F64, &a[2..]),
        _ => (elty, &a[1..]),
    };
    let dims = if rest.is_empty() {
        dims
    } else {
        dims_from(it, rest)?
    };
    let n = super::element_count(it, &dims)?;
    let z = match elty {
        ElTy::I64 => Value::Int(0),
        ElTy::Bool => Value::Bool(false),
        ElTy::Any => Value::Nothing,
        ElTy::F64 | ElTy::F32 => Value::F(0.0),
    };
    Ok(Value::arr(dims, vec![z; n], elty))
}

fn copy(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    Ok(match x {
        Value::Arr(x) => {
            let x = x.borrow();
            Value::Arr(Rc::new(RefCell::new(Arr::new(
                x.dims.clone(),
                x.data.clone(),
                x.elty,
                x.rowvec,
            ))))
        }
        Value::Buffer(b) => {
            // copy(buf) freezes the buffer and returns an array
            b.borrow_mut().frozen = true;
            let inner = b.borrow().arr.clone();
            return call_builtin(it, &nm("copy"), vec![inner], c.kw, c.span);
        }
        Value::Dict(d) => Value::Dict(Rc::new(RefCell::new(d.borrow().clone()))),
        Value::Struct(o) if o.def.mutable => Value::Struct(Rc::new(Obj {
            def: o.def.clone(),
            fields: RefCell::new(o.fields.borrow().clone()),
        })),
        Value::Ref(r) if c.name.as_ref() == "deepcopy" => {
            Value::Ref(Rc::new(RefCell::new(r.borrow().clone())))
        }
        other => other.clone(),
    })
}

/// `eachcol`, `eachrow`: the columns or rows, as vectors.
fn slices(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let (r, cols, d) = as_matrix_parts(x);
    let t = promote_elty(&d);
    let out: Vec<Value> = if c.name.as_ref() == "eachcol" {
        (0..cols)
            .map(|j| Value::arr(vec![r], (0..r).map(|i| d[i + j * r].clone()).collect(), t))
            .collect()
    } else {
        (0..r)
            .map(|i| {
                Value::arr(
                    vec![cols],
                    (0..cols).map(|j| d[i + j * r].clone()).collect(),
                    t,
                )
            })
            .collect()
    };
    let n = out.len();
    Ok(Value::arr(vec![n], out, ElTy::Any))
}

fn sort(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let mut items = it.iterate(x)?;
    let rev = matches!(c.kwarg("rev"), Some(Value::Bool(true)));
    if c.kwarg("by").is_some() {
        return Err(it.unsupported("sort with by=", c.span));
    }
    items.sort_by(|x, y| {
        let (p, q) = (
            x.as_f64().unwrap_or(f64::NAN),
            y.as_f64().unwrap_or(f64::NAN),
        );
        p.partial_cmp(&q).unwrap_or(std::cmp::Ordering::Equal)
    });
    if rev {
        items.reverse();
    }
    let t = promote_elty(&items);
    let n = items.len();
    Ok(Value::arr(vec![n], items, t))
}

fn reverse(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let mut items = it.iterate(x)?;
    items.reverse();
    if let Value::Tuple(_) = x {
        return Ok(Value::tuple(items));
    }
    let t = promote_elty(&items);
    let n = items.len();
    Ok(Value::arr(vec![n], items, t))
}

fn unique(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let items = it.iterate(x)?;
    let mut out: Vec<Value> = vec![];
    for v in items {
        if !out.iter().any(|x| values_equal(x, &v)) {
            out.push(v);
        }
    }
    let t = promote_elty(&out);
    let n = out.len();
    Ok(Value::arr(vec![n], out, t))
}
