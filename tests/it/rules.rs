//! The rules beyond mutation: version gates, syntactic variants and near-misses, and inline
//! suppression.

use crate::common::{rules_at, Project};
use adlint::analysis::Options;
use adlint::version::Version;

fn with_version(src: &str, v: Version) -> Vec<(String, String)> {
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze_with(&Options {
        zygote_version: Some(v),
        ..Options::default()
    });
    a.diagnostics
        .iter()
        .map(|d| (d.rule.to_string(), d.severity.as_str().to_string()))
        .collect()
}

const SAFE_SQRT: &str = "using Zygote\nfunction safe_sqrt(x)\n    try\n        sqrt(x)\n    catch\n        0.0\n    end\nend\ngradient(safe_sqrt, 4.0)\n";

#[test]
fn try_catch_depends_on_the_zygote_version() {
    assert_eq!(
        with_version(SAFE_SQRT, Version(0, 6, 70)),
        [("try-catch".into(), "error".into())]
    );
    assert_eq!(
        with_version(SAFE_SQRT, Version(0, 6, 71)),
        [("try-catch".into(), "warning".into())]
    );
    let finally_only = "using Zygote\nfunction f(x)\n    try\n        sqrt(x)\n    finally\n        nothing\n    end\nend\ngradient(f, 4.0)\n";
    assert_eq!(with_version(finally_only, Version(0, 7, 12)), []);
    assert_eq!(
        with_version(finally_only, Version(0, 6, 70)),
        [("try-catch".into(), "error".into())]
    );
    let p = Project::new(&[("main.jl", SAFE_SQRT)]);
    let a = p.analyze();
    assert!(a.diagnostics[0]
        .message
        .contains("0.6.70 and older refuse any `try`"));
}

#[test]
fn constant_arguments_that_send_an_entry_into_the_catch_make_an_error() {
    // Zygote's own test: `cond && throw(...)` in the `try`, differentiated with a literal
    // `true` for `cond`, runs the catch block: the reverse pass fails. With `false` it
    // does not, and the `try` keeps its warning.
    let f = "using Zygote\n\nfunction f(cond, x)\n    try\n        x = 2x\n        cond && throw(DomainError(x))\n    catch\n        x = 2x\n    end\n    x\nend\n";
    let v = Version(0, 7, 12);
    let happy = format!("{f}withgradient(f, false, 1.0)\n");
    assert_eq!(
        with_version(&happy, v),
        [("try-catch".into(), "warning".into())]
    );
    let thrown = format!("{happy}res, back = pullback(f, true, 1.0)\n");
    assert_eq!(
        with_version(&thrown, v),
        [("try-catch".into(), "error".into())]
    );
    let a = Project::new(&[("main.jl", thrown.as_str())]).analyze();
    assert!(
        a.diagnostics[0]
            .message
            .contains("main.jl:13 passes `true` for `cond`"),
        "{}",
        a.diagnostics[0].message
    );
    // `if cond throw(...) end` is the same; `@test_throws` on the returned pullback is the
    // failure the test expects: no error.
    let guarded = f.replace(
        "cond && throw(DomainError(x))",
        "if cond\n            throw(nothing)\n        end",
    );
    let expected = format!("{guarded}using Test\nres, back = pullback(f, true, 1.0)\n@test_throws ErrorException back(1.0)\n");
    assert_eq!(
        with_version(&expected, v),
        [("try-catch".into(), "info".into())]
    );
    let unexpected = format!("{guarded}res, back = pullback(f, true, 1.0)\n");
    assert_eq!(
        with_version(&unexpected, v),
        [("try-catch".into(), "error".into())]
    );
}

#[test]
fn try_as_an_expression_points_at_the_assignment() {
    let src = "using Zygote\nfunction f(x)\n    y = try sqrt(x) catch; 0.0 end\n    y\nend\ngradient(f, 4.0)\n";
    assert_eq!(rules_at(src), ["try-catch@3:5"]);
}

#[test]
fn top_level_code_inside_a_module_sees_the_modules_imports() {
    // `using Zygote` inside `module M` makes `gradient` Zygote's for M's top-level code too
    // (test files are often `module MyTests ... end`).
    let src = "module M\nusing Zygote\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\ngradient(f, rand(3))\nend\n";
    assert_eq!(rules_at(src), ["index-assignment@4:5"]);
    // A module that does not load Zygote does not get its `gradient`, even from a sibling.
    let src = "module M\nusing Zygote\nend\nmodule N\nf(x) = (x[1] = 0.0; sum(x))\ngradient(f, rand(3))\nend\n";
    assert_eq!(rules_at(src), Vec::<String>::new());
    // A module's globals are its own: a function stored in one is found from its top level.
    let src = "module M\nusing Zygote\nconst loss = x -> (x[1] = 0.0; sum(x))\ngradient(loss, rand(3))\nend\n";
    assert_eq!(rules_at(src), ["index-assignment@3:20"]);
    // ... and `const CRC = ChainRulesCore` inside a module names the package for that module.
    let src = "module M\nusing Zygote, ChainRulesCore\nconst CRC = ChainRulesCore\nfunction h(x)\n    x[1] = 0.0\n    sum(x)\nend\nfunction CRC.rrule(::typeof(h), x)\n    h(x), d -> (NoTangent(), d)\nend\ngradient(h, rand(3))\nend\n";
    assert_eq!(rules_at(src), Vec::<String>::new());
}

#[test]
fn try_in_unreached_code_is_quiet() {
    let src = "using Zygote\nfunction g(x)\n    try\n        x\n    catch\n        0\n    end\nend\ngradient(x -> 2x, 1.0)\n";
    assert_eq!(rules_at(src), Vec::<String>::new());
}

#[test]
fn foreign_calls_and_near_misses() {
    let cases = [
        ("jclock(x) = ccall(:clock, Int32, ()) * x\ngradient(jclock, 1.0)", vec!["foreign-call@2:13"]),
        ("f(x) = time() * x\ngradient(f, 1.0)", vec!["foreign-call@2:8"]),
        ("f(x) = time_ns() * x + rand() + sum(zeros(2))\ngradient(f, 1.0)", vec![]),
        ("f(x) = (GC.@preserve x sum(x))\ngradient(f, rand(2))", vec!["foreign-call@2:9"]),
        ("function f(x)\n    Threads.@threads for i in 1:2\n        nothing\n    end\n    sum(x)\nend\ngradient(f, rand(2))", vec!["foreign-call@3:5"]),
        ("f(x) = Threads.threadid() * x\ngradient(f, 1.0)", vec![]),
        ("jclock(x) = ccall(:clock, Int32, ()) * x\nfunction ChainRulesCore.rrule(::typeof(jclock), x)\n    jclock(x), d -> (NoTangent(), d)\nend\ngradient(jclock, 1.0)", vec![]),
    ];
    for (body, expected) in cases {
        let src = format!("using Zygote, ChainRulesCore\n{body}\n");
        assert_eq!(rules_at(&src), expected, "{body}");
    }
}

#[test]
fn simd_only_before_zygote_0_6_11() {
    let src = "using Zygote\nfunction f(x)\n    s = 0.0\n    @simd for v in x\n        s += v\n    end\n    s\nend\ngradient(f, rand(3))\n";
    assert_eq!(
        with_version(src, Version(0, 6, 10)),
        [("foreign-call".into(), "error".into())]
    );
    assert_eq!(with_version(src, Version(0, 6, 11)), []);
}

#[test]
fn mutable_struct_fields() {
    let mutable = "using Zygote\nmutable struct Holder\n    c\nend\nfunction f(a, s::Holder)\n    s.c = 2 .* a\n    sum(s.c)\nend\ns = Holder(zeros(3))\ngradient(a -> f(a, s), rand(3))\n";
    assert_eq!(rules_at(mutable), ["mutable-struct-field@6:5"]);
    let immutable = mutable.replace("mutable struct", "struct");
    assert_eq!(
        rules_at(&immutable),
        Vec::<String>::new(),
        "a Julia error, not ours"
    );
    let functor = "using Zygote\nmutable struct Acc\n    n\nend\nfunction (a::Acc)(x)\n    a.n, y = 1, 2x\n    y\nend\nacc = Acc(0)\ngradient(acc, 1.0)\n";
    assert_eq!(rules_at(functor), ["mutable-struct-field@6:5"]);
    // Zygote's own test: a call counter on a mutable functor holds no gradient.
    let counter = "using Zygote\nmutable struct Count\n    f\n    n\nend\nfunction (o::Count)(x)\n    o.n += 1\n    o.f(x)\nend\nc = Count(sin, 0)\ngradient(c, 1.0)\n";
    let p = Project::new(&[("main.jl", counter)]);
    let a = p.analyze();
    let got: Vec<_> = (a.diagnostics.iter())
        .map(|d| (d.rule, d.severity.as_str()))
        .collect();
    assert_eq!(got, [("mutable-struct-field", "info")]);
    let array_in_field = "using Zygote\nstruct L\n    W\nend\nfunction f(l, x)\n    l.W .= x\n    sum(l.W)\nend\nl = L(zeros(3))\ngradient(x -> f(l, x), rand(3))\n";
    assert_eq!(rules_at(array_in_field), ["broadcast-assignment@6:5"]);
}

#[test]
fn boxed_variables_follow_julias_lowering_rule() {
    let cases = [
        // Assigned inside the closure.
        ("function f(x)\n    s = 0.0\n    foreach(v -> (s += v), x)\n    s\nend", vec!["boxed-variable@4:19"]),
        // Assigned twice, captured.
        ("function f(x)\n    y = x\n    y = 2 .* y\n    sum(map(v -> v * y[1], x))\nend", vec!["boxed-variable@4:5"]),
        // An argument re-bound after a comprehension captured it.
        ("function f(x)\n    t = [x[i] for i in 1:2]\n    x = sum(t)\n    x\nend", vec!["boxed-variable@4:5"]),
        // Assigned once, before the capture: not boxed.
        ("function f(x)\n    y = 2 .* x\n    sum(map(v -> v * y[1], x))\nend", vec![]),
        // Captures without re-binding.
        ("function f(x)\n    sum(map(v -> v * x[1], x))\nend", vec![]),
        // Assigned only inside an `if` that does not contain the closure.
        ("function f(x)\n    if x[1] > 0\n        y = 1.0\n    else\n        y = 2.0\n    end\n    sum(map(v -> v * y, x))\nend", vec!["boxed-variable@6:9"]),
        // A `let` block makes a fresh binding.
        ("function f(x)\n    y = x\n    y = 2 .* y\n    let y = y\n        sum(map(v -> v * y[1], x))\n    end\nend", vec![]),
        // A comprehension reads what its first `for` iterates before its closure runs:
        // `xs` is not captured, so re-binding it boxes nothing.
        ("function f(xs)\n    xs = [exp(x) for x in xs]\n    s = sum(xs)\n    sum([x / s for x in xs])\nend", vec![]),
        // Loop variables are fresh each iteration.
        ("function f(x)\n    t = 0.0\n    for i in 1:2\n        t += sum(map(v -> v * i, x))\n    end\n    t\nend", vec![]),
    ];
    for (body, expected) in cases {
        let src = format!("using Zygote\n{body}\ngradient(f, rand(3))\n");
        assert_eq!(rules_at(&src), expected, "{body}");
    }
}

#[test]
fn rebinding_hint_only_without_closure() {
    let mysum = "using Zygote\nfunction mysum(x::Real, n::Int)\n    tot = 0\n    for i in 1:n\n        tot += x^i\n    end\n    return tot\nend\ngradient(x -> mysum(x, 3), 2.0)\n";
    assert_eq!(rules_at(mysum), ["type-changing-rebinding@3:5"]);
    let seed = mysum.replace("tot = 0\n", "tot = 0.0\n");
    assert_eq!(
        rules_at(&seed),
        Vec::<String>::new(),
        "the seed's float accumulator is fine"
    );
}

#[test]
fn nested_ad_severities() {
    let cases = [
        (
            "using Zygote\ng(x) = gradient(sin, x)[1]\ngradient(g, 1.0)\n",
            "warning",
        ),
        // Zygote's rule for `sort` writes `x̄[p] = ȳ` in its pullback (§5.3): the outer
        // pass fails.
        (
            "using Zygote\ninner(y) = sum(sort(y) .* [1.0, 2.0])\ng(x) = sum(gradient(inner, x)[1])\ngradient(g, rand(2))\n",
            "error",
        ),
        // Array code through array rules: may fail, a warning.
        (
            "using Zygote\ng(x) = sum(gradient(y -> sum(y .^ 2), x)[1])\ngradient(g, rand(2))\n",
            "warning",
        ),
        (
            "using Zygote\ng(x) = sum(jacobian(y -> 2y, x)[1])\ngradient(g, rand(2))\n",
            "error",
        ),
        (
            "using Flux\ng(x) = Flux.gradient(sin, x)[1]\nZygote.gradient(g, 1.0)\n",
            "error",
        ),
        // Lux rewrites a nested `Zygote.jacobian`/`gradient` of a `StatefulLuxLayer`
        // (zygote-semantics.md §1.2): not the `copyto!` failure, a warning.
        (
            "using Lux, Zygote
function loss(model, x, ps, st)
    sm = StatefulLuxLayer(model, ps, st)
    sum(abs2, only(Zygote.jacobian(sm, x)))
end
Zygote.gradient(loss, model, x, ps, st)
",
            "warning",
        ),
        (
            "using Lux, Zygote
function loss(model, x, ps, st)
    sm = StatefulLuxLayer(model, ps, st)
    sum(only(Zygote.gradient(sum ∘ sm, x)))
end
Zygote.gradient(loss, model, x, ps, st)
",
            "warning",
        ),
    ];
    for (src, sev) in cases {
        let p = Project::new(&[("main.jl", src)]);
        let a = p.analyze();
        let nested: Vec<_> = a
            .diagnostics
            .iter()
            .filter(|d| d.rule == "nested-ad")
            .collect();
        assert_eq!(nested.len(), 1, "{src}");
        assert_eq!(nested[0].severity.as_str(), sev, "{src}");
        let m = &nested[0].message;
        assert_eq!(
            m.contains("scalar code"),
            src.contains("= gradient(sin, x)"),
            "{m}"
        );
        assert_eq!(m.contains("calls `sort`"), src.contains("sort("), "{m}");
        assert_eq!(m.contains("array rules"), src.contains(".^ 2"), "{m}");
        assert_eq!(
            nested[0].message.contains("Lux rewrites"),
            src.contains("StatefulLuxLayer"),
            "{src}"
        );
    }
    let forward = "using Zygote, ForwardDiff\ng(x) = gradient(sin, x)[1]\ngradient(x -> Zygote.forwarddiff(g, x), 1.0)\n";
    assert_eq!(rules_at(forward), Vec::<String>::new());
}

#[test]
fn misuse_rules() {
    let frozen = "using Zygote\nfunction f(x)\n    b = Zygote.Buffer(x)\n    b[1] = x[1]\n    y = copy(b)\n    b[2] = x[2]\n    sum(y)\nend\ngradient(f, rand(3))\n";
    assert_eq!(rules_at(frozen), ["frozen-buffer-write@6:5"]);
    let expr = "using Zygote, ChainRulesCore\nlog!(b, v) = (push!(b, v); nothing)\nconst LOG = Float64[]\ngradient(x -> (ignore_derivatives(log!(LOG, x)); 2x), 1.0)\n";
    let got = rules_at(expr);
    assert!(
        got.contains(&"ignore-derivatives-expression@4:16".to_string()),
        "{got:?}"
    );
    let closure = expr.replace(
        "ignore_derivatives(log!(LOG, x))",
        "ignore_derivatives(() -> log!(LOG, x))",
    );
    assert_eq!(rules_at(&closure), Vec::<String>::new());
    let ckpt = "using Zygote\nfunction f!(x)\n    x .= 2 .* x\n    sum(x)\nend\ngradient(x -> Zygote.checkpointed(f!, x), rand(3))\n";
    let got = rules_at(ckpt);
    assert!(
        got.contains(&"checkpointed-not-escape@6:15".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"broadcast-assignment@3:5".to_string()),
        "{got:?}"
    );
}

#[test]
fn implicit_params_are_deprecated_from_0_7_11() {
    let src = "using Flux\nmodel = Dense(2 => 1)\nps = Flux.params(model)\ngradient(() -> sum(model(rand(2))), ps)\n";
    assert_eq!(
        with_version(src, Version(0, 7, 12)),
        [("implicit-params".into(), "info".into())]
    );
    assert_eq!(with_version(src, Version(0, 6, 70)), []);
}

#[test]
fn inline_suppression_scopes_and_the_meta_rule() {
    let base = "using Zygote\nfunction h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\ngradient(h, rand(3))\n";
    let line = base.replace(
        "    z[1] = 1.0\n",
        "    # adlint: ignore[index-assignment] scratch buffer\n    z[1] = 1.0\n",
    );
    assert_eq!(rules_at(&line), Vec::<String>::new());
    let by_category = base.replace(
        "    z[1] = 1.0\n",
        "    z[1] = 1.0  # adlint: ignore[mutation]\n",
    );
    assert_eq!(rules_at(&by_category), Vec::<String>::new());
    let function = base.replace(
        "function h(x)\n",
        "# adlint: ignore[index-assignment]\nfunction h(x)\n",
    );
    assert_eq!(rules_at(&function), Vec::<String>::new());
    let file = format!("# adlint: ignore-file[mutation]\n{base}");
    assert_eq!(rules_at(&file), Vec::<String>::new());
    let wrong_rule = base.replace(
        "    z[1] = 1.0\n",
        "    # adlint: ignore[try-catch]\n    z[1] = 1.0\n",
    );
    assert_eq!(
        rules_at(&wrong_rule),
        ["unused-suppression@4:5", "index-assignment@5:5"]
    );
    let blanket = base.replace("    z[1] = 1.0\n", "    # adlint: ignore\n    z[1] = 1.0\n");
    assert_eq!(rules_at(&blanket), ["unused-suppression@4:5"]);
}

#[test]
fn a_function_passed_through_parameters_is_found_when_its_carrier_is_found_late() {
    // `p(q, x)` resolves to `run` only once `via`'s call site is known (the first round
    // after the direct calls); `f(x)` in `apply` then finds `mutate!` through `run`'s new
    // call site and `via`'s parameter (the round after that).
    let src = "using Zygote\n\
        function mutate!(x)\n    x[1] = 0.0\n    return sum(x)\nend\n\
        apply(f, x) = f(x)\n\
        run(k, x) = apply(k, x)\n\
        via(p, q, x) = p(q, x)\n\
        gradient(x -> via(run, mutate!, x), rand(3))\n";
    assert_eq!(rules_at(src), ["index-assignment@3:5"]);
}

#[test]
fn passing_a_function_as_an_argument_does_not_bind_its_parameters() {
    // `callback(total, bad)` hands `total` to unknown code; its arguments are not
    // `total`'s, so `b` in `total` is data (the array from `loss`) and `sum(b)` calls
    // nothing: `bad` is not reached.
    let src = "using Zygote\n\
        function bad(v)\n    v[1] = 0.0\n    return v\nend\n\
        total(a, b) = sum(b) + sum(a)\n\
        loss(x) = total(x, x)\n\
        gradient(loss, [1.0, 2.0])\n\
        callback(total, bad)\n";
    assert_eq!(rules_at(src), Vec::<String>::new());
    // Called with its arguments, a function value does bind them.
    let src = "using Zygote\n\
        function bad(v)\n    v[1] = 0.0\n    return v\nend\n\
        total(a, b) = sum(b(a))\n\
        loss(x) = total(x, bad)\n\
        gradient(loss, [1.0, 2.0])\n";
    assert_eq!(rules_at(src), ["index-assignment@3:5"]);
}

#[test]
fn a_method_added_to_an_imported_function_is_one_of_its_methods() {
    // `import ..Pkg: clip` then `function clip(...)` in a submodule (or a test file) adds a
    // method to `Pkg.clip`, as `function Pkg.clip(...)` would: calls in `Pkg` may run it.
    let pkg = "module Pkg\nusing Zygote\nclip(x, p) = x\nlayer(x, p) = clip(p .* x, p)\n\
        include(\"training/Training.jl\")\nloss(x) = sum(layer(x, 2.0))\n\
        train(x) = gradient(loss, x)\nend\n";
    let sub = "module Training\nimport ..Pkg: clip\nfunction clip(x::AbstractMatrix, p)\n    x[1] = 0.0\n    x\nend\nend\n";
    let p = Project::new(&[
        ("Project.toml", "name = \"Pkg\"\n"),
        ("src/Pkg.jl", pkg),
        ("src/training/Training.jl", sub),
    ]);
    let found = crate::common::findings(&p.analyze());
    assert_eq!(
        found,
        [(
            "index-assignment".to_string(),
            "Training.jl".to_string(),
            4,
            5
        )]
    );
    // Without the import, `clip` in `Training` is a function of its own.
    let own = sub.replace("import ..Pkg: clip\n", "");
    let p = Project::new(&[
        ("Project.toml", "name = \"Pkg\"\n"),
        ("src/Pkg.jl", pkg),
        ("src/training/Training.jl", &own),
    ]);
    assert_eq!(crate::common::findings(&p.analyze()), []);
}
