//! `Base.Iterators`: `product`, `take`, `drop`, `flatten`, `partition`, `repeated`, `peel`
//! (`zip`, `enumerate`, `filter`, `map` and `reverse` are the eager ones of the other
//! domains). Iterators are materialised eagerly (as `zip` and `enumerate` are): a product is
//! the array `collect` would give, `partition` gives its chunks as vectors (Julia gives views
//! or ranges with the same elements). Infinite iterators are unsupported.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{element_count, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["product"],
        call: product,
    },
    Builtin {
        names: &["take", "drop"],
        call: take_drop,
    },
    Builtin {
        names: &["flatten"],
        call: flatten,
    },
    Builtin {
        names: &["partition"],
        call: partition,
    },
    Builtin {
        names: &["repeated"],
        call: repeated,
    },
    Builtin {
        names: &["peel"],
        call: peel,
    },
    Builtin {
        names: &["countfrom", "cycle"],
        call: infinite,
    },
];

fn vector(items: Vec<Value>) -> Value {
    let t = promote_elty(&items);
    let n = items.len();
    Value::arr(
        vec![n],
        items.into_iter().map(|v| convert_el(v, t)).collect(),
        t,
    )
}

fn count_arg(it: &Interp, c: &Call, v: &Value) -> R<usize> {
    match v {
        Value::Int(n) if *n >= 0 => Ok(*n as usize),
        Value::Int(_) => Err(it.throw(
            "ArgumentError",
            format!("ArgumentError: {} must be non-negative", c.name),
        )),
        _ => Err(c.no_method(it)),
    }
}

/// `Iterators.product(xs...)`: the tuples, first argument fastest, shaped as `collect` shapes
/// them (one dimension per argument).
fn product(it: &mut Interp, c: Call) -> R<Value> {
    if c.args.is_empty() {
        return Err(c.no_method(it));
    }
    let mut lists = vec![];
    for x in &c.args {
        lists.push(it.iterate(x)?);
    }
    let dims: Vec<usize> = lists.iter().map(|l| l.len()).collect();
    let n = element_count(it, &dims)?;
    it.check_tuples(n, lists.len())?;
    let mut out = Vec::with_capacity(n);
    for mut p in 0..n {
        let mut t = Vec::with_capacity(lists.len());
        for l in &lists {
            t.push(l[p % l.len()].clone());
            p /= l.len();
        }
        out.push(Value::tuple(t));
    }
    Ok(Value::arr(dims, out, ElTy::Any))
}

/// `Iterators.take(x, n)`, `Iterators.drop(x, n)`.
fn take_drop(it: &mut Interp, c: Call) -> R<Value> {
    let [x, n] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let n = count_arg(it, &c, n)?;
    let items = it.iterate(x)?;
    let n = n.min(items.len());
    Ok(vector(if c.name.as_ref() == "take" {
        items[..n].to_vec()
    } else {
        items[n..].to_vec()
    }))
}

/// `Iterators.flatten(xs)`: the elements of the elements, in order.
fn flatten(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let mut out = vec![];
    for inner in it.iterate(x)? {
        out.extend(it.iterate(&inner)?);
        it.check_elements(out.len())?;
    }
    Ok(vector(out))
}

/// `Iterators.partition(x, n)`: consecutive chunks of `n` elements (the last may be shorter).
fn partition(it: &mut Interp, c: Call) -> R<Value> {
    let [x, n] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let n = count_arg(it, &c, n)?;
    if n == 0 {
        return Err(it.throw(
            "ArgumentError",
            "ArgumentError: cannot create partitions of length 0",
        ));
    }
    let items = it.iterate(x)?;
    let chunks: Vec<Value> = items.chunks(n).map(|ch| vector(ch.to_vec())).collect();
    let k = chunks.len();
    Ok(Value::arr(vec![k], chunks, ElTy::Any))
}

/// `Iterators.repeated(x, n)`: `n` times the same `x` (not copies).
fn repeated(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, n] => {
            let n = count_arg(it, &c, n)?;
            it.check_elements(n)?;
            Ok(Value::arr(vec![n], vec![x.clone(); n], ElTy::Any))
        }
        [_] => infinite(it, c),
        _ => Err(c.no_method(it)),
    }
}

/// `Iterators.peel(x)`: `(first, rest)`, or `nothing` when `x` is empty.
fn peel(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let mut items = it.iterate(x)?;
    if items.is_empty() {
        return Ok(Value::Nothing);
    }
    let first = items.remove(0);
    Ok(Value::tuple(vec![
        first,
        Value::arr(vec![items.len()], items.into_vec(), ElTy::Any),
    ]))
}

fn infinite(it: &mut Interp, c: Call) -> R<Value> {
    Err(it.unsupported(
        &format!("Iterators.{} (an infinite iterator)", c.name),
        c.span,
    ))
}
