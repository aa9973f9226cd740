//! The guidance builders: for findings adlint cannot fix mechanically, help that shows the
//! user's own code rewritten. A rule that lists one of them has its generic help replaced
//! by the guidance whenever the builder recognises the code.

pub(super) mod boxed;
pub(super) mod field;
pub(super) mod nested;
pub(super) mod try_catch;

/// Longest code, in bytes, that guidance quotes inline ([`one_line`]).
pub(in crate::fix) const ONE_LINE: usize = 80;

/// `s` trimmed, when it is one line short enough to quote in a help sentence.
pub(in crate::fix) fn one_line(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.contains('\n') && t.len() <= ONE_LINE).then(|| t.to_string())
}
