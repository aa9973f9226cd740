//! adlint's integration tests, in one binary so that the whole suite links once.
//! Run one group with `cargo test --test it <module>::`, e.g. `cargo test --test it lsp::`.

mod common;

mod adopt;
mod architecture;
mod budgets;
mod cli;
mod corpus;
mod doc_samples;
mod fix;
mod fuzz_corpus;
mod fuzz_driver;
mod graph;
mod hostile;
mod incremental;
mod knowledge_gen;
mod lsp;
mod mutation;
mod profiles;
mod progress;
mod published_docs;
mod quirks;
mod refad;
mod refad_builtins;
mod refad_hostile;
mod resolution;
mod rule_docs;
mod rules;
mod scaling;
mod seed;
mod units;
mod verify;
