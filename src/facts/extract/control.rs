//! Control flow: the branches of `if`s on conditions adlint can decide, and `try`.

use super::Extractor;
use crate::facts::model::{Cmp, Cond, FuncIdx, Guard, Site, SiteKind};
use crate::span::Span;
use crate::syntax::{self, KindName};
use tree_sitter::Node;

impl Extractor<'_> {
    /// The branches of an `if` whose conditions adlint can decide ([`Guard`]): each
    /// branch runs when its own condition holds and every earlier one does not.
    pub(super) fn record_guards(&mut self, node: Node, func: FuncIdx) {
        let mut earlier: Vec<(Cond, bool)> = Vec::new();
        let mut cursor = node.walk();
        let alternatives: Vec<Node> = node
            .children_by_field_name("alternative", &mut cursor)
            .collect();
        let mut branches: Vec<(Option<Node>, Span)> = Vec::new();
        let cond = node.child_by_field_name("condition");
        let then_end = alternatives
            .first()
            .map_or(node.end_byte() as u32, |a| a.start_byte() as u32);
        if let Some(c) = cond {
            branches.push((
                Some(c),
                Span {
                    start: c.end_byte() as u32,
                    end: then_end,
                },
            ));
        }
        for alt in alternatives {
            let c = alt.child_by_field_name("condition");
            let start = c.map_or(alt.start_byte(), |c| c.end_byte()) as u32;
            branches.push((
                c,
                Span {
                    start,
                    end: alt.end_byte() as u32,
                },
            ));
        }
        for (c, span) in branches {
            for &(cond, holds) in &earlier {
                self.facts.guards.push(Guard {
                    func,
                    span,
                    cond,
                    holds,
                });
            }
            let Some((cond, holds)) = c.and_then(|c| self.condition(c)) else {
                continue;
            };
            self.facts.guards.push(Guard {
                func,
                span,
                cond,
                holds,
            });
            // Later branches run only when it does not hold.
            earlier.push((cond, !holds));
        }
    }

    /// A condition adlint can decide, with the value it must have for the branch to run:
    /// `flag` (true), `!flag` (false), `VERSION >= v"1.11"`.
    fn condition(&self, node: Node) -> Option<(Cond, bool)> {
        match node.kind_str() {
            "identifier" => Some((Cond::Flag(self.name(node)), true)),
            "parenthesized_expression" => self.condition(node.named_child(0)?),
            "unary_expression" => {
                let op = node.child(0)?;
                if self.text(op) != "!" {
                    return None;
                }
                let (c, holds) =
                    self.condition(node.named_child(node.named_child_count() as u32 - 1)?)?;
                Some((c, !holds))
            }
            "binary_expression" => {
                let (lhs, op, rhs) = (node.child(0)?, node.child(1)?, node.child(2)?);
                let version = |n: Node| -> Option<crate::version::Version> {
                    (n.kind_str() == "prefixed_string_literal"
                        && n.child_by_field_name("prefix")
                            .is_some_and(|p| self.text(p) == "v"))
                    .then(|| {
                        let t = self.text(n);
                        crate::version::Version::parse(t.trim_start_matches('v').trim_matches('"'))
                    })
                    .flatten()
                };
                let cmp = match self.text(op) {
                    "<" => Cmp::Lt,
                    "<=" | "≤" => Cmp::Le,
                    ">" => Cmp::Gt,
                    ">=" | "≥" => Cmp::Ge,
                    "==" => Cmp::Eq,
                    "!=" | "≠" => Cmp::Ne,
                    _ => return None,
                };
                if self.text(lhs) == "VERSION" {
                    return Some((Cond::Version(cmp, version(rhs)?), true));
                }
                if self.text(rhs) == "VERSION" {
                    let flipped = match cmp {
                        Cmp::Lt => Cmp::Gt,
                        Cmp::Le => Cmp::Ge,
                        Cmp::Gt => Cmp::Lt,
                        Cmp::Ge => Cmp::Le,
                        other => other,
                    };
                    return Some((Cond::Version(flipped, version(lhs)?), true));
                }
                None
            }
            _ => None,
        }
    }

    /// `parent` is `node`'s parent, from the capture (tree-sitter's `Node::parent` searches
    /// down from the root: asked at each of thousands of nested `try`s, quadratic).
    pub(super) fn record_try(&mut self, node: Node, parent: Option<Node>, func: FuncIdx) {
        let kids = syntax::named_children(node);
        let has_catch = kids.iter().any(|c| c.kind_str() == "catch_clause");
        let has_finally = kids.iter().any(|c| c.kind_str() == "finally_clause");
        let is_throw = |n: Node| {
            n.kind_str() == "call_expression" && n.child(0).is_some_and(|c| self.text(c) == "throw")
        };
        let throws_when = (kids.iter())
            .filter(|c| {
                !matches!(
                    c.kind_str(),
                    "catch_clause" | "finally_clause" | "else_clause"
                )
            })
            .find_map(|&c| {
                let cond = match c.kind_str() {
                    "binary_expression" => {
                        let op = c.child(1).map(|o| self.text(o));
                        let rhs = c.named_child(c.named_child_count().saturating_sub(1) as u32);
                        (op == Some("&&") && rhs.is_some_and(is_throw)).then(|| c.named_child(0))?
                    }
                    "if_statement" => {
                        let cond = c.child_by_field_name("condition")?;
                        let body = syntax::named_children(c);
                        body.iter().any(|&b| is_throw(b)).then_some(Some(cond))?
                    }
                    _ => None,
                }?;
                (cond.kind_str() == "identifier").then(|| self.name(cond))
            });
        // `y = try ... end`: the finding points at the assignment.
        let span = parent
            .filter(|p| p.kind_str() == "assignment" && p.child(0) != Some(node))
            .map(Span::of)
            .unwrap_or(Span::of(node));
        self.facts.sites.push(Site {
            func,
            kind: SiteKind::Try {
                has_catch,
                has_finally,
                throws_when,
            },
            span,
        });
    }
}
