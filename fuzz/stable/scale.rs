//! The size-scaling mode of the stable fuzz driver (`cargo run --release --example fuzz --
//! --scale`): for each input shape of `shapes.rs` and each group of phases (the check and
//! its output, the fixes, the interpreter, `confirm`, the language server), runs the phases
//! on the shape at n, 2n, 4n, ... bytes, each size in a child process, and fits how the time
//! of each phase grows with the input. A phase whose time grows faster than about n^1.3 is
//! reported: no path should be quadratic in the size of one input.
//!
//! Sizes start at `--start-bytes` and double while the slowest phase of the last run took
//! less than half of `--run-seconds` and the input stays within `--max-bytes` (the 16 MiB
//! file cap by default). A child is killed at three times `--run-seconds` (a doubling that
//! took six times as long: reported as a lower bound of the exponent) or at `--max-mb` of
//! resident memory. The runs are scheduled cheapest first over all series, so a short
//! `--seconds` measures every series at small sizes before any at large ones.

use crate::shapes::{self, Files, SHAPES};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that turns a process into a scaling worker: `group shape n
/// millis`, separated by spaces.
pub const WORKER_ENV: &str = "ADLINT_SCALE_WORKER";

/// Starts every line of the worker's report.
const TAG: &str = "ADLINT-SCALE ";

/// The groups of phases, each run in one child per size, with the phases it times in order.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("check", &["check", "render", "graph"]),
    ("fix", &["fix"]),
    ("interpret", &["interpret"]),
    ("confirm", &["confirm", "confirm-file"]),
    ("lsp", &["lsp-index", "lsp-open", "lsp-edit", "lsp-actions"]),
];

/// Where the in-memory packages of the check, fix and interpreter phases live.
const ROOT: &str = "/scale";

/// Settings of a scaling run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub seconds: f64,
    pub run_seconds: f64,
    pub start_bytes: usize,
    pub max_bytes: usize,
    pub max_mb: u64,
    /// Shape names to run (substrings); empty: all.
    pub shapes: Vec<String>,
    /// Groups or phase names to run; empty: all.
    pub phases: Vec<String>,
    /// Exponents above this are reported as super-linear.
    pub threshold: f64,
    /// Times below this (seconds) are too small to fit.
    pub floor: f64,
}

// ---------------------------------------------------------------------------------------
// Worker

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{TAG}{line}");
    let _ = out.flush();
}

fn phase(name: &str, secs: f64, note: &str) {
    say(&format!(
        "phase {name} {secs:.6} {}",
        note.replace('\n', " ")
    ));
}

/// Runs `work` on a fresh `setup()` (untimed) until the runs, setups included, took 0.2 s
/// in all or five of them ran: the fastest time, and the last result.
fn best<S, R>(mut setup: impl FnMut() -> S, mut work: impl FnMut(S) -> R) -> (f64, R) {
    let mut fastest = f64::INFINITY;
    let started = Instant::now();
    let mut runs = 0;
    loop {
        let s = setup();
        let t = Instant::now();
        let r = work(s);
        fastest = fastest.min(t.elapsed().as_secs_f64());
        runs += 1;
        if started.elapsed().as_secs_f64() >= 0.2 || runs >= 5 {
            return (fastest, r);
        }
    }
}

/// A field of `/proc/self/status` in kB.
fn status_kb(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let s = std::fs::read_to_string(path).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the worker when this process was started as one; returns otherwise.
pub fn worker_if_asked() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    let words: Vec<&str> = spec.split(' ').collect();
    let [group, shape, n, millis] = words.as_slice() else {
        eprintln!("scale worker: bad {WORKER_ENV}: {spec}");
        std::process::exit(2);
    };
    let (Some(shape), Ok(n), Ok(millis)) = (
        SHAPES.iter().find(|s| s.name == *shape),
        n.parse::<usize>(),
        millis.parse::<u64>(),
    ) else {
        eprintln!("scale worker: bad {WORKER_ENV}: {spec}");
        std::process::exit(2);
    };
    // Threads as the command line sets them up (`cli::worker_threads`): the parser and the
    // walks over deep trees need their large stacks.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(adlint::syntax::PARSE_STACK)
        .build_global();
    let group = group.to_string();
    let work = std::thread::Builder::new()
        .stack_size(adlint::syntax::PARSE_STACK)
        .spawn(move || {
            let files = (shape.gen)(n);
            say(&format!("bytes {}", shapes::bytes(&files)));
            match group.as_str() {
                "check" => check_group(&files),
                "fix" => fix_group(&files),
                "interpret" => interpret_group(&files, millis),
                "confirm" => confirm_group(&files),
                "lsp" => lsp_group(&files),
                g => {
                    eprintln!("scale worker: no group {g}");
                    std::process::exit(2);
                }
            }
        })
        .expect("a thread");
    if work.join().is_err() {
        std::process::exit(101);
    }
    say(&format!("peak {}", status_kb(None, "VmHWM:").unwrap_or(0)));
    std::process::exit(0);
}

fn workspace(files: &Files) -> adlint::workspace::Workspace {
    adlint::workspace::Workspace::from_sources(
        Path::new(ROOT),
        files
            .iter()
            .map(|(p, t)| (Path::new(ROOT).join(p), t.clone()))
            .collect(),
    )
}

fn check_group(files: &Files) {
    use adlint::render::Format;
    let options = adlint::analysis::Options::default();
    let (t, a) = best(|| workspace(files), |ws| adlint::fix::analyze(ws, &options));
    phase("check", t, &format!("{} findings", a.diagnostics.len()));
    let (t, len) = best(
        || (),
        |_| {
            let mut len = 0;
            for format in [
                Format::Full,
                Format::Concise,
                Format::Json,
                Format::Sarif,
                Format::Github,
            ] {
                let mut out = Vec::new();
                adlint::render::write(format, &a, &mut out, false).expect("to memory");
                len += out.len();
            }
            len
        },
    );
    phase("render", t, &format!("{len} bytes out"));
    let (t, len) = best(
        || (),
        |_| {
            let mut out = Vec::new();
            adlint::render::graph::write_dot(&a, None, &mut out).expect("to memory");
            out.len()
        },
    );
    phase("graph", t, &format!("{len} bytes of DOT"));
}

fn fix_group(files: &Files) {
    let options = adlint::analysis::Options::default();
    let (t, out) = best(
        || adlint::fix::analyze(workspace(files), &options),
        |a| adlint::fix::fix_to_fixed_point(a, &options, true, None),
    );
    phase("fix", t, &format!("{} fixes applied", out.applied));
}

fn interpret_group(files: &Files, millis: u64) {
    let sources: Vec<adlint::refad::SourceFile> = files
        .iter()
        .map(|(p, t)| adlint::refad::SourceFile {
            path: Path::new(ROOT).join(p),
            text: t.clone(),
        })
        .collect();
    // Budgets out of the way but for time, so that the phase's own cost shows.
    let options = adlint::refad::Options {
        budget: adlint::refad::Budget {
            max_steps: 1 << 40,
            max_elements: 1 << 32,
            max_memory: 1 << 31,
            max_depth: 256,
            max_millis: millis,
        },
        zygote_version: None,
        reference_gradients: true,
    };
    let (t, run) = best(|| (), |_| adlint::refad::run_program(&sources, &options));
    let stop = run.stopped.as_ref().map_or(String::new(), |s| {
        format!(
            "; stopped: {}",
            s.reason.chars().take(60).collect::<String>()
        )
    });
    phase(
        "interpret",
        t,
        &format!("{} entries, {} steps{stop}", run.entries.len(), run.steps),
    );
}

fn confirm_group(files: &Files) {
    let options = adlint::analysis::Options::default();
    let (t, run) = best(
        || adlint::fix::analyze(workspace(files), &options),
        |mut a| adlint::refad::confirm::confirm_diagnostics(&mut a),
    );
    let entries: usize = run.iter().map(|unit| unit.run.entries.len()).sum();
    phase("confirm", t, &format!("{entries} entries run"));
    let main = Path::new(ROOT).join(&files[0].0);
    let (t, ok) = best(
        || adlint::fix::analyze(workspace(files), &options),
        |a| {
            let program = adlint::refad::confirm::program_files(&a, Some(&main));
            let run = adlint::refad::run_program(
                &program.files,
                &adlint::refad::confirm::options_for(&a),
            );
            let mut out = Vec::new();
            adlint::refad::confirm::report(&a, &program, &run, &main, None, &mut out)
                .expect("to memory")
        },
    );
    phase("confirm-file", t, &format!("ok: {ok}"));
}

fn lsp_group(files: &Files) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (p, t) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(&path, t).expect("write a file");
    }
    let root = dir.path().canonicalize().expect("the directory's path");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(adlint::syntax::PARSE_STACK)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(lsp_session(&root, files));
}

/// A client of an in-process server: opens the first file of the package written to
/// `root`, then edits it and asks for hover and code actions, timing each.
async fn lsp_session(root: &Path, files: &Files) {
    use serde_json::{json, Value};
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;

    type Writer = Arc<tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>>;
    async fn send(w: &Writer, v: &Value) {
        let body = v.to_string();
        let mut w = w.lock().await;
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        w.write_all(header.as_bytes())
            .await
            .expect("the server reads");
        w.write_all(body.as_bytes())
            .await
            .expect("the server reads");
        w.flush().await.expect("the server reads");
    }

    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_io);
    let server = tokio::spawn(adlint::lsp::serve_with(
        server_read,
        server_write,
        adlint::lsp::ServeOptions::default(),
    ));
    let (reader, writer) = tokio::io::split(client_io);
    let writer: Writer = Arc::new(tokio::sync::Mutex::new(writer));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let answer = writer.clone();
    tokio::spawn(async move {
        let mut reader = tokio::io::BufReader::new(reader);
        while let Ok(Some(body)) = adlint::lsp::read_message(&mut reader).await {
            let v: Value = serde_json::from_slice(&body).expect("the server sends JSON");
            if v.get("method").is_some() && v.get("id").is_some() {
                send(
                    &answer,
                    &json!({"jsonrpc": "2.0", "id": v["id"], "result": null}),
                )
                .await;
            }
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    async fn until(
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        loop {
            let v = rx.recv().await.expect("the server goes on");
            if pred(&v) {
                return v;
            }
        }
    }

    let uri = format!("file://{}", root.join(&files[0].0).display());
    let text = &files[0].1;
    let t = Instant::now();
    send(
        &writer,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null, "rootUri": format!("file://{}", root.display()),
            "workspaceFolders": [{"uri": format!("file://{}", root.display()), "name": "scale"}],
            "capabilities": {"window": {"workDoneProgress": true},
                "textDocument": {"publishDiagnostics": {"relatedInformation": true, "versionSupport": true}}}}}),
    )
    .await;
    until(&mut rx, |v| v["id"] == 1 && v.get("method").is_none()).await;
    send(
        &writer,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    )
    .await;
    until(&mut rx, |v| {
        v["method"] == "$/progress" && v["params"]["value"]["kind"] == "end"
    })
    .await;
    phase("lsp-index", t.elapsed().as_secs_f64(), "");

    let published = |version: i64| {
        let uri = uri.clone();
        move |v: &Value| {
            v["method"] == "textDocument/publishDiagnostics"
                && v["params"]["uri"] == uri.as_str()
                && v["params"]["version"] == version
        }
    };
    let t = Instant::now();
    send(
        &writer,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument":
            {"uri": uri, "languageId": "julia", "version": 1, "text": text}}}),
    )
    .await;
    let first = until(&mut rx, published(1)).await;
    let diagnostics = first["params"]["diagnostics"].clone();
    let count = diagnostics.as_array().map_or(0, |d| d.len());
    phase(
        "lsp-open",
        t.elapsed().as_secs_f64(),
        &format!("{count} diagnostics"),
    );

    // Insert a space at the start and take it out again, three times; the fastest.
    let mut fastest = f64::INFINITY;
    for version in 2..=7i64 {
        let change = if version % 2 == 0 {
            json!({"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": " "})
        } else {
            json!({"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}, "text": ""})
        };
        let t = Instant::now();
        send(
            &writer,
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}}),
        )
        .await;
        until(&mut rx, published(version)).await;
        fastest = fastest.min(t.elapsed().as_secs_f64());
    }
    phase("lsp-edit", fastest, "");

    let at = diagnostics
        .get(0)
        .map_or(json!({"line": 1, "character": 0}), |d| {
            d["range"]["start"].clone()
        });
    let lines = text.lines().count();
    let t = Instant::now();
    send(
        &writer,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": at}}),
    )
    .await;
    until(&mut rx, |v| v["id"] == 2 && v.get("method").is_none()).await;
    send(
        &writer,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}},
            "context": {"diagnostics": diagnostics}}}),
    )
    .await;
    let actions = until(&mut rx, |v| v["id"] == 3 && v.get("method").is_none()).await;
    let count = actions["result"].as_array().map_or(0, |a| a.len());
    phase(
        "lsp-actions",
        t.elapsed().as_secs_f64(),
        &format!("{count} actions"),
    );

    send(
        &writer,
        &json!({"jsonrpc": "2.0", "id": 4, "method": "shutdown", "params": null}),
    )
    .await;
    until(&mut rx, |v| v["id"] == 4 && v.get("method").is_none()).await;
    send(
        &writer,
        &json!({"jsonrpc": "2.0", "method": "exit", "params": null}),
    )
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
}

// ---------------------------------------------------------------------------------------
// Supervisor

/// One run of a group at one size.
#[derive(Clone, Debug, Default)]
struct Point {
    bytes: usize,
    /// (phase, seconds, note), in the order they finished.
    phases: Vec<(String, f64, String)>,
    peak_kb: u64,
    /// The child's wall time, input generation and start included.
    wall: f64,
}

/// One group on one shape, over growing sizes.
struct Series {
    shape: usize,
    group: usize,
    n: usize,
    points: Vec<Point>,
    /// Why it stopped growing; `None` while it grows.
    end: Option<String>,
    /// The run that did not finish (killed, crashed): the phases that did, and the kill
    /// time.
    failed: Option<(Point, f64)>,
}

impl Series {
    /// What the next run should cost: a doubling of a linear phase, start-up included.
    fn next_cost(&self) -> f64 {
        self.points.last().map_or(0.05, |p| 0.02 + 2.2 * p.wall)
    }
}

enum Outcome {
    Done(Point),
    /// Killed or crashed, with what it finished first and why.
    Failed(Point, String),
}

/// Runs one child and reads its report.
fn run_child(
    exe: &Path,
    shape: &str,
    group: &str,
    n: usize,
    kill_after: Duration,
    max_mb: u64,
) -> Result<Outcome, String> {
    let spec = format!("{group} {shape} {n} {}", kill_after.as_millis());
    let started = Instant::now();
    let mut child = Command::new(exe)
        .env(WORKER_ENV, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a scaling worker: {e}"))?;
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(err), &mut s);
        s
    });
    let mut killed = None;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > kill_after {
            killed = Some(format!("killed after {:.1} s", kill_after.as_secs_f64()));
        } else if status_kb(Some(child.id()), "VmRSS:").is_some_and(|kb| kb / 1024 > max_mb) {
            killed = Some(format!("killed at {max_mb} MB resident"));
        }
        if killed.is_some() {
            let _ = child.kill();
            break child.wait().map_err(|e| e.to_string())?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed().as_secs_f64();
    let lines = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let mut point = Point {
        wall,
        ..Point::default()
    };
    for line in &lines {
        let Some(rest) = line.strip_prefix(TAG) else {
            continue;
        };
        let mut words = rest.splitn(4, ' ');
        match words.next() {
            Some("bytes") => point.bytes = words.next().and_then(|w| w.parse().ok()).unwrap_or(0),
            Some("peak") => point.peak_kb = words.next().and_then(|w| w.parse().ok()).unwrap_or(0),
            Some("phase") => {
                let name = words.next().unwrap_or("").to_string();
                let secs = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(f64::NAN);
                let note = words.next().unwrap_or("").to_string();
                point.phases.push((name, secs, note));
            }
            _ => {}
        }
    }
    if let Some(why) = killed {
        return Ok(Outcome::Failed(point, why));
    }
    if !status.success() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(120)
            .collect::<String>();
        return Ok(Outcome::Failed(
            point,
            format!("crashed ({status}): {last}"),
        ));
    }
    Ok(Outcome::Done(point))
}

/// The exponent of the time of `phase` against the input's size: a least-squares fit of
/// log time on log bytes over the last four points whose time is at least `floor`; and the
/// number of points it used.
fn exponent(points: &[(usize, f64)], floor: f64) -> Option<(f64, usize)> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .filter(|(b, t)| *b > 0 && t.is_finite() && *t >= floor)
        .map(|(b, t)| ((*b as f64).ln(), t.ln()))
        .collect();
    let usable = &usable[usable.len().saturating_sub(4)..];
    if usable.len() < 2 {
        return None;
    }
    let n = usable.len() as f64;
    let mx = usable.iter().map(|p| p.0).sum::<f64>() / n;
    let my = usable.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = usable.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = usable.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| (sxy / sxx, usable.len()))
}

fn human_bytes(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{}M", b >> 20)
    } else if b >= 1 << 10 {
        format!("{}K", b >> 10)
    } else {
        format!("{b}")
    }
}

fn human_secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2}s")
    } else if s >= 0.001 {
        format!("{:.1}ms", s * 1e3)
    } else {
        format!("{:.0}us", s * 1e6)
    }
}

/// One row of the table.
struct Row {
    shape: &'static str,
    phase: String,
    exponent: Option<(f64, usize)>,
    /// A lower bound from a run killed at its time limit.
    at_least: Option<f64>,
    points: Vec<(usize, f64)>,
    peak_mb: u64,
    note: String,
}

impl Row {
    fn superlinear(&self, threshold: f64) -> bool {
        self.exponent.is_some_and(|(e, _)| e > threshold)
            || self.at_least.is_some_and(|e| e > threshold)
    }
}

/// The scaling run: every selected series, cheapest run first, until the time is up; then
/// the table. Returns the process's exit code.
pub fn run(settings: &Settings, exe: &Path) -> Result<i32, String> {
    let groups: Vec<usize> = (0..GROUPS.len())
        .filter(|&g| {
            settings.phases.is_empty()
                || settings
                    .phases
                    .iter()
                    .any(|p| GROUPS[g].0 == p || GROUPS[g].1.contains(&p.as_str()))
        })
        .collect();
    for p in &settings.phases {
        if !GROUPS
            .iter()
            .any(|(g, ps)| g == p || ps.contains(&p.as_str()))
        {
            return Err(format!("unknown phase `{p}`"));
        }
    }
    let shapes: Vec<usize> = (0..SHAPES.len())
        .filter(|&s| {
            settings.shapes.is_empty()
                || settings
                    .shapes
                    .iter()
                    .any(|w| SHAPES[s].name.contains(w.as_str()))
        })
        .collect();
    if shapes.is_empty() {
        return Err(format!(
            "no shape matches {:?}; shapes: {}",
            settings.shapes,
            SHAPES.iter().map(|s| s.name).collect::<Vec<_>>().join(" ")
        ));
    }
    let mut series: Vec<Series> = Vec::new();
    for &s in &shapes {
        let n = shapes::start_n(&SHAPES[s], settings.start_bytes);
        for &g in &groups {
            series.push(Series {
                shape: s,
                group: g,
                n,
                points: vec![],
                end: None,
                failed: None,
            });
        }
    }
    println!(
        "scale: {} shapes x {} groups, {:.0} s in all, a run up to {:.1} s (killed at {:.1} s or {} MB), {} to {} bytes",
        shapes.len(),
        groups.len(),
        settings.seconds,
        settings.run_seconds,
        3.0 * settings.run_seconds,
        settings.max_mb,
        settings.start_bytes,
        settings.max_bytes
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(settings.seconds);
    let kill_after = Duration::from_secs_f64(3.0 * settings.run_seconds);
    loop {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        let next = (series.iter().enumerate())
            .filter(|(_, s)| s.end.is_none())
            .min_by(|a, b| a.1.next_cost().total_cmp(&b.1.next_cost()));
        let Some((i, _)) = next else { break };
        if series[i].next_cost() > left {
            for s in series.iter_mut().filter(|s| s.end.is_none()) {
                s.end = Some("time budget".into());
            }
            break;
        }
        let s = &mut series[i];
        let (shape, group) = (SHAPES[s.shape].name, GROUPS[s.group].0);
        let limit = kill_after.min(Duration::from_secs_f64(left.max(0.5)));
        match run_child(exe, shape, group, s.n, limit, settings.max_mb)? {
            Outcome::Done(p) => {
                let slowest = p.phases.iter().map(|x| x.1).fold(0.0, f64::max);
                println!(
                    "  {shape:<24} {group:<9} {:>6}  {}",
                    human_bytes(p.bytes),
                    (p.phases.iter())
                        .map(|(n, t, _)| format!("{n} {}", human_secs(*t)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let (bytes, p_wall) = (p.bytes, p.wall);
                s.points.push(p);
                s.n *= 2;
                // The next size should take about twice as long (if linear): stop before
                // it would be killed for time.
                if slowest * 2.0 > settings.run_seconds || p_wall * 2.5 > limit.as_secs_f64() {
                    s.end = Some("run time".into());
                } else if bytes * 2 > settings.max_bytes {
                    s.end = Some("size cap".into());
                } else if s.n >= 1 << 28 {
                    s.end = Some("n cap".into());
                }
            }
            Outcome::Failed(p, why) => {
                println!(
                    "  {shape:<24} {group:<9} {:>6}  {why}",
                    human_bytes(p.bytes)
                );
                s.end = Some(why);
                s.failed = Some((p, limit.as_secs_f64()));
            }
        }
    }
    println!(
        "scale: {:.0} s, {} runs",
        started.elapsed().as_secs_f64(),
        series.iter().map(|s| s.points.len()).sum::<usize>()
    );

    // The table: one row per phase of each series.
    let mut rows: Vec<Row> = Vec::new();
    for s in &series {
        for &ph in GROUPS[s.group].1 {
            if !settings.phases.is_empty()
                && !settings
                    .phases
                    .iter()
                    .any(|p| p == ph || p == GROUPS[s.group].0)
            {
                continue;
            }
            let points: Vec<(usize, f64)> = (s.points.iter())
                .filter_map(|p| {
                    let t = p.phases.iter().find(|x| x.0 == ph)?.1;
                    Some((p.bytes, t))
                })
                .collect();
            let note = (s.points.last())
                .and_then(|p| p.phases.iter().find(|x| x.0 == ph))
                .map(|x| x.2.clone())
                .unwrap_or_default();
            // A run that did not finish: its end belongs to the phase that was running (the
            // first it did not report), and a kill bounds that phase's exponent from below.
            let mut at_least = None;
            let mut end = s.end.clone().unwrap_or_default();
            if let Some((p, limit)) = &s.failed {
                let running = GROUPS[s.group]
                    .1
                    .iter()
                    .find(|x| p.phases.iter().all(|y| y.0 != **x));
                if running != Some(&ph) {
                    end = String::new();
                } else if end.starts_with("killed after") {
                    let before: f64 = p.phases.iter().map(|x| x.1).sum();
                    // A bound from a time too small to measure says nothing (the kill may
                    // have come in the untimed setup of the phase).
                    if let Some(&(b, t)) = points.last().filter(|p| p.1 >= settings.floor) {
                        let growth = match (p.bytes, b) {
                            (0, _) | (_, 0) => 2.0,
                            (now, was) => now as f64 / was as f64,
                        };
                        at_least = Some(((limit - before) / t.max(1e-6)).ln() / growth.ln());
                    }
                }
            }
            rows.push(Row {
                shape: SHAPES[s.shape].name,
                phase: ph.to_string(),
                exponent: exponent(&points, settings.floor),
                at_least,
                points,
                peak_mb: s.points.last().map_or(0, |p| p.peak_kb / 1024),
                note: [end, note]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
    }
    print_table(&rows, settings, false);
    let flagged: Vec<&Row> = rows
        .iter()
        .filter(|r| r.superlinear(settings.threshold))
        .collect();
    println!();
    if flagged.is_empty() {
        println!(
            "no phase grows faster than n^{:.2} at the sizes measured",
            settings.threshold
        );
    } else {
        println!(
            "super-linear (exponent over {:.2}): {} of {} rows",
            settings.threshold,
            flagged.len(),
            rows.len()
        );
        let owned: Vec<Row> = flagged
            .into_iter()
            .map(|r| Row {
                shape: r.shape,
                phase: r.phase.clone(),
                exponent: r.exponent,
                at_least: r.at_least,
                points: r.points.clone(),
                peak_mb: r.peak_mb,
                note: r.note.clone(),
            })
            .collect();
        print_table(&owned, settings, true);
    }
    Ok(0)
}

fn print_table(rows: &[Row], settings: &Settings, all_points: bool) {
    println!();
    println!(
        "{:<24} {:<12} {:>6} {:>5}  {:<58} note",
        "shape", "phase", "exp", "MB", "bytes:time (last five)"
    );
    for r in rows {
        let exp = match (r.exponent, r.at_least) {
            (_, Some(e)) => format!(">{e:.1}"),
            (Some((e, _)), None) => format!("{e:.2}"),
            (None, None) => "-".to_string(),
        };
        let flag = if r.superlinear(settings.threshold) {
            "!"
        } else {
            " "
        };
        let shown = if all_points {
            &r.points[..]
        } else {
            &r.points[r.points.len().saturating_sub(5)..]
        };
        let pts = shown
            .iter()
            .map(|(b, t)| format!("{}:{}", human_bytes(*b), human_secs(*t)))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{:<24} {:<12} {:>6}{flag}{:>5}  {:<58} {}",
            r.shape, r.phase, exp, r.peak_mb, pts, r.note
        );
    }
}

/// The path of this executable, to start workers.
pub fn this_exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))
}
