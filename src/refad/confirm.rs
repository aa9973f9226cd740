//! The surfaces of the reference interpreter: `adlint check --confirm` (set each finding's
//! confirmation from a run of its entry point) and `adlint confirm FILE` (run the entry
//! points, print value, gradient and the finite-difference check).

use super::{run_program, EntryRun, FdSlopes, Options, Outcome, ProgramRun, SiteRef, SourceFile};
use crate::analysis::Analysis;
use crate::diagnostic::{Confirmation, ConfirmationStatus, Diagnostic};
use crate::facts::FunctionKind;
use crate::index::FuncRef;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The files to run, in an order where each file's `include`s resolve: files that nobody
/// includes first (they are scripts or package roots), then the included ones (which the
/// interpreter skips once an `include` has run them). With `only`, that file and what it
/// includes.
pub fn program_files(analysis: &Analysis, only: Option<&Path>) -> Vec<SourceFile> {
    let files = &analysis.workspace.files;
    let n = files.len().min(analysis.index.included_by.len());
    let mut order: Vec<usize> = Vec::new();
    if let Some(only) = only {
        let only = only.canonicalize().unwrap_or_else(|_| only.to_path_buf());
        let Some(start) = files.iter().position(|f| f.path == only) else {
            return vec![];
        };
        // The include closure of `start`.
        let mut seen = HashSet::from([start]);
        order.push(start);
        let mut i = 0;
        while i < order.len() {
            let cur = order[i] as u32;
            for (child, parents) in analysis.index.included_by.iter().enumerate().take(n) {
                if parents.contains(&cur) && seen.insert(child) {
                    order.push(child);
                }
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
    let calls = driver_calls(analysis, &chosen);
    if !calls.is_empty() {
        out.push(SourceFile {
            path: PathBuf::from(DRIVER_PATH),
            text: calls.iter().map(|c| format!("{c}\n")).collect(),
        });
    }
    out
}

/// The name of the script [`program_files`] adds to call functions with entry points.
pub const DRIVER_PATH: &str = "<adlint: calls of functions with entry points>";

/// Calls that run the entry points the program's top level cannot reach: a named function
/// that contains an entry call, is called nowhere in the workspace and needs no positional
/// argument (`train_model(; epochs = 10)`) is called once after the program, as a user
/// would try it at the REPL. Functions that need arguments are left alone: the interpreter
/// does not invent inputs.
fn driver_calls(analysis: &Analysis, files: &HashSet<u32>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for entry in &analysis.graph.entries {
        if !files.contains(&entry.file) {
            continue;
        }
        let Some(facts) = analysis.facts.get(entry.file as usize) else {
            continue;
        };
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
        let nullary = f.params.iter().all(|p| p.has_default || p.vararg);
        let called = !analysis
            .graph
            .call_sites_of(FuncRef {
                file: entry.file,
                func: idx,
            })
            .is_empty();
        let call = format!("{name}()");
        if nullary && !called && f.qualifier.is_empty() && !out.contains(&call) {
            out.push(call);
        }
    }
    out
}

pub fn options_for(analysis: &Analysis) -> Options {
    Options {
        zygote_version: analysis.settings.zygote.map(|v| (v.0, v.1, v.2)),
        ..Options::default()
    }
}

/// Run the program and set `confirmation` on every diagnostic that has an entry point.
pub fn confirm_diagnostics(analysis: &mut Analysis) -> ProgramRun {
    let files = program_files(analysis, None);
    let run = run_program(&files, &options_for(analysis));
    let mut diagnostics = std::mem::take(&mut analysis.diagnostics);
    for d in &mut diagnostics {
        if let Some(c) = confirmation_for(analysis, &run, d) {
            if c.status == ConfirmationStatus::Confirmed {
                d.message
                    .push_str(" [confirmed by the reference interpreter]");
            }
            d.confirmation = Some(c);
        }
    }
    analysis.diagnostics = diagnostics;
    run
}

fn confirmation_for(analysis: &Analysis, run: &ProgramRun, d: &Diagnostic) -> Option<Confirmation> {
    let entry = d.entry.as_ref()?;
    let entry_file = &analysis.workspace.files[entry.location.file as usize];
    let entry_line = analysis.facts[entry.location.file as usize]
        .line_index
        .line_of(entry.location.span.start as usize) as u32
        + 1;
    let site_file = &analysis.workspace.files[d.location.file as usize];
    let runs: Vec<&EntryRun> = run
        .entries
        .iter()
        .filter(|r| r.path == entry_file.path && r.line == entry_line)
        .collect();
    if runs.is_empty() {
        let detail = match &run.stopped {
            Some(stop) => format!("the program stopped before this entry point ran: {}", stop.reason),
            None => "the entry point did not run: the program's top level does not reach it, and its function needs arguments (adlint calls only functions that take none) or its arguments are not evaluable".to_string(),
        };
        return Some(Confirmation {
            status: ConfirmationStatus::NotRun,
            detail,
        });
    }
    let mut not_run = None;
    for r in &runs {
        match &r.outcome {
            Outcome::Failed { all, .. } => {
                let hit = all
                    .iter()
                    .find(|s| s.path == site_file.path && site_is(s, d, &site_file.text));
                if let Some(site) = hit {
                    return Some(Confirmation {
                        status: ConfirmationStatus::Confirmed,
                        detail: (super::value::cut(site.message.lines().next().unwrap_or("")))
                            .into_owned(),
                    });
                }
            }
            Outcome::NotRun(n) => not_run = Some(n.reason.clone()),
            Outcome::Ok { .. } => {}
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
            detail: "the entry point ran and this site did not fail with these inputs".to_string(),
        },
    })
}

/// Whether the failing site `s` is the construct the finding `d` points at: the failure
/// starts inside the finding's span, or the finding starts on the first line of the failing
/// construct. A failure that spans many lines (a `Threads.@threads` loop) confirms the
/// finding on its first line, not every finding inside its body.
fn site_is(s: &super::SiteRef, d: &Diagnostic, text: &str) -> bool {
    let (start, end) = (d.location.span.start as usize, d.location.span.end as usize);
    if (start..end.max(start + 1)).contains(&s.start_byte) {
        return true;
    }
    let first_line_end = (text.get(s.start_byte..))
        .and_then(|rest| rest.find('\n'))
        .map_or(s.end_byte, |i| s.start_byte + i);
    (s.start_byte..first_line_end.min(s.end_byte).max(s.start_byte + 1)).contains(&start)
}

/// `adlint confirm`: one report per entry run; returns whether every run succeeded and
/// matched finite differences.
pub fn report(
    analysis: &Analysis,
    run: &ProgramRun,
    entry_line: Option<u32>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<bool> {
    let mut ok = true;
    let display = |p: &Path| -> String {
        analysis
            .workspace
            .files
            .iter()
            .find(|f| f.path == p)
            .map(|f| f.display.clone())
            .unwrap_or_else(|| p.display().to_string())
    };
    let mut any = false;
    for r in &run.entries {
        if entry_line.is_some_and(|l| l != r.line) {
            continue;
        }
        any = true;
        let at = format!("{}:{}", display(&r.path), r.line);
        match &r.outcome {
            Outcome::Ok {
                value,
                gradient,
                fd_check,
            } => {
                writeln!(out, "{at}: {}: ok", r.api)?;
                writeln!(out, "  value:    {value}")?;
                writeln!(out, "  gradient: {gradient}")?;
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
                    message.lines().next().unwrap_or(""),
                    display(&first.path),
                    first.line
                )?;
                for s in all.iter().skip(1) {
                    writeln!(
                        out,
                        "  also fails: {} at {}:{}",
                        s.message.lines().next().unwrap_or(""),
                        display(&s.path),
                        s.line
                    )?;
                }
            }
            Outcome::NotRun(n) => {
                writeln!(out, "{at}: {}: not run: {}", r.api, n.reason)?;
            }
        }
    }
    if let Some(stop) = &run.stopped {
        writeln!(out, "the program stopped: {}", stop.reason)?;
    }
    if !any {
        writeln!(
            out,
            "no entry point ran{}",
            entry_line
                .map(|l| format!(" at line {l}"))
                .unwrap_or_default()
        )?;
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
    files: Vec<SourceFile>,
    run: ProgramRun,
    options: Options,
}

/// Relative tolerance for an entry's value: a rewrite may reorder floating-point sums.
const VALUE_TOLERANCE: f64 = 1e-8;

impl GradientReference {
    pub fn new(analysis: &Analysis) -> Self {
        let options = Options {
            reference_gradients: true,
            ..options_for(analysis)
        };
        let files = program_files(analysis, None);
        let run = run_program(&files, &options);
        GradientReference {
            files,
            run,
            options,
        }
    }

    /// Run the program with the texts of `analysis` (the current round's) and `texts`
    /// (file index -> new text) in place of the original ones.
    pub fn run_fixed(
        &self,
        analysis: &Analysis,
        texts: &std::collections::BTreeMap<u32, String>,
    ) -> ProgramRun {
        let mut files = self.files.clone();
        for f in &mut files {
            if let Some((i, current)) =
                (analysis.workspace.files.iter().enumerate()).find(|(_, w)| w.path == f.path)
            {
                f.text = texts.get(&(i as u32)).unwrap_or(&current.text).clone();
            }
        }
        run_program(&files, &self.options)
    }

    /// What is worse in `fixed` than in the original program, if anything.
    pub fn worse(&self, analysis: &Analysis, fixed: &ProgramRun) -> Option<String> {
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

    /// Whether `fixed` shows that a fix works: every run of the entry point on `line` of
    /// `file` (the one its finding is reached from, a line of `analysis`'s texts, which
    /// `current` ran) ran its reverse pass and matched the reference gradient. `Err` says
    /// why not. [`Self::worse`] has held `fixed` to the original already.
    pub fn proves(
        &self,
        analysis: &Analysis,
        current: &ProgramRun,
        fixed: &ProgramRun,
        entry: Option<(u32, u32)>,
    ) -> Result<usize, String> {
        let Some((file, line)) = entry else {
            return Err("its finding is reached from no entry point".to_string());
        };
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
