//! Type definitions: structs (with their fields) and abstract types.

use super::functions::first_identifier;
use super::{Extractor, ScopeStack};
use crate::facts::model::{StructDef, TypeDecl};
use crate::name::{List, Name};
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    /// `abstract type A <: B end`.
    pub(super) fn define_abstract(&mut self, node: Node) {
        if let Some(head) = syntax::child_of_kind(node, "type_head") {
            self.record_type(head, node, true);
        }
    }

    /// A type the workspace declares, with the supertype its head names (`S <: T{X}` gives
    /// `T`).
    fn record_type(&mut self, head: Node, node: Node, is_abstract: bool) {
        let Some(name) = first_identifier(head).map(|n| self.name(n)) else {
            return;
        };
        let supertype = syntax::child_of_kind(head, "binary_expression")
            .filter(|b| b.child(1).is_some_and(|op| self.text(op) == "<:"))
            .and_then(|b| b.child(2))
            .and_then(|t| self.path_of(t).last().copied());
        self.facts.types.push(TypeDecl {
            name,
            supertype,
            is_abstract,
            span: Span::of(node),
        });
    }

    pub(super) fn define_struct(&mut self, node: Node, _scopes: &ScopeStack) {
        let mutable = syntax::children(node)
            .iter()
            .any(|c| c.kind_str() == "mutable" || self.text(*c) == "mutable");
        let Some(head) = syntax::child_of_kind(node, "type_head") else {
            return;
        };
        let name = first_identifier(head)
            .map(|n| self.name(n))
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut field_types = Vec::new();
        for child in syntax::named_children(node) {
            if child.id() == head.id() {
                continue;
            }
            match child.kind_str() {
                "identifier" => {
                    fields.push(self.name(child));
                    field_types.push(None);
                }
                "typed_expression" => {
                    if let Some(n) = child.child(0) {
                        fields.push(self.name(n));
                        let declared = (self.text(child).split_once("::"))
                            .map(|(_, t)| t.trim())
                            .filter(|t| !t.is_empty());
                        field_types.push(declared.map(Name::new));
                    }
                }
                _ => {}
            }
        }
        self.record_type(head, node, false);
        self.facts.structs.push(StructDef {
            name,
            mutable,
            fields: List::new(&fields),
            field_types: List::new(&field_types),
            module: self.module_of(node.start_byte() as u32),
            span: Span::of(node),
        });
    }
}
