//! The version from which each rule of a built-in source exists, read from the releases in
//! the source's git history: a rule added in ChainRules 1.70 does not cover anything for a
//! project whose manifest holds ChainRules 1.65.

use super::{extract, BuiltinSource, Checkout, Extracted, SourceInfo, XRule};
use crate::version::Version;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

/// How many releases back (one per minor version, its newest patch) a rule's first
/// version is looked for; a rule in the oldest of them gets no `since`.
pub const RELEASES: usize = 12;

/// The key that identifies a rule across versions.
pub fn key(r: &XRule) -> (String, String, bool, String) {
    (
        r.kind.clone(),
        r.function.clone(),
        r.functor,
        r.params.join(";"),
    )
}

/// The release tags of `source` in `git_dir`, oldest first: `v1.2.3`, or
/// `<Name>-v1.2.3` for a package that lives in a folder of a repository of several.
pub fn release_tags(
    git_dir: &Path,
    source: &BuiltinSource,
) -> Result<Vec<(Version, String)>, String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["tag", "-l"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("{}: not a git directory", git_dir.display()));
    }
    let prefix = match &source.project {
        Some(_) => format!("{}-v", source.name),
        None => "v".to_string(),
    };
    let mut tags: Vec<(Version, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|tag| {
            let rest = tag.strip_prefix(&prefix)?;
            // Not a pre-release (`v1.2.0-rc1`) nor another package's tag.
            let plain = rest.chars().all(|c| c.is_ascii_digit() || c == '.');
            Some((Version::parse(rest).filter(|_| plain)?, tag.to_string()))
        })
        .collect();
    tags.sort();
    tags.dedup_by(|a, b| a.0 == b.0);
    Ok(tags)
}

/// Of `tags` (oldest first), the newest patch of each of the last `n` minor versions.
fn newest_patches(tags: &[(Version, String)], n: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::new();
    for (i, (v, _)) in tags.iter().enumerate() {
        let same_minor = |j: usize| (tags[j].0 .0, tags[j].0 .1) == (v.0, v.1);
        match picked.last() {
            Some(&j) if same_minor(j) => *picked.last_mut().expect("one") = i,
            _ => picked.push(i),
        }
    }
    picked.split_off(picked.len().saturating_sub(n))
}

/// Export `tag`'s folders of `source` into `dest` (a folder missing at that tag is skipped).
fn export(git_dir: &Path, tag: &str, dirs: &[String], dest: &Path) -> Result<(), String> {
    for d in dirs {
        let mut archive = Command::new("git")
            .arg("--git-dir")
            .arg(git_dir)
            .args(["archive", "--format=tar", tag, "--", d])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let stdout = archive.stdout.take().expect("piped");
        let status = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(dest)
            .stdin(stdout)
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        let _ = archive.wait();
        let _ = status;
    }
    Ok(())
}

/// Set `since` on the rules of `extracted` (a built-in source read at its listed commit)
/// that its older releases in `git_dir` lack. The newest patch of each of the last
/// [`RELEASES`] minor versions is read; a rule first seen in one of them may have come in
/// any release after the one read before it, so `since` is the first release after that
/// one: a rule is taken to exist wherever it may (a finding on correct code costs more
/// than a missed one). A rule in the oldest release read gets none. Returns the releases
/// read.
pub fn set_since(
    git_dir: &Path,
    source: &BuiltinSource,
    extracted: &mut Extracted,
) -> Result<Vec<String>, String> {
    let current = extracted.source.version.as_deref().and_then(Version::parse);
    let mut tags = release_tags(git_dir, source)?;
    tags.retain(|(v, _)| current.is_none_or(|c| *v <= c));
    let picked = newest_patches(&tags, RELEASES);
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let mut present: Vec<HashSet<(String, String, bool, String)>> = Vec::new();
    for &i in &picked {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        export(git_dir, &tags[i].1, &source.dirs, tmp.path())?;
        let checkout = Checkout {
            info: SourceInfo {
                name: source.name.clone(),
                repo: source.repo.clone(),
                commit: String::new(),
                version: None,
            },
            root: tmp.path().to_path_buf(),
            dirs: source.dirs.clone(),
        };
        let x =
            extract(std::slice::from_ref(&checkout), &mut Vec::new()).map_err(|e| e.to_string())?;
        present.push(x[0].rules.iter().map(key).collect());
    }
    // The first release after the one read at `picked[k]`, or the version at the listed
    // commit after the newest.
    let after = |k: usize| -> Option<String> {
        match tags.get(picked[k] + 1) {
            Some((v, _)) => Some(v.to_string()),
            None => current.map(|c| c.to_string()),
        }
    };
    for r in &mut extracted.rules {
        let k = key(r);
        r.since = match present.iter().position(|set| set.contains(&k)) {
            Some(0) => None,
            Some(i) => after(i - 1),
            None => after(picked.len() - 1),
        };
    }
    Ok(picked.into_iter().map(|i| tags[i].1.clone()).collect())
}
