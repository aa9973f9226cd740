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
use std::collections::HashMap;
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
        names: &["sort", "sortperm"],
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
        names: &["cat"],
        call: cat,
    },
    Builtin {
        names: &["circshift"],
        call: circshift,
    },
    Builtin {
        names: &["mapslices"],
        call: mapslices,
    },
    Builtin {
        names: &["stack"],
        call: unmodelled,
    },
    Builtin {
        names: &["complex", "Complex", "//", "Rational", "rationalize"],
        call: no_complex_or_rational,
    },
];

/// Complex numbers and `Rational`s have no value kind in the interpreter.
fn no_complex_or_rational(it: &mut Interp, c: Call) -> R<Value> {
    let what = if matches!(c.name.as_ref(), "//" | "Rational" | "rationalize") {
        "Rational numbers"
    } else {
        "complex numbers"
    };
    Err(it.unsupported(&format!("{} ({what} are not modelled)", c.name), c.span))
}

/// An array's dims and elements, a number as a 0-dimensional one, a range as a vector.
fn array_parts(it: &mut Interp, v: &Value) -> R<(Vec<usize>, Vec<Value>)> {
    Ok(match v {
        Value::Arr(a) => {
            let a = a.borrow();
            (a.dims.clone(), a.data.clone())
        }
        Value::Range(..) => {
            let d = it.iterate(v)?;
            (vec![d.len()], d.into_vec())
        }
        x if x.is_num() => (vec![], vec![x.clone()]),
        _ => return Err(it.unsupported_here(&format!("cat of a {}", type_name(v)))),
    })
}

/// The column-major strides of an array of `dims`.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(dims.len());
    let mut stride = 1usize;
    for &n in dims {
        out.push(stride);
        stride = stride.saturating_mul(n);
    }
    out
}

/// Calls `f` with the linear position and the 0-based index of each element of an array
/// of `dims`, in column-major order, charging each to the time budget. (The list of every
/// index that this replaces was nine million vectors for one `circshift` of a 3000x3000
/// matrix, and its time was read only after the call.)
fn for_each_index(it: &Interp, dims: &[usize], mut f: impl FnMut(usize, &[usize])) -> R<()> {
    let total: usize = dims.iter().product();
    let mut idx = vec![0usize; dims.len()];
    for k in 0..total {
        it.charge(1)?;
        f(k, &idx);
        for (i, &n) in idx.iter_mut().zip(dims) {
            *i += 1;
            if *i < n {
                break;
            }
            *i = 0;
        }
    }
    Ok(())
}

/// The most dimensions `cat` makes.
const MAX_CAT_DIMS: usize = 32;

/// `cat(xs...; dims = k)` and `cat(xs...; dims = (1, 2))` (block diagonal; the rest is zero).
fn cat(it: &mut Interp, c: Call) -> R<Value> {
    let catdims: Vec<usize> = match c.kwarg("dims") {
        Some(Value::Int(k)) if *k >= 1 => vec![*k as usize],
        Some(Value::Tuple(t)) if !t.is_empty() => {
            let mut v = vec![];
            for x in t.iter() {
                match x {
                    Value::Int(k) if *k >= 1 => v.push(*k as usize),
                    _ => return Err(c.no_method(it)),
                }
            }
            v
        }
        Some(Value::Range(a, 1, b)) if *a >= 1 && b >= a && *b <= MAX_CAT_DIMS as i64 => {
            (*a as usize..=*b as usize).collect()
        }
        _ => return Err(c.no_method(it)),
    };
    // Julia makes an array of that many dimensions; this one stops well before (each
    // array's size is padded to it, so `dims = 2^62` asked for 2^62 numbers).
    if catdims.iter().any(|&k| k > MAX_CAT_DIMS) {
        return Err(it.unsupported(
            &format!("cat with more than {MAX_CAT_DIMS} dimensions"),
            c.span,
        ));
    }
    if c.args.is_empty() {
        return Err(c.no_method(it));
    }
    let mut parts = vec![];
    for a in &c.args {
        parts.push(array_parts(it, a)?);
    }
    let nd = (parts.iter().map(|p| p.0.len()))
        .chain(catdims.iter().copied())
        .max()
        .unwrap_or(1);
    let padded: Vec<Vec<usize>> = (parts.iter())
        .map(|(d, _)| (0..nd).map(|k| d.get(k).copied().unwrap_or(1)).collect())
        .collect();
    let mut out_dims = padded[0].clone();
    for d in 0..nd {
        let along = catdims.contains(&(d + 1));
        if along {
            out_dims[d] = padded.iter().map(|p| p[d]).sum();
        } else if padded.iter().any(|p| p[d] != out_dims[d]) {
            return Err(it.throw(
                "DimensionMismatch",
                format!(
                    "DimensionMismatch: mismatch in dimension {} (expected {} got {})",
                    d + 1,
                    out_dims[d],
                    padded
                        .iter()
                        .map(|p| p[d])
                        .find(|&x| x != out_dims[d])
                        .unwrap_or(0)
                ),
            ));
        }
    }
    let n = super::element_count(it, &out_dims)?;
    let all: Vec<Value> = parts.iter().flat_map(|p| p.1.iter().cloned()).collect();
    let t = promote_elty(&all);
    let zero = match t {
        ElTy::F64 | ElTy::F32 => Value::F(0.0),
        ElTy::Bool => Value::Bool(false),
        _ => Value::Int(0),
    };
    let mut data = vec![zero; n];
    let mut offset = vec![0usize; nd];
    let strides = strides(&out_dims);
    for ((_, vals), pd) in parts.iter().zip(&padded) {
        for_each_index(it, pd, |k, idx| {
            let at: usize = (0..nd).map(|d| (idx[d] + offset[d]) * strides[d]).sum();
            data[at] = vals[k].clone();
        })?;
        for &d in &catdims {
            offset[d - 1] += pd[d - 1];
        }
    }
    let data = data.into_iter().map(|v| convert_el(v, t)).collect();
    Ok(Value::arr(out_dims, data, t))
}

/// `circshift(x, s)`: an integer shifts along the first dimension, a tuple along each.
fn circshift(it: &mut Interp, c: Call) -> R<Value> {
    let [x @ Value::Arr(a), s] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let shifts: Vec<i64> = match s {
        Value::Int(k) => vec![*k],
        Value::Tuple(t) => {
            let mut v = vec![];
            for k in t.iter() {
                match k {
                    Value::Int(k) => v.push(*k),
                    _ => return Err(c.no_method(it)),
                }
            }
            v
        }
        _ => return Err(c.no_method(it)),
    };
    let _ = x;
    let a = a.borrow();
    let dims = &a.dims;
    it.check_elements(a.data.len())?;
    // Each dimension's shift reduced first: `i + sh` overflowed for a shift near
    // typemin(Int).
    let shift: Vec<usize> = (dims.iter().enumerate())
        .map(|(d, &n)| {
            shifts
                .get(d)
                .copied()
                .unwrap_or(0)
                .rem_euclid(n.max(1) as i64) as usize
        })
        .collect();
    let strides = strides(dims);
    let mut out = vec![Value::Nothing; a.data.len()];
    for_each_index(it, dims, |k, idx| {
        let to: usize = (idx.iter().enumerate())
            .map(|(d, &i)| (i + shift[d]) % dims[d] * strides[d])
            .sum();
        out[to] = a.data[k].clone();
    })?;
    Ok(Value::arr(dims.clone(), out, a.elty))
}

/// `mapslices(f, A; dims)` for a matrix and `dims` 1 (columns) or 2 (rows). Base writes each
/// result into the output array with `R[ridx...] = r` (setindex!): Zygote's mutation event.
fn mapslices(it: &mut Interp, c: Call) -> R<Value> {
    let [f, Value::Arr(a)] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let (dims, data, elty) = {
        let a = a.borrow();
        (a.dims.clone(), a.data.clone(), a.elty)
    };
    let d =
        match c.kwarg("dims") {
            Some(Value::Int(d)) if (*d == 1 || *d == 2) && dims.len() == 2 => *d as usize,
            _ => return Err(it.unsupported(
                "mapslices other than over the columns (dims = 1) or rows (dims = 2) of a matrix",
                c.span,
            )),
        };
    let (r, k) = (dims[0], dims[1]);
    let count = if d == 1 { k } else { r };
    let mut results = vec![];
    for s in 0..count {
        let slice: Vec<Value> = if d == 1 {
            data[s * r..(s + 1) * r].to_vec()
        } else {
            (0..k).map(|j| data[s + j * r].clone()).collect()
        };
        let n = slice.len();
        let y = it.call_elem(f, vec![Value::arr(vec![n], slice, elty)], c.span)?;
        let y = match &y {
            Value::Arr(_) | Value::Range(..) if size_of(&y).len() <= 1 => {
                it.iterate(&y)?.into_vec()
            }
            v if v.is_num() => vec![v.clone()],
            _ => {
                return Err(it.unsupported(
                    "mapslices whose function returns other than a number or a vector",
                    c.span,
                ))
            }
        };
        results.push(y);
    }
    let m = results.first().map(|v| v.len()).unwrap_or(0);
    if results.iter().any(|v| v.len() != m) {
        return Err(it.throw(
            "DimensionMismatch",
            "DimensionMismatch: slices of different sizes",
        ));
    }
    let out_dims = if d == 1 {
        vec![m, count]
    } else {
        vec![count, m]
    };
    let mut out = vec![Value::Nothing; m * count];
    for (s, y) in results.into_iter().enumerate() {
        for (i, v) in y.into_iter().enumerate() {
            let pos = if d == 1 { i + s * m } else { s + i * count };
            out[pos] = v;
        }
    }
    let t = promote_elty(&out);
    let result = Value::arr(
        out_dims,
        out.into_iter().map(|v| convert_el(v, t)).collect(),
        t,
    );
    it.mutation_event(
        if count > 1 { "setindex!" } else { "copyto!" },
        &result,
        c.span,
    );
    Ok(result)
}

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
            it.check_elements(x.data.len())?;
            Ok(Value::arr(
                x.dims.clone(),
                it.copy_values(&x.data)?.into_vec(),
                x.elty,
            ))
        }
        [x] => {
            let items = it.iterate(x)?;
            let t = promote_elty(&items);
            let n = items.len();
            Ok(Value::arr(vec![n], items.into_vec(), t))
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
    let items = match &a[0] {
        Value::Arr(x) => it.copy_values(&x.borrow().data)?,
        other => it.iterate(other)?,
    };
    // One dimension may be `:`, the length divided by the others.
    let colon = |v: &Value| matches!(v, Value::Sym(s) if s.as_ref() == ":");
    let dims = match a[1..].iter().filter(|v| colon(v)).count() {
        0 => dims_from(it, &a[1..])?,
        1 => {
            let known: Vec<Value> = a[1..].iter().filter(|v| !colon(v)).cloned().collect();
            let known = dims_from(it, &known)?;
            // Checked: a product past the address width divides nothing.
            let rest = (known.iter()).try_fold(1usize, |n, &d| n.checked_mul(d));
            let rest = rest.unwrap_or(0);
            if rest == 0 || items.len() % rest != 0 {
                return Err(it.throw(
                    "DimensionMismatch",
                    format!(
                        "DimensionMismatch: array size {} must be divisible by the product of the new dimensions {rest}",
                        items.len()
                    ),
                ));
            }
            let mut known = known.into_iter();
            (a[1..].iter())
                .map(|v| match colon(v) {
                    true => items.len() / rest,
                    false => known.next().unwrap_or(1),
                })
                .collect()
        }
        _ => return Err(c.no_method(it)),
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
    Ok(Value::arr(dims, items.into_vec(), t))
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
    if c.name.as_ref() == "deepcopy" && !matches!(x, Value::Buffer(_)) {
        return deep_copy(it, x, 0, &mut HashMap::new(), c.span);
    }
    Ok(match x {
        Value::Arr(x) => {
            let x = x.borrow();
            it.check_bytes(slots_cost(x.data.len()))?;
            Value::Arr(Rc::new(RefCell::new(Arr::new(
                x.dims.clone(),
                it.copy_values(&x.data)?.into_vec(),
                x.elty,
                x.rowvec,
            ))))
        }
        Value::Buffer(b) => {
            // copy(buf) freezes the buffer and returns an array
            b.borrow_mut().frozen = true;
            let inner = b.borrow().arr.clone();
            return call_builtin(it, &nm("copy"), vec![inner], c.forward_kw(), c.span);
        }
        Value::Dict(d) => {
            it.check_bytes(Table::cost(d.borrow().len()))?;
            Value::Dict(Rc::new(RefCell::new(d.borrow().clone())))
        }
        Value::Struct(o) if o.def.mutable => {
            Value::Struct(Rc::new(Obj::new(o.def.clone(), o.fields.borrow().clone())))
        }
        other => other.clone(),
    })
}

/// Julia's `deepcopy`: arrays, dictionaries, mutable structs and `Ref`s copied all the way
/// down, and whatever appears twice in `v` (or contains itself) copied once, so the copy
/// shares as the original does. `seen` maps each copied object's address to its copy.
fn deep_copy(
    it: &Interp,
    v: &Value,
    depth: u32,
    seen: &mut HashMap<usize, Value>,
    span: super::super::ir::Span,
) -> R<Value> {
    const DEEPEST: u32 = 1000;
    if depth > DEEPEST {
        return Err(it.unsupported("deepcopy of values nested deeper than 1000", span));
    }
    it.charge(1)?;
    // Immutable values (tuples, immutable structs) are remembered too: a copy made once
    // serves each place they appear, which no program can tell from two copies, and a
    // tuple doubled in a loop (`t = (t, t)`) is copied in as many steps as it was made.
    let key = match v {
        Value::Arr(a) => Rc::as_ptr(a) as usize,
        Value::Dict(d) => Rc::as_ptr(d) as usize,
        Value::Struct(o) => Rc::as_ptr(o) as usize,
        Value::Ref(r) => Rc::as_ptr(r) as usize,
        Value::Tuple(t) | Value::NT(_, t) => Rc::as_ptr(t) as usize,
        _ => 0,
    };
    if let Some(copied) = seen.get(&key).filter(|_| key != 0) {
        return Ok(copied.clone());
    }
    let each = |xs: &[Value], seen: &mut HashMap<usize, Value>| -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(xs.len());
        for x in xs {
            out.push(deep_copy(it, x, depth + 1, seen, span)?);
        }
        Ok(out)
    };
    Ok(match v {
        Value::Arr(a) => {
            let (dims, elty, rowvec, n) = {
                let a = a.borrow();
                (a.dims.clone(), a.elty, a.rowvec, a.data.len())
            };
            it.check_bytes(slots_cost(n))?;
            let copy = Rc::new(RefCell::new(Arr::new(dims, vec![], elty, rowvec)));
            seen.insert(key, Value::Arr(copy.clone()));
            // Numbers need no walk: the common case is one copy of the elements.
            let data = match elty {
                ElTy::Any => each(&a.borrow().data.clone(), seen)?,
                _ => it.copy_values(&a.borrow().data)?.into_vec(),
            };
            let mut c = copy.borrow_mut();
            c.data = data;
            c.count_growth();
            drop(c);
            Value::Arr(copy)
        }
        Value::Dict(d) => {
            let entries: Vec<(Value, Value)> = d.borrow().to_vec();
            it.check_bytes(Table::cost(entries.len()))?;
            let copy = Rc::new(RefCell::new(Table::new(vec![])));
            seen.insert(key, Value::Dict(copy.clone()));
            for (k, x) in entries {
                let k = deep_copy(it, &k, depth + 1, seen, span)?;
                let x = deep_copy(it, &x, depth + 1, seen, span)?;
                copy.borrow_mut().push(k, x);
            }
            Value::Dict(copy)
        }
        Value::Struct(o) if o.def.mutable => {
            let fields = o.fields.borrow().clone();
            let copy = Rc::new(Obj::new(o.def.clone(), vec![Value::Nothing; fields.len()]));
            seen.insert(key, Value::Struct(copy.clone()));
            let fields = each(&fields, seen)?;
            *copy.fields.borrow_mut() = fields;
            Value::Struct(copy)
        }
        Value::Struct(o) => {
            let fields = each(&o.fields.borrow().clone(), seen)?;
            let copy = Value::Struct(Rc::new(Obj::new(o.def.clone(), fields)));
            seen.insert(key, copy.clone());
            copy
        }
        Value::Ref(r) => {
            let copy = Rc::new(RefCell::new(Value::Nothing));
            seen.insert(key, Value::Ref(copy.clone()));
            let inner = deep_copy(it, &r.borrow().clone(), depth + 1, seen, span)?;
            *copy.borrow_mut() = inner;
            Value::Ref(copy)
        }
        Value::Tuple(t) => {
            let copy = Value::tuple(each(t, seen)?);
            seen.insert(key, copy.clone());
            copy
        }
        Value::NT(names, t) => {
            let copy = Value::nt(names.clone(), each(t, seen)?);
            seen.insert(key, copy.clone());
            copy
        }
        Value::Pair(p) => Value::pair(
            deep_copy(it, &p.0, depth + 1, seen, span)?,
            deep_copy(it, &p.1, depth + 1, seen, span)?,
        ),
        other => other.clone(),
    })
}

/// `eachcol`, `eachrow`: the columns or rows, as vectors.
fn slices(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let (r, cols, d) = as_matrix_parts(it, x)?;
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

/// `sort(v; lt, by, rev)` and `sortperm(v; lt, by, rev)`: Julia's stable sort by `isless`
/// (NaN after every number, -0.0 before 0.0, strings by code point, tuples and vectors
/// lexicographically), or by the user's `lt`, called through the interpreter so that a
/// throw is the program's error and each call a step of the budget.
fn sort(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    if let Some((k, _)) = (c.kw.iter()).find(|(k, _)| !matches!(k.as_ref(), "lt" | "by" | "rev")) {
        return Err(it.unsupported(&format!("{} with {k}=", c.name), c.span));
    }
    let order = super::reductions::Order::of(it, &c)?;
    match x {
        // Julia's `sort(A; dims)` of an array of more dimensions has no default `dims`.
        Value::Arr(a) if a.borrow().dims.len() > 1 => {
            return Err(it.throw(
                "UndefKeywordError",
                "UndefKeywordError: keyword argument `dims` not assigned",
            ))
        }
        // A tuple sorts to a tuple in recent Julia and has no method in older ones.
        Value::Tuple(_) | Value::NT(..) => return Err(c.no_method(it)),
        _ => {}
    }
    let items = it.iterate(x)?;
    let keys = match &order.by {
        Some(_) => {
            let mut keys = it.scratch(items.len())?;
            for v in &items {
                keys.push(order.key(it, v, c.span)?);
            }
            Some(keys)
        }
        None => None,
    };
    let lt =
        (order.lt.as_ref()).filter(|f| !matches!(f, Value::Builtin(n) if n.as_ref() == "isless"));
    let perm = sort_perm(it, keys.as_ref().unwrap_or(&items), lt, order.rev, c.span)?;
    let n = perm.len();
    let mut out = it.scratch(n)?;
    if c.name.as_ref() == "sortperm" {
        out.extend(perm.iter().map(|&i| Value::Int(i as i64 + 1)));
        return Ok(Value::arr(vec![n], out.into_vec(), ElTy::I64));
    }
    drop(keys);
    out.extend(perm.iter().map(|&i| items[i].clone()));
    let t = promote_elty(&out);
    Ok(Value::arr(vec![n], out.into_vec(), t))
}

/// The positions of `keys` in sorted order (stable): by `lt` if given, else by `isless`;
/// `rev` sorts by `lt` with its arguments swapped, as Julia's `ReverseOrdering`.
fn sort_perm(
    it: &mut Interp,
    keys: &[Value],
    lt: Option<&Value>,
    rev: bool,
    span: super::super::ir::Span,
) -> R<Scratch<usize>> {
    let mut perm = it.scratch(keys.len())?;
    perm.extend(0..keys.len());
    if let Some(f) = lt {
        let mut less = |it: &mut Interp, a: &usize, b: &usize| -> R<bool> {
            let (a, b) = if rev { (b, a) } else { (a, b) };
            let r = it.call_value(f, vec![keys[*a].clone(), keys[*b].clone()], vec![], span)?;
            it.truthy(&r)
        };
        return merge_sort(it, perm, &mut less);
    }
    // Numbers are sorted by a key whose integer order is `isless`: most sorts are of
    // numbers, and comparing keys is many times faster than comparing values.
    if let Some(order) = number_keys(it, keys)? {
        let mut pairs = it.scratch(keys.len())?;
        pairs.extend(order.iter().copied().zip(perm.iter().copied()));
        drop(order);
        let mut less = |_: &mut Interp, a: &(u64, usize), b: &(u64, usize)| -> R<bool> {
            Ok(if rev { b.0 < a.0 } else { a.0 < b.0 })
        };
        let sorted = merge_sort(it, pairs, &mut less)?;
        for (slot, (_, i)) in perm.iter_mut().zip(sorted.iter()) {
            *slot = *i;
        }
        return Ok(perm);
    }
    let mut less = |it: &mut Interp, a: &usize, b: &usize| -> R<bool> {
        match rev {
            false => it.isless(&keys[*a], &keys[*b]),
            true => it.isless(&keys[*b], &keys[*a]),
        }
    };
    merge_sort(it, perm, &mut less)
}

/// For numbers that one kind of key orders exactly (all integers, or all exact as floats),
/// keys whose unsigned order is Julia's `isless` on them.
fn number_keys(it: &Interp, vals: &[Value]) -> R<Option<Scratch<u64>>> {
    const EXACT: u64 = 1 << 53;
    fn float_key(f: f64) -> u64 {
        // All NaNs are one value, after +Inf; -0.0 before 0.0 (IEEE total order).
        let b = if f.is_nan() {
            f64::NAN.to_bits() & !(1 << 63)
        } else {
            f.to_bits()
        };
        if b >> 63 == 1 {
            !b
        } else {
            b | 1 << 63
        }
    }
    fn as_float(v: &Value) -> Option<u64> {
        match v {
            Value::F(f) | Value::T(f, _, _) => Some(float_key(*f)),
            Value::Int(i) if i.unsigned_abs() <= EXACT => Some(float_key(*i as f64)),
            Value::Bool(b) => Some(float_key(*b as u8 as f64)),
            _ => None,
        }
    }
    fn as_int(v: &Value) -> Option<u64> {
        match v {
            Value::Int(i) => Some((*i as u64) ^ 1 << 63),
            Value::Bool(b) => Some((*b as u64) ^ 1 << 63),
            _ => None,
        }
    }
    let mut keys = it.scratch(vals.len())?;
    for key in [as_float, as_int] {
        keys.clear();
        for v in vals {
            match key(v) {
                Some(k) => keys.push(k),
                None => break,
            }
        }
        if keys.len() == vals.len() {
            return Ok(Some(keys));
        }
    }
    Ok(None)
}

/// A stable bottom-up merge sort of `v` by `less`, which may fail (the user's `lt` threw,
/// the budget stopped) and need not be a strict weak order: Rust's own sort panics on a
/// comparator that is not a total order (`sort` of numbers with NaN did), this one only
/// gives some order. Each comparison is charged to the time budget.
fn merge_sort<T: Copy>(
    it: &mut Interp,
    mut a: Scratch<T>,
    less: &mut dyn FnMut(&mut Interp, &T, &T) -> R<bool>,
) -> R<Scratch<T>> {
    const RUN: usize = 16;
    let n = a.len();
    let mut lt = |it: &mut Interp, x: &T, y: &T| -> R<bool> {
        it.charge(1)?;
        less(it, x, y)
    };
    // Runs of `RUN` by insertion.
    for start in (0..n).step_by(RUN) {
        let end = (start + RUN).min(n);
        for i in start + 1..end {
            let mut j = i;
            while j > start && lt(it, &a[j], &a[j - 1])? {
                a.swap(j, j - 1);
                j -= 1;
            }
        }
    }
    let mut b = it.scratch(n)?;
    b.extend_from_slice(&a);
    let mut width = RUN;
    while width < n {
        for lo in (0..n).step_by(2 * width) {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j) = (lo, mid);
            for slot in &mut b[lo..hi] {
                let take_right = j < hi && (i >= mid || lt(it, &a[j], &a[i])?);
                if take_right {
                    *slot = a[j];
                    j += 1;
                } else {
                    *slot = a[i];
                    i += 1;
                }
            }
        }
        std::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    Ok(a)
}

impl Interp {
    /// Julia's `isless`: numbers with NaN after all others and -0.0 before 0.0, strings,
    /// characters and symbols by code point, tuples, pairs and vectors lexicographically;
    /// other values are a `MethodError`, as in Julia. Each comparison is charged.
    pub(super) fn isless(&self, a: &Value, b: &Value) -> R<bool> {
        self.isless_at(a, b, 0)
    }

    /// `isless` at `depth` levels inside the values first compared: vectors that contain
    /// themselves recursed until the stack overflowed (Julia's own recursion ends in a
    /// `StackOverflowError`); past 1,000 levels the run stops as unsupported.
    fn isless_at(&self, a: &Value, b: &Value, depth: u32) -> R<bool> {
        if depth > 1000 {
            return Err(crate::refad::Ctrl::Stop(
                "unsupported in the reference interpreter: isless of values nested deeper than 1000"
                    .into(),
            ));
        }
        self.charge(1)?;
        let d = depth + 1;
        Ok(match (a, b) {
            (Value::Int(x), Value::Int(y)) => x < y,
            (x, y) if x.is_num() && y.is_num() => num_isless(x, y),
            (Value::Str(x), Value::Str(y)) => {
                self.charge(x.len().min(y.len()) / 64)?;
                x < y
            }
            (Value::Char(x), Value::Char(y)) => x < y,
            (Value::Sym(x), Value::Sym(y)) => x < y,
            (Value::Tuple(x), Value::Tuple(y)) => self.lexless(x, y, d)?,
            (Value::Pair(p), Value::Pair(q)) => match self.isless_at(&p.0, &q.0, d)? {
                true => true,
                false => !self.isless_at(&q.0, &p.0, d)? && self.isless_at(&p.1, &q.1, d)?,
            },
            (Value::Arr(x), Value::Arr(y))
                if x.borrow().dims.len() == 1 && y.borrow().dims.len() == 1 =>
            {
                self.lexless(&x.borrow().data, &y.borrow().data, d)?
            }
            _ => return Err(self.no_isless(a, b)),
        })
    }

    /// Julia's error for two values `isless` (and `<`) cannot order.
    pub(super) fn no_isless(&self, a: &Value, b: &Value) -> crate::refad::Ctrl {
        self.throw(
            "MethodError",
            format!(
                "MethodError: no method matching isless(::{}, ::{})",
                type_name(a),
                type_name(b)
            ),
        )
    }

    /// `isless` of sequences: the first elements that differ, else the shorter first.
    fn lexless(&self, x: &[Value], y: &[Value], depth: u32) -> R<bool> {
        for (p, q) in x.iter().zip(y) {
            if self.isless_at(p, q, depth)? {
                return Ok(true);
            }
            if self.isless_at(q, p, depth)? {
                return Ok(false);
            }
        }
        Ok(x.len() < y.len())
    }
}

/// `isless` of two numbers: exact between integers and floats (an integer past 2^53 is
/// not rounded), NaN after every other number, -0.0 before 0.0.
/// An integer against a float that is not NaN, exactly (`2^53 + 1 > 2.0^53`).
pub(super) fn int_float_cmp(i: i64, f: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (i as f64).partial_cmp(&f) {
        Some(Ordering::Equal) => (i as i128).cmp(&(f as i128)),
        Some(o) => o,
        None => Ordering::Less,
    }
}

fn num_isless(a: &Value, b: &Value) -> bool {
    use std::cmp::Ordering;
    enum N {
        I(i64),
        F(f64),
    }
    let n = |v: &Value| match v {
        Value::Int(i) => N::I(*i),
        Value::Bool(b) => N::I(*b as i64),
        other => N::F(other.as_f64().unwrap_or(f64::NAN)),
    };
    let int_float = int_float_cmp;
    let float_less = |x: f64, y: f64| match (x.is_nan(), y.is_nan()) {
        (true, _) => false,
        (false, true) => true,
        _ => x < y || (x == y && x.is_sign_negative() && !y.is_sign_negative()),
    };
    match (n(a), n(b)) {
        (N::I(x), N::I(y)) => x < y,
        (N::F(x), N::F(y)) => float_less(x, y),
        (N::I(i), N::F(f)) => match f.is_nan() {
            true => true,
            false => int_float(i, f) == Ordering::Less,
        },
        (N::F(f), N::I(i)) => match f.is_nan() {
            true => false,
            false if f == 0.0 && i == 0 => f.is_sign_negative(),
            false => int_float(i, f) == Ordering::Greater,
        },
    }
}

fn reverse(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let mut items = it.iterate(x)?;
    items.reverse();
    if let Value::Tuple(_) = x {
        return Ok(Value::tuple(items.into_vec()));
    }
    let t = promote_elty(&items);
    let n = items.len();
    Ok(Value::arr(vec![n], items.into_vec(), t))
}

/// A value's class under Julia's `isequal`, for the values hashed by [`unique`]: numbers
/// (`1 == 1.0`, `NaN` equal to itself, `-0.0` apart from `0.0`), text, and tuples of them.
#[derive(PartialEq, Eq, Hash)]
enum UniqueKey {
    Number(u64),
    Int(i64),
    Text(String),
    Char(char),
    Symbol(String),
    Tuple(Vec<UniqueKey>),
}

fn unique_key(v: &Value) -> Option<UniqueKey> {
    let float = |f: f64| match f.is_nan() {
        true => UniqueKey::Number(f64::NAN.to_bits()),
        false => UniqueKey::Number(f.to_bits()),
    };
    Some(match v {
        Value::Bool(b) => float(*b as u8 as f64),
        // An integer a float cannot hold exactly is equal to no float.
        Value::Int(i) if i.unsigned_abs() <= 1 << 53 => float(*i as f64),
        Value::Int(i) => UniqueKey::Int(*i),
        Value::F(f) => float(*f),
        Value::Str(s) => UniqueKey::Text(s.to_string()),
        Value::Char(c) => UniqueKey::Char(*c),
        Value::Sym(s) => UniqueKey::Symbol(s.to_string()),
        Value::Tuple(t) => UniqueKey::Tuple(t.iter().map(unique_key).collect::<Option<_>>()?),
        _ => return None,
    })
}

fn unique(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    // An array's elements are read where they are, not copied.
    let copied;
    let held;
    let items: &[Value] = match x {
        Value::Arr(a) => {
            held = a.borrow();
            &held.data
        }
        other => {
            copied = it.iterate(other)?;
            &copied
        }
    };
    let mut out = it.scratch(0)?;
    // Julia's `unique` keeps the first of each `isequal` class, found by hashing: values
    // with a key are looked up (asking every kept value made `unique` of a million
    // numbers run for minutes), the rest compared with those kept without one. Numbers,
    // the usual case, are kept as their bits alone; each element is charged, and the
    // tables count in the memory budget as they grow.
    let mut numbers: crate::name::FastSet<u64> = Default::default();
    let mut keys: crate::name::FastSet<UniqueKey> = Default::default();
    let mut unkeyed: Vec<Value> = vec![];
    let mut tables = Mem::new(0);
    // A hash table's slot: the entry and a control byte.
    let slot = |size: usize| size as u64 + 1;
    for v in items {
        it.charge(1)?;
        let new = match unique_key(v) {
            Some(UniqueKey::Number(bits)) => numbers.insert(bits),
            Some(k) => keys.insert(k),
            None if it.any_isequal(&unkeyed, v)? => false,
            None => {
                unkeyed.push(v.clone());
                true
            }
        };
        if new {
            it.push_scratch(&mut out, v.clone())?;
            let held = (numbers.capacity() as u64 * slot(std::mem::size_of::<u64>()))
                + (keys.capacity() as u64 * slot(std::mem::size_of::<UniqueKey>()))
                + (unkeyed.capacity() as u64 * SLOT);
            if held != tables.bytes() {
                it.check_bytes(held.saturating_sub(tables.bytes()))?;
                tables.resize(held);
            }
        }
    }
    let t = promote_elty(&out);
    let n = out.len();
    Ok(Value::arr(vec![n], out.into_vec(), t))
}
