//! Quick fixes: the builders attach [`Fix`]es and help to diagnostics, and the applier
//! here turns the selected ones into new file texts.
//!
//! One file per builder, each saying why its applicability is what it is. Builders never
//! guess: a rewrite is offered only when the pattern is recognised whole.
//!
//! - [`attach`]: the driver, which runs the builders of each finding.
//! - [`rebind_local`]: `z = similar(y); z .= f.(y)` and allocate-then-fill loops become a
//!   binding of a new array, only when it is provably the same array (see [`rebinding`]);
//!   unsafe, since the element type can change, except `z = similar(y); z .= y` (or
//!   `copyto!(z, y)`) -> `z = copy(y)`, which is safe.
//! - [`non_mutating_variant`]: a helper that writes into its argument and returns it gets
//!   a non-mutating twin (never named like a Base export), and the differentiated call
//!   sites switch to it (unsafe: callers may rely on the mutation).
//! - [`forwarddiff_wrap`]: `g(y)` becomes `Zygote.forwarddiff(g, y)` when `y` is known to
//!   be real numbers and `g` draws none at random; the title states the cost (unsafe: the
//!   argument is no longer mutated, and the gradient comes from another AD).
//! - [`rrule_skeleton`]: an `rrule` (with `NoTangent()` for what has no derivative, on a
//!   non-mutating twin for an in-place function returning `nothing`) or
//!   `@non_differentiable` for the function (display only: the pullback must be written
//!   by hand).
//! - [`guidance`]: help text for try/catch, mutable structs, boxed variables, nested AD.
//! - [`rebinding`]: the recogniser of writes that can become bindings, which
//!   [`rebind_local`] and [`non_mutating_variant`] share.
//! - [`tree`]: the syntax trees of the statements around findings, re-parsed on demand
//!   (the analysis keeps facts, not trees), and the node helpers every builder uses.
//! - [`diff`]: the unified diff `--diff` prints.
//!
//! The applier takes at most one fix per diagnostic (the first one whose applicability is
//! allowed), drops a fix that overlaps one already taken or that would delete a comment,
//! applies the edits of each file right to left, refuses a fix whose result has more syntax
//! errors than before, and re-analyses until no fix applies (with an iteration cap). It
//! never writes a file: [`write_atomic`] does, and only the CLI's `--fix` calls it.

pub mod attach;
pub mod diff;
mod forwarddiff_wrap;
mod guidance;
mod non_mutating_variant;
mod rebind_local;
mod rebinding;
mod rrule_skeleton;
mod tree;

use crate::analysis::{self, Analysis, Options};
use crate::diagnostic::{Applicability, Fix};
use crate::facts::Span;
use crate::refad::confirm::GradientReference;
use crate::workspace::Workspace;
use attach::FixScope;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Re-analysis rounds before the applier gives up on reaching a fixed point.
const MAX_ROUNDS: usize = 10;

/// An analysis of `workspace` with the fixes (and the builders' help) of every finding:
/// what `check` shows and `--fix` applies.
pub fn analyze(workspace: Workspace, options: &Options) -> Analysis {
    let mut analysis = analysis::analyze(workspace, options);
    attach::attach(&mut analysis, HashMap::new(), FixScope::All);
    analysis
}

/// Fixes for the findings in the files that have a tree in `parsed` (the editor's open
/// documents, where code actions are asked for), reusing those trees; the findings
/// elsewhere keep their rule's help. Building fixes parses the statements around every
/// finding again, which would be a tenth of the work of analysing a large workspace on
/// each edit.
pub fn attach_to_documents(
    analysis: &mut Analysis,
    parsed: &HashMap<PathBuf, crate::syntax::Parsed>,
) {
    let trees: HashMap<u32, tree_sitter::Tree> = (analysis.workspace.files.iter())
        .enumerate()
        .filter_map(|(i, f)| Some((i as u32, parsed.get(&f.path)?.tree.clone())))
        .collect();
    attach::attach(analysis, trees, FixScope::GivenTrees);
}

/// Whether a fix of this applicability is applied in this mode.
pub fn allowed(applicability: Applicability, unsafe_fixes: bool) -> bool {
    match applicability {
        Applicability::Safe => true,
        Applicability::Unsafe => unsafe_fixes,
        Applicability::DisplayOnly => false,
    }
}

/// The result of fixing a workspace in memory.
pub struct Outcome {
    /// The analysis of the fixed texts.
    pub analysis: Analysis,
    /// How many fixes were applied, over all rounds.
    pub applied: usize,
    /// Files whose text changed: (file index, text as read, fixed text).
    pub changed: Vec<(u32, String, String)>,
    /// The files each applied fix edits (one entry per fix): a fix is written only when
    /// all of them are.
    pub fix_files: Vec<Vec<u32>>,
    /// Fixes that were refused, with the reason, for the user.
    pub refused: Vec<String>,
}

/// Apply fixes to a fixed point. `analysis` must come from [`analyze`] with
/// `options`, so that each round sees the same rules. With `verify`, a fix is refused when
/// the reference interpreter shows that it changes what an entry point computes.
pub fn fix_to_fixed_point(
    analysis: Analysis,
    options: &Options,
    unsafe_fixes: bool,
    verify: Option<&GradientReference>,
) -> Outcome {
    let originals: Vec<String> = analysis
        .workspace
        .files
        .iter()
        .map(|f| f.text.clone())
        .collect();
    let mut analysis = analysis;
    let mut fix_files: Vec<Vec<u32>> = Vec::new();
    let mut refused = Vec::new();
    let mut refused_keys: HashSet<String> = HashSet::new();
    for _ in 0..MAX_ROUNDS {
        let round = plan_round(&analysis, unsafe_fixes, &refused_keys);
        if round.is_empty() {
            break;
        }
        let (texts, taken, rejected) = apply_round(&analysis, &round, verify);
        for (key, why) in rejected {
            if refused_keys.insert(key) {
                refused.push(why);
            }
        }
        if taken.is_empty() {
            continue;
        }
        fix_files.extend(taken);
        let mut workspace = analysis.workspace;
        workspace.warnings.clear();
        for (file, text) in texts {
            workspace.files[file as usize].text = text;
        }
        analysis = analyze(workspace, options);
    }
    let changed = analysis
        .workspace
        .files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let before = originals.get(i)?;
            (*before != f.text).then(|| (i as u32, before.clone(), f.text.clone()))
        })
        .collect();
    Outcome {
        analysis,
        applied: fix_files.len(),
        changed,
        fix_files,
        refused,
    }
}

/// A stable name for a fix across rounds (spans move as the text changes).
fn fix_key(analysis: &Analysis, fix: &Fix) -> String {
    let mut key = fix.title.clone();
    for e in &fix.edits {
        let file = &analysis.workspace.files[e.location.file as usize];
        key.push('\u{0}');
        key.push_str(&file.display);
        key.push('\u{0}');
        key.push_str(file.text.get(e.location.span.range()).unwrap_or(""));
        key.push('\u{0}');
        key.push_str(&e.replacement);
    }
    key
}

/// The fixes of one round: one per diagnostic, no two overlapping, none touching a file
/// outside the checked paths, none deleting a comment.
fn plan_round<'a>(
    analysis: &'a Analysis,
    unsafe_fixes: bool,
    refused: &HashSet<String>,
) -> Vec<Planned<'a>> {
    let mut taken: Vec<Planned> = Vec::new();
    let mut spans: Vec<(u32, Span)> = Vec::new();
    let mut comments: std::collections::HashMap<u32, Vec<Span>> = Default::default();
    let mut keeps = |file: u32, span: Span, replacement: &str| {
        let src = &analysis.workspace.files[file as usize].text;
        let c = comments.entry(file).or_insert_with(|| comment_spans(src));
        keeps_comments(src, c, span, replacement)
    };
    for d in &analysis.diagnostics {
        let candidate = d.fixes.iter().find(|fix| {
            allowed(fix.applicability, unsafe_fixes)
                && !fix.edits.is_empty()
                && !refused.contains(&fix_key(analysis, fix))
                && fix.edits.iter().all(|e| {
                    analysis.workspace.files[e.location.file as usize].reported
                        && keeps(e.location.file, e.location.span, &e.replacement)
                })
                && !fix.edits.iter().any(|e| {
                    spans
                        .iter()
                        .any(|(f, s)| *f == e.location.file && overlaps(*s, e.location.span))
                })
        });
        if let Some(fix) = candidate {
            spans.extend(fix.edits.iter().map(|e| (e.location.file, e.location.span)));
            let entry = d.entry.as_ref().map(|e| {
                let file = e.location.file;
                (
                    file,
                    analysis.line_col(file, e.location.span.start).0 as u32,
                )
            });
            taken.push(Planned { fix, entry });
        }
    }
    taken
}

/// Two edits conflict when their ranges intersect; two insertions at one point do too,
/// since their order would be arbitrary.
fn overlaps(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

/// The comments of a source text (line and block comments), from its syntax tree.
pub fn comment_spans(src: &str) -> Vec<Span> {
    comments_in(crate::syntax::parse(src).tree.root_node())
}

/// The comments under a node of an already parsed tree.
pub fn comments_in(root: tree_sitter::Node) -> Vec<Span> {
    static COMMENTS: crate::syntax::KindSet =
        crate::syntax::KindSet::new(&["line_comment", "block_comment"]);
    // Comments are tokens: none holds another.
    COMMENTS
        .find_in(root)
        .into_iter()
        .map(|found| Span::of(found.node))
        .collect()
}

/// Every comment inside the replaced range must survive in the replacement.
pub fn keeps_comments(src: &str, comments: &[Span], span: Span, replacement: &str) -> bool {
    comments
        .iter()
        .filter(|c| span.start < c.end && c.start < span.end)
        .all(|c| replacement.contains(src[c.range()].trim_end()))
}

/// What one round of fixing made: the new texts by file, the files each accepted fix
/// edits, and the refused fixes (key, why).
type Round = (BTreeMap<u32, String>, Vec<Vec<u32>>, Vec<(String, String)>);

/// A fix planned for a round, with the entry point (file, line) its finding is reached
/// from, which `--verify` must see run.
#[derive(Clone, Copy)]
struct Planned<'a> {
    fix: &'a Fix,
    entry: Option<(u32, u32)>,
}

/// One round: the fixes that pass the checks, applied together. A result must parse (no
/// new syntax errors) and, with `verify`, make nothing worse in the reference interpreter
/// ([`GradientReference::worse`]); the fixes at fault are found by trying each alone, and
/// when only their combination fails, every fix in the files at fault is refused. Then,
/// with `verify`, each remaining fix must be proven by the run of all of them together
/// ([`GradientReference::proves`]: its entry point now runs and keeps the gradient);
/// the others are refused, and the rest checked again.
fn apply_round(
    analysis: &Analysis,
    planned: &[Planned],
    verify: Option<&GradientReference>,
) -> Round {
    type Check<'c> = &'c dyn Fn(&BTreeMap<u32, String>) -> Option<(Vec<u32>, String)>;
    let parses = |texts: &BTreeMap<u32, String>| {
        let broken: Vec<u32> = texts
            .iter()
            .filter(|(file, text)| {
                crate::syntax::parse(text).error_count
                    > analysis.facts[**file as usize].parse_errors
            })
            .map(|(f, _)| *f)
            .collect();
        (!broken.is_empty()).then(|| (broken, "the result would not parse".to_string()))
    };
    let keeps_program = |texts: &BTreeMap<u32, String>| {
        let reference = verify?;
        let why = reference.worse(analysis, &reference.run_fixed(analysis, texts))?;
        Some((
            texts.keys().copied().collect(),
            format!("the reference interpreter shows it changes the program: {why}"),
        ))
    };
    let checks: [Check; 2] = [&parses, &keeps_program];
    let mut rejected = Vec::new();
    let mut accepted: Vec<Planned> = planned.to_vec();
    // The run of this round's texts, whose entry lines the planned fixes name.
    let mut current: Option<crate::refad::confirm::Runs> = None;
    let refuse = |p: &Planned, why: &str, rejected: &mut Vec<(String, String)>| {
        let e = &p.fix.edits[0];
        let (line, _) = analysis.line_col(e.location.file, e.location.span.start);
        rejected.push((
            fix_key(analysis, p.fix),
            format!(
                "{}:{line}: fix \"{}\" not applied: {why}",
                analysis.workspace.files[e.location.file as usize].display, p.fix.title
            ),
        ));
    };
    loop {
        let fixes: Vec<&Fix> = accepted.iter().map(|p| p.fix).collect();
        let texts = apply_fixes(analysis, &fixes);
        let Some((check, broken, why)) = checks
            .iter()
            .find_map(|check| check(&texts).map(|(broken, why)| (check, broken, why)))
        else {
            if let Some(reference) = verify {
                let current =
                    current.get_or_insert_with(|| reference.run_fixed(analysis, &BTreeMap::new()));
                let fixed = reference.run_fixed(analysis, &texts);
                let unproven: Vec<(usize, String)> = (accepted.iter().enumerate())
                    .filter_map(|(i, p)| {
                        let why = reference.proves(analysis, current, &fixed, p.entry).err()?;
                        Some((i, why))
                    })
                    .collect();
                if !unproven.is_empty() {
                    for (i, why) in unproven.into_iter().rev() {
                        let p = accepted.remove(i);
                        refuse(
                            &p,
                            &format!("--verify cannot show that it keeps the program: {why}"),
                            &mut rejected,
                        );
                    }
                    continue;
                }
            }
            let files = (accepted.iter())
                .map(|p| {
                    let mut files: Vec<u32> = p.fix.edits.iter().map(|e| e.location.file).collect();
                    files.sort_unstable();
                    files.dedup();
                    files
                })
                .collect();
            return (texts, files, rejected);
        };
        let in_broken = |fix: &Fix| fix.edits.iter().any(|e| broken.contains(&e.location.file));
        let mut culprits: Vec<(usize, String)> = Vec::new();
        for (i, p) in accepted.iter().enumerate() {
            if in_broken(p.fix) {
                if let Some((_, why)) = check(&apply_fixes(analysis, &[p.fix])) {
                    culprits.push((i, why));
                }
            }
        }
        if culprits.is_empty() {
            culprits = (0..accepted.len())
                .filter(|&i| in_broken(accepted[i].fix))
                .map(|i| {
                    (
                        i,
                        format!("{why} (together with the other fixes in its file)"),
                    )
                })
                .collect();
        }
        for (i, why) in culprits.into_iter().rev() {
            let p = accepted.remove(i);
            refuse(&p, &why, &mut rejected);
        }
    }
}

/// The texts of every file the fixes touch, with their edits applied right to left.
fn apply_fixes(analysis: &Analysis, fixes: &[&Fix]) -> BTreeMap<u32, String> {
    let mut per_file: BTreeMap<u32, Vec<(Span, &str)>> = BTreeMap::new();
    for fix in fixes {
        for e in &fix.edits {
            per_file
                .entry(e.location.file)
                .or_default()
                .push((e.location.span, e.replacement.as_str()));
        }
    }
    per_file
        .into_iter()
        .map(|(file, edits)| {
            let text = &analysis.workspace.files[file as usize].text;
            (file, apply_edits(text, edits))
        })
        .collect()
}

/// Apply non-overlapping edits to a text, right to left so earlier offsets stay valid.
pub fn apply_edits(text: &str, mut edits: Vec<(Span, &str)>) -> String {
    edits.sort_by(|a, b| b.0.start.cmp(&a.0.start).then(b.0.end.cmp(&a.0.end)));
    let mut out = text.to_string();
    for (span, replacement) in edits {
        if span.end as usize <= out.len() && out.is_char_boundary(span.start as usize) {
            out.replace_range(span.range(), replacement);
        }
    }
    out
}

/// Write `new_text` to `path` through a temporary file in the same directory and a rename,
/// keeping a byte-order mark and the file's permissions. Refuses a read-only file, and one
/// that is no longer the text that was analysed (`expected`). A failed write leaves the
/// file as it was.
pub fn write_atomic(path: &Path, expected: &str, new_text: &str) -> Result<(), String> {
    write_atomic_with(path, expected, new_text, &mut write_all)
}

/// How the new contents reach the temporary file: `write_all`, or in tests a writer that
/// fails part-way like a full disk.
pub type WriteBytes<'a> = &'a mut dyn FnMut(&mut std::fs::File, &[u8]) -> std::io::Result<()>;

/// [`write_atomic`] with the bytes written by `write`.
pub fn write_atomic_with(
    path: &Path,
    expected: &str,
    new_text: &str,
    write: WriteBytes,
) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read its metadata: {e}"))?;
    let permissions = metadata.permissions();
    // A new file renamed over one name of a file with several would leave the others with
    // the old text.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.nlink() > 1 {
            return Err(format!(
                "it has {} hard links, which would keep the old text",
                metadata.nlink()
            ));
        }
    }
    // Permission bits do not stop root from replacing a file; a read-only file is one the
    // user asked not to change, so it is refused whoever runs adlint.
    if permissions.readonly() {
        return Err("it is read-only".to_string());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it again: {e}"))?;
    let bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    match crate::workspace::decode_source(bytes) {
        Ok(current) if current == expected => {}
        _ => return Err("it changed on disk since it was read".to_string()),
    }
    let mut out = Vec::with_capacity(new_text.len() + 3);
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    out.extend_from_slice(new_text.as_bytes());
    replace_atomic_with(path, &out, Some(permissions), write)
        .map_err(|e| format!("cannot write it: {e}"))
}

/// Give the temporary file that replaces `original` the original's owner and group (when
/// root fixes another user's file, the new file would otherwise be root's).
#[cfg(unix)]
fn keep_owner(tmp: &Path, original: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let made = std::fs::metadata(tmp)?;
    if (made.uid(), made.gid()) == (original.uid(), original.gid()) {
        return Ok(());
    }
    std::os::unix::fs::chown(tmp, Some(original.uid()), Some(original.gid()))
}

/// Write an output file the user asked for (a table, a graph, a baseline, facts): a
/// regular file atomically, through a temporary file and a rename, keeping its
/// permissions (a new one is readable by all, as a file the user would make); through a
/// link, the file it leads to. Anything else (`/dev/stdout`, `/dev/null`, a FIFO) is
/// written into as it is: a rename would have put a regular file in its place.
pub fn write_output(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let (path, permissions) = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => (path.canonicalize()?, Some(m.permissions())),
        Ok(_) => {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)?;
            return std::io::Write::write_all(&mut out, bytes);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            #[cfg(unix)]
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                Some(std::fs::Permissions::from_mode(0o644))
            };
            #[cfg(not(unix))]
            let mode = None;
            (path.to_path_buf(), mode)
        }
        Err(e) => return Err(e),
    };
    replace_atomic(&path, bytes, permissions)
}

/// Replace a file's contents through a temporary file in the same directory and a rename:
/// readers never see a half-written file, and a failed write leaves the old one intact.
pub fn replace_atomic(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    replace_atomic_with(path, bytes, permissions, &mut write_all)
}

/// The writer of [`write_atomic`] and [`replace_atomic`] outside tests.
fn write_all(file: &mut std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
    std::io::Write::write_all(file, bytes)
}

fn replace_atomic_with(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
    write: WriteBytes,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Dropped on any error before `persist`: the temporary file is removed.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    write(tmp.as_file_mut(), bytes)?;
    tmp.as_file().sync_all()?;
    // The old file's owner and group, then its mode (set after: chown clears set-id bits).
    #[cfg(unix)]
    if let Ok(original) = std::fs::metadata(path) {
        keep_owner(tmp.path(), &original)?;
    }
    if let Some(p) = permissions {
        std::fs::set_permissions(tmp.path(), p)?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// What `check --fix` / `check --diff` was asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct CliRequest {
    /// Also apply fixes that may change behaviour.
    pub unsafe_fixes: bool,
    /// Print a diff instead of writing the files.
    pub diff_only: bool,
    /// Refuse fixes that the reference interpreter shows change an entry point's value or
    /// gradient.
    pub verify: bool,
}

/// What `check --fix` / `check --diff` leaves for the CLI to do next.
pub enum CliOutcome {
    /// `--diff`: the diff is printed; the run ends with this exit code.
    Diff(std::process::ExitCode),
    /// `--fix`: the files are written; report on this analysis of the fixed texts.
    Fixed(Box<Analysis>),
}

/// `check --fix` and `check --diff`: fix in memory, then print a diff or write the files.
/// Notes go to `err`; the diff goes to stdout.
pub fn run_cli(
    analysis: Analysis,
    options: &Options,
    request: CliRequest,
    err: &mut dyn std::io::Write,
) -> std::io::Result<CliOutcome> {
    let CliRequest {
        unsafe_fixes,
        diff_only,
        verify,
    } = request;
    let reference = verify.then(|| GradientReference::new(&analysis));
    let outcome = fix_to_fixed_point(analysis, options, unsafe_fixes, reference.as_ref());
    for why in &outcome.refused {
        writeln!(err, "warning: {why}")?;
    }
    if reference.is_some() && outcome.applied > 0 {
        writeln!(
            err,
            "Verified in the reference interpreter: {} the value and gradient of the entry points {} reached from",
            match outcome.applied {
                1 => "the applied fix keeps".to_string(),
                n => format!("each of the {n} applied fixes keeps"),
            },
            if outcome.applied == 1 { "its finding is" } else { "their findings are" },
        )?;
    }
    let remaining = outcome.analysis.diagnostics.len();
    let files = &outcome.analysis.workspace.files;
    let unsafe_hint = |a: &Analysis| {
        let n = a
            .diagnostics
            .iter()
            .filter(|d| {
                d.fixes
                    .iter()
                    .any(|f| f.applicability == Applicability::Unsafe)
            })
            .count();
        if n > 0 && !unsafe_fixes {
            format!("; {n} more with --unsafe-fixes")
        } else {
            String::new()
        }
    };
    if diff_only {
        use std::io::Write as _;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for (file, before, after) in &outcome.changed {
            let path = &files[*file as usize].display;
            out.write_all(diff::unified(path, before, after).as_bytes())?;
        }
        out.flush()?;
        writeln!(
            err,
            "Would fix {} finding{} ({remaining} remaining{})",
            outcome.applied,
            if outcome.applied == 1 { "" } else { "s" },
            unsafe_hint(&outcome.analysis)
        )?;
        let code = if outcome.changed.is_empty() { 0 } else { 1 };
        return Ok(CliOutcome::Diff(std::process::ExitCode::from(code)));
    }
    let root = &outcome.analysis.workspace.root;
    let mut unwritten: HashSet<u32> = HashSet::new();
    for (file, before, after) in &outcome.changed {
        let f = &files[*file as usize];
        // Files are kept by canonical path: one outside the root came through a link.
        let written = match f.path.starts_with(root) {
            true => write_atomic(&f.path, before, after),
            false => Err("it is outside the workspace root".to_string()),
        };
        if let Err(why) = written {
            writeln!(err, "warning: {} not fixed: {why}", f.display)?;
            unwritten.insert(*file);
        }
    }
    let fixed = (outcome.fix_files.iter())
        .filter(|files| files.iter().all(|f| !unwritten.contains(f)))
        .count();
    // What is on disk now: the fixed texts, but the old one of each file not written.
    let analysis = match unwritten.is_empty() {
        true => outcome.analysis,
        false => {
            let mut workspace = outcome.analysis.workspace;
            workspace.warnings.clear();
            for (file, before, _) in outcome.changed.iter().filter(|c| unwritten.contains(&c.0)) {
                workspace.files[*file as usize].text = before.clone();
            }
            analyze(workspace, options)
        }
    };
    writeln!(
        err,
        "Fixed {fixed} finding{} ({} remaining{})",
        if fixed == 1 { "" } else { "s" },
        analysis.diagnostics.len(),
        unsafe_hint(&analysis)
    )?;
    Ok(CliOutcome::Fixed(Box::new(analysis)))
}
