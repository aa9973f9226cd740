//! Modules, and what they import and export.

use super::{Extractor, ScopeStack};
use crate::facts::model::{Function, Import, ModIdx, ModuleDef};
use crate::name::Name;
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    pub(super) fn module_of(&self, byte: u32) -> Option<ModIdx> {
        self.module_at
            .iter()
            .filter(|(span, _)| span.start <= byte && byte < span.end)
            .max_by_key(|(span, _)| span.start)
            .map(|&(_, m)| m)
    }

    /// A module and its top level: a pseudo-function like the file's, so that the code in
    /// `module M ... end` is attributed to M (its imports, its globals).
    pub(super) fn define_module(&mut self, node: Node, scopes: &mut ScopeStack) {
        let name = syntax::child_of_kind(node, "identifier")
            .map(|c| self.name(c))
            .unwrap_or_default();
        let span = Span::of(node);
        let parent = self.module_of(span.start);
        let idx = self.facts.modules.len() as ModIdx;
        self.facts.modules.push(ModuleDef { name, parent, span });
        self.module_at.push((span, idx));
        self.push_function(span, Function::top_level(span), scopes);
    }

    /// `export f, g`: names the module around `node` exports.
    pub(super) fn record_export(&mut self, node: Node) {
        let module = self.module_of(node.start_byte() as u32);
        for child in syntax::named_children(node) {
            if child.kind_str() == "identifier" {
                self.facts.exports.push((module, self.name(child)));
            }
        }
    }

    pub(super) fn record_import(&mut self, node: Node, is_using: bool) {
        let module = self.module_of(node.start_byte() as u32);
        for item in syntax::named_children(node) {
            let mut imp = Import {
                module,
                path: vec![],
                names: None,
                alias: None,
                is_using,
                span: Span::of(node),
            };
            match item.kind_str() {
                "identifier" | "import_path" | "field_expression" | "scoped_identifier" => {
                    imp.path = self.import_path(item);
                }
                "selected_import" => {
                    let kids = syntax::named_children(item);
                    if let Some((first, rest)) = kids.split_first() {
                        imp.path = self.import_path(*first);
                        imp.names = Some(
                            rest.iter()
                                .map(|n| {
                                    let t = self.text(*n);
                                    Name::new(t.rsplit(' ').next().unwrap_or(t))
                                })
                                .collect(),
                        );
                    }
                }
                "import_alias" => {
                    let kids = syntax::named_children(item);
                    if let (Some(first), Some(last)) = (kids.first(), kids.last()) {
                        imp.path = self.import_path(*first);
                        imp.alias = Some(self.name(*last));
                    }
                }
                _ => continue,
            }
            if !imp.path.is_empty() {
                self.facts.imports.push(imp);
            }
        }
    }

    fn import_path(&self, node: Node) -> Vec<Name> {
        let t = self.text(node);
        let mut out = Vec::new();
        let trimmed = t.trim_start_matches('.');
        for _ in 0..(t.len() - trimmed.len()) {
            out.push(Name::new("."));
        }
        out.extend(trimmed.split('.').map(|s| Name::new(s.trim())));
        out
    }
}
