//! Errors: `error`, `throw`, `rethrow` and the exception constructors (`ArgumentError(msg)`,
//! `DomainError(x, msg)`, ...), whose messages follow Julia's.

use super::super::interp::{Ctrl, Interp, R};
use super::super::value::*;
use super::strings::joined_text;
use super::{Builtin, Call};
use std::rc::Rc;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["error"],
        call: error,
    },
    Builtin {
        names: &["throw"],
        call: throw,
    },
    Builtin {
        names: &["rethrow"],
        call: rethrow,
    },
    Builtin {
        names: EXCEPTIONS,
        call: exception,
    },
];

/// The exception types a program may construct with a message.
const EXCEPTIONS: &[&str] = &[
    "ArgumentError",
    "DimensionMismatch",
    "ErrorException",
    "KeyError",
    "BoundsError",
    "DomainError",
];

/// Whether `name` is one of the exception types a program may construct.
pub(super) fn is_exception_type(name: &str) -> bool {
    EXCEPTIONS.contains(&name)
}

fn error(it: &mut Interp, c: Call) -> R<Value> {
    let msg = joined_text(it, &c.args)?;
    Err(it.error(msg))
}

fn throw(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [e] => Err(Ctrl::Throw(e.clone())),
        _ => Err(c.no_method(it)),
    }
}

fn rethrow(it: &mut Interp, c: Call) -> R<Value> {
    match c
        .args
        .first()
        .cloned()
        .or_else(|| it.cur_exc.last().cloned())
    {
        Some(e) => Err(Ctrl::Throw(e)),
        None => Err(it.error("rethrow() not allowed outside a catch block")),
    }
}

fn exception(it: &mut Interp, c: Call) -> R<Value> {
    let name: &str = c.name;
    // Built within the budgets as `string(...)` is.
    let text = |parts: &[&Value]| joined_text(it, parts.iter().copied());
    let word = |w: &str| Value::str(w);
    let msg = match (name, c.args.as_slice()) {
        ("DomainError", [x]) => text(&[&word("DomainError with "), x])?,
        ("DomainError", [x, m, ..]) => text(&[&word("DomainError with "), x, &word(":\n"), m])?,
        ("KeyError", [k]) => format!("KeyError: key {} not found", show(k)),
        ("ErrorException", [m]) => text(&[m])?,
        (_, [m]) => text(&[&word(&format!("{name}: ")), m])?,
        _ => name.to_string(),
    };
    it.check_text(msg.len())?;
    Ok(Value::Exc(Rc::new(Exc::new(name.to_string(), msg, None))))
}
