//! The server's mutable state, behind one mutex that is never held across an await.

use super::analyze::{DocInput, Inputs, Project, Snapshot};
use super::convert::Encoding;
use super::document::Document;
use crate::analysis::Options;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::ls_types::{Diagnostic, Uri};

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

pub struct OpenDoc {
    pub uri: Uri,
    pub path: PathBuf,
    pub doc: Document,
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
    /// What the client was last sent per URI (version, diagnostics), for files with
    /// diagnostics or open.
    pub published: HashMap<String, (Option<i32>, Vec<Diagnostic>)>,
    pub options: Options,
    pub shutdown: bool,
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

    pub fn inputs(&self) -> Inputs {
        let mut docs: Vec<DocInput> = self
            .docs
            .values()
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
            options: self.options.clone(),
        }
    }
}

/// Lock a mutex, recovering the data when a panicking handler poisoned it (the panic was
/// logged; the state itself is consistent because every update is a few assignments).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
