//! The machinery of the stable fuzz driver, shared by `main.rs` (the `fuzz` example) and by
//! `tests/it/fuzz_driver.rs`, which includes this file: a seeded PRNG, the mutators, the
//! worker that runs mutated inputs through a target, and the supervisor that runs the worker
//! in a child process and keeps what crashed it.
//!
//! Isolation: the worker is a child process that runs many inputs (spawning one process
//! per input would cost more than most inputs take) and announces each input on its stdout
//! before running it. A panic is caught in the worker (`catch_unwind`) and reported, and
//! the worker goes on; an abort, a signal (stack overflow, out of memory) or an input that
//! runs past the timeout ends the worker, and the supervisor keeps the last announced input,
//! then starts a new worker for the rest of the time.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The environment variable that turns a process into a worker; its value is the
/// [`WorkerConfig`] as JSON.
pub const WORKER_ENV: &str = "ADLINT_FUZZ_WORKER";

/// Starts every line of the worker's protocol, so that other output on its stdout (the test
/// harness's, when a test binary is the worker) is skipped.
const TAG: &[u8] = b"ADLINT-FUZZ ";

// ---------------------------------------------------------------------------------------
// PRNG

/// splitmix64: small, fast, and the same sequence for the same seed on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A seed derived from another and a number (the target, the restart of a worker).
pub fn derive_seed(seed: u64, n: u64) -> u64 {
    Rng::new(seed ^ n.wrapping_mul(0xa076_1d64_78bd_642f)).next_u64()
}

/// FNV-1a, 64 bits: names crash files by their content.
pub fn fnv64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// ---------------------------------------------------------------------------------------
// Mutators

/// Julia tokens and fragments the token-aware mutators insert: keywords, operators,
/// brackets, the constructs the rules look at, string and comment openers.
pub const TOKENS: &[&str] = &[
    "function",
    "end",
    "begin",
    "let",
    "do",
    "if",
    "elseif",
    "else",
    "for",
    "while",
    "in",
    "try",
    "catch",
    "finally",
    "return",
    "break",
    "continue",
    "module",
    "struct",
    "mutable struct",
    "macro",
    "quote",
    "using",
    "import",
    "export",
    "local",
    "global",
    "const",
    "where",
    "abstract type",
    "primitive type",
    "baremodule",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "=",
    "==",
    "===",
    "!=",
    "+",
    "-",
    "*",
    "/",
    "\\",
    "^",
    "%",
    "÷",
    ".",
    "..",
    "...",
    ":",
    "::",
    "<:",
    ">:",
    "->",
    "=>",
    "|>",
    "∘",
    "&&",
    "||",
    "!",
    "'",
    ".=",
    ".+",
    "+=",
    "-=",
    "*=",
    "$",
    "@",
    "?",
    "x[i] = ",
    "x[1, :] .= ",
    "x .= ",
    "push!(x, 1)",
    "setindex!(x, v, i)",
    "copyto!(x, y)",
    "fill!(x, 0)",
    "gradient(",
    "Zygote.gradient(f, x)",
    "pullback(",
    "@adjoint ",
    "@adjoint f(x) = f(x), Δ -> (Δ,)",
    "Zygote.@adjoint",
    "@nograd ",
    "@ignore_derivatives ",
    "ChainRulesCore.rrule(",
    "@.",
    "@inbounds ",
    "@views ",
    "@show ",
    "@time ",
    "using Zygote\n",
    "import Zygote\n",
    "\"",
    "\"\"\"",
    "'",
    "`",
    "```",
    "#",
    "#=",
    "=#",
    "r\"",
    "raw\"",
    "\"$(",
    "$(x)",
    "x",
    "f",
    "g",
    "y",
    "Δ",
    "x̄",
    "α₁",
    "1",
    "0.5",
    "1e308",
    "0x1p3",
    "1im",
    "true",
    "nothing",
    "f(x)",
    "f(x, y)",
    "x -> x^2",
    "(x) -> begin\nx\nend",
    "Base.",
    "Main.",
    ":(",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\u{c}",
    "\u{feff}",
];

/// Whole constructs, inserted at a line start.
const SNIPPETS: &[&str] = &[
    "function f(x)\n    x[1] = 0.0\n    sum(x)\nend\n",
    "gradient(f, rand(3))\n",
    "g(x) = (y = copy(x); y[1] = 2; sum(y))\n",
    "try\n    f(x)\ncatch e\n    rethrow()\nend\n",
    "Zygote.@adjoint function h(x)\n    h(x), Δ -> (2Δ,)\nend\n",
    "for i in 1:length(x)\n    x[i] += 1\nend\n",
    "map(x) do v\n    v^2\nend\n",
    "struct S\n    a::Vector{Float64}\nend\n",
    "macro m(ex)\n    esc(ex)\nend\n",
    "module M\nf(x) = x\nend\n",
    "x -> (x .= 0; x)\n",
    "while true\n    break\nend\n",
    "\"\"\"\ndoc $(x)\n\"\"\"\n",
    "#= a #= nested =# comment =#\n",
    "include(\"more.jl\")\n",
];

/// Openers that nest, with their closers.
const NESTERS: &[(&str, &str)] = &[
    ("(", ")"),
    ("[", "]"),
    ("{", "}"),
    ("begin\n", "end\n"),
    ("function f()\n", "end\n"),
    ("let\n", "end\n"),
    ("if x\n", "end\n"),
    ("try\n", "catch\nend\n"),
    ("quote\n", "end\n"),
    ("\"$(", ")\""),
    ("#=", "=#"),
    ("x -> ", ""),
    ("-", ""),
    ("f(", ")"),
];

/// Bytes that are not UTF-8 or are otherwise odd: lone continuation, truncated sequences,
/// overlong forms, surrogates, NUL, BOM.
const ODD_BYTES: &[&[u8]] = &[
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\x0c",
    b"\x1b[0m",
];

/// Interesting single byte values.
const BYTES: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b'\n', b'\r', b' ', b'"', b'\'', b'#', b'=', b'(', b')', b'[', b']',
    b'$', b'\\', b'@', b':', b';', b',', b'.', b'x',
];

/// The byte class used to cut an input into rough tokens.
fn class(b: u8) -> u8 {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'!' | 0x80..=0xff => 0,
        b' ' | b'\t' => 1,
        b'\n' | b'\r' => 2,
        _ => 3,
    }
}

/// The rough token around `at`: a run of identifier bytes, of blanks, or one other byte.
fn token_at(data: &[u8], at: usize) -> (usize, usize) {
    if data.is_empty() {
        return (0, 0);
    }
    let at = at.min(data.len() - 1);
    let c = class(data[at]);
    if c == 3 {
        return (at, at + 1);
    }
    let mut s = at;
    while s > 0 && class(data[s - 1]) == c {
        s -= 1;
    }
    let mut e = at + 1;
    while e < data.len() && class(data[e]) == c {
        e += 1;
    }
    (s, e)
}

/// A position at a token boundary, mostly; anywhere sometimes.
fn boundary(rng: &mut Rng, data: &[u8]) -> usize {
    if data.is_empty() {
        return 0;
    }
    let at = rng.below(data.len() + 1);
    if at == data.len() || rng.one_in(8) {
        return at;
    }
    let (s, e) = token_at(data, at);
    if rng.one_in(2) {
        s
    } else {
        e
    }
}

/// The start of a random line.
fn line_start(rng: &mut Rng, data: &[u8]) -> usize {
    let at = rng.below(data.len() + 1);
    data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1)
}

/// A random range of `data`, short more often than long.
fn range(rng: &mut Rng, data: &[u8]) -> (usize, usize) {
    let s = rng.below(data.len() + 1);
    let max = data.len() - s;
    let len = if rng.one_in(4) {
        rng.below(max + 1)
    } else {
        rng.below(max.min(16) + 1)
    };
    (s, s + len)
}

/// The number of mutator kinds [`mutate_once`] chooses from.
pub const MUTATORS: usize = 19;

/// One mutation of kind `kind` (modulo [`MUTATORS`]), in place. `other` is a second input
/// for splicing.
pub fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], kind: usize) {
    match kind % MUTATORS {
        // Byte level.
        0 => {
            if !data.is_empty() {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            if !data.is_empty() {
                let i = rng.below(data.len());
                data[i] = if rng.one_in(2) {
                    *rng.pick(BYTES)
                } else {
                    rng.next_u64() as u8
                };
            }
        }
        2 => {
            let at = rng.below(data.len() + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        3 => {
            let (s, e) = range(rng, data);
            data.drain(s..e);
        }
        4 => {
            // Duplicate a range, several times sometimes.
            let (s, e) = range(rng, data);
            let chunk = data[s..e].to_vec();
            let times = if rng.one_in(4) { 1 + rng.below(64) } else { 1 };
            let at = rng.below(data.len() + 1);
            data.splice(at..at, chunk.repeat(times));
        }
        5 => {
            // Overwrite a range with another part of the input.
            let (s, e) = range(rng, data);
            let chunk = data[s..e].to_vec();
            let at = rng.below(data.len() - chunk.len() + 1);
            data[at..at + chunk.len()].copy_from_slice(&chunk);
        }
        6 => {
            // Splice: a prefix of this input and a suffix of the other.
            let cut = rng.below(data.len() + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        7 => {
            // Insert a piece of the other input.
            let (s, e) = range(rng, other);
            let at = boundary(rng, data);
            data.splice(at..at, other[s..e].iter().copied());
        }
        // Token aware.
        8 | 9 => {
            let at = boundary(rng, data);
            let mut t = rng.pick(TOKENS).as_bytes().to_vec();
            if rng.one_in(2) {
                t.push(b' ');
            }
            data.splice(at..at, t);
        }
        10 => {
            if !data.is_empty() {
                let (s, e) = token_at(data, rng.below(data.len()));
                data.splice(s..e, rng.pick(TOKENS).bytes());
            }
        }
        11 => {
            if !data.is_empty() {
                let (s, e) = token_at(data, rng.below(data.len()));
                data.drain(s..e);
            }
        }
        12 => {
            let at = line_start(rng, data);
            data.splice(at..at, rng.pick(SNIPPETS).bytes());
        }
        13 => {
            // Deep nesting by repetition, balanced or not.
            let (open, close) = *rng.pick(NESTERS);
            let max = if rng.one_in(4) { 5000 } else { 200 };
            let depth = 1 + rng.below(max);
            let at = boundary(rng, data);
            let mut piece = open.repeat(depth).into_bytes();
            if rng.below(3) != 0 {
                piece.extend_from_slice(b"x");
                piece.extend_from_slice(close.repeat(depth).as_bytes());
            }
            data.splice(at..at, piece);
        }
        14 => {
            // Line endings: all CRLF, all CR, or one stray CR.
            let crlf = |d: &[u8]| {
                let mut out = Vec::with_capacity(d.len() + d.len() / 16);
                for &b in d {
                    if b == b'\n' {
                        out.push(b'\r');
                    }
                    out.push(b);
                }
                out
            };
            match rng.below(3) {
                0 => *data = crlf(data),
                1 => {
                    for b in data.iter_mut() {
                        if *b == b'\n' {
                            *b = b'\r';
                        }
                    }
                }
                _ => {
                    let at = rng.below(data.len() + 1);
                    data.insert(at, b'\r');
                }
            }
        }
        15 => {
            let at = rng.below(data.len() + 1);
            data.splice(at..at, rng.pick(ODD_BYTES).iter().copied());
        }
        16 => {
            // A very long line.
            let unit: &[u8] = match rng.below(4) {
                0 => b"x",
                1 => b"x + ",
                2 => b"(1, ",
                _ => "α".as_bytes(),
            };
            let n = 1000 + rng.below(20_000);
            let at = boundary(rng, data);
            data.splice(at..at, unit.repeat(n));
        }
        17 => {
            // Swap two tokens.
            if !data.is_empty() {
                let a = token_at(data, rng.below(data.len()));
                let b = token_at(data, rng.below(data.len()));
                let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                if first.1 <= second.0 {
                    let x = data[first.0..first.1].to_vec();
                    let y = data[second.0..second.1].to_vec();
                    data.splice(second.0..second.1, x);
                    data.splice(first.0..first.1, y);
                }
            }
        }
        _ => {
            // Truncate: unterminated everything.
            let at = rng.below(data.len() + 1);
            data.truncate(at);
        }
    }
}

/// A mutated copy of `base`: one to eight stacked mutations, at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, base: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut data = base.to_vec();
    let n = 1 + rng.below(8);
    for _ in 0..n {
        let kind = rng.below(MUTATORS);
        mutate_once(rng, &mut data, other, kind);
        data.truncate(max_len);
    }
    data
}

// ---------------------------------------------------------------------------------------
// Targets

/// The entry point of a target: the harness functions, and test-only targets that go
/// wrong on purpose (for the tests of the driver itself, and to try the driver out).
pub fn target_fn(name: &str) -> Option<fn(&[u8])> {
    if let Some((_, f)) = adlint::harness::TARGETS.iter().find(|(n, _)| *n == name) {
        return Some(*f);
    }
    Some(match name {
        "selftest-ok" => |_| {},
        "selftest-panic" => |d| panic!("selftest-panic on {} bytes", d.len()),
        "selftest-abort" => |_| std::process::abort(),
        "selftest-hang" => |_| loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        _ => return None,
    })
}

/// The largest input of each target: the language server turns every five bytes into a
/// message, so its inputs are kept shorter.
pub fn default_max_len(target: &str) -> usize {
    if target == "lsp" {
        4096
    } else {
        65536
    }
}

// ---------------------------------------------------------------------------------------
// Worker

/// What a worker runs, passed to it as JSON in [`WORKER_ENV`].
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct WorkerConfig {
    pub target: String,
    pub seed: u64,
    /// How long the worker keeps starting new inputs.
    pub millis: u64,
    pub max_len: usize,
    /// Directories whose files are the starting inputs.
    pub dirs: Vec<PathBuf>,
}

/// Every file of `dirs` (not the `.md` notes), sorted, so that a seed repeats a run.
pub fn load_inputs(dirs: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() && p.extension().is_none_or(|e| e != "md") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn frame(out: &mut impl Write, kind: &str, body: Option<&[u8]>) -> std::io::Result<()> {
    out.write_all(b"\n")?;
    out.write_all(TAG)?;
    match body {
        Some(b) => {
            writeln!(out, "{kind} {}", b.len())?;
            out.write_all(b)?;
        }
        None => writeln!(out, "{kind}")?,
    }
    out.flush()
}

/// The worker: mutates its inputs and runs them through the target until its time is up,
/// announcing each input before it runs and reporting each panic. Returns when the time is
/// up or the supervisor has gone.
pub fn worker(config: &WorkerConfig) -> Result<(), String> {
    let run = target_fn(&config.target).ok_or_else(|| format!("no target {}", config.target))?;
    let mut pool = load_inputs(&config.dirs);
    if pool.is_empty() {
        pool.push(
            b"function f(x)\n    x[1] = 0.0\n    sum(x)\nend\ngradient(f, rand(3))\n".to_vec(),
        );
    }
    let seeds = pool.len();
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map_or("?".to_string(), |l| {
            format!("{}:{}:{}", l.file(), l.line(), l.column())
        });
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // The first panic of an input is the cause; later ones (a thread that waited on the
        // one that panicked) are consequences.
        let mut first = PANIC.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(format!("{place}\n{msg}"));
        }
    }));
    let mut rng = Rng::new(config.seed);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let deadline = Instant::now() + Duration::from_millis(config.millis);
    while Instant::now() < deadline {
        // Mutations only: the inputs as they are are replayed by `cargo test`
        // (tests/it/fuzz_corpus.rs).
        let base = rng.below(pool.len());
        let other = rng.below(pool.len());
        let input = mutate(&mut rng, &pool[base], &pool[other], config.max_len);
        if frame(&mut out, "start", Some(&input)).is_err() {
            return Ok(());
        }
        PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
        let result = std::panic::catch_unwind(|| run(&input));
        let sent = match result {
            Ok(()) => frame(&mut out, "ok", None),
            Err(_) => {
                let msg = PANIC
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| "?\n(no message)".to_string());
                frame(&mut out, "panic", Some(msg.as_bytes()))
            }
        };
        if sent.is_err() {
            return Ok(());
        }
        // Mutations breed, so that mutations stack over generations; the pool stays bounded.
        if rng.one_in(16) {
            if pool.len() < seeds + 1000 {
                pool.push(input);
            } else {
                let i = seeds + rng.below(pool.len() - seeds);
                pool[i] = input;
            }
        }
    }
    let _ = frame(&mut out, "done", None);
    Ok(())
}

/// Runs the worker when this process was started as one; returns otherwise.
pub fn worker_if_asked() {
    let Ok(json) = std::env::var(WORKER_ENV) else {
        return;
    };
    let code = match serde_json::from_str::<WorkerConfig>(&json) {
        Ok(config) => match worker(&config) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("fuzz worker: {e}");
                2
            }
        },
        Err(e) => {
            eprintln!("fuzz worker: bad {WORKER_ENV}: {e}");
            2
        }
    };
    std::process::exit(code);
}

// ---------------------------------------------------------------------------------------
// Supervisor

/// What to fuzz, how long, and where crashes go.
#[derive(Clone, Debug)]
pub struct Config {
    pub target: String,
    pub seed: u64,
    pub duration: Duration,
    /// Longest one input may run before it counts as a hang.
    pub timeout: Duration,
    pub max_len: usize,
    pub dirs: Vec<PathBuf>,
    /// Crashes are written to `<regressions>/<target>/`.
    pub regressions: PathBuf,
}

/// One crashing input, kept.
#[derive(Clone, Debug)]
pub struct Crash {
    /// `panic`, `signal`, `exit` or `timeout`.
    pub kind: String,
    /// The panic's location and message, the signal, or the timeout.
    pub detail: String,
    pub path: PathBuf,
}

/// What a run of one target did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub execs: u64,
    pub elapsed: Duration,
    /// Every crash seen, including those with a signature already kept.
    pub crash_events: u64,
    /// The crashes kept, one per signature (panic location, signal, timeout).
    pub crashes: Vec<Crash>,
    pub workers: u64,
}

enum Msg {
    Start(Vec<u8>),
    Ok,
    Panic(String),
    Done,
}

/// Reads the worker's protocol from its stdout, skipping any other output.
fn read_frames(out: impl Read, tx: mpsc::Sender<Msg>) {
    let mut r = BufReader::new(out);
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Some(rest) = line.strip_prefix(TAG) else {
            continue;
        };
        let rest = String::from_utf8_lossy(rest).trim_end().to_string();
        let mut words = rest.split(' ');
        let kind = words.next().unwrap_or("");
        let len: Option<usize> = words.next().and_then(|w| w.parse().ok());
        let body = match len {
            Some(n) => {
                let mut b = vec![0; n];
                if r.read_exact(&mut b).is_err() {
                    return;
                }
                Some(b)
            }
            None => None,
        };
        let msg = match (kind, body) {
            ("start", Some(b)) => Msg::Start(b),
            ("ok", _) => Msg::Ok,
            ("panic", Some(b)) => Msg::Panic(String::from_utf8_lossy(&b).into_owned()),
            ("done", _) => Msg::Done,
            _ => continue,
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}

#[cfg(unix)]
fn describe(status: std::process::ExitStatus) -> (String, String) {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(s) => ("signal".into(), format!("signal {s}")),
        None => ("exit".into(), format!("exit code {:?}", status.code())),
    }
}

#[cfg(not(unix))]
fn describe(status: std::process::ExitStatus) -> (String, String) {
    ("exit".into(), format!("exit code {:?}", status.code()))
}

impl Report {
    /// Keeps `input` as a crash unless one with the same signature is already kept.
    fn keep(
        &mut self,
        config: &Config,
        seen: &mut HashSet<String>,
        kind: &str,
        detail: &str,
        input: &[u8],
    ) -> std::io::Result<()> {
        self.crash_events += 1;
        // The panic's location, not its message (which may quote the input).
        let signature = format!("{kind} {}", detail.lines().next().unwrap_or(""));
        if !seen.insert(signature) {
            return Ok(());
        }
        let dir = config.regressions.join(&config.target);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("crash-{kind}-{:016x}", fnv64(input)));
        std::fs::write(&path, input)?;
        println!(
            "!! {}: {kind} ({}), input kept in {}",
            config.target,
            detail.replace('\n', ": "),
            path.display()
        );
        self.crashes.push(Crash {
            kind: kind.to_string(),
            detail: detail.to_string(),
            path,
        });
        Ok(())
    }
}

/// Fuzzes one target for `config.duration`, running workers made by `worker` (a command
/// that runs [`worker_if_asked`] first: this executable, or a test binary), restarting one
/// whenever a crash ends it.
pub fn supervise(config: &Config, worker: &dyn Fn() -> Command) -> Result<Report, String> {
    let started = Instant::now();
    let deadline = started + config.duration;
    let mut report = Report::default();
    let mut seen = HashSet::new();
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let wc = WorkerConfig {
            target: config.target.clone(),
            seed: derive_seed(config.seed, report.workers),
            millis: left.as_millis() as u64,
            max_len: config.max_len,
            dirs: config.dirs.clone(),
        };
        report.workers += 1;
        let json = serde_json::to_string(&wc).map_err(|e| e.to_string())?;
        let mut child = worker()
            .env(WORKER_ENV, json)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a fuzz worker: {e}"))?;
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || read_frames(out, tx));
        let mut current: Option<Vec<u8>> = None;
        let mut done = false;
        let keep_err = |e: std::io::Error| format!("cannot write a crash: {e}");
        loop {
            // The worker stops by itself at the deadline; an input gets its timeout at most.
            let wait = if current.is_some() {
                config.timeout
            } else {
                config.timeout + left
            };
            match rx.recv_timeout(wait) {
                Ok(Msg::Start(input)) => current = Some(input),
                Ok(Msg::Ok) => {
                    report.execs += 1;
                    current = None;
                }
                Ok(Msg::Panic(detail)) => {
                    report.execs += 1;
                    let input = current.take().unwrap_or_default();
                    report
                        .keep(config, &mut seen, "panic", &detail, &input)
                        .map_err(keep_err)?;
                }
                Ok(Msg::Done) => done = true,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let detail = format!("ran past the timeout of {:?}", config.timeout);
                    if let Some(input) = current.take() {
                        report.execs += 1;
                        report
                            .keep(config, &mut seen, "timeout", &detail, &input)
                            .map_err(keep_err)?;
                    }
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().map_err(|e| e.to_string())?;
                    if let Some(input) = current.take() {
                        report.execs += 1;
                        let (kind, detail) = describe(status);
                        report
                            .keep(config, &mut seen, &kind, &detail, &input)
                            .map_err(keep_err)?;
                    } else if !done || !status.success() {
                        return Err(format!(
                            "the fuzz worker of {} stopped ({status}) between inputs",
                            config.target
                        ));
                    }
                    break;
                }
            }
        }
        let _ = reader.join();
        if done {
            break;
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Runs one input through a target in this process, for reproducing a crash.
pub fn run_one(target: &str, path: &Path) -> Result<(), String> {
    let run = target_fn(target).ok_or_else(|| format!("no target {target}"))?;
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    run(&data);
    Ok(())
}
