//! The reference interpreter's budgets as a user sets them: `--confirm-memory` and
//! `--confirm-timeout` on `confirm`, `check --confirm` and `check --fix --verify`, and
//! `confirm-memory` and `confirm-timeout` in the root `adlint.toml`. The programs that
//! outgrow a budget are made here; none is timed.

use crate::common::{run_adlint as adlint, Project};
use adlint::analysis::Options;
use adlint::config::{parse_duration, parse_memory, ConfirmLimits};
use adlint::refad::Budget;

/// Keeps 300 strings of 64 kB alive (about 20 MB), then differentiates: within the
/// default budget, over an 8 MiB one.
const HOG: &str = "using Zygote\ns = \"ab\"\nfor i in 1:15\n    global s = s * s\nend\nv = []\nfor i in 1:300\n    push!(v, \"$s$i\")\nend\ng = gradient(x -> x^2, 3.0)\n";

const OVER_8_MIB: &str = "budget: memory (over 8 MiB of arrays, strings, tuples, dictionaries, other values and the tape alive at once)";

#[test]
fn sizes_and_durations_are_read_with_their_units() {
    assert_eq!(parse_memory("512MiB"), Ok(512 << 20));
    assert_eq!(parse_memory("2GiB"), Ok(2 << 30));
    assert_eq!(parse_memory("1.5GB"), Ok(1_500_000_000));
    assert_eq!(parse_memory(" 2048 KiB "), Ok(2 << 20));
    assert_eq!(parse_memory("64mib"), Ok(64 << 20));
    assert_eq!(parse_memory("1TB"), Ok(1_000_000_000_000));
    assert_eq!(parse_duration("10s"), Ok(10_000));
    assert_eq!(parse_duration("500ms"), Ok(500));
    assert_eq!(parse_duration("1.5min"), Ok(90_000));
    assert_eq!(parse_duration("2 S"), Ok(2_000));
    for (bad, says) in [
        ("512", "has no unit; write it as 512MiB"),
        ("5x", "`x` in `5x` is not a unit; the units are B, kB, MB"),
        ("", "is not a number with a unit"),
        ("MiB", "is not a number with a unit"),
        ("-1GiB", "is not a number with a unit"),
        ("1.2.3MiB", "is not a number with a unit"),
        ("0.5MiB", "is less than 1MiB"),
        ("0GiB", "is less than 1MiB"),
        ("99999999TiB", "is too large"),
    ] {
        let err = parse_memory(bad).expect_err(bad);
        assert!(err.contains(says), "{bad:?}: {err}");
    }
    for (bad, says) in [
        ("10", "has no unit; write it as 10s (units: ms, s, min)"),
        (
            "10h",
            "`h` in `10h` is not a unit; the units are ms, s, min",
        ),
        ("0s", "is less than 1ms"),
        ("0.1ms", "is less than 1ms"),
    ] {
        let err = parse_duration(bad).expect_err(bad);
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}

#[test]
fn bad_values_on_the_command_line_are_usage_errors() {
    let p = Project::new(&[("main.jl", HOG)]);
    for (args, says) in [
        (
            vec!["confirm", "main.jl", "--confirm-memory", "512"],
            "invalid value '512' for '--confirm-memory <SIZE>': `512` has no unit",
        ),
        (
            vec!["check", "--confirm", "--confirm-timeout", "fast", "."],
            "invalid value 'fast' for '--confirm-timeout <DURATION>': `fast` is not a number",
        ),
        (
            vec!["check", "--fix", "--verify", "--confirm-memory", "1kB", "."],
            "`1kB` is less than 1MiB",
        ),
        // Nothing runs the interpreter: the flag would be silently ignored.
        (
            vec!["check", "--confirm-memory", "512MiB", "."],
            "--confirm-memory is a budget of the reference interpreter: use it with --confirm or --verify",
        ),
        (
            vec!["check", "--fix", "--confirm-timeout", "10s", "."],
            "--confirm-timeout is a budget of the reference interpreter: use it with --confirm or --verify",
        ),
    ] {
        let (code, _, err) = adlint(&args, p.dir.path());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing was run or written.
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), HOG);
}

#[test]
fn a_small_memory_budget_stops_each_command_cleanly() {
    let p = Project::new(&[("main.jl", HOG)]);
    let dir = p.dir.path();
    // `confirm`: the default budget holds the program; 8 MiB does not.
    let (code, out, err) = adlint(&["confirm", "main.jl"], dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("gradient: ok"), "{out}");
    let (code, out, err) = adlint(&["confirm", "main.jl", "--confirm-memory", "8MiB"], dir);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "main.jl:10: Zygote.gradient: the program stopped before this entry point ran: {OVER_8_MIB}"
        )),
        "{out}"
    );
    // `check --confirm`: the note names the stop and the flag that raises it (a program
    // runs for its findings: this one has one).
    let finding = "function h(x)\n    x[1] = 0.0\n    return sum(x)\nend\ngradient(h, [1.0])\n";
    std::fs::write(p.path("main.jl"), format!("{HOG}{finding}")).unwrap();
    let (_, _, err) = adlint(
        &["check", "--confirm", "--confirm-memory", "8MiB", "."],
        dir,
    );
    assert!(
        err.contains(&format!(
            "note: the reference interpreter stopped: {OVER_8_MIB}; --confirm-memory raises the budget"
        )),
        "{err}"
    );
    // `check --fix --verify`: the fix cannot be shown to keep a program that stops.
    let fixable = format!(
        "{HOG}function loss(x::Vector{{Float64}})\n    z = zeros(length(x))\n    for i in 1:length(x)\n        z[i] = x[i]^2\n    end\n    return sum(z)\nend\n\ngradient(loss, [1.0, 2.0, 3.0])\n"
    );
    std::fs::write(p.path("main.jl"), &fixable).unwrap();
    let fix = ["check", "--fix", "--unsafe-fixes", "--verify", "."];
    let (_, _, err) = adlint(&[&fix[..], &["--confirm-memory", "8MiB"]].concat(), dir);
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), fixable);
    assert!(
        err.contains(&format!(
            "not applied: --verify cannot show that it keeps the program: its entry point at main.jl:19 does not run: the original program stopped: {OVER_8_MIB}"
        )),
        "{err}"
    );
    // Within the default budget the same fix is verified and applied.
    let (_, _, err) = adlint(&fix, dir);
    let text = std::fs::read_to_string(p.path("main.jl")).unwrap();
    assert!(!text.contains("z[i] ="), "{text}\n{err}");
}

#[test]
fn the_config_sets_the_budgets_and_the_command_line_wins() {
    let config = "confirm-memory = \"8MiB\"\nconfirm-timeout = \"1.5min\"\n";
    let p = Project::new(&[("main.jl", HOG), ("adlint.toml", config)]);
    let dir = p.dir.path();
    let a = p.analyze();
    assert_eq!(
        a.confirm_limits,
        ConfirmLimits {
            memory: Some(8 << 20),
            millis: Some(90_000),
        }
    );
    let given = ConfirmLimits {
        memory: Some(1 << 30),
        millis: None,
    };
    let a = p.analyze_with(&Options {
        confirm: given,
        ..Options::default()
    });
    assert_eq!(a.confirm_limits.memory, Some(1 << 30), "the flag wins");
    assert_eq!(a.confirm_limits.millis, Some(90_000), "the config's stays");
    let (code, out, err) = adlint(&["confirm", "main.jl"], dir);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(OVER_8_MIB), "{out}");
    let (code, out, err) = adlint(&["confirm", "main.jl", "--confirm-memory", "1GiB"], dir);
    assert_eq!(code, 0, "{out}{err}");
    // A bad value is the config's error: the file, line and column, exit code 2.
    for (bad, says) in [
        (
            "confirm-memory = \"8\"\n",
            "adlint.toml:1:18: `confirm-memory`: `8` has no unit; write it as 512MiB",
        ),
        (
            "confirm-timeout = 10\n",
            "adlint.toml:1:19: `confirm-timeout` must be a string such as \"10s\", not an integer",
        ),
    ] {
        std::fs::write(p.path("adlint.toml"), bad).unwrap();
        let (code, _, err) = adlint(&["confirm", "main.jl"], dir);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn without_flags_or_config_the_budgets_are_the_defaults() {
    let p = Project::new(&[("main.jl", HOG)]);
    let a = p.analyze();
    assert_eq!(a.confirm_limits, ConfirmLimits::default());
    let budget = adlint::refad::confirm::options_for(&a).budget;
    assert_eq!(budget.max_memory, 1 << 30);
    assert_eq!(budget.max_millis, 5_000);
    assert_eq!(budget.max_memory, Budget::default().max_memory);
    assert_eq!(budget.max_millis, Budget::default().max_millis);
}

/// Runs a program on a thread with a time budget of `millis` and fails when it is not
/// done within a guard far above it: a builtin whose work is cubic (an LU of a 2000x2000
/// matrix is minutes in this debug build) read the clock only when it returned.
fn run_within_guard(src: &'static str, millis: u64) -> adlint::refad::ProgramRun {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let files = vec![adlint::refad::SourceFile {
            path: "t.jl".into(),
            text: src.to_string(),
        }];
        let mut opts = adlint::refad::Options::default();
        opts.budget.max_millis = millis;
        let _ = tx.send(adlint::refad::run_program(&files, &opts));
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("not done 60 s into a {millis} ms budget:\n{src}"))
}

#[test]
fn the_time_budget_holds_inside_cubic_linear_algebra() {
    for src in [
        "using Zygote, LinearAlgebra\ng(x) = x * det(rand(2000, 2000))\ngradient(g, 1.0)\n",
        "using Zygote, LinearAlgebra\ng(x) = x * sum(inv(rand(2000, 2000)))\ngradient(g, 1.0)\n",
        "using Zygote, LinearAlgebra\ng(x) = x * sum(rand(2000, 2000) \\ rand(2000))\ngradient(g, 1.0)\n",
        "using Zygote, LinearAlgebra\ng(x) = x * sum(qr(rand(1500, 1500)).R)\ngradient(g, 1.0)\n",
    ] {
        let run = run_within_guard(src, 200);
        let why = format!("{:?} {:?}", run.stopped, run.entries);
        assert!(why.contains("budget: time"), "{src}\n{why}");
    }
}

#[test]
fn unique_of_a_million_numbers_is_not_quadratic() {
    // Julia's `isequal` classes: -0.0 apart from 0.0, NaN one, 1 == 1.0 == true, tuples
    // by their elements.
    let src = "using Zygote\nu = unique([0.0, -0.0, NaN, NaN, 1, 1.0, true, \"a\", \"a\", (1, 2), (1, 2.0), [1], [1]])\ng(x) = x * length(u) + x * length(unique(collect(1:10^6)))\ngradient(g, 1.0)\n";
    let run = run_within_guard(src, 30_000);
    let got = format!("{:?}", run.entries.last().map(|e| &e.outcome));
    assert!(got.contains("1000007"), "{got}");
}

#[test]
fn equality_of_nested_arrays_compares_each_pair_once_and_the_time_budget_holds() {
    // Arrays that share their elements: `==` visited 3000^4 numbers, `in` and `unique` as
    // many, for hours. A pair of arrays found equal is not compared again.
    for test in [
        "@assert a3 == b3",
        "@assert a3 in [b3]",
        "@assert length(unique([a3, b3])) == 1",
        "@assert isequal(a3, b3)",
    ] {
        let src = format!(
            "using Zygote\nx = rand(3000); a1 = fill(x, 3000); a2 = fill(a1, 3000); a3 = fill(a2, 3000)\ny = copy(x); b1 = fill(y, 3000); b2 = fill(b1, 3000); b3 = fill(b2, 3000)\n{test}\ng(x) = x^2\ngradient(g, 1.0)\n"
        );
        let run = run_within_guard(Box::leak(src.into_boxed_str()), 5_000);
        assert!(run.stopped.is_none(), "{test}\n{:?}", run.stopped);
    }
    // Large arrays compared again and again: each element visited is charged, so the
    // loop stops at the time budget, not after it.
    let src = "using Zygote\nx = rand(4 * 10^6); y = copy(x)\nfor i in 1:50\n    global c = (x == y)\nend\ng(x) = x^2\ngradient(g, 1.0)\n";
    let run = run_within_guard(src, 200);
    let why = format!("{:?} {:?}", run.stopped, run.entries);
    assert!(why.contains("budget: time"), "{why}");
}

#[test]
fn text_joined_from_splatted_parts_is_checked_before_it_is_built() {
    // Twenty parts of a megabyte each: 20 MB of text, past the 10 million of one value's
    // size. `error` built its message without any check, so the program threw it.
    let head = "using Zygote\ns = \"a\"\nfor i in 1:20\n    global s = s * s\nend\n";
    for call in [
        "t = string(fill(s, 20)...)",
        "error(fill(s, 20)...)",
        "t = Symbol(fill(s, 20)...)",
        "t = \"$s$s$s$s$s$s$s$s$s$s$s$s\"",
        "t = ErrorException(string(s, s, s, s, s, s, s, s, s, s, s, s))",
    ] {
        let src = format!("{head}{call}\ng(x) = x^2\ngradient(g, 1.0)\n");
        let run = run_within_guard(Box::leak(src.into_boxed_str()), 5_000);
        let why = format!("{:?}", run.stopped);
        assert!(why.contains("budget: elements"), "{call}\n{why}");
    }
}

#[test]
fn the_time_budget_holds_inside_builtins_over_large_arrays() {
    // Each is one builtin call of O(n) or O(n log n) work on two million elements, timed
    // only when it returned: unique, sort and circshift now charge their elements (and
    // comparisons) as they go.
    for call in [
        "unique(collect(1:2 * 10^6))",
        "sort(rand(2 * 10^6))",
        "sortperm(rand(2 * 10^6), rev = true)",
        "circshift(rand(3000, 3000), (1, 1))",
        "cumsum(rand(6 * 10^6))",
        "sort(rand(10^5), lt = (a, b) -> a < b)",
    ] {
        let src = format!("using Zygote\ny = {call}\ng(x) = x^2\ngradient(g, 1.0)\n");
        let run = run_within_guard(Box::leak(src.into_boxed_str()), 200);
        let why = format!("{:?} {:?}", run.stopped, run.entries);
        assert!(why.contains("budget: time"), "{call}\n{why}");
    }
}

#[test]
fn a_value_made_of_shared_tuples_is_walked_once_per_tuple() {
    // 2^60 tuples to a walk that does not remember the ones it has seen: taking the
    // primal of the pullback's output ran out of memory; showing it made a '…' per element.
    let src = "using Zygote\nt = 1.0\nfor i in 1:60\n    global t = (t, t)\nend\ny, back = pullback(x -> (x, t), 1.0)\n";
    let run = run_within_guard(src, 5_000);
    assert!(run.stopped.is_none(), "{:?}", run.stopped);
    assert_eq!(run.entries.len(), 1, "{:?}", run.entries);
}
