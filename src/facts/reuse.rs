//! Chunk by chunk assembly of a file's facts, and the reuse of unchanged chunks across
//! edits ([`ChunkMemo`], for [`super::extract_incremental`]): each top-level statement is
//! extracted on its own with placeholder positions, then relocated into the file's facts.

use super::comments::suppression_comments;
use super::extract::Extractor;
use super::model::{
    Assign, Call, FileFacts, FileFactsData, FuncIdx, Function, Guard, Import, Include, KwArgs,
    ModIdx, ModuleDef, RuleDecl, Site, SiteKind, StructDef, TypeDecl, Value, VarRef,
};
use crate::name::Name;
use crate::span::Span;
use crate::syntax::{self, KindName, LineIndex};
use std::collections::HashMap;
use tree_sitter::Node;

/// Facts are extracted per chunk: a statement directly at the top level of the file or of
/// a module (`module ... end` itself is not a chunk; its statements are). A chunk's facts
/// do not depend on the text around it: the function and module it sits in are local
/// placeholders (function 0, module 0 inside a module) and the span of the enclosing top
/// level is [`CONTEXT`]; [`Relocation`] maps them into the file's facts.
#[derive(Debug)]
struct Chunk {
    facts: FileFactsData,
    /// Where the chunk started when it was extracted.
    start: u32,
}

/// The chunks of a file's previous extraction, by (inside a module, text).
#[derive(Debug, Default)]
pub struct ChunkMemo {
    chunks: HashMap<(bool, String), std::sync::Arc<Chunk>>,
    reused: usize,
}

impl ChunkMemo {
    /// How many chunks the last extraction took from the memo instead of extracting.
    pub fn reused(&self) -> usize {
        self.reused
    }
    /// How many chunks the last extraction had.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// The span of the enclosing top level inside a chunk's facts (never a real span: files
/// are limited far below 4 GiB).
pub(super) const CONTEXT: Span = Span {
    start: u32::MAX,
    end: u32::MAX,
};

/// Builds a file's facts chunk by chunk.
pub(super) struct Assembler<'s, 't, 'm> {
    src: &'s str,
    root: Node<'t>,
    facts: FileFactsData,
    /// The previous memo (read) and the new one (written).
    memo: Option<(ChunkMemo, &'m mut ChunkMemo)>,
}

impl<'s, 't, 'm> Assembler<'s, 't, 'm> {
    /// The assembly of the facts of `src`, whose tree's root is `root`, with `errors`
    /// syntax errors.
    pub(super) fn new(
        src: &'s str,
        root: Node<'t>,
        errors: usize,
        memo: Option<(ChunkMemo, &'m mut ChunkMemo)>,
    ) -> Self {
        let mut facts = FileFactsData {
            parse_errors: errors,
            first_parse_error: (errors > 0)
                .then(|| crate::syntax::first_error(root))
                .flatten()
                .map(|b| b as u32),
            line_index: LineIndex::new(src),
            ..FileFactsData::default()
        };
        facts.functions.push(Function::top_level(Span {
            start: 0,
            end: src.len() as u32,
        }));
        Assembler {
            src,
            root,
            facts,
            memo,
        }
    }

    pub(super) fn run(mut self) -> FileFacts {
        let root = self.root;
        let whole = self.facts.functions[0].span;
        self.top_level(root, 0, None, whole);
        self.facts.comments = suppression_comments(self.src);
        self.facts.shrink_to_fit();
        FileFacts(std::sync::Arc::new(self.facts))
    }

    /// The statements of a top level (the file's, or a module's whose pseudo-function is
    /// `func`, module `module` and span `span`).
    fn top_level(&mut self, node: Node, func: FuncIdx, module: Option<ModIdx>, span: Span) {
        for child in syntax::named_children(node) {
            if child.kind_str() == "module_definition" {
                let name = syntax::child_of_kind(child, "identifier")
                    .map(|c| Name::new(syntax::text(c, self.src)))
                    .unwrap_or_default();
                let mspan = Span::of(child);
                let idx = self.facts.modules.len() as ModIdx;
                self.facts.modules.push(ModuleDef {
                    name,
                    parent: module,
                    span: mspan,
                });
                let mut f = Function::top_level(mspan);
                f.parent = Some(func).into();
                f.module = Some(idx).into();
                let fidx = self.facts.functions.len() as FuncIdx;
                self.facts.functions.push(f);
                self.top_level(child, fidx, Some(idx), mspan);
            } else {
                self.chunk(child, node, func, module, span);
            }
        }
    }

    /// One statement `node` of a top level whose node is `parent`.
    fn chunk(
        &mut self,
        node: Node,
        parent: Node,
        func: FuncIdx,
        module: Option<ModIdx>,
        span: Span,
    ) {
        let in_module = module.is_some();
        let start = node.start_byte() as u32;
        self.facts.chunks.push(Span::of(node));
        let chunk = match &mut self.memo {
            Some((previous, next)) => {
                let key = (in_module, syntax::text(node, self.src).to_string());
                let chunk = match previous.chunks.get(&key) {
                    Some(c) => {
                        next.reused += 1;
                        c.clone()
                    }
                    None => std::sync::Arc::new(Chunk {
                        facts: Extractor::chunk_facts(self.src, node, parent, in_module),
                        start,
                    }),
                };
                next.chunks.insert(key, chunk.clone());
                chunk
            }
            None => std::sync::Arc::new(Chunk {
                facts: Extractor::chunk_facts(self.src, node, parent, in_module),
                start,
            }),
        };
        let r = Relocation {
            shift: start as i64 - chunk.start as i64,
            func,
            func_base: self.facts.functions.len() as FuncIdx,
            module,
            module_base: self.facts.modules.len() as ModIdx,
            in_module,
            span,
            values_base: self.facts.values.len() as u32,
            keywords_base: self.facts.keywords.len() as u32,
        };
        r.append(&chunk.facts, &mut self.facts);
    }
}

/// Maps a chunk's facts to their place in the file: spans shifted, local function and
/// module indices offset, the placeholders replaced by the enclosing top level.
struct Relocation {
    shift: i64,
    /// The enclosing top level's pseudo-function, and where the chunk's own functions go.
    func: FuncIdx,
    func_base: FuncIdx,
    /// The enclosing module, and where the chunk's own modules go.
    module: Option<ModIdx>,
    module_base: ModIdx,
    in_module: bool,
    /// The enclosing top level's span.
    span: Span,
    /// Where the chunk's argument values and keyword arguments go in the file's.
    values_base: u32,
    keywords_base: u32,
}

impl Relocation {
    fn span(&self, s: Span) -> Span {
        if s == CONTEXT {
            self.span
        } else if s == Span::default() {
            s
        } else {
            Span {
                start: (s.start as i64 + self.shift) as u32,
                end: (s.end as i64 + self.shift) as u32,
            }
        }
    }

    fn func(&self, f: FuncIdx) -> FuncIdx {
        if f == 0 {
            self.func
        } else {
            self.func_base + f - 1
        }
    }

    fn module(&self, m: Option<ModIdx>) -> Option<ModIdx> {
        match m {
            None => None,
            Some(0) if self.in_module => self.module,
            Some(m) if self.in_module => Some(self.module_base + m - 1),
            Some(m) => Some(self.module_base + m),
        }
    }

    fn value(&self, v: &Value) -> Value {
        match v {
            Value::Func(f) => Value::Func(self.func(*f)),
            Value::Call { callee, args } => Value::Call {
                callee: *callee,
                args: args.shifted(self.values_base),
            },
            Value::Compose(parts) => Value::Compose(parts.shifted(self.values_base)),
            Value::Splat(inner) => Value::Splat(inner.shifted(self.values_base)),
            Value::Element(inner) => Value::Element(inner.shifted(self.values_base)),
            other => other.clone(),
        }
    }

    fn append(&self, c: &FileFactsData, out: &mut FileFactsData) {
        out.values.extend(c.values.iter().map(|v| self.value(v)));
        out.keywords
            .extend(c.keywords.iter().map(|(k, v)| (*k, self.value(v))));
        out.functions
            .extend(c.functions.iter().skip(1).map(|f| Function {
                parent: f.parent.get().map(|p| self.func(p)).into(),
                module: self.module(f.module.get()).into(),
                span: self.span(f.span),
                head: self.span(f.head),
                signature: self.span(f.signature),
                ..f.clone()
            }));
        out.modules.extend(
            c.modules
                .iter()
                .skip(usize::from(self.in_module))
                .map(|m| ModuleDef {
                    name: m.name,
                    parent: self.module(m.parent),
                    span: self.span(m.span),
                }),
        );
        out.calls.extend(c.calls.iter().map(|x| Call {
            func: self.func(x.func),
            args: x.args.shifted(self.values_base),
            kwargs: KwArgs(x.kwargs.0.shifted(self.keywords_base)),
            span: self.span(x.span),
            callee_end: self.span(x.callee_span()).end,
            ..x.clone()
        }));
        out.assigns.extend(c.assigns.iter().map(|a| Assign {
            func: self.func(a.func),
            value: self.value(&a.value),
            span: self.span(a.span),
            block: self.span(a.block),
            ..a.clone()
        }));
        out.sites.extend(c.sites.iter().map(|x| Site {
            func: self.func(x.func),
            kind: match &x.kind {
                SiteKind::IndexAssign {
                    target,
                    op,
                    empty_index,
                } => SiteKind::IndexAssign {
                    target: self.value(target),
                    op: *op,
                    empty_index: *empty_index,
                },
                SiteKind::BroadcastAssign {
                    target,
                    op,
                    indexed,
                } => SiteKind::BroadcastAssign {
                    target: self.value(target),
                    op: *op,
                    indexed: *indexed,
                },
                SiteKind::FieldAssign { object, field } => SiteKind::FieldAssign {
                    object: self.value(object),
                    field: *field,
                },
                other => other.clone(),
            },
            span: self.span(x.span),
        }));
        out.returns.extend(
            c.returns
                .iter()
                .map(|(f, v)| (self.func(*f), self.value(v))),
        );
        out.refs.extend(c.refs.iter().map(|x| VarRef {
            func: self.func(x.func),
            name: x.name,
            span: self.span(x.span),
        }));
        out.guards.extend(c.guards.iter().map(|x| Guard {
            func: self.func(x.func),
            span: self.span(x.span),
            ..x.clone()
        }));
        out.types.extend(c.types.iter().map(|x| TypeDecl {
            span: self.span(x.span),
            ..x.clone()
        }));
        out.structs.extend(c.structs.iter().map(|x| StructDef {
            module: self.module(x.module),
            span: self.span(x.span),
            ..x.clone()
        }));
        out.imports.extend(c.imports.iter().map(|x| Import {
            module: self.module(x.module),
            span: self.span(x.span),
            ..x.clone()
        }));
        out.exports
            .extend(c.exports.iter().map(|(m, name)| (self.module(*m), *name)));
        out.includes.extend(c.includes.iter().map(|x| Include {
            module: self.module(x.module),
            path: x.path.clone(),
            span: self.span(x.span),
        }));
        out.rule_decls.extend(c.rule_decls.iter().map(|x| RuleDecl {
            module: self.module(x.module),
            span: self.span(x.span),
            ..x.clone()
        }));
    }
}
