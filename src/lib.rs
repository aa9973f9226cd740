//! adlint: finds Julia code that Zygote.jl cannot differentiate, before it runs.
//!
//! The pipeline (see `docs/architecture.md` in the shared docs): `workspace` discovers
//! files and `Project.toml`s, `syntax` parses them, `facts` extracts per-file facts,
//! `units` splits the workspace into the programs Julia runs (packages, extensions, test
//! suites, scripts: `docs/program-units.md`), `index` builds the symbol table per unit,
//! `callgraph` resolves calls and reachability from entry points, `rules` report findings,
//! `fix` builds and applies their quick fixes, and `render` writes them out. `analysis`
//! runs the pipeline for the CLI and the language server.
//!
//! Four modules go beyond the architecture page's table, on purpose:
//! - `fix` depends on `refad` for `check --fix --verify` only (`GradientReference`: the
//!   gradients of the entry points before fixing, compared after each round). The page keeps
//!   `refad` off the default `check` path, which this respects: without `--verify` no fix
//!   code runs the interpreter.
//! - `harness` holds the whole-pipeline entry points that take arbitrary bytes and check
//!   the invariants (the fuzz targets call them, `cargo test` replays their corpus). It is
//!   library code rather than test code so that both can share it.
//! - `name` interns the names and dotted paths that facts hold (one copy of each text for
//!   the process), so that a workspace's facts do not hold a string per occurrence. It knows
//!   nothing about Julia; `facts` creates names, the later passes compare them. It also
//!   names the fast hasher (`FastMap`, `FastSet`) of the maps on the hot paths, which
//!   are mostly keyed by names.
//! - `memory` gives freed memory back to the system after the steps of a large analysis
//!   that free much of what they allocated (`callgraph`'s construction, the rules).

pub mod analysis;
pub mod backend;
pub mod callgraph;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod facts;
pub mod fix;
pub mod harness;
pub mod index;
pub mod knowledge;
pub mod lsp;
pub mod memory;
pub mod name;
pub mod refad;
pub mod render;
pub mod rules;
pub mod span;
pub mod suppress;
pub mod syntax;
pub mod units;
pub mod version;
pub mod workspace;
