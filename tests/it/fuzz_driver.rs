//! The machinery of the stable fuzz driver (`fuzz/stable/`, `cargo run --example fuzz`),
//! without timing anything: the mutators repeat for a seed and do what they say, and the
//! supervisor keeps an input that panics, aborts or hangs its worker as a regression file.
//! The workers here are this test binary, re-executed to run [`worker_entry`] only, with
//! test-only targets that go wrong on purpose.

#[allow(dead_code)]
#[path = "../../fuzz/stable/driver.rs"]
mod driver;

use driver::{mutate, mutate_once, Rng, MUTATORS, TOKENS};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SEED: &[u8] =
    b"using Zygote\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\ngradient(f, rand(3))\n";

#[test]
fn mutations_repeat_for_a_seed_and_respect_the_length_limit() {
    let run = |seed: u64| {
        let mut rng = Rng::new(seed);
        (0..500)
            .map(|_| mutate(&mut rng, SEED, b"try\n  g(y)\ncatch\nend\n", 300))
            .collect::<Vec<_>>()
    };
    let a = run(7);
    assert_eq!(a, run(7), "the same seed gives the same mutations");
    assert_ne!(a, run(8), "another seed gives other mutations");
    assert!(a.iter().all(|m| m.len() <= 300), "an input over --max-len");
    let changed = a.iter().filter(|m| m.as_slice() != SEED).count();
    assert!(
        changed > 450,
        "only {changed} of 500 mutations changed the input"
    );
}

/// Runs mutator `kind` on the seed with many PRNG states; true when `pred` holds for one
/// of the results.
fn some_result(kind: usize, pred: impl Fn(&[u8]) -> bool) -> bool {
    let mut rng = Rng::new(42);
    (0..400).any(|_| {
        let mut d = SEED.to_vec();
        mutate_once(&mut rng, &mut d, b"x .= y\n", kind);
        pred(&d)
    })
}

#[test]
fn every_mutator_changes_the_input_and_the_token_aware_ones_do_their_part() {
    for kind in 0..MUTATORS {
        assert!(
            some_result(kind, |d| d != SEED),
            "mutator {kind} never changes the input"
        );
    }
    let contains = |d: &[u8], s: &[u8]| d.windows(s.len()).any(|w| w == s);
    // Token insertion and replacement put dictionary tokens into the text.
    assert!(some_result(8, |d| contains(d, b"@adjoint")
        || contains(d, b"gradient(f, x)")));
    assert!(some_result(10, |d| contains(d, b"catch")));
    // Deep nesting, line endings, non-UTF-8 bytes, very long lines.
    assert!(some_result(13, |d| contains(d, &[b'('; 100])
        || contains(d, &b"begin\n".repeat(100))));
    assert!(some_result(14, |d| contains(d, b"\r\n") && !contains(d, b"\r\r")));
    assert!(some_result(15, |d| std::str::from_utf8(d).is_err()));
    assert!(some_result(16, |d| d
        .split(|&b| b == b'\n')
        .any(|l| l.len() > 1000)));
    // The dictionary has what the brief of the driver names.
    for t in [
        "end",
        "function",
        "try",
        "catch",
        "x[i] = ",
        "gradient(",
        "@adjoint ",
        "#=",
        "\"",
    ] {
        assert!(
            TOKENS.contains(&t),
            "{t:?} is missing from the token dictionary"
        );
    }
}

/// Not a test: the worker the tests below start (this binary, re-executed with
/// `driver::WORKER_ENV` set). Ignored, so that a normal run skips it.
#[test]
#[ignore]
fn worker_entry() {
    driver::worker_if_asked();
}

/// Fuzzes a test-only `target` for `secs` with crashes kept in a temporary directory.
fn fuzz(target: &str, secs: f64, timeout: f64) -> (driver::Report, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let seeds = tmp.path().join("seeds");
    std::fs::create_dir(&seeds).unwrap();
    std::fs::write(seeds.join("a.jl"), SEED).unwrap();
    let config = driver::Config {
        target: target.to_string(),
        seed: 1,
        duration: Duration::from_secs_f64(secs),
        timeout: Duration::from_secs_f64(timeout),
        max_len: 4096,
        dirs: vec![seeds],
        regressions: tmp.path().join("regressions"),
    };
    let exe = std::env::current_exe().unwrap();
    let worker = || {
        let mut c = Command::new(&exe);
        c.args([
            "fuzz_driver::worker_entry",
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
        c
    };
    let report = driver::supervise(&config, &worker).unwrap();
    (report, tmp)
}

fn kept(dir: &Path, target: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("regressions").join(target)) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_target_that_never_fails_keeps_nothing() {
    let (report, tmp) = fuzz("selftest-ok", 1.0, 30.0);
    assert!(report.execs > 10, "only {} inputs ran", report.execs);
    assert_eq!(report.crash_events, 0);
    assert!(kept(tmp.path(), "selftest-ok").is_empty());
}

#[test]
fn a_panic_is_kept_once_and_the_worker_goes_on() {
    let (report, tmp) = fuzz("selftest-panic", 1.0, 30.0);
    let files = kept(tmp.path(), "selftest-panic");
    assert_eq!(files.len(), 1, "one file per panic location: {files:?}");
    assert!(files[0].starts_with("crash-panic-"), "{files:?}");
    assert_eq!(report.crashes[0].kind, "panic");
    assert!(
        report.crashes[0].detail.contains("driver.rs")
            && report.crashes[0].detail.contains("selftest-panic on"),
        "the panic's location and message: {}",
        report.crashes[0].detail
    );
    // A caught panic does not end the worker.
    assert!(
        report.crash_events > 10 && report.workers == 1,
        "{report:?}"
    );
}

#[test]
fn an_abort_is_kept_and_a_new_worker_started() {
    let (report, tmp) = fuzz("selftest-abort", 1.0, 30.0);
    let files = kept(tmp.path(), "selftest-abort");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("crash-signal-"), "{files:?}");
    assert!(report.crashes[0].detail.contains("signal 6"), "{report:?}");
    assert!(report.workers > 1, "{report:?}");
}

#[test]
fn a_hang_is_killed_at_the_timeout_and_kept() {
    let (report, tmp) = fuzz("selftest-hang", 0.5, 1.0);
    let files = kept(tmp.path(), "selftest-hang");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("crash-timeout-"), "{files:?}");
    assert_eq!(report.crash_events, 1);
}
