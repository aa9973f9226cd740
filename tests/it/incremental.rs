//! Facts reused across edits (`facts::extract_incremental`, used by the language server)
//! must be exactly the facts a fresh extraction gives, whatever the edit.

use adlint::facts::{self, ChunkMemo};
use adlint::syntax;
use std::path::Path;

fn julia_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            julia_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "jl") {
            out.push(p);
        }
    }
}

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

#[test]
fn reused_facts_equal_fresh_facts_after_any_edit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    julia_files(&root.join("tests/corpus"), &mut files);
    julia_files(&root.join("examples"), &mut files);
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
