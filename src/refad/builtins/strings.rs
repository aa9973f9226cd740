//! Strings and symbols: `string`, `repr`, `Symbol`.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{nm, Builtin, Call};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["string"],
        call: string,
    },
    Builtin {
        names: &["repr"],
        call: repr,
    },
    Builtin {
        names: &["Symbol"],
        call: |_, c| {
            Ok(Value::Sym(nm(&c
                .args
                .iter()
                .map(to_display)
                .collect::<String>())))
        },
    },
];

fn string(it: &mut Interp, c: Call) -> R<Value> {
    let text: String = c.args.iter().map(to_display).collect();
    it.check_elements(text.len())?;
    Ok(Value::str(&text))
}

fn repr(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => Ok(Value::str(&show(x))),
        _ => Err(c.no_method(it)),
    }
}
