//! Facts reused across edits (`facts::extract_incremental`, used by the language server)
//! must be exactly the facts a fresh extraction gives, whatever the edit.

use adlint::facts::{self, ChunkMemo};
use adlint::syntax;
use std::path::Path;

use crate::common::julia_files;

/// Debug text of facts: `FileFacts` is compared field by field through it.
fn fresh(text: &str) -> String {
    format!("{:#?}", facts::extract(text))
}

fn incremental(text: &str, memo: &mut ChunkMemo) -> String {
    format!(
        "{:#?}",
        facts::extract_incremental(text, &syntax::parse(text), memo)
    )
}

/// Edits of every kind: before everything, inside a statement, a statement removed,
/// statements swapped, a module wrapped around the file, broken syntax.
fn edits(text: &str) -> Vec<(&'static str, String)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mid = lines.len() / 2;
    let join = |ls: &[&str]| ls.concat();
    let mut out = vec![
        ("line inserted at the top", format!("x0 = 1\n{text}")),
        (
            "character typed mid-file",
            join(&lines[..mid]) + "y" + &join(&lines[mid..]),
        ),
        ("middle line deleted", {
            let mut ls = lines.clone();
            if !ls.is_empty() {
                ls.remove(mid.min(ls.len() - 1));
            }
            join(&ls)
        }),
        ("wrapped in a module", format!("module Wrap\n{text}\nend\n")),
        (
            "unclosed function mid-file",
            join(&lines[..mid]) + "function broken(x)\n" + &join(&lines[mid..]),
        ),
    ];
    if lines.len() > 2 {
        let mut ls = lines.clone();
        let last = ls.pop().unwrap();
        ls.insert(0, last);
        out.push(("last line moved first", join(&ls)));
    }
    out
}

/// The Julia files of the labelled corpus and of the examples.
fn corpus_and_examples() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = julia_files(&root.join("tests/corpus"));
    files.extend(julia_files(&root.join("examples")));
    files
}

#[test]
fn reused_facts_equal_fresh_facts_after_any_edit() {
    let files = corpus_and_examples();
    assert!(files.len() > 20, "corpus files found: {}", files.len());
    let mut reused_total = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for (what, edited) in edits(&text) {
            let mut memo = ChunkMemo::default();
            assert_eq!(
                incremental(&text, &mut memo),
                fresh(&text),
                "{}: first extraction",
                path.display()
            );
            assert_eq!(memo.reused(), 0);
            assert_eq!(
                incremental(&edited, &mut memo),
                fresh(&edited),
                "{}: {what}",
                path.display()
            );
            reused_total += memo.reused();
            // And back: the memo of the edited text serves the original.
            assert_eq!(
                incremental(&text, &mut memo),
                fresh(&text),
                "{}: {what}, undone",
                path.display()
            );
        }
    }
    assert!(reused_total > 0);
}

#[test]
fn an_edit_inside_one_function_re_extracts_only_that_function() {
    let mut src = String::from("module M\nusing Zygote\n");
    for i in 0..50 {
        src.push_str(&format!(
            "function f{i}(x)\n    y = similar(x)\n    y[1] = x[1] * {i}\n    g = z -> z + y[1]\n    return sum(g.(x))\nend\n\n"
        ));
    }
    src.push_str("loss(x) = sum(f7(x))\ngradient(loss, [1.0, 2.0])\nend\n");
    let mut memo = ChunkMemo::default();
    incremental(&src, &mut memo);
    let chunks = memo.len();
    assert!(chunks >= 53, "chunks: {chunks}");
    // One character typed inside `f20`'s body: every other statement is reused, and the
    // functions after it moved by one byte.
    let at = src.find("* 20").unwrap();
    let edited = format!("{}*{}", &src[..at], &src[at..]);
    assert_eq!(incremental(&edited, &mut memo), fresh(&edited));
    assert_eq!(memo.reused(), chunks - 1);
    // Deleting a whole function: the rest is reused.
    let start = edited.find("function f30").unwrap();
    let end = start + edited[start..].find("end\n").unwrap() + 4;
    let deleted = format!("{}{}", &edited[..start], &edited[end..]);
    assert_eq!(incremental(&deleted, &mut memo), fresh(&deleted));
    assert_eq!(memo.reused(), memo.len());
}

/// Every node under `node` in pre-order: kind, byte range and start position.
fn subtree(node: tree_sitter::Node) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        out.push(format!(
            "{} {:?} {:?}",
            n.kind(),
            n.byte_range(),
            n.start_position()
        ));
        let mut kids: Vec<_> = n.children(&mut n.walk()).collect();
        kids.reverse();
        stack.extend(kids);
    }
    out
}

/// The fix builders parse one top-level statement at a time (`syntax::parse_range`): that
/// tree must be the statement's subtree in the whole file's parse, offsets and positions
/// included, and `chunk_containing` must find the statement around any span inside it.
#[test]
fn a_statement_parsed_alone_is_its_subtree_in_the_file() {
    let files = corpus_and_examples();
    let mut statements = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let whole = syntax::parse(&text);
        if whole.error_count > 0 {
            continue;
        }
        let facts = facts::extract(&text);
        for &chunk in &facts.chunks {
            let alone = syntax::parse_range(&text, &facts.line_index, chunk.range());
            let mut n = whole
                .tree
                .root_node()
                .descendant_for_byte_range(chunk.range().start, chunk.range().end)
                .unwrap();
            while n.byte_range() != chunk.range() {
                n = n.parent().unwrap();
            }
            let root_node = alone.tree.root_node();
            let m = (0..root_node.child_count())
                .filter_map(|i| root_node.child(i))
                .find(|c| c.byte_range() == chunk.range())
                .unwrap_or_else(|| panic!("{}: {chunk:?} not parsed alone", path.display()));
            assert_eq!(subtree(m), subtree(n), "{}: {chunk:?}", path.display());
            let inside = adlint::facts::Span {
                start: chunk.start + (chunk.end - chunk.start) / 2,
                end: chunk.start + (chunk.end - chunk.start) / 2,
            };
            assert_eq!(facts.chunk_containing(inside), Some(chunk));
            statements += 1;
        }
    }
    assert!(statements > 200, "{statements} statements");
}
