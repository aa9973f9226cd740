//! The Zygote / ChainRules API: `gradient`, `withgradient`, `pullback`, `jacobian`,
//! `hessian` (see `entry.rs`), `ignore_derivatives`, `dropgrad`, `forwarddiff`,
//! `checkpointed`, `Buffer`, and the tangent types.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{call_builtin, nm, unmodelled, Builtin, Call};
use std::cell::RefCell;
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &[
            "gradient",
            "withgradient",
            "pullback",
            "jacobian",
            "hessian",
        ],
        call: entry,
    },
    Builtin {
        names: &["ignore_derivatives", "ignore", "dropgrad"],
        call: ignore_derivatives,
    },
    Builtin {
        names: &["forwarddiff", "checkpointed"],
        call: forwarddiff,
    },
    Builtin {
        names: &["Buffer", "bufferfrom"],
        call: buffer,
    },
    Builtin {
        names: &["NoTangent", "ZeroTangent"],
        call: |_, _| Ok(Value::NoTangent),
    },
    Builtin {
        names: &["unthunk"],
        call: unthunk,
    },
    Builtin {
        names: &["@thunk"],
        call: unmodelled,
    },
];

thread_local! {
    /// Entry calls running (their forward passes and finite differences included).
    static ENTRY_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether an entry call is running: NNlib's `within_gradient`, which Flux's `BatchNorm`
/// reads to choose training mode (the prelude's `__within_gradient`).
pub(super) fn within_gradient() -> bool {
    ENTRY_DEPTH.with(|d| d.get() > 0)
}

fn entry(it: &mut Interp, c: Call) -> R<Value> {
    ENTRY_DEPTH.with(|d| d.set(d.get() + 1));
    let r = super::super::entry::entry_call(it, c.name, c.args, c.span);
    ENTRY_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    r
}

/// `ignore_derivatives(f)` and `Zygote.ignore(f)` call `f` untraversed; with a value, and for
/// `dropgrad`, the value's primal.
fn ignore_derivatives(it: &mut Interp, c: Call) -> R<Value> {
    let [x] = c.args.as_slice() else {
        return Err(c.no_method(it));
    };
    let is_fn = matches!(x, Value::Func(_) | Value::Builtin(_));
    if is_fn && c.name.as_ref() != "dropgrad" {
        let saved = it.suspend();
        let r = it.call_value(x, vec![], vec![], c.span);
        it.resume(saved);
        Ok(r?.primal())
    } else {
        Ok(x.primal())
    }
}

/// `forwarddiff(f, x...)`: not traversed by Zygote (no events), the gradient still correct.
/// `checkpointed(f, x...)`: traversed as `f(x...)`.
fn forwarddiff(it: &mut Interp, c: Call) -> R<Value> {
    let a = c.args.as_slice();
    if a.len() < 2 {
        return Err(c.no_method(it));
    }
    if c.name.as_ref() == "forwarddiff" {
        // ForwardDiff runs `f` on arrays of dual numbers made from the input, so `f`
        // never writes into the caller's array.
        let mut args = Vec::with_capacity(a.len() - 1);
        for x in &a[1..] {
            args.push(match x {
                Value::Arr(_) => call_builtin(it, &nm("copy"), vec![x.clone()], vec![], c.span)?,
                other => other.clone(),
            });
        }
        let saved = it.rec_events;
        it.rec_events = false;
        let r = it.call_value(&a[0], args, vec![], c.span);
        it.rec_events = saved;
        r
    } else {
        it.call_value(&a[0], a[1..].to_vec(), vec![], c.span)
    }
}

/// `Zygote.Buffer(x, dims...)` (like `similar`), `Zygote.bufferfrom(x)` (a copy).
fn buffer(it: &mut Interp, c: Call) -> R<Value> {
    let Some(x) = c.args.first() else {
        return Err(c.no_method(it));
    };
    let arr = if c.name.as_ref() == "bufferfrom" {
        call_builtin(it, &nm("copy"), vec![x.clone()], vec![], c.span)?
    } else {
        call_builtin(it, &nm("similar"), c.args.clone(), vec![], c.span)?
    };
    Ok(Value::Buffer(Rc::new(RefCell::new(BufferVal {
        arr,
        frozen: false,
    }))))
}

fn unthunk(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(x.clone()),
        _ => Err(c.no_method(it)),
    }
}
