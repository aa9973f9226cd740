//! The surfaces of the reference interpreter: `adlint check --confirm` (set each finding's
//! confirmation from a run of its entry point) and `adlint confirm FILE` (run the entry
//! points, print value, gradient and the finite-difference check).

use super::{run_program, EntryRun, FdSlopes, Options, Outcome, ProgramRun, SiteRef, SourceFile};
use crate::analysis::Analysis;
use crate::diagnostic::{visible, visible_lines};
use crate::diagnostic::{Confirmation, ConfirmationStatus, Diagnostic};
use crate::facts::FunctionKind;
use crate::index::FuncRef;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What the reference interpreter runs for an analysis: the files, then a driver that calls
/// the functions whose entry points the top level does not reach.
pub struct Program {
    pub files: Vec<SourceFile>,
    /// Entry points (path, line) run by a driver call, with that call: an entry inside
    /// `fit(x)` runs as `fit([0.5, -0.25, 1.0])`. Sorted by place (looked up per finding
    /// and per entry point).
    pub driven: Vec<((PathBuf, u32), Driven)>,
    /// Entry points (path, line) no driver call runs, with the reason; sorted by place.
    pub unrunnable: Vec<((PathBuf, u32), String)>,
}

#[derive(Clone, Debug)]
pub struct Driven {
    /// The call, as written in the driver.
    pub call: String,
    /// Its line in the driver file.
    pub line: u32,
    /// Whether adlint chose some of its arguments.
    pub chosen: bool,
}

impl Program {
    fn driven_at(&self, path: &Path, line: u32) -> Option<&Driven> {
        at_place(&self.driven, path, line)
    }

    /// Why the entry point on `line` of `path` did not run in `run`.
    fn why_not_run(&self, run: &ProgramRun, path: &Path, line: u32) -> String {
        let stop_of_call = self.driven_at(path, line).and_then(|c| {
            (run.driver_stops.iter())
                .find(|(l, _)| *l == c.line)
                .map(|(_, why)| (c, why))
        });
        if let Some(stop) = &run.stopped {
            format!(
                "the program stopped before this entry point ran: {}",
                stop.reason
            )
        } else if let Some(why) = self.unrunnable_at(path, line) {
            format!("the entry point did not run: {why}")
        } else if let Some((call, why)) = stop_of_call {
            format!(
                "adlint called `{}`{} and it stopped before this entry point ran: {why}",
                call.call,
                chosen_note(call)
            )
        } else {
            "the entry point did not run: neither the program's top level nor the functions adlint calls reach it".to_string()
        }
    }

    fn unrunnable_at(&self, path: &Path, line: u32) -> Option<&str> {
        at_place(&self.unrunnable, path, line).map(|why| why.as_str())
    }
}

/// The first value at (`path`, `line`) of a list sorted by place.
fn at_place<'a, T>(sorted: &'a [((PathBuf, u32), T)], path: &Path, line: u32) -> Option<&'a T> {
    let i = sorted.partition_point(|((p, l), _)| (p.as_path(), *l) < (path, line));
    let ((p, l), v) = sorted.get(i)?;
    (p == path && *l == line).then_some(v)
}

/// The files to run, in an order where each file's `include`s resolve: files that nobody
/// includes first (they are scripts or package roots), then the included ones (which the
/// interpreter skips once an `include` has run them). With `only`, the program `only`
/// belongs to: the roots of the units its unit sees (the packages it loads), its own unit's
/// root, and `only` with what it includes.
pub fn program_files(analysis: &Analysis, only: Option<&Path>) -> Program {
    let files = &analysis.workspace.files;
    let n = files.len().min(analysis.index.included_by.len());
    let mut order: Vec<usize> = Vec::new();
    if let Some(only) = only {
        let only = only.canonicalize().unwrap_or_else(|_| only.to_path_buf());
        let Some(start) = files.iter().position(|f| f.path == only) else {
            return Program {
                files: vec![],
                driven: vec![],
                unrunnable: vec![],
            };
        };
        let units = &analysis.index.units;
        let own = units.unit_of(start as u32);
        // Each file once, in the order first met (asking `order` each time, and every file
        // for the includes of each, was quadratic in a program of many files).
        let mut seen: HashSet<usize> = HashSet::new();
        let mut add = |f: usize, order: &mut Vec<usize>| {
            if seen.insert(f) {
                order.push(f);
            }
        };
        // The packages it loads first, then its own unit's root.
        for (u, unit) in units.units.iter().enumerate() {
            let root = unit.root as usize;
            if u as u32 != own && units.sees(own, u as u32) && root < n {
                add(root, &mut order);
            }
        }
        let own_root = units.units[own as usize].root as usize;
        if own_root < n {
            add(own_root, &mut order);
        }
        // And `start`, for a file its unit's root does not include; then what they all
        // include, each file's includes in the order of the files.
        add(start, &mut order);
        let mut includes: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (child, parents) in analysis.index.included_by.iter().enumerate().take(n) {
            for &p in parents {
                if let Some(c) = includes.get_mut(p as usize) {
                    c.push(child);
                }
            }
        }
        let mut i = 0;
        while i < order.len() {
            for &child in includes.get(order[i]).map_or(&[][..], |c| c.as_slice()) {
                add(child, &mut order);
            }
            i += 1;
        }
    } else {
        order.extend((0..n).filter(|&i| analysis.index.included_by[i].is_empty()));
        order.extend((0..n).filter(|&i| !analysis.index.included_by[i].is_empty()));
    }
    let chosen: HashSet<u32> = order.iter().map(|&i| i as u32).collect();
    let mut out: Vec<SourceFile> = order
        .into_iter()
        .map(|i| SourceFile {
            path: files[i].path.clone(),
            text: files[i].text.clone(),
        })
        .collect();
    let driver = driver_calls(analysis, &chosen);
    if !driver.calls.is_empty() {
        out.push(SourceFile {
            path: PathBuf::from(DRIVER_PATH),
            text: driver.calls.iter().map(|c| format!("{c}\n")).collect(),
        });
    }
    let (mut driven, mut unrunnable) = (driver.driven, driver.unrunnable);
    // Stable: of two at one place, the first stays first.
    driven.sort_by(|a, b| a.0.cmp(&b.0));
    unrunnable.sort_by(|a, b| a.0.cmp(&b.0));
    Program {
        files: out,
        driven,
        unrunnable,
    }
}

/// The name of the script [`program_files`] adds to call functions with entry points.
pub const DRIVER_PATH: &str = "<adlint: calls of functions with entry points>";

struct Driver {
    calls: Vec<String>,
    driven: Vec<((PathBuf, u32), Driven)>,
    unrunnable: Vec<((PathBuf, u32), String)>,
}

/// Calls that run the entry points the program's top level cannot reach: a named function
/// that contains an entry call and is called nowhere in the workspace is called once after
/// the program, as a user would try it at the REPL. Its positional arguments without a
/// default are made from their type annotations ([`argument_for`]), or are a small vector
/// of floats when there is none; a parameter of a type adlint cannot make (a model
/// struct) leaves the function alone, and says so.
fn driver_calls(analysis: &Analysis, files: &HashSet<u32>) -> Driver {
    let mut driver = Driver {
        calls: vec![],
        driven: vec![],
        unrunnable: vec![],
    };
    for entry in &analysis.graph.entries {
        if !files.contains(&entry.file) {
            continue;
        }
        let Some(facts) = analysis.facts.get(entry.file as usize) else {
            continue;
        };
        let path = analysis.workspace.files[entry.file as usize].path.clone();
        let Some(call) = facts.calls.get(entry.call as usize) else {
            continue;
        };
        let key = (
            path,
            facts.line_index.line_of(call.span.start as usize) as u32 + 1,
        );
        // The named function around the entry call (closures run when it runs).
        let mut idx = entry.caller.func;
        while let Some(f) = facts.functions.get(idx as usize) {
            if f.kind.is_closure() || matches!(f.kind, FunctionKind::Region { .. }) {
                match f.parent.get() {
                    Some(p) => idx = p,
                    None => break,
                }
            } else {
                break;
            }
        }
        let Some(f) = facts.functions.get(idx as usize) else {
            continue;
        };
        let (FunctionKind::Named, Some(name)) = (&f.kind, &f.name) else {
            continue;
        };
        let called = !analysis
            .graph
            .call_sites_of(FuncRef {
                file: entry.file,
                func: idx,
            })
            .is_empty();
        if called {
            continue;
        }
        if !f.qualifier.is_empty() {
            driver.unrunnable.push((
                key,
                format!(
                    "it is inside a method of `{}.{name}`, which adlint does not call",
                    f.qualifier
                        .iter()
                        .map(|q| q.to_string())
                        .collect::<Vec<_>>()
                        .join(".")
                ),
            ));
            continue;
        }
        let mut args = vec![];
        let mut chosen = false;
        let mut missing = None;
        for p in f.params.iter() {
            if p.has_default || p.vararg {
                break;
            }
            match argument_for(p.annotation.as_deref()) {
                Some(a) => {
                    chosen = true;
                    args.push(a);
                }
                None => {
                    missing = Some(format!(
                        "`{name}` needs {} of type `{}`, which adlint does not make up",
                        p.name
                            .as_deref()
                            .map_or("an argument".to_string(), |n| format!("`{n}`")),
                        p.annotation.as_deref().unwrap_or("?")
                    ));
                    break;
                }
            }
        }
        if let Some(why) = missing {
            driver.unrunnable.push((key, why));
            continue;
        }
        let text = format!("{name}({})", args.join(", "));
        let line = match driver.calls.iter().position(|c| *c == text) {
            Some(i) => i as u32 + 1,
            None => {
                driver.calls.push(text.clone());
                driver.calls.len() as u32
            }
        };
        driver.driven.push((
            key,
            Driven {
                call: text,
                line,
                chosen,
            },
        ));
    }
    driver
}

/// A value for a parameter of this declared type, as Julia source: small, deterministic,
/// and of the kind real losses take (a float, a vector or matrix of floats, a count).
/// `None` for a type adlint cannot make (a user's struct, a model).
pub fn argument_for(annotation: Option<&str>) -> Option<String> {
    let Some(t) = annotation else {
        return Some("[0.5, -0.25, 1.0]".to_string());
    };
    let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let (base, params) = match t.split_once('{') {
        Some((b, rest)) => (b.to_string(), rest.trim_end_matches('}').to_string()),
        None => (t.clone(), String::new()),
    };
    let base = base.rsplit('.').next().unwrap_or(&base).to_string();
    // A vector and a square matrix of the element type the parameters name.
    let integer = params
        .split([',', '<', ':'])
        .any(|p| matches!(p, "Int" | "Int64" | "Integer"));
    let (vector, matrix) = match (params.contains("Float32"), integer) {
        (true, _) => (
            "Float32[0.5, -0.25, 1.0]",
            "Float32[0.5 -0.25 1.0; 0.75 1.5 -0.6; 0.2 0.3 0.9]",
        ),
        (false, true) => ("[1, -2, 3]", "[1 -2 3; 4 5 -6; 7 8 9]"),
        (false, false) => (
            "[0.5, -0.25, 1.0]",
            "[0.5 -0.25 1.0; 0.75 1.5 -0.6; 0.2 0.3 0.9]",
        ),
    };
    Some(match base.as_str() {
        "Float64" | "Real" | "AbstractFloat" | "Number" => "0.5".to_string(),
        "Float32" => "0.5f0".to_string(),
        "Int" | "Int64" | "Integer" | "Signed" | "Unsigned" => "3".to_string(),
        "Bool" => "true".to_string(),
        "String" | "AbstractString" => "\"adlint\"".to_string(),
        "Vector" | "AbstractVector" | "DenseVector" | "StridedVector" => vector.to_string(),
        "Matrix" | "AbstractMatrix" | "DenseMatrix" | "StridedMatrix" => matrix.to_string(),
        "Array" | "AbstractArray" | "DenseArray" if params.ends_with(",2") => matrix.to_string(),
        "Array" | "AbstractArray" | "DenseArray" => vector.to_string(),
        "Function" => "identity".to_string(),
        _ => return None,
    })
}

pub fn options_for(analysis: &Analysis) -> Options {
    Options {
        budget: super::Budget::with_limits(analysis.confirm_limits),
        zygote_version: analysis.settings.zygote.map(|v| (v.0, v.1, v.2)),
        ..Options::default()
    }
}

/// One program that `check --confirm` ran: the program unit of some findings' entry points.
pub struct UnitRun {
    /// The unit's root file, as the report shows paths.
    pub root: String,
    pub run: ProgramRun,
}

/// Set `confirmation` on every diagnostic that has an entry point, from a run of the
/// program its entry point belongs to: each program unit with such a finding runs on its
/// own (what `adlint confirm` runs for its root file), as Julia would run it. Run as one
/// program, two scripts' `loss` overwrote each other, and the first script that stopped
/// (a `docs/make.jl` calling `makedocs`) left every later entry point not run.
pub fn confirm_diagnostics(analysis: &mut Analysis) -> Vec<UnitRun> {
    let mut diagnostics = std::mem::take(&mut analysis.diagnostics);
    let files = &analysis.workspace.files;
    let by_root = findings_by_unit(analysis, &diagnostics);
    let options = options_for(analysis);
    let mut runs = Vec::with_capacity(by_root.len());
    for (root, found) in by_root {
        let root = &files[root as usize];
        let program = program_files(analysis, Some(&root.path));
        let run = run_program(&program.files, &options);
        let index = RunIndex::new(analysis, &run);
        for i in found {
            let d = &mut diagnostics[i];
            if let Some(c) = confirmation_for(analysis, &program, &run, &index, d) {
                if c.status == ConfirmationStatus::Confirmed {
                    d.message
                        .push_str(" [confirmed by the reference interpreter]");
                }
                d.confirmation = Some(c);
            }
        }
        drop(index);
        runs.push(UnitRun {
            root: root.display.clone(),
            run,
        });
    }
    analysis.diagnostics = diagnostics;
    runs
}

/// The root file of the program unit `file` belongs to (the file itself when the units do
/// not know it).
fn unit_root(analysis: &Analysis, file: u32) -> u32 {
    let units = &analysis.index.units;
    match units.units.get(units.unit_of(file) as usize) {
        Some(unit) if (unit.root as usize) < analysis.workspace.files.len() => unit.root,
        _ => file,
    }
}

/// The findings reached from an entry point (their places in `diagnostics`), by the root
/// of the program unit of their entry point, in the order of the roots.
fn findings_by_unit(
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
) -> std::collections::BTreeMap<u32, Vec<usize>> {
    let mut by_root: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (i, d) in diagnostics.iter().enumerate() {
        if let Some(entry) = &d.entry {
            let root = unit_root(analysis, entry.location.file);
            by_root.entry(root).or_default().push(i);
        }
    }
    by_root
}

/// The runs of a program indexed for [`confirmation_for`], which asks them once per finding:
/// the runs of each entry point, the failing sites of all runs by file and start, and the
/// files by path.
struct RunIndex<'a> {
    /// The runs of each entry point (path, line), in order.
    by_place: HashMap<(&'a Path, u32), Vec<&'a EntryRun>>,
    /// Every failing site of every run, by file.
    failures: HashMap<&'a Path, FileSites>,
    /// The display name of each file, by path (the first file of a path).
    names: HashMap<&'a Path, &'a str>,
}

/// The failing sites in one file, sorted by start, with where each one's first line ends
/// and a tree of the largest such end over ranges of them: the sites that reach over a
/// place from before it are found by descending the tree, not by walking every site that
/// starts earlier on the line (a line of many failing sites was cubic to confirm).
#[derive(Default)]
struct FileSites {
    /// (start byte, run, place in its run's sites), sorted.
    sites: Vec<(usize, usize, usize)>,
    /// [`first_line_end`] of each site of `sites`.
    reach: Vec<usize>,
    /// The largest `reach` of each node of a complete binary tree over `sites` (leaves
    /// from `tree.len() / 2` on; empty leaves 0).
    tree: Vec<usize>,
}

impl FileSites {
    fn build(&mut self) {
        let leaves = self.reach.len().next_power_of_two();
        self.tree = vec![0; 2 * leaves];
        self.tree[leaves..leaves + self.reach.len()].copy_from_slice(&self.reach);
        for node in (1..leaves).rev() {
            self.tree[node] = self.tree[2 * node].max(self.tree[2 * node + 1]);
        }
    }

    /// Pushes onto `out` the index of every site of `sites[from..to]` whose first line
    /// reaches past `at`.
    fn reaching_past(&self, from: usize, to: usize, at: usize, out: &mut Vec<usize>) {
        if from < to {
            self.descend(1, 0, self.tree.len() / 2, from, to, at, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn descend(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        from: usize,
        to: usize,
        at: usize,
        out: &mut Vec<usize>,
    ) {
        if hi <= from || to <= lo || self.tree[node] <= at {
            return;
        }
        if hi - lo == 1 {
            out.push(lo);
            return;
        }
        let mid = (lo + hi) / 2;
        self.descend(2 * node, lo, mid, from, to, at, out);
        self.descend(2 * node + 1, mid, hi, from, to, at, out);
    }
}

impl<'a> RunIndex<'a> {
    fn new(analysis: &'a Analysis, run: &'a ProgramRun) -> Self {
        let mut names = HashMap::new();
        // The text of each file (the first of a path) and where its `\n`s are.
        let mut texts: HashMap<&Path, (&str, Vec<usize>)> = HashMap::new();
        for f in &analysis.workspace.files {
            names.entry(f.path.as_path()).or_insert(f.display.as_str());
            texts.entry(f.path.as_path()).or_insert_with(|| {
                let newlines = (f.text.bytes().enumerate())
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i)
                    .collect();
                (f.text.as_str(), newlines)
            });
        }
        let mut by_place: HashMap<(&Path, u32), Vec<&EntryRun>> = HashMap::new();
        let mut failures: HashMap<&Path, Vec<(usize, usize, usize, usize)>> = HashMap::new();
        for (i, r) in run.entries.iter().enumerate() {
            by_place
                .entry((r.path.as_path(), r.line))
                .or_default()
                .push(r);
            if let Outcome::Failed { all, .. } = &r.outcome {
                for (k, site) in all.iter().enumerate() {
                    let path = site.path.as_path();
                    let reach = match texts.get(path) {
                        Some((text, newlines)) => first_line_end(site, text, newlines),
                        None => first_line_end(site, "", &[]),
                    };
                    (failures.entry(path).or_default()).push((site.start_byte, i, k, reach));
                }
            }
        }
        let failures = (failures.into_iter())
            .map(|(path, mut found)| {
                found.sort_unstable();
                let mut sites = FileSites {
                    sites: found.iter().map(|&(s, i, k, _)| (s, i, k)).collect(),
                    reach: found.iter().map(|&(.., reach)| reach).collect(),
                    tree: vec![],
                };
                sites.build();
                (path, sites)
            })
            .collect();
        RunIndex {
            by_place,
            failures,
            names,
        }
    }
}

fn confirmation_for(
    analysis: &Analysis,
    program: &Program,
    run: &ProgramRun,
    index: &RunIndex,
    d: &Diagnostic,
) -> Option<Confirmation> {
    let entry = d.entry.as_ref()?;
    let entry_file = &analysis.workspace.files[entry.location.file as usize];
    let entry_line = analysis.facts[entry.location.file as usize]
        .line_index
        .line_of(entry.location.span.start as usize) as u32
        + 1;
    let site_file = &analysis.workspace.files[d.location.file as usize];
    let runs: &[&EntryRun] = (index.by_place.get(&(entry_file.path.as_path(), entry_line)))
        .map_or(&[], |r| r.as_slice());
    // The site failed in a run: of its own entry point first, else of any other (a site
    // reached from several entry points is reported with one of them).
    let ran_as = |path: &Path, line: u32| {
        program
            .driven_at(path, line)
            .map(|c| format!(" (run as `{}`{})", c.call, chosen_note(c)))
            .unwrap_or_default()
    };
    let own = |r: &EntryRun| r.path == entry_file.path && r.line == entry_line;
    // The failing sites that can be the finding's ([`site_is`]): those that start inside
    // it, or earlier on the line it starts on.
    let (start, end) = (d.location.span.start as usize, d.location.span.end as usize);
    let lines = &analysis.facts[d.location.file as usize].line_index;
    let bytes = site_file.text.as_bytes();
    let mut line = lines.line_of(start);
    // `site_is` reads lines as ended by `\n` only, the line index by a lone `\r` too.
    while line > 0 && bytes.get(lines.line_start(line).wrapping_sub(1)) == Some(&b'\r') {
        line -= 1;
    }
    let from = lines.line_start(line).min(start);
    let empty = FileSites::default();
    let found = index
        .failures
        .get(site_file.path.as_path())
        .unwrap_or(&empty);
    let sites = &found.sites;
    let first = sites.partition_point(|s| s.0 < from);
    let inside = sites.partition_point(|s| s.0 < start);
    let past = sites.partition_point(|s| s.0 < end.max(start + 1));
    // Those that start earlier on the line and reach over the finding's start, then those
    // that start inside it.
    let mut candidates = vec![];
    found.reaching_past(first, inside, start, &mut candidates);
    candidates.extend(inside..past);
    // The run met first in the order the search goes (its own entry point's runs, then the
    // others, each in order), and its first such site.
    let hit = (candidates.into_iter())
        .filter_map(|j| {
            let (site_start, i, k) = sites[j];
            let r = &run.entries[i];
            site_is(site_start, found.reach[j], d).then_some((!own(r), i, k))
        })
        .min();
    if let Some((_, i, k)) = hit {
        let r = &run.entries[i];
        let Outcome::Failed { all, .. } = &r.outcome else {
            unreachable!("only failed runs have failing sites")
        };
        let site = &all[k];
        let message = super::value::cut(site.message.lines().next().unwrap_or(""));
        let from = match own(r) {
            true => String::new(),
            false => {
                let name = (index.names.get(r.path.as_path()))
                    .map_or_else(|| r.path.display().to_string(), |n| n.to_string());
                format!(" (from the entry point at {name}:{})", r.line)
            }
        };
        return Some(Confirmation {
            status: ConfirmationStatus::Confirmed,
            detail: format!("{message}{}{from}", ran_as(&r.path, r.line)),
        });
    }
    if runs.is_empty() {
        let detail = program.why_not_run(run, &entry_file.path, entry_line);
        return Some(Confirmation {
            status: ConfirmationStatus::NotRun,
            detail,
        });
    }
    let ran_as = ran_as(&entry_file.path, entry_line);
    let mut not_run = None;
    for r in runs {
        if let Outcome::NotRun(n) = &r.outcome {
            not_run = Some(n.reason.clone());
        }
    }
    Some(match not_run {
        Some(reason) if runs.iter().all(|r| matches!(r.outcome, Outcome::NotRun(_))) => {
            Confirmation {
                status: ConfirmationStatus::NotRun,
                detail: reason,
            }
        }
        _ => Confirmation {
            status: ConfirmationStatus::NotReproduced,
            detail: format!(
                "the entry point ran and this site did not fail with these inputs{ran_as}"
            ),
        },
    })
}

/// Whether the failing site that starts at `site_start` and whose first line ends at
/// `reach` ([`first_line_end`]) is the construct the finding `d` points at: the failure
/// starts inside the finding's span, or the finding starts on the first line of the failing
/// construct. A failure that spans many lines (a `Threads.@threads` loop) confirms the
/// finding on its first line, not every finding inside its body.
fn site_is(site_start: usize, reach: usize, d: &Diagnostic) -> bool {
    let (start, end) = (d.location.span.start as usize, d.location.span.end as usize);
    (start..end.max(start + 1)).contains(&site_start) || (site_start..reach).contains(&start)
}

/// Where the first line of the failing site `s` in `text` ends (lines ended by `\n` only,
/// `newlines` the places of `text`'s), within the site and past its start.
fn first_line_end(s: &SiteRef, text: &str, newlines: &[usize]) -> usize {
    let line_end = match text.is_char_boundary(s.start_byte) {
        true => (newlines.get(newlines.partition_point(|&n| n < s.start_byte)))
            .map_or(s.end_byte, |&n| n),
        false => s.end_byte,
    };
    line_end.min(s.end_byte).max(s.start_byte + 1)
}

/// How a driver call's arguments came about, for a message.
fn chosen_note(call: &Driven) -> &'static str {
    if call.chosen {
        ", with arguments adlint chose from the parameters' types (a vector of floats where there is none)"
    } else {
        ""
    }
}

/// Most characters of a value or gradient the report prints. Each array in it is already
/// summarised as Julia does (its first and last ten elements), but a tuple of a thousand
/// arrays still printed some 100 KB.
const MAX_VALUE_SHOWN: usize = 1000;

/// `value` cut to [`MAX_VALUE_SHOWN`] characters, saying how long it was.
fn cut_value(value: &str) -> std::borrow::Cow<'_, str> {
    match crate::diagnostic::cut_to(value, MAX_VALUE_SHOWN) {
        std::borrow::Cow::Owned(cut) => {
            format!("{cut} ({} characters in all)", value.chars().count()).into()
        }
        whole => whole,
    }
}

/// `adlint confirm`: one report per entry run in `file`, then one line for each entry
/// point of `file` that did not run, with the reason; returns whether every run succeeded
/// and matched finite differences.
pub fn report(
    analysis: &Analysis,
    program: &Program,
    run: &ProgramRun,
    file: &Path,
    entry_line: Option<u32>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<bool> {
    let mut ok = true;
    // Looked up per entry point: the files by path (the first of a path) and the places
    // that ran.
    let mut displays: HashMap<&Path, &str> = HashMap::new();
    for f in &analysis.workspace.files {
        displays
            .entry(f.path.as_path())
            .or_insert(f.display.as_str());
    }
    // Names and text from the user's files, with their control characters made visible
    // (a file name with an escape sequence or a line break printed raw acts on the
    // terminal or forges a result line).
    let display = |p: &Path| -> String {
        let d = (displays.get(p).map(|d| d.to_string())).unwrap_or_else(|| p.display().to_string());
        visible(&d).into_owned()
    };
    let ran: HashSet<(&Path, u32)> = (run.entries.iter())
        .map(|r| (r.path.as_path(), r.line))
        .collect();
    let wanted = |path: &Path, line: u32| path == file && entry_line.is_none_or(|l| l == line);
    let mut any = false;
    for r in run.entries.iter().filter(|r| wanted(&r.path, r.line)) {
        any = true;
        let at = format!("{}:{}", display(&r.path), r.line);
        if let Some(call) = program.driven_at(&r.path, r.line) {
            writeln!(
                out,
                "{at}: run as `{}`{}",
                visible(&call.call),
                chosen_note(call)
            )?;
        }
        match &r.outcome {
            Outcome::Ok {
                value,
                gradient,
                fd_check,
            } => {
                writeln!(out, "{at}: {}: ok", r.api)?;
                let (value, gradient) = (value.to_string(), gradient.to_string());
                writeln!(out, "  value:    {}", visible_lines(&cut_value(&value)))?;
                writeln!(out, "  gradient: {}", visible_lines(&cut_value(&gradient)))?;
                match fd_check {
                    Some(fd) => {
                        writeln!(
                            out,
                            "  finite differences: max relative error {:.3e} ({})",
                            fd.max_rel_error,
                            if fd.ok { "ok" } else { "MISMATCH" }
                        )?;
                        ok &= fd.ok;
                    }
                    None => writeln!(out, "  finite differences: not applicable")?,
                }
            }
            Outcome::Failed {
                message,
                first,
                all,
            } => {
                ok = false;
                writeln!(out, "{at}: {}: Zygote fails", r.api)?;
                writeln!(
                    out,
                    "  {} at {}:{}",
                    visible(message.lines().next().unwrap_or("")),
                    display(&first.path),
                    first.line
                )?;
                // The same failure met again (a loop) is said once, with its count, where
                // it was first met: each failure's place in `seen` is looked up (searching
                // `seen` for each was quadratic in a run of many failing sites).
                let mut seen: Vec<(&str, &Path, u32, usize)> = Vec::new();
                let mut place: HashMap<(&str, &Path, u32), usize> = HashMap::new();
                for s in all.iter().skip(1) {
                    let m = s.message.lines().next().unwrap_or("");
                    let same_as_first = m == message.lines().next().unwrap_or("")
                        && s.path == first.path
                        && s.line == first.line;
                    if same_as_first {
                        continue;
                    }
                    match place.entry((m, s.path.as_path(), s.line)) {
                        Entry::Occupied(i) => seen[*i.get()].3 += 1,
                        Entry::Vacant(v) => {
                            v.insert(seen.len());
                            seen.push((m, s.path.as_path(), s.line, 1));
                        }
                    }
                }
                for (m, path, line, count) in seen {
                    let times = if count > 1 {
                        format!(" ({count} times)")
                    } else {
                        String::new()
                    };
                    writeln!(
                        out,
                        "  also fails: {} at {}:{line}{times}",
                        visible(m),
                        display(path)
                    )?;
                }
            }
            Outcome::NotRun(n) => {
                writeln!(out, "{at}: {}: not run: {}", r.api, visible(&n.reason))?;
            }
        }
    }
    // The entry points of the file that did not run, each with why.
    let mut silent = 0;
    for e in analysis.graph.entries.iter() {
        let path = &analysis.workspace.files[e.file as usize].path;
        let Some(call) = analysis.facts[e.file as usize].calls.get(e.call as usize) else {
            continue;
        };
        let line = analysis.facts[e.file as usize]
            .line_index
            .line_of(call.span.start as usize) as u32
            + 1;
        if !wanted(path, line) || ran.contains(&(path.as_path(), line)) {
            continue;
        }
        silent += 1;
        let why = program.why_not_run(run, path, line);
        writeln!(
            out,
            "{}:{line}: {}: {}",
            display(path),
            e.api,
            visible(&why)
        )?;
    }
    if let (Some(stop), 0) = (&run.stopped, silent) {
        writeln!(out, "the program stopped: {}", visible(&stop.reason))?;
    }
    if !any {
        if silent == 0 {
            writeln!(
                out,
                "no entry point{} in {}",
                entry_line
                    .map(|l| format!(" at line {l}"))
                    .unwrap_or_default(),
                display(file)
            )?;
        }
        ok = false;
    }
    Ok(ok)
}

/// `--fix --verify`: what the original program computes, to hold each fixed program to.
///
/// The reference is the finite-difference gradient of every `gradient`/`withgradient`
/// entry's primal in the original code (its reverse pass usually fails: that is what the
/// fixes are for), or reverse mode's gradient where finite differences are not taken.
/// A fixed program is judged twice. [`GradientReference::worse`]: nothing may get worse
/// anywhere (an entry that fails or stops where it did not, a new failing site, a value
/// that changes, a gradient that disagrees with the reference). [`GradientReference::proves`]:
/// the entry point the fixed finding is reached from must now run its reverse pass and
/// match the reference; a fix that cannot be shown to do so is not applied.
pub struct GradientReference {
    /// The program of each unit with a finding reached from an entry point (as
    /// `check --confirm` runs them), with its original run.
    programs: Vec<Reference>,
    options: Options,
}

/// One program of a [`GradientReference`]: its root file, its files with their original
/// texts, and their run.
struct Reference {
    root: u32,
    files: Vec<SourceFile>,
    run: ProgramRun,
}

/// The runs of the programs of a [`GradientReference`], in its order.
pub struct Runs(Vec<ProgramRun>);

/// Relative tolerance for an entry's value: a rewrite may reorder floating-point sums.
const VALUE_TOLERANCE: f64 = 1e-8;

impl GradientReference {
    pub fn new(analysis: &Analysis) -> Self {
        let options = Options {
            reference_gradients: true,
            ..options_for(analysis)
        };
        let programs = (findings_by_unit(analysis, &analysis.diagnostics).into_keys())
            .map(|root| {
                let path = &analysis.workspace.files[root as usize].path;
                let files = program_files(analysis, Some(path)).files;
                let run = run_program(&files, &options);
                Reference { root, files, run }
            })
            .collect();
        GradientReference { programs, options }
    }

    /// Run the programs with the texts of `analysis` (the current round's) and `texts`
    /// (file index -> new text) in place of the original ones; a program none of whose
    /// texts changed keeps its original run.
    pub fn run_fixed(
        &self,
        analysis: &Analysis,
        texts: &std::collections::BTreeMap<u32, String>,
    ) -> Runs {
        let by_path: HashMap<&Path, usize> = (analysis.workspace.files.iter().enumerate())
            .map(|(i, f)| (f.path.as_path(), i))
            .collect();
        Runs(
            (self.programs.iter())
                .map(|program| {
                    let mut files = program.files.clone();
                    let mut changed = false;
                    for f in &mut files {
                        if let Some(&i) = by_path.get(f.path.as_path()) {
                            let current = &analysis.workspace.files[i].text;
                            let text = texts.get(&(i as u32)).unwrap_or(current);
                            if *text != f.text {
                                f.text = text.clone();
                                changed = true;
                            }
                        }
                    }
                    match changed {
                        true => run_program(&files, &self.options),
                        false => program.run.clone(),
                    }
                })
                .collect(),
        )
    }

    /// What is worse in `fixed` than in the original programs, if anything.
    pub fn worse(&self, analysis: &Analysis, fixed: &Runs) -> Option<String> {
        (self.programs.iter().zip(&fixed.0))
            .find_map(|(program, fixed)| program.worse(analysis, fixed))
    }

    /// Whether `fixed` shows that a fix works: every run of the entry point on `line` of
    /// `file` (the one its finding is reached from, a line of `analysis`'s texts, which
    /// `current` ran) ran its reverse pass and matched the reference gradient. `Err` says
    /// why not. [`Self::worse`] has held `fixed` to the original already.
    pub fn proves(
        &self,
        analysis: &Analysis,
        current: &Runs,
        fixed: &Runs,
        entry: Option<(u32, u32)>,
    ) -> Result<usize, String> {
        let Some(entry) = entry else {
            return Err("its finding is reached from no entry point".to_string());
        };
        // The program of the entry point's unit.
        let root = unit_root(analysis, entry.0);
        let at = (self.programs.iter()).position(|p| p.root == root);
        match at.and_then(|k| Some((&self.programs[k], current.0.get(k)?, fixed.0.get(k)?))) {
            Some((program, current, fixed)) => program.proves(analysis, current, fixed, entry),
            None => Err("its entry point's program has no finding to hold it to".to_string()),
        }
    }
}

impl Reference {
    /// What is worse in `fixed` than in the original program, if anything.
    fn worse(&self, analysis: &Analysis, fixed: &ProgramRun) -> Option<String> {
        if let (None, Some(stop)) = (&self.run.stopped, &fixed.stopped) {
            return Some(format!("the fixed program stops: {}", stop.reason));
        }
        let (before, after) = (&self.run.entries, &fixed.entries);
        if before.len() != after.len() {
            return Some(format!(
                "the fixed program runs {} entry point{} where the original runs {}",
                after.len(),
                if after.len() == 1 { "" } else { "s" },
                before.len()
            ));
        }
        for (b, a) in before.iter().zip(after) {
            // Entries pair up by order: a fix may move lines.
            let at = format!("`{}` at {}", a.api, display(analysis, &a.path, a.line));
            if a.api != b.api || a.path != b.path {
                return Some(format!(
                    "{at} runs where the original runs `{}` at {}",
                    b.api,
                    display(analysis, &b.path, b.line)
                ));
            }
            if let Some(why) = outcome_worse(analysis, &at, &b.outcome, &a.outcome) {
                return Some(why);
            }
            if let Some(why) = numbers_differ(&at, b, a) {
                return Some(why);
            }
        }
        None
    }

    /// [`GradientReference::proves`] for this program and the entry point on `line` of
    /// `file`.
    fn proves(
        &self,
        analysis: &Analysis,
        current: &ProgramRun,
        fixed: &ProgramRun,
        (file, line): (u32, u32),
    ) -> Result<usize, String> {
        let path = &analysis.workspace.files[file as usize].path;
        let at = display(analysis, path, line);
        let pairs: Vec<(&EntryRun, &EntryRun)> = (self.run.entries.iter())
            .zip(&current.entries)
            .zip(&fixed.entries)
            .filter(|((_, c), _)| &c.path == path && c.line == line)
            .map(|((b, _), a)| (b, a))
            .collect();
        if pairs.is_empty() {
            return Err(match &self.run.stopped {
                Some(stop) => format!(
                    "its entry point at {at} does not run: the original program stopped: {}",
                    stop.reason
                ),
                None => format!("its entry point at {at} does not run in the reference interpreter (the program's top level does not reach it)"),
            });
        }
        for (b, a) in &pairs {
            let api = &a.api;
            match &a.outcome {
                Outcome::Ok { .. } => {}
                Outcome::Failed { message, first, .. } => {
                    return Err(format!(
                        "`{api}` at {at} still fails after it: {} at {} (the findings there need fixing too)",
                        message.lines().next().unwrap_or(""),
                        display(analysis, &first.path, first.line)
                    ))
                }
                Outcome::NotRun(n) => {
                    return Err(format!("`{api}` at {at} does not run: {}", n.reason))
                }
            }
            let checked = a
                .numbers
                .as_ref()
                .and_then(|n| n.gradient.as_ref())
                .is_some()
                && reference_gradient(b).is_some();
            if !checked {
                return Err(format!(
                    "`{api}` at {at} has no gradient to hold it to (only `gradient` and `withgradient` of a number over Float64 inputs are compared)"
                ));
            }
        }
        Ok(pairs.len())
    }
}

/// Where an entry ran, for a message.
fn display(analysis: &Analysis, path: &Path, line: u32) -> String {
    let name = (analysis.workspace.files.iter())
        .find(|f| f.path == path)
        .map_or_else(|| path.display().to_string(), |f| f.display.clone());
    format!("{name}:{line}")
}

/// How an entry's outcome got worse with a fix: it ran and now fails, it fails in the
/// forward pass or stops, or its reverse pass fails at a site that did not fail before.
fn outcome_worse(
    analysis: &Analysis,
    at: &str,
    before: &Outcome,
    after: &Outcome,
) -> Option<String> {
    let first_line = |m: &str| m.lines().next().unwrap_or("").to_string();
    match (before, after) {
        (Outcome::Ok { .. }, Outcome::Failed { message, .. }) => Some(format!(
            "{at} ran before the fix and fails after it: {}",
            first_line(message)
        )),
        (Outcome::Ok { .. } | Outcome::Failed { .. }, Outcome::NotRun(n)) => Some(format!(
            "{at} ran before the fix and does not after it: {}",
            n.reason
        )),
        (Outcome::Failed { all: was, .. }, Outcome::Failed { all: now, .. }) => {
            // Sites are told apart by file and message, not line: a fix moves lines. A
            // message that fails more often than before is a new failure.
            let key = |x: &SiteRef| (x.path.clone(), first_line(&x.message));
            let mut left: Vec<_> = was.iter().map(key).collect();
            let new = now
                .iter()
                .find(|s| match left.iter().position(|k| *k == key(s)) {
                    Some(i) => {
                        left.swap_remove(i);
                        false
                    }
                    None => true,
                })?;
            Some(format!(
                "{at} fails after the fix at {}, which did not fail before: {}",
                display(analysis, &new.path, new.line),
                first_line(&new.message)
            ))
        }
        _ => None,
    }
}

/// How an entry's value or gradient differs from the original's.
fn numbers_differ(at: &str, b: &EntryRun, a: &EntryRun) -> Option<String> {
    let (nb, na) = (b.numbers.as_ref()?, a.numbers.as_ref()?);
    let scale = 1f64.max(nb.value.abs()).max(na.value.abs());
    if (nb.value - na.value).abs() / scale > VALUE_TOLERANCE
        || nb.value.is_nan() != na.value.is_nan()
    {
        return Some(format!(
            "{at} computes {} after the fix instead of {}",
            short(na.value),
            short(nb.value)
        ));
    }
    let (reference, gradient) = (reference_gradient(b)?, na.gradient.as_ref()?);
    let Some(check) = reference.check(gradient) else {
        return Some(format!(
            "{at}: the gradient after the fix has {} components where the original has {}",
            gradient.len(),
            reference.slopes.len()
        ));
    };
    if check.ok {
        return None;
    }
    let predicted = reference.predicted(gradient);
    let (k, _) = (predicted.iter().zip(&reference.slopes).enumerate())
        .map(|(k, (g, r))| (k, (g - r).abs() / 1f64.max(g.abs()).max(r.abs())))
        .fold(
            (0, 0.0),
            |best, cur| if cur.1 > best.1 { cur } else { best },
        );
    Some(format!(
        "{at}: the gradient after the fix differs from finite differences of the original code ({}: {} instead of {}; relative error {:.1e})",
        reference.directions.describe(k),
        short(predicted[k]),
        short(reference.slopes[k]),
        check.max_rel_error
    ))
}

/// The slopes a fixed program's gradient must reproduce for this entry run, if any:
/// finite differences of the original, or its reverse-mode gradient where those were not
/// taken.
fn reference_gradient(e: &EntryRun) -> Option<FdSlopes> {
    let n = e.numbers.as_ref()?;
    n.fd.clone()
        .or_else(|| n.gradient.as_deref().map(FdSlopes::of_gradient))
}

/// A number for a message: six decimals at most, without trailing zeros.
fn short(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}
