//! adlint: finds Julia code that Zygote.jl cannot differentiate, before it runs.
//!
//! The crate is a pipeline of stages; `docs/architecture.md` holds the map, and
//! `tests/it/architecture.rs` keeps every `crate::` path pointing up it, never down:
//!
//! 0. model: `span`, `version`, `name` (interned names and the fast hashers), `memory`,
//!    `diagnostic`, `backend`;
//! 1. `syntax` (tree-sitter and its C helpers); 2. `knowledge` (tables and backend
//!    profiles); 3. `facts` (per-file facts); 4. `workspace` and `config`; 5. `units` (the
//!    programs Julia runs: `docs/program-units.md`) and `index`; 6. `callgraph`;
//!    7. `rules`; 8. `suppress` (directives and baselines); 9. `analysis` (stages 3 to 8
//!    for the CLI and the language server); 10. `refad` (the reference interpreter);
//!    11. `fix` (fixes on demand, and `--verify`, which runs `refad`); 12. `generator`
//!    (`adlint knowledge`: the knowledge tables from the ecosystem's source, read with
//!    `facts`); 13. `render`; 14. `lsp`; 15. `cli`, `progress` (its progress bar) and
//!    `harness` (the whole pipeline on arbitrary bytes, shared by the fuzz targets and the
//!    tests that replay their corpus).

pub mod analysis;
pub mod backend;
pub mod callgraph;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod facts;
pub mod fix;
pub mod generator;
pub mod harness;
pub mod index;
pub mod knowledge;
pub mod lsp;
pub mod memory;
pub mod name;
pub mod progress;
pub mod refad;
pub mod render;
pub mod rules;
pub mod span;
pub mod suppress;
pub mod syntax;
pub mod units;
pub mod version;
pub mod workspace;

/// Every program built with the crate counts its allocations per thread (see
/// [`memory::thread_allocated`]): the reference interpreter's memory budget relies on it.
#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;
