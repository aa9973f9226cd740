//! Indexing and iteration: `getindex`, `setindex!`, the positions an index selects, the
//! elements a value iterates over, `enumerate` and `zip`.

use super::super::interp::{Interp, R};
use super::super::ir::Span;
use super::super::value::*;
use super::{dict_pos, range_items, unmodelled, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["getindex"],
        call: getindex,
    },
    Builtin {
        names: &["__typed_array"],
        call: typed_array,
    },
    Builtin {
        names: &["setindex!"],
        call: setindex,
    },
    Builtin {
        names: &["enumerate"],
        call: enumerate,
    },
    Builtin {
        names: &["zip"],
        call: zip,
    },
    Builtin {
        names: &["iterate"],
        call: unmodelled,
    },
];

fn getindex(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, idx @ ..] => it.getindex(x, idx, c.span),
        [] => Err(c.no_method(it)),
    }
}

fn setindex(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, v, idx @ ..] => {
            it.setindex(x, v.clone(), idx, c.span)?;
            Ok(x.clone())
        }
        _ => Err(c.no_method(it)),
    }
}

fn enumerate(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let items = it.iterate(x)?;
    it.check_tuples(items.len(), 2)?;
    let out: Vec<Value> = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| Value::tuple(vec![Value::Int(i as i64 + 1), v]))
        .collect();
    let n = out.len();
    Ok(Value::arr(vec![n], out, ElTy::Any))
}

fn zip(it: &mut Interp, c: Call) -> R<Value> {
    let mut lists = vec![];
    for x in &c.args {
        lists.push(it.iterate(x)?);
    }
    let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
    it.check_tuples(n, lists.len())?;
    let out: Vec<Value> = (0..n)
        .map(|i| Value::tuple(lists.iter().map(|l| l[i].clone()).collect()))
        .collect();
    Ok(Value::arr(vec![n], out, ElTy::Any))
}

/// The elements a `for` loop or a comprehension visits, read one at a time: an array's
/// where they are, a range's computed, other collections' copied out (see
/// [`Interp::iterate`]). A loop over a nine-million-element array held a copy of it; a
/// loop over `1:10^8` made its hundred million numbers first.
pub enum Walk {
    /// Read live, as Julia's `iterate` on an array does: a loop that pushes onto the array
    /// it walks goes on over the new elements.
    Arr(std::rc::Rc<std::cell::RefCell<Arr>>),
    /// start, step, length
    Range(i64, i64, usize),
    Items(Scratch<Value>),
}

impl Walk {
    /// The element at position `i` (from 0), while there is one.
    pub fn get(&self, i: usize) -> Option<Value> {
        match self {
            Walk::Arr(a) => a.borrow().data.get(i).cloned(),
            Walk::Range(a, s, n) => (i < *n).then(|| super::range_item(*a, *s, i)),
            Walk::Items(items) => items.get(i).cloned(),
        }
    }

    /// How many elements there are now.
    pub fn len(&self) -> usize {
        match self {
            Walk::Arr(a) => a.borrow().data.len(),
            Walk::Range(_, _, n) => *n,
            Walk::Items(items) => items.len(),
        }
    }
}

impl Interp {
    /// The elements of `v` for a loop to visit one at a time.
    pub fn walk(&mut self, v: &Value) -> R<Walk> {
        Ok(match v {
            Value::Arr(a) => Walk::Arr(a.clone()),
            Value::Range(a, s, b) => Walk::Range(*a, *s, super::range_len(*a, *s, *b)),
            other => Walk::Items(self.iterate(other)?),
        })
    }

    /// The elements `for x in v` visits, copied out and counted while the copy lives.
    pub fn iterate(&mut self, v: &Value) -> R<Scratch<Value>> {
        let copied = match v {
            Value::Arr(a) => a.borrow().data.len() as u64 * SLOT,
            Value::Str(s) => s.len() as u64 * SLOT,
            Value::Dict(d) => d.borrow().len() as u64 * (SLOT + slots_cost(2)),
            Value::Tuple(t) | Value::NT(_, t) => t.len() as u64 * SLOT,
            _ => 0,
        };
        self.check_bytes(copied)?;
        let out = match v {
            Value::Arr(a) => return self.copy_values(&a.borrow().data),
            Value::Range(..) => return range_items(self, v),
            Value::Tuple(t) => t.to_vec(),
            Value::NT(_, t) => t.to_vec(),
            Value::Dict(d) => d
                .borrow()
                .iter()
                .map(|(k, x)| Value::pair(k.clone(), x.clone()))
                .collect(),
            Value::Str(s) => s.chars().map(Value::Char).collect(),
            Value::Pair(p) => vec![p.0.clone(), p.1.clone()],
            Value::Struct(o) if o.def.name.as_ref() == "Params" => {
                let order = o.fields.borrow().first().cloned().unwrap_or(Value::Nothing);
                return self.iterate(&order);
            }
            Value::Buffer(b) => {
                let inner = b.borrow().arr.clone();
                return self.iterate(&inner);
            }
            // `Q, R = qr(A)`: a QR factorisation iterates as its factors
            Value::Struct(o) if o.def.name.as_ref() == "QRCompactWY" => o.fields.borrow().clone(),
            x if x.is_num() => vec![x.clone()],
            Value::Nothing => {
                return Err(self.throw(
                    "MethodError",
                    "MethodError: no method matching iterate(::Nothing)",
                ))
            }
            other => {
                return Err(self.throw(
                    "MethodError",
                    format!(
                        "MethodError: no method matching iterate(::{})",
                        type_name(other)
                    ),
                ))
            }
        };
        Ok(Scratch::counted(out))
    }

    /// Linear positions and result dims for `idx` applied to an array of `dims`.
    pub(super) fn resolve(
        &self,
        dims: &[usize],
        idx: &[Value],
    ) -> R<(Vec<usize>, Vec<usize>, bool)> {
        let total: usize = dims.iter().product();
        // `x[]`: the one element of a one-element array.
        if idx.is_empty() {
            return match total {
                1 => Ok((vec![0], vec![], true)),
                _ => Err(self.throw(
                    "BoundsError",
                    format!("BoundsError: attempt to access {total}-element array at index []"),
                )),
            };
        }
        let eff: Vec<usize> = if idx.len() == 1 {
            vec![total]
        } else if idx.len() >= dims.len() {
            let mut d = dims.to_vec();
            d.resize(idx.len(), 1);
            d
        } else {
            let mut d = dims[..idx.len() - 1].to_vec();
            d.push(dims[idx.len() - 1..].iter().product());
            d
        };
        let mut lists: Vec<Vec<usize>> = vec![];
        let mut out_dims = vec![];
        let mut scalar = true;
        let bounds = |i: i64, n: usize| -> R<usize> {
            if i < 1 || i as usize > n {
                Err(self.throw(
                    "BoundsError",
                    format!(
                        "BoundsError: attempt to access {}-element array at index [{}]",
                        total, i
                    ),
                ))
            } else {
                Ok(i as usize - 1)
            }
        };
        for (d, ix) in idx.iter().enumerate() {
            let n = eff[d];
            match ix {
                Value::Int(i) => lists.push(vec![bounds(*i, n)?]),
                Value::Sym(s) if s.as_ref() == ":" => {
                    scalar = false;
                    out_dims.push(n);
                    lists.push((0..n).collect());
                }
                Value::Range(..) => {
                    scalar = false;
                    let mut l = vec![];
                    for x in range_items(self, ix)? {
                        if let Value::Int(i) = x {
                            l.push(bounds(i, n)?);
                        }
                    }
                    out_dims.push(l.len());
                    lists.push(l);
                }
                Value::Arr(a) => {
                    scalar = false;
                    let a = a.borrow();
                    let mut l = vec![];
                    if a.elty == ElTy::Bool {
                        for (i, b) in a.data.iter().enumerate() {
                            if matches!(b, Value::Bool(true)) {
                                l.push(i);
                            }
                        }
                    } else {
                        for x in &a.data {
                            match x {
                                Value::Int(i) => l.push(bounds(*i, n)?),
                                _ => {
                                    return Err(
                                        self.throw("ArgumentError", "ArgumentError: invalid index")
                                    )
                                }
                            }
                        }
                    }
                    out_dims.push(l.len());
                    lists.push(l);
                }
                _ => {
                    return Err(self.throw(
                        "ArgumentError",
                        format!(
                            "ArgumentError: invalid index: {} of type {}",
                            show(ix),
                            type_name(ix)
                        ),
                    ))
                }
            }
        }
        // column-major cartesian product
        let mut strides = vec![1usize; eff.len()];
        for d in 1..eff.len() {
            strides[d] = strides[d - 1] * eff[d - 1];
        }
        let mut pos = vec![0usize];
        for (d, l) in lists.iter().enumerate() {
            let mut next = Vec::with_capacity(pos.len() * l.len());
            for &i in l {
                for &p in &pos {
                    next.push(p + i * strides[d]);
                }
            }
            pos = next;
        }
        // the product above iterates earlier dims fastest only if we reorder
        // (we built it so that for each new-dim index, all previous positions follow): correct.
        Ok((pos, out_dims, scalar))
    }

    pub fn getindex(&mut self, o: &Value, idx: &[Value], span: Span) -> R<Value> {
        match o {
            Value::Arr(a) => {
                let (pos, dims, scalar) = {
                    let ab = a.borrow();
                    self.resolve(&ab.dims, idx)?
                };
                let ab = a.borrow();
                if scalar {
                    return Ok(ab.data[pos[0]].clone());
                }
                let data: Vec<Value> = pos.iter().map(|p| ab.data[*p].clone()).collect();
                Ok(Value::arr(dims, data, ab.elty))
            }
            Value::Buffer(b) => {
                let inner = b.borrow().arr.clone();
                self.getindex(&inner, idx, span)
            }
            Value::Type(t) => {
                // typed vector literal `Float64[...]`
                let Some(elty) = literal_elty(t) else {
                    return Err(self.unsupported(&format!("typed array literal {t}[...]"), span));
                };
                let mut data = vec![];
                for x in idx {
                    data.push(self.convert_for(elty, x.clone())?);
                }
                let n = data.len();
                Ok(Value::arr(vec![n], data, elty))
            }
            Value::Range(..) => {
                let items = range_items(self, o)?;
                let n = items.len();
                let arr = Value::arr(vec![n], items.into_vec(), ElTy::I64);
                self.getindex(&arr, idx, span)
            }
            Value::Tuple(t) => match idx {
                [Value::Int(i)] if *i >= 1 && (*i as usize) <= t.len() => {
                    Ok(t[*i as usize - 1].clone())
                }
                [Value::Range(..)] => {
                    let mut out = vec![];
                    for x in range_items(self, &idx[0])? {
                        if let Value::Int(i) = x {
                            match t.get(i as usize - 1) {
                                Some(v) => out.push(v.clone()),
                                None => return Err(self.throw("BoundsError", "BoundsError")),
                            }
                        }
                    }
                    Ok(Value::tuple(out))
                }
                _ => Err(self.throw(
                    "BoundsError",
                    format!(
                        "BoundsError: attempt to access {} at index [{}]",
                        type_name(o),
                        idx.iter().map(show).collect::<Vec<_>>().join(", ")
                    ),
                )),
            },
            Value::NT(ns, vs) => match idx {
                [Value::Int(i)] if *i >= 1 && (*i as usize) <= vs.len() => {
                    Ok(vs[*i as usize - 1].clone())
                }
                [Value::Sym(s)] => match ns.iter().position(|n| n == s) {
                    Some(i) => Ok(vs[i].clone()),
                    None => Err(self.error(format!("type NamedTuple has no field {s}"))),
                },
                _ => Err(self.throw("BoundsError", "BoundsError")),
            },
            Value::Dict(d) => {
                let key = idx.first().cloned().unwrap_or(Value::Nothing);
                let found = {
                    let db = d.borrow();
                    dict_pos(self, &db, &key)?.map(|i| db[i].1.clone())
                };
                found.ok_or_else(|| {
                    self.throw(
                        "KeyError",
                        format!("KeyError: key {} not found", show(&key)),
                    )
                })
            }
            Value::Ref(r) if idx.is_empty() => Ok(r.borrow().clone()),
            Value::Pair(p) => match idx {
                [Value::Int(1)] => Ok(p.0.clone()),
                [Value::Int(2)] => Ok(p.1.clone()),
                _ => Err(self.throw("BoundsError", "BoundsError")),
            },
            x if x.is_num() && idx.iter().all(|i| matches!(i, Value::Int(1))) => Ok(x.clone()),
            _ => Err(self.unsupported(&format!("indexing into {}", type_name(o)), span)),
        }
    }

    pub fn setindex(&mut self, o: &Value, v: Value, idx: &[Value], span: Span) -> R<()> {
        match o {
            Value::Arr(a) => {
                let (pos, _dims, scalar) = {
                    let ab = a.borrow();
                    self.resolve(&ab.dims, idx)?
                };
                let elty = a.borrow().elty;
                let vals: Vec<Value> = if scalar {
                    vec![v]
                } else {
                    match &v {
                        Value::Arr(_) | Value::Range(..) | Value::Tuple(_) => {
                            let items = self.iterate(&v)?;
                            if items.len() != pos.len() {
                                return Err(self.throw("DimensionMismatch", format!("DimensionMismatch: tried to assign {} elements to {} destinations", items.len(), pos.len())));
                            }
                            items.into_vec()
                        }
                        _ => {
                            return Err(self.throw(
                                "ArgumentError",
                                "ArgumentError: indexed assignment with a single value to possibly many locations is not supported; perhaps use broadcasting `.=` instead?",
                            ))
                        }
                    }
                };
                let mut conv = Vec::with_capacity(vals.len());
                for x in vals {
                    conv.push(self.convert_for(elty, x)?);
                }
                {
                    let mut ab = a.borrow_mut();
                    for (p, x) in pos.iter().zip(conv) {
                        ab.data[*p] = x;
                    }
                }
                self.mutation_event("setindex!", o, span);
                Ok(())
            }
            Value::Buffer(b) => {
                if b.borrow().frozen {
                    return Err(self.frozen(span));
                }
                let inner = b.borrow().arr.clone();
                let saved = (self.rec_events, ());
                self.rec_events = false; // Buffer writes are supported
                let r = self.setindex(&inner, v, idx, span);
                self.rec_events = saved.0;
                r
            }
            Value::Dict(d) => {
                let key = idx.first().cloned().unwrap_or(Value::Nothing);
                let found = dict_pos(self, &d.borrow(), &key)?;
                match found {
                    Some(i) => d.borrow_mut().set(i, v),
                    None => {
                        let n = d.borrow().len();
                        self.check_size(n + 1)?;
                        self.check_bytes(Table::cost(n + 1) - Table::cost(n))?;
                        d.borrow_mut().push(key, v);
                    }
                }
                Ok(())
            }
            Value::Ref(r) if idx.is_empty() => {
                *r.borrow_mut() = v;
                Ok(())
            }
            _ => Err(self.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching setindex!(::{}, ...)",
                    type_name(o)
                ),
            )),
        }
    }

    pub(super) fn convert_for(&self, elty: ElTy, x: Value) -> R<Value> {
        match elty {
            ElTy::F64 | ElTy::F32 => {
                if x.is_num() {
                    Ok(convert_el(x, ElTy::F64))
                } else {
                    Err(self.throw("MethodError", format!("MethodError: Cannot `convert` an object of type {} to an object of type Float64", type_name(&x))))
                }
            }
            ElTy::I64 => match &x {
                Value::Int(_) => Ok(x),
                Value::Bool(b) => Ok(Value::Int(*b as i64)),
                Value::F(f) | Value::T(f, _, _) if f.fract() == 0.0 => Ok(Value::Int(*f as i64)),
                _ => Err(self.throw("InexactError", format!("InexactError: Int64({})", show(&x)))),
            },
            ElTy::Bool => match x {
                Value::Bool(_) => Ok(x),
                _ => Err(self.throw("InexactError", format!("InexactError: Bool({})", show(&x)))),
            },
            ElTy::Any => Ok(x),
        }
    }
}

/// The element type a typed array literal `T[...]` names, among those modelled.
fn literal_elty(t: &str) -> Option<ElTy> {
    Some(match t {
        "Float64" => ElTy::F64,
        "Float32" => ElTy::F32,
        "Int" | "Int64" => ElTy::I64,
        "Bool" => ElTy::Bool,
        "Any" => ElTy::Any,
        _ => return None,
    })
}

/// `T[a b; c d]` (what the lowering makes of a typed matrix literal): the matrix built
/// from the rows, its elements converted to `T`.
fn typed_array(it: &mut Interp, c: Call) -> R<Value> {
    let [Value::Type(t), Value::Arr(a)] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let Some(elty) = literal_elty(t) else {
        return Err(it.unsupported(&format!("typed array literal {t}[...]"), c.span));
    };
    let (dims, items) = {
        let a = a.borrow();
        (a.dims.clone(), a.data.clone())
    };
    let mut data = Vec::with_capacity(items.len());
    for x in items {
        data.push(it.convert_for(elty, x)?);
    }
    Ok(Value::arr(dims, data, elty))
}
