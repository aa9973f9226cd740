//! Collections: `Dict`, tuples, named tuples, pairs, `Ref`, `values`, `pairs`, membership.
//!
//! A Dict keeps its entries in insertion order (see [`super::dict_pos`] for key lookup).

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{dict_pos, length_of, to_usize, unmodelled, Builtin, Call};
use std::cell::RefCell;
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["Dict"],
        call: dict,
    },
    Builtin {
        names: &["get"],
        call: get,
    },
    Builtin {
        names: &["haskey"],
        call: haskey,
    },
    Builtin {
        names: &["delete!"],
        call: delete,
    },
    Builtin {
        names: &["values"],
        call: values,
    },
    Builtin {
        names: &["pairs"],
        call: pairs,
    },
    Builtin {
        names: &["in", "∈"],
        call: contains,
    },
    Builtin {
        names: &["isempty"],
        call: isempty,
    },
    Builtin {
        names: &["Ref"],
        call: |_, c| {
            Ok(Value::Ref(Rc::new(RefCell::new(
                c.args.first().cloned().unwrap_or(Value::Nothing),
            ))))
        },
    },
    Builtin {
        names: &["Pair"],
        call: pair,
    },
    Builtin {
        names: &["tuple"],
        call: |_, c| Ok(Value::tuple(c.args)),
    },
    Builtin {
        names: &["ntuple"],
        call: ntuple,
    },
    Builtin {
        names: &["merge"],
        call: merge,
    },
    Builtin {
        names: &["Tuple", "NamedTuple"],
        call: unmodelled,
    },
];

/// `Dict(k => v, ...)`, `Dict(pairs)`; a repeated key keeps the last value.
fn dict(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    let mut entries: Vec<(Value, Value)> = vec![];
    let pairs: Vec<Value> = if a.len() == 1 && !matches!(a[0], Value::Pair(_)) {
        it.iterate(&a[0])?.into_vec()
    } else {
        c.args.clone()
    };
    it.check_size(pairs.len())?;
    it.check_bytes(Table::cost(pairs.len()))?;
    for p in pairs {
        let (k, v) = match &p {
            Value::Pair(p) => (p.0.clone(), p.1.clone()),
            Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
            _ => return Err(c.no_method(it)),
        };
        match it.key_pos(&entries, &k)? {
            Some(i) => entries[i].1 = v,
            None => entries.push((k, v)),
        }
    }
    Ok(Value::dict(entries))
}

/// `get(d, k, default)`, `get(f, d, k)`, and `get` on tuples and named tuples.
fn get(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.len() != 3 {
        return Err(c.no_method(it));
    }
    match &a[0] {
        Value::Dict(d) => {
            let d = d.borrow();
            let found = it.key_pos(&d, &a[1])?.map(|i| d[i].1.clone());
            Ok(found.unwrap_or_else(|| a[2].clone()))
        }
        Value::Func(_) | Value::Builtin(_) => {
            // get(f, d, k)
            if let Value::Dict(d) = &a[1] {
                let found = {
                    let d = d.borrow();
                    it.key_pos(&d, &a[2])?.map(|i| d[i].1.clone())
                };
                return match found {
                    Some(v) => Ok(v),
                    None => it.call_value(&a[0], vec![], vec![], c.span),
                };
            }
            Err(c.no_method(it))
        }
        Value::NT(..) | Value::Tuple(_) => {
            let r = it.getindex(&a[0], &[a[1].clone()], c.span);
            Ok(r.unwrap_or_else(|_| a[2].clone()))
        }
        _ => Err(c.no_method(it)),
    }
}

fn haskey(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Dict(d), k] => Ok(Value::Bool(dict_pos(it, &d.borrow(), k)?.is_some())),
        [Value::NT(ns, _), k] => Ok(Value::Bool(matches!(k, Value::Sym(s) if ns.contains(s)))),
        _ => Err(c.no_method(it)),
    }
}

fn delete(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [d @ Value::Dict(entries), k] => {
            let mut keep = vec![];
            for (x, _) in entries.borrow().iter() {
                keep.push(!it.values_equal(x, k)?);
            }
            let mut keep = keep.into_iter();
            (entries.borrow_mut()).retain(|_| keep.next().unwrap_or(true));
            Ok(d.clone())
        }
        _ => Err(c.no_method(it)),
    }
}

fn values(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Dict(d)] => {
            let vs: Vec<Value> = d.borrow().iter().map(|(_, v)| v.clone()).collect();
            let n = vs.len();
            Ok(Value::arr(vec![n], vs, ElTy::Any))
        }
        [Value::NT(_, vs)] => Ok(Value::tuple(vs.to_vec())),
        [x] => Ok(x.clone()),
        _ => Err(c.no_method(it)),
    }
}

fn pairs(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [d @ Value::Dict(_)] => Ok(d.clone()),
        [Value::NT(ns, vs)] => Ok(Value::tuple(
            ns.iter()
                .zip(vs.iter())
                .map(|(k, v)| Value::pair(Value::Sym(k.clone()), v.clone()))
                .collect(),
        )),
        [x] => {
            let items = it.iterate(x)?;
            it.check_elements(items.len())?;
            it.check_tuples(items.len(), 2)?;
            Ok(Value::tuple(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Value::pair(Value::Int(i as i64 + 1), v))
                    .collect(),
            ))
        }
        _ => Err(c.no_method(it)),
    }
}

/// `x in xs`, `x ∈ xs` (of a Dict, only a pair is looked for, as in Julia).
fn contains(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, Value::Dict(_)] if !matches!(x, Value::Pair(_)) => Err(it.error(
            "AbstractDict collections only contain Pairs;\nEither look for e.g. A=>B instead, or use the `keys` or `values` function if you are looking for a key or value respectively.",
        )),
        [x, xs] => {
            let items = it.iterate(xs)?;
            Ok(Value::Bool(it.any_equal(&items, x)?))
        }
        _ => Err(c.no_method(it)),
    }
}

fn isempty(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::Bool(length_of(x) == 0)),
        _ => Err(c.no_method(it)),
    }
}

fn pair(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [k, v] => Ok(Value::pair(k.clone(), v.clone())),
        _ => Err(c.no_method(it)),
    }
}

/// `ntuple(f, n)`: `(f(1), ..., f(n))`.
fn ntuple(it: &mut Interp, c: Call) -> R<Value> {
    let [f, n] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let k = to_usize(it, n)?;
    it.check_elements(k)?;
    let mut out = vec![];
    for i in 1..=k {
        out.push(it.call_value(f, vec![Value::Int(i as i64)], vec![], c.span)?);
    }
    Ok(Value::tuple(out))
}

/// `merge(nt1, nt2)` of named tuples: later fields win.
fn merge(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::NT(n1, v1), Value::NT(n2, v2)] => {
            let mut ns = n1.to_vec();
            let mut vs = v1.to_vec();
            for (k, v) in n2.iter().zip(v2.iter()) {
                match ns.iter().position(|x| x == k) {
                    Some(i) => vs[i] = v.clone(),
                    None => {
                        ns.push(k.clone());
                        vs.push(v.clone());
                    }
                }
            }
            Ok(Value::nt(Rc::new(ns), vs))
        }
        _ => Err(c.no_method(it)),
    }
}
