//! Base functions, indexing, iteration and broadcasting.
//!
//! Scalar primitives record their partial derivatives on the tape; array functions are built
//! from scalar nodes. Mutating array functions run normally and record a Zygote mutation event.

use super::interp::{Ctrl, Interp, R};
use super::ir::{Lv, Name, Span};
use super::value::*;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::OnceLock;

const BUILTINS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "^",
    "\\",
    "÷",
    "div",
    "%",
    "rem",
    "mod",
    "<",
    ">",
    "<=",
    ">=",
    "==",
    "!=",
    "≤",
    "≥",
    "≠",
    "===",
    "!==",
    "!",
    "√",
    "abs",
    "abs2",
    "sqrt",
    "exp",
    "log",
    "log2",
    "log10",
    "log1p",
    "expm1",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "sigmoid",
    "σ",
    "relu",
    "softplus",
    "max",
    "min",
    "clamp",
    "sign",
    "float",
    "round",
    "floor",
    "ceil",
    "trunc",
    "identity",
    "zero",
    "one",
    "isnan",
    "isinf",
    "isfinite",
    "iszero",
    "ifelse",
    "inv",
    "cbrt",
    "length",
    "size",
    "ndims",
    "axes",
    "eachindex",
    "keys",
    "values",
    "pairs",
    "enumerate",
    "zip",
    "collect",
    "first",
    "last",
    "sum",
    "prod",
    "maximum",
    "minimum",
    "mean",
    "map",
    "foreach",
    "filter",
    "reduce",
    "foldl",
    "foldr",
    "mapreduce",
    "cumsum",
    "any",
    "all",
    "count",
    "in",
    "∈",
    "isempty",
    "vec",
    "reshape",
    "vcat",
    "hcat",
    "transpose",
    "adjoint",
    "permutedims",
    "dot",
    "norm",
    "zeros",
    "ones",
    "fill",
    "similar",
    "copy",
    "deepcopy",
    "rand",
    "randn",
    "push!",
    "pop!",
    "pushfirst!",
    "popfirst!",
    "append!",
    "setindex!",
    "getindex",
    "copyto!",
    "fill!",
    "copy!",
    "empty!",
    "resize!",
    "sort",
    "sort!",
    "reverse",
    "reverse!",
    "map!",
    "broadcast!",
    "mul!",
    "rand!",
    "randn!",
    "Dict",
    "get",
    "haskey",
    "delete!",
    "Ref",
    "Pair",
    "tuple",
    "string",
    "repr",
    "println",
    "print",
    "display",
    "show",
    "error",
    "throw",
    "rethrow",
    "ArgumentError",
    "DomainError",
    "DimensionMismatch",
    "BoundsError",
    "KeyError",
    "ErrorException",
    "isa",
    "typeof",
    "eltype",
    "convert",
    "sizehint!",
    "getfield",
    "setfield!",
    "getproperty",
    "setproperty!",
    "gradient",
    "withgradient",
    "pullback",
    "jacobian",
    "hessian",
    "ignore_derivatives",
    "ignore",
    "dropgrad",
    "Buffer",
    "bufferfrom",
    "NoTangent",
    "ZeroTangent",
    "unthunk",
    "checkpointed",
    "time",
    "time_ns",
    "seed!",
    "broadcast",
    "isnothing",
    "sum!",
    "nothing",
    "minmax",
    "exp10",
    "step",
    "range",
    "Tuple",
    "NamedTuple",
    "merge",
    "argmax",
    "argmin",
    "findmax",
    "findmin",
    "diag",
    "tr",
    "@thunk",
    "forwarddiff",
    "isless",
    "xor",
    "println",
    "flush",
    "stdout",
    "only",
    "iterate",
    "Symbol",
    "lastindex",
    "firstindex",
    "insert!",
    "deleteat!",
    "splice!",
    "vcat",
    "Float64",
    "Int",
    "softmax",
    "logsumexp",
    "ntuple",
    "hasproperty",
    "propertynames",
    "fieldnames",
    "nfields",
    "Base.OneTo",
    "OneTo",
    "unique",
    "sortperm",
    "cat",
    "stack",
    "eachcol",
    "eachrow",
    "trues",
    "falses",
    "include",
    "__new",
    "default_rng",
    "MersenneTwister",
    "Xoshiro",
];

pub fn is_builtin(n: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| BUILTINS.iter().copied().collect())
        .contains(n)
}

pub fn constant(n: &str) -> Option<Value> {
    Some(match n {
        "pi" | "π" => Value::F(std::f64::consts::PI),
        "ℯ" => Value::F(std::f64::consts::E),
        "Inf" | "Inf64" => Value::F(f64::INFINITY),
        "NaN" | "NaN64" => Value::F(f64::NAN),
        "nothing" => Value::Nothing,
        "undef" => Value::Sym(Rc::from("undef")),
        "stdout" | "stderr" => Value::Nothing,
        _ => return None,
    })
}

fn nm(s: &str) -> Name {
    Rc::from(s)
}

pub fn length_of(v: &Value) -> usize {
    match v {
        Value::Arr(a) => a.borrow().data.len(),
        Value::Range(a, s, b) => range_len(*a, *s, *b),
        Value::Tuple(t) => t.len(),
        Value::NT(_, t) => t.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::Str(s) => s.chars().count(),
        Value::Buffer(b) => length_of(&b.borrow().arr),
        _ => 1,
    }
}

pub fn size_of(v: &Value) -> Vec<usize> {
    match v {
        Value::Arr(a) => a.borrow().dims.clone(),
        Value::Buffer(b) => size_of(&b.borrow().arr),
        Value::Range(..) | Value::Tuple(_) => vec![length_of(v)],
        _ => vec![],
    }
}

pub fn range_len(a: i64, s: i64, b: i64) -> usize {
    if s == 0 {
        return 0;
    }
    if (s > 0 && b < a) || (s < 0 && b > a) {
        0
    } else {
        ((b - a) / s + 1) as usize
    }
}

pub fn make_range(it: &mut Interp, a: &Value, s: Option<&Value>, b: &Value) -> R<Value> {
    match (a, s, b) {
        (Value::Int(a), None, Value::Int(b)) => Ok(Value::Range(*a, 1, (*b).max(*a - 1))),
        (Value::Int(a), Some(Value::Int(s)), Value::Int(b)) => {
            if *s == 0 {
                return Err(it.throw("ArgumentError", "ArgumentError: step cannot be zero"));
            }
            let n = range_len(*a, *s, *b);
            let stop = if n == 0 {
                *a - *s
            } else {
                *a + (n as i64 - 1) * *s
            };
            Ok(Value::Range(*a, *s, stop))
        }
        _ => {
            // float range: materialise
            let a = a.as_f64();
            let s = s.map(|v| v.as_f64()).unwrap_or(Some(1.0));
            let b = b.as_f64();
            match (a, s, b) {
                (Some(a), Some(s), Some(b)) if s != 0.0 => {
                    let n = ((b - a) / s + 1e-10).floor() + 1.0;
                    let n = if n < 0.0 { 0 } else { n as usize };
                    it.check_elements(n)?;
                    Ok(Value::vec_f((0..n).map(|i| a + s * i as f64).collect()))
                }
                _ => Err(it.error("range with non-numeric endpoints")),
            }
        }
    }
}

fn to_usize(it: &Interp, v: &Value) -> R<usize> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as usize),
        Value::Bool(b) => Ok(*b as usize),
        _ => Err(it.throw(
            "ArgumentError",
            format!("ArgumentError: invalid dimension {}", show(v)),
        )),
    }
}

fn dims_from(it: &Interp, args: &[Value]) -> R<Vec<usize>> {
    if args.len() == 1 {
        if let Value::Tuple(t) = &args[0] {
            return t.iter().map(|x| to_usize(it, x)).collect();
        }
    }
    args.iter().map(|x| to_usize(it, x)).collect()
}

pub fn build_matrix(it: &mut Interp, rows: Vec<Vec<Value>>) -> R<Value> {
    let mut row_vals = vec![];
    for r in rows {
        row_vals.push(hcat(it, r)?);
    }
    if row_vals.len() == 1 {
        return Ok(row_vals.pop().unwrap_or(Value::Nothing));
    }
    vcat(it, row_vals)
}

fn as_matrix_parts(v: &Value) -> (usize, usize, Vec<Value>) {
    match v {
        Value::Arr(a) => {
            let a = a.borrow();
            match a.dims.len() {
                1 => (a.dims[0], 1, a.data.clone()),
                2 => (a.dims[0], a.dims[1], a.data.clone()),
                _ => (a.data.len(), 1, a.data.clone()),
            }
        }
        Value::Range(..) => {
            let items: Vec<Value> = range_items(v);
            (items.len(), 1, items)
        }
        other => (1, 1, vec![other.clone()]),
    }
}

fn range_items(v: &Value) -> Vec<Value> {
    match v {
        Value::Range(a, s, b) => {
            let n = range_len(*a, *s, *b);
            (0..n).map(|i| Value::Int(a + s * i as i64)).collect()
        }
        _ => vec![],
    }
}

pub fn hcat(it: &mut Interp, parts: Vec<Value>) -> R<Value> {
    let all_scalar = parts
        .iter()
        .all(|p| !matches!(p, Value::Arr(_) | Value::Range(..)));
    let mut rows = None;
    let mut data = vec![];
    let mut cols = 0;
    for p in &parts {
        let (r, c, d) = as_matrix_parts(p);
        if let Some(r0) = rows {
            if r0 != r {
                return Err(it.throw(
                    "DimensionMismatch",
                    "DimensionMismatch: number of rows of each array must match",
                ));
            }
        }
        rows = Some(r);
        cols += c;
        data.extend(d);
    }
    let t = promote_elty(&data);
    let data: Vec<Value> = data.into_iter().map(|v| convert_el(v, t)).collect();
    let r = rows.unwrap_or(0);
    let _ = all_scalar;
    it.check_elements(data.len())?;
    Ok(Value::arr(vec![r, cols], data, t))
}

pub fn vcat(it: &mut Interp, parts: Vec<Value>) -> R<Value> {
    let any_matrix = parts
        .iter()
        .any(|p| matches!(p, Value::Arr(a) if a.borrow().dims.len() == 2));
    if !any_matrix {
        let mut data = vec![];
        for p in &parts {
            match p {
                Value::Arr(a) => data.extend(a.borrow().data.iter().cloned()),
                Value::Range(..) => data.extend(range_items(p)),
                other => data.push(other.clone()),
            }
        }
        let t = promote_elty(&data);
        let n = data.len();
        it.check_elements(n)?;
        return Ok(Value::arr(
            vec![n],
            data.into_iter().map(|v| convert_el(v, t)).collect(),
            t,
        ));
    }
    let mats: Vec<(usize, usize, Vec<Value>)> = parts.iter().map(as_matrix_parts).collect();
    let cols = mats[0].1;
    if mats.iter().any(|m| m.1 != cols) {
        return Err(it.throw(
            "DimensionMismatch",
            "DimensionMismatch: number of columns of each array must match",
        ));
    }
    let rows: usize = mats.iter().map(|m| m.0).sum();
    let mut data = vec![Value::Nothing; rows * cols];
    let mut r0 = 0;
    for (r, c, d) in &mats {
        for j in 0..*c {
            for i in 0..*r {
                data[(r0 + i) + j * rows] = d[i + j * r].clone();
            }
        }
        r0 += r;
    }
    let t = promote_elty(&data);
    Ok(Value::arr(
        vec![rows, cols],
        data.into_iter().map(|v| convert_el(v, t)).collect(),
        t,
    ))
}

type Unary = (fn(f64) -> f64, fn(f64, f64) -> f64);

fn unary_table(n: &str) -> Option<Unary> {
    Some(match n {
        "exp" => (f64::exp, |_, y| y),
        "log" => (f64::ln, |x, _| 1.0 / x),
        "log2" => (f64::log2, |x, _| 1.0 / (x * std::f64::consts::LN_2)),
        "log10" => (f64::log10, |x, _| 1.0 / (x * std::f64::consts::LN_10)),
        "log1p" => (f64::ln_1p, |x, _| 1.0 / (1.0 + x)),
        "expm1" => (f64::exp_m1, |x, _| x.exp()),
        "exp10" => (|x| 10f64.powf(x), |_, y| y * std::f64::consts::LN_10),
        "sin" => (f64::sin, |x, _| x.cos()),
        "cos" => (f64::cos, |x, _| -x.sin()),
        "tan" => (f64::tan, |_, y| 1.0 + y * y),
        "tanh" => (f64::tanh, |_, y| 1.0 - y * y),
        "sinh" => (f64::sinh, |x, _| x.cosh()),
        "cosh" => (f64::cosh, |x, _| x.sinh()),
        "asin" => (f64::asin, |x, _| 1.0 / (1.0 - x * x).sqrt()),
        "acos" => (f64::acos, |x, _| -1.0 / (1.0 - x * x).sqrt()),
        "atan" => (f64::atan, |x, _| 1.0 / (1.0 + x * x)),
        "sqrt" | "√" => (f64::sqrt, |_, y| 0.5 / y),
        "cbrt" => (f64::cbrt, |_, y| 1.0 / (3.0 * y * y)),
        "abs" => (f64::abs, |x, _| if x >= 0.0 { 1.0 } else { -1.0 }),
        "abs2" => (|x| x * x, |x, _| 2.0 * x),
        "inv" => (|x| 1.0 / x, |x, _| -1.0 / (x * x)),
        "sigmoid" | "σ" => (|x| 1.0 / (1.0 + (-x).exp()), |_, y| y * (1.0 - y)),
        "relu" => (|x| x.max(0.0), |x, _| if x > 0.0 { 1.0 } else { 0.0 }),
        "softplus" => (
            |x| if x > 30.0 { x } else { x.exp().ln_1p() },
            |x, _| 1.0 / (1.0 + (-x).exp()),
        ),
        "identity" => (|x| x, |_, _| 1.0),
        "float" => (|x| x, |_, _| 1.0),
        "round" => (f64::round_ties_even, |_, _| 0.0),
        "floor" => (f64::floor, |_, _| 0.0),
        "ceil" => (f64::ceil, |_, _| 0.0),
        "trunc" => (f64::trunc, |_, _| 0.0),
        "sign" => (
            |x| {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            },
            |_, _| 0.0,
        ),
        _ => return None,
    })
}

impl Interp {
    pub fn domain_error(&self, x: f64, fname: &str) -> Ctrl {
        let tail = match fname {
            "sqrt" => "sqrt was called with a negative real argument but will only return a complex result if called with a complex argument. Try sqrt(Complex(x)).",
            "log" | "log2" | "log10" => "log was called with a negative real argument but will only return a complex result if called with a complex argument. Try log(Complex(x)).",
            _ => "",
        };
        self.throw(
            "DomainError",
            format!("DomainError with {}:\n{}", fmt_f64(x), tail),
        )
    }

    pub fn unary(&mut self, n: &str, x: &Value) -> R<Value> {
        if let (Value::Int(i), "abs" | "abs2" | "identity" | "sign") = (x, n) {
            return Ok(Value::Int(match n {
                "abs" => i.wrapping_abs(),
                "abs2" => i.wrapping_mul(*i),
                "sign" => i.signum(),
                _ => *i,
            }));
        }
        let xf = match x.as_f64() {
            Some(f) => f,
            None => {
                return Err(self.throw(
                    "MethodError",
                    format!("MethodError: no method matching {}(::{})", n, type_name(x)),
                ))
            }
        };
        if matches!(n, "sqrt" | "√" | "log" | "log2" | "log10") && xf < 0.0 {
            return Err(self.domain_error(xf, if n == "√" { "sqrt" } else { n }));
        }
        let (f, d) = match unary_table(n) {
            Some(t) => t,
            None => return Err(self.error(format!("unknown function {n}"))),
        };
        let y = f(xf);
        if self.tid(x).is_some() {
            let dy = d(xf, y);
            self.rec(y, &[(x, dy)])
        } else {
            Ok(Value::F(y))
        }
    }

    pub fn arith(&mut self, op: &str, a: &Value, b: &Value) -> R<Value> {
        let ints = matches!(a, Value::Int(_) | Value::Bool(_))
            && matches!(b, Value::Int(_) | Value::Bool(_));
        if ints {
            let x = a.as_f64().unwrap_or(0.0) as i64;
            let y = b.as_f64().unwrap_or(0.0) as i64;
            let div0 = || self.throw("DivideError", "DivideError: integer division error");
            return Ok(match op {
                "+" => Value::Int(x.wrapping_add(y)),
                "-" => Value::Int(x.wrapping_sub(y)),
                "*" => Value::Int(x.wrapping_mul(y)),
                "/" => Value::F(x as f64 / y as f64),
                "÷" | "div" => {
                    if y == 0 {
                        return Err(div0());
                    }
                    Value::Int(x.wrapping_div(y))
                }
                "%" | "rem" => {
                    if y == 0 {
                        return Err(div0());
                    }
                    Value::Int(x.wrapping_rem(y))
                }
                "mod" => {
                    if y == 0 {
                        return Err(div0());
                    }
                    Value::Int(x.rem_euclid(y) + if y < 0 && x.rem_euclid(y) != 0 { y } else { 0 })
                }
                "^" => {
                    if y < 0 {
                        if x == 1 {
                            Value::Int(1)
                        } else {
                            return Err(self.throw("DomainError", format!("DomainError with {y}:\nCannot raise an integer x to a negative power {y}.")));
                        }
                    } else {
                        Value::Int(x.wrapping_pow(y.min(u32::MAX as i64) as u32))
                    }
                }
                "max" => Value::Int(x.max(y)),
                "min" => Value::Int(x.min(y)),
                _ => return Err(self.error(format!("unknown operator {op}"))),
            });
        }
        let (x, y) = match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x, y),
            _ => {
                return Err(self.throw(
                    "MethodError",
                    format!(
                        "MethodError: no method matching {}(::{}, ::{})",
                        op,
                        type_name(a),
                        type_name(b)
                    ),
                ))
            }
        };
        let tracked = self.tid(a).is_some() || self.tid(b).is_some();
        let (v, da, db) = match op {
            "+" => (x + y, 1.0, 1.0),
            "-" => (x - y, 1.0, -1.0),
            "*" => (x * y, y, x),
            "/" => (x / y, 1.0 / y, -x / (y * y)),
            "^" => {
                if let Value::Int(n) = b {
                    let v = x.powi(*n as i32);
                    let d = if *n == 0 {
                        0.0
                    } else {
                        (*n as f64) * x.powi(*n as i32 - 1)
                    };
                    (v, d, 0.0)
                } else {
                    if x < 0.0 && y.fract() != 0.0 {
                        return Err(self.throw("DomainError", format!("DomainError with {}:\nExponentiation yielding a complex result requires a complex argument.\nReplace x^y with (x+0im)^y, Complex(x)^y, or similar.", fmt_f64(x))));
                    }
                    let v = x.powf(y);
                    let da = if y == 0.0 { 0.0 } else { y * x.powf(y - 1.0) };
                    let db = if tracked && self.tid(b).is_some() && x > 0.0 {
                        v * x.ln()
                    } else {
                        0.0
                    };
                    (v, da, db)
                }
            }
            "max" => {
                if x >= y {
                    (x, 1.0, 0.0)
                } else {
                    (y, 0.0, 1.0)
                }
            }
            "min" => {
                if x <= y {
                    (x, 1.0, 0.0)
                } else {
                    (y, 0.0, 1.0)
                }
            }
            "%" | "rem" => (x % y, 1.0, -(x / y).trunc()),
            "mod" => {
                let r = x - y * (x / y).floor();
                (r, 1.0, -(x / y).floor())
            }
            "÷" | "div" => ((x / y).trunc(), 0.0, 0.0),
            _ => return Err(self.error(format!("unknown operator {op}"))),
        };
        if tracked {
            self.rec(v, &[(a, da), (b, db)])
        } else {
            Ok(Value::F(v))
        }
    }

    fn compare(&mut self, op: &str, a: &Value, b: &Value) -> R<Value> {
        let r = match op {
            "==" => values_equal(a, b),
            "!=" | "≠" => !values_equal(a, b),
            "===" => identical(a, b),
            "!==" => !identical(a, b),
            _ => {
                let (x, y) = match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => (x, y),
                    _ => match (a, b) {
                        (Value::Str(x), Value::Str(y)) => {
                            let o = x.cmp(y);
                            let r = match op {
                                "<" => o.is_lt(),
                                ">" => o.is_gt(),
                                "<=" | "≤" => o.is_le(),
                                _ => o.is_ge(),
                            };
                            return Ok(Value::Bool(r));
                        }
                        _ => {
                            return Err(self.throw(
                                "MethodError",
                                format!(
                                    "MethodError: no method matching isless(::{}, ::{})",
                                    type_name(a),
                                    type_name(b)
                                ),
                            ))
                        }
                    },
                };
                match op {
                    "<" => x < y,
                    ">" => x > y,
                    "<=" | "≤" => x <= y,
                    _ => x >= y,
                }
            }
        };
        Ok(Value::Bool(r))
    }

    /// `+`, `-`, `*`, `/` and friends, including their array methods.
    fn math_op(&mut self, op: &str, args: &[Value], span: Span) -> R<Value> {
        if args.len() == 1 {
            let x = &args[0];
            return match (op, x) {
                ("-", Value::Arr(_)) => self.map_arr(x, |it, v| it.arith("-", &Value::Int(0), &v)),
                ("-", Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
                ("-", _) => {
                    let xf = x.as_f64().ok_or_else(|| self.error("- of non-number"))?;
                    self.rec(-xf, &[(x, -1.0)])
                }
                ("+", _) => Ok(x.clone()),
                _ => Err(self.error(format!("unary {op}"))),
            };
        }
        if args.len() > 2 && matches!(op, "+" | "*") {
            let mut acc = args[0].clone();
            for a in &args[1..] {
                acc = self.math_op(op, &[acc, a.clone()], span)?;
            }
            return Ok(acc);
        }
        if args.len() != 2 {
            return Err(self.error(format!("{op} expects two arguments")));
        }
        let (a, b) = (&args[0], &args[1]);
        let a_arr = matches!(a, Value::Arr(_) | Value::Range(..));
        let b_arr = matches!(b, Value::Arr(_) | Value::Range(..));
        if let (Value::Str(x), Value::Str(y), "*") = (a, b, op) {
            self.check_elements(x.len() + y.len())?;
            return Ok(Value::str(&format!("{x}{y}")));
        }
        if !a_arr && !b_arr {
            return self.arith(op, a, b);
        }
        match op {
            "+" | "-" if a_arr && b_arr => {
                if size_of(a) != size_of(b) {
                    return Err(self.throw(
                        "DimensionMismatch",
                        format!(
                            "DimensionMismatch: dimensions must match: a has dims {:?}, b has dims {:?}",
                            size_of(a),
                            size_of(b)
                        ),
                    ));
                }
                self.broadcast(&Value::Builtin(nm(op)), vec![a.clone(), b.clone()], span)
            }
            "*" if a_arr && b_arr => self.matmul(a, b),
            "*" | "/" if a_arr && !b_arr => {
                self.broadcast(&Value::Builtin(nm(op)), vec![a.clone(), b.clone()], span)
            }
            "*" if !a_arr && b_arr => {
                self.broadcast(&Value::Builtin(nm(op)), vec![a.clone(), b.clone()], span)
            }
            "\\" => Err(self.unsupported("linear solve `\\`", span)),
            _ => Err(self.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching {}(::{}, ::{})",
                    op,
                    type_name(a),
                    type_name(b)
                ),
            )),
        }
    }

    fn matmul(&mut self, a: &Value, b: &Value) -> R<Value> {
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

    pub fn map_arr(
        &mut self,
        x: &Value,
        mut f: impl FnMut(&mut Interp, Value) -> R<Value>,
    ) -> R<Value> {
        let (dims, data) = match x {
            Value::Arr(a) => {
                let a = a.borrow();
                (a.dims.clone(), a.data.clone())
            }
            Value::Range(..) => {
                let d = range_items(x);
                (vec![d.len()], d)
            }
            other => return f(self, other.clone()),
        };
        let mut out = Vec::with_capacity(data.len());
        for v in data {
            self.tick()?;
            out.push(f(self, v)?);
        }
        let t = promote_elty(&out);
        Ok(Value::arr(dims, out, t))
    }

    pub fn sum_vals(&mut self, vals: &[Value]) -> R<Value> {
        if vals
            .iter()
            .all(|v| matches!(v, Value::Int(_) | Value::Bool(_)))
        {
            return Ok(Value::Int(
                vals.iter().map(|v| v.as_f64().unwrap_or(0.0) as i64).sum(),
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

    fn prod_vals(&mut self, vals: &[Value]) -> R<Value> {
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

    fn dot_vals(&mut self, a: &[Value], b: &[Value]) -> R<Value> {
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

    pub fn iterate(&mut self, v: &Value) -> R<Vec<Value>> {
        let out = match v {
            Value::Arr(a) => a.borrow().data.clone(),
            Value::Range(..) => {
                self.check_elements(length_of(v))?;
                range_items(v)
            }
            Value::Tuple(t) => t.as_ref().clone(),
            Value::NT(_, t) => t.as_ref().clone(),
            Value::Dict(d) => d
                .borrow()
                .iter()
                .map(|(k, x)| Value::Pair(Rc::new((k.clone(), x.clone()))))
                .collect(),
            Value::Str(s) => s.chars().map(Value::Char).collect(),
            Value::Pair(p) => vec![p.0.clone(), p.1.clone()],
            Value::Struct(o) if o.def.name.as_ref() == "Params" => {
                let order = o.fields.borrow().first().cloned().unwrap_or(Value::Nothing);
                self.iterate(&order)?
            }
            Value::Buffer(b) => {
                let inner = b.borrow().arr.clone();
                self.iterate(&inner)?
            }
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
        Ok(out)
    }

    // ------------------------------------------------------------ indexing

    /// Linear positions and result dims for `idx` applied to an array of `dims`.
    fn resolve(&self, dims: &[usize], idx: &[Value]) -> R<(Vec<usize>, Vec<usize>, bool)> {
        let total: usize = dims.iter().product();
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
                    for x in range_items(ix) {
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
                let elty = match t.as_ref() {
                    "Float64" => ElTy::F64,
                    "Float32" => ElTy::F32,
                    "Int" | "Int64" => ElTy::I64,
                    "Bool" => ElTy::Bool,
                    "Any" => ElTy::Any,
                    _ => {
                        return Err(self.unsupported(&format!("typed array literal {t}[...]"), span))
                    }
                };
                let mut data = vec![];
                for x in idx {
                    data.push(self.convert_for(elty, x.clone())?);
                }
                let n = data.len();
                Ok(Value::arr(vec![n], data, elty))
            }
            Value::Range(..) => {
                let items = range_items(o);
                let n = items.len();
                let arr = Value::arr(vec![n], items, ElTy::I64);
                self.getindex(&arr, idx, span)
            }
            Value::Tuple(t) => match idx {
                [Value::Int(i)] if *i >= 1 && (*i as usize) <= t.len() => {
                    Ok(t[*i as usize - 1].clone())
                }
                [Value::Range(..)] => {
                    let mut out = vec![];
                    for x in range_items(&idx[0]) {
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
                    dict_pos(&db, &key).map(|i| db[i].1.clone())
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
                            items
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
                let mut db = d.borrow_mut();
                match dict_pos(&db, &key) {
                    Some(i) => db[i].1 = v,
                    None => db.push((key, v)),
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

    fn convert_for(&self, elty: ElTy, x: Value) -> R<Value> {
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

    // ------------------------------------------------------------ broadcasting

    pub fn broadcast(&mut self, f: &Value, args: Vec<Value>, span: Span) -> R<Value> {
        // shapes
        let mut shapes: Vec<Option<Vec<usize>>> = vec![];
        let mut datas: Vec<Vec<Value>> = vec![];
        for a in &args {
            match a {
                Value::Arr(x) => {
                    let x = x.borrow();
                    shapes.push(Some(x.dims.clone()));
                    datas.push(x.data.clone());
                }
                Value::Range(..) => {
                    let items = range_items(a);
                    shapes.push(Some(vec![items.len()]));
                    datas.push(items);
                }
                Value::Tuple(t) => {
                    shapes.push(Some(vec![t.len()]));
                    datas.push(t.as_ref().clone());
                }
                Value::Ref(r) => {
                    shapes.push(None);
                    datas.push(vec![r.borrow().clone()]);
                }
                other => {
                    shapes.push(None);
                    datas.push(vec![other.clone()]);
                }
            }
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
                    let scalars: Vec<Value> = datas.iter().map(|d| d[0].clone()).collect();
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
            self.check_elements(total)?;
            let mut out = Vec::with_capacity(total);
            let mut ix = vec![0usize; nd];
            for _ in 0..total {
                let mut elems = Vec::with_capacity(args.len());
                for (k, s) in shapes.iter().enumerate() {
                    match s {
                        None => elems.push(datas[k][0].clone()),
                        Some(s) => {
                            let mut lin = 0;
                            let mut stride = 1;
                            for (d, &len) in s.iter().enumerate() {
                                let i = if len == 1 { 0 } else { ix[d] };
                                lin += i * stride;
                                stride *= len;
                            }
                            elems.push(datas[k][lin].clone());
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
            let out: Vec<Value> = out.into_iter().map(|v| convert_el(v, t)).collect();
            Ok(Value::arr(out_dims, out, t))
        })();
        self.rec_events = saved_events;
        match (region, result) {
            (Some(r), Ok(Value::Arr(a))) => {
                let (dims, data, elty) = {
                    let a = a.borrow();
                    (a.dims.clone(), a.data.clone(), a.elty)
                };
                let data = self.region_end(Some(r), data)?;
                Ok(Value::arr(dims, data, elty))
            }
            (_, result) => result,
        }
    }

    fn call_elem(&mut self, f: &Value, args: Vec<Value>, span: Span) -> R<Value> {
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
        rhs: &super::ir::Ex,
        env: &super::interp::Env,
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
                    _ => return Err(self.error("bad buffer")),
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
                    items
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

/// Dict key lookup: object identity first (arrays as keys, as in `IdDict`/`Grads`), then `==`.
pub fn dict_pos(entries: &[(Value, Value)], key: &Value) -> Option<usize> {
    let same = |a: &Value, b: &Value| match (a, b) {
        (Value::Arr(x), Value::Arr(y)) => Rc::ptr_eq(x, y),
        (Value::Struct(x), Value::Struct(y)) => Rc::ptr_eq(x, y),
        _ => false,
    };
    entries.iter().position(|(k, _)| same(k, key)).or_else(|| {
        if matches!(key, Value::Arr(_) | Value::Struct(_)) {
            // identity-keyed use: do not fall back to contents for arrays
            entries
                .iter()
                .position(|(k, _)| !matches!(k, Value::Arr(_)) && values_equal(k, key))
        } else {
            entries.iter().position(|(k, _)| values_equal(k, key))
        }
    })
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

fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Arr(x), Value::Arr(y)) => Rc::ptr_eq(x, y),
        (Value::Struct(x), Value::Struct(y)) if x.def.mutable => Rc::ptr_eq(x, y),
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::F(_) | Value::T(..), Value::F(_) | Value::T(..)) => a.as_f64() == b.as_f64(),
        (Value::Int(_), Value::F(_) | Value::T(..))
        | (Value::F(_) | Value::T(..), Value::Int(_)) => false,
        _ => values_equal(a, b),
    }
}

/// Constructors and conversions: `Float64(x)`, struct types, `Vector{Float64}(undef, n)`, ...
pub fn construct(
    it: &mut Interp,
    t: &Name,
    args: Vec<Value>,
    kw: Vec<(Name, Value)>,
    span: Span,
) -> R<Value> {
    if let Some(sd) = it.structs.get(t).cloned() {
        if args.len() != sd.fields.len() {
            return Err(it.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching {}({})",
                    t,
                    args.iter()
                        .map(|a| format!("::{}", type_name(a)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut fields = vec![];
        for (v, ty) in args.into_iter().zip(sd.field_tys.iter()) {
            let v = match ty {
                super::ir::Ty::Named(n) if n.as_ref() == "Float64" => {
                    if !v.is_num() {
                        return Err(it.throw("MethodError", format!("MethodError: Cannot `convert` an object of type {} to an object of type Float64", type_name(&v))));
                    }
                    convert_el(v, ElTy::F64)
                }
                _ => v,
            };
            fields.push(v);
        }
        return Ok(Value::Struct(Rc::new(Obj {
            def: sd,
            fields: RefCell::new(fields),
        })));
    }
    let _ = kw;
    let base = t.split('{').next().unwrap_or("");
    match (t.as_ref(), args.as_slice()) {
        ("Float64" | "Float32", [x]) => match x {
            Value::T(..) | Value::F(_) => Ok(x.clone()),
            Value::Int(i) => Ok(Value::F(*i as f64)),
            Value::Bool(b) => Ok(Value::F(*b as i64 as f64)),
            _ => Err(it.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching Float64(::{})",
                    type_name(x)
                ),
            )),
        },
        ("Int" | "Int64" | "Int32", [x]) => match x.as_f64() {
            Some(f) if f.fract() == 0.0 => Ok(Value::Int(f as i64)),
            _ => Err(it.throw("InexactError", format!("InexactError: Int64({})", show(x)))),
        },
        ("Bool", [x]) => match x.as_f64() {
            Some(f) if f == 0.0 || f == 1.0 => Ok(Value::Bool(f == 1.0)),
            _ => Err(it.throw("InexactError", format!("InexactError: Bool({})", show(x)))),
        },
        ("String", [x]) => Ok(Value::str(&to_display(x))),
        ("Symbol", [x]) => Ok(Value::Sym(Rc::from(to_display(x).as_str()))),
        ("Tuple", [x]) => Ok(Value::tuple(it.iterate(x)?)),
        _ if base == "Dict" => call_builtin(it, &nm("Dict"), args, vec![], span),
        _ if matches!(base, "Vector" | "Matrix" | "Array") => {
            let elty = match t.split('{').nth(1).map(|s| s.trim_end_matches('}')) {
                Some("Float64") => ElTy::F64,
                Some("Float32") => ElTy::F32,
                Some("Int") | Some("Int64") => ElTy::I64,
                Some("Bool") => ElTy::Bool,
                _ => ElTy::Any,
            };
            let rest: Vec<Value> = args
                .into_iter()
                .filter(|a| !matches!(a, Value::Sym(s) if s.as_ref() == "undef"))
                .collect();
            let dims = if rest.is_empty() {
                vec![0]
            } else {
                dims_from(it, &rest)?
            };
            let n: usize = dims.iter().product();
            it.check_elements(n)?;
            let z = match elty {
                ElTy::F64 | ElTy::F32 => Value::F(0.0),
                ElTy::I64 => Value::Int(0),
                ElTy::Bool => Value::Bool(false),
                ElTy::Any => Value::Nothing,
            };
            Ok(Value::arr(dims, vec![z; n], elty))
        }
        _ => Err(it.unsupported(&format!("constructor {t}"), span)),
    }
}

fn kwarg<'a>(kw: &'a [(Name, Value)], k: &str) -> Option<&'a Value> {
    kw.iter().find(|(n, _)| n.as_ref() == k).map(|(_, v)| v)
}

impl Interp {
    fn rand_u64(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn rand_f64(&mut self) -> f64 {
        (self.rand_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn randn_f64(&mut self) -> f64 {
        let u1 = self.rand_f64().max(1e-300);
        let u2 = self.rand_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn reduce_dims(
        &mut self,
        x: &Value,
        dim: usize,
        f: &mut dyn FnMut(&mut Interp, &[Value]) -> R<Value>,
    ) -> R<Value> {
        let (r, c, d) = as_matrix_parts(x);
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
                None => {
                    return Err(self.throw(
                        "ArgumentError",
                        "ArgumentError: reducing over an empty collection is not allowed",
                    ))
                }
            },
        };
        for x in it {
            acc = self.call_elem(op, vec![acc, x], span)?;
        }
        Ok(acc)
    }
}

fn as_index(it: &Interp, v: &Value) -> R<usize> {
    match v {
        Value::Int(i) if *i >= 1 => Ok(*i as usize),
        _ => Err(it.throw(
            "ArgumentError",
            format!("ArgumentError: invalid dimension {}", show(v)),
        )),
    }
}

/// Dispatch of builtin functions by name.
pub fn call_builtin(
    it: &mut Interp,
    n: &Name,
    args: Vec<Value>,
    kw: Vec<(Name, Value)>,
    span: Span,
) -> R<Value> {
    let name = n.as_ref();
    let a = args.as_slice();
    let nargs = a.len();
    // A builtin called with arguments outside the modelled methods: Julia may well have a
    // method, so this is "unsupported", never a MethodError the program could catch.
    let bad = |it: &Interp| {
        it.unsupported(
            &format!(
                "{}({})",
                name,
                a.iter()
                    .map(|x| format!("::{}", type_name(x)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            span,
        )
    };
    match name {
        "+" | "-" | "*" | "/" | "^" | "\\" | "÷" | "div" | "%" | "rem" | "mod" => {
            if name == "^" {
                if let [Value::Arr(_), _] = a {
                    return Err(it.unsupported("matrix power", span));
                }
            }
            it.math_op(name, a, span)
        }
        "<" | ">" | "<=" | ">=" | "==" | "!=" | "≤" | "≥" | "≠" | "===" | "!==" | "isless"
            if nargs == 2 =>
        {
            let op = if name == "isless" { "<" } else { name };
            it.compare(op, &a[0], &a[1])
        }
        "!" if nargs == 1 => match &a[0] {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            _ => Err(bad(it)),
        },
        "xor" if nargs == 2 => match (&a[0], &a[1]) {
            (Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(x ^ y)),
            _ => Err(bad(it)),
        },
        "max" | "min" if nargs >= 2 => {
            let mut acc = a[0].clone();
            for x in &a[1..] {
                acc = it.arith(name, &acc, x)?;
            }
            Ok(acc)
        }
        "minmax" if nargs == 2 => {
            let lo = it.arith("min", &a[0], &a[1])?;
            let hi = it.arith("max", &a[0], &a[1])?;
            Ok(Value::tuple(vec![lo, hi]))
        }
        "clamp" if nargs == 3 => {
            let lo = it.arith("max", &a[0], &a[1])?;
            it.arith("min", &lo, &a[2])
        }
        "ifelse" if nargs == 3 => {
            if it.truthy(&a[0])? {
                Ok(a[1].clone())
            } else {
                Ok(a[2].clone())
            }
        }
        "zero" | "one" if nargs == 1 => {
            let one = name == "one";
            Ok(match &a[0] {
                Value::Int(_) | Value::Bool(_) => Value::Int(one as i64),
                Value::Type(t) if t.starts_with("Int") => Value::Int(one as i64),
                Value::Arr(x) if !one => {
                    let x = x.borrow();
                    Value::arr(x.dims.clone(), vec![Value::F(0.0); x.data.len()], ElTy::F64)
                }
                _ => Value::F(one as i64 as f64),
            })
        }
        "isnan" | "isinf" | "isfinite" | "iszero" if nargs == 1 => {
            let x = a[0].as_f64().ok_or_else(|| bad(it))?;
            Ok(Value::Bool(match name {
                "isnan" => x.is_nan(),
                "isinf" => x.is_infinite(),
                "isfinite" => x.is_finite(),
                _ => x == 0.0,
            }))
        }
        "isnothing" if nargs == 1 => Ok(Value::Bool(matches!(a[0], Value::Nothing))),
        "round" | "floor" | "ceil" | "trunc" if nargs == 2 => {
            // round(Int, x)
            let x = a[1].as_f64().ok_or_else(|| bad(it))?;
            let f = unary_table(name).map(|t| t.0).unwrap_or(f64::round);
            Ok(Value::Int(f(x) as i64))
        }
        "softmax" | "logsumexp" => {
            let x = a.first().cloned().ok_or_else(|| bad(it))?;
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
            if name == "logsumexp" {
                let l = it.unary("log", &s)?;
                return it.arith("+", &l, &mv);
            }
            let mut out = vec![];
            for e in exps {
                out.push(it.arith("/", &e, &s)?);
            }
            Ok(Value::arr(size_of(&x), out, ElTy::F64))
        }
        _ if nargs == 1 && unary_table(name).is_some() => match &a[0] {
            Value::Arr(_) => Err(it.throw(
                "MethodError",
                format!(
                    "MethodError: no method matching {}(::{})",
                    name,
                    type_name(&a[0])
                ),
            )),
            x => it.unary(name, x),
        },
        "length" if nargs == 1 => Ok(Value::Int(length_of(&a[0]) as i64)),
        "ndims" if nargs == 1 => Ok(Value::Int(size_of(&a[0]).len() as i64)),
        "size" => match a {
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
            _ => Err(bad(it)),
        },
        "axes" => match a {
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
            _ => Err(bad(it)),
        },
        "eachindex" | "keys" | "lastindex" | "firstindex" if nargs >= 1 => {
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
            match name {
                "lastindex" => Ok(Value::Int(n as i64)),
                "firstindex" => Ok(Value::Int(1)),
                _ => Ok(Value::Range(1, 1, n as i64)),
            }
        }
        "OneTo" | "Base.OneTo" if nargs == 1 => {
            let n = to_usize(it, &a[0])?;
            Ok(Value::Range(1, 1, n as i64))
        }
        "values" if nargs == 1 => match &a[0] {
            Value::Dict(d) => {
                let vs: Vec<Value> = d.borrow().iter().map(|(_, v)| v.clone()).collect();
                let n = vs.len();
                Ok(Value::arr(vec![n], vs, ElTy::Any))
            }
            Value::NT(_, vs) => Ok(Value::tuple(vs.as_ref().clone())),
            x => Ok(x.clone()),
        },
        "pairs" if nargs == 1 => match &a[0] {
            Value::Dict(_) => Ok(a[0].clone()),
            Value::NT(ns, vs) => Ok(Value::tuple(
                ns.iter()
                    .zip(vs.iter())
                    .map(|(k, v)| Value::Pair(Rc::new((Value::Sym(k.clone()), v.clone()))))
                    .collect(),
            )),
            x => {
                let items = it.iterate(x)?;
                Ok(Value::tuple(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| Value::Pair(Rc::new((Value::Int(i as i64 + 1), v))))
                        .collect(),
                ))
            }
        },
        "enumerate" if nargs == 1 => {
            let items = it.iterate(&a[0])?;
            let out: Vec<Value> = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| Value::tuple(vec![Value::Int(i as i64 + 1), v]))
                .collect();
            let n = out.len();
            Ok(Value::arr(vec![n], out, ElTy::Any))
        }
        "zip" => {
            let mut lists = vec![];
            for x in a {
                lists.push(it.iterate(x)?);
            }
            let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
            let out: Vec<Value> = (0..n)
                .map(|i| Value::tuple(lists.iter().map(|l| l[i].clone()).collect()))
                .collect();
            Ok(Value::arr(vec![n], out, ElTy::Any))
        }
        "collect" | "vec" if nargs == 1 => match &a[0] {
            Value::Arr(x) if name == "collect" => {
                let x = x.borrow();
                Ok(Value::arr(x.dims.clone(), x.data.clone(), x.elty))
            }
            x => {
                let items = it.iterate(x)?;
                let t = promote_elty(&items);
                let n = items.len();
                Ok(Value::arr(vec![n], items, t))
            }
        },
        "first" | "last" | "only" if nargs == 1 => {
            let items = it.iterate(&a[0])?;
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
        "first" if nargs == 2 => {
            let items = it.iterate(&a[0])?;
            let k = to_usize(it, &a[1])?;
            let v: Vec<Value> = items.into_iter().take(k).collect();
            let t = promote_elty(&v);
            let n = v.len();
            Ok(Value::arr(vec![n], v, t))
        }
        "sum" | "prod" | "maximum" | "minimum" | "mean" => {
            let (f, x) = match a {
                [x] => (None, x.clone()),
                [f, x] => (Some(f.clone()), x.clone()),
                _ => return Err(bad(it)),
            };
            let mapped = match &f {
                Some(f) => it.broadcast(f, vec![x.clone()], span)?,
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
                            return Err(it.throw(
                                "ArgumentError",
                                "ArgumentError: reducing over an empty collection is not allowed",
                            ));
                        }
                        let mut best = vals[0].clone();
                        for v in &vals[1..] {
                            let (bv, vv) = (best.as_f64(), v.as_f64());
                            let better = match (bv, vv) {
                                (Some(b), Some(x)) => {
                                    if name == "maximum" {
                                        x > b
                                    } else {
                                        x < b
                                    }
                                }
                                _ => false,
                            };
                            if better {
                                best = v.clone();
                            }
                        }
                        Ok(best)
                    }
                }
            };
            if let Some(d) = kwarg(&kw, "dims") {
                let d = as_index(it, d)?;
                return it.reduce_dims(&mapped, d, &mut red);
            }
            let vals = match &mapped {
                Value::Arr(x) => x.borrow().data.clone(),
                other => it.iterate(other)?,
            };
            red(it, &vals)
        }
        "argmax" | "argmin" if nargs == 1 => {
            let items = it.iterate(&a[0])?;
            let mut best = 0;
            for (i, v) in items.iter().enumerate() {
                let (b, x) = (
                    items[best].as_f64().unwrap_or(f64::NAN),
                    v.as_f64().unwrap_or(f64::NAN),
                );
                if (name == "argmax" && x > b) || (name == "argmin" && x < b) {
                    best = i;
                }
            }
            Ok(Value::Int(best as i64 + 1))
        }
        "map" | "foreach" if nargs >= 2 => {
            let f = a[0].clone();
            let mut lists = vec![];
            for x in &a[1..] {
                lists.push(it.iterate(x)?);
            }
            let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
            let mut out = Vec::with_capacity(n);
            let region = if matches!(f, Value::Builtin(_)) {
                None
            } else {
                it.region_start()
            };
            for i in 0..n {
                let args: Vec<Value> = lists.iter().map(|l| l[i].clone()).collect();
                out.push(it.call_elem(&f, args, span)?);
            }
            let out = it.region_end(region, out)?;
            if name == "foreach" {
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
        "filter" if nargs == 2 => {
            let items = it.iterate(&a[1])?;
            let mut out = vec![];
            let saved = it.suspend(); // the predicate is not traversed (rule calls findall)
            for x in items {
                let keep = it.call_value(&a[0], vec![x.primal()], vec![], span);
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
        "reduce" | "foldl" | "foldr" if nargs == 2 => {
            let mut items = it.iterate(&a[1])?;
            if name == "reduce" {
                if let Value::Builtin(op) = &a[0] {
                    if op.as_ref() == "vcat" {
                        return vcat(it, items);
                    }
                    if op.as_ref() == "hcat" {
                        return hcat(it, items);
                    }
                }
            }
            let init = kwarg(&kw, "init").cloned();
            if name == "foldr" {
                items.reverse();
                let f = a[0].clone();
                let mut acc = match init {
                    Some(v) => v,
                    None => items.remove(0),
                };
                for x in items {
                    acc = it.call_elem(&f, vec![x, acc], span)?;
                }
                return Ok(acc);
            }
            it.fold_with(&a[0], items, init, span)
        }
        "mapreduce" if nargs == 3 => {
            let mapped = it.broadcast(&a[0], vec![a[2].clone()], span)?;
            let items = it.iterate(&mapped)?;
            let init = kwarg(&kw, "init").cloned();
            it.fold_with(&a[1], items, init, span)
        }
        "cumsum" if nargs == 1 => {
            let items = it.iterate(&a[0])?;
            let mut out = vec![];
            let mut acc: Option<Value> = None;
            for x in items {
                let next = match acc {
                    None => x,
                    Some(p) => it.arith("+", &p, &x)?,
                };
                out.push(next.clone());
                acc = Some(next);
            }
            let t = promote_elty(&out);
            let n = out.len();
            Ok(Value::arr(vec![n], out, t))
        }
        "any" | "all" | "count" => {
            let (f, x) = match a {
                [x] => (None, x.clone()),
                [f, x] => (Some(f.clone()), x.clone()),
                _ => return Err(bad(it)),
            };
            let items = it.iterate(&x)?;
            let mut c = 0;
            for v in &items {
                let b = match &f {
                    Some(f) => it.call_value(f, vec![v.clone()], vec![], span)?,
                    None => v.clone(),
                };
                if it.truthy(&b)? {
                    c += 1;
                }
            }
            Ok(match name {
                "any" => Value::Bool(c > 0),
                "all" => Value::Bool(c == items.len()),
                _ => Value::Int(c as i64),
            })
        }
        "in" | "∈" if nargs == 2 => {
            if let Value::Dict(_) = &a[1] {
                return Err(it.error("use haskey for Dict"));
            }
            let items = it.iterate(&a[1])?;
            Ok(Value::Bool(items.iter().any(|v| values_equal(v, &a[0]))))
        }
        "isempty" if nargs == 1 => Ok(Value::Bool(length_of(&a[0]) == 0)),
        "reshape" if nargs >= 2 => {
            let dims = dims_from(it, &a[1..])?;
            let items = match &a[0] {
                Value::Arr(x) => x.borrow().data.clone(),
                other => it.iterate(other)?,
            };
            if dims.iter().product::<usize>() != items.len() {
                return Err(it.throw("DimensionMismatch", format!("DimensionMismatch: new dimensions {:?} must be consistent with array length {}", dims, items.len())));
            }
            let t = promote_elty(&items);
            Ok(Value::arr(dims, items, t))
        }
        "vcat" => vcat(it, args),
        "hcat" => hcat(it, args),
        "transpose" | "adjoint" | "permutedims" if nargs == 1 => match &a[0] {
            Value::Arr(x) => {
                let x = x.borrow();
                match x.dims.len() {
                    1 => {
                        let n = x.dims[0];
                        Ok(Value::Arr(Rc::new(RefCell::new(Arr {
                            dims: vec![1, n],
                            data: x.data.clone(),
                            elty: x.elty,
                            rowvec: name != "permutedims",
                        }))))
                    }
                    2 => {
                        let (r, c) = (x.dims[0], x.dims[1]);
                        if x.rowvec {
                            return Ok(Value::arr(vec![c], x.data.clone(), x.elty));
                        }
                        let mut data = Vec::with_capacity(r * c);
                        for i in 0..r {
                            for j in 0..c {
                                data.push(x.data[i + j * r].clone());
                            }
                        }
                        Ok(Value::arr(vec![c, r], data, x.elty))
                    }
                    _ => Err(bad(it)),
                }
            }
            x if x.is_num() => Ok(x.clone()),
            Value::Func(_) | Value::Builtin(_) => Err(it.unsupported("f' derivative syntax", span)),
            _ => Err(bad(it)),
        },
        "dot" if nargs == 2 => {
            let x = it.iterate(&a[0])?;
            let y = it.iterate(&a[1])?;
            it.dot_vals(&x, &y)
        }
        "norm" if !a.is_empty() => {
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
                Err(it.unsupported("norm with p other than 1 or 2", span))
            }
        }
        "tr" if nargs == 1 => {
            let (r, c, d) = as_matrix_parts(&a[0]);
            let diag: Vec<Value> = (0..r.min(c)).map(|i| d[i + i * r].clone()).collect();
            it.sum_vals(&diag)
        }
        "diag" if nargs == 1 => {
            let (r, c, d) = as_matrix_parts(&a[0]);
            let diag: Vec<Value> = (0..r.min(c)).map(|i| d[i + i * r].clone()).collect();
            let t = promote_elty(&diag);
            let n = diag.len();
            Ok(Value::arr(vec![n], diag, t))
        }
        "zeros" | "ones" | "trues" | "falses" => {
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
            let n: usize = dims.iter().product();
            it.check_elements(n)?;
            let one = matches!(name, "ones" | "trues");
            let v = match elty {
                ElTy::I64 => Value::Int(one as i64),
                ElTy::Bool => Value::Bool(one),
                _ => Value::F(one as i64 as f64),
            };
            Ok(Value::arr(dims, vec![v; n], elty))
        }
        "fill" if nargs >= 2 => {
            let dims = dims_from(it, &a[1..])?;
            let n: usize = dims.iter().product();
            it.check_elements(n)?;
            let t = elty_of(&a[0]);
            Ok(Value::arr(dims, vec![a[0].clone(); n], t))
        }
        "similar" if nargs >= 1 => {
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
            let n: usize = dims.iter().product();
            it.check_elements(n)?;
            let z = match elty {
                ElTy::I64 => Value::Int(0),
                ElTy::Bool => Value::Bool(false),
                ElTy::Any => Value::Nothing,
                ElTy::F64 | ElTy::F32 => Value::F(0.0),
            };
            Ok(Value::arr(dims, vec![z; n], elty))
        }
        "copy" | "deepcopy" if nargs == 1 => Ok(match &a[0] {
            Value::Arr(x) => {
                let x = x.borrow();
                Value::Arr(Rc::new(RefCell::new(Arr {
                    dims: x.dims.clone(),
                    data: x.data.clone(),
                    elty: x.elty,
                    rowvec: x.rowvec,
                })))
            }
            Value::Buffer(b) => {
                // copy(buf) freezes the buffer and returns an array
                b.borrow_mut().frozen = true;
                let inner = b.borrow().arr.clone();
                return call_builtin(it, &nm("copy"), vec![inner], kw, span);
            }
            Value::Dict(d) => Value::Dict(Rc::new(RefCell::new(d.borrow().clone()))),
            Value::Struct(o) if o.def.mutable => Value::Struct(Rc::new(Obj {
                def: o.def.clone(),
                fields: RefCell::new(o.fields.borrow().clone()),
            })),
            Value::Ref(r) if name == "deepcopy" => {
                Value::Ref(Rc::new(RefCell::new(r.borrow().clone())))
            }
            other => other.clone(),
        }),
        "default_rng" | "MersenneTwister" | "Xoshiro" | "GLOBAL_RNG" => Ok(Value::Sym(nm("__rng"))),
        "rand" | "randn" => {
            let normal = name == "randn";
            let a: &[Value] = match a.first() {
                Some(Value::Sym(s)) if s.as_ref() == "__rng" => &a[1..],
                _ => a,
            };
            let (rest, elty): (&[Value], ElTy) = match a.first() {
                Some(Value::Type(t)) if t.as_ref() == "Float32" => (&a[1..], ElTy::F32),
                Some(Value::Type(_)) => (&a[1..], ElTy::F64),
                _ => (a, ElTy::F64),
            };
            if let [Value::Range(..)] = rest {
                let items = range_items(&rest[0]);
                if items.is_empty() {
                    return Err(it.throw(
                        "ArgumentError",
                        "ArgumentError: collection must be non-empty",
                    ));
                }
                let k = (it.rand_u64() % items.len() as u64) as usize;
                return Ok(items[k].clone());
            }
            if let [Value::Arr(x)] = rest {
                let items = x.borrow().data.clone();
                if items.is_empty() {
                    return Err(it.throw(
                        "ArgumentError",
                        "ArgumentError: collection must be non-empty",
                    ));
                }
                let k = (it.rand_u64() % items.len() as u64) as usize;
                return Ok(items[k].clone());
            }
            if rest.is_empty() {
                return Ok(Value::F(if normal {
                    it.randn_f64()
                } else {
                    it.rand_f64()
                }));
            }
            let dims = dims_from(it, rest)?;
            let n: usize = dims.iter().product();
            it.check_elements(n)?;
            let data: Vec<Value> = (0..n)
                .map(|_| {
                    Value::F(if normal {
                        it.randn_f64()
                    } else {
                        it.rand_f64()
                    })
                })
                .collect();
            Ok(Value::arr(dims, data, elty))
        }
        "seed!" => {
            let s = a.last().and_then(|v| v.as_f64()).unwrap_or(0.0) as u64;
            it.rng = super::interp::RNG_SEED ^ s;
            Ok(Value::Nothing)
        }
        "rand!" | "randn!" if nargs == 1 => {
            if let Value::Arr(x) = &a[0] {
                let n = x.borrow().data.len();
                let data: Vec<Value> = (0..n)
                    .map(|_| {
                        Value::F(if name == "randn!" {
                            it.randn_f64()
                        } else {
                            it.rand_f64()
                        })
                    })
                    .collect();
                x.borrow_mut().data = data;
            }
            Ok(a[0].clone())
        }
        "push!" | "pushfirst!" | "append!" if nargs >= 2 => match &a[0] {
            Value::Arr(x) => {
                let items: Vec<Value> = if name == "append!" {
                    let mut v = vec![];
                    for c in &a[1..] {
                        v.extend(it.iterate(c)?);
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
                {
                    let mut xb = x.borrow_mut();
                    if xb.dims.len() != 1 {
                        drop(xb);
                        return Err(bad(it));
                    }
                    if name == "pushfirst!" {
                        for (k, v) in conv.into_iter().enumerate() {
                            xb.data.insert(k, v);
                        }
                    } else {
                        xb.data.extend(conv);
                    }
                    xb.dims[0] = xb.data.len();
                    if xb.data.len() as u64 > it.budget.max_elements {
                        drop(xb);
                        return Err(Ctrl::Stop("budget: elements".into()));
                    }
                }
                let reported = if name == "append!" { "copyto!" } else { name };
                it.mutation_event(reported, &a[0], span);
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
                let r = call_builtin(it, n, [vec![inner], a[1..].to_vec()].concat(), kw, span);
                it.rec_events = saved;
                r?;
                Ok(a[0].clone())
            }
            _ => Err(bad(it)),
        },
        "pop!" | "popfirst!" if nargs == 1 => match &a[0] {
            Value::Arr(x) => {
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
                        v
                    }
                };
                let v = v.ok_or_else(|| {
                    it.throw("ArgumentError", "ArgumentError: array must be non-empty")
                })?;
                it.mutation_event(name, &a[0], span);
                Ok(v)
            }
            _ => Err(bad(it)),
        },
        "map!" | "broadcast!" if nargs >= 3 => {
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
                it.iterate(&r)?
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
                    let reported = if name == "map!" {
                        "setindex!"
                    } else {
                        "copyto!"
                    };
                    it.mutation_event(reported, &a[1], span);
                    Ok(a[1].clone())
                }
                _ => Err(bad(it)),
            }
        }
        "copy!" if nargs == 2 => call_builtin(it, &nm("copyto!"), args.clone(), kw, span),
        "insert!" | "deleteat!" | "splice!" | "empty!" | "resize!" | "sort!" | "reverse!"
        | "map!" | "broadcast!" | "sum!" | "copy!" | "mul!" => {
            if let Some(Value::Dict(d)) = a.first() {
                if name == "empty!" {
                    d.borrow_mut().clear();
                    return Ok(a[0].clone());
                }
            }
            // Zygote's outcome for these is Julia-version dependent or goes through Base
            // internals (§7); we do not guess.
            Err(it.unsupported(&format!("{name} (in-place array function)"), span))
        }
        "setindex!" if nargs >= 2 => {
            it.setindex(&a[0], a[1].clone(), &a[2..], span)?;
            Ok(a[0].clone())
        }
        "getindex" if nargs >= 1 => it.getindex(&a[0], &a[1..], span),
        "copyto!" if nargs == 2 => {
            let src = it.iterate(&a[1])?;
            match &a[0] {
                Value::Arr(x) => {
                    let elty = x.borrow().elty;
                    if src.len() > x.borrow().data.len() {
                        return Err(
                            it.throw("BoundsError", "BoundsError: copyto! destination too short")
                        );
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
                    it.mutation_event("copyto!", &a[0], span);
                    Ok(a[0].clone())
                }
                Value::Buffer(b) => {
                    if b.borrow().frozen {
                        return Err(it.frozen(span));
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
                    Ok(a[0].clone())
                }
                _ => Err(bad(it)),
            }
        }
        "fill!" if nargs == 2 => match &a[0] {
            Value::Arr(x) => {
                let elty = x.borrow().elty;
                let v = it.convert_for(elty, a[1].clone())?;
                for slot in x.borrow_mut().data.iter_mut() {
                    *slot = v.clone();
                }
                // Base `fill!` is a setindex! loop (§7 row 17); Bool arrays have a rule
                if elty != ElTy::Bool {
                    it.mutation_event("setindex!", &a[0], span);
                }
                Ok(a[0].clone())
            }
            _ => Err(bad(it)),
        },
        "sort" if nargs == 1 => {
            let mut items = it.iterate(&a[0])?;
            let rev = matches!(kwarg(&kw, "rev"), Some(Value::Bool(true)));
            if kwarg(&kw, "by").is_some() {
                return Err(it.unsupported("sort with by=", span));
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
        "reverse" if nargs == 1 => {
            let mut items = it.iterate(&a[0])?;
            items.reverse();
            if let Value::Tuple(_) = &a[0] {
                return Ok(Value::tuple(items));
            }
            let t = promote_elty(&items);
            let n = items.len();
            Ok(Value::arr(vec![n], items, t))
        }
        "Dict" => {
            let mut entries: Vec<(Value, Value)> = vec![];
            let pairs: Vec<Value> = if nargs == 1 && !matches!(a[0], Value::Pair(_)) {
                it.iterate(&a[0])?
            } else {
                args.clone()
            };
            for p in pairs {
                let (k, v) = match &p {
                    Value::Pair(p) => (p.0.clone(), p.1.clone()),
                    Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
                    _ => return Err(bad(it)),
                };
                match entries.iter_mut().find(|(x, _)| values_equal(x, &k)) {
                    Some(slot) => slot.1 = v,
                    None => entries.push((k, v)),
                }
            }
            Ok(Value::Dict(Rc::new(RefCell::new(entries))))
        }
        "get" if nargs == 3 => match &a[0] {
            Value::Dict(d) => {
                let found = d
                    .borrow()
                    .iter()
                    .find(|(k, _)| values_equal(k, &a[1]))
                    .map(|(_, v)| v.clone());
                Ok(found.unwrap_or_else(|| a[2].clone()))
            }
            Value::Func(_) | Value::Builtin(_) => {
                // get(f, d, k)
                if let Value::Dict(d) = &a[1] {
                    let found = d
                        .borrow()
                        .iter()
                        .find(|(k, _)| values_equal(k, &a[2]))
                        .map(|(_, v)| v.clone());
                    return match found {
                        Some(v) => Ok(v),
                        None => it.call_value(&a[0], vec![], vec![], span),
                    };
                }
                Err(bad(it))
            }
            Value::NT(..) | Value::Tuple(_) => {
                let r = it.getindex(&a[0], &[a[1].clone()], span);
                Ok(r.unwrap_or_else(|_| a[2].clone()))
            }
            _ => Err(bad(it)),
        },
        "haskey" if nargs == 2 => match &a[0] {
            Value::Dict(d) => Ok(Value::Bool(dict_pos(&d.borrow(), &a[1]).is_some())),
            Value::NT(ns, _) => Ok(Value::Bool(
                matches!(&a[1], Value::Sym(s) if ns.contains(s)),
            )),
            _ => Err(bad(it)),
        },
        "delete!" if nargs == 2 => match &a[0] {
            Value::Dict(d) => {
                d.borrow_mut().retain(|(k, _)| !values_equal(k, &a[1]));
                Ok(a[0].clone())
            }
            _ => Err(bad(it)),
        },
        "Ref" => Ok(Value::Ref(Rc::new(RefCell::new(
            a.first().cloned().unwrap_or(Value::Nothing),
        )))),
        "Pair" if nargs == 2 => Ok(Value::Pair(Rc::new((a[0].clone(), a[1].clone())))),
        "tuple" => Ok(Value::tuple(args.clone())),
        "ntuple" if nargs == 2 => {
            let k = to_usize(it, &a[1])?;
            let mut out = vec![];
            for i in 1..=k {
                out.push(it.call_value(&a[0], vec![Value::Int(i as i64)], vec![], span)?);
            }
            Ok(Value::tuple(out))
        }
        "merge" if nargs == 2 => match (&a[0], &a[1]) {
            (Value::NT(n1, v1), Value::NT(n2, v2)) => {
                let mut ns = n1.as_ref().clone();
                let mut vs = v1.as_ref().clone();
                for (k, v) in n2.iter().zip(v2.iter()) {
                    match ns.iter().position(|x| x == k) {
                        Some(i) => vs[i] = v.clone(),
                        None => {
                            ns.push(k.clone());
                            vs.push(v.clone());
                        }
                    }
                }
                Ok(Value::NT(Rc::new(ns), Rc::new(vs)))
            }
            _ => Err(bad(it)),
        },
        "string" => {
            let text: String = args.iter().map(to_display).collect();
            it.check_elements(text.len())?;
            Ok(Value::str(&text))
        }
        "repr" if nargs == 1 => Ok(Value::str(&show(&a[0]))),
        "println" | "print" | "display" | "show" | "flush" | "sizehint!" => Ok(Value::Nothing),
        "error" => {
            let msg: String = args.iter().map(to_display).collect();
            Err(it.error(msg))
        }
        "throw" if nargs == 1 => Err(Ctrl::Throw(a[0].clone())),
        "rethrow" => match a.first().cloned().or_else(|| it.cur_exc.last().cloned()) {
            Some(e) => Err(Ctrl::Throw(e)),
            None => Err(it.error("rethrow() not allowed outside a catch block")),
        },
        "ArgumentError" | "DimensionMismatch" | "ErrorException" | "KeyError" | "BoundsError"
        | "DomainError" => {
            let msg = match (name, a) {
                ("DomainError", [x]) => format!("DomainError with {}", to_display(x)),
                ("DomainError", [x, m, ..]) => {
                    format!("DomainError with {}:\n{}", to_display(x), to_display(m))
                }
                ("KeyError", [k]) => format!("KeyError: key {} not found", show(k)),
                ("ErrorException", [m]) => to_display(m),
                (_, [m]) => format!("{}: {}", name, to_display(m)),
                _ => name.to_string(),
            };
            Ok(Value::Exc(Rc::new(Exc {
                kind: name.to_string(),
                msg,
                zygote: None,
            })))
        }
        "isa" if nargs == 2 => {
            let t = match &a[1] {
                Value::Type(t) => t.clone(),
                _ => return Err(bad(it)),
            };
            let base = t.split('{').next().unwrap_or("");
            let ty = if base == "Any" {
                super::ir::Ty::Any
            } else {
                super::ir::Ty::Named(nm(base))
            };
            Ok(Value::Bool(it.ty_score(&ty, &a[0]).is_some()))
        }
        "typeof" if nargs == 1 => Ok(Value::Type(nm(&type_name(&a[0])))),
        "eltype" if nargs == 1 => Ok(Value::Type(nm(match &a[0] {
            Value::Arr(x) => x.borrow().elty.julia(),
            Value::Range(..) => "Int64",
            _ => "Any",
        }))),
        "convert" if nargs == 2 => match &a[0] {
            Value::Type(t) => construct(it, &t.clone(), vec![a[1].clone()], vec![], span),
            _ => Err(bad(it)),
        },
        "getfield" | "getproperty" if nargs == 2 => match &a[1] {
            Value::Sym(s) => it.getfield(&a[0], &s.clone(), span),
            Value::Int(i) => match &a[0] {
                Value::Struct(o) => o
                    .fields
                    .borrow()
                    .get(*i as usize - 1)
                    .cloned()
                    .ok_or_else(|| bad(it)),
                other => it.getindex(other, &[Value::Int(*i)], span),
            },
            _ => Err(bad(it)),
        },
        "setfield!" | "setproperty!" if nargs == 3 => match &a[1] {
            Value::Sym(s) => {
                it.setfield(&a[0], &s.clone(), a[2].clone())?;
                Ok(a[2].clone())
            }
            _ => Err(bad(it)),
        },
        "hasproperty" if nargs == 2 => Ok(Value::Bool(match (&a[0], &a[1]) {
            (Value::Struct(o), Value::Sym(s)) => o.def.fields.contains(s),
            (Value::NT(ns, _), Value::Sym(s)) => ns.contains(s),
            _ => false,
        })),
        "propertynames" | "fieldnames" if nargs == 1 => match &a[0] {
            Value::Struct(o) => Ok(Value::tuple(
                o.def.fields.iter().map(|f| Value::Sym(f.clone())).collect(),
            )),
            Value::NT(ns, _) => Ok(Value::tuple(
                ns.iter().map(|f| Value::Sym(f.clone())).collect(),
            )),
            Value::Type(t) => match it.structs.get(t) {
                Some(sd) => Ok(Value::tuple(
                    sd.fields.iter().map(|f| Value::Sym(f.clone())).collect(),
                )),
                None => Err(bad(it)),
            },
            _ => Err(bad(it)),
        },
        "step" if nargs == 1 => match &a[0] {
            Value::Range(_, s, _) => Ok(Value::Int(*s)),
            _ => Err(bad(it)),
        },
        "range" => {
            let start = a.first().cloned().unwrap_or(Value::Int(1));
            let stop = kwarg(&kw, "stop").cloned().or_else(|| a.get(1).cloned());
            let len = kwarg(&kw, "length").cloned();
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
                (Some(stop), None) => make_range(it, &start, kwarg(&kw, "step"), &stop),
                _ => Err(it.unsupported("range form", span)),
            }
        }
        "unique" if nargs == 1 => {
            let items = it.iterate(&a[0])?;
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
        "eachcol" | "eachrow" if nargs == 1 => {
            let (r, c, d) = as_matrix_parts(&a[0]);
            let t = promote_elty(&d);
            let out: Vec<Value> = if name == "eachcol" {
                (0..c)
                    .map(|j| Value::arr(vec![r], (0..r).map(|i| d[i + j * r].clone()).collect(), t))
                    .collect()
            } else {
                (0..r)
                    .map(|i| Value::arr(vec![c], (0..c).map(|j| d[i + j * r].clone()).collect(), t))
                    .collect()
            };
            let n = out.len();
            Ok(Value::arr(vec![n], out, ElTy::Any))
        }
        "broadcast" if nargs >= 1 => it.broadcast(&a[0], a[1..].to_vec(), span),
        "identity" if nargs == 1 => Ok(a[0].clone()),
        "NoTangent" | "ZeroTangent" => Ok(Value::NoTangent),
        "unthunk" if nargs == 1 => Ok(a[0].clone()),
        "Symbol" => Ok(Value::Sym(nm(&args
            .iter()
            .map(to_display)
            .collect::<String>()))),
        "time" => {
            // time() = ccall(:jl_clock_now, Float64, ()) in Base: a foreigncall for Zygote
            it.event(
                span,
                "Can't differentiate foreigncall expression $(Expr(:foreigncall, :(:jl_clock_now), Float64, svec(), 0, :(:ccall))).".to_string(),
            );
            Ok(Value::F(1.0e9))
        }
        "time_ns" => Ok(Value::Int(1_000_000_000)),
        "__new" if nargs >= 1 => match &a[0] {
            Value::Sym(t) => construct(it, &t.clone(), a[1..].to_vec(), kw, span),
            _ => Err(bad(it)),
        },
        "include" if nargs == 1 => {
            let p = to_display(&a[0]);
            super::include(it, &p, span)
        }
        // ---------------------------------------------------------- AD API
        "gradient" | "withgradient" | "pullback" | "jacobian" | "hessian" => {
            super::entry::entry_call(it, name, args, span)
        }
        "ignore_derivatives" | "ignore" | "dropgrad" if nargs == 1 => {
            let is_fn = matches!(a[0], Value::Func(_) | Value::Builtin(_));
            if is_fn && name != "dropgrad" {
                let saved = it.suspend();
                let r = it.call_value(&a[0], vec![], vec![], span);
                it.resume(saved);
                Ok(r?.primal())
            } else {
                Ok(a[0].primal())
            }
        }
        "forwarddiff" | "checkpointed" if nargs >= 2 => {
            if name == "forwarddiff" {
                // ForwardDiff: not traversed by Zygote (no events), gradient still correct
                let saved = it.rec_events;
                it.rec_events = false;
                let r = it.call_value(&a[0], a[1..].to_vec(), vec![], span);
                it.rec_events = saved;
                r
            } else {
                it.call_value(&a[0], a[1..].to_vec(), vec![], span)
            }
        }
        "Buffer" | "bufferfrom" if nargs >= 1 => {
            let arr = if name == "bufferfrom" {
                call_builtin(it, &nm("copy"), vec![a[0].clone()], vec![], span)?
            } else {
                call_builtin(it, &nm("similar"), args.clone(), vec![], span)?
            };
            Ok(Value::Buffer(Rc::new(RefCell::new(BufferVal {
                arr,
                frozen: false,
            }))))
        }
        _ => Err(if is_builtin(name) {
            bad(it)
        } else {
            it.unsupported(&format!("function {name}"), span)
        }),
    }
}
