//! Types, fields and properties: `isa`, `typeof`, `eltype`, `convert`, `getfield`,
//! `setproperty!`, `propertynames`, `isnothing`, `__new` (what `new(...)` lowers to), and the
//! prelude's helpers `__namedtuple`, `__unsupported`, `__within_gradient`, `__forward_pass`.

use super::super::interp::{Interp, R};
use super::super::ir::{Name, Ty};
use super::super::value::*;
use super::{construct, nm, unmodelled, Builtin, Call};
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["isa"],
        call: isa,
    },
    Builtin {
        names: &["typeof"],
        call: typeof_,
    },
    Builtin {
        names: &["eltype"],
        call: eltype,
    },
    Builtin {
        names: &["convert"],
        call: convert,
    },
    Builtin {
        names: &["isnothing"],
        call: isnothing,
    },
    Builtin {
        names: &["getfield", "getproperty"],
        call: getfield,
    },
    Builtin {
        names: &["setfield!", "setproperty!"],
        call: setfield,
    },
    Builtin {
        names: &["hasproperty"],
        call: hasproperty,
    },
    Builtin {
        names: &["propertynames", "fieldnames"],
        call: propertynames,
    },
    Builtin {
        names: &["__new"],
        call: new,
    },
    Builtin {
        names: &["__namedtuple"],
        call: named_tuple,
    },
    Builtin {
        names: &["__unsupported"],
        call: |it, c| {
            let what = c.args.first().map(to_display).unwrap_or_default();
            Err(it.unsupported(&what, c.span))
        },
    },
    Builtin {
        names: &["__within_gradient"],
        call: |_, _| Ok(Value::Bool(super::zygote::within_gradient())),
    },
    Builtin {
        // false in the finite-difference evaluations an entry adds (they run untracked), so
        // that prelude state (BatchNorm's running statistics) changes once per entry call
        names: &["__forward_pass"],
        call: |it, _| Ok(Value::Bool(it.tape.is_some())),
    },
    Builtin {
        names: &["Float64", "Int", "nfields", "nothing"],
        call: unmodelled,
    },
];

fn isa(it: &mut Interp, c: Call) -> R<Value> {
    let (x, t) = match c.args.as_slice() {
        [x, Value::Type(t)] => (x, t),
        // An exception type that is also its constructor: `e isa BoundsError`.
        [x, Value::Builtin(t)] if super::errors::is_exception_type(t) => (x, t),
        _ => return Err(c.no_method(it)),
    };
    let base = t.split('{').next().unwrap_or("");
    let ty = if base == "Any" {
        Ty::Any
    } else {
        Ty::Named(nm(base))
    };
    Ok(Value::Bool(it.ty_score(&ty, x).is_some()))
}

fn typeof_(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::Type(nm(&type_name(x)))),
        _ => Err(c.no_method(it)),
    }
}

fn eltype(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::Type(nm(match x {
            Value::Arr(x) => x.borrow().elty.julia(),
            Value::Range(..) => "Int64",
            _ => "Any",
        }))),
        _ => Err(c.no_method(it)),
    }
}

fn convert(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Type(t), x] => construct(it, &t.clone(), vec![x.clone()], vec![], c.span),
        _ => Err(c.no_method(it)),
    }
}

fn isnothing(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::Bool(matches!(x, Value::Nothing))),
        _ => Err(c.no_method(it)),
    }
}

/// `getfield(x, :f)`, `getproperty(x, :f)`, and by position `getfield(x, i)`.
fn getfield(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, Value::Sym(s)] => it.getfield(x, &s.clone(), c.span),
        [Value::Struct(o), Value::Int(i)] => o
            .fields
            .borrow()
            .get(*i as usize - 1)
            .cloned()
            .ok_or_else(|| c.no_method(it)),
        [other, Value::Int(i)] => it.getindex(other, &[Value::Int(*i)], c.span),
        _ => Err(c.no_method(it)),
    }
}

fn setfield(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, Value::Sym(s), v] => {
            it.setfield(x, &s.clone(), v.clone())?;
            Ok(v.clone())
        }
        _ => Err(c.no_method(it)),
    }
}

fn hasproperty(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x, name] => Ok(Value::Bool(match (x, name) {
            (Value::Struct(o), Value::Sym(s)) => o.def.fields.contains(s),
            (Value::NT(ns, _), Value::Sym(s)) => ns.contains(s),
            _ => false,
        })),
        _ => Err(c.no_method(it)),
    }
}

fn propertynames(it: &mut Interp, c: Call) -> R<Value> {
    let syms = |fields: &[super::super::ir::Name]| {
        Value::tuple(fields.iter().map(|f| Value::Sym(f.clone())).collect())
    };
    match c.args.as_slice() {
        [Value::Struct(o)] => Ok(syms(&o.def.fields)),
        [Value::NT(ns, _)] => Ok(syms(ns)),
        [Value::Type(t)] => match it.structs.get(t) {
            Some(sd) => Ok(syms(&sd.fields)),
            None => Err(c.no_method(it)),
        },
        _ => Err(c.no_method(it)),
    }
}

/// `new(...)` inside a constructor.
/// `__namedtuple(names, values)`: the prelude's `NamedTuple{names}(values)` (Lux parameters).
fn named_tuple(it: &mut Interp, c: Call) -> R<Value> {
    let [names, vals] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let names = it.iterate(names)?;
    let vals = it.iterate(vals)?;
    if names.len() != vals.len() {
        return Err(c.no_method(it));
    }
    let names: Vec<Name> = names.iter().map(|n| nm(&to_display(n))).collect();
    Ok(Value::nt(Rc::new(names), vals.into_vec()))
}

fn new(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [Value::Sym(t) | Value::Type(t), rest @ ..] => {
            let (t, rest) = (t.clone(), rest.to_vec());
            construct(it, &t, rest, c.forward_kw(), c.span)
        }
        _ => Err(c.no_method(it)),
    }
}
