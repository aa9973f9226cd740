//! Linear algebra: matrix product, `dot`, `norm`, transposes, `diag`, `tr`.
//!
//! Products record one tape node per output element, with one partial per operand element.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{as_matrix_parts, Builtin, Call};
use std::cell::RefCell;
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["transpose", "adjoint", "permutedims"],
        call: transpose,
    },
    Builtin {
        names: &["dot"],
        call: dot,
    },
    Builtin {
        names: &["norm"],
        call: norm,
    },
    Builtin {
        names: &["tr"],
        call: tr,
    },
    Builtin {
        names: &["diag"],
        call: diag,
    },
];

/// `transpose`, `adjoint` (a row vector of a vector) and `permutedims` (a 1×n matrix).
fn transpose(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    match x {
        Value::Arr(x) => {
            let x = x.borrow();
            match x.dims.len() {
                1 => {
                    let n = x.dims[0];
                    Ok(Value::Arr(Rc::new(RefCell::new(Arr::new(
                        vec![1, n],
                        x.data.clone(),
                        x.elty,
                        c.name.as_ref() != "permutedims",
                    )))))
                }
                2 => {
                    let (r, cols) = (x.dims[0], x.dims[1]);
                    if x.rowvec {
                        return Ok(Value::arr(vec![cols], x.data.clone(), x.elty));
                    }
                    let mut data = Vec::with_capacity(r * cols);
                    for i in 0..r {
                        for j in 0..cols {
                            data.push(x.data[i + j * r].clone());
                        }
                    }
                    Ok(Value::arr(vec![cols, r], data, x.elty))
                }
                _ => Err(c.no_method(it)),
            }
        }
        x if x.is_num() => Ok(x.clone()),
        Value::Func(_) | Value::Builtin(_) => Err(it.unsupported("f' derivative syntax", c.span)),
        _ => Err(c.no_method(it)),
    }
}

fn dot(it: &mut Interp, c: Call) -> R<Value> {
    let [x, y] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let x = it.iterate(x)?;
    let y = it.iterate(y)?;
    it.dot_vals(&x, &y)
}

/// `norm(x)`, `norm(x, p)` for p = 1 or 2.
fn norm(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.is_empty() {
        return Err(c.no_method(it));
    }
    let x = it.iterate(&a[0])?;
    let p = a.get(1).and_then(|v| v.as_f64()).unwrap_or(2.0);
    if p == 2.0 {
        let nrm = x
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN).powi(2))
            .sum::<f64>()
            .sqrt();
        if nrm == 0.0 {
            return Ok(Value::F(0.0));
        }
        let ps: Vec<(u32, f64)> = x
            .iter()
            .filter_map(|v| it.tid(v).map(|n| (n, v.as_f64().unwrap_or(0.0) / nrm)))
            .collect();
        it.rec_ids(nrm, ps)
    } else if p == 1.0 {
        let mut abs = vec![];
        for v in &x {
            abs.push(it.unary("abs", v)?);
        }
        it.sum_vals(&abs)
    } else {
        Err(it.unsupported("norm with p other than 1 or 2", c.span))
    }
}

fn tr(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let (r, cols, d) = as_matrix_parts(x);
    let diag: Vec<Value> = (0..r.min(cols)).map(|i| d[i + i * r].clone()).collect();
    it.sum_vals(&diag)
}

fn diag(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let (r, cols, d) = as_matrix_parts(x);
    let diag: Vec<Value> = (0..r.min(cols)).map(|i| d[i + i * r].clone()).collect();
    let t = promote_elty(&diag);
    let n = diag.len();
    Ok(Value::arr(vec![n], diag, t))
}

impl Interp {
    pub(super) fn matmul(&mut self, a: &Value, b: &Value) -> R<Value> {
        let a_row = matches!(a, Value::Arr(x) if x.borrow().rowvec);
        let (m, k, ad) = as_matrix_parts(a);
        let (m, k) = if a_row { (1, k.max(m)) } else { (m, k) };
        let b_is_vec = matches!(b, Value::Arr(x) if x.borrow().dims.len() == 1)
            || matches!(b, Value::Range(..));
        let (k2, n, bd) = as_matrix_parts(b);
        if k != k2 {
            return Err(self.throw(
                "DimensionMismatch",
                format!("DimensionMismatch: matrix A has dimensions ({m},{k}), matrix B has dimensions ({k2},{n})"),
            ));
        }
        self.check_elements(m * n)?;
        let mut out = Vec::with_capacity(m * n);
        for j in 0..n {
            for i in 0..m {
                let mut s = 0.0;
                let mut ps = vec![];
                for l in 0..k {
                    let x = &ad[i + l * m];
                    let y = &bd[l + j * k];
                    let xf = x.as_f64().unwrap_or(f64::NAN);
                    let yf = y.as_f64().unwrap_or(f64::NAN);
                    s += xf * yf;
                    if let Some(p) = self.tid(x) {
                        ps.push((p, yf));
                    }
                    if let Some(p) = self.tid(y) {
                        ps.push((p, xf));
                    }
                }
                self.tick()?;
                let all_int = ad.iter().all(|v| matches!(v, Value::Int(_)))
                    && bd.iter().all(|v| matches!(v, Value::Int(_)));
                out.push(if all_int {
                    Value::Int(s as i64)
                } else {
                    self.rec_ids(s, ps)?
                });
            }
        }
        let t = promote_elty(&out);
        if a_row && b_is_vec {
            return Ok(out.into_iter().next().unwrap_or(Value::F(0.0)));
        }
        if b_is_vec {
            return Ok(Value::arr(vec![m], out, t));
        }
        Ok(Value::arr(vec![m, n], out, t))
    }

    pub(super) fn dot_vals(&mut self, a: &[Value], b: &[Value]) -> R<Value> {
        if a.len() != b.len() {
            return Err(self.throw(
                "DimensionMismatch",
                "DimensionMismatch: dot product arguments have different lengths",
            ));
        }
        let mut s = 0.0;
        let mut ps = vec![];
        for (x, y) in a.iter().zip(b.iter()) {
            let (xf, yf) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            s += xf * yf;
            if let Some(p) = self.tid(x) {
                ps.push((p, yf));
            }
            if let Some(p) = self.tid(y) {
                ps.push((p, xf));
            }
        }
        self.rec_ids(s, ps)
    }

    // ------------------------------------------------------------ iteration
}
