//! Randomness: `rand`, `randn` (scalars, arrays, picks from a collection), `rand!`, `randn!`,
//! `Random.seed!` and the generators, which all stand for the one interpreter generator
//! (splitmix64, seeded with [`super::super::interp::RNG_SEED`]; Box-Muller for `randn`).

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{dims_from, nm, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["default_rng", "MersenneTwister", "Xoshiro"],
        call: |_, _| Ok(Value::Sym(nm("__rng"))),
    },
    Builtin {
        names: &["rand", "randn"],
        call: rand,
    },
    Builtin {
        names: &["seed!"],
        call: seed,
    },
    Builtin {
        names: &["rand!", "randn!"],
        call: rand_into,
    },
];

/// `rand()`, `rand(dims...)`, `rand(Float32, dims...)`, `rand(collection)`, with an optional
/// generator first; the same for `randn`.
fn rand(it: &mut Interp, c: Call) -> R<Value> {
    let normal = c.name.as_ref() == "randn";
    let a: &[Value] = match c.args.first() {
        Some(Value::Sym(s)) if s.as_ref() == "__rng" => &c.args[1..],
        _ => &c.args,
    };
    let (rest, elty): (&[Value], ElTy) = match a.first() {
        Some(Value::Type(t)) if t.as_ref() == "Float32" => (&a[1..], ElTy::F32),
        Some(Value::Type(_)) => (&a[1..], ElTy::F64),
        _ => (a, ElTy::F64),
    };
    // `rand(collection)`: one of its elements (of a range without making it: `rand(1:n)`).
    let len = match rest {
        [Value::Range(a, s, b)] => Some(super::range_len(*a, *s, *b)),
        [Value::Arr(x)] => Some(x.borrow().data.len()),
        _ => None,
    };
    if let Some(len) = len {
        if len == 0 {
            return Err(it.throw(
                "ArgumentError",
                "ArgumentError: collection must be non-empty",
            ));
        }
        let k = (it.rand_u64() % len as u64) as usize;
        return Ok(match &rest[0] {
            Value::Range(a, s, _) => super::range_item(*a, *s, k),
            Value::Arr(x) => x.borrow().data[k].clone(),
            _ => unreachable!("only a range or an array has a length here"),
        });
    }
    if rest.is_empty() {
        return Ok(Value::F(if normal {
            it.randn_f64()
        } else {
            it.rand_f64()
        }));
    }
    let dims = dims_from(it, rest)?;
    let n = super::element_count(it, &dims)?;
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

fn seed(it: &mut Interp, c: Call) -> R<Value> {
    let s = c.args.last().and_then(|v| v.as_f64()).unwrap_or(0.0) as u64;
    it.rng = super::super::interp::RNG_SEED ^ s;
    Ok(Value::Nothing)
}

fn rand_into(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    if let Value::Arr(arr) = x {
        let n = arr.borrow().data.len();
        let data: Vec<Value> = (0..n)
            .map(|_| {
                Value::F(if c.name.as_ref() == "randn!" {
                    it.randn_f64()
                } else {
                    it.rand_f64()
                })
            })
            .collect();
        arr.borrow_mut().data = data;
    }
    Ok(x.clone())
}

impl Interp {
    pub(super) fn rand_u64(&mut self) -> u64 {
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
}
