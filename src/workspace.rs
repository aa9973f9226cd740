//! File discovery, the package root, and versions from `Manifest.toml`.
//!
//! Given the paths a user passes, find the package around them (up to `Project.toml`), walk
//! it honouring `.gitignore`, read every `.jl` file that is valid UTF-8 text, and remember
//! which paths diagnostics should be reported for. This module does not parse Julia.

use crate::config::{self, Config};
use crate::version::{Version, Versions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why a workspace could not be read. The messages are what the user sees after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A path given on the command line that does not exist or cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
    /// A device, a pipe or a socket named on the command line.
    #[error("cannot read `{0}`: not a regular file or a folder")]
    NotASource(String),
    /// Every file named on the command line was skipped.
    #[error("no input file could be read: {0}")]
    NothingRead(String),
    /// A config file that cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

type Result<T> = std::result::Result<T, WorkspaceError>;

/// A file that could not be analysed, with the reason shown to the user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// One readable Julia file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Canonical absolute path.
    pub path: PathBuf,
    /// The path as shown to users (relative to the working directory when below it).
    pub display: String,
    /// The text, without a leading byte-order mark.
    pub text: String,
    /// Whether diagnostics in this file are reported (it is inside a path the user gave).
    pub reported: bool,
    /// Index into `Workspace::configs` of the config nearest to the file.
    pub config: usize,
}

/// A `Project.toml` of the workspace: a package (with a `name` and `src/<name>.jl`), or an
/// environment (a test suite's, an example's) without a name.
#[derive(Debug, Clone, Default)]
pub struct JuliaProject {
    /// The directory holding `Project.toml`.
    pub dir: PathBuf,
    /// The package name, when the project is a package.
    pub name: Option<String>,
    /// `[deps]`: packages loaded with it.
    pub deps: Vec<String>,
    /// `[extensions]`: each extension's name and the packages that trigger it.
    pub extensions: Vec<(String, Vec<String>)>,
    /// Versions from the `Manifest.toml` beside it, if any.
    pub versions: Versions,
}

impl JuliaProject {
    /// Read `Project.toml` (or `JuliaProject.toml`) in `dir`; `None` when there is none or
    /// it does not parse (a broken project file is no reason to stop the analysis).
    pub fn read(dir: &Path) -> Option<JuliaProject> {
        let text = ["JuliaProject.toml", "Project.toml"]
            .iter()
            .find_map(|n| read_text(&dir.join(n), MAX_FILE_BYTES).ok())?;
        let value = text.parse::<toml::Table>().ok()?;
        let keys = |table: &str| -> Vec<String> {
            (value.get(table).and_then(|d| d.as_table()))
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default()
        };
        let extensions = (value.get("extensions").and_then(|e| e.as_table()))
            .map(|t| {
                t.iter()
                    .map(|(ext, triggers)| {
                        let triggers = match triggers {
                            toml::Value::String(s) => vec![s.clone()],
                            toml::Value::Array(a) => (a.iter())
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect(),
                            _ => Vec::new(),
                        };
                        (ext.clone(), triggers)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(JuliaProject {
            dir: dir.to_path_buf(),
            name: (value.get("name").and_then(|n| n.as_str()))
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            deps: keys("deps"),
            extensions,
            versions: read_manifest(dir),
        })
    }

    /// The file that defines the package's module: `src/<name>.jl`.
    pub fn entry_file(&self) -> Option<PathBuf> {
        Some(
            self.dir
                .join("src")
                .join(format!("{}.jl", self.name.as_ref()?)),
        )
    }
}

/// The files of one analysis run.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The package root (the directory of `Project.toml`, else the directory given).
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub skipped: Vec<Skipped>,
    /// Warnings about the workspace itself (includes outside the root, ...).
    pub warnings: Vec<String>,
    pub versions: Versions,
    /// The `Project.toml` files found under the root (packages, test and example
    /// environments), sorted by directory.
    pub projects: Vec<JuliaProject>,
    /// Config files in use; `configs[0]` is the package root's (whole-program keys), or the
    /// defaults when there is none.
    pub configs: Vec<Config>,
    config_choice: ConfigChoice,
    /// Directory -> index of the nearest config, filled as files are added.
    config_dirs: HashMap<PathBuf, usize>,
    /// Texts of documents open in an editor, by path: an `include` of one of them reads
    /// the editor's text, also when the file was never saved (the language server).
    pub open_documents: HashMap<PathBuf, String>,
}

/// The configs of a workspace, kept for reuse.
#[derive(Debug, Clone, Default)]
pub struct ConfigState {
    configs: Vec<Config>,
    choice: ConfigChoice,
    dirs: HashMap<PathBuf, usize>,
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigChoice {
    /// The nearest `adlint.toml` / `.adlint.toml` above each file, up to the repository root.
    #[default]
    Discover,
    /// One file for everything (`--config FILE`).
    File(PathBuf),
    /// No config file at all (`--isolated`).
    Isolated,
}

/// `path` with `.` components dropped and each `..` removing the component before it,
/// without asking the file system (for paths that do not exist).
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Largest file adlint reads; bigger files are skipped with a warning. Julia source this
/// large is generated data, and skipping it keeps a run's memory bounded.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How a workspace reads a source file: [`read_source`], or a stand-in in tests that
/// injects filesystem faults.
pub type ReadSource<'a> = &'a dyn Fn(&Path) -> std::result::Result<String, String>;

impl Workspace {
    /// Discover the package around `paths` and read its Julia files, with the config files
    /// found next to them.
    pub fn discover(paths: &[PathBuf]) -> Result<Workspace> {
        Workspace::discover_with(paths, ConfigChoice::Discover)
    }

    /// [`Workspace::discover`] with the configuration taken from `choice`. A config that
    /// does not parse is an error.
    pub fn discover_with(paths: &[PathBuf], choice: ConfigChoice) -> Result<Workspace> {
        Workspace::discover_reading(paths, choice, &read_source)
    }

    /// [`Workspace::discover_with`], reading source files through `read`. A path that
    /// does not exist is a warning while other paths remain, an error when none does.
    pub fn discover_reading(
        paths: &[PathBuf],
        choice: ConfigChoice,
        read: ReadSource,
    ) -> Result<Workspace> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        // Made canonical once: each file is named relative to it.
        let cwd = cwd.canonicalize().unwrap_or(cwd);
        let mut targets = Vec::new();
        // Where the user named each target: a symbolic link named on the command line
        // stays in the package it sits in (its target may be anywhere), so the root is
        // found from the link, and a file it leads outside the root is never written.
        let mut named = Vec::new();
        let mut missing = Vec::new();
        for p in paths {
            match p.canonicalize() {
                // A device, a pipe or a socket named on the command line is no source.
                Ok(c) if !c.is_dir() && !c.is_file() => {
                    return Err(WorkspaceError::NotASource(p.display().to_string()));
                }
                Ok(c) => {
                    // `src/` names the link `src` too: with the slash, the system looks
                    // through the link (and the root would be found from its target).
                    let p: PathBuf = p.components().collect();
                    let p = p.as_path();
                    let link = std::fs::symlink_metadata(p).is_ok_and(|m| m.is_symlink());
                    let at = (p.parent())
                        .map(|d| {
                            if d.as_os_str().is_empty() {
                                Path::new(".")
                            } else {
                                d
                            }
                        })
                        .and_then(|d| d.canonicalize().ok())
                        .zip(p.file_name())
                        .map(|(d, n)| d.join(n));
                    named.push(match (link, at) {
                        (true, Some(at)) => at,
                        _ => c.clone(),
                    });
                    targets.push(c)
                }
                Err(e) => missing.push(WorkspaceError::Unreadable {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                }),
            }
        }
        if targets.is_empty() && !missing.is_empty() {
            return Err(missing.swap_remove(0));
        }
        let missing: Vec<String> = missing.iter().map(ToString::to_string).collect();
        if targets.is_empty() {
            targets.push(cwd.canonicalize().unwrap_or(cwd.clone()));
            named = targets.clone();
        }
        let root = package_root(&named);
        let mut ws = Workspace {
            root: root.clone(),
            warnings: missing,
            ..Workspace::default()
        };
        ws.versions = read_manifest(&root);
        ws.set_config_choice(choice)?;

        let mut seen = std::collections::HashSet::new();
        // A script outside any package: analyse the files given (and what they include),
        // not every file that happens to sit in the same directory.
        let has_package =
            root.join("Project.toml").is_file() || root.join("JuliaProject.toml").is_file();
        if !has_package && targets.iter().all(|t| t.is_file()) {
            for t in &targets {
                if seen.insert(t.clone()) {
                    ws.add_file(t, &cwd, &targets, read);
                }
            }
            if ws.files.is_empty() && !ws.skipped.is_empty() {
                return Err(WorkspaceError::NothingRead(skipped_reasons(&ws.skipped)));
            }
            ws.assign_configs()?;
            return Ok(ws);
        }
        // The root, and each folder named through a link that leads outside it (its files
        // are analysed and reported; `--fix` does not write them).
        let starts = std::iter::once(root.clone()).chain(
            (targets.iter())
                .filter(|t| t.is_dir() && !t.starts_with(&root))
                .cloned(),
        );
        let exclude = ws.configs[0].clone();
        let walks = starts.flat_map(|start| {
            let mut walker = ignore::WalkBuilder::new(&start);
            walker
                .hidden(true)
                .git_ignore(true)
                .git_exclude(true)
                .parents(true)
                .require_git(false)
                .follow_links(false);
            let exclude = exclude.clone();
            walker.filter_entry(move |e| !exclude.excludes(e.path()));
            walker.build().map(move |e| (e, start.clone()))
        });
        for (entry, start) in walks {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    ws.warnings
                        .push(format!("while walking {}: {e}", start.display()));
                    continue;
                }
            };
            let path = entry.path();
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file
                && (entry.file_name() == "Project.toml" || entry.file_name() == "JuliaProject.toml")
            {
                if let Some(p) = path.parent().and_then(JuliaProject::read) {
                    if !ws.projects.iter().any(|q| q.dir == p.dir) {
                        ws.projects.push(p);
                    }
                }
                continue;
            }
            // A `.jl` that is no regular file: a link to one is read (Julia's `include`
            // follows it), anything else (a FIFO, a device, a dangling link) is skipped
            // with its reason, by the reader.
            let other = entry
                .file_type()
                .is_some_and(|t| !t.is_file() && !t.is_dir());
            if other && path.extension().is_some_and(|e| e == "jl") {
                let why = match std::fs::metadata(path) {
                    Ok(m) if m.is_file() => None,
                    Ok(m) => Some(not_regular(&m.file_type())),
                    Err(e) => Some(format!("cannot read: {e}")),
                };
                if let Some(reason) = why {
                    let path = display_path_under(path, &cwd);
                    ws.skipped.push(Skipped { path, reason });
                    continue;
                }
            }
            if (is_file || other) && path.extension().is_some_and(|e| e == "jl") {
                let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
                if seen.insert(canonical.clone()) {
                    ws.add_file(&canonical, &cwd, &targets, read);
                    // Found in a folder asked for: its findings are reported, also when a
                    // link leads to it from outside that folder.
                    if let Some(f) = ws.files.last_mut().filter(|f| f.path == canonical) {
                        f.reported |= targets.iter().any(|t| path.starts_with(t));
                    }
                }
            }
        }
        // Files given explicitly are analysed even when git-ignored or outside the walk,
        // but not when the config excludes them (pre-commit hooks pass every changed file).
        for t in &targets {
            if t.is_file() && ws.configs[0].excludes(t) {
                ws.warnings.push(format!(
                    "{} is excluded by {}",
                    display_path(t, &cwd),
                    ws.configs[0]
                        .path
                        .as_deref()
                        .map(|p| display_path(p, &cwd))
                        .unwrap_or_default()
                ));
                continue;
            }
            if t.is_file() && seen.insert(t.clone()) {
                ws.add_file(t, &cwd, &targets, read);
            }
        }
        ws.assign_configs()?;
        // Files named on the command line that could not be read are an error at once;
        // a folder whose files were all skipped says why in its warnings, and the run
        // writes its output before it exits 2 (the CLI).
        if ws.files.is_empty() && !ws.skipped.is_empty() && targets.iter().all(|t| !t.is_dir()) {
            return Err(WorkspaceError::NothingRead(skipped_reasons(&ws.skipped)));
        }
        if ws.files.is_empty() && ws.skipped.is_empty() {
            let names: Vec<String> = targets.iter().map(|t| display_path(t, &cwd)).collect();
            ws.warnings.push(format!(
                "no Julia files (`*.jl`) found in {}",
                names.join(", ")
            ));
        }
        ws.files.sort_by(|a, b| a.path.cmp(&b.path));
        ws.projects.sort_by(|a, b| a.dir.cmp(&b.dir));
        Ok(ws)
    }

    /// A workspace from in-memory files (tests, the language server's open documents), with
    /// the default config; see [`Workspace::use_configs`].
    pub fn from_sources(root: &Path, files: Vec<(PathBuf, String)>) -> Workspace {
        let mut ws = Workspace {
            root: root.to_path_buf(),
            configs: vec![Config {
                dir: root.to_path_buf(),
                ..Config::default()
            }],
            config_choice: ConfigChoice::Isolated,
            ..Workspace::default()
        };
        let base = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        for (path, text) in files {
            let display = display_path_under(&path, &base);
            ws.files.push(SourceFile {
                path,
                display,
                text: strip_bom(text),
                reported: true,
                config: 0,
            });
        }
        ws.files.sort_by(|a, b| a.path.cmp(&b.path));
        ws
    }

    fn add_file(&mut self, path: &Path, cwd: &Path, targets: &[PathBuf], read: ReadSource) {
        let display = display_path_under(path, cwd);
        let reported = targets.iter().any(|t| path.starts_with(t));
        match read(path) {
            Ok(text) => self.files.push(SourceFile {
                path: path.to_path_buf(),
                display,
                text,
                reported,
                config: 0,
            }),
            Err(reason) => self.skipped.push(Skipped {
                path: display,
                reason,
            }),
        }
    }

    /// Read a file named by `include("...")` that the walk did not find (for example one
    /// that is git-ignored). Refuses paths outside the root.
    /// `known` maps the path of each file loaded so far to its index (the caller keeps it
    /// across the includes of a run: a package has thousands).
    pub fn load_included(
        &mut self,
        path: &Path,
        known: &mut HashMap<PathBuf, usize>,
    ) -> Option<usize> {
        // Files are kept by canonical path, so a path made of a file's directory and plain
        // names (no `..`, no symbolic link it could cross back over) names a loaded file
        // exactly when it is that file's path: no need to ask the file system.
        if path.is_absolute()
            && !(path.components()).any(|c| matches!(c, std::path::Component::ParentDir))
        {
            if let Some(&i) = known.get(&normalize_lexically(path)) {
                return Some(i);
            }
        }
        // A document that exists only in the editor has no canonical path: its path with
        // `.` and `..` resolved is the one the editor gave (see `lsp::analyze::path_of_uri`).
        let canonical = path.canonicalize().ok().or_else(|| {
            let p = normalize_lexically(path);
            self.open_documents.contains_key(&p).then_some(p)
        })?;
        if let Some(&i) = known.get(&canonical) {
            return Some(i);
        }
        if !canonical.starts_with(&self.root) {
            return None;
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        // An open document is reported: the editor shows its findings.
        let (text, reported) = match self.open_documents.get(&canonical) {
            Some(text) => (strip_bom(text.clone()), true),
            None => (read_source(&canonical).ok()?, false),
        };
        let config = match self.config_for(&canonical) {
            Ok(c) => c,
            Err(e) => {
                self.warnings
                    .push(format!("{e}; using the package's config instead"));
                0
            }
        };
        known.insert(canonical.clone(), self.files.len());
        self.files.push(SourceFile {
            display: display_path(&canonical, &cwd),
            path: canonical,
            text,
            reported,
            config,
        });
        Some(self.files.len() - 1)
    }

    /// Load the package root's config according to `choice` (and forget any others).
    fn set_config_choice(&mut self, choice: ConfigChoice) -> Result<()> {
        let root_config = match &choice {
            ConfigChoice::Isolated => None,
            // Canonical, so that its globs are relative to where the file really is.
            ConfigChoice::File(p) => Some(p.canonicalize().unwrap_or_else(|_| p.clone())),
            ConfigChoice::Discover => find_config(&self.root),
        };
        let root = match root_config {
            Some(p) => config::load(&p)?,
            None => Config {
                dir: self.root.clone(),
                ..Config::default()
            },
        };
        self.configs = vec![root];
        self.config_choice = choice;
        self.config_dirs.clear();
        Ok(())
    }

    /// The index of the config that governs a file, loading it when first seen.
    fn config_for(&mut self, path: &Path) -> std::result::Result<usize, config::ConfigError> {
        if self.config_choice != ConfigChoice::Discover {
            return Ok(0);
        }
        let Some(dir) = path.parent() else {
            return Ok(0);
        };
        if let Some(&i) = self.config_dirs.get(dir) {
            return Ok(i);
        }
        let i = match find_config(dir) {
            None => 0,
            Some(p) if Some(p.as_path()) == self.configs[0].path.as_deref() => 0,
            Some(p) => match self
                .configs
                .iter()
                .position(|c| c.path.as_deref() == Some(&p))
            {
                Some(i) => i,
                None => {
                    let c = config::load(&p)?;
                    if c.has_whole_program_keys() {
                        self.warnings.push(format!(
                            "{}: `zygote-version`, `confirm-memory`, `confirm-timeout`, `exclude`, `[entry-points]` and `[knowledge]` are read only from the package root's config; ignored here",
                            p.display()
                        ));
                    }
                    self.configs.push(c);
                    self.configs.len() - 1
                }
            },
        };
        self.config_dirs.insert(dir.to_path_buf(), i);
        Ok(i)
    }

    /// Give every file its nearest config.
    fn assign_configs(&mut self) -> Result<()> {
        for i in 0..self.files.len() {
            let path = self.files[i].path.clone();
            self.files[i].config = self.config_for(&path)?;
        }
        Ok(())
    }

    /// Re-read configs for the files already present (the language server builds its
    /// workspaces from open documents, then calls this with the same choice as the CLI).
    pub fn use_configs(&mut self, choice: ConfigChoice) -> Result<()> {
        self.set_config_choice(choice)?;
        self.assign_configs()
    }

    /// The config that governs a file.
    pub fn config_of(&self, file: usize) -> &Config {
        static DEFAULT: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
        self.configs
            .get(self.files[file].config)
            .unwrap_or_else(|| DEFAULT.get_or_init(Config::default))
    }

    /// The configs found, to give to a workspace built later from the same files
    /// ([`Workspace::adopt_configs`]).
    pub fn config_state(&self) -> ConfigState {
        ConfigState {
            configs: self.configs.clone(),
            choice: self.config_choice.clone(),
            dirs: self.config_dirs.clone(),
        }
    }

    /// Use configs found before (the language server rebuilds its workspaces from open
    /// documents on every edit, without re-reading config files). Files in directories not
    /// seen before look their config up.
    pub fn adopt_configs(&mut self, state: &ConfigState) {
        self.configs = state.configs.clone();
        self.config_choice = state.choice.clone();
        self.config_dirs = state.dirs.clone();
        if self.configs.is_empty() {
            self.configs.push(Config {
                dir: self.root.clone(),
                ..Config::default()
            });
        }
        for i in 0..self.files.len() {
            let path = self.files[i].path.clone();
            self.files[i].config = match self.config_for(&path) {
                Ok(c) => c,
                Err(e) => {
                    self.warnings
                        .push(format!("{e}; using the package's config instead"));
                    0
                }
            };
        }
    }

    /// The package root's config (whole-program keys).
    pub fn root_config(&self) -> Option<&Config> {
        self.configs.first()
    }
}

/// Config discovery: the nearest `adlint.toml` / `.adlint.toml`.
/// The config file in `dir`, if any (`adlint.toml` before `.adlint.toml`).
pub fn file_in(dir: &Path) -> Option<PathBuf> {
    config::FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Whether `dir` is the top of a repository (configs above it are not used).
pub fn is_repository_root(dir: &Path) -> bool {
    dir.join(".git").exists() || dir.join(".hg").exists()
}

/// The nearest config at or above `dir`, stopping at the repository root.
pub fn find_config(dir: &Path) -> Option<PathBuf> {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if let Some(p) = file_in(d) {
            return Some(p);
        }
        if is_repository_root(d) {
            return None;
        }
        cur = d.parent();
    }
    None
}

/// Read a source file: refuse huge, binary and non-UTF-8 files with a reason. Only regular
/// files are read (a FIFO or device named `.jl` would block or never end), and never more
/// than the size limit, even when the file grows while it is read.
pub fn read_source(path: &Path) -> std::result::Result<String, String> {
    decode_source(read_bounded(path, MAX_FILE_BYTES)?)
}

/// The bytes of a regular file of at most `limit` bytes, or why not. Every file adlint
/// reads goes through here (sources, configs, project and manifest files, baselines,
/// tables): a FIFO, a device (`--config /dev/zero` read forever) or a huge file is
/// refused with its reason, before anything is held.
pub fn read_bounded(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let too_large = || match limit >= 1024 * 1024 {
        true => format!("larger than {} MB", limit / (1024 * 1024)),
        false => format!("larger than {limit} bytes"),
    };
    // Asked before opening: opening a FIFO waits for a writer that may never come.
    let kind = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !kind.is_file() {
        return Err(not_regular(&kind.file_type()));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text, without a byte-order mark.
pub fn read_text(path: &Path, limit: u64) -> std::result::Result<String, String> {
    let bytes = read_bounded(path, limit)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(strip_bom(text))
}

/// Why a path that is no regular file is not read, naming what it is.
fn not_regular(t: &std::fs::FileType) -> String {
    let what = if t.is_dir() { " (a folder)" } else { "" };
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            " (a FIFO)"
        } else if t.is_socket() {
            " (a socket)"
        } else if t.is_char_device() || t.is_block_device() {
            " (a device)"
        } else {
            what
        }
    };
    format!("not a regular file{what}")
}

/// `path: reason` of each skipped file, for an error message.
fn skipped_reasons(skipped: &[Skipped]) -> String {
    let shown: Vec<String> = (skipped.iter().take(5))
        .map(|s| format!("{}: {}", s.path, s.reason))
        .collect();
    match skipped.len() {
        n if n > 5 => format!("{} (and {} more skipped)", shown.join("; "), n - 5),
        _ => shown.join("; "),
    }
}

/// Bytes to text: binary data (a NUL byte) and invalid UTF-8 are refused.
pub fn decode_source(bytes: Vec<u8>) -> std::result::Result<String, String> {
    // A byte-order mark of UTF-16 or UTF-32 (editors on Windows save so): text, but not
    // the UTF-8 Julia reads; its NUL bytes would call it binary.
    let marks: [(&[u8], &str); 4] = [
        (&[0xFF, 0xFE, 0, 0], "UTF-32"),
        (&[0, 0, 0xFE, 0xFF], "UTF-32"),
        (&[0xFF, 0xFE], "UTF-16"),
        (&[0xFE, 0xFF], "UTF-16"),
    ];
    if let Some((_, name)) = marks.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Err(format!(
            "{name} text (Julia reads UTF-8 only: save it as UTF-8)"
        ));
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err("binary file".to_string());
    }
    match String::from_utf8(bytes) {
        Ok(s) if crate::syntax::nests_too_deep(&s) => Err(format!(
            "brackets nested more than {} deep",
            crate::syntax::MAX_NESTING
        )),
        Ok(s) => Ok(strip_bom(s)),
        Err(e) => Err(format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )),
    }
}

fn strip_bom(s: String) -> String {
    match s.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

/// Relative to `base` when below it, else absolute.
pub fn display_path(path: &Path, base: &Path) -> String {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    display_path_under(path, &base)
}

/// [`display_path`] with a base that is already canonical (no file system call: for
/// callers that name thousands of paths under one base).
pub fn display_path_under(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        // Windows separators shown as `/`; elsewhere a backslash is part of a file's name.
        Ok(rel) if !rel.as_os_str().is_empty() && cfg!(windows) => {
            rel.to_string_lossy().replace('\\', "/")
        }
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
        _ => path.to_string_lossy().into_owned(),
    }
}

/// The nearest directory with a `Project.toml` above the first target, else the target
/// directory itself.
fn package_root(targets: &[PathBuf]) -> PathBuf {
    let first = &targets[0];
    let start = if first.is_dir() {
        first.clone()
    } else {
        first.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let has_project =
        |d: &Path| d.join("Project.toml").is_file() || d.join("JuliaProject.toml").is_file();
    let mut cur = Some(start.as_path());
    while let Some(dir) = cur {
        if has_project(dir) {
            // A test suite's, the docs' or a benchmark's own environment runs with the
            // package above it: analyse them together, so that a file's findings do not
            // depend on the path given.
            let environment = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                matches!(n, "test" | "tests" | "docs" | "benchmark" | "benchmarks")
            });
            match dir.parent() {
                Some(parent) if environment && has_project(parent) => return parent.to_path_buf(),
                _ => return dir.to_path_buf(),
            }
        }
        cur = dir.parent();
    }
    // No package: the common ancestor of all targets.
    let mut root = start.clone();
    for t in &targets[1..] {
        while !t.starts_with(&root) {
            match root.parent() {
                Some(p) => root = p.to_path_buf(),
                None => break,
            }
        }
    }
    root
}

/// Versions of Zygote, Flux and Julia from `Manifest.toml` (format 1 and 2).
pub fn read_manifest(root: &Path) -> Versions {
    let mut v = Versions::default();
    let text = ["Manifest.toml", "JuliaManifest.toml"]
        .iter()
        .find_map(|n| read_text(&root.join(n), MAX_FILE_BYTES).ok());
    let Some(text) = text else { return v };
    let Ok(value) = text.parse::<toml::Table>() else {
        return v;
    };
    v.julia = value
        .get("julia_version")
        .and_then(|j| j.as_str())
        .and_then(Version::parse);
    // Format 2 keeps packages under `deps`; format 1 at the top level.
    let deps = value
        .get("deps")
        .and_then(|d| d.as_table())
        .unwrap_or(&value);
    let version_of = |name: &str| -> Option<Version> {
        deps.get(name)?
            .as_array()?
            .first()?
            .get("version")?
            .as_str()
            .and_then(Version::parse)
    };
    v.zygote = version_of("Zygote");
    v.flux = version_of("Flux");
    v.packages = std::sync::Arc::new(
        (deps.keys())
            .filter_map(|name| Some((name.clone(), version_of(name)?)))
            .collect(),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(Version::parse("0.6.70"), Some(Version(0, 6, 70)));
        assert_eq!(Version::parse("v1.11.0-rc1"), Some(Version(1, 11, 0)));
        assert_eq!(Version::parse("0.6.70.1"), None);
        assert!(Version(0, 6, 70) < Version(0, 6, 71));
    }

    #[test]
    fn decode_refuses_binary_and_invalid_utf8() {
        assert_eq!(decode_source(vec![0, 1, 2]), Err("binary file".into()));
        let utf16: Vec<u8> = [0xFF, 0xFE, b'f', 0, b'(', 0].to_vec();
        assert_eq!(
            decode_source(utf16),
            Err("UTF-16 text (Julia reads UTF-8 only: save it as UTF-8)".into())
        );
        assert!(decode_source(vec![b'a', 0xff])
            .unwrap_err()
            .starts_with("not UTF-8"));
        assert_eq!(decode_source("\u{feff}x = 1".into()).unwrap(), "x = 1");
    }

    #[test]
    fn paths_of_unsaved_documents_are_normalized_without_the_file_system() {
        use super::normalize_lexically;
        let p = |s: &str| std::path::PathBuf::from(s);
        assert_eq!(normalize_lexically(&p("/w/src/./b.jl")), p("/w/src/b.jl"));
        assert_eq!(
            normalize_lexically(&p("/w/src/../lib/b.jl")),
            p("/w/lib/b.jl")
        );
        assert_eq!(normalize_lexically(&p("/w/b.jl")), p("/w/b.jl"));
    }
}
