//! `--fix --verify`: a fix is applied only when the reference interpreter shows that it
//! makes nothing worse (no new failure, forward or reverse; the same values; gradients that
//! match finite differences of the original code) and that the entry point its finding is
//! reached from now runs and keeps its gradient. Every refused fix says why.

use crate::common::{run_adlint as adlint, Project};
use adlint::refad::confirm::GradientReference;
use std::collections::BTreeMap;

/// The original program `main.jl` with `body` as `loss(x)` (and `input` as its argument);
/// returns the analysis, the reference, and a function from a new body to (what is worse,
/// whether the fixed run proves the entry on line 3). The program has a finding of its own
/// after `loss` (the reference runs the programs that have findings), which no body changes.
fn judge(body: &str, input: &str) -> impl Fn(&str) -> (Option<String>, Result<usize, String>) {
    let input = input.to_string();
    let program = move |b: &str| {
        format!("using Zygote\nloss(x) = {b}\ngradient(loss, {input})\nh(y) = (y[1] = 0.0; sum(y))\ngradient(h, [1.0])\n")
    };
    let p = Project::new(&[("main.jl", &program(body))]);
    let a = p.analyze();
    let reference = GradientReference::new(&a);
    let file = (a.workspace.files.iter())
        .position(|f| f.path.ends_with("main.jl"))
        .expect("main.jl is analysed") as u32;
    move |b: &str| {
        let _keep = &p;
        let current = reference.run_fixed(&a, &BTreeMap::new());
        let fixed = reference.run_fixed(&a, &BTreeMap::from([(file, program(b))]));
        (
            reference.worse(&a, &fixed),
            reference.proves(&a, &current, &fixed, Some((file, 3))),
        )
    }
}

#[test]
fn a_fix_is_held_to_the_values_and_finite_differences_of_the_original() {
    let with = judge("sum(x .* x)", "[1.0, 2.0]");
    assert_eq!(with("sum(x .^ 2)"), (None, Ok(1)));
    // The same value with half the gradient.
    let (worse, _) = with("sum(x .* Zygote.ignore_derivatives(x))");
    let worse = worse.expect("a wrong gradient is worse");
    assert!(
        worse.contains("main.jl:3: the gradient after the fix differs from finite differences of the original code (component 1: 1 instead of 2"),
        "{worse}"
    );
    let (worse, _) = with("sum(x)");
    assert!(worse
        .unwrap()
        .contains("computes 3 after the fix instead of 5"));
    let (worse, _) = with("(y = copy(x); y[1] = 0.0; sum(y .* y) + x[1]^2)");
    assert!(worse
        .unwrap()
        .contains("ran before the fix and fails after it: Mutating arrays is not supported"));
}

#[test]
fn a_fix_whose_result_throws_in_the_forward_pass_is_worse() {
    // The original fails in its reverse pass (the finding); the "fixed" one throws before.
    let with = judge("(y = zeros(2); y[1] = x[1]; sum(y .* x))", "[1.0, 2.0]");
    let (worse, proof) = with("(y = zeros(1); y[2] = x[1]; sum(y))");
    let worse = worse.expect("a forward-pass error is worse");
    assert!(
        worse.contains("ran before the fix and does not after it: the program threw in the forward pass: BoundsError"),
        "{worse}"
    );
    assert!(proof.is_err());
    // A new failing site is worse too, even though the entry failed before.
    let (worse, _) = with("(y = zeros(2); y[1] = x[1]; push!(y, 1.0); sum(y[1:2] .* x))");
    let worse = worse.expect("a new failing site is worse");
    assert!(worse.contains("which did not fail before"), "{worse}");
}

#[test]
fn a_fix_that_leaves_its_entry_failing_is_not_proven() {
    let with = judge(
        "(y = zeros(2); y[1] = x[1]; w = zeros(2); w[2] = x[2]; sum(y) + sum(w))",
        "[1.0, 2.0]",
    );
    let (worse, proof) = with("(y = [x[1], 0.0]; w = zeros(2); w[2] = x[2]; sum(y) + sum(w))");
    assert_eq!(worse, None);
    let why = proof.expect_err("the entry still fails");
    assert!(
        why.contains("main.jl:3 still fails after it: Mutating arrays is not supported"),
        "{why}"
    );
    assert_eq!(
        with("(y = [x[1], 0.0]; w = [0.0, x[2]]; sum(y) + sum(w))"),
        (None, Ok(1))
    );
}

#[test]
fn finite_differences_replay_the_random_stream() {
    // The loss draws random numbers; every finite-difference evaluation sees the same
    // draws, so the reference gradient is the draws themselves.
    let with = judge(
        "(z = zeros(3); for i in 1:3; z[i] = x[i] * randn(); end; sum(z))",
        "[1.0, 2.0, 3.0]",
    );
    assert_eq!(with("sum(x .* [randn() for _ in 1:3])"), (None, Ok(1)));
}

#[test]
fn large_inputs_are_checked_along_random_directions() {
    let with = judge("sum(x .* x)", "collect(1.0:100.0)");
    assert_eq!(with("sum(x .^ 2)"), (None, Ok(1)));
    let (worse, _) = with("sum(x .* Zygote.ignore_derivatives(x))");
    let worse = worse.expect("a wrong gradient over 100 inputs is caught");
    assert!(worse.contains("random direction"), "{worse}");
}

const LOOPS: &str = "using Zygote\n\nfunction loss(x::Vector{Float64})\n    z = zeros(length(x))\n    for i in 1:length(x)\n        z[i] = x[i]^2\n    end\n    return sum(z)\nend\n\ngradient(loss, [1.0, 2.0, 3.0])\n";

#[test]
fn a_verified_fix_is_applied_and_said_so() {
    let p = Project::new(&[("main.jl", LOOPS)]);
    let (code, _, err) = adlint(
        &["check", "--fix", "--unsafe-fixes", "--verify", "."],
        p.dir.path(),
    );
    let text = std::fs::read_to_string(p.path("main.jl")).unwrap();
    assert!(!text.contains("z[i] ="), "{text}\n{err}");
    assert!(
        err.contains("Verified in the reference interpreter"),
        "{err}"
    );
    assert!(!err.contains("not applied"), "{err}");
    assert_eq!(code, 0, "{err}");
}

/// Each program is held to its own run: a `docs/make.jl` that stops in the interpreter
/// made every fix of the workspace "not applied: the original program stopped", and a
/// script's fix was judged by a run that held every other script too.
#[test]
fn a_fix_is_verified_by_the_program_of_its_own_unit() {
    let p = Project::new(&[
        (
            "docs/make.jl",
            "using Documenter\nmakedocs(sitename = \"P\")\n",
        ),
        ("scripts/main.jl", LOOPS),
        (
            "scripts/other.jl",
            "using Zygote\nloss(x) = sum(x)\ng(y) = (y[1] = 0.0; loss(y))\ngradient(g, [1.0])\n",
        ),
    ]);
    let (_, _, err) = adlint(
        &["check", "--fix", "--unsafe-fixes", "--verify", "."],
        p.dir.path(),
    );
    let text = std::fs::read_to_string(p.path("scripts/main.jl")).unwrap();
    assert!(!text.contains("z[i] ="), "{text}\n{err}");
    assert!(!err.contains("not applied"), "{err}");
}

#[test]
fn a_fix_that_cannot_be_verified_is_not_applied_and_says_why() {
    let text = LOOPS.replace("[1.0, 2.0, 3.0]", "load_data()");
    let p = Project::new(&[("main.jl", &text)]);
    let (_, _, err) = adlint(
        &["check", "--fix", "--unsafe-fixes", "--verify", "."],
        p.dir.path(),
    );
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), text);
    assert!(
        err.contains("not applied: --verify cannot show that it keeps the program: its entry point at main.jl:11 does not run: the original program stopped: unsupported in the reference interpreter: name `load_data`"),
        "{err}"
    );
    assert!(!err.contains("Verified"), "{err}");
    let (code, _, err) = adlint(&["check", "--verify", "."], p.dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("--verify checks fixes: use it with --fix or --diff"),
        "{err}"
    );
}

/// `z` aliases `y`, so `scale!(y)` changes what `loss2` returns; the non-mutating variant's
/// call site `y = scale(y)` rebinds `y` and leaves `z` alone.
const ALIAS: &str = "using Zygote\n\nfunction scale!(x)\n    x .= 2 .* x\n    return x\nend\n\nfunction loss2(x)\n    y = copy(x)\n    z = y\n    scale!(y)\n    return sum(z .* x)\nend\n\ngradient(loss2, [1.0, 2.0, 3.0])\n";

#[test]
fn a_fix_that_changes_a_value_is_refused_with_the_numbers() {
    let p = Project::new(&[("alias.jl", ALIAS)]);
    let (_, _, err) = adlint(
        &["check", "--fix", "--unsafe-fixes", "--verify", "."],
        p.dir.path(),
    );
    assert_eq!(
        std::fs::read_to_string(p.path("alias.jl")).unwrap(),
        ALIAS,
        "{err}"
    );
    assert!(
        err.contains("not applied: the reference interpreter shows it changes the program: `gradient` at alias.jl:17 computes 14 after the fix instead of 28"),
        "{err}"
    );
    // Without --verify the same fix is taken.
    let (_, _, err) = adlint(&["check", "--fix", "--unsafe-fixes", "."], p.dir.path());
    let alias = std::fs::read_to_string(p.path("alias.jl")).unwrap();
    assert!(alias.contains("scale(x) = 2 .* x"), "{alias}\n{err}");
}
