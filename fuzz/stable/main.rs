//! The stable fuzz driver: `cargo run --example fuzz -- [--seconds N] [--target T ...]
//! [--seed S]`. It mutates the inputs of each target (the directories of
//! `adlint::harness::corpus_dirs`: seeds, `fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`), byte by byte and token by token, runs them through the
//! harness (`check`, `fix`, `interpret`, `lsp`) in a child process, and writes every input
//! that panics, aborts, dies of a signal or runs past `--timeout` to
//! `fuzz/regressions/<target>/crash-<kind>-<hash>`; it exits 1 when it found one. The time
//! is shared equally between the targets. Reproduce a crash with
//! `cargo run --example fuzz -- --target T --one FILE`.
//!
//! With `--scale` it measures instead of mutating: each input shape of `shapes.rs` (long
//! chains, deep nesting, many functions, files, findings, ...) at doubling sizes through
//! each phase (check, fix, interpret, confirm, the language server), fitting how each
//! phase's time grows with the input and listing those that grow faster than
//! `--threshold` (`scale.rs`). `--shape` and `--phase` choose; `--seconds` bounds the run.
//!
//! Unlike `fuzz/run.sh` (cargo-fuzz, nightly) it needs no instrumented build and so has no
//! coverage feedback: it finds what mutations of the corpus find, and adds nothing to the
//! corpus. It is an example rather than a `[[bin]]` so that `cargo install` does not ship it
//! and `cargo test` builds it with the test profile and dependencies: CI runs it with no
//! extra build. Its file lives in `fuzz/stable/` with the rest of the fuzzing, not in
//! `examples/`, which is the Julia example package.

mod driver;
mod scale;
mod shapes;

use clap::Parser;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "fuzz", about = "Stable fuzz driver of adlint")]
struct Args {
    /// Total fuzzing time in seconds, shared equally between the targets.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Targets to fuzz: check, fix, interpret, lsp (default: all four).
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Seed of the mutations (default: from the clock); printed so that a run can be repeated.
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds one input may run before it counts as a hang.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Largest input in bytes (default: 65536, 4096 for lsp).
    #[arg(long)]
    max_len: Option<usize>,
    /// Where crashes are written, one directory per target (default: fuzz/regressions).
    #[arg(long)]
    regressions: Option<PathBuf>,
    /// Run this one input through the (single) target in this process and exit.
    #[arg(long)]
    one: Option<PathBuf>,
    /// Measure how each phase's time grows with the size of generated inputs, instead of
    /// fuzzing.
    #[arg(long)]
    scale: bool,
    /// With --scale: shapes whose name contains this (default: all; --list-shapes).
    #[arg(long = "shape")]
    shapes: Vec<String>,
    /// With --scale: groups (check, fix, interpret, confirm, lsp) or phases to measure.
    #[arg(long = "phase")]
    phases: Vec<String>,
    /// With --scale: sizes double while a run's slowest phase stays under half of this; a
    /// run is killed at three times this.
    #[arg(long, default_value_t = 2.0)]
    run_seconds: f64,
    /// With --scale: the smallest input, in bytes.
    #[arg(long, default_value_t = 4096)]
    start_bytes: usize,
    /// With --scale: the largest input, in bytes (default: the 16 MiB file cap).
    #[arg(long, default_value_t = 16 << 20)]
    max_bytes: usize,
    /// With --scale: a run is killed past this many MB resident.
    #[arg(long, default_value_t = 4096)]
    max_mb: u64,
    /// With --scale: exponents over this are listed as super-linear.
    #[arg(long, default_value_t = 1.3)]
    threshold: f64,
    /// With --scale: times under this many milliseconds are not fitted.
    #[arg(long, default_value_t = 20.0)]
    floor_ms: f64,
    /// List the shapes of --scale and exit.
    #[arg(long)]
    list_shapes: bool,
}

fn main() {
    driver::worker_if_asked();
    scale::worker_if_asked();
    let args = Args::parse();
    std::process::exit(match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fuzz: {e}");
            2
        }
    });
}

fn run(args: Args) -> Result<i32, String> {
    if args.list_shapes {
        for s in shapes::SHAPES {
            println!("{}", s.name);
        }
        return Ok(0);
    }
    if args.scale {
        if !(args.seconds.is_finite() && args.seconds > 0.0) {
            return Err("--seconds must be a positive number".into());
        }
        if !(args.run_seconds.is_finite() && args.run_seconds > 0.0) {
            return Err("--run-seconds must be a positive number".into());
        }
        let settings = scale::Settings {
            seconds: args.seconds,
            run_seconds: args.run_seconds,
            start_bytes: args.start_bytes.max(1),
            max_bytes: args.max_bytes,
            max_mb: args.max_mb,
            shapes: args.shapes.clone(),
            phases: args.phases.clone(),
            threshold: args.threshold,
            floor: args.floor_ms / 1e3,
        };
        return scale::run(&settings, &scale::this_exe()?);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let targets: Vec<String> = if args.targets.is_empty() {
        adlint::harness::TARGETS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        args.targets.clone()
    };
    for t in &targets {
        if driver::target_fn(t).is_none() {
            return Err(format!(
                "unknown target `{t}` (targets: check, fix, interpret, lsp)"
            ));
        }
    }
    if let Some(file) = &args.one {
        let [t] = targets.as_slice() else {
            return Err("--one needs exactly one --target".into());
        };
        driver::run_one(t, file)?;
        println!("{t}: {} runs without a crash", file.display());
        return Ok(0);
    }
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err("--seconds must be a positive number".into());
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err("--timeout must be a positive number".into());
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let regressions = args
        .regressions
        .clone()
        .unwrap_or_else(|| root.join("fuzz/regressions"));
    let each = Duration::from_secs_f64(args.seconds / targets.len() as f64);
    println!(
        "fuzz: seed {seed} (repeat with --seed {seed}), {:.1} s per target, crashes to {}",
        each.as_secs_f64(),
        regressions.display()
    );
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut rows = Vec::new();
    for t in &targets {
        let config = driver::Config {
            target: t.clone(),
            // By name: a target mutates the same way whichever others run with it.
            seed: driver::derive_seed(seed, driver::fnv64(t.as_bytes())),
            duration: each,
            timeout: Duration::from_secs_f64(args.timeout),
            max_len: args.max_len.unwrap_or(driver::default_max_len(t)),
            dirs: adlint::harness::corpus_dirs(t)
                .iter()
                .map(|d| root.join(d))
                .collect(),
            regressions: regressions.clone(),
        };
        println!("== {t}");
        let report = driver::supervise(&config, &|| Command::new(&exe))?;
        rows.push((t.clone(), report));
    }
    println!("target        inputs   seconds   execs/s  crashes (kept)");
    let mut found = false;
    for (t, r) in &rows {
        let secs = r.elapsed.as_secs_f64();
        println!(
            "{t:<12} {:>7} {:>9.1} {:>9.1}  {} ({})",
            r.execs,
            secs,
            r.execs as f64 / secs.max(1e-9),
            r.crash_events,
            r.crashes.len()
        );
        for c in &r.crashes {
            println!(
                "    {} {}: reproduce with `cargo run --example fuzz -- --target {t} --one {}`",
                c.kind,
                c.detail.lines().next().unwrap_or(""),
                c.path.display()
            );
        }
        found |= r.crash_events > 0;
    }
    Ok(if found { 1 } else { 0 })
}
