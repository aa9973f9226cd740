//! Linear algebra: matrix product, `dot`, `norm`, transposes, `diag`, `tr`, the linear solve
//! `A \\ B`, `inv`, `det`, `logdet`, `qr`, `mul!` and the `UniformScaling` `I`.
//!
//! Products record one tape node per output element, with one partial per operand element.
//! Solves and inverses run an LU factorisation with partial pivoting on the primal values and
//! record, for every output element, its partials with respect to every operand element
//! (`∂X_ij/∂A_kl = -inv(A)_ik X_lj`, `∂X_ij/∂B_kj = inv(A)_ik`), which is what Zygote's
//! rules for `\\`, `inv` and `det` compute.

use super::super::interp::{Ctrl, Interp, R};
use super::super::ir::Span;
use super::super::value::*;
use super::{as_matrix_parts, construct, length_of, nm, size_of, Builtin, Call};
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
    Builtin {
        names: &["det", "logdet"],
        call: det,
    },
    Builtin {
        names: &["qr"],
        call: qr,
    },
    Builtin {
        names: &["mul!"],
        call: mul_into,
    },
    Builtin {
        names: &["isapprox", "≈"],
        call: isapprox,
    },
];

/// `isapprox(x, y; atol = 0, rtol = √eps)` (`x ≈ y`) for numbers and arrays of numbers, as
/// Julia's: `norm(x - y) <= max(atol, rtol * max(norm(x), norm(y)))`, with `rtol`
/// defaulting to `√eps(Float64)` when `atol` is zero. A comparison, so no gradient.
fn isapprox(it: &mut Interp, c: Call) -> R<Value> {
    let [x, y] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let flat = |v: &Value| -> Option<(Vec<usize>, Vec<f64>)> {
        match v {
            Value::Arr(a) => {
                let a = a.borrow();
                let data: Option<Vec<f64>> = a.data.iter().map(|e| e.as_f64()).collect();
                Some((a.dims.clone(), data?))
            }
            other => Some((vec![], vec![other.as_f64()?])),
        }
    };
    let (Some((dx, xs)), Some((dy, ys))) = (flat(x), flat(y)) else {
        return Err(c.no_method(it));
    };
    if dx != dy {
        return Err(it.throw(
            "DimensionMismatch",
            "DimensionMismatch: dimensions must match",
        ));
    }
    let number = |k: &str| c.kwarg(k).and_then(|v| v.as_f64());
    let atol = number("atol").unwrap_or(0.0);
    let rtol = number("rtol").unwrap_or(if atol > 0.0 { 0.0 } else { f64::EPSILON.sqrt() });
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let diff: Vec<f64> = xs.iter().zip(&ys).map(|(a, b)| a - b).collect();
    let close = xs == ys || norm(&diff) <= atol.max(rtol * norm(&xs).max(norm(&ys)));
    Ok(Value::Bool(close))
}

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
                        it.charge(cols)?;
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
    let (r, cols, d) = as_matrix_parts(it, x)?;
    let diag: Vec<Value> = (0..r.min(cols)).map(|i| d[i + i * r].clone()).collect();
    it.sum_vals(&diag)
}

fn diag(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let (r, cols, d) = as_matrix_parts(it, x)?;
    let diag: Vec<Value> = (0..r.min(cols)).map(|i| d[i + i * r].clone()).collect();
    let t = promote_elty(&diag);
    let n = diag.len();
    Ok(Value::arr(vec![n], diag, t))
}

/// A square matrix's primal values (column-major) and order; `None` for anything else.
fn square(v: &Value) -> Option<(usize, Vec<Value>)> {
    match v {
        Value::Arr(a) => {
            let a = a.borrow();
            (a.dims.len() == 2 && a.dims[0] == a.dims[1] && !a.rowvec)
                .then(|| (a.dims[0], a.data.clone()))
        }
        _ => None,
    }
}

fn primals(it: &Interp, vals: &[Value]) -> R<Vec<f64>> {
    vals.iter()
        .map(|v| {
            v.as_f64().ok_or_else(|| {
                it.unsupported_here(&format!(
                    "linear algebra on a matrix holding a {}",
                    type_name(v)
                ))
            })
        })
        .collect()
}

/// LU factorisation with partial pivoting (LAPACK's `getrf` choice of pivots), in place on the
/// column-major `a` of order `n`. Returns the row permutation and the sign of the
/// permutation, or the 1-based index of the first zero pivot (Julia's `SingularException`).
/// Cubic in `n` for one builtin call: the clock is read at each column, so the time budget
/// holds (`det(rand(3000, 3000))` ran for a minute past a 2 s budget).
fn lu(it: &Interp, a: &mut [f64], n: usize) -> R<Result<(Vec<usize>, f64), usize>> {
    let mut perm: Vec<usize> = (0..n).collect();
    let mut sign = 1.0;
    for k in 0..n {
        it.check_time()?;
        let p = (k..n)
            .max_by(|&i, &j| a[i + k * n].abs().total_cmp(&a[j + k * n].abs()))
            .unwrap_or(k);
        if a[p + k * n] == 0.0 {
            return Ok(Err(k + 1));
        }
        if p != k {
            for j in 0..n {
                a.swap(k + j * n, p + j * n);
            }
            perm.swap(k, p);
            sign = -sign;
        }
        for i in k + 1..n {
            let l = a[i + k * n] / a[k + k * n];
            a[i + k * n] = l;
            for j in k + 1..n {
                a[i + j * n] -= l * a[k + j * n];
            }
        }
    }
    Ok(Ok((perm, sign)))
}

/// `inv(A)` of a column-major matrix of order `n`, or the singular pivot index; the clock
/// read at each column, as in [`lu`].
fn inverse(it: &Interp, a: &[f64], n: usize) -> R<Result<Vec<f64>, usize>> {
    let mut f = a.to_vec();
    let perm = match lu(it, &mut f, n)? {
        Ok((perm, _)) => perm,
        Err(k) => return Ok(Err(k)),
    };
    let mut out = vec![0.0; n * n];
    for col in 0..n {
        it.check_time()?;
        // solve L U x = P e_col
        let mut x: Vec<f64> = (0..n).map(|i| (perm[i] == col) as u8 as f64).collect();
        for i in 0..n {
            for k in 0..i {
                x[i] -= f[i + k * n] * x[k];
            }
        }
        for i in (0..n).rev() {
            for k in i + 1..n {
                x[i] -= f[i + k * n] * x[k];
            }
            x[i] /= f[i + i * n];
        }
        out[col * n..(col + 1) * n].copy_from_slice(&x);
    }
    Ok(Ok(out))
}

fn singular(it: &Interp, k: usize) -> Ctrl {
    it.throw("SingularException", format!("SingularException({k})"))
}

/// `det(A)`, `logdet(A)`: `∂det/∂A_kl = det(A)·inv(A)_lk`, `∂logdet/∂A_kl = inv(A)_lk`.
fn det(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    if x.is_num() && c.name.as_ref() == "det" {
        return Ok(x.clone());
    }
    let Some((n, vals)) = square(x) else {
        return Err(c.no_method(it));
    };
    let a = primals(it, &vals)?;
    let mut f = a.clone();
    let d = match lu(it, &mut f, n)? {
        Ok((_, sign)) => sign * (0..n).map(|i| f[i + i * n]).product::<f64>(),
        Err(_) => 0.0,
    };
    let log = c.name.as_ref() == "logdet";
    if log && d < 0.0 {
        return Err(it.domain_error(d, "logdet"));
    }
    let y = if log { d.ln() } else { d };
    let tracked: Vec<(usize, u32)> = (vals.iter().enumerate())
        .filter_map(|(i, v)| it.tid(v).map(|t| (i, t)))
        .collect();
    if tracked.is_empty() {
        return Ok(Value::F(y));
    }
    let inv = inverse(it, &a, n)?.map_err(|_| {
        it.unsupported(
            &format!("the gradient of {} at a singular matrix", c.name),
            c.span,
        )
    })?;
    let scale = if log { 1.0 } else { d };
    let ps = (tracked.into_iter())
        .map(|(i, t)| (t, scale * inv[i / n + (i % n) * n]))
        .collect();
    it.rec_ids(y, ps)
}

/// The factors of `qr(A)` for a square `A` (Householder, Julia's sign convention: `R` may
/// have negative diagonal entries, as LAPACK's `geqrt` gives). Base's `qr` runs LAPACK through
/// `qr!`, a foreign call with no rule (§7 row 78): the call records that Zygote event.
fn qr(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let Some((n, vals)) = square(x) else {
        return Err(it.unsupported("qr of a non-square matrix", c.span));
    };
    let mut r = primals(it, &vals)?;
    let mut q: Vec<f64> = (0..n * n).map(|i| (i % n == i / n) as u8 as f64).collect();
    for k in 0..n.saturating_sub(1) {
        it.check_time()?;
        let norm = (k..n).map(|i| r[i + k * n].powi(2)).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if r[k + k * n] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (0..n)
            .map(|i| if i < k { 0.0 } else { r[i + k * n] })
            .collect();
        v[k] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        if vv == 0.0 {
            continue;
        }
        // R = H R, Q = Q H with H = I - 2 v v' / v'v
        for j in 0..n {
            let s: f64 = (k..n).map(|i| v[i] * r[i + j * n]).sum::<f64>() * 2.0 / vv;
            for i in k..n {
                r[i + j * n] -= s * v[i];
            }
        }
        for i in 0..n {
            let s: f64 = (k..n).map(|l| q[i + l * n] * v[l]).sum::<f64>() * 2.0 / vv;
            for l in k..n {
                q[i + l * n] -= s * v[l];
            }
        }
    }
    for j in 0..n {
        for i in j + 1..n {
            r[i + j * n] = 0.0;
        }
    }
    let msg = it.foreigncall_in("LAPACK geqrt, called by qr!");
    it.event(c.span, msg);
    let mat =
        |d: Vec<f64>| Value::arr(vec![n, n], d.into_iter().map(Value::F).collect(), ElTy::F64);
    construct(it, &nm("QRCompactWY"), vec![mat(q), mat(r)], vec![], c.span)
}

/// `mul!(C, A, B)` runs `C = A * B`. For Float64/Float32 arrays Base calls BLAS (`gemm!`,
/// `gemv!`): a foreign call for Zygote; for other element types the generic kernel writes
/// `C[i, j]` (setindex!), §7 row 42. `mul!(C, A, B, α, β)` is `C = α A B + β C`.
fn mul_into(it: &mut Interp, c: Call) -> R<Value> {
    let (dest, a, b, ab) = match c.args.as_slice() {
        [d, a, b] => (d, a, b, None),
        [d, a, b, al, be] if al.is_num() && be.is_num() => (d, a, b, Some((al, be))),
        _ => return Err(c.no_method(it)),
    };
    let Value::Arr(dx) = dest else {
        return Err(c.no_method(it));
    };
    let mut prod = it.matmul(a, b)?;
    if let Some((al, be)) = ab {
        let scaled = it.math_op("*", &[al.clone(), prod], c.span)?;
        let old = it.math_op("*", &[be.clone(), dest.clone()], c.span)?;
        prod = it.math_op("+", &[scaled, old], c.span)?;
    }
    let vals = it.iterate(&prod)?;
    if size_of(&prod) != size_of(dest) && vals.len() != length_of(dest) {
        return Err(it.throw(
            "DimensionMismatch",
            format!(
                "DimensionMismatch: C has dimensions {:?}, should have {:?}",
                size_of(dest),
                size_of(&prod)
            ),
        ));
    }
    let elty = dx.borrow().elty;
    let mut conv = vec![];
    for v in vals {
        conv.push(it.convert_for(elty, v)?);
    }
    dx.borrow_mut().data = conv;
    if matches!(elty, ElTy::F64 | ElTy::F32) {
        let msg = it.foreigncall_in("BLAS gemm!/gemv!, called by mul!");
        it.event(c.span, msg);
    } else {
        it.mutation_event("setindex!", dest, c.span);
    }
    Ok(dest.clone())
}

/// `UniformScaling` (`I`, `2I`), a prelude struct with the field `λ`: its value, when `v` is
/// one.
fn show_dims(d: &[usize]) -> String {
    let parts: Vec<String> = d.iter().map(|x| x.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

pub(super) fn uniform_scaling(v: &Value) -> Option<Value> {
    match v {
        Value::Struct(o) if o.def.name.as_ref() == "UniformScaling" => {
            Some(match &o.fields.borrow()[0] {
                Value::Bool(b) => Value::Int(*b as i64),
                other => other.clone(),
            })
        }
        _ => None,
    }
}

/// The `n`×`n` matrix `λ·I` (zeros of `λ`'s type off the diagonal).
pub(super) fn scaled_identity(lambda: &Value, n: usize, elty: ElTy) -> Value {
    let zero = match lambda {
        Value::Bool(_) => Value::Bool(false),
        Value::Int(_) => Value::Int(0),
        _ => Value::F(0.0),
    };
    let data = (0..n * n)
        .map(|i| {
            let v = if i % n == i / n {
                lambda.clone()
            } else {
                zero.clone()
            };
            convert_el(v, elty)
        })
        .collect();
    Value::arr(vec![n, n], data, elty)
}

impl Interp {
    /// `A \\ B` for a square `A` and a vector or matrix `B`; `a \\ B` for a number `a`.
    pub(super) fn solve(&mut self, a: &Value, b: &Value, span: Span) -> R<Value> {
        if a.is_num() {
            return self.math_op("/", &[b.clone(), a.clone()], span);
        }
        let Some((n, avals)) = square(a) else {
            return Err(self.unsupported(
                "`\\` with a non-square (least-squares) or non-matrix left side",
                span,
            ));
        };
        let (bvals, bdims) = match b {
            Value::Arr(x) => {
                let x = x.borrow();
                (x.data.clone(), x.dims.clone())
            }
            Value::Range(..) => {
                let v = self.iterate(b)?;
                let n = v.len();
                (v.into_vec(), vec![n])
            }
            _ => return Err(self.no_binary_method("\\", a, b)),
        };
        if bdims.len() > 2 || bdims[0] != n {
            return Err(self.throw(
                "DimensionMismatch",
                format!(
                    "DimensionMismatch: arguments must have the same number of rows: A has {n}, B has {}",
                    bdims[0]
                ),
            ));
        }
        let m = if bdims.len() == 2 { bdims[1] } else { 1 };
        let af = primals(self, &avals)?;
        let bf = primals(self, &bvals)?;
        let inv = inverse(self, &af, n)?.map_err(|k| singular(self, k))?;
        self.check_elements(n * m)?;
        let mut xf = vec![0.0; n * m];
        for j in 0..m {
            self.check_time()?;
            for i in 0..n {
                xf[i + j * n] = (0..n).map(|k| inv[i + k * n] * bf[k + j * n]).sum();
            }
        }
        let a_ids: Vec<Option<u32>> = avals.iter().map(|v| self.tid(v)).collect();
        let b_ids: Vec<Option<u32>> = bvals.iter().map(|v| self.tid(v)).collect();
        let mut out = Vec::with_capacity(n * m);
        for j in 0..m {
            for i in 0..n {
                let mut ps = vec![];
                for k in 0..n {
                    if let Some(t) = b_ids[k + j * n] {
                        ps.push((t, inv[i + k * n]));
                    }
                    for l in 0..n {
                        if let Some(t) = a_ids[k + l * n] {
                            ps.push((t, -inv[i + k * n] * xf[l + j * n]));
                        }
                    }
                }
                // Each element is n² work: the clock is read at each, not every 1024.
                self.check_time()?;
                self.tick()?;
                out.push(self.rec_ids(xf[i + j * n], ps)?);
            }
        }
        Ok(Value::arr(bdims, out, ElTy::F64))
    }

    /// `inv(A)` of a square matrix: `∂inv(A)_ij/∂A_kl = -inv(A)_ik inv(A)_lj`.
    pub(super) fn inv_matrix(&mut self, a: &Value, span: Span) -> R<Value> {
        let Some((n, avals)) = square(a) else {
            let dims = size_of(a);
            if dims.len() == 2 {
                return Err(self.throw(
                    "DimensionMismatch",
                    format!(
                        "DimensionMismatch: matrix is not square: dimensions are ({}, {})",
                        dims[0], dims[1]
                    ),
                ));
            }
            return Err(self.unsupported(&format!("inv(::{})", type_name(a)), span));
        };
        let af = primals(self, &avals)?;
        let inv = inverse(self, &af, n)?.map_err(|k| singular(self, k))?;
        let a_ids: Vec<Option<u32>> = avals.iter().map(|v| self.tid(v)).collect();
        let mut out = Vec::with_capacity(n * n);
        for j in 0..n {
            for i in 0..n {
                let mut ps = vec![];
                for k in 0..n {
                    for l in 0..n {
                        if let Some(t) = a_ids[k + l * n] {
                            ps.push((t, -inv[i + k * n] * inv[l + j * n]));
                        }
                    }
                }
                // Each element is n² work: the clock is read at each, not every 1024.
                self.check_time()?;
                self.tick()?;
                out.push(self.rec_ids(inv[i + j * n], ps)?);
            }
        }
        Ok(Value::arr(vec![n, n], out, ElTy::F64))
    }

    /// Arithmetic with a `UniformScaling` operand (`A + I`, `I * x`, `2I`, `A - 3I`);
    /// `None` when neither operand is one.
    pub(super) fn uniform_op(
        &mut self,
        op: &str,
        a: &Value,
        b: &Value,
        span: Span,
    ) -> R<Option<Value>> {
        let (ua, ub) = (uniform_scaling(a), uniform_scaling(b));
        if ua.is_none() && ub.is_none() {
            return Ok(None);
        }
        let is_arr = |v: &Value| matches!(v, Value::Arr(_) | Value::Range(..));
        let new_uniform =
            |it: &mut Interp, l: Value| construct(it, &nm("UniformScaling"), vec![l], vec![], span);
        let r = match (op, &ua, &ub) {
            ("+" | "-", Some(x), Some(y)) => {
                let l = self.arith(op, x, y)?;
                new_uniform(self, l)?
            }
            ("+" | "-", None, Some(l)) | ("+" | "-", Some(l), None) => {
                let m = if ua.is_some() { b } else { a };
                let dims = size_of(m);
                if !is_arr(m) || dims.len() != 2 || dims[0] != dims[1] {
                    return Err(self.throw(
                        "DimensionMismatch",
                        format!(
                            "DimensionMismatch: matrix is not square: dimensions are {}",
                            show_dims(&dims)
                        ),
                    ));
                }
                let id = scaled_identity(l, dims[0], promote_elty(std::slice::from_ref(l)));
                let (x, y) = if ua.is_some() {
                    (id, m.clone())
                } else {
                    (m.clone(), id)
                };
                self.broadcast(&Value::Builtin(nm(op)), vec![x, y], span)?
            }
            ("*", Some(x), Some(y)) => {
                let l = self.arith("*", x, y)?;
                new_uniform(self, l)?
            }
            ("*", Some(l), None) if is_arr(b) => {
                self.math_op("*", &[l.clone(), b.clone()], span)?
            }
            ("*", None, Some(l)) if is_arr(a) => {
                self.math_op("*", &[a.clone(), l.clone()], span)?
            }
            ("*", Some(l), None) if b.is_num() => {
                let l = self.arith("*", l, b)?;
                new_uniform(self, l)?
            }
            ("*", None, Some(l)) if a.is_num() => {
                let l = self.arith("*", a, l)?;
                new_uniform(self, l)?
            }
            ("/", Some(l), None) if b.is_num() => {
                let l = self.arith("/", l, b)?;
                new_uniform(self, l)?
            }
            _ => {
                return Err(self.unsupported(
                    &format!(
                        "{op}(::{}, ::{}) with a UniformScaling",
                        type_name(a),
                        type_name(b)
                    ),
                    span,
                ))
            }
        };
        Ok(Some(r))
    }

    pub(super) fn matmul(&mut self, a: &Value, b: &Value) -> R<Value> {
        let a_row = matches!(a, Value::Arr(x) if x.borrow().rowvec);
        let (m, k, ad) = as_matrix_parts(self, a)?;
        let (m, k) = if a_row { (1, k.max(m)) } else { (m, k) };
        let b_is_vec = matches!(b, Value::Arr(x) if x.borrow().dims.len() == 1)
            || matches!(b, Value::Range(..));
        let (k2, n, bd) = as_matrix_parts(self, b)?;
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
