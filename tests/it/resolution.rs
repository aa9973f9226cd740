//! Call resolution: function values flow from where they are made to where they are
//! called; a value adlint cannot know makes the call unresolved, never a link to every
//! callable of the workspace.

use crate::common::{findings, Project};

#[test]
fn a_closure_returned_by_a_factory_is_reached() {
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\nfunction make_loss(c)\n    return function (x)\n        y = copy(x)\n        y[1] = c\n        sum(y)\n    end\nend\n\nloss_fn = make_loss(2.0)\ngradient(x -> loss_fn(x), rand(3))\n",
    )]);
    let a = p.analyze();
    assert_eq!(
        findings(&a),
        [("index-assignment".to_string(), "main.jl".to_string(), 6, 9)]
    );
}

#[test]
fn a_model_built_by_a_helper_reaches_its_layers() {
    let p = Project::new(&[(
        "main.jl",
        "using Flux\n\nstruct Scale\n    w::Vector{Float64}\nend\nfunction (s::Scale)(x)\n    y = similar(x)\n    y .= s.w .* x\n    return y\nend\nbuild() = Chain(Dense(3 => 3), Scale(ones(3)))\nmodel = build()\nFlux.gradient(m -> sum(m(rand(3))), model)\n",
    )]);
    let a = p.analyze();
    assert_eq!(
        findings(&a),
        [(
            "broadcast-assignment".to_string(),
            "main.jl".to_string(),
            8,
            5
        )]
    );
    // The container runs every layer it holds: the step is certain, the finding an error.
    assert!(a.diagnostics[0].chain.iter().all(|s| !s.possible));
    assert_eq!(
        a.diagnostics[0].severity,
        adlint::diagnostic::Severity::Error
    );
}

#[test]
fn a_value_nothing_binds_is_unresolved_not_every_callable() {
    // `apply`'s `f` is never bound: the call is unresolved, and the workspace's
    // mutating functor is not reached through it.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\nstruct Bad\n    w::Vector{Float64}\nend\nfunction (b::Bad)(x)\n    x[1] = 0.0\n    return x\nend\n\napply(f, x) = sum(f(x))\ngradient(x -> apply(identity_or_other(), x), rand(3))\n",
    )]);
    let a = p.analyze();
    assert!(findings(&a).is_empty(), "{:?}", findings(&a));
    assert!(
        a.graph.unresolved.iter().any(|u| u.what() == "f"),
        "{:?}",
        a.graph
            .unresolved
            .iter()
            .map(|u| u.what())
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_entry_argument_flows_into_the_differentiated_closure() {
    // Zygote's `gradient(b -> sum(b(x)), bn)` calls the closure with `bn`.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\nmutable struct Counter\n    n::Int\nend\nfunction (c::Counter)(x)\n    c.n += 1\n    return sum(x)\nend\nstruct Quiet end\n(q::Quiet)(x) = sum(x)\n\nc = Counter(0)\ngradient(b -> b(rand(3)), c)\ngradient(b -> b(rand(3)), Quiet())\n",
    )]);
    let a = p.analyze();
    assert_eq!(
        findings(&a),
        [(
            "mutable-struct-field".to_string(),
            "main.jl".to_string(),
            7,
            5
        )]
    );
}

#[test]
fn a_guessed_step_makes_a_warning_and_two_are_not_reported() {
    // Methods the workspace adds to `Base` functions run only for their declared types,
    // which adlint does not know at these calls: guesses.
    let one = "using Zygote\n\nstruct MyT\n    v::Vector{Float64}\nend\nfunction Base.copy(t::MyT)\n    t.v[1] = 0.0\n    return t\nend\nloss(x) = sum(copy(x))\ngradient(loss, rand(3))\n";
    let p = Project::new(&[("main.jl", one)]);
    let a = p.analyze();
    assert_eq!(
        findings(&a),
        [("index-assignment".to_string(), "main.jl".to_string(), 7, 5)]
    );
    assert_eq!(
        a.diagnostics[0].severity,
        adlint::diagnostic::Severity::Warning
    );
    assert!(
        a.diagnostics[0]
            .message
            .contains("main.jl:10 runs `Base.copy`, which depends on argument types"),
        "{}",
        a.diagnostics[0].message
    );

    // `Base.length` would be no guess: ChainRules declares `@non_differentiable length(::Any)`,
    // so Zygote never enters a method of it; `maximum` has rules for arrays only.
    let two = "using Zygote\n\nstruct MyT\n    v::Vector{Float64}\nend\nfunction Base.copy(t::MyT)\n    n = maximum(t)\n    return t\nend\nfunction Base.maximum(t::MyT)\n    t.v[1] = 0.0\n    return 3\nend\nloss(x) = sum(copy(x))\ngradient(loss, rand(3))\n";
    let p = Project::new(&[("main.jl", two)]);
    let a = p.analyze();
    assert!(findings(&a).is_empty(), "{:?}", findings(&a));
    assert_eq!(a.summary().hidden_guesses, 1);
    let a = with_guesses(&p);
    assert_eq!(
        findings(&a),
        [("index-assignment".to_string(), "main.jl".to_string(), 11, 5)]
    );
    assert_eq!(
        a.diagnostics[0].severity,
        adlint::diagnostic::Severity::Warning
    );
}

#[test]
fn a_box_no_gradient_flows_through_is_a_hint() {
    use adlint::diagnostic::Severity;
    // `i` is a counter set outside differentiated code: a hint. `w` is computed from the
    // value passed to the entry, but outside it: the entry differentiates with respect
    // to its closure's own `x`, so `w` is a constant there, a hint too. `acc` is updated
    // inside the differentiated closure, each call reading the last one's value: a
    // warning.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\nfunction run(xs)\n    i = 0\n    i = 1\n    g1 = gradient(x -> sum(x) * i, xs)\n    w = xs\n    w = xs .+ 1\n    g2 = gradient(x -> sum(x .* w), xs)\n    acc = 0.0\n    g3 = gradient(x -> sum(v -> (acc += v; acc * v), x), xs)\n    return g1, g2, g3\nend\n",
    )]);
    let a = p.analyze();
    let got: Vec<(usize, Severity)> = a
        .diagnostics
        .iter()
        .map(|d| {
            (
                a.line_col(d.location.file, d.location.span.start).0,
                d.severity,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (5, Severity::Info),
            (8, Severity::Info),
            (11, Severity::Warning)
        ]
    );
    assert!(a.diagnostics[0]
        .message
        .contains("no gradient flows through the box"));
}

#[test]
fn code_that_never_runs_under_ad_is_not_analysed() {
    // An `@generated` function's body builds code when the method is compiled (Lux's
    // `applychain`); an ODE right-hand side handed to `ODEProblem` is called by `solve`'s
    // adjoint rule, not traversed by Zygote.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote, OrdinaryDiffEq, SciMLSensitivity\n\n@generated function apply(layers::Tuple{Vararg{Any,N}}, x) where {N}\n    calls = []\n    push!(calls, :(y = x))\n    return Expr(:block, calls...)\nend\n\nfunction rhs!(du, u, p, t)\n    du[1] = -p[1] * u[1]\nend\n\nfunction loss(p)\n    prob = ODEProblem(rhs!, [1.0], (0.0, 1.0), p)\n    sol = solve(prob, Tsit5())\n    return sum(apply((), sol[end]))\nend\ngradient(loss, [0.5])\n",
    )]);
    let a = p.analyze();
    assert!(findings(&a).is_empty(), "{:?}", findings(&a));
}

#[test]
fn quoted_code_macro_definitions_and_init_do_not_run_under_ad() {
    // A function written inside `quote` or `:(...)` defines no method where it is
    // written; a macro's body runs when code is expanded; `__init__` when the module
    // loads; a `gradient` inside a quote is no entry.
    let src = "using Zygote

ex = quote
    function f(x)
        x[1] = 0
        sum(x)
    end
end
ex2 = :(g(x) = (x[2] = 1; sum(x)))
macro twice(x)
    y = [1.0]
    y[1] = 2.0
    esc(:($x; $x))
end
function __init__()
    buf = zeros(3)
    buf[1] = 1.0
end
f(x) = sum(x)
g(x) = sum(x)
function h(x)
    __init__()
    f(x) + g(x)
end
gradient(h, rand(3))
later = :(gradient(x -> (x[1] = 0; sum(x)), rand(2)))
";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    assert!(findings(&a).is_empty(), "{:?}", findings(&a));
    assert_eq!(a.graph.entries.len(), 1);
    // What `$` interpolates is built where the quote is: it runs.
    let src = "using Zygote

function bad(x)
    x[1] = 0.0
    sum(x)
end
ex = :(y = $(gradient(bad, rand(3))))
";
    let p = Project::new(&[("main.jl", src)]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [("index-assignment".to_string(), 4)]
    );
}

#[test]
fn with_implicit_parameters_a_box_assigned_outside_is_a_hint() {
    // Zygote records an implicit parameter's gradient when differentiated code reads
    // it, by identity (`accum_param` in the pullback of `getfield`), also when it is read
    // out of a box: the re-bound `W` is no failure either.
    use adlint::diagnostic::Severity;
    let p = Project::new(&[(
        "main.jl",
        "using Flux\nimport Zygote\n\nfunction step(W, x)\n    x = x .* 2\n    W = W .+ 0\n    θ = params(W)\n    Zygote.gradient(() -> sum(W * x), θ)\nend\n",
    )]);
    let a = p.analyze();
    let got: Vec<(usize, Severity)> = a
        .diagnostics
        .iter()
        .filter(|d| d.rule == "boxed-variable")
        .map(|d| {
            (
                a.line_col(d.location.file, d.location.span.start).0,
                d.severity,
            )
        })
        .collect();
    assert_eq!(got, [(5, Severity::Info), (6, Severity::Info)]);
}

#[test]
fn a_box_each_closure_assigns_before_reading_is_a_hint() {
    use adlint::diagnostic::Severity;
    // Zygote's own tests: a testset's `buf` re-bound first thing in each differentiated
    // do-block is boxed, but no value crosses from one function to another through it.
    // Where the testset reads the closure's value in another closure, it does.
    let src = "using Zygote, Test\n\n@testset \"buffers\" begin\n    buf = [1.0, 2.0]\n    g = gradient(1.0) do a\n        buf = Zygote.Buffer([0.0, 0.0])\n        buf[1] = a\n        a^2 * buf[1]\n    end\n    h = gradient(2.0) do a\n        buf = [a, a]\n        sum(buf)\n    end\nend\n";
    let severities = |src: &str| -> Vec<(usize, Severity)> {
        let p = Project::new(&[("main.jl", src)]);
        let a = p.analyze();
        (a.diagnostics.iter())
            .filter(|d| d.rule == "boxed-variable")
            .map(|d| {
                (
                    a.line_col(d.location.file, d.location.span.start).0,
                    d.severity,
                )
            })
            .collect()
    };
    assert_eq!(severities(src), [(6, Severity::Info), (11, Severity::Info)]);
    let crossing = src.replace(
        "    h = gradient",
        "    show_buf = () -> println(buf)\n    h = gradient",
    );
    assert_eq!(
        severities(&crossing),
        [(6, Severity::Warning), (12, Severity::Warning)]
    );
    let read_first = src.replace(
        "buf = [a, a]\n        sum(buf)",
        "s = sum(buf)\n        buf = [a, a]\n        s",
    );
    assert_eq!(
        severities(&read_first),
        [(6, Severity::Warning), (12, Severity::Warning)]
    );
}

#[test]
fn a_rebinding_that_dominates_the_use_decides_the_origin() {
    // Zygote's own test: after `stk = Zygote.Stack(stk)`, `pop!(stk)` pops a Stack.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\ngradient(1) do x\n    stk = []\n    Zygote._push!(stk, x)\n    stk = Zygote.Stack(stk)\n    pop!(stk)\nend\n\ngradient(1) do x\n    a = Zygote.Buffer([0.0])\n    a = []\n    push!(a, x)\n    x\nend\n",
    )]);
    let a = p.analyze();
    assert_eq!(
        findings(&a),
        [("mutating-call".to_string(), "main.jl".to_string(), 13, 5)]
    );
}

#[test]
fn a_workspace_method_of_a_base_function_does_not_hide_a_mutation() {
    // The workspace's `Base.push!` for its own buffer type runs only for that type: the
    // `push!` on an array literal is still Base's.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote\n\nstruct Buf\n    data::Vector{Any}\nend\nBase.push!(b::Buf, x) = (b.data = vcat(b.data, x); b)\n\ngradient(1) do x\n    push!([], x)\n    return x\nend\n",
    )]);
    let a = p.analyze();
    assert_eq!(
        findings(&a)
            .into_iter()
            .filter(|f| f.0 == "mutating-call")
            .collect::<Vec<_>>(),
        [("mutating-call".to_string(), "main.jl".to_string(), 9, 5)]
    );
}

#[test]
fn messages_name_what_is_written() {
    // `axpy!(a, x, y)` writes `y`; a literal has no name; `_` is never boxed.
    let p = Project::new(&[(
        "main.jl",
        "using Zygote, LinearAlgebra\n\nfunction f(x)\n    y = zeros(3)\n    axpy!(2.0, x, y)\n    push!([], x)\n    _ = 1\n    _ = 2\n    g = () -> (_ = 3; sum(x))\n    return sum(y) + g()\nend\ngradient(f, rand(3))\n",
    )]);
    let a = p.analyze();
    let msgs: Vec<&str> = a.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("`axpy!` modifies `y` in place"),
        "{}",
        msgs[0]
    );
    assert!(
        msgs[1].starts_with("`push!` modifies the array literal at line 6 in place"),
        "{}",
        msgs[1]
    );
}

#[test]
fn a_function_value_passed_by_code_no_entry_runs_is_not_a_value_there() {
    // `map(abs2, x)` may reach the workspace's `Base.map` method for `Grads` (a guess).
    // `report` runs outside every entry: the closure its `map` call passes is no value
    // of that method's `f` under `gradient`, not even as a guess (it was, through two
    // guesses, when every call of the file handed its values to every entry).
    let src = "using Zygote\n\nstruct Grads\n    d::Vector{Float64}\nend\nBase.map(f, g::Grads) = Grads(f(g.d))\nreport(vs) = map(v -> push!(v, 1.0), vs)\nloss(x) = sum(map(abs2, x))\ngradient(loss, [1.0])\nreport(load_data())\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    assert!(findings(&a).is_empty(), "{:?}", findings(&a));
    assert_eq!(a.summary().hidden_guesses, 0);
    assert!(findings(&with_guesses(&p)).is_empty());
    // Called under the entry, `report` runs its closure: a finding.
    let p = Project::new(&[(
        "main.jl",
        &src.replace("sum(map(abs2, x))", "sum(map(abs2, x)) + sum(report([x]))"),
    )]);
    assert_eq!(
        findings(&p.analyze()),
        [("mutating-call".to_string(), "main.jl".to_string(), 7, 23)]
    );
}

#[test]
fn copies_keep_the_kind_of_what_they_copy() {
    // Zygote's test of #1233: `deepcopy` of a `Dict` is a `Dict`, which Zygote writes
    // into; `copy` of a `Buffer` is the array it built; `similar` of an argument of
    // unknown type is taken for an array, as before.
    let src = "using Zygote\n\nfunction update(d, a)\n    nd = deepcopy(d)\n    nd[1] = d[1] * a\n    return nd\nend\nfunction built(x)\n    b = Zygote.Buffer(x)\n    b[1] = x[1]\n    y = copy(b)\n    y[2] = 0.0\n    sum(y)\nend\nfunction alike(x)\n    y = similar(x)\n    y[1] = x[1]\n    sum(y)\nend\nd = Dict(1 => 1.0, 2 => 2.0)\ngradient(d -> sum(values(update(d, 5.0))), d)\ngradient(built, rand(3))\ngradient(alike, rand(3))\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    let got: Vec<(String, usize)> = findings(&a)
        .into_iter()
        .filter(|f| f.0 == "index-assignment")
        .map(|f| (f.0, f.2))
        .collect();
    assert_eq!(
        got,
        [
            ("index-assignment".to_string(), 12),
            ("index-assignment".to_string(), 17)
        ]
    );
}

/// The analysis with findings behind two or more guesses shown (`--include-guesses`).
fn with_guesses(p: &Project) -> adlint::analysis::Analysis {
    p.analyze_with(&adlint::analysis::Options {
        include_guesses: true,
        ..Default::default()
    })
}

/// The rule and line of each finding.
fn rules_and_lines(a: &adlint::analysis::Analysis) -> Vec<(String, usize)> {
    findings(a).into_iter().map(|f| (f.0, f.2)).collect()
}

#[test]
fn a_literal_flag_that_guards_a_call_decides_what_reaches_it() {
    // LuxLib's JVP tests: `test_jvp(f, x, nested=true)` never runs the `Zygote.jacobian`
    // under `if !nested`, so the closure that nests a gradient is not differentiated
    // there. Passed `false`, or by keyword, the same rule holds.
    let src = |call: &str, sig: &str| {
        format!(
            "using Zygote\n\njvp(f, x) = only(Zygote.jacobian(f, x))\nfunction check(f, x{sig})\n    if !nested\n        jvp(f, x)\n    end\n    return nothing\nend\n{call}\ncheck(x -> x .^ 2, rand(2))\n"
        )
    };
    let nest = "x -> only(Zygote.gradient(w -> sum(abs2, w .* x), x)), rand(2)";
    let cases = [
        (
            src(&format!("check({nest}, true)"), ", nested=false"),
            false,
        ),
        (
            src(&format!("check({nest}, false)"), ", nested=false"),
            true,
        ),
        (
            src(&format!("check({nest}; nested=true)"), "; nested=false"),
            false,
        ),
        (src(&format!("check({nest})"), "; nested=false"), true),
        (
            src(&format!("check({nest}; nested=true)"), "; nested=true"),
            false,
        ),
    ];
    for (code, nested_found) in cases {
        let p = Project::new(&[("main.jl", code.as_str())]);
        let a = p.analyze();
        let nested = rules_and_lines(&a).iter().any(|f| f.0 == "nested-ad");
        assert_eq!(nested, nested_found, "{code}\n{:?}", rules_and_lines(&a));
    }
}

#[test]
fn branches_on_the_julia_version_follow_the_manifest() {
    // With Julia 1.10 in the manifest, code under `VERSION >= v"1.11"` and the `else` of
    // `@static if VERSION < v"1.11"` never runs; without a manifest both branches count.
    let code = "using Zygote\n\nfunction f(x)\n    if VERSION >= v\"1.11\"\n        x[1] = 0.0\n    end\n    @static if VERSION < v\"1.11\"\n        y = 2 .* x\n    else\n        y = copy(x)\n        y[2] = 1.0\n    end\n    return sum(x .* y)\nend\ngradient(f, rand(2))\n";
    let manifest = "julia_version = \"1.10.4\"\nmanifest_format = \"2.0\"\n\n[[deps.Zygote]]\nversion = \"0.7.10\"\n";
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        ("Manifest.toml", manifest),
        ("main.jl", code),
    ]);
    assert_eq!(rules_and_lines(&p.analyze()), []);
    let newer = manifest.replace("1.10.4", "1.11.2");
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        ("Manifest.toml", newer.as_str()),
        ("main.jl", code),
    ]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [
            ("index-assignment".to_string(), 5),
            ("index-assignment".to_string(), 11)
        ]
    );
    let a = Project::new(&[("main.jl", code)]).analyze();
    assert_eq!(
        rules_and_lines(&a),
        [
            ("index-assignment".to_string(), 5),
            ("index-assignment".to_string(), 11)
        ]
    );
    // Without a manifest, a finding inside one branch holds on some Julia versions only:
    // a warning that says so (with a manifest, the findings above are errors).
    for (d, (cond, holds)) in a.diagnostics.iter().zip([
        ("`VERSION >= v\"1.11.0\"`", "holds"),
        ("`VERSION < v\"1.11.0\"`", "does not hold"),
    ]) {
        assert_eq!(d.severity, adlint::diagnostic::Severity::Warning);
        let said = format!(
            "this code runs where {cond} {holds}, and no manifest says which Julia runs it"
        );
        assert!(d.message.contains(&said), "{}", d.message);
    }
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        ("Manifest.toml", newer.as_str()),
        ("main.jl", code),
    ]);
    let severities: Vec<_> = p.analyze().diagnostics.iter().map(|d| d.severity).collect();
    assert_eq!(severities, [adlint::diagnostic::Severity::Error; 2]);
}

#[test]
fn methods_are_chosen_by_what_is_known_of_the_arguments() {
    // A solver method for one algorithm type is not what `solve(prob, alg)` runs when
    // `alg` is a `Tsit5()` (its default) or a `TRBDF2()` (what a caller passes): both
    // are types of the workspace whose declared supertypes do not lead to `FwdEulerAlg`.
    // A method for `Grads` does not run for a tuple literal; an array literal goes to
    // the `AbstractVector` method only.
    let src = "using Zygote\n\nabstract type Alg end\nstruct FwdEulerAlg <: Alg end\nstruct Tsit5 <: Alg end\nstruct TRBDF2 <: Alg end\nstruct Grads\n    d::Vector{Float64}\nend\nfunction solve(u, ::FwdEulerAlg)\n    out = zeros(2)\n    out[1] = u\n    out\nend\nsolve(u, ::Alg) = [u, u]\nfunction run(p, alg = Tsit5())\n    return sum(solve(p, alg))\nend\ngradient(p -> run(p), 1.0)\ngradient(p -> run(p, TRBDF2()), 1.0)\nfunction total(g::Grads)\n    g.d[1] = 0.0\n    sum(g.d)\nend\ntotal(x::Tuple) = sum(x)\nfunction scale(v::AbstractVector)\n    return 2 .* v\nend\nfunction scale(v::Grads)\n    v.d .= 2 .* v.d\nend\ngradient(x -> total((x, x)) + sum(scale([x, x])), 1.0)\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    assert_eq!(rules_and_lines(&a), [], "{:?}", rules_and_lines(&a));
    // Given the Euler algorithm, its method runs.
    let euler = src.replace("run(p, TRBDF2())", "run(p, FwdEulerAlg())");
    let p = Project::new(&[("main.jl", euler.as_str())]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [("index-assignment".to_string(), 12)]
    );
}

#[test]
fn a_call_with_more_than_eight_candidate_methods_is_unresolved() {
    // Nothing is known of `y`: nine methods of `f` fit, too many to say which runs. The
    // call is counted as unresolved, not linked to all nine (one of which mutates).
    let mut src = String::from("using Zygote\n\n");
    for i in 0..9 {
        src.push_str(&format!("struct T{i}\n    v::Vector{{Float64}}\nend\n"));
    }
    src.push_str("function f(t::T0)\n    t.v[1] = 0.0\n    sum(t.v)\nend\n");
    for i in 1..9 {
        src.push_str(&format!("f(t::T{i}) = sum(t.v)\n"));
    }
    src.push_str("g(y) = f(y)\ngradient(y -> g(y), load())\n");
    let p = Project::new(&[("main.jl", src.as_str())]);
    let a = p.analyze();
    assert_eq!(rules_and_lines(&a), []);
    let with_eight = src.replace("f(t::T8) = sum(t.v)\n", "");
    let p = Project::new(&[("main.jl", with_eight.as_str())]);
    let b = p.analyze();
    assert_eq!(rules_and_lines(&b), [("index-assignment".to_string(), 31)]);
    assert_eq!(
        a.summary().unresolved_calls,
        b.summary().unresolved_calls + 1
    );
}

#[test]
fn a_call_on_an_object_runs_the_call_method_its_arguments_fit() {
    // SciMLSensitivity's `StochasticTransformedFunction`: `tf(u, p, t)` runs the
    // out-of-place method, not the in-place `tf(du, u, p, t)` that writes `du`.
    let src = "using Zygote\n\nstruct TF\n    k::Float64\nend\nfunction (tf::TF)(du, u, p, t)\n    du .= tf.k .* u\n    return nothing\nend\n(tf::TF)(u, p, t) = tf.k .* u\ntf = TF(2.0)\ngradient(u -> sum(tf(u, nothing, 0.0)), rand(2))\n";
    let p = Project::new(&[("main.jl", src)]);
    assert_eq!(rules_and_lines(&p.analyze()), []);
    let in_place = src.replace(
        "sum(tf(u, nothing, 0.0))",
        "(du = zeros(2); tf(du, u, nothing, 0.0); sum(du))",
    );
    let p = Project::new(&[("main.jl", in_place.as_str())]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [("broadcast-assignment".to_string(), 7)]
    );
}

#[test]
fn a_keyword_parameter_is_a_local_and_typeof_calls_nothing() {
    // SciMLSensitivity's `ForwardLSS(; g = nothing)` builds `ForwardLSS{typeof(g)}(g)`:
    // that `g` is the keyword, not the package's function `g(f, du, u, p, t)` that
    // writes `du`, and `typeof` only looks at its argument.
    let src = "using Zygote\n\nfunction g(f, du, u)\n    copyto!(du, f(u))\n    return nothing\nend\nstruct LSS{G}\n    g::G\nend\nmake(; g = nothing) = LSS{typeof(g)}(g)\nloss(p; alg = make()) = sum(p)\ngradient(p -> loss(p; alg = make()), rand(2))\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    assert_eq!(rules_and_lines(&a), []);
    assert_eq!(a.summary().hidden_guesses, 0);
    // Given the function, it is called where it is called.
    let called = src.replace(
        "make(; g = nothing) = LSS{typeof(g)}(g)",
        "make(; h = nothing) = (g(sin, zeros(1), 1.0); LSS(h))",
    );
    let p = Project::new(&[("main.jl", called.as_str())]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [("broadcast-assignment".to_string(), 4)]
    );
}

#[test]
fn a_version_branch_says_which_julia_runs_the_code_in_it() {
    // Zygote's own test: `@timed` fails only on Julia >= 1.11, and the plain test sits in
    // the `else` of `if VERSION >= v"1.11"`; with no manifest, that branch still runs
    // only on older Julia.
    let src = "using Zygote, Test\n\nif VERSION >= v\"1.11\"\n    g1 = gradient(x -> first(@timed x), 0.0)\nelse\n    g2 = gradient(x -> first(@timed x), 0.0)\nend\n";
    let p = Project::new(&[("main.jl", src)]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [("foreign-call".to_string(), 4)]
    );
}

#[test]
fn the_summary_names_the_calls_that_did_not_resolve() {
    // Unresolved calls in differentiated code, counted by name, most frequent first.
    let src = "using Zygote\n\nfunction loss(x)\n    a = mystery(x)\n    b = mystery(a)\n    return other(b) + mystery(b)\nend\ngradient(loss, 1.0)\n";
    let p = Project::new(&[("main.jl", src)]);
    let s = p.analyze().summary();
    let names: Vec<(String, usize)> = (s.unresolved_names.iter())
        .map(|n| (n.name.clone(), n.count))
        .collect();
    assert_eq!(
        names,
        [("mystery".to_string(), 3), ("other".to_string(), 1)]
    );
}

#[test]
fn an_entry_takes_its_function_from_the_callers_of_the_code_around_it() {
    // Only what may run under an entry is resolved, but the function `gradient` is given
    // comes through two parameters from the top level: the calls of the functions around
    // the entry are followed up to it.
    let src = "using Zygote\n\nfunction check_grad(f, x)\n    gradient(f, x)\nend\nfunction bad(x)\n    y = copy(x)\n    y[1] = 0.0\n    sum(y)\nend\nfunction fine(x)\n    y = copy(x)\n    y[1] = 0.0\n    sum(y)\nend\nrun_all(g) = check_grad(g, rand(3))\nrun_all(bad)\nfine(rand(3))\n";
    let p = Project::new(&[("main.jl", src)]);
    assert_eq!(
        rules_and_lines(&p.analyze()),
        [("index-assignment".to_string(), 8)]
    );
}

#[test]
fn lux_test_gradients_runs_zygote_unless_skipped_and_expects_broken_failures() {
    // LuxTestUtils' `@test_gradients(f, x; ...)` runs `f(x)` under Zygote among its
    // backends: a finding; listed in `broken_backends`, the failure the test expects (a
    // hint); listed in `skip_backends`, Zygote never runs it.
    let src = "using LuxTestUtils, Zygote, Test\n\nfunction bad(x)\n    y = copy(x)\n    y[1] = 0.0\n    sum(y)\nend\nfunction also_bad(x)\n    z = copy(x)\n    z[2] = 1.0\n    sum(z)\nend\nfunction skipped(x)\n    w = copy(x)\n    w[1] = 2.0\n    sum(w)\nend\n@testset \"grads\" begin\n    x = rand(3)\n    @test_gradients(bad, x; atol=1.0f-3)\n    @test_gradients(also_bad, x; broken_backends=[AutoZygote(), AutoEnzyme()])\n    @test_gradients(skipped, x; skip_backends=[AutoZygote()])\nend\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    let got: Vec<(usize, adlint::diagnostic::Severity)> = (findings(&a).iter())
        .zip(&a.diagnostics)
        .map(|(f, d)| (f.2, d.severity))
        .collect();
    use adlint::diagnostic::Severity;
    assert_eq!(got, [(5, Severity::Error), (10, Severity::Info)]);
}

#[test]
fn a_type_parameter_bound_to_a_workspace_type_refuses_a_value_built_without_one() {
    // SciMLSensitivity's `remake(prob::ODEProblem{..., <:ODEForwardSensitivityProblem})`:
    // an `ODEProblem` that SciMLBase's constructor built from a function, arrays and a
    // tuple cannot have the workspace's type as that parameter, so the method is not run.
    let src = "using Zygote, SciMLBase\n\nstruct SensProblem end\n\nfunction SciMLBase.remake(prob::ODEProblem{U, T, I, P, F, K, <:SensProblem}; p = nothing, kwargs...) where {U, T, I, P, F, K}\n    mm = zeros(3)\n    mm[1] = 1.0\n    prob\nend\n\nfunction rhs(du, u, p, t)\n    du[1] = -p[1] * u[1]\nend\n\nfunction run()\n    prob = ODEProblem(rhs, complex([1.0]), (0.0, 1.0), [0.5])\n    function loss(p)\n        _prob = remake(prob; p)\n        sum(_prob.p)\n    end\n    gradient(loss, [0.5])\nend\nrun()\n";
    let p = Project::new(&[("main.jl", src)]);
    assert_eq!(rules_and_lines(&p.analyze()), []);
    // Given keywords (which may carry the type), or a value of unknown type, the method
    // may still run: a guess, as before.
    for built in [
        "ODEProblem(rhs, [1.0], (0.0, 1.0), [0.5]; problem_type = SensProblem())",
        "ODEProblem(rhs, [1.0], (0.0, 1.0), load_parameters())",
    ] {
        let src = src.replace("ODEProblem(rhs, complex([1.0]), (0.0, 1.0), [0.5])", built);
        let p = Project::new(&[("main.jl", src.as_str())]);
        assert_eq!(
            rules_and_lines(&p.analyze()),
            [("index-assignment".to_string(), 7)],
            "{built}"
        );
    }
}

/// The entries that reach a function called from one function only are its caller's: the
/// count follows a line of such functions back to a root or a function of several callers,
/// whichever finding asks first.
#[test]
fn entry_counts_along_lines_of_single_callers() {
    let text = "using Zygote
function f(x)
    x[1] = 0.0
    sum(x)
end
e(x) = (x[1] = 1.0; f(x))
function c(x)
    x[1] = 0.0
    e(x)
end
function b(x)
    x[2] = 0.0
    c(x)
end
function a(x)
    x[3] = 0.0
    b(x)
end
a2(x) = a(x)
gradient(a, rand(3))
gradient(a2, rand(3))
gradient(b, rand(3))
gradient(x -> c(x) + b(x), rand(3))
";
    let p = Project::new(&[("main.jl", text)]);
    let a = p.analyze();
    let count_at = |line: usize| {
        let d = (a.diagnostics.iter())
            .find(|d| a.line_col(d.location.file, d.location.span.start).0 == line)
            .unwrap_or_else(|| panic!("a finding on line {line}"));
        d.entry_count
    };
    // `a`: the entries of `a` and `a2`; `b`: those, its own and the closure's; `c` (called
    // by `b` and the closure), `e` (by `c` only) and `f` (by `e` only): all four.
    assert_eq!(count_at(16), 2);
    assert_eq!(count_at(12), 4);
    assert_eq!(count_at(8), 4);
    assert_eq!(count_at(6), 4);
    assert_eq!(count_at(3), 4);
}

/// A long chain keeps its first and last steps and a guessed step between them, which
/// makes the finding possible; the steps left out are counted where the gap is.
#[test]
fn a_long_chain_keeps_its_ends_and_a_guess_in_the_middle() {
    use adlint::diagnostic::CHAIN_ENDS;
    let n = 80;
    let mut text = String::from("using Zygote\n");
    for i in 0..n {
        if i == 40 {
            // A function given to code adlint does not know, which may call it: a guess.
            text.push_str("f40(x, t) = mystery(f41, x, t)\n");
            continue;
        }
        text.push_str(&format!("f{i}(x, t) = f{}(x, t)\n", i + 1));
    }
    text.push_str(&format!(
        "function f{n}(x, t)\n    x[1] = 0.0\n    sum(x)\nend\ngradient(x -> f0(x, rand_t()), rand(3))\n"
    ));
    let p = Project::new(&[("main.jl", &text)]);
    let a = p.analyze();
    let d = (a.diagnostics.iter())
        .find(|d| d.rule == "index-assignment")
        .expect("the write, possibly reached");
    assert!(d.message.contains("guessed that the call"), "{}", d.message);
    let steps: Vec<(usize, bool, u32)> = d
        .chain_steps()
        .map(|(i, s)| (i, s.possible, s.skipped))
        .collect();
    let len = d.chain_len();
    assert!(len > n, "{len}");
    // The head, the guess and the tail, and nothing else.
    let guesses: Vec<usize> = steps.iter().filter(|s| s.1).map(|s| s.0).collect();
    assert!(
        !guesses.is_empty()
            && guesses
                .iter()
                .all(|&i| i > CHAIN_ENDS && i + CHAIN_ENDS < len)
    );
    assert_eq!(d.chain.len(), 2 * CHAIN_ENDS + guesses.len());
    assert!((0..CHAIN_ENDS).all(|i| steps[i].0 == i && steps[i].2 == 0));
    assert_eq!(steps.last().unwrap().0, len - 1);
    assert_eq!(d.chain_skipped() + d.chain.len(), len);
}

/// A name of many methods, one per argument type, is narrowed by an index of the types its
/// methods annotate (a file of thousands of such methods and calls was quadratic). The
/// index must leave every method the arguments' types may reach: the workspace's
/// supertypes, Base's kinds, and types declared elsewhere, which adlint cannot rule out.
/// (Debug builds also check each call against every method, one by one.)
#[test]
fn a_name_of_many_methods_is_narrowed_by_argument_type() {
    let mut text = String::from(
        "using Zygote\nabstract type Shape end\nabstract type Round <: Shape end\nstruct Sq <: Shape end\nstruct Circ <: Round end\nstruct Other end\n",
    );
    for i in 0..40 {
        text.push_str(&format!("struct T{i} end\nh(::T{i}, x) = x .+ {i}\n"));
    }
    let methods = [
        ("Sq", "1"),
        ("Round", "2"),
        ("AbstractFloat", "3"),
        ("Integer", "4"),
        ("ForeignType", "5"),
        ("Vector", "6"),
    ];
    let mut line_of = std::collections::HashMap::new();
    for (ty, i) in methods {
        line_of.insert(ty, text.lines().count() + 1);
        text.push_str(&format!("h(::{ty}, x) = (x[{i}] = 0.0; x)\n"));
    }
    text.push_str("f(x) = sum(h(Sq(), x)) + sum(h(Circ(), x)) + sum(h(1.0, x)) + sum(h(Other(), x)) + sum(h(T3(), x))\ngradient(f, rand(3))\n");
    let p = Project::new(&[("main.jl", text.as_str())]);
    let a = p.analyze();
    let mut lines: Vec<usize> = (a.diagnostics.iter())
        .map(|d| a.line_col(d.location.file, d.location.span.start).0)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    // `Sq()` runs its own method, `Circ()` its supertype's, `1.0` (a number to adlint)
    // `AbstractFloat`'s or `Integer`'s, and perhaps that of a type adlint does not know;
    // `Vector` and the `T`s refuse all of them, and `Other()` has no method.
    let mut expected = vec![
        line_of["Sq"],
        line_of["Round"],
        line_of["AbstractFloat"],
        line_of["Integer"],
        line_of["ForeignType"],
    ];
    expected.sort_unstable();
    assert_eq!(lines, expected, "{:#?}", findings(&a));
}
