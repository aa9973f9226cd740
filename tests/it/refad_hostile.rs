//! Every builtin of the reference interpreter called with hostile arguments: the extremes of
//! integers and floats, empty and odd containers, multibyte strings, wrong types, and
//! values tracked by a gradient. A Julia error, an unsupported call or an exhausted budget
//! are all fine answers; a panic of the interpreter (an overflow in Rust's integer
//! division, a slice at a byte inside a character, an index past the end) is not. The test
//! builds run with overflow checks, so an addition that would wrap silently in a release
//! build panics here too.

use adlint::refad::builtins::builtin_names;
use adlint::refad::*;
use std::path::PathBuf;

/// Argument values, as Julia source.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "(-9223372036854775807 - 1)",
    "9223372036854775807",
    "4611686018427387904",
    "-4611686018427387904",
    "-0.0",
    "2.5",
    "NaN",
    "Inf",
    "-Inf",
    "1e308",
    "5e-324",
    "true",
    "\"\"",
    "\"é∀x\"",
    "'a'",
    ":s",
    "nothing",
    "[]",
    "Float64[]",
    "[1, 2, 3]",
    "[1.0 2.0; 3.0 4.0]",
    "zeros(0, 3)",
    "zeros(2, 2, 2)",
    "zeros(4611686018427387904, 4611686018427387904, 0)",
    ":",
    "[[1.0], [2.0, 3.0]]",
    "(1, 2.0)",
    "()",
    "(a = 1, b = [2.0])",
    "1:0",
    "10:-3:1",
    "1:9223372036854775807",
    "Dict(1 => 2.0)",
    "x -> x",
    "+",
    "t",
    "[t, 2t]",
];

/// A small deterministic generator (xorshift), so a failure names the same calls each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The calls made of `name`: every value alone, pairs and triples chosen at random.
fn calls(name: &str, rng: &mut Rng) -> Vec<String> {
    let callee = match name.chars().next() {
        Some(c) if c.is_alphabetic() || c == '_' => name.to_string(),
        _ => format!("({name})"),
    };
    let mut out = vec![format!("{callee}()")];
    for v in VALUES {
        out.push(format!("{callee}({v})"));
    }
    let pick = |rng: &mut Rng| VALUES[rng.next(VALUES.len())];
    for _ in 0..PAIRS {
        let (a, b) = (pick(rng), pick(rng));
        out.push(format!("{callee}({a}, {b})"));
    }
    for _ in 0..TRIPLES {
        let (a, b, c) = (pick(rng), pick(rng), pick(rng));
        out.push(format!("{callee}({a}, {b}, {c})"));
    }
    // Keywords the builtins read, with hostile values, after one or two arguments.
    for _ in 0..KEYWORDED {
        let k = KEYWORDS[rng.next(KEYWORDS.len())];
        let (a, b, v) = (pick(rng), pick(rng), pick(rng));
        match rng.next(2) {
            0 => out.push(format!("{callee}({a}; {k} = {v})")),
            _ => out.push(format!("{callee}({a}, {b}; {k} = {v})")),
        }
    }
    out
}

/// Calls of each builtin with two, three arguments, and with a keyword.
const PAIRS: usize = 80;
const TRIPLES: usize = 40;
const KEYWORDED: usize = 40;

/// Keywords of Base functions the interpreter models.
const KEYWORDS: &[&str] = &[
    "dims",
    "init",
    "length",
    "step",
    "stop",
    "rev",
    "by",
    "lt",
    "alg",
    "kind",
    "base",
    "digits",
    "sigdigits",
    "keepempty",
    "limit",
];

/// Each call as a statement of its own, at the top level where `t` is a number; the ones
/// that use `t` also inside a gradient, where `t` is tracked and the result is pulled back.
fn statements(call: &str) -> String {
    let uses_t = ["(t", " t,", " t)", "[t"].iter().any(|p| call.contains(p));
    match uses_t {
        true => {
            format!("{call}\ngradient(t -> ({call}; t), 1.5)\ngradient(t -> sum({call}), 1.5)\n")
        }
        false => format!("{call}\n"),
    }
}

fn options() -> Options {
    let mut o = Options::default();
    o.budget.max_millis = 2_000;
    o.budget.max_elements = 100_000;
    o.budget.max_memory = 64 << 20;
    o
}

/// Runs the calls as the driver file of `confirm` runs its calls: a statement that throws
/// or meets something unsupported is abandoned and the next one runs; a budget or an
/// internal error ends the run.
fn run(calls: &[String]) -> ProgramRun {
    let files = vec![
        SourceFile {
            path: PathBuf::from("setup.jl"),
            text: "using Zygote\nt = 1.5\n".into(),
        },
        SourceFile {
            path: PathBuf::from(confirm::DRIVER_PATH),
            text: calls.iter().map(|c| statements(c)).collect(),
        },
    ];
    run_program(&files, &options())
}

/// The calls of a run that end in an internal error, found by halving a run that stopped
/// (a budget or an internal error ends the run, and hides the calls after it).
fn failing(calls: &[String], out: &mut Vec<String>) {
    let r = run(calls);
    let bad = internal(&r);
    if r.stopped.is_none() && bad.is_empty() {
        return;
    }
    if let [one] = calls {
        for reason in bad {
            out.push(format!("{one}\n  -> {reason}"));
        }
        return;
    }
    let (a, b) = calls.split_at(calls.len() / 2);
    failing(a, out);
    failing(b, out);
}

/// The internal errors of a run: in its stop, or in an entry that did not run.
fn internal(run: &ProgramRun) -> Vec<String> {
    let mut out = vec![];
    if let Some(s) = &run.stopped {
        if s.reason.contains(INTERNAL_ERROR) {
            out.push(s.reason.clone());
        }
    }
    for e in &run.entries {
        let text = format!("{:?}", e.outcome);
        if text.contains(INTERNAL_ERROR) {
            out.push(text);
        }
    }
    out
}

#[test]
fn no_builtin_panics_on_hostile_arguments() {
    // Another seed (`HOSTILE_SEED=n`) makes other calls, to search further by hand.
    let seed = (std::env::var("HOSTILE_SEED").ok())
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(0x9E37_79B9_7F4A_7C15, |s| {
            s.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1
        });
    let mut rng = Rng(seed);
    let mut failures = vec![];
    for name in builtin_names() {
        // Names the grammar reads as something else than a call.
        if name.starts_with("__") || name == "include" {
            continue;
        }
        failing(&calls(name, &mut rng), &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} calls ended in an internal error:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
