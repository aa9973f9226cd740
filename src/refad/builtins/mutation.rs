//! In-place array functions: `push!`, `pop!`, `append!`, `copyto!`, `fill!`, `map!`, ...
//!
//! They run normally and record the mutation event Zygote would raise in its reverse pass,
//! under the name of the Base function Zygote reports (`append!` is a `copyto!`, `fill!` and
//! `map!` are `setindex!` loops). Writes into a `Zygote.Buffer` record nothing.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{call_builtin, nm, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["push!", "pushfirst!", "append!"],
        call: push,
    },
    Builtin {
        names: &["pop!", "popfirst!"],
        call: pop,
    },
    Builtin {
        names: &["map!", "broadcast!"],
        call: map_into,
    },
    Builtin {
        names: &["copy!"],
        call: copy_into,
    },
    Builtin {
        names: &["copyto!"],
        call: copyto,
    },
    Builtin {
        names: &["fill!"],
        call: fill,
    },
    Builtin {
        names: &[
            "insert!",
            "deleteat!",
            "splice!",
            "empty!",
            "resize!",
            "sort!",
            "reverse!",
            "sum!",
        ],
        call: in_place,
    },
    Builtin {
        names: &["union!", "intersect!", "setdiff!"],
        call: set_op_into,
    },
    Builtin {
        names: &["sizehint!"],
        call: |_, _| Ok(Value::Nothing),
    },
];

/// `push!`, `pushfirst!`, `append!` on a vector, a Dict (pairs) or a Buffer.
/// The function Zygote's error names for a call of the mutating function `name`: the
/// `via` of its `[[mutating]]` row in `knowledge/functions.toml`, which the rules'
/// messages quote too (`append!` runs `copyto!`, `map!` runs `setindex!`).
fn reported(name: &str) -> &str {
    match crate::knowledge::get().mutating(name) {
        Some(row) => &row.via,
        None => name,
    }
}

fn push(it: &mut Interp, c: Call) -> R<Value> {
    let (name, a, span): (&str, &[Value], _) = (c.name, &c.args, c.span);
    if a.len() < 2 {
        return Err(c.no_method(it));
    }
    match &a[0] {
        Value::Arr(x) => {
            let items: Vec<Value> = if name == "append!" {
                let mut v = vec![];
                for part in &a[1..] {
                    v.extend(it.iterate(part)?);
                }
                v
            } else {
                a[1..].to_vec()
            };
            let elty = x.borrow().elty;
            let mut conv = vec![];
            for v in items {
                conv.push(it.convert_for(elty, v)?);
            }
            if x.borrow().dims.len() != 1 {
                return Err(c.no_method(it));
            }
            // Checked before the array grows.
            it.check_size(x.borrow().data.len() + conv.len())?;
            it.check_bytes(conv.len() as u64 * SLOT)?;
            {
                let mut xb = x.borrow_mut();
                if name == "pushfirst!" {
                    xb.data.splice(0..0, conv);
                } else {
                    xb.data.extend(conv);
                }
                xb.dims[0] = xb.data.len();
                xb.count_growth();
            }
            it.mutation_event(reported(name), &a[0], span);
            Ok(a[0].clone())
        }
        Value::Dict(_) => {
            for p in &a[1..] {
                if let Value::Pair(p) = p {
                    it.setindex(&a[0], p.1.clone(), std::slice::from_ref(&p.0), span)?;
                }
            }
            Ok(a[0].clone())
        }
        Value::Buffer(b) => {
            if b.borrow().frozen {
                return Err(it.frozen(span));
            }
            let inner = b.borrow().arr.clone();
            let saved = it.rec_events;
            it.rec_events = false;
            let args = [vec![inner], a[1..].to_vec()].concat();
            let r = call_builtin(it, c.name, args, c.forward_kw(), span);
            it.rec_events = saved;
            r?;
            Ok(a[0].clone())
        }
        _ => Err(c.no_method(it)),
    }
}

fn pop(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    match c.args.as_slice() {
        [arr @ Value::Arr(x)] => {
            let v = {
                let mut xb = x.borrow_mut();
                if xb.data.is_empty() {
                    None
                } else {
                    let v = if name == "pop!" {
                        xb.data.pop()
                    } else {
                        Some(xb.data.remove(0))
                    };
                    xb.dims[0] = xb.data.len();
                    xb.count_growth();
                    v
                }
            };
            let v = v.ok_or_else(|| {
                it.throw("ArgumentError", "ArgumentError: array must be non-empty")
            })?;
            it.mutation_event(reported(name), arr, c.span);
            Ok(v)
        }
        _ => Err(c.no_method(it)),
    }
}

/// `map!(f, dest, xs...)`, `broadcast!(f, dest, xs...)`.
fn map_into(it: &mut Interp, c: Call) -> R<Value> {
    let (name, a, span): (&str, &[Value], _) = (c.name, &c.args, c.span);
    if a.len() < 3 {
        return Err(unmodelled(it, &c));
    }
    // Base's map! writes `dest[i] = f(...)` (setindex!); broadcast! materialises into
    // dest (copyto!) — §7 rows 4 and 40.
    let vals = if name == "map!" {
        let mut lists = vec![];
        for x in &a[2..] {
            lists.push(it.iterate(x)?);
        }
        let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
        let mut out = vec![];
        for i in 0..n {
            let args: Vec<Value> = lists.iter().map(|l| l[i].clone()).collect();
            out.push(it.call_elem(&a[0], args, span)?);
        }
        out
    } else {
        let r = it.broadcast(&a[0], a[2..].to_vec(), span)?;
        it.iterate(&r)?.into_vec()
    };
    match &a[1] {
        Value::Arr(x) => {
            let elty = x.borrow().elty;
            if vals.len() > x.borrow().data.len() {
                return Err(it.throw(
                    "DimensionMismatch",
                    "DimensionMismatch: destination too short",
                ));
            }
            let mut conv = vec![];
            for v in vals {
                conv.push(it.convert_for(elty, v)?);
            }
            {
                let mut xb = x.borrow_mut();
                for (i, v) in conv.into_iter().enumerate() {
                    xb.data[i] = v;
                }
            }
            it.mutation_event(reported(name), &a[1], span);
            Ok(a[1].clone())
        }
        _ => Err(c.no_method(it)),
    }
}

/// `copy!(dest, src)` is `copyto!`.
fn copy_into(it: &mut Interp, c: Call) -> R<Value> {
    if c.args.len() != 2 {
        return Err(unmodelled(it, &c));
    }
    let kw = c.forward_kw();
    call_builtin(it, &nm("copyto!"), c.args, kw, c.span)
}

/// The stop for a call of an in-place function the interpreter does not model.
fn unmodelled(it: &Interp, c: &Call) -> crate::refad::Ctrl {
    it.unsupported(&format!("{} (in-place array function)", c.name), c.span)
}

/// `sort!`, `reverse!`, `insert!`, `deleteat!` and `empty!` of a vector run as Julia's do
/// outside differentiated code (a program's setup). Inside it, what Zygote raises goes
/// through Base internals that differ between Julia versions (§7), so it is not guessed;
/// nor are `splice!`, `resize!` (whose new elements are undefined) and `sum!`. `empty!` of
/// a Dict is modelled everywhere.
fn in_place(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    if let Some(Value::Dict(d)) = c.args.first() {
        if name == "empty!" && c.args.len() == 1 {
            d.borrow_mut().clear();
            return Ok(c.args[0].clone());
        }
    }
    let differentiating = it.rec_events && it.tape.is_some();
    let Some(dest @ Value::Arr(x)) = c.args.first() else {
        return Err(unmodelled(it, &c));
    };
    if differentiating || x.borrow().dims.len() != 1 {
        return Err(unmodelled(it, &c));
    }
    let n = x.borrow().data.len();
    let out_of_bounds = |it: &Interp, i: i64| {
        it.throw(
            "BoundsError",
            format!(
                "BoundsError: attempt to access {n}-element {} at index [{i}]",
                type_name(dest)
            ),
        )
    };
    match (name, &c.args[1..]) {
        ("sort!", []) => {
            let sorted = call_builtin(it, &nm("sort"), vec![dest.clone()], c.forward_kw(), c.span)?;
            let Value::Arr(s) = sorted else {
                return Err(unmodelled(it, &c));
            };
            let data = std::mem::take(&mut s.borrow_mut().data);
            it.charge(data.len())?;
            x.borrow_mut().data = data;
        }
        ("reverse!", []) => {
            it.charge(n)?;
            x.borrow_mut().data.reverse();
        }
        ("insert!", [Value::Int(i), v]) => {
            if *i < 1 || *i as u64 > n as u64 + 1 {
                return Err(out_of_bounds(it, *i));
            }
            let elty = x.borrow().elty;
            let v = it.convert_for(elty, v.clone())?;
            it.check_size(n + 1)?;
            it.check_bytes(SLOT)?;
            it.charge(n)?;
            let mut xb = x.borrow_mut();
            xb.data.insert(*i as usize - 1, v);
            xb.dims[0] = xb.data.len();
            xb.count_growth();
        }
        ("deleteat!", [which]) => {
            // The positions (from 1) to delete: Julia wants them sorted and unique.
            let at: Vec<i64> = match which {
                Value::Int(i) => vec![*i],
                Value::Range(..) | Value::Arr(_) => {
                    let mut at = vec![];
                    for v in it.iterate(which)? {
                        match v {
                            Value::Int(i) => at.push(i),
                            _ => return Err(unmodelled(it, &c)),
                        }
                    }
                    at
                }
                _ => return Err(unmodelled(it, &c)),
            };
            if at.windows(2).any(|w| w[0] >= w[1]) {
                return Err(it.throw(
                    "ArgumentError",
                    "ArgumentError: indices must be unique and sorted",
                ));
            }
            if let Some(&i) = at.iter().find(|&&i| i < 1 || i as u64 > n as u64) {
                return Err(out_of_bounds(it, i));
            }
            it.charge(n)?;
            let mut xb = x.borrow_mut();
            let mut k = 0;
            let mut pos = 0i64;
            xb.data.retain(|_| {
                pos += 1;
                let drop = at.get(k) == Some(&pos);
                if drop {
                    k += 1;
                }
                !drop
            });
            xb.dims[0] = xb.data.len();
            xb.count_growth();
        }
        ("empty!", []) => {
            let mut xb = x.borrow_mut();
            xb.data = Vec::new();
            xb.dims[0] = 0;
            xb.count_growth();
        }
        _ => return Err(unmodelled(it, &c)),
    }
    Ok(dest.clone())
}

fn copyto(it: &mut Interp, c: Call) -> R<Value> {
    let [dest, src] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let src = it.iterate(src)?;
    match dest {
        Value::Arr(x) => {
            let elty = x.borrow().elty;
            if src.len() > x.borrow().data.len() {
                return Err(it.throw("BoundsError", "BoundsError: copyto! destination too short"));
            }
            let mut conv = vec![];
            for v in src {
                conv.push(it.convert_for(elty, v)?);
            }
            {
                let mut xb = x.borrow_mut();
                for (i, v) in conv.into_iter().enumerate() {
                    xb.data[i] = v;
                }
            }
            it.mutation_event(reported("copyto!"), dest, c.span);
            Ok(dest.clone())
        }
        Value::Buffer(b) => {
            if b.borrow().frozen {
                return Err(it.frozen(c.span));
            }
            let inner = b.borrow().arr.clone();
            if let Value::Arr(x) = inner {
                let mut xb = x.borrow_mut();
                for (i, v) in src.into_iter().enumerate() {
                    if i < xb.data.len() {
                        xb.data[i] = convert_el(v, xb.elty);
                    }
                }
            }
            Ok(dest.clone())
        }
        _ => Err(c.no_method(it)),
    }
}

fn fill(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [dest @ Value::Arr(x), v] => {
            let elty = x.borrow().elty;
            let v = it.convert_for(elty, v.clone())?;
            for slot in x.borrow_mut().data.iter_mut() {
                *slot = v.clone();
            }
            // Base `fill!` is a setindex! loop (§7 row 17); Bool arrays have a rule
            if elty != ElTy::Bool {
                it.mutation_event(reported("fill!"), dest, c.span);
            }
            Ok(dest.clone())
        }
        _ => Err(c.no_method(it)),
    }
}

/// `union!`, `intersect!`, `setdiff!` with a vector destination. Base uniquifies (or
/// filters) the vector with `filter!`, whose loop writes `v[j] = v[i]` (setindex!) for every
/// element, then `union!` pushes the new elements (push!): the events recorded, in that
/// order, so that the last executed is the one reported (§7 row 58). When `filter!` shrinks
/// the vector it also runs `resize!`, whose internals differ between Julia versions (a
/// foreign call on Julia <= 1.10): that failure, which may come first on some versions, is
/// not modelled, so the message can differ there while the site is the same.
/// The values of `kept` that are (`found`) or are not `isequal` to one of `items`.
fn retain_equal(it: &Interp, kept: Vec<Value>, items: &[Value], found: bool) -> R<Vec<Value>> {
    let mut out = vec![];
    for k in kept {
        if it.any_isequal(items, &k)? == found {
            out.push(k);
        }
    }
    Ok(out)
}

fn set_op_into(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    let Some(dest @ Value::Arr(x)) = c.args.first() else {
        return Err(it.unsupported(
            &format!("{name} on a non-vector (Set is not modelled)"),
            c.span,
        ));
    };
    if x.borrow().dims.len() != 1 {
        return Err(c.no_method(it));
    }
    let before: Vec<Value> = x.borrow().data.clone();
    let mut kept: Vec<Value> = vec![];
    for v in &before {
        if !it.any_isequal(&kept, v)? {
            kept.push(v.clone());
        }
    }
    let mut others = vec![];
    for itr in &c.args[1..] {
        // `union!(v, v)` iterates `v` after filter! has uniquified it
        let items = match itr {
            Value::Arr(y) if std::rc::Rc::ptr_eq(x, y) => kept.clone(),
            _ => it.iterate(itr)?.into_vec(),
        };
        others.push(items);
    }
    let mut pushed = false;
    match name {
        "union!" => {
            for items in others {
                for v in items {
                    if !it.any_isequal(&kept, &v)? {
                        kept.push(v);
                        pushed = true;
                    }
                }
            }
        }
        "intersect!" => {
            for items in &others {
                kept = retain_equal(it, kept, items, true)?;
            }
        }
        _ => {
            for items in &others {
                kept = retain_equal(it, kept, items, false)?;
            }
        }
    }
    let elty = x.borrow().elty;
    let mut conv = vec![];
    for v in kept {
        conv.push(it.convert_for(elty, v)?);
    }
    let grown = conv.len().saturating_sub(x.borrow().data.len());
    it.check_size(conv.len())?;
    it.check_bytes(grown as u64 * SLOT)?;
    {
        let mut xb = x.borrow_mut();
        xb.dims[0] = conv.len();
        xb.data = conv;
        xb.count_growth();
    }
    if !before.is_empty() {
        it.mutation_event("setindex!", dest, c.span);
    }
    if pushed {
        it.mutation_event("push!", dest, c.span);
    }
    Ok(dest.clone())
}
