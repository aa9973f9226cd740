//! The surfaces of the reference interpreter: `adlint check --confirm` (set each finding's
//! confirmation from a run of its entry point) and `adlint confirm FILE` (run the entry
//! points, print value, gradient and the finite-difference check).

use super::{run_program, EntryRun, Options, Outcome, ProgramRun, SourceFile};
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
                let hit = all.iter().find(|s| {
                    s.path == site_file.path
                        && (s.start_byte as u32) < d.location.span.end
                        && d.location.span.start < s.end_byte as u32
                });
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
/// A fixed program must run the same entry points in the same order, and each must keep
/// its value and match that gradient; an entry that ran before must not fail after.
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

    /// The entry runs whose gradient can be checked.
    pub fn checkable(&self) -> usize {
        self.run
            .entries
            .iter()
            .filter(|e| reference_gradient(e).is_some())
            .count()
    }

    /// Why no entry can be checked, for the message that says the fixes are unverified.
    pub fn why_unchecked(&self) -> String {
        if let Some(stop) = &self.run.stopped {
            return format!("the original program stopped: {}", stop.reason);
        }
        let reasons: Vec<String> = self
            .run
            .entries
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::NotRun(n) => Some(n.reason.clone()),
                _ => None,
            })
            .collect();
        match reasons.first() {
            Some(r) => r.clone(),
            None if self.run.entries.is_empty() => {
                "no entry point ran from the program's top level".to_string()
            }
            None => "no `gradient`/`withgradient` entry point with Float64 inputs and a numeric value ran".to_string(),
        }
    }

    /// `None` when the program with `texts` (file index in `analysis` -> new text) keeps
    /// every entry's value and gradient; otherwise what changes.
    pub fn check(
        &self,
        analysis: &Analysis,
        texts: &std::collections::BTreeMap<u32, String>,
    ) -> Option<String> {
        let mut files = self.files.clone();
        for (&file, text) in texts {
            let path = &analysis.workspace.files[file as usize].path;
            if let Some(f) = files.iter_mut().find(|f| &f.path == path) {
                f.text = text.clone();
            }
        }
        let fixed = run_program(&files, &self.options);
        let display = |path: &Path, line: u32| {
            let name = analysis
                .workspace
                .files
                .iter()
                .find(|f| f.path == path)
                .map_or_else(|| path.display().to_string(), |f| f.display.clone());
            format!("{name}:{line}")
        };
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
            let at = format!("`{}` at {}", a.api, display(&a.path, a.line));
            if a.api != b.api {
                return Some(format!("{at} was `{}` before the fix", b.api));
            }
            match (&b.outcome, &a.outcome) {
                (Outcome::Ok { .. }, Outcome::Failed { message, .. }) => {
                    return Some(format!(
                        "{at} ran before the fix and fails after it: {}",
                        message.lines().next().unwrap_or("")
                    ))
                }
                (Outcome::Ok { .. }, Outcome::NotRun(n)) => {
                    return Some(format!(
                        "{at} ran before the fix and does not after it: {}",
                        n.reason
                    ))
                }
                _ => {}
            }
            let (Some(nb), Some(na)) = (&b.numbers, &a.numbers) else {
                continue;
            };
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
            let (Some(reference), Some(gradient)) = (reference_gradient(b), &na.gradient) else {
                continue;
            };
            match super::compare_gradients(gradient, reference) {
                Some(c) if c.ok => {}
                Some(c) => {
                    let (k, _) = gradient
                        .iter()
                        .zip(reference)
                        .enumerate()
                        .map(|(k, (g, r))| (k, (g - r).abs() / 1f64.max(g.abs()).max(r.abs())))
                        .fold(
                            (0, 0.0),
                            |best, cur| if cur.1 > best.1 { cur } else { best },
                        );
                    return Some(format!(
                        "{at}: the gradient after the fix differs from finite differences of the original code (component {}: {} instead of {}; relative error {:.1e})",
                        k + 1,
                        short(gradient[k]),
                        short(reference[k]),
                        c.max_rel_error
                    ));
                }
                None => {
                    return Some(format!(
                    "{at}: the gradient after the fix has {} components where the original has {}",
                    gradient.len(),
                    reference.len()
                ))
                }
            }
        }
        None
    }
}

/// The gradient a fixed program must reproduce for this entry run, if any.
fn reference_gradient(e: &EntryRun) -> Option<&Vec<f64>> {
    let n = e.numbers.as_ref()?;
    n.fd_gradient.as_ref().or(n.gradient.as_ref())
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
