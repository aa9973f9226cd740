//! adlint: finds Julia code that Zygote.jl cannot differentiate, before it runs.
//!
//! The pipeline (see `docs/architecture.md` in the shared docs): `workspace` discovers
//! files, `syntax` parses them, `facts` extracts per-file facts, `index` builds the
//! workspace symbol table, `callgraph` resolves calls and reachability from entry points,
//! `rules` report findings, `suppress` filters them, and `render` writes them out.

pub mod facts;
pub mod knowledge;
pub mod syntax;
