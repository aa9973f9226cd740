//! Compiles `src/syntax/native/` (see each file for why): `children.c` against the headers of
//! the tree-sitter crate this build links (its `links = "tree-sitter"` hands us the path of
//! its `include/` directory, and its sources sit beside it in `src/`), and `arena.c`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/syntax/native/children.c");
    println!("cargo:rerun-if-changed=src/syntax/native/arena.c");
    let include = PathBuf::from(
        std::env::var("DEP_TREE_SITTER_INCLUDE")
            .expect("the tree-sitter crate tells dependents where its headers are"),
    );
    let sources = include
        .parent()
        .expect("tree-sitter's include/ has a parent")
        .join("src");
    cc::Build::new()
        .std("c11")
        .include(&include)
        .include(&sources)
        .warnings(true)
        .extra_warnings(true)
        .file("src/syntax/native/children.c")
        .file("src/syntax/native/arena.c")
        .compile("adlint-native");
}
