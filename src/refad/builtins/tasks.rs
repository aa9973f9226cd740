//! Threads and timing: what `Threads.@threads` and `@timed` (lowered to the internal
//! calls here) do under Zygote. Their bodies run in order, on this one thread.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{Builtin, Call};
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["__threads_begin"],
        call: threads_begin,
    },
    Builtin {
        names: &["__threads_end"],
        call: threads_end,
    },
    Builtin {
        names: &["__timed"],
        call: timed,
    },
];

/// The start of `Threads.@threads for ... end`, which calls `Base.Threads.threading_run`.
/// Up to Zygote 0.6.70 its `try` made Zygote refuse to compile it (a `CompileError` in the
/// forward pass, Zygote issue #1357); later versions compile it and meet its foreign
/// calls (`jl_enter_threaded_region` ... `jl_exit_threaded_region`) in the reverse pass.
fn threads_begin(it: &mut Interp, c: Call) -> R<Value> {
    if it.differentiated() && it.version.is_some_and(|v| v <= (0, 6, 70)) {
        return Err(it.forward_failure(
            "Zygote.CompileError",
            "Compiling Tuple{typeof(Base.Threads.threading_run), ...}: try/catch is not supported.",
            c.span,
        ));
    }
    let msg = it.foreigncall_message("jl_enter_threaded_region", "Cvoid", "");
    it.event(c.span, msg);
    Ok(Value::Nothing)
}

/// The end of `threading_run`: its `finally` leaves the threaded region, a foreign call
/// that the reverse pass meets first.
fn threads_end(it: &mut Interp, c: Call) -> R<Value> {
    let msg = it.foreigncall_message("jl_exit_threaded_region", "Cvoid", "");
    it.event(c.span, msg);
    Ok(Value::Nothing)
}

/// `@timed ex`: on Julia 1.11 and later its lock-profiling code uses `llvmcall`, which
/// Zygote cannot compile (Zygote's `@timed` test is broken there): the forward pass fails.
/// Outside differentiated code it returns the value with zero timings.
fn timed(it: &mut Interp, c: Call) -> R<Value> {
    if it.differentiated() {
        return Err(it.forward_failure(
            "ErrorException",
            "`llvmcall` requires the compiler",
            c.span,
        ));
    }
    let value = c.args.into_iter().next().unwrap_or(Value::Nothing);
    let names = [
        "value",
        "time",
        "bytes",
        "gctime",
        "gcstats",
        "lock_conflicts",
        "compile_time",
        "recompile_time",
    ];
    let values = vec![
        value,
        Value::F(0.0),
        Value::Int(0),
        Value::F(0.0),
        Value::Nothing,
        Value::Int(0),
        Value::F(0.0),
        Value::F(0.0),
    ];
    Ok(Value::nt(
        Rc::new(names.iter().map(|n| Rc::from(*n)).collect()),
        values,
    ))
}
