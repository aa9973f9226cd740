//! Quick fixes end to end: `check --fix` on copies of the fixtures in `tests/fix/<case>/`
//! (`before.jl` becomes `after.jl`, a reviewed snapshot), the near misses where a fix must
//! not be offered, `--diff`, CRLF files, idempotence, refused fixes, and that nothing is written without `--fix`.

use crate::common::{run_adlint as adlint, Project};
use adlint::diagnostic::{Applicability, Edit, Fix, Location};
use std::path::Path;

fn fixture(case: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fix")
        .join(case)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Run `check --fix` (plus `extra`) on the case's `before.jl` as `main.jl`; check the result
/// against `after.jl`, and that a second run changes nothing.
fn fixes_to_snapshot(case: &str, extra: &[&str]) -> String {
    let p = Project::new(&[("main.jl", &fixture(case, "before.jl"))]);
    let mut args = vec!["check", ".", "--fix", "--exit-zero"];
    args.extend(extra);
    let (code, _, err) = adlint(&args, p.dir.path());
    assert_eq!(code, 0, "{err}");
    let fixed = std::fs::read_to_string(p.path("main.jl")).unwrap();
    assert_eq!(fixed, fixture(case, "after.jl"), "{case}: {err}");
    let (_, _, again) = adlint(&args, p.dir.path());
    assert_eq!(
        std::fs::read_to_string(p.path("main.jl")).unwrap(),
        fixed,
        "{case}: a second run changed the file"
    );
    assert!(again.contains("Fixed 0 findings"), "{again}");
    err
}

#[test]
fn limitations_page_examples() {
    // f! gets `f(x) = 2 .* x`, g_inner! a comprehension twin called from g_outer; the
    // rrule skeletons for jclock are display-only, so the file keeps the foreign calls.
    let err = fixes_to_snapshot("limitations", &["--unsafe-fixes"]);
    assert!(err.contains("Fixed 2 findings (2 remaining)"), "{err}");
}

#[test]
fn allocate_then_fill_loops_and_broadcasts() {
    // `second_effect` and `reads_z` (two writes) remain: their `y` is not known to hold real numbers,
    // so `Zygote.forwarddiff` is not offered (`aliased` says so in its annotation).
    // `z = [y[i] / n for i in eachindex(z)]` re-binds `z` but the comprehension reads it
    // only in what it iterates, before its closure runs: no box, nothing remains. `fill1`'s
    // `y` may be a matrix: its comprehension is reshaped to `size(y)`.
    let err = fixes_to_snapshot("fill_loops", &["--unsafe-fixes"]);
    assert!(err.contains("Fixed 6 findings (3 remaining)"), "{err}");
}

#[test]
fn crlf_files_keep_their_line_endings() {
    fixes_to_snapshot("crlf", &["--unsafe-fixes"]);
    let after = fixture("crlf", "after.jl");
    assert!(after.contains("\r\n") && !after.replace("\r\n", "").contains('\n'));
}

#[test]
fn plain_fix_applies_only_safe_fixes() {
    let err = fixes_to_snapshot("safe_copy", &[]);
    assert!(
        err.contains("Fixed 1 finding (1 remaining; 1 more with --unsafe-fixes)"),
        "{err}"
    );
}

/// The titles of the fixes offered per finding, as `line: title`.
fn offered(text: &str) -> Vec<String> {
    let p = Project::new(&[("main.jl", text)]);
    let a = p.analyze();
    a.diagnostics
        .iter()
        .flat_map(|d| {
            let (line, _) = a.line_col(d.location.file, d.location.span.start);
            d.fixes
                .iter()
                .map(move |f| format!("{line}: {:?} {}", f.applicability, f.title))
        })
        .collect()
}

#[test]
fn near_misses_get_no_rewrite() {
    let near_misses = [
        // Aliased before the write: `w` would keep the old array.
        "function f(a, y)\n    z = similar(y)\n    w = z\n    z .= 2 .* y\n    return sum(w)\nend\n",
        // The loop has a second effect.
        "function f(a, y)\n    z = similar(y)\n    t = 0.0\n    for i in eachindex(y)\n        z[i] = 2 * y[i]\n        t += y[i]\n    end\n    return sum(z) + t\nend\n",
        // The loop reads `z`: a recurrence, not a map.
        "function f(a, y)\n    z = similar(y)\n    z[1] = y[1]\n    for i in 2:length(y)\n        z[i] = z[i-1] + y[i]\n    end\n    return sum(z)\nend\n",
        // Captured by a closure before the write.
        "function f(a, y)\n    z = similar(y)\n    g = () -> sum(z)\n    z .= 2 .* y\n    return g()\nend\n",
        // An inner iterator depends on the outer variable: not a product.
        "function f(a, y)\n    m = zeros(3, 3)\n    for i in 1:3\n        for j in 1:i\n            m[i, j] = y[i] * y[j]\n        end\n    end\n    return sum(m)\nend\n",
        // A comment inside the loop would be lost.
        "function f(a, y)\n    z = similar(y)\n    for i in eachindex(y)\n        # doubled\n        z[i] = 2 * y[i]\n    end\n    return sum(z)\nend\n",
        // `.=` of a scalar: `z = 0.0` would not be an array.
        "function f(a, y)\n    z = similar(y)\n    z .= 0.0\n    return sum(z)\nend\n",
    ];
    for body in near_misses {
        let text = format!("using Zygote\n{body}gradient(y -> f(1, y), rand(3))\n");
        let fixes = offered(&text);
        assert!(
            fixes.iter().all(|f| f.contains("rrule")),
            "{body}\noffered {fixes:?}"
        );
        assert!(!fixes.is_empty(), "the rrule skeleton is always there");
    }
}

#[test]
fn forwarddiff_only_when_the_body_takes_dual_numbers() {
    let ok = "using Zygote\nfunction h(y::AbstractVector{<:Real})\n    z = similar(y)\n    z[1] = y[1]\n    for i in 2:length(y)\n        z[i] = z[i-1] + y[i]\n    end\n    return sum(z)\nend\ngradient(y -> h(y), rand(3))\n";
    assert!(
        offered(ok).contains(
            &"4: Unsafe Let ForwardDiff differentiate `h`: `Zygote.forwarddiff(h, y)` (one forward pass per chunk of at most 12 input elements)".to_string()
        ),
        "{:?}",
        offered(ok)
    );
    let help_of = |text: &str| {
        let p = Project::new(&[("main.jl", text)]);
        let a = p.analyze();
        a.diagnostics[0].help.as_deref().unwrap_or("").to_string()
    };
    let blocked = ok.replace("similar(y)", "zeros(length(y))");
    assert!(!offered(&blocked).iter().any(|f| f.contains("forwarddiff")));
    let help = help_of(&blocked);
    assert!(
        help.contains("`Zygote.forwarddiff(h, y)` is not offered: `zeros(length(y))` (a `Float64` buffer) cannot hold dual numbers"),
        "{help}"
    );
    // Unannotated, called with a closure's argument: adlint cannot tell it is real.
    let unknown = ok.replace("h(y::AbstractVector{<:Real})", "h(y)");
    assert!(!offered(&unknown).iter().any(|f| f.contains("forwarddiff")));
    let help = help_of(&unknown);
    assert!(
        help.contains("`Zygote.forwarddiff(h, y)` is not offered: adlint cannot tell that `y` is a real number or an array of them (annotate it, e.g. `y::AbstractVector{<:Real}`)"),
        "{help}"
    );
    // Unannotated but called with `rand(3)`: an array of `Float64`.
    let called_with_floats = unknown.replace(
        "gradient(y -> h(y), rand(3))",
        "gradient(y -> h(rand(3)) * sum(y), rand(3))",
    );
    assert!(
        offered(&called_with_floats)
            .iter()
            .any(|f| f.contains("Zygote.forwarddiff(h, y)")),
        "{:?}",
        offered(&called_with_floats)
    );
    // Random numbers: each chunk would draw others.
    let random = ok.replace("z[i-1] + y[i]", "z[i-1] + y[i] * rand()");
    assert!(!offered(&random).iter().any(|f| f.contains("forwarddiff")));
    let help = help_of(&random);
    assert!(
        help.contains("`Zygote.forwarddiff(h, y)` is not offered: `h` draws random numbers (or prints), and ForwardDiff runs it once per chunk of inputs"),
        "{help}"
    );
}

#[test]
fn rrule_skeleton_and_non_differentiable() {
    let text = "using Zygote\njclock(x) = ccall(:clock, Int32, ()) * x\njtime(x) = ccall(:clock, Int32, ())\ngradient(x -> jclock(x) + jtime(x) * x, 1.0)\n";
    let p = Project::new(&[("main.jl", text)]);
    let a = p.analyze();
    let fixes: Vec<&Fix> = a.diagnostics.iter().flat_map(|d| &d.fixes).collect();
    assert_eq!(fixes.len(), 2);
    assert!(fixes
        .iter()
        .all(|f| f.applicability == Applicability::DisplayOnly));
    let apply = |f: &Fix| {
        adlint::fix::apply_edits(
            text,
            f.edits
                .iter()
                .map(|e| (e.location.span, e.replacement.as_str()))
                .collect(),
        )
    };
    assert_eq!(
        apply(fixes[0]),
        "using Zygote\nimport ChainRulesCore\njclock(x) = ccall(:clock, Int32, ()) * x\n\nfunction ChainRulesCore.rrule(::typeof(jclock), x)\n    Ω = jclock(x)\n    function jclock_pullback(ΔΩ)\n        # adlint: replace each placeholder by the argument's tangent (ΔΩ times ∂Ω/∂arg)\n        ∂x = ChainRulesCore.@not_implemented(\"adlint: tangent of `x` for `jclock`\")\n        return (ChainRulesCore.NoTangent(), ∂x)\n    end\n    return Ω, jclock_pullback\nend\njtime(x) = ccall(:clock, Int32, ())\ngradient(x -> jclock(x) + jtime(x) * x, 1.0)\n"
    );
    assert_eq!(
        apply(fixes[1]),
        "using Zygote\nimport ChainRulesCore\njclock(x) = ccall(:clock, Int32, ()) * x\njtime(x) = ccall(:clock, Int32, ())\n\nChainRulesCore.@non_differentiable jtime(::Any)\ngradient(x -> jclock(x) + jtime(x) * x, 1.0)\n"
    );
    // Display-only: `--fix --unsafe-fixes` leaves the file alone.
    let (_, _, err) = adlint(&["check", ".", "--fix", "--unsafe-fixes"], p.dir.path());
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), text);
    assert!(err.contains("Fixed 0 findings (2 remaining)"), "{err}");
}

#[test]
fn diff_prints_and_writes_nothing() {
    let before = fixture("safe_copy", "before.jl");
    let p = Project::new(&[("main.jl", &before)]);
    let (code, out, err) = adlint(&["check", ".", "--diff"], p.dir.path());
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "--- a/main.jl\n+++ b/main.jl\n@@ -1,8 +1,7 @@\n using Zygote\n \n function copied(y)\n-    z = similar(y)\n-    z .= y\n+    z = copy(y)\n     return sum(abs2, z)\n end\n \n"
    );
    assert!(err.contains("Would fix 1 finding"), "{err}");
    assert_eq!(std::fs::read_to_string(p.path("main.jl")).unwrap(), before);
    // Nothing to change: exit 0 and no output.
    let clean = Project::new(&[("main.jl", "using Zygote\ngradient(x -> 2x, 1.0)\n")]);
    let (code, out, _) = adlint(&["check", ".", "--diff"], clean.dir.path());
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn check_without_fix_leaves_files_byte_identical() {
    let cases = ["limitations", "fill_loops", "crlf", "safe_copy"];
    let files: Vec<(String, String)> = cases
        .iter()
        .map(|c| (format!("{c}.jl"), fixture(c, "before.jl")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = Project::new(&refs);
    for format in ["full", "json", "concise"] {
        let (code, _, _) = adlint(
            &["check", ".", "--unsafe-fixes", "--output-format", format],
            p.dir.path(),
        );
        assert_eq!(code, 1);
    }
    for (name, text) in &files {
        assert_eq!(std::fs::read(p.path(name)).unwrap(), text.as_bytes());
    }
}

#[test]
fn a_fix_that_would_not_parse_is_refused() {
    let before = fixture("safe_copy", "before.jl");
    let p = Project::new(&[("main.jl", &before)]);
    let mut a = p.analyze();
    let d = &mut a.diagnostics[0];
    let location = d.location;
    // Offered before the real (safe) fix of the same finding.
    d.fixes.insert(
        0,
        Fix {
            title: "Broken".into(),
            applicability: Applicability::Safe,
            edits: vec![Edit {
                location: Location {
                    file: location.file,
                    span: location.span,
                },
                replacement: "z .= ((".into(),
            }],
        },
    );
    let out = adlint::fix::fix_to_fixed_point(a, &Default::default(), false, None);
    assert_eq!(out.refused.len(), 1);
    assert!(
        out.refused[0]
            .ends_with("main.jl:5: fix \"Broken\" not applied: the result would not parse"),
        "{:?}",
        out.refused
    );
    // The finding's real fix is taken in the next round instead.
    assert_eq!(out.applied, 1);
    assert_eq!(out.changed.len(), 1);
    assert_eq!(out.changed[0].2, fixture("safe_copy", "after.jl"));
}

#[cfg(unix)]
#[test]
fn writes_keep_permissions_and_skip_files_changed_on_disk() {
    use std::os::unix::fs::PermissionsExt;
    let before = fixture("safe_copy", "before.jl");
    let p = Project::new(&[("main.jl", &before)]);
    std::fs::set_permissions(p.path("main.jl"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let (_, _, err) = adlint(&["check", ".", "--fix"], p.dir.path());
    assert!(err.contains("Fixed 1 finding"), "{err}");
    let mode = std::fs::metadata(p.path("main.jl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    let leftovers: Vec<_> = std::fs::read_dir(p.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "main.jl" && n != "Project.toml")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The text on disk is no longer the text analysed: refuse.
    let path = p.path("main.jl");
    assert_eq!(
        adlint::fix::write_atomic(&path, "something else", "new"),
        Err("it changed on disk since it was read".to_string())
    );
    assert_ne!(std::fs::read_to_string(&path).unwrap(), "new");
}

#[test]
fn guidance_shows_the_users_own_code_rewritten() {
    let p = Project::new(&[("main.jl", &fixture("guidance", "main.jl"))]);
    let a = p.analyze();
    let helps: Vec<(&str, &str)> = a
        .diagnostics
        .iter()
        .map(|d| (d.rule, d.help.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        helps,
        [
            ("try-catch", "return the sentinel without try/catch by testing for the failing case first: `x < 0 ? 0. : sqrt(x)`; or move the try/catch into a helper with a `ChainRulesCore.rrule`"),
            ("mutable-struct-field", "make the struct immutable (`struct` instead of `mutable struct`) and replace the field write by a new object: `m = Accessors.@set m.a = m.a + x`"),
            // `f()` runs after `s = 1.0` and sees it: a `let` copy would give `0.0 + x`.
            ("boxed-variable", "keep one `s` that the closure and the re-bindings share, without a box: make it a `Ref`, `s = Ref(0.0)`, and read and write `s[]`: `f = () -> s[] + x`, `s[] = 1.0` (a `let` copy would freeze the value the closure sees and change the result)"),
            ("nested-ad", "take the inner derivative with forward mode: replace `gradient(y -> y^3, x)[1]` by `ForwardDiff.gradient(y -> y^3, x)` (or `ForwardDiff.derivative(y -> y^3, x)` when the argument is a number); ForwardDiff over Zygote is well supported. For a full second derivative, call `Zygote.hessian` once instead"),
        ]
    );
}

#[test]
fn boxed_and_try_catch_guidance_keep_the_result_and_show_real_code() {
    let src = "using Zygote\nfunction frozen(x)\n    s = 0.0\n    s = 2.0\n    f = () -> s + x\n    return f()\nend\ngradient(frozen, 1.0)\nfunction counter(x)\n    n = 0.0\n    g = () -> (n += x)\n    g()\n    return n\nend\ngradient(counter, 1.0)\nfunction guarded(x)\n    try\n        myfun(x)\n    catch\n        0.0\n    end\nend\ngradient(guarded, 1.0)\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    let helps: Vec<&str> = (a.diagnostics.iter())
        .map(|d| d.help.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        helps,
        [
            // Made after the last assignment: the copy is the value the box held.
            "capture a copy that is never re-bound: `f = let s = s; () -> s + x end` (the closure is made after the last assignment of `s`, so it sees the same value)",
            // The closure re-binds `n`: a `let` copy would still be boxed.
            "keep one `n` that the closure and the re-bindings share, without a box: make it a `Ref`, `n = Ref(0.0)`, and read and write `n[]`: `g = () -> (n[] += x)`, `n[] += x` (a `let` copy would freeze the value the closure sees and change the result)",
            "return the sentinel without try/catch: test before `myfun(x)` for the inputs on which it throws, and return `0.0` for them; or move the try/catch into a helper with a `ChainRulesCore.rrule`: `myfun_or_fallback(x) = try myfun(x) catch; 0.0 end`, and call `myfun_or_fallback(x)`",
        ]
    );
}

#[test]
fn nested_guidance_keeps_forwarddiff_away_from_a_capturing_closure() {
    // ForwardDiff inside Zygote gives the variables a closure captures no gradient
    // (zygote-semantics.md §5.3): `w` depends on `a`, which the outer gradient wants.
    let src = "using Zygote\nfunction f(a, x)\n    w = 2 .* a\n    g = gradient(y -> sum(w .* y .^ 2), x)[1]\n    sum(g)\nend\ngradient(a -> f(a, [1.0, 2.0]), [3.0, 4.0])\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    let help = (a.diagnostics.iter())
        .find(|d| d.rule == "nested-ad")
        .and_then(|d| d.help.as_deref())
        .unwrap_or("");
    assert!(
        help.starts_with("compute the second derivative with `Zygote.hessian`"),
        "{help}"
    );
    assert!(!help.contains("ForwardDiff.gradient"), "{help}");
}

#[test]
fn full_output_shows_unsafe_and_display_only_fixes() {
    let p = Project::new(&[("main.jl", &fixture("safe_copy", "before.jl"))]);
    let (_, out, _) = adlint(&["check", "."], p.dir.path());
    assert!(
        out.contains("Bind a new array: `z = copy(y)` (safe fix, applied by `--fix`)"),
        "{out}"
    );
    assert!(
        out.contains(
            "Bind a new array: `z = 2 .* y` (unsafe fix, applied by `--fix --unsafe-fixes`)"
        ),
        "{out}"
    );
    assert!(
        out.contains("Define a `ChainRulesCore.rrule` for `doubled` (skeleton) (suggestion, never applied automatically)"),
        "{out}"
    );
    assert!(
        out.contains("function ChainRulesCore.rrule(::typeof(doubled), y)"),
        "{out}"
    );
}

#[test]
fn loops_with_temporaries_become_map_do_blocks() {
    let err = fixes_to_snapshot("map_do", &["--unsafe-fixes"]);
    assert!(err.contains("Fixed 2 findings"), "{err}");
}

#[test]
fn statement_call_sites_keep_the_result_under_a_local_name() {
    let captured = "using Zygote\nfunction scale!(x)\n    x .= 2 .* x\n    return x\nend\nfunction outer(y)\n    z = copy(y)\n    g = () -> begin\n        scale!(z)\n        sum(z)\n    end\n    return g()\nend\ngradient(outer, rand(3))\n";
    // `z = scale(z)` or `z = Zygote.forwarddiff(scale!, z)` inside the closure would box `z`.
    assert_eq!(
        offered(captured),
        ["3: DisplayOnly Define a `ChainRulesCore.rrule` for `scale!` (skeleton)"]
    );
    let local = captured.replace(
        "        scale!(z)\n        sum(z)",
        "        w = copy(z)\n        scale!(w)\n        sum(w)",
    );
    // The twin and the rrule skeleton; not `Zygote.forwarddiff(scale!, w)`: nothing says
    // that `w` holds real numbers.
    let fixes = offered(&local);
    assert_eq!(fixes.len(), 2, "{fixes:?}");
    let p = Project::new(&[("main.jl", &local)]);
    let (code, out, _) = adlint(&["check", ".", "--diff", "--unsafe-fixes"], p.dir.path());
    assert_eq!(code, 1);
    assert!(out.contains("+scale(x) = 2 .* x\n"), "{out}");
    assert!(
        out.contains("-        scale!(w)\n+        w = scale(w)\n"),
        "{out}"
    );
}

#[test]
fn one_line_allocation_and_dotted_updates() {
    let text = "using Zygote\nfunction f(y)\n    z = similar(y); z .= sin.(y)\n    return sum(z)\nend\nfunction g(y)\n    z = zeros(length(y))\n    z .+= 2 .* y\n    return sum(z)\nend\ngradient(y -> f(y) + g(y), rand(3))\n";
    let p = Project::new(&[("main.jl", text)]);
    let (code, out, _) = adlint(&["check", ".", "--diff", "--unsafe-fixes"], p.dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "--- a/main.jl\n+++ b/main.jl\n@@ -1,11 +1,11 @@\n using Zygote\n function f(y)\n-    z = similar(y); z .= sin.(y)\n+    z = sin.(y)\n     return sum(z)\n end\n function g(y)\n     z = zeros(length(y))\n-    z .+= 2 .* y\n+    z = z .+ (2 .* y)\n     return sum(z)\n end\n gradient(y -> f(y) + g(y), rand(3))\n"
    );
}

#[test]
fn the_analysis_builds_no_fixes_and_fix_analyze_does() {
    // The analysis reports findings; fixes (and the builders' help) are built by `fix`
    // where they are shown or applied: the same findings, with them.
    let p = Project::new(&[("main.jl", &fixture("safe_copy", "before.jl"))]);
    let with = p.analyze();
    let ws = adlint::workspace::Workspace::discover(&[p.dir.path().to_path_buf()]).unwrap();
    let without = adlint::analysis::analyze(ws, &Default::default());
    assert!(with.diagnostics.iter().any(|d| !d.fixes.is_empty()));
    assert!(without.diagnostics.iter().all(|d| d.fixes.is_empty()));
    let sites = |a: &adlint::analysis::Analysis| -> Vec<_> {
        (a.diagnostics.iter())
            .map(|d| (d.rule, d.location.span, d.severity))
            .collect()
    };
    assert_eq!(sites(&with), sites(&without));
}

/// The shapes of issue 28 (`tests/fix/shapes/`): each loop, helper and loss gets exactly
/// its rewrite, or none. The snapshot is `--fix --unsafe-fixes`; the refusals and the
/// suggestions are checked by title here, with their applicability.
#[test]
fn loop_and_helper_shapes_get_their_rewrite_or_a_refusal() {
    let err = fixes_to_snapshot("shapes", &["--unsafe-fixes"]);
    assert!(err.contains("Fixed 7 findings (8 remaining)"), "{err}");
    // The reference interpreter proves every one of them, each from its own entry point.
    let p = Project::new(&[("main.jl", &fixture("shapes", "before.jl"))]);
    let (_, _, err) = adlint(
        &[
            "check",
            ".",
            "--fix",
            "--unsafe-fixes",
            "--verify",
            "--exit-zero",
        ],
        p.dir.path(),
    );
    assert!(err.contains("Fixed 7 findings (8 remaining)"), "{err}");
    assert!(!err.contains("not applied"), "{err}");
    let before = fixture("shapes", "before.jl");
    let fixes = offered(&before);
    let has = |s: &str| fixes.iter().any(|f| f == s);
    let expected = [
        "8: Unsafe Bind a new array: `z = [2 * x[i] for i in 1:n]`",
        "48: Unsafe Bind a new array: `z = [2 * x[i] for i in 1:n]`",
        "67: Unsafe Bind a new array: `Z = reshape([2 * X[I] for I in eachindex(Z)], size(X))`",
        "78: Unsafe Bind a new array: `Z = [a[i] * b[j] for i in 1:m, j in 1:n]`",
        "99: Unsafe Bind a new array: `out = [2x for x in xs if x > 0]`",
        "117: Safe Bind a new array: `z = copy(y)`",
        "123: Unsafe Add the non-mutating `step_nonmutating(x) = 2 .* x` and call it from differentiated code",
        "129: DisplayOnly Define the non-mutating `fill_doubled` (it returns `out` instead of `nothing`) and a `ChainRulesCore.rrule` for it (skeleton)",
    ];
    for e in expected {
        assert!(has(e), "missing {e}\n{fixes:#?}");
    }
    // Refused: partial (18), offset range (28), offset index (38), reversed with random
    // numbers (58), rows with random numbers (89), `push!` onto a non-empty vector (109):
    // only the rrule skeleton of their function is offered.
    for line in [18, 28, 38, 58, 89, 109] {
        let at: Vec<&String> = fixes
            .iter()
            .filter(|f| f.starts_with(&format!("{line}: ")))
            .collect();
        assert!(
            at.iter().all(|f| f.contains("rrule")) && !at.is_empty(),
            "line {line}: {at:?}"
        );
    }
    // `rand` in the loss: no `Zygote.forwarddiff`, and the help says why.
    let p = Project::new(&[("main.jl", &before)]);
    let a = p.analyze();
    let noisy = (a.diagnostics.iter())
        .find(|d| a.line_col(d.location.file, d.location.span.start).0 == 141)
        .expect("the finding in noisy!");
    assert!(noisy.fixes.iter().all(|f| !f.title.contains("forwarddiff")));
    assert!(
        noisy.help.as_deref().unwrap_or("").contains(
            "`Zygote.forwarddiff(noisy!, y)` is not offered: `noisy!` draws random numbers (or prints), and ForwardDiff runs it once per chunk of inputs"
        ),
        "{:?}",
        noisy.help
    );
    // The twin of the helper returning `nothing`, with its rule and the call site.
    let helper = (a.diagnostics.iter())
        .flat_map(|d| &d.fixes)
        .find(|f| {
            f.title
                .starts_with("Define the non-mutating `fill_doubled`")
        })
        .unwrap();
    let texts: Vec<&str> = helper
        .edits
        .iter()
        .map(|e| e.replacement.as_str())
        .collect();
    assert!(texts.contains(&"out = fill_doubled(out, x)"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("function fill_doubled(out, x)\n    out = copy(out)\n    fill_doubled!(out, x)\n    return out\nend\n\nfunction ChainRulesCore.rrule(::typeof(fill_doubled), out, x)\n    Ω = fill_doubled(out, x)")),
        "{texts:?}"
    );
}

#[test]
fn rrule_skeletons_give_no_tangent_to_what_has_none() {
    let text = "using Zygote, Random\nfunction noisy(rng::AbstractRNG, n::Int, f, x)\n    return sum(f.(x) .+ randn(rng, n)) + ccall(:clock, Int32, ())\nend\nfunction pick(i::Int, flag::Bool)\n    return ccall(:clock, Int32, ()) * i * flag\nend\nfunction with_closure(g, x)\n    return g(x) + ccall(:clock, Int32, ())\nend\ngradient(x -> noisy(MersenneTwister(1), 3, sin, x) + pick(2, true) + with_closure(y -> x * y, x), 1.0)\n";
    let p = Project::new(&[("main.jl", text)]);
    let a = p.analyze();
    let fixes: Vec<&Fix> = a.diagnostics.iter().flat_map(|d| &d.fixes).collect();
    let body = |title: &str| -> String {
        let f = fixes
            .iter()
            .find(|f| f.title.contains(title))
            .unwrap_or_else(|| {
                panic!(
                    "{title}: {:?}",
                    fixes.iter().map(|f| &f.title).collect::<Vec<_>>()
                )
            });
        f.edits.iter().map(|e| e.replacement.clone()).collect()
    };
    let noisy = body("rrule` for `noisy`");
    assert!(
        noisy.contains(
            "∂rng = ChainRulesCore.NoTangent()  # a random number generator: no derivative"
        ),
        "{noisy}"
    );
    assert!(
        noisy.contains("∂n = ChainRulesCore.NoTangent()  # an integer: no derivative"),
        "{noisy}"
    );
    // `sin` is a named function at the only call: no state to differentiate.
    assert!(
        noisy.contains("∂f = ChainRulesCore.NoTangent()  # a named function: no derivative"),
        "{noisy}"
    );
    assert!(
        noisy.contains("∂x = ChainRulesCore.@not_implemented"),
        "{noisy}"
    );
    // Nothing differentiable: `@non_differentiable`.
    let pick = body("Mark `pick` as `@non_differentiable` (none of its arguments is differentiable: a `Bool`, an integer)");
    assert!(
        pick.contains("ChainRulesCore.@non_differentiable pick(::Int, ::Bool)"),
        "{pick}"
    );
    // A closure may carry differentiable state (`x` here): it keeps its placeholder.
    let closure = body("rrule` for `with_closure`");
    assert!(
        closure.contains("∂g = ChainRulesCore.@not_implemented"),
        "{closure}"
    );
}
