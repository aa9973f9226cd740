//! Strings and symbols: `string`, `repr`, `Symbol`.

use super::super::interp::{Interp, R};
use super::super::value::*;
use super::{Builtin, Call};

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
        call: |it, c| {
            let text: String = c.args.iter().map(to_display).collect();
            Ok(Value::Sym(it.symbol(&text)?))
        },
    },
];

fn string(it: &mut Interp, c: Call) -> R<Value> {
    let text: String = c.args.iter().map(to_display).collect();
    it.check_text(text.len())?;
    Ok(Value::str(&text))
}

fn repr(it: &mut Interp, c: Call) -> R<Value> {
    match c.args.as_slice() {
        [x] => {
            let text = show(x);
            it.check_text(text.len())?;
            Ok(Value::str(&text))
        }
        _ => Err(c.no_method(it)),
    }
}
