//! The `adlint` binary: exit codes, output formats, and the JSON contract on a multi-file
//! project (a reviewed snapshot).

use crate::common::{run_adlint as adlint, Project};

fn two_file_project() -> Project {
    Project::new(&[
        (
            "src/model.jl",
            "function g_inner!(x, y)\n    for i in eachindex(x, y)\n        x[i] = 2 * y[i]\n    end\n    return x\nend\n\nfunction g_outer(y)\n    z = similar(y)\n    g_inner!(z, y)\n    return z\nend\n",
        ),
        (
            "src/train.jl",
            "using Zygote\ninclude(\"model.jl\")\n\nloss(y) = sum(g_outer(y))\n\nfunction train()\n    y = rand(3)\n    return Zygote.gradient(loss, y)\nend\n",
        ),
    ])
}

#[test]
fn exit_codes_follow_the_contract() {
    let p = two_file_project();
    let (code, _, _) = adlint(&["check", "."], p.dir.path());
    assert_eq!(code, 1, "findings");
    let (code, _, _) = adlint(&["check", ".", "--exit-zero"], p.dir.path());
    assert_eq!(code, 0, "--exit-zero");
    let clean = Project::new(&[("a.jl", "using Zygote\ngradient(x -> 2x, 1.0)\n")]);
    let (code, _, _) = adlint(&["check", "."], clean.dir.path());
    assert_eq!(code, 0, "no findings");
    let (code, _, err) = adlint(&["check", "does-not-exist"], clean.dir.path());
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = adlint(
        &["check", ".", "--select", "index-asignment"],
        clean.dir.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `index-assignment`"), "{err}");
    let (code, _, _) = adlint(&["check", "--bogus-flag"], clean.dir.path());
    assert_eq!(code, 2);
}

#[test]
fn skipped_files_warn_and_the_run_goes_on() {
    let p = two_file_project();
    std::fs::write(p.path("src/blob.jl"), [0u8, 159, 146, 150]).unwrap();
    std::fs::write(p.path("src/latin1.jl"), b"x = \xe9\n").unwrap();
    let (code, out, err) = adlint(&["check", ".", "--output-format", "json"], p.dir.path());
    assert_eq!(code, 1);
    assert!(err.contains("skipped src/blob.jl: binary file"), "{err}");
    assert!(err.contains("skipped src/latin1.jl: not UTF-8"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["skipped"].as_array().unwrap().len(), 2);
}

#[test]
fn concise_format() {
    let p = two_file_project();
    let (_, out, _) = adlint(&["check", ".", "--output-format", "concise"], p.dir.path());
    assert_eq!(out.lines().count(), 1);
    assert!(
        out.starts_with("src/model.jl:3:9: index-assignment `x[...] = ...` writes into an array"),
        "{out}"
    );
}

#[test]
fn full_format_shows_site_entry_and_chain() {
    let p = two_file_project();
    let (_, out, _) = adlint(&["check", "."], p.dir.path());
    assert!(out.contains("[index-assignment]"), "{out}");
    assert!(out.contains("src/model.jl:3:9"), "{out}");
    assert!(
        out.contains("entry: `Zygote.gradient` differentiates loss"),
        "{out}"
    );
    assert!(out.contains("step 1: calls g_outer"), "{out}");
    assert!(out.contains("step 2: calls g_inner!"), "{out}");
    assert!(
        out.contains("1 error, 0 warnings; 2 files checked"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn json_snapshot_of_a_multi_file_case() {
    let p = two_file_project();
    let (_, out, _) = adlint(&["check", ".", "--output-format", "json"], p.dir.path());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected = serde_json::json!({
        "version": 1,
        "diagnostics": [{
            "rule": "index-assignment",
            "category": "mutation",
            "severity": "error",
            "message": "`x[...] = ...` writes into an array in differentiated code (reached from `Zygote.gradient` at src/train.jl:8): Zygote raises \"Mutating arrays is not supported -- called setindex!(...)\" when the pullback runs; `x` is an array, made by `similar(...)` (line 9)",
            "help": "build the array without writing into it (broadcasting, a comprehension or `map`), or write into a `Zygote.Buffer` and return `copy(buf)`",
            "path": "src/model.jl",
            "start": {"line": 3, "column": 9},
            "end": {"line": 3, "column": 24},
            "entry": {"path": "src/train.jl", "line": 8, "column": 12, "api": "Zygote.gradient", "function": "loss", "backend": "zygote"},
            "entry_count": 1,
            "chain": [
                {"function": "loss", "path": "src/train.jl", "line": 8, "column": 12},
                {"function": "g_outer", "path": "src/train.jl", "line": 4, "column": 15},
                {"function": "g_inner!", "path": "src/model.jl", "line": 10, "column": 5}
            ],
            "related": [{
                "path": "src/model.jl",
                "start": {"line": 9, "column": 5},
                "end": {"line": 9, "column": 19},
                "message": "`x` is allocated here"
            }],
            "fixes": [
            {
                "title": "Add the non-mutating `g_inner(x, y) = reshape([2 * y[i] for i in eachindex(x, y)], size(x))` and call it from differentiated code",
                "applicability": "unsafe",
                "edits": [
                {"path": "src/model.jl", "start": {"line": 6, "column": 4}, "end": {"line": 6, "column": 4},
                 "replacement": "\n\ng_inner(x, y) = reshape([2 * y[i] for i in eachindex(x, y)], size(x))"},
                {"path": "src/model.jl", "start": {"line": 10, "column": 5}, "end": {"line": 10, "column": 19},
                 "replacement": "z = g_inner(z, y)"}
                ]
            },
            {
                "title": "Define a `ChainRulesCore.rrule` for `g_inner!` (skeleton)",
                "applicability": "display-only",
                "edits": [
                {"path": "src/model.jl", "start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 1},
                 "replacement": "import ChainRulesCore\n\n"},
                {"path": "src/model.jl", "start": {"line": 6, "column": 4}, "end": {"line": 6, "column": 4},
                 "replacement": "\n\nfunction ChainRulesCore.rrule(::typeof(g_inner!), x, y)\n    Ω = g_inner!(x, y)\n    function g_inner_pullback(ΔΩ)\n        # adlint: replace each placeholder by the argument's tangent (ΔΩ times ∂Ω/∂arg)\n        ∂x = ChainRulesCore.@not_implemented(\"adlint: tangent of `x` for `g_inner!`\")\n        ∂y = ChainRulesCore.@not_implemented(\"adlint: tangent of `y` for `g_inner!`\")\n        return (ChainRulesCore.NoTangent(), ∂x, ∂y)\n    end\n    return Ω, g_inner_pullback\nend"}
                ]
            }
            ]
        }],
        "summary": {"files": 2, "parse_errors": 0, "skipped": [], "entry_points": 1,
                    "entries_by_backend": {"zygote": 1}, "ambiguous_entries": 0,
                    "expected_failure_entries": 0, "hidden_guesses": 0, "unresolved_calls": 0,
                    "unresolved_names": [],
                    "units": [{"kind": "package", "label": "package Fixture", "files": 2, "entry_points": 1}],
                    "diagnostics": 1}
    });
    assert_eq!(v, expected, "{}", serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn rules_and_explain() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, _) = adlint(&["rules"], tmp.path());
    assert_eq!(code, 0);
    assert!(out.contains("index-assignment"));
    assert!(out.contains("boxed-variable"));
    let (code, out, _) = adlint(&["explain", "try-catch"], tmp.path());
    assert_eq!(code, 0);
    assert!(out.contains("## Why is this bad"));
    let (code, _, err) = adlint(&["explain", "try-cach"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `try-catch`"));
}

#[test]
fn check_without_fix_never_writes() {
    let p = two_file_project();
    let before = std::fs::read(p.path("src/model.jl")).unwrap();
    let _ = adlint(&["check", "."], p.dir.path());
    assert_eq!(std::fs::read(p.path("src/model.jl")).unwrap(), before);
}

/// `check --confirm` runs entry points from the program's top level and, when nothing
/// there reaches them, by calling the function around them: with no arguments when it
/// needs none, else with arguments made from the parameters' types (a small vector of
/// floats for an untyped one), which the detail names; a parameter of a type adlint
/// cannot make leaves the function alone, and says why.
#[test]
fn confirm_calls_the_functions_around_entry_points() {
    let p = Project::new(&[(
        "src/P.jl",
        "using Zygote\n\nfunction train(; steps = 2)\n    x = [1.0, 2.0]\n    return Zygote.gradient(v -> (v[1] = 0.0; sum(v)), x)\nend\n\nfunction fit(x)\n    return Zygote.gradient(v -> (v[2] = 0.0; sum(v)), x)\nend\n\nstruct Model\n    w\nend\n\nfunction fit_model(m::Model, n::Int)\n    return Zygote.gradient(v -> (v[2] = 0.0; sum(v) * n), m.w)\nend\n",
    )]);
    let (code, status, out) = confirmations(&p);
    assert_eq!(code, 1, "{out}");
    assert_eq!(status.len(), 3, "{out}");
    assert_eq!(status[0].0, 5, "{out}");
    assert_eq!(status[0].1, "confirmed", "{out}");
    assert!(status[0].2.contains("Mutating arrays"), "{out}");
    assert!(status[0].2.ends_with("(run as `train()`)"), "{out}");
    assert_eq!(status[1].0, 9, "{out}");
    assert_eq!(status[1].1, "confirmed", "{out}");
    assert!(
        status[1]
            .2
            .contains("(run as `fit([0.5, -0.25, 1.0])`, with arguments adlint chose"),
        "{out}"
    );
    assert_eq!(status[2].0, 17, "{out}");
    assert_eq!(status[2].1, "not-run", "{out}");
    assert!(
        status[2]
            .2
            .contains("`fit_model` needs `m` of type `Model`, which adlint does not make up"),
        "{out}"
    );

    // The bundled example: its entry point is inside `train_model(; epochs = 10)`.
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (_, out, err) = adlint(
        &["check", "--confirm", "--output-format", "json", "."],
        &examples,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ds = v["diagnostics"].as_array().unwrap();
    assert_eq!(ds.len(), 3, "{out}{err}");
    for d in ds {
        assert_eq!(d["confirmation"]["status"], "confirmed", "{d}");
    }
}

/// A failure that spans many lines confirms the finding on its first line only: the
/// `Threads.@threads` loop fails at its foreign calls, which says nothing about the boxed
/// variable inside its body.
#[test]
fn confirm_attributes_a_long_failing_construct_to_its_first_line() {
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\nfunction f1(x)\n    Threads.@threads for i = 1:length(x)\n        x = x .+ 1\n    end\n    return sum(x)\nend\n\ngradient(f1, [1.0, 2.0])\n",
    )]);
    let (_, status, out) = confirmations(&p);
    let by_line: Vec<(u64, String)> = status.into_iter().map(|(l, s, _)| (l, s)).collect();
    assert!(by_line.contains(&(4, "confirmed".to_string())), "{out}");
    assert!(
        by_line
            .iter()
            .any(|(l, s)| *l == 5 && s == "not-reproduced"),
        "{out}"
    );
}

/// `adlint confirm FILE` loads the package around the file (here `predict` comes from
/// another file of the package), runs the file's entry points, says each repeated failure
/// once with its count, and says why each entry point that did not run did not.
#[test]
fn confirm_file_loads_its_package_and_says_why_entries_did_not_run() {
    let p = Project::new(&[
        (
            "Project.toml",
            "name = \"P\"\nuuid = \"12345678-1234-1234-1234-123456789abc\"\n",
        ),
        (
            "src/P.jl",
            "module P\nusing Zygote\ninclude(\"model.jl\")\ninclude(\"loss.jl\")\nend\n",
        ),
        ("src/model.jl", "predict(w, x) = w .* x\n"),
        (
            "src/loss.jl",
            "function train()\n    x = [1.0, 2.0, 3.0, 4.0, 5.0]\n    return gradient(w -> begin\n        y = zeros(5)\n        z = zeros(5)\n        for i in 1:5\n            y[i] = predict(w[i], x[i])\n            z[i] = 2 * y[i]\n        end\n        sum(z)\n    end, ones(5))\nend\n\nstruct Model\n    w\nend\n\nfit(m::Model) = gradient(w -> sum(predict(w, w)), m.w)\n",
        ),
    ]);
    let (code, out, err) = adlint(&["confirm", "src/loss.jl"], p.dir.path());
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out,
        "src/loss.jl:3: run as `train()`\nsrc/loss.jl:3: gradient: Zygote fails\n  Mutating arrays is not supported -- called setindex!(Vector{Float64}, ...) at src/loss.jl:8\n  also fails: Mutating arrays is not supported -- called setindex!(Vector{Float64}, ...) at src/loss.jl:7 (5 times)\nsrc/loss.jl:18: Zygote.gradient: the entry point did not run: `fit` needs `m` of type `Model`, which adlint does not make up\n",
        "{err}"
    );
    // One entry by its line.
    let (_, out, _) = adlint(&["confirm", "src/loss.jl", "--entry", "18"], p.dir.path());
    assert!(
        out.starts_with("src/loss.jl:18: Zygote.gradient: the entry point did not run"),
        "{out}"
    );
}

/// The limitations page's `safe_sqrt`: `gradient(safe_sqrt, 4.)` runs, and the pullback at
/// -1 fails in the catch block. The finding names the first entry point; it is confirmed by
/// the run of the other, which the detail says.
#[test]
fn confirm_uses_the_run_of_any_entry_point_that_reaches_the_site() {
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\nfunction safe_sqrt(x)\n    try\n        sqrt(x)\n    catch\n        0.\n    end\nend\ngradient(safe_sqrt, 4.)\nval, pull = pullback(safe_sqrt, -1.)\npull(1.)\n",
    )]);
    let (_, status, out) = confirmations(&p);
    assert_eq!(status.len(), 1, "{out}");
    let (line, state, detail) = &status[0];
    assert_eq!((*line, state.as_str()), (3, "confirmed"), "{out}");
    assert!(
        detail.starts_with("Can't differentiate function execution in catch block")
            && detail.ends_with("(from the entry point at main.jl:10)"),
        "{detail}"
    );
}

/// Each program unit runs on its own under `check --confirm`, as Julia runs it: the
/// workspace ran as one program, so a `docs/make.jl` that stopped (`makedocs` is not
/// modelled) left every later entry point not run, and two scripts' `loss` overwrote each
/// other (`b.jl`'s harmless `loss` made `a.jl`'s finding not reproduced).
#[test]
fn check_confirm_runs_each_program_unit_on_its_own() {
    let p = Project::new(&[
        ("docs/make.jl", "using Documenter\nmakedocs(sitename = \"P\")\n"),
        (
            "scripts/a.jl",
            "using Zygote\nfunction loss(x)\n    x[1] = 0.0\n    return sum(x)\nend\ntrain() = gradient(loss, [1.0, 2.0])\n",
        ),
        (
            "scripts/b.jl",
            "using Zygote\nloss(x) = sum(x)\nfunction g(y)\n    y[1] = 1.0\n    return loss(y)\nend\ngradient(g, [1.0])\n",
        ),
    ]);
    let (_, status, out) = confirmations(&p);
    assert_eq!(status.len(), 2, "{out}");
    for (line, state, detail) in &status {
        assert_eq!(state, "confirmed", "line {line}: {detail}\n{out}");
    }
    assert!(
        !out.contains("note: the reference interpreter stopped"),
        "{out}"
    );
    // A program that stops says which one it was, and stops only its own entry points.
    let p = Project::new(&[
        (
            "a.jl",
            "using Zygote\nfunction loss(x)\n    x[1] = 0.0\n    return sum(x)\nend\ngradient(loss, [1.0, 2.0])\n",
        ),
        (
            "b.jl",
            "using Zygote\nmakedocs()\nfunction g(y)\n    y[1] = 1.0\n    return sum(y)\nend\ngradient(g, [1.0])\n",
        ),
    ]);
    let (_, status, out) = confirmations(&p);
    let states: Vec<&str> = status.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(states, ["confirmed", "not-run"], "{out}");
    assert!(
        out.contains("note: the reference interpreter stopped running b.jl: unsupported in the reference interpreter: name `makedocs`"),
        "{out}"
    );
}

/// `adlint rules` lines its columns up for every row.
#[test]
fn rules_table_is_aligned() {
    let (code, out, _) = adlint(&["rules"], std::path::Path::new("."));
    assert_eq!(code, 0);
    let starts: Vec<usize> = (out.lines())
        .map(|l| {
            let name_end = l.find(' ').unwrap();
            name_end + l[name_end..].find(|c: char| c != ' ').unwrap()
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{out}");
}

/// In the full format every block's header names the lines it shows (a second block in the
/// site's own file names its own line, not the site's), `info` findings say `Info`, and the
/// summary counts the files checked.
#[test]
fn full_output_headers_name_their_own_lines() {
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\nfunction f(x)\n    out = zeros(3)\n    n = 0\n    for i in 1:3\n        n += 1\n    end\n    out[1] = x[1]\n    return sum(out) + n\nend\ngradient(f, [1.0, 2.0, 3.0])\n",
    )]);
    let (_, out, err) = adlint(&["check", "--isolated", "."], p.dir.path());
    let all = format!("{out}{err}");
    assert!(all.contains("╭─[ main.jl:8:5 ]"), "{all}");
    assert!(all.contains("├─[ main.jl:3:5 ]"), "{all}");
    assert!(all.contains("[type-changing-rebinding] Info: "), "{all}");
    assert!(!all.contains("Advice") && !all.contains('\u{1b}'), "{all}");
    assert!(all.contains("; 1 file checked ("), "{all}");
}

/// Labels in a file other than the site's, after multi-byte names: the header and the
/// excerpt point at the right column (ariadne reads offsets as chars).
#[test]
fn full_output_counts_columns_in_chars_across_files() {
    let p = Project::new(&[
        (
            "main.jl",
            "using Zygote\ninclude(\"h.jl\")\nβγ = 1.0; loss(x) = βγ * h!(x)\ngradient(loss, [1.0, 2.0])\n",
        ),
        ("h.jl", "function h!(x)\n    x[1] = 0.0\n    return sum(x)\nend\n"),
    ]);
    let (_, out, err) = adlint(&["check", "--isolated", "."], p.dir.path());
    let all = format!("{out}{err}");
    assert!(all.contains("╭─[ h.jl:2:5 ]"), "{all}");
    // `h!(x)` is the 26th character of line 3 (the 28th byte).
    assert!(all.contains("├─[ main.jl:3:26 ]"), "{all}");
}

/// `check --confirm` in JSON: the exit code, each finding's (line, confirmation status,
/// detail), and the whole output for messages.
fn confirmations(p: &Project) -> (i32, Vec<(u64, String, String)>, String) {
    let (code, out, err) = adlint(
        &["check", "--confirm", "--output-format", "json", "."],
        p.dir.path(),
    );
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let status = (v["diagnostics"].as_array().unwrap().iter())
        .map(|d| {
            let text = |k: &str| d["confirmation"][k].as_str().unwrap_or("").to_string();
            (
                d["start"]["line"].as_u64().unwrap_or_default(),
                text("status"),
                text("detail"),
            )
        })
        .collect();
    (code, status, format!("{out}{err}"))
}

#[test]
fn the_summary_names_where_the_parser_gave_up() {
    let p = Project::new(&[
        ("ok.jl", "f(x) = 2x\n"),
        ("broken.jl", "using Zygote\ng(x) = 2x\nh(x) = (((x\n"),
    ]);
    let (code, out, err) = adlint(&["check", "."], p.dir.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("1 file with code adlint could not parse, analysed around it: broken.jl:3:"),
        "{out}"
    );
    let clean = Project::new(&[("ok.jl", "f(x) = 2x\n")]);
    let (_, out, _) = adlint(&["check", "."], clean.dir.path());
    assert!(!out.contains("could not parse"), "{out}");
}

#[test]
fn a_reader_that_goes_away_ends_the_run_quietly() {
    // `adlint check | head -c 1`: the pipe closes after the first byte; writing more is
    // EPIPE, which is no error to report.
    let text: String = (0..400)
        .map(|i| format!("f{i}(x) = (x[1] = 1; sum(x))\ngradient(f{i}, [1.0])\n"))
        .collect();
    let p = Project::new(&[("a.jl", &format!("using Zygote\n{text}"))]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_adlint"))
        .args(["check", "."])
        .current_dir(p.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    use std::io::Read;
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // Dropped: the read end is closed.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("Broken pipe") && !err.contains("panicked"),
        "{err}"
    );
}
