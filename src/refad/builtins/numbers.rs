//! Numbers: arithmetic, comparison, logic and the one-argument math functions.
//!
//! Each scalar primitive records its partial derivatives on the tape. [`UNARY`] is the table
//! of one-argument functions with their derivatives; the registry registers every name in it.

use super::super::interp::{Ctrl, Interp, R};
use super::super::ir::Span;
use super::super::value::*;
use super::{nm, size_of, Builtin, Call};
use crate::name::FastMap;
use std::rc::Rc;
use std::sync::OnceLock;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["+", "-", "*", "/", "^", "\\", "÷", "div", "%", "rem", "mod"],
        call: arithmetic,
    },
    Builtin {
        names: &[
            "<", ">", "<=", ">=", "==", "!=", "≤", "≥", "≠", "===", "!==", "isless", "isequal",
        ],
        call: comparison,
    },
    Builtin {
        names: &["!"],
        call: not,
    },
    Builtin {
        names: &["xor"],
        call: xor,
    },
    Builtin {
        names: &["max", "min"],
        call: max_min,
    },
    Builtin {
        names: &["minmax"],
        call: minmax,
    },
    Builtin {
        names: &["clamp"],
        call: clamp,
    },
    Builtin {
        names: &["ifelse"],
        call: ifelse,
    },
    Builtin {
        names: &["zero", "one"],
        call: zero_one,
    },
    Builtin {
        names: &["isnan", "isinf", "isfinite", "iszero"],
        call: float_class,
    },
];

/// A one-argument function and its derivative `d(x, y)`, given the argument and the result.
pub(super) type Unary = (fn(f64) -> f64, fn(f64, f64) -> f64);

/// One row of [`UNARY`]: the names, the function, its derivative.
type UnaryRow = (&'static [&'static str], fn(f64) -> f64, fn(f64, f64) -> f64);

/// The one-argument math functions: names, value, derivative `d(x, y)` with `y = f(x)`.
pub(super) const UNARY: &[UnaryRow] = &[
    (&["exp"], f64::exp, |_, y| y),
    (&["log"], f64::ln, |x, _| 1.0 / x),
    (&["log2"], f64::log2, |x, _| {
        1.0 / (x * std::f64::consts::LN_2)
    }),
    (&["log10"], f64::log10, |x, _| {
        1.0 / (x * std::f64::consts::LN_10)
    }),
    (&["log1p"], f64::ln_1p, |x, _| 1.0 / (1.0 + x)),
    (&["expm1"], f64::exp_m1, |x, _| x.exp()),
    (
        &["exp10"],
        |x| 10f64.powf(x),
        |_, y| y * std::f64::consts::LN_10,
    ),
    (&["sin"], f64::sin, |x, _| x.cos()),
    (&["cos"], f64::cos, |x, _| -x.sin()),
    (&["tan"], f64::tan, |_, y| 1.0 + y * y),
    (&["tanh"], f64::tanh, |_, y| 1.0 - y * y),
    (&["sinh"], f64::sinh, |x, _| x.cosh()),
    (&["cosh"], f64::cosh, |x, _| x.sinh()),
    (&["asin"], f64::asin, |x, _| 1.0 / (1.0 - x * x).sqrt()),
    (&["acos"], f64::acos, |x, _| -1.0 / (1.0 - x * x).sqrt()),
    (&["atan"], f64::atan, |x, _| 1.0 / (1.0 + x * x)),
    (&["asinh"], f64::asinh, |x, _| 1.0 / (x * x + 1.0).sqrt()),
    (&["acosh"], f64::acosh, |x, _| 1.0 / (x * x - 1.0).sqrt()),
    (&["atanh"], f64::atanh, |x, _| 1.0 / (1.0 - x * x)),
    (&["sqrt", "√"], f64::sqrt, |_, y| 0.5 / y),
    (&["cbrt"], f64::cbrt, |_, y| 1.0 / (3.0 * y * y)),
    (&["abs"], f64::abs, |x, _| if x >= 0.0 { 1.0 } else { -1.0 }),
    (&["abs2"], |x| x * x, |x, _| 2.0 * x),
    (&["inv"], |x| 1.0 / x, |x, _| -1.0 / (x * x)),
    (
        &["sigmoid", "σ"],
        |x| 1.0 / (1.0 + (-x).exp()),
        |_, y| y * (1.0 - y),
    ),
    (
        &["relu"],
        |x| x.max(0.0),
        |x, _| if x > 0.0 { 1.0 } else { 0.0 },
    ),
    (
        &["softplus"],
        |x| if x > 30.0 { x } else { x.exp().ln_1p() },
        |x, _| 1.0 / (1.0 + (-x).exp()),
    ),
    (&["identity"], |x| x, |_, _| 1.0),
    (&["float"], |x| x, |_, _| 1.0),
    (&["round"], f64::round_ties_even, |_, _| 0.0),
    (&["floor"], f64::floor, |_, _| 0.0),
    (&["ceil"], f64::ceil, |_, _| 0.0),
    (&["trunc"], f64::trunc, |_, _| 0.0),
    (
        &["sign"],
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
];

/// Whether Julia's real method of the one-argument math function `n` throws a
/// `DomainError` at `x` (NaN passes through, as in Julia).
fn outside_domain(n: &str, x: f64) -> bool {
    match n {
        "sqrt" | "√" | "log" | "log2" | "log10" => x < 0.0,
        "log1p" => x < -1.0,
        "asin" | "acos" | "atanh" => x.abs() > 1.0,
        "acosh" => x < 1.0,
        _ => false,
    }
}

pub(super) fn unary_table(n: &str) -> Option<Unary> {
    static TABLE: OnceLock<FastMap<&'static str, Unary>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let mut t = FastMap::default();
            for &(names, f, d) in UNARY {
                for &name in names {
                    t.insert(name, (f, d));
                }
            }
            t
        })
        .get(n)
        .copied()
}

/// The builtin of every name in [`UNARY`]: `f(x)` for a number, and `round(Int, x)` and its
/// kin for the rounding functions.
pub(super) fn unary_builtin(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    match c.args.as_slice() {
        [x @ Value::Arr(_)] if name == "inv" => it.inv_matrix(x, c.span),
        [x @ Value::Arr(a)] if matches!(name, "float" | "identity") => {
            if name == "identity" {
                return Ok(x.clone());
            }
            let (dims, data, elty) = {
                let a = a.borrow();
                (a.dims.clone(), a.data.clone(), a.elty)
            };
            match elty {
                ElTy::F64 | ElTy::F32 => Ok(x.clone()),
                ElTy::I64 | ElTy::Bool => Ok(Value::arr(
                    dims,
                    data.into_iter().map(|v| convert_el(v, ElTy::F64)).collect(),
                    ElTy::F64,
                )),
                ElTy::Any => {
                    let mut out = vec![];
                    for v in &data {
                        out.push(it.unary("float", v)?);
                    }
                    let t = promote_elty(&out);
                    Ok(Value::arr(dims, out, t))
                }
            }
        }
        [x @ Value::Arr(a)]
            if a.borrow().dims.len() == 2 && a.borrow().dims[0] == a.borrow().dims[1] =>
        {
            // exp, log, sqrt, sin, ... of a square matrix are matrix functions in Julia
            Err(it.unsupported(
                &format!("the matrix function {name}(::{})", type_name(x)),
                c.span,
            ))
        }
        [Value::Arr(_)] => Err(it.throw(
            "MethodError",
            format!(
                "MethodError: no method matching {}(::{})",
                name,
                type_name(&c.args[0])
            ),
        )),
        [x] => it.unary(name, x),
        [Value::Type(t), x] if matches!(name, "round" | "floor" | "ceil" | "trunc") => {
            // round(Int, x): the rounded float converted as `Int(x)` converts (1e30 and NaN
            // are InexactErrors); round(Float64, x) stays a float.
            let v = x.as_f64().ok_or_else(|| c.no_method(it))?;
            let f = unary_table(name).map(|t| t.0).unwrap_or(f64::round);
            match t.as_ref() {
                "Float64" | "Float32" => Ok(Value::F(f(v))),
                "Int" | "Int64" | "Int32" => super::to_int(it, t, &Value::F(f(v))),
                _ => Err(c.no_method(it)),
            }
        }
        _ => Err(c.no_method(it)),
    }
}

fn arithmetic(it: &mut Interp, c: Call) -> R<Value> {
    let (name, a): (&str, &[Value]) = (c.name, &c.args);
    if name == "^" {
        if let [Value::Arr(_), _] = a {
            return Err(it.unsupported("matrix power", c.span));
        }
    }
    it.math_op(name, a, c.span)
}

fn comparison(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    match c.args.as_slice() {
        // NaN after every number, -0.0 before 0.0: not `<`.
        [x, y] if name == "isless" => Ok(Value::Bool(it.isless(x, y)?)),
        [x, y] if name == "isequal" => Ok(Value::Bool(it.values_isequal(x, y)?)),
        [x, y] => it.compare(name, x, y),
        _ => Err(c.no_method(it)),
    }
}

fn not(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Bool(b)] => Ok(Value::Bool(!b)),
        _ => Err(c.no_method(it)),
    }
}

fn xor(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Bool(x), Value::Bool(y)] => Ok(Value::Bool(x ^ y)),
        _ => Err(c.no_method(it)),
    }
}

fn max_min(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.len() < 2 {
        return Err(c.no_method(it));
    }
    let mut acc = a[0].clone();
    for x in &a[1..] {
        acc = it.arith(c.name, &acc, x)?;
    }
    Ok(acc)
}

fn minmax(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, y] => {
            let lo = it.arith("min", x, y)?;
            let hi = it.arith("max", x, y)?;
            Ok(Value::tuple(vec![lo, hi]))
        }
        _ => Err(c.no_method(it)),
    }
}

fn clamp(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, lo, hi] => {
            let lo = it.arith("max", x, lo)?;
            it.arith("min", &lo, hi)
        }
        _ => Err(c.no_method(it)),
    }
}

fn ifelse(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [cond, x, y] => {
            if it.truthy(cond)? {
                Ok(x.clone())
            } else {
                Ok(y.clone())
            }
        }
        _ => Err(c.no_method(it)),
    }
}

fn zero_one(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let one = c.name.as_ref() == "one";
    Ok(match x {
        Value::Int(_) | Value::Bool(_) => Value::Int(one as i64),
        Value::Type(t) if t.starts_with("Int") => Value::Int(one as i64),
        Value::Arr(x) if !one => {
            let x = x.borrow();
            Value::arr(x.dims.clone(), vec![Value::F(0.0); x.data.len()], ElTy::F64)
        }
        _ => Value::F(one as i64 as f64),
    })
}

fn float_class(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let x = x.as_f64().ok_or_else(|| c.no_method(it))?;
    Ok(Value::Bool(match c.name.as_ref() {
        "isnan" => x.is_nan(),
        "isinf" => x.is_infinite(),
        "isfinite" => x.is_finite(),
        _ => x == 0.0,
    }))
}

impl Interp {
    /// Julia's operators on characters and strings: `*` joins strings and characters, `^`
    /// repeats one, a character plus or minus an integer is a character, and the
    /// difference of two characters is an integer. `None` for other operands.
    fn text_op(&self, op: &str, a: &Value, b: &Value) -> R<Option<Value>> {
        let text = |v: &Value| match v {
            Value::Str(s) => Some(format!("{s}")),
            Value::Char(c) => Some(c.to_string()),
            _ => None,
        };
        let char_at = |code: i64, what: &str| {
            u32::try_from(code)
                .ok()
                .and_then(char::from_u32)
                .map(|c| Some(Value::Char(c)))
                .ok_or_else(|| {
                    self.unsupported_here(&format!(
                        "{what}: a character outside Unicode's scalar values"
                    ))
                })
        };
        Ok(match (op, a, b) {
            ("*", _, _) => {
                let (Some(x), Some(y)) = (text(a), text(b)) else {
                    return Ok(None);
                };
                self.check_text(x.len().saturating_add(y.len()))?;
                Some(Value::str(&(x + &y)))
            }
            ("^", Value::Str(_) | Value::Char(_), Value::Int(n)) => {
                let x = text(a).unwrap_or_default();
                let Ok(times) = usize::try_from(*n) else {
                    let what = if matches!(a, Value::Char(_)) {
                        "character"
                    } else {
                        "string"
                    };
                    return Err(self.throw(
                        "ArgumentError",
                        format!("ArgumentError: can't repeat a {what} {n} times"),
                    ));
                };
                self.check_text(x.len().saturating_mul(times))?;
                Some(Value::str(&x.repeat(times)))
            }
            ("+", Value::Char(c), Value::Int(n)) | ("+", Value::Int(n), Value::Char(c)) => {
                char_at((*c as i64).saturating_add(*n), "Char + Int")?
            }
            ("-", Value::Char(c), Value::Int(n)) => {
                char_at((*c as i64).saturating_sub(*n), "Char - Int")?
            }
            ("-", Value::Char(c), Value::Char(d)) => Some(Value::Int(*c as i64 - *d as i64)),
            _ => None,
        })
    }

    /// Julia's `MethodError` for an operator applied to these values.
    fn no_method_of(&self, op: &str, args: &[Value]) -> Ctrl {
        let types: Vec<String> = args.iter().map(|a| format!("::{}", type_name(a))).collect();
        self.throw(
            "MethodError",
            format!("MethodError: no method matching {op}({})", types.join(", ")),
        )
    }

    /// Julia's `MethodError` for a binary operator on these two values.
    pub(super) fn no_binary_method(&self, op: &str, a: &Value, b: &Value) -> Ctrl {
        self.throw(
            "MethodError",
            format!(
                "MethodError: no method matching {op}(::{}, ::{})",
                type_name(a),
                type_name(b)
            ),
        )
    }

    pub fn domain_error(&self, x: f64, fname: &str) -> Ctrl {
        // Julia's messages (base/math.jl `throw_complex_domainerror`, base/special/trig.jl,
        // base/special/hyperbolic.jl).
        let tail = match fname {
            "sqrt" | "log" | "log2" | "log10" => format!("{fname} was called with a negative real argument but will only return a complex result if called with a complex argument. Try {fname}(Complex(x))."),
            "log1p" => "log1p was called with a real argument < -1 but will only return a complex result if called with a complex argument. Try log1p(Complex(x)).".to_string(),
            "asin" => "asin(x) is not defined for |x| > 1.".to_string(),
            "acos" => "acos(x) not defined for |x| > 1".to_string(),
            "acosh" => "acosh(x) is only defined for x ≥ 1.".to_string(),
            "atanh" => "atanh(x) is only defined for |x| ≤ 1.".to_string(),
            _ => String::new(),
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
        if outside_domain(n, xf) {
            return Err(self.domain_error(xf, if n == "√" { "sqrt" } else { n }));
        }
        let (f, d) = match unary_table(n) {
            Some(t) => t,
            None => return Err(self.unsupported_here(&format!("the function {n} of a number"))),
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
            // Exact: through a float, integers past 2^53 lost their low bits.
            let int = |v: &Value| match v {
                Value::Int(i) => *i,
                Value::Bool(b) => *b as i64,
                _ => 0,
            };
            let (x, y) = (int(a), int(b));
            let div0 = || self.throw("DivideError", "DivideError: integer division error");
            return Ok(match op {
                "+" => Value::Int(x.wrapping_add(y)),
                "-" => Value::Int(x.wrapping_sub(y)),
                "*" => Value::Int(x.wrapping_mul(y)),
                "/" => Value::F(x as f64 / y as f64),
                // Julia: `typemin(Int) ÷ -1` is a DivideError, its `rem` and `mod` are 0.
                "÷" | "div" => Value::Int(x.checked_div(y).ok_or_else(div0)?),
                "%" | "rem" => {
                    if y == 0 {
                        return Err(div0());
                    }
                    Value::Int(x.checked_rem(y).unwrap_or(0))
                }
                "mod" => {
                    if y == 0 {
                        return Err(div0());
                    }
                    let r = x.checked_rem(y).unwrap_or(0);
                    // The sign of the divisor.
                    Value::Int(if r != 0 && (r < 0) != (y < 0) {
                        r + y
                    } else {
                        r
                    })
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
                _ => return Err(self.unsupported_here(&format!("the operator {op} on integers"))),
            });
        }
        let (x, y) = match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(self.no_binary_method(op, a, b)),
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
            _ => return Err(self.unsupported_here(&format!("the operator {op} on numbers"))),
        };
        if tracked {
            self.rec(v, &[(a, da), (b, db)])
        } else {
            Ok(Value::F(v))
        }
    }

    pub(super) fn compare(&mut self, op: &str, a: &Value, b: &Value) -> R<Value> {
        let r = match op {
            "==" => self.values_equal(a, b)?,
            "!=" | "≠" => !self.values_equal(a, b)?,
            "===" => identical(self, a, b, 0, &mut Default::default())?,
            "!==" => !identical(self, a, b, 0, &mut Default::default())?,
            _ => {
                let (x, y) = match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => (x, y),
                    // Anything else is ordered by `isless`, as Julia's fallbacks do
                    // (strings, characters, tuples, vectors).
                    _ => {
                        let r = match op {
                            "<" => self.isless(a, b)?,
                            ">" => self.isless(b, a)?,
                            "<=" | "≤" => self.isless(a, b)? || self.values_equal(a, b)?,
                            _ => self.isless(b, a)? || self.values_equal(a, b)?,
                        };
                        return Ok(Value::Bool(r));
                    }
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
    pub(super) fn math_op(&mut self, op: &str, args: &[Value], span: Span) -> R<Value> {
        if args.len() == 1 {
            let x = &args[0];
            return match (op, x) {
                ("-", Value::Arr(_)) => self.map_arr(x, |it, v| it.arith("-", &Value::Int(0), &v)),
                ("-", Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
                ("-", _) => {
                    let Some(xf) = x.as_f64() else {
                        return Err(self.no_method_of(op, args));
                    };
                    self.rec(-xf, &[(x, -1.0)])
                }
                ("+", _) if x.is_num() || matches!(x, Value::Arr(_) | Value::Range(..)) => {
                    Ok(x.clone())
                }
                ("+", _) => Err(self.no_method_of(op, args)),
                _ => Err(self.unsupported(&format!("unary {op}"), span)),
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
            return Err(self.no_method_of(op, args));
        }
        let (a, b) = (&args[0], &args[1]);
        let a_arr = matches!(a, Value::Arr(_) | Value::Range(..));
        let b_arr = matches!(b, Value::Arr(_) | Value::Range(..));
        if let Some(r) = self.text_op(op, a, b)? {
            return Ok(r);
        }
        if let Some(r) = self.uniform_op(op, a, b, span)? {
            return Ok(r);
        }
        if !a_arr && !b_arr {
            // Left division of numbers: `x \ y == y / x`.
            if op == "\\" {
                return self.arith("/", b, a);
            }
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
            "\\" if a_arr || a.is_num() => self.solve(a, b, span),
            // `A / B` of arrays is a least-squares solve in Julia.
            "/" if a_arr && b_arr => Err(self.unsupported("right division by an array", span)),
            _ => Err(self.no_binary_method(op, a, b)),
        }
    }
}

/// Julia's `===`: mutable values (arrays, dictionaries, mutable structs, `Ref`s) by
/// identity; numbers by type and bits (`NaN === NaN`, `-0.0 !== 0.0`, `1 !== 1.0`,
/// `true !== 1`); immutable ones (tuples, named tuples, pairs, immutable structs) by `===`
/// of their parts, so `([1],) === ([1],)` is false and `(NaN,) === (NaN,)` true; the rest
/// by `==`. `same` holds the pairs of immutable values found identical in this walk, so a
/// tuple doubled in a loop is walked once per tuple.
fn identical(
    it: &Interp,
    a: &Value,
    b: &Value,
    depth: u32,
    same: &mut std::collections::HashSet<(usize, usize)>,
) -> R<bool> {
    if depth > 1000 {
        return Err(crate::refad::Ctrl::Stop(
            "unsupported in the reference interpreter: === of values nested deeper than 1000"
                .into(),
        ));
    }
    it.charge(1)?;
    let mut all = |xs: &[Value], ys: &[Value], key: (usize, usize)| -> R<bool> {
        if key.0 == key.1 || same.contains(&key) {
            return Ok(true);
        }
        if xs.len() != ys.len() {
            return Ok(false);
        }
        for (x, y) in xs.iter().zip(ys) {
            if !identical(it, x, y, depth + 1, same)? {
                return Ok(false);
            }
        }
        same.insert(key);
        Ok(true)
    };
    let addr = |p: *const Items| p as usize;
    Ok(match (a, b) {
        (Value::Arr(x), Value::Arr(y)) => Rc::ptr_eq(x, y),
        (Value::Dict(x), Value::Dict(y)) => Rc::ptr_eq(x, y),
        (Value::Ref(x), Value::Ref(y)) => Rc::ptr_eq(x, y),
        (Value::Struct(x), Value::Struct(y)) if x.def.mutable || y.def.mutable => Rc::ptr_eq(x, y),
        (Value::Struct(x), Value::Struct(y)) => {
            let key = (Rc::as_ptr(x) as usize, Rc::as_ptr(y) as usize);
            Rc::ptr_eq(&x.def, &y.def) && all(&x.fields.borrow(), &y.fields.borrow(), key)?
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            all(x, y, (addr(Rc::as_ptr(x)), addr(Rc::as_ptr(y))))?
        }
        (Value::NT(n, x), Value::NT(m, y)) => {
            n == m && all(x, y, (addr(Rc::as_ptr(x)), addr(Rc::as_ptr(y))))?
        }
        (Value::Pair(p), Value::Pair(q)) => {
            identical(it, &p.0, &q.0, depth + 1, same)?
                && identical(it, &p.1, &q.1, depth + 1, same)?
        }
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        // By their bits, as Julia: `NaN === NaN`, `-0.0 !== 0.0`.
        (Value::F(_) | Value::T(..), Value::F(_) | Value::T(..)) => {
            a.as_f64().map(f64::to_bits) == b.as_f64().map(f64::to_bits)
        }
        // Numbers of different types are never `===`.
        (x, y) if x.is_num() && y.is_num() => false,
        _ => it.values_equal(a, b)?,
    })
}
