//! Guidance for `mutable-struct-field`: an immutable struct and `Accessors.@set`.

use super::one_line;
use crate::fix::tree::FileCx;
use crate::syntax::KindName;
use tree_sitter::Node;

/// `m.a = v` -> an immutable struct and `m = Accessors.@set m.a = v`.
pub(in crate::fix) fn build(cx: &FileCx, node: Node) -> Option<String> {
    let assign = if node.kind_str() == "assignment" {
        node
    } else {
        let mut n = node;
        while n.kind_str() != "assignment" {
            n = n.parent()?;
        }
        n
    };
    let lhs = assign.child(0)?;
    if lhs.kind_str() != "field_expression" {
        return None;
    }
    let object = lhs.named_child(0)?;
    let stmt = one_line(cx.text(assign))?;
    let obj = cx.text(object);
    Some(format!(
        "make the struct immutable (`struct` instead of `mutable struct`) and replace the field write by a new object: `{obj} = Accessors.@set {stmt}`"
    ))
}
