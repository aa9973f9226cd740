//! The README and `docs/` are tested: every ```text block that starts with a `$ adlint ...`
//! line shows exactly what that command prints (stdout, then stderr) run from the
//! repository's root, and every `adlint ...` line of a ```sh block is a command the CLI
//! accepts.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The markdown pages users read: the README and `docs/*.md` (not the generated rule pages,
/// which `published_docs` checks).
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// The fenced blocks of a page: (language, first line number, body).
fn blocks(text: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), i + 1, String::new())),
            (Some(_), Some(rest)) if rest.trim().is_empty() => {
                out.push(open.take().expect("an open block"));
            }
            (Some((_, _, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

fn adlint(args: &[&str], dir: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_adlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("adlint runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn output_samples_are_what_adlint_prints() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (lang, line, body) in blocks(&text) {
            let Some(command) = (lang == "text")
                .then(|| body.lines().next())
                .flatten()
                .and_then(|l| l.strip_prefix("$ adlint "))
            else {
                continue;
            };
            let expected: String = body.lines().skip(1).map(|l| format!("{l}\n")).collect();
            let args: Vec<&str> = command.split_whitespace().collect();
            let (_, out, err) = adlint(&args, &root());
            let got = format!("{out}{err}");
            let got = if got.ends_with('\n') {
                got
            } else {
                format!("{got}\n")
            };
            checked += 1;
            if got != expected {
                wrong.push(format!(
                    "{}:{line}: `adlint {command}` prints\n{got}\nbut the page shows\n{expected}",
                    page.display()
                ));
            }
        }
    }
    assert!(checked >= 3, "only {checked} samples found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n---\n"));
}

#[test]
fn documented_commands_are_accepted() {
    // Run in a copy of the example project, so that `--fix` and `--write-baseline` write
    // there.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), tmp.path());
    let mut checked = 0;
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (lang, line, body) in blocks(&text) {
            if lang != "sh" {
                continue;
            }
            for command in body.lines() {
                let command = command.split(" #").next().unwrap_or("").trim();
                let Some(rest) = command.strip_prefix("adlint ") else {
                    continue;
                };
                // A placeholder, or the server (which waits for a client).
                if rest.contains('[') || rest.contains("...") || rest == "lsp" {
                    continue;
                }
                let args: Vec<&str> = rest.split_whitespace().collect();
                let (code, _, err) = adlint(&args, tmp.path());
                checked += 1;
                let usage = err.contains("unexpected argument")
                    || err.contains("invalid value")
                    || err.contains("Usage: adlint")
                    || code.is_none();
                if usage {
                    wrong.push(format!("{}:{line}: `{command}`: {err}", page.display()));
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} commands found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
