//! The `LanguageServer` implementation and the background analysis worker.
//!
//! Document and workspace notifications update [`State`] synchronously (no await before
//! the update, so edits apply in the order they arrive), bump the generation and wake the
//! worker. The worker throttles (leading edge, adapted to the analysis time), runs the
//! analysis on a blocking thread, stores the snapshot, and publishes it unless a newer
//! generation is already waiting. Workspace discoveries may overlap; the one started last wins
//! ([`State::apply_discovery`]). Requests that read analysis results (hover, code actions,
//! pull diagnostics) first wait until the snapshot covers the generation current when they
//! arrived; a cancelled request is dropped while it waits.

use super::analyze::{self, Project, Snapshot};
use super::convert::Encoding;
use super::document::Document;
use super::features;
use super::state::{lock, ClientCaps, State};
use super::{catch_panic, panic_message, Outbox, Outgoing, ServeOptions};
use crate::analysis::FactsCache;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};
use tower_lsp_server::jsonrpc::{self, ErrorCode};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub struct Shared {
    state: Mutex<State>,
    dirty: Notify,
    /// The generation of the latest finished analysis.
    done: watch::Sender<u64>,
    /// The generation of the latest analysis whose diagnostics were pushed (or that
    /// failed): the indexing progress ends with it.
    published: watch::Sender<u64>,
    cache: Mutex<FactsCache>,
    /// Held while diagnostics are being pushed, so that a clear on close and a publish
    /// never interleave.
    publishing: tokio::sync::Mutex<()>,
    options: ServeOptions,
}

pub struct Backend {
    client: Client,
    shared: Arc<Shared>,
    /// Diagnostics are pushed through here, serialised by the analysis.
    outbox: Outbox,
}

const WATCH_ID: &str = "adlint-watch";

/// The first indexing of the workspace folders, from `initialized` until its discovery is
/// applied. Ending it (also when the handler fails half-way) lets the analysis run.
struct Indexing<'a>(&'a Backend);

impl<'a> Indexing<'a> {
    fn begin(backend: &'a Backend) -> Indexing<'a> {
        let mut st = lock(&backend.shared.state);
        st.indexing = !st.folders.is_empty();
        Indexing(backend)
    }
}

impl Drop for Indexing<'_> {
    fn drop(&mut self) {
        let mut st = lock(&self.0.shared.state);
        if st.indexing {
            st.indexing = false;
            self.0.changed(&mut st);
        }
    }
}

impl Backend {
    pub fn new(client: Client, options: ServeOptions, outbox: Outbox) -> Backend {
        Backend {
            client,
            outbox,
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                dirty: Notify::new(),
                done: watch::Sender::new(0),
                published: watch::Sender::new(0),
                cache: Mutex::new(FactsCache::default()),
                publishing: tokio::sync::Mutex::new(()),
                options,
            }),
        }
    }

    /// `adlint/debugPanic` (only with `ServeOptions::debug_methods`): panics inside the
    /// guard, to test that a panicking handler is reported and the server keeps serving.
    pub async fn debug_panic(&self) -> jsonrpc::Result<()> {
        self.request("adlint/debugPanic", async {
            if std::hint::black_box(true) {
                panic!("deliberate panic for tests");
            }
            Ok(())
        })
        .await
    }

    /// `adlint/debugSleep` (only with `ServeOptions::debug_methods`): `{"ms"}`: answers
    /// after that long, standing in for a request that waits on a long analysis.
    pub async fn debug_sleep(
        &self,
        params: serde_json::Value,
    ) -> jsonrpc::Result<serde_json::Value> {
        self.request("adlint/debugSleep", async {
            let ms = params["ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(serde_json::Value::Null)
        })
        .await
    }

    /// `adlint/debugDocument` (only with `ServeOptions::debug_methods`): `{"uri"}` ->
    /// `{"version", "text", "outline", "provisional"}` of the open document, `null` when it
    /// is not open.
    pub async fn debug_document(
        &self,
        params: serde_json::Value,
    ) -> jsonrpc::Result<serde_json::Value> {
        self.request("adlint/debugDocument", async {
            let st = lock(&self.shared.state);
            let uri = params["uri"].as_str().and_then(|u| u.parse::<Uri>().ok());
            let key = uri.and_then(|u| st.key_of(&u)).unwrap_or_default();
            Ok(match st.docs.get(&key) {
                Some(d) => serde_json::json!({
                    "version": d.doc.version,
                    "text": d.doc.text,
                    "outline": crate::syntax::outline(&d.doc.tree),
                    "provisional": d.doc.provisional(),
                }),
                None => serde_json::Value::Null,
            })
        })
        .await
    }

    /// Run a request handler; a panic becomes a logged internal error.
    async fn request<T>(
        &self,
        name: &str,
        fut: impl Future<Output = jsonrpc::Result<T>>,
    ) -> jsonrpc::Result<T> {
        match catch_panic(fut).await {
            Ok(r) => r,
            Err(msg) => {
                self.log_error(format!("adlint: {name} panicked: {msg}"))
                    .await;
                Err(jsonrpc::Error {
                    code: ErrorCode::InternalError,
                    message: format!("adlint: internal error in {name}: {msg}").into(),
                    data: None,
                })
            }
        }
    }

    /// Run a notification handler; a panic is logged.
    async fn notification(&self, name: &str, fut: impl Future<Output = ()>) {
        if let Err(msg) = catch_panic(fut).await {
            self.log_error(format!("adlint: {name} panicked: {msg}"))
                .await;
        }
    }

    async fn log_error(&self, msg: String) {
        eprintln!("{msg}");
        self.client.log_message(MessageType::ERROR, msg).await;
    }

    fn changed(&self, st: &mut State) {
        st.generation += 1;
        self.shared.dirty.notify_one();
    }

    /// The newest snapshot once it covers every change received so far.
    async fn snapshot(&self) -> Arc<Snapshot> {
        let generation = lock(&self.shared.state).generation;
        let mut rx = self.shared.done.subscribe();
        let _ = rx.wait_for(|&g| g >= generation).await;
        lock(&self.shared.state)
            .snapshot
            .clone()
            .unwrap_or_else(|| Arc::new(Snapshot::empty()))
    }

    /// Discover every workspace folder (and re-discover loose projects) in the background.
    async fn discover(&self, with_progress: bool) {
        let run = lock(&self.shared.state).begin_discovery();
        let folders = run.folders.clone();
        let loose = run.loose.clone();
        let mut progress = None;
        if with_progress && lock(&self.shared.state).caps.progress {
            let token = NumberOrString::String("adlint/discover".to_string());
            if self
                .client
                .create_work_done_progress(token.clone())
                .await
                .is_ok()
            {
                progress = Some(
                    self.client
                        .progress(token, "adlint")
                        .with_message(format!("discovering {} workspace folder(s)", folders.len()))
                        .begin()
                        .await,
                );
            }
        }
        let found = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut errors = Vec::new();
            for (path, is_loose) in folders
                .iter()
                .map(|f| (f, false))
                .chain(loose.iter().map(|f| (f, true)))
            {
                if is_loose && !path.exists() {
                    continue;
                }
                match Project::discover(path, is_loose) {
                    Ok(p) => {
                        if let Some(e) = &p.config_error {
                            errors.push(format!(
                                "adlint: config ignored for {}: {e}",
                                path.display()
                            ));
                        }
                        out.push(p)
                    }
                    Err(e) => {
                        errors.push(format!("adlint: cannot discover {}: {e:#}", path.display()))
                    }
                }
            }
            (out, errors)
        })
        .await;
        let (found, errors) = match found {
            Ok(x) => x,
            Err(e) => (
                Vec::new(),
                vec![format!("adlint: workspace discovery failed: {e}")],
            ),
        };
        for e in errors {
            self.client.log_message(MessageType::WARNING, e).await;
        }
        let (files, generation) = {
            let mut st = lock(&self.shared.state);
            if st.apply_discovery(&run, found) {
                self.changed(&mut st);
            }
            let files = st.projects.iter().map(|p| p.files.len()).sum::<usize>();
            (files, st.generation)
        };
        // The progress lasts until the files found are analysed and their diagnostics
        // pushed, which is what users wait for; the handler does not wait.
        if let Some(p) = progress {
            p.report(format!("analysing {files} Julia file(s)")).await;
            let mut done = self.shared.published.subscribe();
            tokio::spawn(async move {
                let _ = done.wait_for(|&g| g >= generation).await;
                p.finish_with_message(format!("{files} Julia file(s) analysed"))
                    .await;
            });
        }
    }

    async fn register_watchers(&self) {
        let watchers = [
            "**/*.jl",
            "**/adlint.toml",
            "**/.adlint.toml",
            "**/Manifest.toml",
            "**/Project.toml",
        ]
        .iter()
        .map(|g| FileSystemWatcher {
            glob_pattern: GlobPattern::String(g.to_string()),
            kind: None,
        })
        .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: WATCH_ID.to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            self.client
                .log_message(
                    MessageType::WARNING,
                    format!("adlint: cannot watch files: {e}"),
                )
                .await;
        }
    }
}

/// The analysis loop: one analysis at a time, always of the newest inputs (edits that
/// arrive during an analysis are taken together by the next one). A leading-edge throttle
/// spaces the starts of analyses in a burst of edits by twice the last analysis's time
/// (the server analyses at most half the time), never by more than the debounce interval:
/// an edit after a quiet spell is analysed at once, and a fast analysis is not held back
/// by a fixed interval.
async fn worker(shared: Arc<Shared>, client: Client, outbox: Outbox) {
    let mut last = None;
    let mut last_start: Option<std::time::Instant> = None;
    let mut last_cost = std::time::Duration::ZERO;
    loop {
        shared.dirty.notified().await;
        let interval = shared.options.debounce.min(last_cost * 2);
        if let Some(wait) = last_start.and_then(|t| interval.checked_sub(t.elapsed())) {
            tokio::time::sleep(wait).await;
        }
        let started = std::time::Instant::now();
        last_start = Some(started);
        let inputs = {
            let st = lock(&shared.state);
            if st.shutdown {
                return;
            }
            if last == Some(st.generation) || st.indexing {
                continue;
            }
            st.inputs()
        };
        let generation = inputs.generation;
        last = Some(generation);
        let mut cache = std::mem::take(&mut *lock(&shared.cache));
        let result = tokio::task::spawn_blocking(move || {
            let mut inputs = inputs;
            let mut fresh: Vec<(String, String, crate::syntax::Parsed)> = Vec::new();
            for d in inputs.docs.iter_mut().filter(|d| d.parsed.is_none()) {
                let parsed = crate::syntax::parse(&d.text);
                fresh.push((d.uri.as_str().to_string(), d.text.clone(), parsed.clone()));
                d.parsed = Some(parsed);
            }
            let snapshot = analyze::run(inputs, &mut cache);
            (snapshot, cache, fresh)
        })
        .await;
        last_cost = started.elapsed();
        match result {
            Ok((snapshot, cache, fresh)) => {
                *lock(&shared.cache) = cache;
                {
                    let mut st = lock(&shared.state);
                    for (key, text, parsed) in fresh {
                        if let Some(d) = st.docs.get_mut(&key) {
                            d.doc.settle(&text, parsed);
                        }
                    }
                }
                if std::env::var_os("ADLINT_LSP_TRACE").is_some() {
                    eprintln!(
                        "adlint lsp: generation {generation} analysed in {:.1} ms",
                        snapshot.elapsed.as_secs_f64() * 1000.0
                    );
                }
                let snapshot = Arc::new(snapshot);
                lock(&shared.state).snapshot = Some(snapshot.clone());
                shared.done.send_replace(generation);
                if let Err(msg) = catch_panic(publish(&shared, &client, &outbox, &snapshot)).await {
                    let msg = format!("adlint: publishing diagnostics panicked: {msg}");
                    eprintln!("{msg}");
                    client.log_message(MessageType::ERROR, msg).await;
                }
                shared.published.send_replace(generation);
            }
            // The runtime is shutting down.
            Err(e) if e.is_cancelled() => return,
            Err(e) => {
                // The cache went with the panicking thread; the next run starts afresh.
                let msg = if e.is_panic() {
                    panic_message(e.into_panic().as_ref())
                } else {
                    e.to_string()
                };
                let msg = format!("adlint: analysis panicked: {msg}");
                eprintln!("{msg}");
                client.log_message(MessageType::ERROR, msg).await;
                // Requests waiting for this generation get the previous snapshot.
                shared.done.send_replace(generation);
                shared.published.send_replace(generation);
            }
        }
    }
}

/// Push the snapshot's diagnostics (push mode), or ask the client to pull again.
async fn publish(shared: &Shared, client: &Client, outbox: &Outbox, snap: &Snapshot) {
    let _guard = shared.publishing.lock().await;
    let (sends, refresh) = {
        let mut st = lock(&shared.state);
        if st.generation != snap.generation {
            // Newer inputs are waiting: their analysis publishes.
            return;
        }
        if st.caps.pull {
            (Vec::new(), st.caps.refresh)
        } else {
            let mut keys: Vec<&String> = snap.reports.keys().collect();
            keys.sort();
            let mut sends = Vec::new();
            let mut now: HashMap<String, (Arc<[u8]>, bool)> = HashMap::new();
            for key in keys {
                let r = &snap.reports[key];
                let empty = r.diagnostics.is_empty();
                let previous = st.published.get(key);
                // The same notification: the same version and diagnostics.
                let unchanged = previous.is_some_and(|(sent, _)| *sent == r.notification)
                    || (previous.is_none() && empty && !st.docs.contains_key(key));
                if !unchanged {
                    sends.push(r.notification.clone());
                }
                if !empty || st.docs.contains_key(key) {
                    now.insert(key.clone(), (r.notification.clone(), empty));
                }
            }
            // Files that had diagnostics and are no longer analysed (deleted, closed).
            for (key, (_, empty)) in &st.published {
                if !now.contains_key(key) && !snap.reports.contains_key(key) && !empty {
                    if let Ok(uri) = key.parse::<Uri>() {
                        sends.push(analyze::publish_notification(&uri, None, b"[]"));
                    }
                }
            }
            st.published = now;
            (sends, false)
        }
    };
    for body in sends {
        let _ = outbox.send(Outgoing::Shared(body)).await;
    }
    if refresh {
        let client = client.clone();
        tokio::spawn(async move {
            let _ = client.workspace_diagnostic_refresh().await;
        });
    }
}

fn folder_paths(params: &InitializeParams) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(folders) = &params.workspace_folders {
        for f in folders {
            if let Some(p) = f.uri.to_file_path() {
                out.push(p.into_owned());
            }
        }
    }
    #[allow(deprecated)]
    if out.is_empty() {
        if let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path()) {
            out.push(p.into_owned());
        }
    }
    out.into_iter()
        .map(|p| p.canonicalize().unwrap_or(p))
        .collect()
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> jsonrpc::Result<InitializeResult> {
        self.request("initialize", async {
            let caps = &params.capabilities;
            let encoding = Encoding::negotiate(
                caps.general
                    .as_ref()
                    .and_then(|g| g.position_encodings.as_deref()),
            );
            let client_caps = ClientCaps {
                pull: caps
                    .text_document
                    .as_ref()
                    .and_then(|t| t.diagnostic.as_ref())
                    .is_some(),
                refresh: caps
                    .workspace
                    .as_ref()
                    .and_then(|w| w.diagnostics.as_ref())
                    .and_then(|d| d.refresh_support)
                    .unwrap_or(false),
                progress: caps
                    .window
                    .as_ref()
                    .and_then(|w| w.work_done_progress)
                    .unwrap_or(false),
                dynamic_watch: caps
                    .workspace
                    .as_ref()
                    .and_then(|w| w.did_change_watched_files.as_ref())
                    .and_then(|d| d.dynamic_registration)
                    .unwrap_or(false),
            };
            {
                let mut st = lock(&self.shared.state);
                st.encoding = Some(encoding);
                st.caps = client_caps;
                st.folders = folder_paths(&params);
            }
            tokio::spawn(worker(
                self.shared.clone(),
                self.client.clone(),
                self.outbox.clone(),
            ));

            let capabilities = ServerCapabilities {
                position_encoding: Some(encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        will_save: None,
                        will_save_wait_until: None,
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            features::fix_all_kind(),
                        ]),
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                        resolve_provider: Some(false),
                    },
                )),
                diagnostic_provider: client_caps.pull.then(|| {
                    DiagnosticServerCapabilities::Options(DiagnosticOptions {
                        identifier: Some("adlint".to_string()),
                        inter_file_dependencies: true,
                        workspace_diagnostics: true,
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                    })
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            };
            Ok(InitializeResult {
                capabilities,
                server_info: Some(ServerInfo {
                    name: "adlint".to_string(),
                    version: Some(env!("CARGO_PKG_VERSION").to_string()),
                }),
                offset_encoding: None,
            })
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        self.notification("initialized", async {
            let _indexing = Indexing::begin(self);
            if lock(&self.shared.state).caps.dynamic_watch {
                self.register_watchers().await;
            }
            self.discover(true).await;
        })
        .await
    }

    async fn shutdown(&self) -> jsonrpc::Result<()> {
        let mut st = lock(&self.shared.state);
        st.shutdown = true;
        self.shared.dirty.notify_one();
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.notification("didOpen", async {
            let item = params.text_document;
            let path = analyze::path_of_uri(&item.uri);
            let needs_project = {
                let mut st = lock(&self.shared.state);
                let doc = Document::new(item.text, item.version);
                st.open(item.uri.clone(), path.clone(), doc);
                self.changed(&mut st);
                !st.in_workspace(&path)
                    && !st.projects.iter().any(|p| p.contains(&path))
                    && path.is_file()
            };
            if needs_project {
                // Outside every folder: analyse the package around it, like `adlint check FILE`.
                let p = path.clone();
                if let Ok(Ok(project)) =
                    tokio::task::spawn_blocking(move || Project::discover(&p, true)).await
                {
                    let mut st = lock(&self.shared.state);
                    if st.key_of(&item.uri).is_some()
                        && !st.projects.iter().any(|q| q.root == project.root)
                    {
                        st.projects.push(Arc::new(project));
                        self.changed(&mut st);
                    }
                }
            }
        })
        .await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.notification("didChange", async {
            let version = params.text_document.version;
            let mut st = lock(&self.shared.state);
            let enc = st.encoding();
            let key = st.key_of(&params.text_document.uri).unwrap_or_default();
            let applied = match st.docs.get_mut(&key) {
                // Versions only grow; an older or repeated one is stale and ignored.
                Some(d) if version > d.doc.version => {
                    d.doc.apply(params.content_changes, version, enc);
                    true
                }
                _ => false,
            };
            if applied {
                self.changed(&mut st);
            }
        })
        .await
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.notification("didClose", async {
            let uri = params.text_document.uri;
            let key = uri.as_str().to_string();
            let clear = {
                let mut st = lock(&self.shared.state);
                let Some(doc) = st.close(&uri) else {
                    return;
                };
                let outside = !st.in_workspace(&doc.path);
                if outside {
                    st.drop_unused_loose();
                }
                self.changed(&mut st);
                outside && !st.caps.pull
            };
            if clear {
                let _guard = self.shared.publishing.lock().await;
                lock(&self.shared.state).published.remove(&key);
                let clear = analyze::publish_notification(&uri, None, b"[]");
                let _ = self.outbox.send(Outgoing::Shared(clear)).await;
            }
        })
        .await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        self.notification("didChangeWatchedFiles", async {
            if !params.changes.is_empty() {
                self.discover(false).await;
            }
        })
        .await
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        self.notification("didChangeWorkspaceFolders", async {
            {
                let mut st = lock(&self.shared.state);
                let path = |f: &WorkspaceFolder| {
                    f.uri
                        .to_file_path()
                        .map(|p| p.into_owned())
                        .map(|p| p.canonicalize().unwrap_or(p))
                };
                let removed: Vec<PathBuf> = params.event.removed.iter().filter_map(path).collect();
                st.folders.retain(|f| !removed.contains(f));
                for f in params.event.added.iter().filter_map(path) {
                    if !st.folders.contains(&f) {
                        st.folders.push(f);
                    }
                }
            }
            self.discover(true).await;
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> jsonrpc::Result<Option<Hover>> {
        self.request("hover", async {
            let snap = self.snapshot().await;
            let p = params.text_document_position_params;
            Ok(features::hover(&snap, &p.text_document.uri, p.position))
        })
        .await
    }

    async fn code_action(
        &self,
        params: CodeActionParams,
    ) -> jsonrpc::Result<Option<CodeActionResponse>> {
        self.request("codeAction", async {
            let snap = self.snapshot().await;
            let actions = features::code_actions(
                &snap,
                &params.text_document.uri,
                params.range,
                params.context.only.as_deref(),
            );
            Ok(Some(actions))
        })
        .await
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> jsonrpc::Result<DocumentDiagnosticReportResult> {
        self.request("textDocument/diagnostic", async {
            let snap = self.snapshot().await;
            // Keyed by content, so a re-analysis that changes nothing for this document
            // (another file edited, the workspace indexed) still answers `unchanged`.
            let (items, result_id) = match snap.reports.get(params.text_document.uri.as_str()) {
                Some(r) => (r.diagnostics.clone(), r.result_id.clone()),
                None => (Vec::new(), analyze::result_id(b"[]")),
            };
            if params.previous_result_id.as_deref() == Some(result_id.as_str()) {
                return Ok(DocumentDiagnosticReportResult::Report(
                    DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                        related_documents: None,
                        unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                            result_id,
                        },
                    }),
                ));
            }
            Ok(DocumentDiagnosticReportResult::Report(
                DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                    related_documents: None,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(result_id),
                        items,
                    },
                }),
            ))
        })
        .await
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> jsonrpc::Result<WorkspaceDiagnosticReportResult> {
        self.request("workspace/diagnostic", async {
            let snap = self.snapshot().await;
            let previous: HashMap<&str, &str> = params
                .previous_result_ids
                .iter()
                .map(|p| (p.uri.as_str(), p.value.as_str()))
                .collect();
            let mut keys: Vec<&String> = snap.reports.keys().collect();
            keys.sort();
            let mut items = Vec::new();
            for key in keys {
                let r = &snap.reports[key];
                let result_id = r.result_id.clone();
                let version = r.version.map(i64::from);
                if previous.get(key.as_str()) == Some(&result_id.as_str()) {
                    items.push(WorkspaceDocumentDiagnosticReport::Unchanged(
                        WorkspaceUnchangedDocumentDiagnosticReport {
                            uri: r.uri.clone(),
                            version,
                            unchanged_document_diagnostic_report:
                                UnchangedDocumentDiagnosticReport {
                                    result_id: result_id.clone(),
                                },
                        },
                    ));
                } else {
                    items.push(WorkspaceDocumentDiagnosticReport::Full(
                        WorkspaceFullDocumentDiagnosticReport {
                            uri: r.uri.clone(),
                            version,
                            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                                result_id: Some(result_id.clone()),
                                items: r.diagnostics.clone(),
                            },
                        },
                    ));
                }
            }
            Ok(WorkspaceDiagnosticReportResult::Report(
                WorkspaceDiagnosticReport { items },
            ))
        })
        .await
    }
}
