//! The guidance builders: for findings adlint cannot fix mechanically, help that shows the
//! user's own code rewritten. A rule that lists one of them has its generic help replaced
//! by the guidance whenever the builder recognises the code.

pub(super) mod boxed;
pub(super) mod field;
pub(super) mod nested;
pub(super) mod try_catch;

use crate::diagnostic::{Category, Diagnostic};
use crate::fix::tree::FileCx;
use boxed::boxed_guidance;
use field::field_guidance;
use nested::nested_guidance;
use tree_sitter::Tree;
use try_catch::try_guidance;

/// Help that shows the user's own code rewritten, for findings adlint cannot fix
/// mechanically: try/catch, mutable struct fields, boxed variables, nested AD. `tree`
/// parses the finding's statement; it is called only for those categories.
pub(in crate::fix) fn guidance<'t>(
    cx: &FileCx,
    tree: &dyn Fn() -> &'t Tree,
    d: &Diagnostic,
) -> Option<String> {
    let site = || cx.site_node(tree(), d.location.span);
    match d.category {
        Category::TryCatch => try_guidance(cx, site()?),
        Category::MutableStruct => field_guidance(cx, site()?),
        Category::NestedAd => nested_guidance(cx, site()?),
        Category::BoxedVariable => {
            site()?;
            boxed_guidance(cx, tree(), d)
        }
        _ => None,
    }
}

pub(in crate::fix) fn one_line(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.contains('\n') && t.len() <= 80).then(|| t.to_string())
}
