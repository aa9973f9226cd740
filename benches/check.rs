//! Speed and memory benchmark of adlint: `cargo bench --bench check`.
//!
//! Generates a deterministic corpus of realistic Flux/Zygote Julia in memory (`gen.rs`,
//! `ADLINT_BENCH_MB` MiB, default 20) and reports parse-only and full-check throughput,
//! single-threaded and on all threads, the full/parse ratio, a per-phase breakdown of the
//! pipeline, and the peak RSS of a child process that holds the source and runs the check.
//!
//! Child modes (the bench re-executes itself, so that the parent's copies of the corpus do
//! not count): `ADLINT_BENCH_MODE=gen-rss` (generation only), `check-rss` (generation, then
//! `analysis::analyze`), `phases-rss` (the pipeline step by step, RSS after each step).
//! `ADLINT_BENCH_THREADS` sets the number of threads of a child (0: all).
//! `ADLINT_BENCH_MODE=dump` writes the corpus to `ADLINT_BENCH_DIR` (for profiling the CLI);
//! `facts-stats` prints how many facts of each kind the corpus has and the bytes they hold.

mod gen;

use adlint::analysis::{self, Options};
use adlint::facts::{self, FileFacts};
use adlint::index::{self, Index};
use adlint::rules::{self, RuleContext, Settings};
use adlint::workspace::Workspace;
use adlint::{callgraph, syntax};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROOT: &str = "/adlint-bench";
const RUNS: usize = 3;
/// Targets from the brief.
const TARGET_RATIO: f64 = 1.3;
const TARGET_PEAK_MB: f64 = 150.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A field of `/proc/self/status` in kB (`VmHWM`, `VmRSS`).
fn proc_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn fmt_runs(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.2}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" / ")
}

struct Row {
    what: String,
    median: Duration,
    runs: Vec<Duration>,
    bytes: usize,
}

/// How to read one phase's duration from a [`Phases`] record.
type PhaseTime = Box<dyn Fn(&Phases) -> Duration>;

fn print_rows(title: &str, rows: &[Row]) {
    println!();
    println!("{title}");
    println!(
        "  {:<44} {:>9} {:>9}   runs (s)",
        "measurement", "median s", "MiB/s"
    );
    println!("  {}", "-".repeat(84));
    for r in rows {
        let s = r.median.as_secs_f64();
        let rate = if r.bytes > 0 && s > 0.0 {
            format!("{:.2}", mib(r.bytes) / s)
        } else {
            "-".to_string()
        };
        println!(
            "  {:<44} {:>9.3} {:>9}   {}",
            r.what,
            s,
            rate,
            fmt_runs(&r.runs)
        );
    }
}

fn generate() -> (Vec<(PathBuf, String)>, Duration) {
    let mb = env_usize("ADLINT_BENCH_MB", 20);
    let t = Instant::now();
    let files = gen::corpus(mb);
    (files, t.elapsed())
}

fn main() {
    match std::env::var("ADLINT_BENCH_MODE").as_deref() {
        Ok("gen-rss") => child_gen_rss(),
        Ok("check-rss") => child_check_rss(),
        Ok("phases-rss") => child_phases_rss(),
        Ok("dump") => dump(),
        Ok("facts-stats") => facts_stats(),
        Ok("") | Err(_) => report(),
        Ok(other) => {
            eprintln!("unknown ADLINT_BENCH_MODE `{other}` (gen-rss, check-rss, phases-rss, dump, facts-stats)");
            std::process::exit(2);
        }
    }
}

/// Write the corpus under `ADLINT_BENCH_DIR` (default `target/bench-corpus`), so that the
/// real CLI can be profiled on it: `adlint check target/bench-corpus`.
fn dump() {
    let dir = PathBuf::from(
        std::env::var("ADLINT_BENCH_DIR").unwrap_or_else(|_| "target/bench-corpus".into()),
    );
    let (files, _) = generate();
    for (path, text) in &files {
        let rel = path.strip_prefix(ROOT).unwrap_or(path);
        let out = dir.join(rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).expect("create the corpus folder");
        }
        std::fs::write(&out, text).expect("write a corpus file");
    }
    println!("wrote {} files under {}", files.len(), dir.display());
}

fn child_threads() -> usize {
    match env_usize("ADLINT_BENCH_THREADS", 0) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Peak RSS of generation alone.
fn child_gen_rss() {
    let (files, _) = generate();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    println!("RSS gen_hwm_kb={} bytes={bytes}", proc_status_kb("VmHWM"));
}

/// Peak RSS of a process that holds the corpus and runs the full check.
fn child_check_rss() {
    let threads = child_threads();
    let (files, _) = generate();
    let baseline = proc_status_kb("VmHWM");
    let baseline_rss = proc_status_kb("VmRSS");
    let summary = pool(threads).install(|| {
        let ws = Workspace::from_sources(Path::new(ROOT), files);
        let a = adlint::fix::analyze(ws, &Options::default());
        a.summary()
    });
    println!(
        "RSS baseline_hwm_kb={baseline} baseline_rss_kb={baseline_rss} peak_kb={} threads={threads} entries={} diagnostics={}",
        proc_status_kb("VmHWM"),
        summary.entry_points,
        summary.diagnostics
    );
}

/// The pipeline of `analysis::analyze` step by step, with the RSS after each step (what
/// the retained structures cost) and the high-water mark (what the step's peak costs).
fn child_phases_rss() {
    let threads = child_threads();
    let (files, _) = generate();
    let line = |what: &str| {
        println!(
            "PHASE {what} rss_kb={} hwm_kb={}",
            proc_status_kb("VmRSS"),
            proc_status_kb("VmHWM")
        );
    };
    line("generated");
    pool(threads).install(|| {
        let ws = Workspace::from_sources(Path::new(ROOT), files);
        line("workspace");
        let facts: Vec<FileFacts> = ws
            .files
            .par_iter()
            .map(|f| facts::extract(&f.text))
            .collect();
        // As `analysis::analyze` does after its pass of parses.
        syntax::release_parse_memory();
        line("facts");
        let facts_copy = facts.clone();
        line("facts + cache clone");
        drop(facts_copy);
        let index = Index::build(&facts, &[], adlint::units::Units::single(facts.len()));
        line("index");
        let decls = index::CustomRules::build(&facts, &index);
        let graph = callgraph::build(&facts, &index, &decls, adlint::knowledge::get(), &[]);
        line("callgraph");
        let settings = Settings::default();
        let cx = RuleContext::new(&ws.files, &facts, &index, &graph, &settings);
        let d = rules::run_all(&cx, &rules::all_rules());
        line("rules");
        println!("PHASE diagnostics={}", d.len());
    });
}

fn run_child(mode: &str, threads: usize) -> String {
    let exe = std::env::current_exe().expect("current exe");
    let out = std::process::Command::new(exe)
        .env("ADLINT_BENCH_MODE", mode)
        .env("ADLINT_BENCH_THREADS", threads.to_string())
        .output()
        .expect("child process runs");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        panic!("child `{mode}` failed: {}", out.status);
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field(out: &str, key: &str) -> u64 {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Per-phase timings of the pipeline (the same steps as `analysis::analyze`).
struct Phases {
    workspace: Duration,
    parse: Duration,
    visit: Duration,
    extract: Duration,
    cache_clone: Duration,
    index: Duration,
    callgraph: Duration,
    rules: Vec<(&'static str, Duration)>,
    sort: Duration,
    fixes: Duration,
}

fn phases(files: &[(PathBuf, String)]) -> Phases {
    let t = Instant::now();
    let ws = Workspace::from_sources(Path::new(ROOT), files.to_vec());
    let workspace = t.elapsed();

    // Parse alone; then parse and visit every node once, stopping at none (what any
    // extraction from the tree costs at least); then the whole `facts::extract`.
    let t = Instant::now();
    let n: usize = ws
        .files
        .par_iter()
        .map(|f| syntax::with_transient_parse(&f.text, |_, errors| errors))
        .sum();
    let parse = t.elapsed();
    assert_eq!(n, 0);
    // The visits are timed on their own (the difference of two passes is as noisy as
    // the visit is long); on several threads, their sum divided by the threads.
    static NO_KINDS: syntax::KindSet = syntax::KindSet::new(&[]);
    let visit: Duration = ws
        .files
        .par_iter()
        .map(|f| {
            syntax::with_transient_parse(&f.text, |root, _| {
                let t = Instant::now();
                assert!(NO_KINDS.find_in(root).is_empty());
                t.elapsed()
            })
        })
        .sum::<Duration>()
        / rayon::current_num_threads() as u32;
    let t = Instant::now();
    let facts: Vec<FileFacts> = ws
        .files
        .par_iter()
        .map(|f| facts::extract(&f.text))
        .collect();
    let extract = t.elapsed().saturating_sub(parse);

    let t = Instant::now();
    let copy = facts.clone();
    let cache_clone = t.elapsed();
    drop(copy);

    let t = Instant::now();
    let index = Index::build(&facts, &[], adlint::units::Units::single(facts.len()));
    let index_t = t.elapsed();
    let t = Instant::now();
    let decls = index::CustomRules::build(&facts, &index);
    let graph = callgraph::build(&facts, &index, &decls, adlint::knowledge::get(), &[]);
    let callgraph_t = t.elapsed();
    let settings = Settings::default();
    let cx = RuleContext::new(&ws.files, &facts, &index, &graph, &settings);
    let mut rule_times = Vec::new();
    let mut all = Vec::new();
    for rule in rules::all_rules() {
        let t = Instant::now();
        let mut out = Vec::new();
        rule.check(&cx, &mut out);
        rule_times.push((rule.name(), t.elapsed()));
        all.extend(out);
    }
    let t = Instant::now();
    let _ = rules::run_all(&cx, &[]);
    let sort = t.elapsed();
    // Fixes for every finding, as `adlint check` builds them (findings file by file).
    all.sort_by_key(|d| (d.location.file, d.location.span.start));
    let mut analysis = analysis::Analysis {
        workspace: ws,
        facts,
        index,
        graph,
        settings,
        diagnostics: all,
        baseline: None,
        hidden_guesses: 0,
        confirm_limits: Default::default(),
    };
    let t = Instant::now();
    adlint::fix::attach::attach(
        &mut analysis,
        Default::default(),
        adlint::fix::attach::FixScope::All,
    );
    let fixes = t.elapsed();
    Phases {
        workspace,
        parse,
        visit,
        extract,
        cache_clone,
        index: index_t,
        callgraph: callgraph_t,
        rules: rule_times,
        sort,
        fixes,
    }
}

fn report() {
    let threads = rayon::current_num_threads();
    let (files, gen_time) = generate();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    println!("adlint benchmark (benches/check.rs)");
    println!(
        "corpus: {} files, {} lines, {:.2} MiB of generated Julia ({:.2} s to generate); {} threads",
        files.len(),
        lines,
        mib(bytes),
        gen_time.as_secs_f64(),
        threads
    );

    // Sanity: the generator writes valid Julia. Every file is checked by the parse runs
    // below; report the first bad one clearly here.
    for (path, text) in files.iter().step_by(7) {
        let p = syntax::parse(text);
        if p.error_count != 0 {
            let mut stack = vec![p.tree.root_node()];
            let mut at = None;
            while let Some(n) = stack.pop() {
                if n.is_error() || n.is_missing() {
                    at = Some(n.start_position());
                    break;
                }
                if n.has_error() {
                    let mut c = n.walk();
                    let kids: Vec<_> = n.children(&mut c).collect();
                    stack.extend(kids.into_iter().rev());
                }
            }
            panic!(
                "{} has {} parse errors (first at {at:?})",
                path.display(),
                p.error_count
            );
        }
    }

    let one = pool(1);
    let mut rows = Vec::new();

    // Parse only: every file parsed the way the check parses a file whose tree it does not
    // keep (`with_transient_parse`), and nothing else.
    let parse_all = |par: bool| -> usize {
        if par {
            files
                .par_iter()
                .map(|(_, t)| syntax::with_transient_parse(t, |_, errors| errors))
                .sum()
        } else {
            files
                .iter()
                .map(|(_, t)| syntax::with_transient_parse(t, |_, errors| errors))
                .sum()
        }
    };
    let check = |pool: Option<&rayon::ThreadPool>| {
        let input = files.clone();
        let t = Instant::now();
        let run = || {
            let ws = Workspace::from_sources(Path::new(ROOT), input);
            adlint::fix::analyze(ws, &Options::default())
        };
        let a = match pool {
            Some(p) => p.install(run),
            None => run(),
        };
        let elapsed = t.elapsed();
        let s = a.summary();
        drop(a);
        (elapsed, s)
    };
    // Parse-only and full-check runs alternate, so that a machine that slows down or
    // speeds up during the bench (a shared one does) biases neither side of the ratio.
    let (mut p1_runs, mut c1_runs, mut pn_runs, mut cn_runs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut summaries = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let errors = parse_all(false);
        p1_runs.push(t.elapsed());
        assert_eq!(errors, 0, "the generated corpus must parse without errors");
        let (t1, summary) = check(Some(&one));
        c1_runs.push(t1);
        let t = Instant::now();
        assert_eq!(parse_all(true), 0);
        pn_runs.push(t.elapsed());
        let (tn, summary_n) = check(None);
        cn_runs.push(tn);
        summaries = Some((summary, summary_n));
    }
    let (summary, summary_n) = summaries.expect("at least one run");
    assert_eq!(
        summary.diagnostics, summary_n.diagnostics,
        "threads change the result"
    );
    let median = |runs: &[Duration]| {
        let mut sorted = runs.to_vec();
        sorted.sort();
        sorted[sorted.len() / 2]
    };
    let (p1, c1, pn, cn) = (
        median(&p1_runs),
        median(&c1_runs),
        median(&pn_runs),
        median(&cn_runs),
    );
    for (what, median, runs) in [
        ("parse only, 1 thread".to_string(), p1, &p1_runs),
        (
            format!("parse only, {threads} threads (rayon)"),
            pn,
            &pn_runs,
        ),
        ("full check, 1 thread".to_string(), c1, &c1_runs),
        (format!("full check, {threads} threads"), cn, &cn_runs),
    ] {
        rows.push(Row {
            what,
            median,
            runs: runs.clone(),
            bytes,
        });
    }

    print_rows(
        "Throughput (median of 3 runs, parse and check runs alternating)",
        &rows,
    );
    let r1 = c1.as_secs_f64() / p1.as_secs_f64();
    let rn = cn.as_secs_f64() / pn.as_secs_f64();
    // Each run's check against the parse just before it.
    let pairs = |checks: &[Duration], parses: &[Duration]| {
        (checks.iter().zip(parses))
            .map(|(c, p)| format!("{:.2}", c.as_secs_f64() / p.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!();
    println!("Full check / parse only (target <= {TARGET_RATIO:.1}x; then each run's pair)");
    println!(
        "  1 thread:    {r1:>6.2}x   {}   ({})",
        verdict(r1 <= TARGET_RATIO),
        pairs(&c1_runs, &p1_runs)
    );
    println!(
        "  {threads} threads:   {rn:>6.2}x   {}   ({})",
        verdict(rn <= TARGET_RATIO),
        pairs(&cn_runs, &pn_runs)
    );

    println!();
    println!("Results of the full check");
    println!("  files                 {}", summary.files);
    println!("  lines                 {lines}");
    println!("  files with parse errs {}", summary.parse_errors);
    println!("  entry points          {}", summary.entry_points);
    println!("  unresolved calls      {}", summary.unresolved_calls);
    println!("  diagnostics           {}", summary.diagnostics);

    // Phases: where the time goes.
    let mut ph1 = Vec::new();
    let mut phn = Vec::new();
    for _ in 0..RUNS {
        ph1.push(one.install(|| phases(&files)));
        phn.push(phases(&files));
    }
    println!();
    println!("Phases of the pipeline (median of 3 runs, seconds; the floor: visiting every node");
    println!("of a parsed tree once, timed alone, what any extraction from the trees costs)");
    println!(
        "  {:<40} {:>10} {:>10}",
        "phase",
        "1 thread",
        format!("{threads} threads")
    );
    println!("  {}", "-".repeat(62));
    let med = |ps: &[Phases], f: &dyn Fn(&Phases) -> Duration| {
        let mut v: Vec<Duration> = ps.iter().map(f).collect();
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let mut phase_rows: Vec<(String, PhaseTime)> = vec![
        (
            "Workspace::from_sources".into(),
            Box::new(|p: &Phases| p.workspace),
        ),
        (
            "syntax::parse (inside facts::extract)".into(),
            Box::new(|p: &Phases| p.parse),
        ),
        (
            "  visiting every node once (the floor)".into(),
            Box::new(|p: &Phases| p.visit),
        ),
        (
            "facts::extract minus parse".into(),
            Box::new(|p: &Phases| p.extract),
        ),
        (
            "FileFacts clone (FactsCache insert)".into(),
            Box::new(|p: &Phases| p.cache_clone),
        ),
        ("Index::build".into(), Box::new(|p: &Phases| p.index)),
        (
            "Rules::build + callgraph::build".into(),
            Box::new(|p: &Phases| p.callgraph),
        ),
    ];
    for i in 0..ph1[0].rules.len() {
        let name = ph1[0].rules[i].0;
        phase_rows.push((
            format!("rule {name}"),
            Box::new(move |p: &Phases| p.rules[i].1),
        ));
    }
    phase_rows.push((
        "rules::run_all sort/dedup".into(),
        Box::new(|p: &Phases| p.sort),
    ));
    phase_rows.push((
        "fix builders (fix::attach::attach)".into(),
        Box::new(|p: &Phases| p.fixes),
    ));
    for (name, f) in &phase_rows {
        println!(
            "  {:<40} {:>10.3} {:>10.3}",
            name,
            med(&ph1, f.as_ref()),
            med(&phn, f.as_ref())
        );
    }

    // Memory, in child processes: this process holds several copies of the corpus.
    println!();
    println!("Peak RSS (VmHWM of a child process that generates the corpus, then runs the step)");
    let g = run_child("gen-rss", 0);
    let gen_kb = field(&g, "gen_hwm_kb");
    println!(
        "  {:<52} {:>9.1} MiB",
        "generation only (baseline)",
        gen_kb as f64 / 1024.0
    );
    for t in [1, threads] {
        let out = run_child("check-rss", t);
        let base = field(&out, "baseline_hwm_kb");
        let peak = field(&out, "peak_kb");
        let peak_mb = peak as f64 / 1024.0;
        println!(
            "  {:<52} {:>9.1} MiB   {} (baseline {:.1} MiB, check adds {:.1} MiB)",
            format!("holds source + full check, {t} thread(s)"),
            peak_mb,
            verdict(peak_mb < TARGET_PEAK_MB),
            base as f64 / 1024.0,
            (peak.saturating_sub(base)) as f64 / 1024.0
        );
        if t == threads {
            break;
        }
    }
    println!("  target: < {TARGET_PEAK_MB:.0} MiB");
    println!();
    println!("Memory by phase ({threads} threads; RSS after the step, high-water mark so far)");
    for l in run_child("phases-rss", 0).lines() {
        if let Some(rest) = l.strip_prefix("PHASE ") {
            if rest.starts_with("diagnostics") {
                continue;
            }
            let mut parts = rest.split_whitespace().collect::<Vec<_>>();
            let hwm = field(rest, "hwm_kb");
            let rss = field(rest, "rss_kb");
            parts.retain(|p| !p.contains('='));
            println!(
                "  {:<28} rss {:>8.1} MiB   hwm {:>8.1} MiB",
                parts.join(" "),
                rss as f64 / 1024.0,
                hwm as f64 / 1024.0
            );
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "OK"
    } else {
        "MISSED"
    }
}

/// Where the facts' bytes go: for each kind of fact, how many there are and an estimate
/// of the bytes they hold (the list's own slots, plus every string and nested list, with
/// 16 bytes of allocator overhead per allocation). Names are interned: they hold no bytes
/// of their own.
fn facts_stats() {
    use adlint::facts::{Call, Function, Value};
    const OVERHEAD: usize = 16;
    fn string(s: &str) -> usize {
        if s.is_empty() {
            0
        } else {
            s.len().next_multiple_of(8) + OVERHEAD
        }
    }
    fn list<T>(v: &[T]) -> usize {
        if v.is_empty() {
            0
        } else {
            std::mem::size_of_val(v) + OVERHEAD
        }
    }
    // Names, paths and parameter lists are interned; argument lists, composed functions
    // and splatted values are ranges of the file's `values`: facts own no heap memory but
    // their lists (structs' field names aside).
    let (files, _) = generate();
    let source: usize = files.iter().map(|(_, t)| t.len()).sum();
    let facts: Vec<FileFacts> = files.par_iter().map(|(_, t)| facts::extract(t)).collect();
    let mut rows: Vec<(&str, usize, usize)> = Vec::new();
    let mut row = |name, n: usize, slot: usize, heap: usize| rows.push((name, n, n * slot + heap));
    let sum = |f: &dyn Fn(&FileFacts) -> usize| facts.iter().map(f).sum::<usize>();
    use std::mem::size_of;
    row(
        "functions",
        sum(&|f| f.functions.len()),
        size_of::<Function>(),
        0,
    );
    row("calls", sum(&|f| f.calls.len()), size_of::<Call>(), 0);
    row(
        "assigns",
        sum(&|f| f.assigns.len()),
        size_of::<adlint::facts::Assign>(),
        0,
    );
    row(
        "sites",
        sum(&|f| f.sites.len()),
        size_of::<adlint::facts::Site>(),
        0,
    );
    row(
        "refs",
        sum(&|f| f.refs.len()),
        size_of::<adlint::facts::VarRef>(),
        0,
    );
    row(
        "returns",
        sum(&|f| f.returns.len()),
        size_of::<(adlint::facts::FuncIdx, Value)>(),
        0,
    );
    row(
        "structs",
        sum(&|f| f.structs.len()),
        size_of::<adlint::facts::StructDef>(),
        sum(&|f| f.structs.iter().map(|s| list(&s.fields)).sum()),
    );
    row(
        "imports",
        sum(&|f| f.imports.len()),
        size_of::<adlint::facts::Import>(),
        sum(&|f| {
            f.imports
                .iter()
                .map(|i| list(&i.path) + i.names.as_deref().map_or(0, list))
                .sum()
        }),
    );
    row(
        "comments",
        sum(&|f| f.comments.len()),
        size_of::<adlint::facts::Comment>(),
        sum(&|f| f.comments.iter().map(|c| string(&c.text)).sum()),
    );
    row(
        "arg values",
        sum(&|f| f.values.len()),
        size_of::<Value>(),
        0,
    );
    row(
        "kw args",
        sum(&|f| f.keywords.len()),
        size_of::<(adlint::facts::Name, Value)>(),
        0,
    );
    row(
        "chunks",
        sum(&|f| f.chunks.len()),
        size_of::<adlint::facts::Span>(),
        0,
    );
    row(
        "lines",
        sum(&|f| f.line_index.line_count()),
        size_of::<u32>(),
        0,
    );
    let total: usize = rows.iter().map(|r| r.2).sum();
    println!(
        "sizes: Call {} Value {} Function {} Param {} Assign {} Site {} VarRef {}",
        size_of::<Call>(),
        size_of::<Value>(),
        size_of::<Function>(),
        size_of::<adlint::facts::Param>(),
        size_of::<adlint::facts::Assign>(),
        size_of::<adlint::facts::Site>(),
        size_of::<adlint::facts::VarRef>()
    );
    let args: usize = facts
        .iter()
        .flat_map(|f| &f.calls)
        .map(|c| c.args.len())
        .sum();
    println!(
        "args per call {:.2}",
        args as f64 / sum(&|f| f.calls.len()) as f64
    );
    println!(
        "facts of {:.1} MiB of source, {} files",
        mib(source),
        facts.len()
    );
    println!(
        "{:<10} {:>10} {:>10} {:>8}",
        "kind", "count", "MiB", "B/src B"
    );
    for (name, n, bytes) in &rows {
        println!(
            "{name:<10} {n:>10} {:>10.1} {:>8.2}",
            mib(*bytes),
            *bytes as f64 / source as f64
        );
    }
    println!(
        "{:<10} {:>10} {:>10.1} {:>8.2}",
        "total",
        "",
        mib(total),
        total as f64 / source as f64
    );
}
