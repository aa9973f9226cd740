//! Per-file extraction of facts from the tree alone, driven by `queries/facts.scm`.
//!
//! One pass per file collects every definition, call, assignment, import and syntactic
//! site that later passes and rules need; the tree is dropped afterwards, so only these
//! facts stay in memory. The query names the node kinds to collect; since each of its
//! patterns is a single node, the pass is a walk of the tree with a table read from the
//! query ([`syntax::facts_captures`]), not tree-sitter's query engine, which cost as much as
//! parsing the file. This module must not look at other files or decide what a
//! name refers to: that is `index` and `callgraph`'s job. It consults `knowledge` only to
//! classify macros, whose meaning is syntactic (a macro rewrites code before anything runs).
//!
//! The parts:
//! - `model`: the facts themselves ([`FileFacts`] and the types it holds), which every later
//!   stage reads;
//! - `extract`: the walk of one statement's tree (the `Extractor`), with one submodule per
//!   construct it records (functions, calls, variables, control flow, modules, types, rules,
//!   scopes, value summaries);
//! - `reuse`: a file's facts assembled statement by statement, and the reuse of unchanged
//!   statements across edits ([`ChunkMemo`], [`extract_incremental`]);
//! - `types`: Julia type names as annotations write them ([`base_type_name`],
//!   [`type_family`]);
//! - `comments`: the `# adlint:` directive comments.

mod comments;
mod extract;
mod model;
mod reuse;
mod types;

pub use crate::name::{List, Name, Path};
pub use crate::span::Span;
pub use model::{
    first_around, Args, AroundMemo, Assign, AssignKind, Call, Cmp, Comment, Cond, FileFacts,
    FileFactsData, FuncIdx, Function, FunctionKind, FunctionsByStart, Guard, Import, Include,
    KwArgs, ModIdx, ModuleDef, OptIdx, Param, RuleDecl, RuleDeclKind, Site, SiteKind, StructDef,
    TypeDecl, Value, VarRef,
};
pub use reuse::ChunkMemo;
pub use types::{base_type_name, positional_pairs, type_family, types_disjoint, TypeFamily};

use crate::syntax;
use reuse::Assembler;

/// Extract the facts of one file.
pub fn extract(source: &str) -> FileFacts {
    syntax::with_transient_parse(source, |root, errors| {
        Assembler::new(source, root, errors, None).run()
    })
}

/// [`extract`] from a tree made already (an open document's, kept up to date by
/// incremental parsing); `parsed` must be the parse of exactly `source`.
pub fn extract_parsed(source: &str, parsed: &syntax::Parsed) -> FileFacts {
    Assembler::new(source, parsed.tree.root_node(), parsed.error_count, None).run()
}

/// [`extract_parsed`], reusing the facts of every statement whose text `memo` saw in the
/// previous extraction of this file, and leaving this extraction's statements in `memo`.
/// The language server calls it on every edit: only the edited statements are extracted
/// again, the facts of the rest are moved to their new place.
pub fn extract_incremental(
    source: &str,
    parsed: &syntax::Parsed,
    memo: &mut ChunkMemo,
) -> FileFacts {
    let previous = std::mem::take(memo);
    Assembler::new(
        source,
        parsed.tree.root_node(),
        parsed.error_count,
        Some((previous, memo)),
    )
    .run()
}
