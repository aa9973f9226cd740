//! Output, clocks and files: printing (which prints nothing: output is not part of what
//! adlint checks), `time`, `time_ns`, `include`.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{unmodelled, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["println", "print", "display", "show", "flush"],
        call: |_, _| Ok(Value::Nothing),
    },
    Builtin {
        names: &["time"],
        call: time,
    },
    Builtin {
        names: &["time_ns"],
        call: |_, _| Ok(Value::Int(1_000_000_000)),
    },
    Builtin {
        names: &["include"],
        call: include,
    },
    Builtin {
        names: &["stdout"],
        call: unmodelled,
    },
];

/// `time()` is `ccall(:jl_clock_now, Float64, ())` in Base: a foreigncall for Zygote.
fn time(it: &mut Interp, c: Call) -> R<Value> {
    it.event(
        c.span,
        "Can't differentiate foreigncall expression $(Expr(:foreigncall, :(:jl_clock_now), Float64, svec(), 0, :(:ccall))).".to_string(),
    );
    Ok(Value::F(1.0e9))
}

fn include(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [path] => {
            let p = to_display(path);
            super::super::include(it, &p, c.span)
        }
        _ => Err(c.no_method(it)),
    }
}
