//! The server's mutable state, behind one mutex that is never held across an await.

use super::analyze::{DocInput, Inputs, Project, Snapshot};
use super::convert::Encoding;
use super::document::Document;
use crate::analysis::Options;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::ls_types::Uri;

/// What the client said it supports.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCaps {
    /// `textDocument/diagnostic`: the client pulls, so the server does not push.
    pub pull: bool,
    /// `workspace/diagnostic/refresh`.
    pub refresh: bool,
    /// `window/workDoneProgress`.
    pub progress: bool,
    /// Dynamic registration of `workspace/didChangeWatchedFiles`.
    pub dynamic_watch: bool,
}

/// An open document. One file is one document however the client names it: a second
/// URI for the same path (`./` in it, percent-encoded letters, a symbolic link) is an
/// alias of the first, sharing its text.
pub struct OpenDoc {
    pub uri: Uri,
    pub path: PathBuf,
    pub doc: Document,
    /// Other URIs the client opened for the same file, still open.
    pub aliases: Vec<Uri>,
}

#[derive(Default)]
pub struct State {
    pub encoding: Option<Encoding>,
    pub caps: ClientCaps,
    pub folders: Vec<PathBuf>,
    pub projects: Vec<Arc<Project>>,
    pub docs: HashMap<String, OpenDoc>,
    /// Bumped on every change of an input of the analysis.
    pub generation: u64,
    pub snapshot: Option<Arc<Snapshot>>,
    /// What the client was last sent per URI (the notification, and whether it had no
    /// diagnostics), for files with diagnostics or open.
    pub published: HashMap<String, (Arc<[u8]>, bool)>,
    pub options: Options,
    pub shutdown: bool,
    /// Discoveries started so far; each takes the next number as its ticket.
    pub discoveries_started: u64,
    /// The ticket of the discovery whose projects are in `projects`.
    pub discovery_applied: u64,
    /// The workspace folders are being indexed for the first time. Nothing is analysed
    /// meanwhile: a document opened in a folder, analysed without the files not read yet,
    /// would get diagnostics missing every finding reached from those files' entry points.
    pub indexing: bool,
}

/// A workspace discovery in flight: its ticket and what it set out to find.
pub struct Discovery {
    pub ticket: u64,
    pub folders: Vec<PathBuf>,
    /// Scopes of the loose projects (documents outside every folder) known at its start.
    pub loose: Vec<PathBuf>,
}

impl State {
    pub fn encoding(&self) -> Encoding {
        self.encoding.unwrap_or(Encoding::Utf16)
    }

    /// Whether a path is covered by a workspace folder or a discovered project.
    pub fn in_workspace(&self, path: &std::path::Path) -> bool {
        self.folders.iter().any(|f| path.starts_with(f))
            || self
                .projects
                .iter()
                .any(|p| !p.loose && path.starts_with(&p.root))
    }

    /// Start a discovery of every folder and loose project.
    pub fn begin_discovery(&mut self) -> Discovery {
        self.discoveries_started += 1;
        Discovery {
            ticket: self.discoveries_started,
            folders: self.folders.clone(),
            loose: self
                .projects
                .iter()
                .filter(|p| p.loose)
                .flat_map(|p| p.scope.clone())
                .collect(),
        }
    }

    /// Replace the projects with what a discovery found. Discoveries run concurrently (the
    /// first indexing, a file watcher event, a folder change); one that started before the
    /// applied one read older files and is dropped, so a config edited on disk is never
    /// overwritten by a slow earlier read. Loose projects added or closed while it ran are
    /// respected. Returns whether the projects changed hands.
    pub fn apply_discovery(&mut self, run: &Discovery, found: Vec<Project>) -> bool {
        if run.ticket < self.discovery_applied {
            return false;
        }
        self.discovery_applied = run.ticket;
        self.indexing = false;
        // One project per package root: folders inside one package share it.
        let mut projects: Vec<Arc<Project>> = Vec::new();
        for p in found {
            match projects.iter_mut().find(|q| q.root == p.root) {
                Some(q) => {
                    let mut merged = Project {
                        root: q.root.clone(),
                        files: q.files.clone(),
                        versions: q.versions.clone(),
                        projects: q.projects.clone(),
                        skipped: q.skipped.clone(),
                        scope: q.scope.clone(),
                        loose: q.loose && p.loose,
                        configs: q.configs.clone(),
                        config_error: q.config_error.clone(),
                    };
                    merged.scope.extend(p.scope);
                    *q = Arc::new(merged);
                }
                None => projects.push(Arc::new(p)),
            }
        }
        // Loose projects opened while the discovery ran (it did not know them).
        for p in &self.projects {
            let known = p.scope.iter().any(|s| run.loose.contains(s));
            if p.loose && !known && !projects.iter().any(|q| q.root == p.root) {
                projects.push(p.clone());
            }
        }
        // A loose project whose document is now inside a folder project, or whose
        // documents were closed meanwhile, is dropped.
        let folder_roots: Vec<PathBuf> = projects
            .iter()
            .filter(|p| !p.loose)
            .map(|p| p.root.clone())
            .collect();
        let open: Vec<PathBuf> = self.docs.values().map(|d| d.path.clone()).collect();
        projects.retain(|p| {
            !p.loose
                || (!folder_roots
                    .iter()
                    .any(|r| p.scope.iter().all(|s| s.starts_with(r)))
                    && loose_in_use(p, &open))
        });
        self.projects = projects;
        true
    }

    /// The key of the open document `uri` names, directly or as an alias.
    pub fn key_of(&self, uri: &Uri) -> Option<String> {
        if self.docs.contains_key(uri.as_str()) {
            return Some(uri.as_str().to_string());
        }
        (self.docs.iter())
            .find(|(_, d)| d.aliases.contains(uri))
            .map(|(k, _)| k.clone())
    }

    /// Open `uri` at `path` with `doc`: a new document, or new text for the document
    /// already open for that file under another URI (which keeps its key).
    pub fn open(&mut self, uri: Uri, path: PathBuf, doc: Document) {
        let same_file = (self.docs.iter_mut()).find(|(k, d)| d.path == path && *k != uri.as_str());
        if let Some((_, d)) = same_file {
            d.doc = doc;
            if !d.aliases.contains(&uri) {
                d.aliases.push(uri);
            }
            return;
        }
        let key = uri.as_str().to_string();
        let aliases = (self.docs.remove(&key)).map_or_else(Vec::new, |d| d.aliases);
        self.docs.insert(
            key,
            OpenDoc {
                uri,
                path,
                doc,
                aliases,
            },
        );
    }

    /// Close `uri`: an alias goes, the document stays while another of its URIs is open
    /// (then keyed by that one). The closed document, when it was the last of its URIs.
    pub fn close(&mut self, uri: &Uri) -> Option<OpenDoc> {
        let key = self.key_of(uri)?;
        let d = self.docs.get_mut(&key)?;
        if let Some(i) = d.aliases.iter().position(|a| a == uri) {
            d.aliases.remove(i);
            return None;
        }
        let mut d = self.docs.remove(&key)?;
        if d.aliases.is_empty() {
            return Some(d);
        }
        d.uri = d.aliases.remove(0);
        self.docs.insert(d.uri.as_str().to_string(), d);
        None
    }

    /// Drop the loose projects no open document needs any more.
    pub fn drop_unused_loose(&mut self) {
        let open: Vec<PathBuf> = self.docs.values().map(|d| d.path.clone()).collect();
        self.projects.retain(|p| !p.loose || loose_in_use(p, &open));
    }

    pub fn inputs(&self) -> Inputs {
        let mut oversized: Vec<(Uri, PathBuf, i32)> = (self.docs.values())
            .filter(|d| d.doc.too_large)
            .map(|d| (d.uri.clone(), d.path.clone(), d.doc.version))
            .collect();
        oversized.sort_by(|a, b| a.1.cmp(&b.1));
        let mut docs: Vec<DocInput> = (self.docs.values())
            .filter(|d| !d.doc.too_large)
            .map(|d| DocInput {
                uri: d.uri.clone(),
                path: d.path.clone(),
                text: d.doc.text.clone(),
                version: d.doc.version,
                parsed: (!d.doc.provisional()).then(|| crate::syntax::Parsed {
                    tree: d.doc.tree.clone(),
                    error_count: d.doc.parse_errors,
                }),
            })
            .collect();
        docs.sort_by(|a, b| a.path.cmp(&b.path));
        Inputs {
            generation: self.generation,
            encoding: self.encoding(),
            projects: self.projects.clone(),
            docs,
            oversized,
            options: self.options.clone(),
        }
    }
}

/// Whether an open document lies in a loose project's scope.
fn loose_in_use(p: &Project, open: &[PathBuf]) -> bool {
    open.iter()
        .any(|d| p.scope.iter().any(|s| d.starts_with(s)))
}

/// Lock a mutex, recovering the data when a panicking handler poisoned it (the panic was
/// logged; the state itself is consistent because every update is a few assignments).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn project(root: &str, loose: bool, config_error: Option<&str>) -> Project {
        Project {
            root: PathBuf::from(root),
            files: Vec::new(),
            versions: Default::default(),
            projects: Vec::new(),
            skipped: Vec::new(),
            scope: vec![PathBuf::from(root)],
            loose,
            configs: Default::default(),
            config_error: config_error.map(str::to_string),
        }
    }

    fn open(st: &mut State, path: &str) {
        let uri: Uri = format!("file://{path}").parse().unwrap();
        st.docs.insert(
            uri.as_str().to_string(),
            OpenDoc {
                uri,
                path: PathBuf::from(path),
                doc: Document::new(String::new(), 1),
                aliases: Vec::new(),
            },
        );
    }

    #[test]
    fn a_discovery_that_started_earlier_never_overwrites_a_later_one() {
        let mut st = State {
            folders: vec![PathBuf::from("/w")],
            ..State::default()
        };
        let first = st.begin_discovery();
        let second = st.begin_discovery();
        // The second (started after a config edit) finishes first.
        assert!(st.apply_discovery(&second, vec![project("/w", false, Some("new"))]));
        assert!(!st.apply_discovery(&first, vec![project("/w", false, None)]));
        assert_eq!(st.projects.len(), 1);
        assert_eq!(st.projects[0].config_error.as_deref(), Some("new"));
        // In order, each applies.
        let third = st.begin_discovery();
        assert!(st.apply_discovery(&third, vec![project("/w", false, None)]));
        assert_eq!(st.projects[0].config_error, None);
    }

    #[test]
    fn loose_projects_opened_or_closed_during_a_discovery_are_respected() {
        let mut st = State {
            folders: vec![PathBuf::from("/w")],
            ..State::default()
        };
        open(&mut st, "/x/a.jl");
        open(&mut st, "/y/b.jl");
        st.projects.push(Arc::new(project("/x", true, None)));
        let run = st.begin_discovery();
        assert_eq!(run.loose, [PathBuf::from("/x")]);
        // Meanwhile /y/b.jl gets its loose project and /x/a.jl is closed.
        st.projects.push(Arc::new(project("/y", true, None)));
        st.docs.retain(|_, d| d.path != Path::new("/x/a.jl"));
        st.drop_unused_loose();
        assert!(st.apply_discovery(
            &run,
            vec![project("/w", false, None), project("/x", true, None)]
        ));
        let roots: Vec<&str> = st
            .projects
            .iter()
            .map(|p| p.root.to_str().unwrap())
            .collect();
        assert_eq!(roots, ["/w", "/y"]);
    }

    #[test]
    fn a_loose_project_inside_a_folder_project_is_dropped() {
        let mut st = State::default();
        open(&mut st, "/w/sub/a.jl");
        st.projects.push(Arc::new(project("/w/sub", true, None)));
        let run = st.begin_discovery();
        st.apply_discovery(
            &run,
            vec![project("/w", false, None), project("/w/sub", true, None)],
        );
        assert_eq!(st.projects.len(), 1);
        assert!(!st.projects[0].loose);
    }
}
