//! Hostile inputs through the real binary: each case states the behaviour the contract asks
//! for (a warning and the run goes on, the exit code, no panic) and runs under a hang guard
//! that also measures the child's peak memory (its VmHWM, polled while it runs). `cargo test --test it hostile:: -- --nocapture`
//! prints one table row per case (input, behaviour, time, peak memory).
//!
//! The guard is generous on purpose: it tells a hang from a slow debug build, it is not a
//! speed threshold (speed lives in `cargo bench`).

use crate::common::Project;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a single run may take before it counts as a hang (debug build, loaded machine).
const HANG_GUARD: Duration = Duration::from_secs(300);
/// Largest resident set a run may reach, in MiB (debug build; the release target is far
/// lower and is measured by `cargo bench`).
const MEMORY_GUARD_MIB: u64 = 1500;

/// A guarded run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub time: Duration,
    pub peak_mib: u64,
}

/// Run `adlint args...` in `cwd`, optionally as another user (uid, gid), killing it at the
/// hang guard, and note its peak resident memory.
pub fn guarded(args: &[&str], cwd: &Path, as_user: Option<(u32, u32)>) -> Run {
    let out = tempfile::tempdir().expect("temp dir");
    let stdout_path = out.path().join("stdout");
    let stderr_path = out.path().join("stderr");
    // Another user runs a copy next to the outputs: the checkout may sit under a private
    // directory that user cannot enter.
    let program = match as_user {
        Some(_) => {
            use std::os::unix::fs::PermissionsExt;
            let copy = out.path().join("adlint");
            std::fs::copy(env!("CARGO_BIN_EXE_adlint"), &copy).expect("copy the binary");
            for p in [out.path(), copy.as_path()] {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            copy
        }
        None => std::path::PathBuf::from(env!("CARGO_BIN_EXE_adlint")),
    };
    let mut cmd = Command::new(&program);
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    if let Some((uid, gid)) = as_user {
        use std::os::unix::process::CommandExt;
        // std drops the supplementary groups when root sets a uid.
        cmd.uid(uid).gid(gid);
    }
    let start = Instant::now();
    // Reaped below by `wait4`, which also says how it ended.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn adlint");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that the kernel fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // The child's own high-water mark, read while it runs: the kernel's `ru_maxrss` would
    // also count the test process it was forked from.
    let mut peak_kb = 0u64;
    loop {
        // Only once the child runs adlint (before exec it is a copy of this process).
        let exec_done =
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == program);
        if let Some(kb) = exec_done
            .then(|| crate::common::proc_status_kb(pid as u32, "VmHWM"))
            .flatten()
        {
            peak_kb = peak_kb.max(kb);
        }
        // SAFETY: `pid` is our own unreaped child; the pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if start.elapsed() > HANG_GUARD {
            // SAFETY: the child has not been reaped, so the pid is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("adlint {args:?} still running after {HANG_GUARD:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let time = start.elapsed();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        panic!(
            "adlint {args:?} was killed by signal {}",
            libc::WTERMSIG(status)
        );
    };
    let run = Run {
        code,
        stdout: String::from_utf8_lossy(&std::fs::read(&stdout_path).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap()).into_owned(),
        time,
        peak_mib: peak_kb / 1024,
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "adlint {args:?} panicked:\n{}",
        run.stderr
    );
    assert!(
        run.peak_mib < MEMORY_GUARD_MIB,
        "adlint {args:?} peaked at {} MiB",
        run.peak_mib
    );
    run
}

fn row(input: &str, behaviour: &str, run: &Run) {
    let mut s = String::new();
    write!(
        s,
        "| {input} | {behaviour} | {:.2} s | {} MiB |",
        run.time.as_secs_f64(),
        run.peak_mib
    )
    .unwrap();
    println!("{s}");
}

/// A package with one finding (line 4 of `main.jl`) next to whatever the case adds, so that
/// every case also shows the rest of the run went on.
const GOOD: &str =
    "using Zygote\n\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\n\ngradient(f, rand(3))\n";

fn project_with(extra: &[(&str, Vec<u8>)]) -> Project {
    let p = Project::new(&[("src/main.jl", GOOD)]);
    for (rel, bytes) in extra {
        let path = p.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    p
}

fn check(p: &Project) -> Run {
    guarded(
        &["check", ".", "--output-format", "concise"],
        p.dir.path(),
        None,
    )
}

/// The good file's finding is reported: the run went on past the hostile file.
fn assert_good_finding(run: &Run) {
    assert_eq!(
        run.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains("src/main.jl:4:5: index-assignment"),
        "{}",
        run.stdout
    );
}

/// Exactly one finding, whatever else the input holds.
fn assert_single_finding(run: &Run) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    let n = run.stdout.matches("index-assignment").count();
    assert_eq!(n, 1, "{}", run.stdout);
}

#[test]
fn empty_file() {
    let p = Project::new(&[("src/empty.jl", "")]);
    let run = check(&p);
    assert_eq!(run.code, 0, "{}", run.stderr);
    row("empty file", "no findings, exit 0", &run);
}

#[test]
fn file_of_50_mb_is_skipped_with_a_warning() {
    let line = "y = [1.0, 2.0, 3.0] .* 2 .+ sin.(x) # padding\n";
    let big = line.repeat(50 * 1024 * 1024 / line.len() + 1);
    let p = project_with(&[("src/big.jl", big.into_bytes())]);
    let run = check(&p);
    assert_good_finding(&run);
    assert!(
        run.stderr.contains("src/big.jl") && run.stderr.contains("larger than"),
        "{}",
        run.stderr
    );
    row(
        "50 MB file",
        "skipped with a warning (over the size limit); rest analysed, exit 1",
        &run,
    );
}

#[test]
fn hundred_thousand_nested_parentheses() {
    let n = 100_000;
    let text = format!("using Zygote\nh(x) = {}x{}\n", "(".repeat(n), ")".repeat(n));
    let p = project_with(&[("src/deep.jl", text.into_bytes())]);
    let run = check(&p);
    assert_good_finding(&run);
    row(
        "100,000 nested parentheses",
        "no stack overflow; analysed, exit 1",
        &run,
    );
}

// Facts keep at most 65,535 arguments of a call (a range of six bytes): a longer list
// loses its tail, not the call, and nothing overflows.
#[test]
fn a_call_with_a_hundred_thousand_arguments() {
    let n = 100_000;
    let text = format!(
        "using Zygote\nfunction g(x, rest...)\n    x[1] = 0.0\n    sum(x)\nend\nbig(x) = g(x{})\ngradient(big, rand(3))\n",
        ", 1".repeat(n)
    );
    let p = project_with(&[("src/wide.jl", text.into_bytes())]);
    let run = check(&p);
    assert_good_finding(&run);
    assert!(
        run.stdout.contains("src/wide.jl:3:5: index-assignment"),
        "{}",
        run.stdout
    );
    row(
        "a call with 100,000 arguments",
        "its first 65,535 kept; the callee's finding reported, exit 1",
        &run,
    );
}

// `Node::parent` walks down from the root (O(depth)): the fix builder carries ancestors
// down its own walks instead, or this took minutes (O(depth^2)).
#[test]
fn ten_thousand_nested_blocks() {
    let n = 10_000;
    let mut text = String::from("using Zygote\nfunction deep(x)\n");
    for _ in 0..n {
        text.push_str("if x > 0\n");
    }
    text.push_str("x[1] = 0.0\n");
    for _ in 0..n {
        text.push_str("end\n");
    }
    text.push_str("end\ngradient(deep, rand(3))\n");
    let p = project_with(&[("src/blocks.jl", text.into_bytes())]);
    let run = check(&p);
    assert_good_finding(&run);
    // The write at the bottom of the nesting is still found.
    assert!(
        run.stdout
            .contains(&format!("src/blocks.jl:{}:1: index-assignment", n + 3)),
        "{}",
        run.stdout
    );
    row(
        "10,000 nested blocks",
        "no stack overflow; finding at depth found, exit 1",
        &run,
    );
}

#[test]
fn single_line_of_10_mb() {
    let mut text = String::from("const table = [");
    while text.len() < 10 * 1024 * 1024 {
        text.push_str("1.0, ");
    }
    text.push_str("0.0]\n");
    let p = project_with(&[("src/table.jl", text.into_bytes())]);
    let run = check(&p);
    assert_good_finding(&run);
    row("one 10 MB line", "analysed, exit 1", &run);
}

#[test]
fn binary_data_named_jl() {
    let bytes: Vec<u8> = (0..65536u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let p = project_with(&[("src/blob.jl", bytes)]);
    let run = check(&p);
    assert_good_finding(&run);
    assert!(
        run.stderr.contains("src/blob.jl") && run.stderr.contains("binary file"),
        "{}",
        run.stderr
    );
    row(
        "binary data named .jl",
        "warning `binary file`, skipped; exit 1",
        &run,
    );
}

#[test]
fn invalid_utf8() {
    let p = project_with(&[("src/latin1.jl", b"f(x) = x # caf\xe9\n".to_vec())]);
    let run = check(&p);
    assert_good_finding(&run);
    assert!(
        run.stderr.contains("src/latin1.jl") && run.stderr.contains("not UTF-8"),
        "{}",
        run.stderr
    );
    row(
        "invalid UTF-8",
        "warning `not UTF-8` with the offset, skipped; exit 1",
        &run,
    );
}

#[test]
fn byte_order_mark_keeps_positions() {
    let text = format!("\u{feff}{GOOD}");
    let p = Project::new(&[("src/main.jl", &text)]);
    let run = check(&p);
    assert_good_finding(&run);
    row(
        "UTF-8 byte-order mark",
        "analysed; line and column unchanged",
        &run,
    );
}

#[test]
fn crlf_and_mixed_line_endings_keep_positions() {
    let crlf = GOOD.replace('\n', "\r\n");
    // Mixed: CRLF for the first half of the lines, LF after.
    let mixed: String = GOOD
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i < 4 {
                l.replace('\n', "\r\n")
            } else {
                l.to_string()
            }
        })
        .collect();
    for (what, text) in [("CRLF", crlf), ("mixed line endings", mixed)] {
        let p = Project::new(&[("src/main.jl", &text)]);
        let run = check(&p);
        assert_good_finding(&run);
        row(what, "analysed; line and column unchanged", &run);
    }
}

#[test]
fn directory_symlink_loop() {
    let p = project_with(&[]);
    std::os::unix::fs::symlink(p.path("src"), p.path("src/again")).unwrap();
    std::os::unix::fs::symlink(p.path("loop_b"), p.path("loop_a")).unwrap();
    std::os::unix::fs::symlink(p.path("loop_a"), p.path("loop_b")).unwrap();
    let run = check(&p);
    assert_good_finding(&run);
    // Each file once: links are not followed.
    assert_single_finding(&run);
    row(
        "directory symlink loops",
        "links not followed; each file once, exit 1",
        &run,
    );
}

#[test]
fn missing_path_among_others_warns_and_goes_on() {
    let p = project_with(&[]);
    let run = guarded(
        &[
            "check",
            "src/main.jl",
            "src/gone.jl",
            "--output-format",
            "concise",
        ],
        p.dir.path(),
        None,
    );
    assert_good_finding(&run);
    assert!(run.stderr.contains("src/gone.jl"), "{}", run.stderr);
    let run = guarded(&["check", "src/gone.jl"], p.dir.path(), None);
    assert_eq!(
        run.code, 2,
        "nothing to check at all is an error: {}",
        run.stderr
    );
    row(
        "a path that does not exist",
        "warning, the other paths checked; exit 2 if none",
        &run,
    );
}

#[test]
fn file_vanishing_during_the_run_is_skipped() {
    let p = project_with(&[("src/gone.jl", b"g(x) = x\n".to_vec())]);
    // The reader removes the file just before reading it: the real error path, on time.
    let read = |path: &Path| {
        if path.ends_with("gone.jl") {
            std::fs::remove_file(path).unwrap();
        }
        adlint::workspace::read_source(path)
    };
    let ws = adlint::workspace::Workspace::discover_reading(
        &[p.dir.path().to_path_buf()],
        adlint::workspace::ConfigChoice::Discover,
        &read,
    )
    .expect("discover");
    assert_eq!(ws.skipped.len(), 1, "{:?}", ws.skipped);
    assert!(ws.skipped[0].path.ends_with("gone.jl"));
    assert!(
        ws.skipped[0].reason.contains("No such file"),
        "{}",
        ws.skipped[0].reason
    );
    let a = adlint::analysis::analyze(ws, &Default::default());
    assert_eq!(a.diagnostics.len(), 1);
}

/// Root ignores permission bits, so the unreadable case runs the binary as `nobody`.
fn unprivileged() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions.
    (unsafe { libc::getuid() } == 0).then_some((65534, 65534))
}

#[test]
fn unreadable_file_warns_and_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let p = project_with(&[("src/secret.jl", b"s(x) = x\n".to_vec())]);
    // Everything readable by others except the one file.
    for dir in [p.dir.path().to_path_buf(), p.path("src")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for f in ["Project.toml", "src/main.jl"] {
        std::fs::set_permissions(p.path(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(
        p.path("src/secret.jl"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let user = unprivileged();
    let run = guarded(
        &["check", ".", "--output-format", "concise"],
        p.dir.path(),
        user,
    );
    assert_good_finding(&run);
    assert!(
        run.stderr.contains("src/secret.jl") && run.stderr.contains("Permission denied"),
        "{}",
        run.stderr
    );
    row(
        "unreadable file (run as nobody)",
        "warning `Permission denied`, skipped; exit 1",
        &run,
    );
}

#[test]
fn recursion_cycle_of_10_000_functions() {
    let n = 10_000;
    let mut text = String::from("using Zygote\n");
    for i in 0..n {
        let next = (i + 1) % n;
        if i == n / 2 {
            writeln!(
                text,
                "function c{i}(x)\n    x[1] = 0.0\n    c{next}(x)\nend"
            )
            .unwrap();
        } else {
            writeln!(text, "c{i}(x) = c{next}(x)").unwrap();
        }
    }
    text.push_str("gradient(c0, rand(3))\n");
    let p = Project::new(&[("src/cycle.jl", &text)]);
    let run = check(&p);
    assert_single_finding(&run);
    row(
        "call graph with a 10,000-function cycle",
        "terminates; one finding, exit 1",
        &run,
    );
}

#[test]
fn hundred_thousand_entry_points() {
    let n = 100_000;
    let mut text = String::from(
        "using Zygote\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\nfunction train(xs)\n",
    );
    for i in 0..n {
        writeln!(text, "    g{i} = gradient(f, xs)").unwrap();
    }
    text.push_str("end\n");
    let p = Project::new(&[("src/entries.jl", &text)]);
    let run = check(&p);
    // One finding for the one site, however many entries reach it.
    assert_single_finding(&run);
    row(
        "100,000 entry points",
        "one finding for the one site, exit 1",
        &run,
    );
}

#[test]
fn many_functors_and_model_calls_keep_the_call_graph_linear() {
    // Each `model(x)` runs the call method of the layer that flows to it from its entry;
    // the graph stays linear in the calls and layers (no call is linked to every layer).
    let layers = 2_000;
    let calls = 2_000;
    let mut text = String::from("using Zygote\n");
    for i in 0..layers {
        writeln!(text, "struct L{i}; w; end\n(m::L{i})(x) = m.w .* x").unwrap();
    }
    writeln!(
        text,
        "struct Bad; w; end\nfunction (m::Bad)(x)\n    x[1] = 0.0\n    x\nend"
    )
    .unwrap();
    for i in 0..calls {
        writeln!(
            text,
            "loss{i}(model, x) = sum(model(x))\ngradient(m -> loss{i}(m, ones(2)), {}(1.0))",
            if i + 1 == calls {
                "Bad".to_string()
            } else {
                format!("L{}", i % layers)
            }
        )
        .unwrap();
    }
    let p = Project::new(&[("src/model.jl", &text)]);
    let a = p.analyze();
    let edges = a.graph.graph.edge_count();
    assert!(
        edges < 10 * (layers + calls),
        "{edges} edges for {layers} layers and {calls} model calls"
    );
    assert!(
        a.diagnostics.iter().any(|d| d.rule == "index-assignment"),
        "the mutating layer is reached through the model call it flows to"
    );
    assert_eq!(
        a.diagnostics.len(),
        1,
        "only the layer that flows there: {:?}",
        a.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

#[test]
fn config_that_is_not_toml() {
    let p = project_with(&[("adlint.toml", b"select = [index-assignment\n".to_vec())]);
    let run = check(&p);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("adlint.toml:1:"), "{}", run.stderr);
    row(
        "config file that is not TOML",
        "located error, exit 2",
        &run,
    );
    // A device given as the config was read forever; a FIFO waited for a writer.
    let run = guarded(&["check", ".", "--config", "/dev/zero"], p.dir.path(), None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read the config: not a regular file (a device)"),
        "{}",
        run.stderr
    );
}

// --- No data lost under `--fix` -------------------------------------------------------

fn fixable() -> (Project, String) {
    let before = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fix/safe_copy/before.jl"),
    )
    .unwrap();
    (Project::new(&[("main.jl", &before)]), before)
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "main.jl" && n != "Project.toml")
        .collect()
}

#[test]
fn fix_refuses_a_read_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let (p, before) = fixable();
    std::fs::set_permissions(p.path("main.jl"), std::fs::Permissions::from_mode(0o444)).unwrap();
    // Run as root too: the refusal must not depend on the kernel stopping the write.
    let run = guarded(&["check", ".", "--fix"], p.dir.path(), None);
    assert!(
        run.stderr.contains("main.jl not fixed: it is read-only"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), before);
    assert!(leftovers(p.dir.path()).is_empty());
    // The summary counts what was written, and the findings are those still on disk.
    assert!(run.stderr.contains("Fixed 0 findings"), "{}", run.stderr);
    assert!(!run.stderr.contains("Fixed 1 "), "{}", run.stderr);
    row(
        "`--fix` on a read-only file",
        "refused with a warning; file unchanged",
        &run,
    );
}

#[test]
fn fix_refuses_a_file_with_several_hard_links() {
    let (p, before) = fixable();
    let other = p.dir.path().join("other-name.jl.bak");
    std::fs::hard_link(p.path("main.jl"), &other).unwrap();
    let run = guarded(&["check", "main.jl", "--fix"], p.dir.path(), None);
    assert!(
        run.stderr
            .contains("main.jl not fixed: it has 2 hard links"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Fixed 0 findings"), "{}", run.stderr);
    // Both names keep the same, old text.
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), before);
    row(
        "`--fix` on a file with two hard links",
        "refused with a warning; both names unchanged",
        &run,
    );
}

#[test]
fn fix_never_writes_a_file_a_link_leads_outside_the_package() {
    let (p, before) = fixable();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("elsewhere.jl");
    std::fs::write(&target, &before).unwrap();
    std::fs::create_dir_all(p.path("src")).unwrap();
    std::os::unix::fs::symlink(&target, p.path("src/linked.jl")).unwrap();
    let run = guarded(&["check", "src/linked.jl", "--fix"], p.dir.path(), None);
    assert!(
        run.stderr
            .contains("not fixed: it is outside the workspace root"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Fixed 0 findings"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
    row(
        "`--fix` on a link to a file outside the package",
        "refused with a warning; the file unchanged",
        &run,
    );
}

#[test]
fn fix_keeps_the_owner_group_and_mode_of_the_file_it_replaces() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // Only root can give a file to another user (and replace it keeping that user).
    if unsafe { libc::getuid() } != 0 {
        eprintln!("not root: the ownership part of this test needs root");
        return;
    }
    let (p, before) = fixable();
    let path = p.path("main.jl");
    std::os::unix::fs::chown(&path, Some(65534), Some(65533)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = guarded(&["check", ".", "--fix"], p.dir.path(), None);
    assert!(run.stderr.contains("Fixed 1 finding"), "{}", run.stderr);
    let after = std::fs::metadata(&path).unwrap();
    assert_ne!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!((after.uid(), after.gid()), (65534, 65533));
    assert_eq!(after.permissions().mode() & 0o7777, 0o640);
}

#[test]
fn fix_skips_a_file_changed_since_it_was_read() {
    let (p, before) = fixable();
    let path = p.path("main.jl");
    let edited = format!("{before}\n# edited by the user meanwhile\n");
    std::fs::write(&path, &edited).unwrap();
    assert_eq!(
        adlint::fix::write_atomic(&path, &before, "fixed text"),
        Err("it changed on disk since it was read".to_string())
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
}

#[test]
fn fix_on_a_full_disk_leaves_the_original() {
    let (p, before) = fixable();
    let path = p.path("main.jl");
    // Half the bytes reach the temporary file, then the disk is full.
    let mut full_disk = |f: &mut std::fs::File, b: &[u8]| {
        std::io::Write::write_all(f, &b[..b.len() / 2])?;
        Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
    };
    let got = adlint::fix::write_atomic_with(&path, &before, "fixed text", &mut full_disk);
    let err = got.expect_err("the write fails");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert!(
        leftovers(p.dir.path()).is_empty(),
        "{:?}",
        leftovers(p.dir.path())
    );
}

#[test]
fn control_characters_in_names_and_code_cannot_forge_output() {
    // A file named with ESC and a newline (a colour code, then what looks like a second
    // concise line), and code with an escape sequence in a comment: no output format
    // prints a raw control character, each finding stays on its own line, and a
    // backslash in a name is kept.
    let code = "using Zygote\nfunction g(x)\n    x[1] = 0.0  # \u{1b}[2J\n    sum(x)\nend\ngradient(g, rand(3))\n";
    let p = project_with(&[
        (
            "src/a\u{1b}[31mred\nsrc/main.jl:1:1: forged.jl",
            code.as_bytes().to_vec(),
        ),
        ("src/back\\slash.jl", code.as_bytes().to_vec()),
    ]);
    for format in ["concise", "github", "full"] {
        let run = guarded(
            &["check", ".", "--output-format", format],
            p.dir.path(),
            None,
        );
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        let printed = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !printed
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{format}: {printed:?}"
        );
        assert!(
            run.stdout.contains("back\\slash.jl"),
            "{format}: {}",
            run.stdout
        );
        if format != "full" {
            // One line per finding: the good file's, and one for each hostile file.
            assert_eq!(run.stdout.lines().count(), 3, "{format}: {}", run.stdout);
            let name = match format {
                "github" => "a\\u{1b}[31mred%0Asrc/main.jl",
                _ => "a\\u{1b}[31mred\\nsrc/main.jl",
            };
            assert!(run.stdout.contains(name), "{format}: {}", run.stdout);
        }
    }
}

#[test]
fn every_skipped_input_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("bin/data.jl"), b"\x00\x01\x02binary").unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/readme.txt"), "notes\n").unwrap();
    // A folder whose only file is skipped: the reason, the JSON all the same, and exit 2
    // (no input file could be read).
    let run = guarded(&["check", "bin", "--output-format", "json"], root, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no input file could be read"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("skipped bin/data.jl: binary file"),
        "{}",
        run.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(json["summary"]["files"], 0);
    // The same file named on the command line: an error that says why (exit 2).
    let run = guarded(&["check", "bin/data.jl"], root, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("bin/data.jl: binary file"),
        "{}",
        run.stderr
    );
    // A device is no source.
    let run = guarded(&["check", "/dev/null"], root, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a regular file or a folder"),
        "{}",
        run.stderr
    );
    // In a folder, a `.jl` that is a FIFO (opening it would wait for a writer), a link to
    // a device or to nothing is skipped with what it is; a link to a file is read.
    std::fs::create_dir_all(root.join("odd")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("odd/pipe.jl"))
        .status()
        .is_ok_and(|s| s.success());
    std::os::unix::fs::symlink("/dev/zero", root.join("odd/zero.jl")).unwrap();
    std::os::unix::fs::symlink("nowhere.jl", root.join("odd/dangling.jl")).unwrap();
    std::fs::write(
        root.join("model.jl"),
        "using Zygote\nf(x) = (x[1] = 1; sum(x))\ngradient(f, [1.0])\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("model.jl"), root.join("odd/linked.jl")).unwrap();
    let run = guarded(&["check", "odd", "--output-format", "concise"], root, None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("model.jl:2:9: index-assignment"),
        "{}",
        run.stdout
    );
    if fifo {
        let why = "skipped odd/pipe.jl: not a regular file (a FIFO)";
        assert!(run.stderr.contains(why), "{}", run.stderr);
    }
    let why = "skipped odd/zero.jl: not a regular file (a device)";
    assert!(run.stderr.contains(why), "{}", run.stderr);
    assert!(
        run.stderr.contains("skipped odd/dangling.jl: cannot read"),
        "{}",
        run.stderr
    );
    // A folder without Julia files warns.
    let run = guarded(&["check", "docs"], root, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("no Julia files (`*.jl`) found in docs"),
        "{}",
        run.stderr
    );
}

#[test]
fn old_mac_line_endings_are_analysed() {
    // Lines ended by `\r` alone: parsed as lines, and the finding is on its line.
    let code =
        "using Zygote\rfunction f(x)\r    x[1] = 0.0\r    sum(x)\rend\rgradient(f, rand(3))\r";
    let p = project_with(&[("src/cr.jl", code.as_bytes().to_vec())]);
    let run = check(&p);
    assert!(
        run.stdout.contains("src/cr.jl:3:5: index-assignment"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("parse"), "{}", run.stderr);
}

#[test]
fn a_name_of_two_hundred_thousand_characters_is_cut_where_it_is_echoed() {
    let n = "v".repeat(200_000);
    let code = format!(
        "using Zygote\nfunction f(x)\n    {n} = similar(x)\n    {n}[1] = 1.0\n    return sum({n})\nend\ngradient(f, [1.0])\n"
    );
    let p = project_with(&[("long.jl", code.into_bytes())]);
    let run = guarded(
        &["check", ".", "--output-format", "concise"],
        p.dir.path(),
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("v…`"), "{}", &run.stdout[..300]);
    assert!(run.stdout.len() < 2_000, "{} bytes", run.stdout.len());
    let run = guarded(
        &["check", ".", "--output-format", "json"],
        p.dir.path(),
        None,
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    let message = json["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.chars().count() < 1_000, "{message}");
    // The call graph's labels too.
    let fname = "g".repeat(100_000);
    let code = format!(
        "using Zygote\nfunction {fname}(x)\n    x[1] = 1.0\n    return sum(x)\nend\ngradient({fname}, [1.0])\n"
    );
    let p = project_with(&[("longf.jl", code.into_bytes())]);
    let run = guarded(&["graph", "."], p.dir.path(), None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.len() < 5_000, "{} bytes", run.stdout.len());
}

#[test]
fn an_output_file_that_is_no_regular_file_is_written_into_not_replaced() {
    // `adlint graph -o /dev/null` renamed a regular file over the device. A FIFO stands in
    // for it here: it stays a FIFO, and its reader gets the output.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("out.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    adlint::fix::write_output(&fifo, b"digraph {}\n").unwrap();
    assert_eq!(reader.join().unwrap(), b"digraph {}\n");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // Through a link, the file it leads to is replaced and the link kept.
    let target = dir.path().join("graph.dot");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.dot");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    adlint::fix::write_output(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
}

/// A folder of the package that is a link to one outside it, named with or without a
/// trailing slash: its files are analysed and reported, and `--fix` writes none of them
/// (with the slash, the system looked through the link and the root was found from its
/// target, which was then written).
#[test]
fn fix_never_writes_a_folder_a_link_leads_outside_the_package() {
    let (p, before) = fixable();
    std::fs::remove_file(p.path("main.jl")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("src")).unwrap();
    let target = outside.path().join("src/elsewhere.jl");
    std::fs::write(&target, &before).unwrap();
    std::os::unix::fs::symlink(outside.path().join("src"), p.path("src")).unwrap();
    for named in ["src/", "src", "./src/"] {
        let run = guarded(
            &["check", named, "--fix", "--output-format", "concise"],
            p.dir.path(),
            None,
        );
        assert!(
            run.stderr
                .contains("not fixed: it is outside the workspace root"),
            "{named}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("Fixed 0 findings"), "{}", run.stderr);
        assert!(!run.stderr.contains("no Julia files"), "{}", run.stderr);
        assert!(
            run.stdout.contains("elsewhere.jl"),
            "{named}: {}",
            run.stdout
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), before, "{named}");
    }
}

/// Beyond the findings: `adlint confirm`'s report, the warnings for skipped files, an
/// unknown rule and a config value echo names from the user's files and arguments; none
/// prints a raw control character (a file name with ESC and a newline forged a `confirm`
/// result line and coloured the terminal).
#[test]
fn control_characters_in_confirm_skipped_files_and_errors_are_visible() {
    let code =
        "using Zygote\nf(x) = sum(abs2, x)\ngradient(f, [1.0, 2.0])\nerror(\"\u{1b}[2J wiped\")\n";
    let forged = "e\u{1b}]0;T\u{7}\u{1b}[31m\nx.jl";
    let p = project_with(&[
        (forged, code.as_bytes().to_vec()),
        ("bin\u{1b}[31m\n.jl", b"\x00\x01binary".to_vec()),
    ]);
    let no_raw_controls = |what: &str, run: &Run| {
        let printed = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !printed
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{what}: {printed:?}"
        );
    };
    let run = guarded(&["confirm", forged], p.dir.path(), None);
    no_raw_controls("confirm", &run);
    assert!(run.stdout.contains("gradient: ok"), "{}", run.stdout);
    assert!(run.stdout.contains("\\u{1b}[2J wiped"), "{}", run.stdout);
    // Each result line starts with the (escaped) file name: none is forged.
    assert!(
        (run.stdout.lines())
            .filter(|l| !l.starts_with(' ') && !l.starts_with("the program stopped: "))
            .all(|l| l.starts_with("e\\u{1b}]0;T\\u{7}\\u{1b}[31m\\nx.jl:")),
        "{}",
        run.stdout
    );
    let run = guarded(&["check", "."], p.dir.path(), None);
    no_raw_controls("check", &run);
    assert!(
        run.stderr
            .contains("skipped bin\\u{1b}[31m\\n.jl: binary file"),
        "{}",
        run.stderr
    );
    let run = guarded(&["explain", "zz\u{1b}[31m\nrule"], p.dir.path(), None);
    no_raw_controls("explain", &run);
    std::fs::write(
        p.path("adlint.toml"),
        "[tool]\nconfirm-timeout = \"\\u001b[31mzz\"\n",
    )
    .unwrap();
    let run = guarded(&["check", "."], p.dir.path(), None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    no_raw_controls("config", &run);
    // A package whose name has an escape sequence, read by `adlint knowledge`: neither
    // what it prints nor the table it writes holds the raw character.
    let pkg = tempfile::tempdir().unwrap();
    let dir = pkg.path().join("P\u{1b}[31m");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Project.toml"),
        "name = \"P\\u001b[31mX\"\nuuid = \"8f1c6a3e-0000-4000-8000-000000000001\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/P.jl"),
        "module P\nusing ChainRulesCore\nf(x) = ccall(:g, Cint, ())\nChainRulesCore.rrule(::typeof(f), x) = (f(x), d -> (NoTangent(), d))\nend\n",
    )
    .unwrap();
    let out = pkg.path().join("table.tsv");
    let run = guarded(
        &[
            "knowledge",
            pkg.path().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        pkg.path(),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    no_raw_controls("knowledge", &run);
    assert!(run.stderr.contains("P\\u{1b}[31mX"), "{}", run.stderr);
    let table = std::fs::read_to_string(&out).unwrap();
    assert!(!table.contains('\u{1b}'), "{table}");
}

/// A gradient of 300 arrays: each array is summarised as Julia does, but together they
/// printed 32 KB on one line of `adlint confirm`'s report; it is cut, saying how long it
/// was.
#[test]
fn confirm_prints_a_large_gradient_cut_short() {
    let code =
        "using Zygote\nxs = ntuple(i -> ones(300), 300)\ngradient(v -> sum(map(sum, v)), xs)\n";
    let p = project_with(&[("big.jl", code.as_bytes().to_vec())]);
    let run = guarded(&["confirm", "big.jl"], p.dir.path(), None);
    assert!(run.stdout.contains("gradient: ok"), "{}", run.stdout);
    let line = (run.stdout.lines())
        .find(|l| l.starts_with("  gradient: "))
        .unwrap();
    assert!(line.chars().count() < 1100, "{} characters", line.len());
    assert!(line.ends_with(" characters in all)"), "{line}");
}
