//! The shape of the crate: every `crate::` path in `src/` names a module of the same stage
//! of the pipeline or of an earlier one, so imports go one way (see `docs/architecture.md`).
//! A new top-level module must be placed in [`STAGES`] before this test passes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The stages in pipeline order, each with its top-level modules. A module may use the
/// modules of its own stage and of the stages above it in this list, never those below.
const STAGES: &[(&str, &[&str])] = &[
    (
        "model",
        &["span", "version", "name", "memory", "diagnostic", "backend"],
    ),
    ("syntax", &["syntax"]),
    ("knowledge", &["knowledge"]),
    ("facts", &["facts"]),
    ("workspace and config", &["workspace", "config"]),
    ("units and index", &["units", "index"]),
    ("callgraph", &["callgraph"]),
    ("rules", &["rules"]),
    ("suppress", &["suppress"]),
    ("analysis", &["analysis"]),
    ("refad", &["refad"]),
    ("fix", &["fix"]),
    ("generator", &["generator"]),
    ("render", &["render"]),
    ("lsp", &["lsp"]),
    ("cli", &["cli", "progress", "harness"]),
];

fn stage_of(module: &str) -> Option<usize> {
    STAGES.iter().position(|(_, mods)| mods.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/fix/diff.rs`: `fix`), or `None`
/// for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let module = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (module != "lib" && module != "main").then_some(module)
}

/// The code of a file without its comments (doc links name modules without using them)
/// and without the contents of string literals.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = '\0';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_str && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' && prev != '\'' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = if prev == '\\' && c == '\\' { '\0' } else { c };
        }
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a piece of code names through `crate::`, with `use crate::{a, b}`
/// groups opened.
fn used_modules(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest_trimmed = rest.trim_start();
        if let Some(group) = rest_trimmed.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if depth == 1 && item_start && !c.is_whitespace() => {
                        item_start = false;
                        let id = ident_at(&group[i..]);
                        if !id.is_empty() && id != "self" {
                            used.insert(id.to_string());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let id = ident_at(rest_trimmed);
            if !id.is_empty() {
                used.insert(id.to_string());
            }
        }
    }
    used
}

#[test]
fn imports_follow_the_pipeline() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut against = Vec::new();
    let mut unplaced = BTreeSet::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Some(stage) = stage_of(&module) else {
            unplaced.insert(module);
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for used in used_modules(&code) {
            match stage_of(&used) {
                None => {
                    unplaced.insert(used);
                }
                Some(s) if s > stage => against.push(format!(
                    "{} ({}) uses crate::{used} ({})",
                    file.strip_prefix(&src).unwrap().display(),
                    STAGES[stage].0,
                    STAGES[s].0,
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules not placed in a stage of tests/it/architecture.rs: {unplaced:?}"
    );
    assert!(
        against.is_empty(),
        "imports against the pipeline order:\n{}",
        against.join("\n")
    );
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let code = code_of(
        "use crate::{facts::Span, name::{Name, Path}, self};\n\
         let x = crate::version::Version(1, 0, 0); // crate::lsp in a comment\n\
         let s = \"crate::cli in a string\";\n",
    );
    let used: Vec<String> = used_modules(&code).into_iter().collect();
    assert_eq!(used, ["facts", "name", "version"]);
}
