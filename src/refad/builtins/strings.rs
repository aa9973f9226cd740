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
            let text = joined_text(it, &c.args)?;
            Ok(Value::Sym(it.symbol(&text)?))
        },
    },
];

fn string(it: &mut Interp, c: Call) -> R<Value> {
    Ok(Value::str(&joined_text(it, &c.args)?))
}

/// The display text of `parts` one after the other (`string(xs...)`, `error(xs...)`,
/// `Symbol(xs...)`), within the budgets: each part is checked before it is copied
/// (`string(fill(s, 1000)...)` of an 8 MB `s` built 8 GB of text before its one check).
pub(super) fn joined_text<'v>(
    it: &Interp,
    parts: impl IntoIterator<Item = &'v Value>,
) -> R<String> {
    let mut text = String::new();
    for p in parts {
        push_display(it, &mut text, p)?;
    }
    Ok(text)
}

/// Append `v`'s display text (`string(v)`) to `text`, checking first that the whole fits
/// the budgets of one string's size and of memory.
pub fn push_display(it: &Interp, text: &mut String, v: &Value) -> R<()> {
    let shown;
    let piece: &str = match v {
        Value::Str(s) => s,
        Value::Sym(s) => s,
        Value::Char(c) => {
            it.check_text(text.len() + c.len_utf8())?;
            text.push(*c);
            return Ok(());
        }
        // `show` writes a bounded text (10000 values, long strings cut).
        other => {
            shown = show(other);
            &shown
        }
    };
    it.check_text(text.len().saturating_add(piece.len()))?;
    it.charge(piece.len() / 4096)?;
    text.push_str(piece);
    Ok(())
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
