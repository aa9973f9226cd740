//! One analysis run: facts for every file (in parallel), the include graph, the index, the
//! call graph, the rules, and the filter to the paths the user asked about. The CLI and the
//! language server both call [`analyze`].

use crate::callgraph::{self, CallGraph};
use crate::config::{CliSelection, Selection};
use crate::diagnostic::{Diagnostic, Severity};
use crate::facts::{self, FileFacts};
use crate::index::{self, Index};
use crate::rules::{self, Rule, RuleContext, Settings};
use crate::syntax;
use crate::version::Version;
use crate::workspace::Workspace;
use std::collections::HashMap;
use std::path::PathBuf;

/// Which rules run, and how the environment is configured: the command line's part.
/// Config files come with the workspace (`Workspace::configs`); the command line wins.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rule names or categories to run, replacing the config's `select`; empty: the config's.
    pub select: Vec<String>,
    /// Rule names or categories to run in addition.
    pub extend_select: Vec<String>,
    /// Rule names or categories to skip.
    pub ignore: Vec<String>,
    /// Overrides the version found in the config and in `Manifest.toml`.
    pub zygote_version: Option<Version>,
    /// Also report findings whose call chain holds two or more guessed steps.
    pub include_guesses: bool,
    /// The reference interpreter's budgets from the command line; they override the
    /// config's.
    pub confirm: crate::config::ConfirmLimits,
    /// Backend profiles beside the bundled ones (replacing a bundled one of the same
    /// backend): how a new backend is tried before its profile ships.
    pub profiles: Vec<crate::knowledge::Profile>,
    /// Told how far the run is (the command line's progress bar); none by default, and
    /// none in the language server.
    pub progress: Option<ProgressHook>,
}

/// What a long run reports as it goes: each phase with the number of its steps (files to
/// parse, rules to run), then each step done. Called from the worker threads.
pub trait Progress: Send + Sync {
    /// A phase starts: `what` it does, over `total` steps.
    fn phase(&self, what: &str, total: usize);
    /// One step of the current phase is done.
    fn step(&self);
}

/// A [`Progress`] in [`Options`] (which are cloned and printed for debugging).
#[derive(Clone)]
pub struct ProgressHook(pub std::sync::Arc<dyn Progress>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

impl Options {
    fn cli_selection(&self) -> CliSelection {
        CliSelection {
            select: self.select.clone(),
            extend_select: self.extend_select.clone(),
            ignore: self.ignore.clone(),
        }
    }
}

pub struct Analysis {
    pub workspace: Workspace,
    pub facts: Vec<FileFacts>,
    pub index: Index,
    pub graph: CallGraph,
    pub settings: Settings,
    /// Diagnostics in the reported files, sorted by path, line, column, rule.
    pub diagnostics: Vec<Diagnostic>,
    /// What `--baseline` hid, when one was given.
    pub baseline: Option<crate::suppress::baseline::Stats>,
    /// Findings not reported because their chain holds two or more guessed steps.
    pub hidden_guesses: usize,
    /// The reference interpreter's budgets for runs of this program: the command line's,
    /// else the root config's; unset ones are the interpreter's defaults.
    pub confirm_limits: crate::config::ConfirmLimits,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub parse_errors: usize,
    pub skipped: Vec<crate::workspace::Skipped>,
    pub entry_points: usize,
    /// Entry points by the backend that runs them (Zygote's, those that may be Zygote's,
    /// and other backends', which adlint does not analyse).
    pub entries_by_backend: std::collections::BTreeMap<&'static str, usize>,
    /// Entry-point names that two `using`s export with different bindings: Julia refuses
    /// them, so they are no entries.
    pub ambiguous_entries: usize,
    /// Entries inside `@test_throws`/`@test_broken`.
    pub expected_failure_entries: usize,
    /// Findings not reported because their chain holds two or more guessed calls
    /// (`--include-guesses` shows them).
    pub hidden_guesses: usize,
    pub unresolved_calls: usize,
    /// The most frequent names among the unresolved calls in differentiated code (at
    /// most 20, most frequent first): what a knowledge table or a config could add.
    pub unresolved_names: Vec<NameCount>,
    /// The program units of the workspace: packages, extensions, test suites, scripts.
    pub units: Vec<UnitSummary>,
    pub diagnostics: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::suppress::baseline::Stats>,
}

/// A name and how many times it occurs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NameCount {
    pub name: String,
    pub count: usize,
}

/// One program unit in the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitSummary {
    pub kind: crate::units::UnitKind,
    pub label: String,
    pub files: usize,
    pub entry_points: usize,
}

impl Analysis {
    /// The 1-based line and column of a byte of a file.
    pub fn line_col(&self, file: u32, byte: u32) -> (usize, usize) {
        let text = &self.workspace.files[file as usize].text;
        (self.facts[file as usize].line_index).line_col(text, byte as usize)
    }

    pub fn summary(&self) -> Summary {
        let mut entries_by_backend = std::collections::BTreeMap::new();
        for e in self.graph.entries.iter().chain(&self.graph.other_entries) {
            *entries_by_backend.entry(e.backend.as_str()).or_insert(0) += 1;
        }
        let units = &self.index.units;
        let mut files = vec![0usize; units.units.len()];
        for f in 0..self.workspace.files.len() {
            files[units.unit_of(f as u32) as usize] += 1;
        }
        let mut entries = vec![0usize; units.units.len()];
        for e in &self.graph.entries {
            entries[units.unit_of(e.file) as usize] += 1;
        }
        Summary {
            files: self.workspace.files.len(),
            parse_errors: self.facts.iter().filter(|f| f.parse_errors > 0).count(),
            skipped: self.workspace.skipped.clone(),
            entry_points: self.graph.entries.len(),
            entries_by_backend,
            ambiguous_entries: self.graph.ambiguous.len(),
            expected_failure_entries: (self.graph.entries.iter())
                .filter(|e| e.expected_failure.is_some())
                .count(),
            hidden_guesses: self.hidden_guesses,
            units: (units.units.iter().enumerate())
                .map(|(i, u)| UnitSummary {
                    kind: u.kind,
                    label: u.label.clone(),
                    files: files[i],
                    entry_points: entries[i],
                })
                .collect(),
            unresolved_calls: self.graph.unresolved.len(),
            unresolved_names: {
                let mut counts: std::collections::HashMap<String, usize> =
                    std::collections::HashMap::new();
                for u in &self.graph.unresolved {
                    *counts.entry(u.what()).or_insert(0) += 1;
                }
                let mut names: Vec<NameCount> = (counts.into_iter())
                    .map(|(name, count)| NameCount { name, count })
                    .collect();
                names.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
                names.truncate(20);
                names
            },
            diagnostics: self.diagnostics.len(),
            baseline: self.baseline.clone(),
        }
    }

    pub fn rule_context(&self) -> RuleContext<'_> {
        RuleContext::new(
            &self.workspace.files,
            &self.facts,
            &self.index,
            &self.graph,
            &self.settings,
        )
    }
}

/// Names accepted by `--select`/`--ignore`: rule names, categories and `ALL`.
pub fn is_valid_selector(s: &str) -> bool {
    crate::rules::is_selector(s)
}

/// Facts of files analysed before, keyed by path, reused while the text is unchanged (the
/// language server re-analyses after every edit). Files given with a tree (open documents)
/// also keep their statements' facts, so that an edit re-extracts only what it touched
/// ([`facts::extract_incremental`]).
#[derive(Default)]
pub struct FactsCache {
    entries: std::collections::HashMap<std::path::PathBuf, (u64, FileFacts)>,
    memos: std::collections::HashMap<std::path::PathBuf, facts::ChunkMemo>,
}

impl FactsCache {
    fn hash(text: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    }

    /// Forget a file (closed or deleted).
    pub fn remove(&mut self, path: &std::path::Path) {
        self.entries.remove(path);
        self.memos.remove(path);
    }
}

/// `f(i)` for every `i` in `0..costs.len()` on all threads, the costliest first, returned
/// in index order. Handing out the large files first keeps one thread from parsing the
/// largest file alone at the end while the others wait.
pub fn map_costliest_first<R: Send>(costs: &[usize], f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<Vec<(usize, R)>> = std::sync::Mutex::new(Vec::new());
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads().min(order.len()) {
            scope.spawn(|_| {
                let mut mine = Vec::new();
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    mine.push((i, f(i)));
                }
                done.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_unstable_by_key(|&(i, _)| i);
    debug_assert_eq!(done.len(), costs.len());
    done.into_iter().map(|(_, r)| r).collect()
}

/// Analyse a workspace from scratch (the command line): each file is parsed, its facts
/// extracted and its tree dropped, in parallel; nothing is kept for a next run.
pub fn analyze(workspace: Workspace, options: &Options) -> Analysis {
    let files = &workspace.files;
    let costs: Vec<usize> = files.iter().map(|f| f.text.len()).collect();
    let progress = options.progress.as_ref().map(|p| &*p.0);
    if let Some(p) = progress {
        p.phase("parsing files", files.len());
    }
    let facts: Vec<FileFacts> = map_costliest_first(&costs, |i| {
        let facts = facts::extract(&files[i].text);
        if let Some(p) = progress {
            p.step();
        }
        facts
    });
    crate::syntax::release_parse_memory();
    analyze_facts(workspace, facts, options)
}

/// [`analyze`], reusing the facts of files whose text the cache has seen, and the trees in
/// `parsed` (by path; each must be the parse of that file's current text) instead of
/// parsing those files again.
pub fn analyze_cached(
    workspace: Workspace,
    options: &Options,
    cache: &mut FactsCache,
    parsed: &HashMap<PathBuf, syntax::Parsed>,
) -> Analysis {
    use rayon::prelude::*;
    let mut phases = Phases::new();
    let hashes: Vec<u64> = workspace
        .files
        .par_iter()
        .map(|f| FactsCache::hash(&f.text))
        .collect();
    // Files with a tree keep a statement memo; the others' memos are dropped (closed).
    // Each is used by the one task of its file (the lock is never waited for).
    let memos: Vec<std::sync::Mutex<Option<facts::ChunkMemo>>> = workspace
        .files
        .iter()
        .map(|f| {
            std::sync::Mutex::new(
                parsed
                    .contains_key(&f.path)
                    .then(|| cache.memos.remove(&f.path).unwrap_or_default()),
            )
        })
        .collect();
    cache.memos.clear();
    let entries = &cache.entries;
    let files = &workspace.files;
    let cached = |i: usize| -> Option<&FileFacts> {
        let f = &files[i];
        entries
            .get(&f.path)
            .filter(|(old, _)| *old == hashes[i])
            .map(|(_, facts)| facts)
    };
    // Files whose facts are cached cost nothing; the others the parse of their text.
    phases.done("hashes");
    let costs: Vec<usize> = (0..files.len())
        .map(|i| match cached(i) {
            Some(_) => 0,
            None => files[i].text.len(),
        })
        .collect();
    let facts: Vec<FileFacts> = map_costliest_first(&costs, |i| {
        if let Some(facts) = cached(i) {
            return facts.clone();
        }
        let f = &files[i];
        let mut slot = memos[i].lock().unwrap_or_else(|e| e.into_inner());
        match (parsed.get(&f.path), slot.as_mut()) {
            (Some(p), Some(memo)) => facts::extract_incremental(&f.text, p, memo),
            (Some(p), None) => facts::extract_parsed(&f.text, p),
            (None, _) => facts::extract(&f.text),
        }
    });
    phases.done("facts");
    crate::syntax::release_parse_memory();
    for (f, memo) in workspace.files.iter().zip(memos) {
        if let Some(memo) = memo.into_inner().unwrap_or_else(|e| e.into_inner()) {
            cache.memos.insert(f.path.clone(), memo);
        }
    }
    for ((f, h), x) in workspace.files.iter().zip(&hashes).zip(&facts) {
        if cache.entries.get(&f.path).is_none_or(|(old, _)| old != h) {
            cache.entries.insert(f.path.clone(), (*h, x.clone()));
        }
    }
    phases.done("facts cache");
    analyze_facts(workspace, facts, options)
}

/// The analysis over extracted facts: the findings, without fixes (the CLI and the
/// language server ask `fix` for them where they show or apply them).
fn analyze_facts(
    mut workspace: Workspace,
    mut facts: Vec<FileFacts>,
    options: &Options,
) -> Analysis {
    let mut phases = Phases::new();
    if let Some(p) = &options.progress {
        p.0.phase("resolving calls", 0);
    }
    let edges = follow_includes(&mut workspace, &mut facts);
    phases.done("includes");
    let units = crate::units::Units::build(
        &workspace.files,
        &facts,
        &edges,
        &workspace.projects,
        &workspace.root,
        &|name| crate::knowledge::builtin().loads_of(name),
    );
    workspace.warnings.extend(units.notes.iter().cloned());
    phases.done("units");
    let index = Index::build(&facts, &edges, units);
    let rule_decls = index::CustomRules::build(&facts, &index);
    phases.done("index");
    let (knowledge, config_zygote) = knowledge_of(&mut workspace, options);
    // Each unit's versions: from the manifest of the environment it runs in.
    let unit_versions: Vec<crate::version::Versions> = (index.units.units.iter())
        .map(|u| {
            (u.project)
                .map(|p| workspace.projects[p as usize].versions.clone())
                .unwrap_or_default()
        })
        .collect();
    // With the workspace's own as the fallback, for the call graph (Flux's `gradient`,
    // branches on `VERSION`).
    let graph_versions: Vec<crate::version::Versions> = (unit_versions.iter())
        .map(|v| crate::version::Versions {
            zygote: v.zygote.or(workspace.versions.zygote),
            flux: v.flux.or(workspace.versions.flux),
            julia: v.julia.or(workspace.versions.julia),
            packages: if v.packages.is_empty() {
                workspace.versions.packages.clone()
            } else {
                v.packages.clone()
            },
        })
        .collect();
    let graph = callgraph::build(&facts, &index, &rule_decls, &knowledge, &graph_versions);
    let calls: usize = facts.iter().map(|f| f.calls.len()).sum();
    phases.done(&format!(
        "call graph ({} of {calls} calls resolved)",
        graph.resolved_calls
    ));
    crate::memory::release_free_memory(calls);
    let settings = Settings {
        zygote: options
            .zygote_version
            .or(config_zygote)
            .or(workspace.versions.zygote),
        flux: workspace.versions.flux,
        julia: workspace.versions.julia,
        zygote_given: options.zygote_version.or(config_zygote).is_some(),
        units: unit_versions,
        knowledge,
    };
    let config_limits = (workspace.root_config())
        .map(|c| c.confirm)
        .unwrap_or_default();
    let mut analysis = Analysis {
        workspace,
        facts,
        index,
        graph,
        settings,
        diagnostics: Vec::new(),
        baseline: None,
        hidden_guesses: 0,
        confirm_limits: options.confirm.or(config_limits),
    };
    // Per file: the selection of its nearest config under the command line's selectors.
    let cli = options.cli_selection();
    let selections: Vec<Selection> = (analysis.workspace.files.iter().enumerate())
        .map(|(i, f)| analysis.workspace.config_of(i).selection(&cli, &f.path))
        .collect();
    let diagnostics = run_rules(&analysis, &cli, &selections, options);
    phases.done("rules");
    finish(&mut analysis, diagnostics, &selections, options);
    phases.done("suppressions and chains");
    crate::memory::release_free_memory(calls);
    analysis
}

/// Follow `include("...")` relative to the including file: files outside the walk are
/// loaded (with their facts) when they are inside the root, and refused with a warning
/// otherwise. The include edges: (including file, included file, module, call span).
fn follow_includes(
    workspace: &mut Workspace,
    facts: &mut Vec<FileFacts>,
) -> Vec<(u32, u32, Option<u32>, facts::Span)> {
    let mut edges = Vec::new();
    let mut by_path: HashMap<PathBuf, usize> = (workspace.files.iter().enumerate())
        .map(|(i, f)| (f.path.clone(), i))
        .collect();
    let configs_before = workspace.configs.len();
    let mut i = 0;
    while i < facts.len() {
        let includes = facts[i].includes.clone();
        for inc in includes {
            let base = workspace.files[i]
                .path
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            let target = base.join(&inc.path);
            let known = workspace.files.len();
            match workspace.load_included(&target, &mut by_path) {
                Some(j) => {
                    if j >= known {
                        facts.push(facts::extract(&workspace.files[j].text));
                    }
                    edges.push((i as u32, j as u32, inc.module, inc.span));
                }
                None => {
                    let line = facts[i].line_index.line_of(inc.span.start as usize) + 1;
                    let why = match target.canonicalize() {
                        Ok(c) if !c.starts_with(&workspace.root) => {
                            "it is outside the workspace root, which adlint never reads"
                        }
                        Ok(_) => "it could not be read",
                        Err(_) => "it does not exist",
                    };
                    workspace.warnings.push(format!(
                        "{}:{line}: include(\"{}\") not followed: {why}",
                        workspace.files[i].display, inc.path
                    ));
                }
            }
        }
        i += 1;
    }
    // Configs met through includes were loaded here, after the CLI's check of the others.
    for c in configs_before..workspace.configs.len() {
        if let Err(e) = rules::check_config(&workspace.configs[c]) {
            (workspace.warnings).push(format!("{e}; using the package's config instead"));
            for f in workspace.files.iter_mut().filter(|f| f.config == c) {
                f.config = 0;
            }
        }
    }
    edges
}

/// The knowledge tables of a run (with what the root config and the options add), and
/// the root config's Zygote version.
fn knowledge_of(
    workspace: &mut Workspace,
    options: &Options,
) -> (std::sync::Arc<crate::knowledge::Knowledge>, Option<Version>) {
    let (mut knowledge, config_zygote) = match workspace.root_config() {
        Some(c) => (
            crate::knowledge::with_config(&c.entry_points, &c.knowledge),
            c.zygote_version,
        ),
        None => (std::sync::Arc::clone(crate::knowledge::builtin()), None),
    };
    let dir = (workspace.root_config())
        .map(|c| c.dir.clone())
        .unwrap_or_else(|| workspace.root.clone());
    match project_table(&dir) {
        Ok(Some(t)) => knowledge = std::sync::Arc::new(knowledge.with_project_table(t)),
        Ok(None) => {}
        Err(e) => workspace.warnings.push(e),
    }
    if options.profiles.is_empty() {
        return (knowledge, config_zygote);
    }
    let mut k = (*knowledge).clone();
    for p in &options.profiles {
        k.add_profile(p.clone());
    }
    (std::sync::Arc::new(k), config_zygote)
}

/// Where a project keeps the table `adlint knowledge` generated from its dependencies,
/// relative to its root config's folder (or the workspace root without one).
pub const PROJECT_TABLE: &str = ".adlint/knowledge.tsv";

/// The project's generated table, if it has one. It is read again only when it changed
/// (the language server analyses on every edit); a table that does not parse is a warning
/// and is left out.
fn project_table(dir: &std::path::Path) -> Result<Option<std::sync::Arc<str>>, String> {
    use crate::knowledge::tables::Tables;
    type Cached = (PathBuf, std::time::SystemTime, u64, std::sync::Arc<str>);
    static CACHE: std::sync::Mutex<Option<Cached>> = std::sync::Mutex::new(None);
    let path = dir.join(PROJECT_TABLE);
    let Ok(meta) = std::fs::metadata(&path) else {
        return Ok(None);
    };
    let stamp = (meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, m, l, t)) = cache.as_ref() {
        if *p == path && (*m, *l) == stamp {
            return Ok(Some(t.clone()));
        }
    }
    const CAP: u64 = 64 << 20;
    if meta.len() > CAP {
        return Err(format!("{}: over 64 MB, not loaded", path.display()));
    }
    let text = crate::workspace::read_text(&path, CAP)
        .map_err(|e| format!("{}: not loaded: {e}", path.display()))?;
    Tables::parse(&text).map_err(|e| {
        format!(
            "{}: {e}; not loaded (generate it again with `adlint knowledge`)",
            path.display()
        )
    })?;
    let text: std::sync::Arc<str> = std::sync::Arc::from(text);
    *cache = Some((path, stamp.0, stamp.1, text.clone()));
    Ok(Some(text))
}

/// The findings of the rules some reported file enables, each kept where its file's
/// selection enables its rule.
fn run_rules(
    analysis: &Analysis,
    cli: &CliSelection,
    selections: &[Selection],
    options: &Options,
) -> Vec<Diagnostic> {
    let enabled: Vec<&dyn Rule> = rules::all_rules()
        .into_iter()
        .filter(|r| {
            selections.is_empty() && Selection::default_for(cli).enabled(r.name(), r.category())
                || (selections.iter().zip(&analysis.workspace.files))
                    .any(|(s, f)| f.reported && s.enabled(r.name(), r.category()))
        })
        .collect();
    let cx = analysis.rule_context();
    let progress = options.progress.as_ref().map(|p| &*p.0);
    if let Some(p) = progress {
        let entries = analysis.graph.entries.len();
        p.phase(
            &format!(
                "checking the code under {entries} entry point{}",
                if entries == 1 { "" } else { "s" }
            ),
            enabled.len(),
        );
    }
    let mut diagnostics = rules::run_all_with(&cx, &enabled, &|| {
        if let Some(p) = progress {
            p.step();
        }
    });
    diagnostics.retain(|d| selections[d.location.file as usize].enabled(d.rule, d.category));
    diagnostics
}

/// From the rules' findings to the reported ones: suppressions, the reported files,
/// config severities, the backend profiles, the chains (guesses hidden unless asked for),
/// in path, line and rule order.
fn finish(
    analysis: &mut Analysis,
    diagnostics: Vec<Diagnostic>,
    selections: &[Selection],
    options: &Options,
) {
    let mut diagnostics = crate::suppress::apply(
        &analysis.workspace.files,
        &analysis.facts,
        diagnostics,
        &|file: u32, code: &str| {
            let sel = &selections[file as usize];
            match rules::rule_by_name(code) {
                Some(r) => sel.enabled(r.name(), r.category()),
                None => rules::all_rules().iter().any(|r| {
                    (code == "ALL" || r.category().as_str() == code)
                        && sel.enabled(r.name(), r.category())
                }),
            }
        },
    );
    diagnostics.retain(|d| analysis.workspace.files[d.location.file as usize].reported);
    for d in &mut diagnostics {
        d.bound_echoes();
        let config = analysis.workspace.config_of(d.location.file as usize);
        if let Some(sev) = config.severity_for(d.rule, d.category) {
            d.severity = sev;
        }
    }
    let knowledge = &analysis.settings.knowledge;
    diagnostics.retain_mut(|d| judged_by_profile(knowledge, d));
    let before = diagnostics.len();
    diagnostics.retain_mut(|d| how_reached(analysis, d, options.include_guesses));
    analysis.hidden_guesses = before - diagnostics.len();
    diagnostics.sort_by(|a, b| {
        let fa = &analysis.workspace.files[a.location.file as usize].display;
        let fb = &analysis.workspace.files[b.location.file as usize].display;
        (fa, a.location.span.start, a.rule).cmp(&(fb, b.location.span.start, b.rule))
    });
    analysis.diagnostics = diagnostics;
}

/// With `ADLINT_TIMINGS` set, the time of each phase of an analysis on stderr: how the
/// figures in `docs/performance.md` are broken down.
struct Phases {
    last: Option<std::time::Instant>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            last: std::env::var_os("ADLINT_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    fn done(&mut self, phase: &str) {
        if let Some(last) = self.last {
            eprintln!(
                "adlint: {phase}: {:.1} ms",
                last.elapsed().as_secs_f64() * 1e3
            );
            self.last = Some(std::time::Instant::now());
        }
    }
}

/// What the entry and the chain a finding is reported with say about it, and whether it
/// is reported. Reached only from entries inside `@test_throws`/`@test_broken`, it is the
/// failure the test asserts: an `info`, never an error in CI. Reached only from an entry
/// whose backend may be Zygote but is not known, or through a guessed step (a call adlint
/// could not resolve for certain), it is at most a warning, and says so; guesses do not
/// compound: a chain through two or more is not reported unless `include_guesses`.
/// A finding under the profile of its entry's backend: kept only when its construct fails
/// there, with the profile's severity cap. Findings without an entry are kept as they are.
fn judged_by_profile(knowledge: &crate::knowledge::Knowledge, d: &mut Diagnostic) -> bool {
    let Some(profile) = (d.entry.as_ref()).and_then(|e| knowledge.profile(e.backend)) else {
        return true;
    };
    if !profile.fails(d.category) {
        return false;
    }
    if let Some(cap) = profile.severity_cap(d.category) {
        d.severity = d.severity.min(cap);
    }
    true
}

fn how_reached(analysis: &Analysis, d: &mut Diagnostic, include_guesses: bool) -> bool {
    let Some(entry) = &d.entry else { return true };
    let place = |loc: crate::diagnostic::Location| {
        let facts = &analysis.facts[loc.file as usize];
        format!(
            "{}:{}",
            analysis.workspace.files[loc.file as usize].display,
            facts.line_index.line_of(loc.span.start as usize) + 1
        )
    };
    if let Some(test) = entry.expected_failure {
        d.severity = Severity::Info;
        d.message = format!("{} (expected by the test at {})", d.message, place(test));
        return true;
    }
    // Inside a branch on `VERSION` whose Julia no manifest gives: the code runs on some
    // Julia versions only.
    let file = d.location.file as usize;
    let unit = analysis.index.unit_of(file as u32) as usize;
    let julia =
        (analysis.settings.units.get(unit).and_then(|v| v.julia)).or(analysis.settings.julia);
    if julia.is_none() {
        let branch = (analysis.facts[file].guards.iter()).find(|g| {
            matches!(g.cond, crate::facts::Cond::Version(..)) && g.span.contains(d.location.span)
        });
        if let Some(g) = branch {
            d.severity = d.severity.min(Severity::Warning);
            d.message = format!(
                "{} (only on some Julia versions: this code runs where {} {}, and no manifest says which Julia runs it)",
                d.message,
                g.cond.source_text(),
                if g.holds { "holds" } else { "does not hold" }
            );
        }
    }
    if entry.backend == crate::backend::Backend::Unknown {
        d.severity = d.severity.min(Severity::Warning);
        d.message = format!(
            "{} (possibly reached: the backend of `{}` at {} may be {}, adlint cannot tell)",
            d.message,
            entry.api,
            place(entry.location),
            analysis.settings.knowledge.default_profile().name
        );
    }
    let guesses: Vec<&crate::diagnostic::ChainStep> =
        d.chain.iter().filter(|s| s.possible).collect();
    match guesses.as_slice() {
        [] => {}
        [step] => {
            let what = format!(
                " (possibly reached: adlint guessed that the call at {} runs `{}`, which depends on argument types it does not know)",
                place(step.location),
                step.function
            );
            d.severity = d.severity.min(Severity::Warning);
            d.message.push_str(&what);
        }
        several => {
            if !include_guesses {
                return false;
            }
            d.severity = d.severity.min(Severity::Warning);
            d.message.push_str(&format!(
                " (possibly reached: through {} guessed calls, the first at {})",
                several.len(),
                place(several[0].location)
            ));
        }
    }
    true
}

/// The exit code for a finished run: 1 when a finding is at or above `threshold`.
pub fn has_failures(diagnostics: &[Diagnostic], threshold: Severity) -> bool {
    diagnostics
        .iter()
        .any(|d| d.severity >= threshold && d.severity > Severity::Info)
}

#[cfg(test)]
mod tests {
    use super::map_costliest_first;

    #[test]
    fn costliest_first_returns_every_result_in_index_order() {
        assert!(map_costliest_first(&[], |i| i).is_empty());
        let costs: Vec<usize> = (0..1000).map(|i| (i * 7919) % 101).collect();
        let started = std::sync::Mutex::new(Vec::new());
        let out = map_costliest_first(&costs, |i| {
            started.lock().unwrap().push(i);
            i * 2
        });
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        // Handed out by decreasing cost: the first started are among the costliest.
        let started = started.into_inner().unwrap();
        assert_eq!(started.len(), 1000);
        assert!(
            started[..2].iter().all(|&i| costs[i] >= 99),
            "{:?}",
            &started[..2]
        );
    }
}
