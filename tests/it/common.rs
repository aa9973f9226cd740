//! Shared helpers: write a small project to a temporary directory and analyse it the way
//! `adlint check` does.
#![allow(dead_code)]

use adlint::analysis::{Analysis, Options};
use adlint::workspace::Workspace;
use std::path::PathBuf;

pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// Files as (relative path, text). A `Project.toml` is added unless one is given.
    pub fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut has_project = false;
        for (rel, text) in files {
            has_project |= *rel == "Project.toml";
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        if !has_project {
            std::fs::write(dir.path().join("Project.toml"), "name = \"Fixture\"\n").unwrap();
        }
        Project { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn analyze(&self) -> Analysis {
        self.analyze_with(&Options::default())
    }

    pub fn analyze_with(&self, options: &Options) -> Analysis {
        let ws = Workspace::discover(&[self.dir.path().to_path_buf()]).expect("discover");
        adlint::fix::analyze(ws, options)
    }
}

/// (rule, file name, line, column), 1-based, in output order.
pub fn findings(a: &Analysis) -> Vec<(String, String, usize, usize)> {
    a.diagnostics
        .iter()
        .map(|d| {
            let (line, col) = a.line_col(d.location.file, d.location.span.start);
            let path = &a.workspace.files[d.location.file as usize].path;
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (d.rule.to_string(), name, line, col)
        })
        .collect()
}

/// Analyse one file's text as `main.jl` of a fresh project.
pub fn check(text: &str) -> Vec<(String, usize, usize)> {
    let p = Project::new(&[("main.jl", text)]);
    findings(&p.analyze())
        .into_iter()
        .map(|(r, _, l, c)| (r, l, c))
        .collect()
}

pub fn rules_at(text: &str) -> Vec<String> {
    check(text)
        .into_iter()
        .map(|(r, l, c)| format!("{r}@{l}:{c}"))
        .collect()
}

/// Run the `adlint` binary in `cwd`: (exit code, stdout, stderr).
pub fn run_adlint(args: &[&str], cwd: &std::path::Path) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_adlint"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run adlint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, ...), if the process and the
/// field exist.
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// CPU time (user + system, seconds) that process `pid` has used so far, from
/// `/proc/<pid>/stat` (fields 14 and 15, in clock ticks of 1/100 s on Linux).
pub fn proc_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it follow its `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // `rest` starts at field 3, so fields 14 and 15 are at 11 and 12.
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// Files under `dir` (recursively, sorted) that `keep` accepts.
pub fn files_under(
    dir: &std::path::Path,
    keep: &dyn Fn(&std::path::Path) -> bool,
) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for p in entries.flatten().map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The `.jl` files under `dir`.
pub fn julia_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    files_under(dir, &|p| p.extension().is_some_and(|e| e == "jl"))
}
