//! The progress bar of `check`: drawn on stderr only when stderr is a terminal, for the
//! formats people read, not with `--quiet`, only after the delay, and cleared before the
//! findings; never on stdout. The terminal cases run the binary under `script(1)` (a
//! pseudo-terminal) with `ADLINT_PROGRESS_DELAY_MS=0`, so that the small project takes
//! long enough.

use crate::common::Project;
use std::process::Command;

fn project() -> Project {
    Project::new(&[(
        "src/train.jl",
        "using Zygote\n\nfunction f(x)\n    y = copy(x)\n    y[1] = 0.0\n    sum(y)\nend\n\nZygote.gradient(f, rand(3))\n",
    )])
}

/// `adlint check . <args>` under a pseudo-terminal, with stdout to `out.txt`: what the
/// terminal showed (stderr) and what stdout got. `None` without `script(1)`.
fn on_terminal(p: &Project, args: &str, delay_ms: Option<u32>) -> Option<(String, String)> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("note: script(1) is not installed; the terminal cases of progress are skipped");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_adlint");
    let log = p.path("terminal.log");
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c"])
        .arg(format!("'{bin}' check src {args} > out.txt"))
        .arg(&log)
        .current_dir(p.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("ADLINT_PROGRESS_DELAY_MS");
    if let Some(ms) = delay_ms {
        cmd.env("ADLINT_PROGRESS_DELAY_MS", ms.to_string());
    }
    let status = cmd.output().expect("run script");
    assert!(status.status.code().is_some(), "{status:?}");
    let shown = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
    let out = std::fs::read_to_string(p.path("out.txt")).unwrap();
    Some((shown, out))
}

#[test]
fn piped_stderr_gets_no_progress() {
    let p = project();
    for format in ["full", "concise"] {
        let out = Command::new(env!("CARGO_BIN_EXE_adlint"))
            .args(["check", ".", "--output-format", format])
            .current_dir(p.dir.path())
            .env("NO_COLOR", "1")
            .env("ADLINT_PROGRESS_DELAY_MS", "0")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains('\r') && !err.contains('\u{1b}') && !err.contains("parsing files"),
            "{format}: {err:?}"
        );
    }
}

#[test]
fn a_terminal_sees_the_bar_drawn_then_cleared_and_stdout_never_does() {
    let p = project();
    let Some((shown, out)) = on_terminal(&p, "--output-format concise", Some(0)) else {
        return;
    };
    // Drawn: at least one phase's name. Which phases are drawn depends on how fast the run
    // is against the bar's refresh (a phase over within one refresh is never drawn; in CI
    // under load `parsing files` sometimes is not).
    assert!(
        [
            "parsing files",
            "resolving calls",
            "checking the code under 1 entry point"
        ]
        .iter()
        .any(|phase| shown.contains(phase)),
        "{shown:?}"
    );
    // Cleared: the last thing on the line is the erase-line sequence.
    assert!(shown.contains("\u{1b}[2K"), "{shown:?}");
    assert_eq!(out.lines().count(), 1, "{out:?}");
    assert!(
        out.starts_with("src/train.jl:5:5: index-assignment"),
        "{out:?}"
    );
    assert!(!out.contains('\r') && !out.contains('\u{1b}'), "{out:?}");
}

#[test]
fn no_bar_for_machine_formats_quiet_runs_or_short_runs() {
    let p = project();
    for (args, delay) in [
        ("--output-format json", Some(0)),
        ("--output-format sarif", Some(0)),
        ("--output-format github", Some(0)),
        ("--output-format concise --quiet", Some(0)),
        // The default delay (a second) is longer than this run.
        ("--output-format concise", None),
    ] {
        let Some((shown, _)) = on_terminal(&p, args, delay) else {
            return;
        };
        assert!(
            !shown.contains("parsing files") && !shown.contains("\u{1b}[2K"),
            "{args}: {shown:?}"
        );
    }
}
