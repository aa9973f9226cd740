//! Broadcasting (`f.(x)`, `broadcast`), `map`, `foreach`, `filter` and `dest .= rhs`.
//!
//! Zygote's broadcast fast path is modelled here: a function that captures nothing applied to
//! numeric arguments is not traversed, so no events are recorded inside it. `map` and the
//! broadcast slow path are recorded as regions the reverse pass may skip.

use super::super::interp::{Interp, R};
use super::super::ir::{Lv, Span};
use super::super::value::*;
use super::indexing::Walk;
use super::numbers::unary_table;
use super::{range_len, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["broadcast"],
        call: broadcast,
    },
    Builtin {
        names: &["map", "foreach"],
        call: map,
    },
    Builtin {
        names: &["filter"],
        call: filter,
    },
];

fn broadcast(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [f, xs @ ..] => it.broadcast(f, xs.to_vec(), c.span),
        [] => Err(c.no_method(it)),
    }
}

/// `map(f, xs...)`, `foreach(f, xs...)`: `f` over the zipped elements, as a region.
fn map(it: &mut Interp, c: Call) -> R<Value> {
    let (a, span) = (c.args.as_slice(), c.span);
    if a.len() < 2 {
        return Err(c.no_method(it));
    }
    let f = a[0].clone();
    let mut lists = vec![];
    for x in &a[1..] {
        lists.push(it.iterate(x)?);
    }
    let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
    let mut out = it.scratch(n)?;
    let region = if matches!(f, Value::Builtin(_)) {
        None
    } else {
        it.region_start()
    };
    for i in 0..n {
        let args: Vec<Value> = lists.iter().map(|l| l[i].clone()).collect();
        out.push(it.call_elem(&f, args, span)?);
    }
    let out = it.region_end(region, out.into_vec())?;
    if c.name.as_ref() == "foreach" {
        return Ok(Value::Nothing);
    }
    if let Value::Tuple(_) = &a[1] {
        return Ok(Value::tuple(out));
    }
    let dims = match &a[1] {
        Value::Arr(x) if x.borrow().data.len() == n => x.borrow().dims.clone(),
        _ => vec![n],
    };
    let t = promote_elty(&out);
    let out = out.into_iter().map(|v| convert_el(v, t)).collect();
    Ok(Value::arr(dims, out, t))
}

fn filter(it: &mut Interp, c: Call) -> R<Value> {
    let [pred, xs] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let items = it.iterate(xs)?;
    let mut out = vec![];
    let saved = it.suspend(); // the predicate is not traversed (rule calls findall)
    for x in items {
        let keep = it.call_value(pred, vec![x.primal()], vec![], c.span);
        let keep = match keep {
            Ok(k) => k,
            Err(e) => {
                it.resume(saved);
                return Err(e);
            }
        };
        if matches!(keep, Value::Bool(true)) {
            out.push(x);
        }
    }
    it.resume(saved);
    let t = promote_elty(&out);
    let n = out.len();
    Ok(Value::arr(vec![n], out, t))
}

impl Interp {
    pub fn map_arr(
        &mut self,
        x: &Value,
        mut f: impl FnMut(&mut Interp, Value) -> R<Value>,
    ) -> R<Value> {
        let (dims, source) = match x {
            Value::Arr(a) => (a.borrow().dims.clone(), self.walk(x)?),
            Value::Range(a, s, b) => (vec![range_len(*a, *s, *b)], self.walk(x)?),
            other => return f(self, other.clone()),
        };
        let n = dims.iter().product();
        self.check_size(n)?;
        let mut out = self.scratch(n)?;
        for i in 0..n {
            self.tick()?;
            let v = element(self, &source, i)?;
            out.push(f(self, v)?);
        }
        let t = promote_elty(&out);
        Ok(Value::arr(dims, out.into_vec(), t))
    }

    pub fn broadcast(&mut self, f: &Value, args: Vec<Value>, span: Span) -> R<Value> {
        // shapes
        let mut shapes: Vec<Option<Vec<usize>>> = vec![];
        let mut datas: Vec<Walk> = vec![];
        for a in &args {
            shapes.push(match a {
                Value::Arr(x) => Some(x.borrow().dims.clone()),
                Value::Range(a, s, b) => Some(vec![range_len(*a, *s, *b)]),
                Value::Tuple(t) => Some(vec![t.len()]),
                _ => None,
            });
            // Arrays are read where they are; a scalar is its one element.
            datas.push(match a {
                Value::Arr(_) | Value::Range(..) | Value::Tuple(_) => self.walk(a)?,
                Value::Ref(r) => Walk::Items(Scratch::counted(vec![r.borrow().clone()])),
                other => Walk::Items(Scratch::counted(vec![other.clone()])),
            });
        }
        let nd = shapes.iter().flatten().map(|s| s.len()).max();
        let fast = self.is_singleton(f)
            && args.iter().all(|a| match a {
                Value::Arr(x) => x.borrow().elty != ElTy::Any,
                Value::Range(..) => true,
                x => x.is_num(),
            });
        let region = if fast || matches!(f, Value::Builtin(_)) || nd.is_none() {
            None
        } else {
            self.region_start()
        };
        let saved_events = self.rec_events;
        if fast && !matches!(f, Value::Builtin(_)) {
            // Zygote's broadcast fast path: ForwardDiff, `f` not traversed by Zygote
            self.rec_events = false;
        }
        let result = (|| -> R<Value> {
            let nd = match nd {
                None => {
                    let mut scalars = Vec::with_capacity(datas.len());
                    for d in &datas {
                        scalars.push(element(self, d, 0)?);
                    }
                    return self.call_elem(f, scalars, span);
                }
                Some(n) => n,
            };
            let mut out_dims = vec![1usize; nd];
            for s in shapes.iter().flatten() {
                for (d, &len) in s.iter().enumerate() {
                    if out_dims[d] == 1 {
                        out_dims[d] = len;
                    } else if len != 1 && len != out_dims[d] {
                        return Err(self.throw(
                            "DimensionMismatch",
                            format!(
                                "DimensionMismatch: arrays could not be broadcast to a common size; got a dimension with lengths {} and {}",
                                out_dims[d], len
                            ),
                        ));
                    }
                }
            }
            let total: usize = out_dims.iter().product();
            self.check_size(total)?;
            let mut out = self.scratch(total)?;
            let mut ix = vec![0usize; nd];
            for _ in 0..total {
                let mut elems = Vec::with_capacity(args.len());
                for (k, s) in shapes.iter().enumerate() {
                    match s {
                        None => elems.push(element(self, &datas[k], 0)?),
                        Some(s) => {
                            let mut lin = 0;
                            let mut stride = 1;
                            for (d, &len) in s.iter().enumerate() {
                                let i = if len == 1 { 0 } else { ix[d] };
                                lin += i * stride;
                                stride *= len;
                            }
                            elems.push(element(self, &datas[k], lin)?);
                        }
                    }
                }
                out.push(self.call_elem(f, elems, span)?);
                // advance column-major index
                for d in 0..nd {
                    ix[d] += 1;
                    if ix[d] < out_dims[d] {
                        break;
                    }
                    ix[d] = 0;
                }
            }
            let t = promote_elty(&out);
            for v in out.iter_mut() {
                *v = convert_el(std::mem::replace(v, Value::Nothing), t);
            }
            let out = self.region_end(region, out.into_vec())?;
            Ok(Value::arr(out_dims, out, t))
        })();
        self.rec_events = saved_events;
        result
    }

    pub(super) fn call_elem(&mut self, f: &Value, args: Vec<Value>, span: Span) -> R<Value> {
        self.tick()?;
        if let Value::Builtin(n) = f {
            let n = n.clone();
            if args.iter().all(|a| a.is_num()) {
                match (n.as_ref(), args.len()) {
                    (
                        "+" | "-" | "*" | "/" | "^" | "max" | "min" | "%" | "mod" | "rem" | "÷"
                        | "div",
                        2,
                    ) => return self.arith(&n, &args[0], &args[1]),
                    (op @ ("<" | ">" | "<=" | ">=" | "==" | "!=" | "≤" | "≥" | "≠"), 2) => {
                        return self.compare(op, &args[0], &args[1])
                    }
                    (_, 1) if unary_table(&n).is_some() => return self.unary(&n, &args[0]),
                    _ => {}
                }
            }
        }
        self.call_value(f, args, vec![], span)
    }

    /// `dest .= rhs`
    pub fn dot_assign(
        &mut self,
        lv: &Lv,
        rhs: &super::super::ir::Ex,
        env: &super::super::interp::Env,
        span: Span,
    ) -> R<Value> {
        let (dest, view): (Value, Option<Vec<Value>>) = match lv {
            Lv::Var(n) => (self.lookup(n, env, span)?, None),
            Lv::Index(obj, idx) => {
                let o = self.eval(obj, env)?;
                let mut iv = vec![];
                let nd = idx.len();
                for (d, ex) in idx.iter().enumerate() {
                    self.end_ctx.push((o.clone(), d, nd));
                    let r = self.eval(ex, env);
                    self.end_ctx.pop();
                    iv.push(r?);
                }
                (o, Some(iv))
            }
            Lv::Field(obj, f) => {
                let o = self.eval(obj, env)?;
                (self.getfield(&o, f, span)?, None)
            }
            _ => return Err(self.unsupported("`.=` target", span)),
        };
        let v = self.eval(rhs, env)?;
        let (arr, is_buffer) = match &dest {
            Value::Arr(a) => (a.clone(), false),
            Value::Buffer(b) => {
                if b.borrow().frozen {
                    return Err(self.frozen(span));
                }
                match &b.borrow().arr {
                    Value::Arr(a) => (a.clone(), true),
                    _ => {
                        return Err(self.unsupported(
                            &format!("a buffer holding a {}", type_name(&b.borrow().arr)),
                            span,
                        ))
                    }
                }
            }
            other => {
                return Err(self.throw(
                    "MethodError",
                    format!(
                        "MethodError: no method matching copyto!(::{}, ...)",
                        type_name(other)
                    ),
                ))
            }
        };
        let (pos, vdims) = {
            let ab = arr.borrow();
            match &view {
                Some(iv) => {
                    let (p, d, _) = self.resolve(&ab.dims, iv)?;
                    (p, d)
                }
                None => ((0..ab.data.len()).collect(), ab.dims.clone()),
            }
        };
        let src: Vec<Value> = match &v {
            Value::Arr(_) | Value::Range(..) => {
                let items = self.iterate(&v)?;
                if items.len() == pos.len() {
                    items.into_vec()
                } else if items.len() == 1 {
                    vec![items[0].clone(); pos.len()]
                } else {
                    return Err(self.throw(
                        "DimensionMismatch",
                        "DimensionMismatch: array could not be broadcast to match destination"
                            .to_string(),
                    ));
                }
            }
            other => vec![other.clone(); pos.len()],
        };
        let elty = arr.borrow().elty;
        let mut conv = Vec::with_capacity(src.len());
        for x in src {
            conv.push(self.convert_for(elty, x)?);
        }
        {
            let mut ab = arr.borrow_mut();
            for (p, x) in pos.iter().zip(conv) {
                ab.data[*p] = x;
            }
        }
        if !is_buffer {
            let tname = match &view {
                None => type_name(&dest),
                Some(iv) => subarray_type(&dest, iv, vdims.len()),
            };
            if self.rec_events && self.tape.is_some() {
                let msg = self.mutation_message("copyto!", &tname);
                self.event(span, msg);
            }
        }
        Ok(dest)
    }
}

fn subarray_type(parent: &Value, idx: &[Value], nd: usize) -> String {
    let elty = match parent {
        Value::Arr(a) => a.borrow().elty.julia(),
        _ => "Any",
    };
    let ixs: Vec<&str> = idx
        .iter()
        .map(|i| match i {
            Value::Int(_) => "Int64",
            Value::Range(_, 1, _) => "UnitRange{Int64}",
            Value::Range(..) => "StepRange{Int64, Int64}",
            Value::Sym(_) => "Base.Slice{Base.OneTo{Int64}}",
            _ => "Vector{Int64}",
        })
        .collect();
    // IndexLinear ("fast") when leading slices are followed by at most one range, then ints
    let mut fast = true;
    let mut seen_non_slice = false;
    for (k, i) in idx.iter().enumerate() {
        let is_slice = matches!(i, Value::Sym(_));
        if is_slice {
            if seen_non_slice {
                fast = false;
            }
        } else {
            if matches!(i, Value::Range(_, 1, _)) && seen_non_slice {
                fast = false;
            }
            if !matches!(i, Value::Int(_) | Value::Range(_, 1, _)) {
                fast = false;
            }
            if !matches!(i, Value::Int(_)) || k > 0 {
                seen_non_slice = true;
            }
        }
    }
    format!(
        "SubArray{{{}, {}, {}, Tuple{{{}}}, {}}}",
        elty,
        nd,
        type_name(parent),
        ixs.join(", "),
        fast
    )
}

/// The element at linear position `i` (from 0) of one argument of a broadcast or of a
/// `map` over an array, which are read where they are (see [`Walk`]): the function called
/// on the elements may shrink an array argument (`pop!` in a broadcast function), and an
/// element past its end is a `BoundsError`.
fn element(it: &Interp, walk: &Walk, i: usize) -> R<Value> {
    walk.get(i).ok_or_else(|| {
        it.throw(
            "BoundsError",
            format!(
                "BoundsError: attempt to access {}-element array at index [{}] (the array shrank during the broadcast)",
                walk.len(),
                i + 1
            ),
        )
    })
}
