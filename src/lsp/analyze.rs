//! One analysis of everything the server knows: the discovered projects with open
//! documents' texts substituted, and open documents that belong to no project. Runs on a
//! blocking thread; the result is an immutable [`Snapshot`] that every request reads.

use super::convert::{self, Encoding, FileMap, TextRef};
use crate::analysis::{self, Analysis, FactsCache, Options};
use crate::version::Versions;
use crate::workspace::{ConfigChoice, ConfigState, Skipped, Workspace, WorkspaceError};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::ls_types::{Diagnostic, Uri};

/// A package found on disk: a workspace folder's, or the one around a document opened
/// outside every folder.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub files: Vec<(PathBuf, String)>,
    pub versions: Versions,
    /// The `Project.toml` files of the package (program units).
    pub projects: Vec<crate::workspace::JuliaProject>,
    pub skipped: Vec<Skipped>,
    /// Diagnostics are published for files under these paths (and for open documents).
    pub scope: Vec<PathBuf>,
    /// Discovered for a document outside the workspace folders; dropped when it closes.
    pub loose: bool,
    /// The config files around the package, as the CLI finds them.
    pub configs: ConfigState,
    /// A config that could not be read or is invalid: the project runs without config
    /// files and the server tells the user.
    pub config_error: Option<String>,
}

impl Project {
    /// The same discovery as the CLI (`Workspace::discover`).
    pub fn discover(path: &Path, loose: bool) -> Result<Project, WorkspaceError> {
        let paths = [path.to_path_buf()];
        let found = Workspace::discover(&paths).and_then(|ws| {
            crate::rules::check_configs(&ws)?;
            Ok(ws)
        });
        let (ws, config_error) = match found {
            Ok(ws) => (ws, None),
            Err(WorkspaceError::Config(e)) => (
                Workspace::discover_with(&paths, ConfigChoice::Isolated)?,
                Some(e.to_string()),
            ),
            Err(e) => return Err(e),
        };
        let scope = vec![path.canonicalize().unwrap_or_else(|_| path.to_path_buf())];
        Ok(Project {
            configs: ws.config_state(),
            config_error,
            root: ws.root,
            files: ws.files.into_iter().map(|f| (f.path, f.text)).collect(),
            versions: ws.versions,
            projects: ws.projects,
            skipped: ws.skipped,
            scope,
            loose,
        })
    }

    pub fn contains(&self, path: &Path) -> bool {
        self.files.iter().any(|(p, _)| p == path)
    }
}

/// An open document as the analysis sees it.
#[derive(Debug, Clone)]
pub struct DocInput {
    pub uri: Uri,
    pub path: PathBuf,
    pub text: String,
    pub version: i32,
    /// The document's tree, reused by the analysis; `None` while it is provisional
    /// ([`super::document::Document::provisional`]): the worker parses it afresh.
    pub parsed: Option<crate::syntax::Parsed>,
}

pub struct Inputs {
    pub generation: u64,
    pub encoding: Encoding,
    pub projects: Vec<Arc<Project>>,
    pub docs: Vec<DocInput>,
    /// Open documents over the size `adlint check` reads: (URI, path, version). They are
    /// not analysed (nor their files on disk); each gets one diagnostic saying so.
    pub oversized: Vec<(Uri, PathBuf, i32)>,
    pub options: Options,
}

/// One analysed project.
pub struct Unit {
    pub analysis: Analysis,
    pub uris: Vec<Option<Uri>>,
    /// Diagnostic indices per file.
    pub by_file: Vec<Vec<usize>>,
    /// Whether diagnostics of each file are published.
    pub publish: Vec<bool>,
}

impl FileMap for Unit {
    fn text(&self, file: u32) -> TextRef<'_> {
        TextRef {
            text: &self.analysis.workspace.files[file as usize].text,
            lines: &self.analysis.facts[file as usize].line_index,
        }
    }
    fn uri(&self, file: u32) -> Option<Uri> {
        self.uris.get(file as usize).cloned().flatten()
    }
}

/// Diagnostics of one file, ready to send.
pub struct FileReport {
    pub uri: Uri,
    pub version: Option<i32>,
    pub diagnostics: Vec<Diagnostic>,
    /// The pull result id: a hash of the diagnostics' JSON, so that an analysis that changes
    /// nothing for the file answers `unchanged`.
    pub result_id: String,
    /// The whole `textDocument/publishDiagnostics` notification, serialised with the
    /// others on all threads (one thread serialising a large workspace's thousands of
    /// findings was a tenth of its indexing).
    pub notification: Arc<[u8]>,
}

impl FileReport {
    pub fn new(uri: Uri, version: Option<i32>, diagnostics: Vec<Diagnostic>) -> FileReport {
        let json = serde_json::to_vec(&diagnostics).expect("diagnostics serialise");
        FileReport {
            result_id: result_id(&json),
            notification: publish_notification(&uri, version, &json),
            uri,
            version,
            diagnostics,
        }
    }
}

/// A result id for pull diagnostics, from their JSON.
pub fn result_id(json: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    json.hash(&mut h);
    format!("d{:016x}", h.finish())
}

/// The JSON-RPC body of `textDocument/publishDiagnostics` for `uri`, given its
/// diagnostics already serialised (`[]` clears them).
pub fn publish_notification(uri: &Uri, version: Option<i32>, diagnostics: &[u8]) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(diagnostics.len() + uri.as_str().len() + 100);
    out.extend_from_slice(
        br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#,
    );
    serde_json::to_writer(&mut out, uri.as_str()).expect("a string serialises");
    out.extend_from_slice(br#","diagnostics":"#);
    out.extend_from_slice(diagnostics);
    if let Some(v) = version {
        out.extend_from_slice(format!(r#","version":{v}"#).as_bytes());
    }
    out.extend_from_slice(b"}}");
    out.into()
}

pub struct Snapshot {
    pub generation: u64,
    pub encoding: Encoding,
    pub units: Vec<Unit>,
    /// Open document URI (as the client wrote it) -> (unit, file).
    pub by_uri: HashMap<String, (usize, u32)>,
    /// Every published file, by URI string.
    pub reports: HashMap<String, FileReport>,
    pub elapsed: std::time::Duration,
}

impl Snapshot {
    pub fn empty() -> Snapshot {
        Snapshot {
            generation: 0,
            encoding: Encoding::Utf16,
            units: Vec::new(),
            by_uri: HashMap::new(),
            reports: HashMap::new(),
            elapsed: std::time::Duration::ZERO,
        }
    }

    pub fn locate(&self, uri: &Uri) -> Option<(&Unit, u32)> {
        let (u, f) = *self.by_uri.get(uri.as_str())?;
        Some((&self.units[u], f))
    }
}

pub fn path_of_uri(uri: &Uri) -> PathBuf {
    match uri.to_file_path() {
        // A file not saved yet: its directory made canonical, as an include of it will be.
        Some(p) => {
            let p = p.into_owned();
            p.canonicalize()
                .ok()
                .or_else(|| Some(p.parent()?.canonicalize().ok()?.join(p.file_name()?)))
                .unwrap_or(p)
        }
        // An unsaved buffer (`untitled:Untitled-1`): a path that exists nowhere.
        None => PathBuf::from(format!(
            "/adlint-unsaved/{}",
            uri.as_str().replace([':', '/'], "_")
        )),
    }
}

pub fn run(inputs: Inputs, cache: &mut FactsCache) -> Snapshot {
    let started = std::time::Instant::now();
    let mut assigned = vec![false; inputs.docs.len()];
    let doc_by_path: HashMap<&Path, usize> = inputs
        .docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.path.as_path(), i))
        .collect();
    let oversized: std::collections::HashSet<&Path> = (inputs.oversized.iter())
        .map(|(_, p, _)| p.as_path())
        .collect();
    let open_documents: HashMap<PathBuf, String> = (inputs.docs.iter())
        .map(|d| (d.path.clone(), d.text.clone()))
        .collect();
    let mut jobs: Vec<(Workspace, Vec<PathBuf>)> = Vec::new();
    for project in &inputs.projects {
        let mut files: Vec<(PathBuf, String)> = (project.files.iter())
            .filter(|(p, _)| !oversized.contains(p.as_path()))
            .map(|(p, t)| match doc_by_path.get(p.as_path()) {
                Some(&i) => {
                    assigned[i] = true;
                    (p.clone(), inputs.docs[i].text.clone())
                }
                None => (p.clone(), t.clone()),
            })
            .collect();
        // Open documents inside the package that discovery did not list (new, unsaved).
        if !project.loose {
            for (i, d) in inputs.docs.iter().enumerate() {
                if !project.contains(&d.path) && d.path.starts_with(&project.root) {
                    assigned[i] = true;
                    files.push((d.path.clone(), d.text.clone()));
                }
            }
        }
        let mut ws = Workspace::from_sources(&project.root, files);
        ws.open_documents = open_documents.clone();
        ws.adopt_configs(&project.configs);
        ws.versions = project.versions.clone();
        ws.projects = project.projects.clone();
        ws.skipped = project.skipped.clone();
        jobs.push((ws, project.scope.clone()));
    }
    for (i, d) in inputs.docs.iter().enumerate() {
        if !assigned[i] {
            let root = d.path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut ws = Workspace::from_sources(&root, vec![(d.path.clone(), d.text.clone())]);
            ws.open_documents = open_documents.clone();
            // A document outside every package still follows the config around it.
            if d.path.exists() {
                let checked = ws.use_configs(ConfigChoice::Discover).and_then(|()| {
                    crate::rules::check_configs(&ws)?;
                    Ok(())
                });
                if let Err(e) = checked {
                    ws.warnings.push(format!("{e:#}; config ignored"));
                    // Isolated reads no file, so it cannot fail.
                    let _ = ws.use_configs(ConfigChoice::Isolated);
                }
            }
            jobs.push((ws, vec![d.path.clone()]));
        }
    }

    let parsed: HashMap<PathBuf, crate::syntax::Parsed> = inputs
        .docs
        .iter()
        .filter_map(|d| Some((d.path.clone(), d.parsed.clone()?)))
        .collect();
    let mut units = Vec::new();
    for (ws, scope) in jobs {
        let mut analysis = analysis::analyze_cached(ws, &inputs.options, cache, &parsed);
        crate::fix::attach_to_documents(&mut analysis, &parsed);
        let n = analysis.workspace.files.len();
        let mut by_file = vec![Vec::new(); n];
        for (i, d) in analysis.diagnostics.iter().enumerate() {
            by_file[d.location.file as usize].push(i);
        }
        let mut uris = Vec::with_capacity(n);
        let mut publish = Vec::with_capacity(n);
        for f in &analysis.workspace.files {
            let open = doc_by_path.get(f.path.as_path()).map(|&i| &inputs.docs[i]);
            uris.push(match open {
                Some(d) => Some(d.uri.clone()),
                None => Uri::from_file_path(&f.path),
            });
            publish.push(open.is_some() || scope.iter().any(|s| f.path.starts_with(s)));
        }
        units.push(Unit {
            analysis,
            uris,
            by_file,
            publish,
        });
    }

    let mut by_uri = HashMap::new();
    // The files to report, each once (the first unit that has it): chosen in order, then
    // converted in parallel (a large workspace has thousands of findings).
    let mut todo: Vec<(String, Uri, usize, usize, Option<i32>)> = Vec::new();
    let mut chosen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (ui, unit) in units.iter().enumerate() {
        for (fi, f) in unit.analysis.workspace.files.iter().enumerate() {
            let Some(uri) = unit.uris[fi].clone() else {
                continue;
            };
            let key = uri.as_str().to_string();
            let open = doc_by_path.get(f.path.as_path()).map(|&i| &inputs.docs[i]);
            if open.is_some() {
                by_uri.entry(key.clone()).or_insert((ui, fi as u32));
            }
            if !unit.publish[fi] || !chosen.insert(key.clone()) {
                continue;
            }
            todo.push((key, uri, ui, fi, open.map(|d| d.version)));
        }
    }
    let mut reports: HashMap<String, FileReport> = todo
        .into_par_iter()
        .map(|(key, uri, ui, fi, version)| {
            let unit = &units[ui];
            let diagnostics = unit.by_file[fi]
                .iter()
                .map(|&di| {
                    convert::diagnostic(unit, &unit.analysis.diagnostics[di], inputs.encoding)
                })
                .collect();
            (key, FileReport::new(uri, version, diagnostics))
        })
        .collect();
    for (uri, _, version) in &inputs.oversized {
        let diagnostic = Diagnostic {
            range: Default::default(),
            severity: Some(tower_lsp_server::ls_types::DiagnosticSeverity::WARNING),
            source: Some("adlint".into()),
            message: format!(
                "not analysed: the document is larger than {} MB or nests brackets more than {} deep, beyond what `adlint check` reads",
                crate::workspace::MAX_FILE_BYTES / (1024 * 1024),
                crate::syntax::MAX_NESTING
            ),
            ..Default::default()
        };
        let report = FileReport::new(uri.clone(), Some(*version), vec![diagnostic]);
        reports.insert(uri.as_str().to_string(), report);
    }
    Snapshot {
        generation: inputs.generation,
        encoding: inputs.encoding,
        units,
        by_uri,
        reports,
        elapsed: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{
        DiagnosticSeverity, NumberOrString, Position, PublishDiagnosticsParams, Range,
    };

    /// The notification written by hand is the one tower-lsp-server would have sent.
    #[test]
    fn publish_notification_matches_the_typed_params() {
        let uri: Uri = "file:///w/src/a%20b.jl".parse().unwrap();
        let diagnostics = vec![Diagnostic {
            range: Range::new(Position::new(3, 4), Position::new(3, 9)),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String("index-assignment".into())),
            message: "Zygote \"cannot\" differentiate `x[i] = v`\n\u{e9}".into(),
            ..Default::default()
        }];
        for version in [None, Some(7)] {
            let report = FileReport::new(uri.clone(), version, diagnostics.clone());
            let ours: serde_json::Value = serde_json::from_slice(&report.notification).unwrap();
            let params = PublishDiagnosticsParams::new(uri.clone(), diagnostics.clone(), version);
            let expected = serde_json::json!({
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": serde_json::to_value(params).unwrap(),
            });
            assert_eq!(ours, expected);
        }
        let clear: serde_json::Value =
            serde_json::from_slice(&publish_notification(&uri, None, b"[]")).unwrap();
        assert_eq!(clear["params"]["diagnostics"], serde_json::json!([]));
        assert!(clear["params"].get("version").is_none());
        // The result id follows the content only.
        let a = FileReport::new(uri.clone(), Some(1), diagnostics.clone());
        let b = FileReport::new(uri.clone(), Some(2), diagnostics);
        let empty = FileReport::new(uri, Some(1), Vec::new());
        assert_eq!(a.result_id, b.result_id);
        assert_ne!(a.result_id, empty.result_id);
    }
}
