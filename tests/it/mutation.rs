//! Mutation rules: every syntax, every entry API and passing form, escape hatches, target
//! types, cross-file chains, and the negatives the engine issue lists.

use crate::common::{findings, rules_at, Project};

fn wrap(body: &str) -> String {
    format!("using Zygote\n\nfunction loss(x)\n{body}\nend\n\ngradient(loss, rand(3))\n")
}

#[test]
fn index_assignment_syntaxes() {
    let cases = [
        (
            "    z = similar(x)\n    z[1] = 0.0\n    sum(z)",
            vec!["index-assignment@5:5"],
        ),
        (
            "    z = zeros(2, 2)\n    z[1, 2] = 1.0\n    sum(z)",
            vec!["index-assignment@5:5"],
        ),
        (
            "    z = zeros(2, 2)\n    z[:, 2] = x[1:2]\n    sum(z)",
            vec!["index-assignment@5:5"],
        ),
        (
            "    z = copy(x)\n    z[1] += 1.0\n    sum(z)",
            vec!["index-assignment@5:5"],
        ),
        (
            "    z = Vector{Float64}(undef, 3)\n    z[x .> 0] = x\n    sum(z)",
            vec!["index-assignment@5:5"],
        ),
        (
            "    z = [1.0, 2.0]\n    @inbounds z[1] = x[1]\n    sum(z)",
            vec!["index-assignment@5:15"],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(rules_at(&wrap(body)), expected, "{body}");
    }
}

#[test]
fn broadcast_assignment_syntaxes() {
    let cases = [
        (
            "    z = similar(x)\n    z .= x .* 2\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = similar(x)\n    z .+= x\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = similar(x)\n    z .*= 2\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = zeros(3, 3)\n    z[:, 1] .= x\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = similar(x)\n    @. z = x + 1\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = similar(x)\n    broadcast!(sin, z, x)\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = similar(x)\n    copyto!(z, x)\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
        (
            "    z = similar(x)\n    copy!(z, x)\n    sum(z)",
            "broadcast-assignment@5:5",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(rules_at(&wrap(body)), [expected], "{body}");
    }
}

#[test]
fn mutating_calls_from_the_knowledge_table() {
    for (call, sev) in [
        ("push!(z, 1.0)", "error"),
        ("pop!(z)", "error"),
        ("pushfirst!(z, 1.0)", "error"),
        ("popfirst!(z)", "error"),
        ("append!(z, x)", "error"),
        ("fill!(z, 0.0)", "error"),
        ("sort!(z)", "error"),
        ("reverse!(z)", "error"),
        ("cumsum!(z, x)", "error"),
        ("mul!(z, ones(3, 3), x)", "error"),
        ("resize!(z, 2)", "warning"),
        ("deleteat!(z, 1)", "warning"),
    ] {
        let src = wrap(&format!("    z = zeros(3)\n    {call}\n    sum(z)"));
        let p = Project::new(&[("main.jl", &src)]);
        let a = p.analyze();
        assert_eq!(findings(&a).len(), 1, "{call}");
        assert_eq!(a.diagnostics[0].rule, "mutating-call", "{call}");
        assert_eq!(a.diagnostics[0].severity.as_str(), sev, "{call}");
        // The error names the function Zygote's adjoint names: each of push!, pop!,
        // pushfirst! and popfirst! its own (the reference interpreter reads the same row).
        let name = call.split('(').next().unwrap();
        if name.contains("push") || name.contains("pop") {
            let m = &a.diagnostics[0].message;
            let names = [format!("called {name}("), format!("fails at {name} when")];
            assert!(names.iter().any(|n| m.contains(n.as_str())), "{m}");
        }
    }
    let src = wrap("    z = zeros(3)\n    map!(exp, z, x)\n    sum(z)");
    assert_eq!(rules_at(&src), ["mutating-call@5:5"]);
}

#[test]
fn supported_targets_are_quiet() {
    for body in [
        "    d = Dict{Symbol,Float64}()\n    d[:a] = x[1]\n    d[:a]",
        "    d = IdDict()\n    push!(d, 1 => x[1])\n    d[1]",
        "    r = Ref(0.0)\n    r[] = x[1]\n    r[]",
        "    b = Zygote.Buffer(x)\n    b[1] = 2.0\n    b .= x\n    sum(copy(b))",
        "    x = x .* 2\n    sum(x)",
        "    tot = 0.0\n    for v in x\n        tot += v\n    end\n    tot",
        "    rand!(zeros(3))\n    sum(x)",
    ] {
        assert_eq!(rules_at(&wrap(body)), Vec::<String>::new(), "{body}");
    }
}

#[test]
fn fill_and_reverse_on_bool_arrays_are_quiet() {
    // ChainRules declares `fill!` and `reverse!` non-differentiable on arrays of `Bool`
    // (zygote-semantics.md §7 rows 17, 33); index and broadcast writes into them still
    // fail, and so does `fill!` on any other array.
    for body in [
        "    m = falses(length(x))\n    fill!(m, true)\n    sum(x[m])",
        "    m = trues(3)\n    reverse!(m)\n    sum(x[m])",
        "    m = zeros(Bool, 3)\n    fill!(m, true)\n    sum(x[m])",
        "    m = similar(x, Bool)\n    fill!(m, false)\n    sum(x[.!m])",
    ] {
        assert_eq!(rules_at(&wrap(body)), Vec::<String>::new(), "{body}");
    }
    let body = "    m = falses(3)\n    fill!(m, true)\n    m[1] = false\n    m .= x .> 0\n    v = zeros(3)\n    fill!(v, 1.0)\n    sum(x[m]) + sum(v)";
    assert_eq!(
        rules_at(&wrap(body)),
        [
            "index-assignment@6:5",
            "broadcast-assignment@7:5",
            "mutating-call@9:5"
        ],
    );
    // Through a parameter: typed `BitVector`, or bound to `falses(...)` at every call
    // site; one call site with a `Float64` array makes it an error again.
    let src = "using Zygote\n\
        clear!(m::BitVector) = fill!(m, false)\n\
        reset!(m) = fill!(m, false)\n\
        function loss(x)\n    a = falses(3)\n    clear!(a)\n    reset!(a)\n    sum(x)\nend\n\
        gradient(loss, rand(3))\n";
    assert_eq!(rules_at(src), Vec::<String>::new());
    let src = "using Zygote\n\
        reset!(m) = fill!(m, false)\n\
        function loss(x)\n    a = falses(3)\n    reset!(a)\n    reset!(zeros(3))\n    sum(x)\nend\n\
        gradient(loss, rand(3))\n";
    assert_eq!(rules_at(src), ["mutating-call@2:13"]);
}

#[test]
fn buffer_passed_into_a_helper_that_writes_it_is_quiet() {
    let src = r#"using Zygote
function lotka!(du, u)
    du[1] = u[1] * u[2]
    du[2] = -u[2]
    return nothing
end
rhs = u -> begin
    du = Zygote.Buffer(u)
    lotka!(du, u)
    return copy(du)
end
_, back = Zygote.pullback(rhs, [1.0, 1.0])
"#;
    assert_eq!(rules_at(src), Vec::<String>::new());
    let arr = src
        .replace("Zygote.Buffer(u)", "similar(u)")
        .replace("copy(du)", "du");
    assert_eq!(
        rules_at(&arr),
        ["index-assignment@3:5", "index-assignment@4:5"]
    );
}

#[test]
fn unknown_targets_are_assumed_arrays_and_say_so() {
    let src = "using Zygote\nf(x) = (x[1] = 0.0; sum(x))\ngradient(f, load_data())\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    assert_eq!(a.diagnostics.len(), 1);
    assert!(
        (a.diagnostics[0].message)
            .ends_with("adlint assumes `x` is an array: it is the result of `load_data(...)`"),
        "{}",
        a.diagnostics[0].message
    );
}

#[test]
fn entry_calls_bind_the_differentiated_functions_arguments() {
    // `gradient(f, x)` runs `f(x)`: the argument's origin explains the write.
    let src = "using Zygote\nf(x) = (x[1] = 0.0; sum(x))\ngradient(f, rand(3))\n";
    let a = Project::new(&[("main.jl", src)]).analyze();
    assert_eq!(a.diagnostics.len(), 1);
    assert!(
        (a.diagnostics[0].message).ends_with("`x` is an array, made by `rand(...)`"),
        "{}",
        a.diagnostics[0].message
    );
    // DifferentiationInterface runs `f(x, contexts...)`; its Zygote extension wraps a
    // `Cache` in a `Zygote.Buffer`, which may be written (zygote-semantics.md §1.2), and
    // passes a `Constant` through. A non-Zygote backend is no entry and binds nothing.
    let di = |context: &str, backend: &str| {
        format!(
            "using DifferentiationInterface\nusing Zygote\n\
             function g(x, c)\n    c .= 2 .* x\n    c[1] = x[1]\n    return sum(abs2, x)\nend\n\
             x = [1.0, 2.0]\n\
             DifferentiationInterface.gradient(g, {backend}, x, {context}(similar(x)))\n"
        )
    };
    for context in ["Cache", "DifferentiationInterface.Cache"] {
        assert_eq!(
            rules_at(&di(context, "AutoZygote()")),
            Vec::<String>::new(),
            "{context}"
        );
    }
    let src = di("Constant", "AutoZygote()");
    assert_eq!(
        rules_at(&src),
        ["broadcast-assignment@4:5", "index-assignment@5:5"]
    );
    let a = Project::new(&[("main.jl", &src)]).analyze();
    assert!(a.diagnostics[0]
        .message
        .ends_with("`c` is an array, made by `similar(...)`"));
    assert_eq!(
        rules_at(&di("Cache", "AutoForwardDiff()")),
        Vec::<String>::new()
    );
    // `DI.pullback(f, backend, x, ty, contexts...)`: the seed sits between `x` and the
    // contexts, so only `x` is bound; `train!` calls the loss with values of its own.
    let src = "using DifferentiationInterface\nusing Zygote\n\
        h(x, c) = (c[1] = 0.0; sum(x))\n\
        DifferentiationInterface.pullback(h, AutoZygote(), rand(2), (1.0,), Cache(zeros(2)))\n";
    let a = Project::new(&[("main.jl", src)]).analyze();
    assert_eq!(a.diagnostics.len(), 1);
    assert!(a.diagnostics[0]
        .message
        .contains("adlint assumes `c` is an array"));
}

#[test]
fn entry_point_apis() {
    let helper = "function h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n";
    let cases = [
        ("using Zygote", "gradient(h, rand(3))"),
        ("using Zygote", "withgradient(h, rand(3))"),
        ("using Zygote", "y, back = pullback(h, rand(3))"),
        ("using Zygote", "jacobian(h, rand(3))"),
        ("using Zygote", "withjacobian(h, rand(3))"),
        ("using Zygote", "hessian(h, rand(3))"),
        ("import Zygote", "Zygote.hessian_reverse(h, rand(3))"),
        ("using Zygote", "diaghessian(h, rand(3))"),
        ("using Zygote", "h'(rand(3))"),
        ("using Flux", "Flux.gradient(h, rand(3))"),
        ("using Flux", "withgradient(h, rand(3))"),
        (
            "using Flux",
            "Flux.train!((m, x) -> h(x), model, data, opt)",
        ),
        (
            "using DifferentiationInterface, Zygote",
            "DifferentiationInterface.gradient(h, AutoZygote(), rand(3))",
        ),
        (
            "import DifferentiationInterface as DI\nusing ADTypes",
            "DI.value_and_gradient(h, prep, AutoZygote(), rand(3))",
        ),
        (
            "using DifferentiationInterface, ADTypes",
            "backend = AutoZygote()\ngradient(h, backend, rand(3))",
        ),
        (
            "import AbstractDifferentiation as AD",
            "AD.gradient(AD.ZygoteBackend(), h, rand(3))",
        ),
        (
            "using Lux",
            "Training.single_train_step!(AutoZygote(), (m, ps, st, d) -> h(ps), data, ts)",
        ),
        (
            "using Lux",
            "Lux.Training.compute_gradients(AutoZygote(), (m, ps, st, d) -> h(ps), data, ts)",
        ),
        (
            "using ChainRulesCore, Zygote",
            "rrule_via_ad(Zygote.ZygoteRuleConfig(), h, rand(3))",
        ),
    ];
    for (using, call) in cases {
        let src = format!("{using}\n{helper}{call}\n");
        let line = 3 + using.lines().count();
        assert_eq!(
            rules_at(&src),
            [format!("index-assignment@{line}:5")],
            "{call}"
        );
    }
}

#[test]
fn non_zygote_calls_are_not_entries() {
    let helper = "function h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n";
    for (using, call) in [
        ("using ForwardDiff", "ForwardDiff.gradient(h, rand(3))"),
        ("using ForwardDiff", "gradient(h, rand(3))"),
        (
            "using DifferentiationInterface",
            "gradient(h, AutoForwardDiff(), rand(3))",
        ),
        (
            "using Zygote\ngradient(f, x) = f(x)",
            "gradient(h, rand(3))",
        ),
        ("", "gradient(h, rand(3))"),
    ] {
        let src = format!("{using}\n{helper}{call}\n");
        assert_eq!(rules_at(&src), Vec::<String>::new(), "{using} / {call}");
    }
}

#[test]
fn passing_forms_of_the_differentiated_function() {
    let helper = "function h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n";
    for call in [
        "gradient(x -> h(x), rand(3))",
        "gradient(rand(3)) do x\n    h(x)\nend",
        "loss = x -> h(x)\ngradient(loss, rand(3))",
        "gradient(first ∘ h, rand(3))",
        "gradient(Base.Fix1(h2, 1), rand(3))",
        "struct M end\n(m::M)(x) = h(x)\ngradient(M(), rand(3))",
        "train(loss, x) = gradient(loss, x)\ntrain(h, rand(3))",
        "@test gradient(h, rand(3)) isa Tuple",
        "@testset \"t\" begin\n    gradient(h, rand(3))\nend",
    ] {
        let src = format!("using Zygote, Test\n{helper}h2(a, x) = h(x)\n{call}\n");
        assert_eq!(rules_at(&src), ["index-assignment@4:5"], "{call}");
    }
}

#[test]
fn escape_hatches_cut_traversal() {
    let helper = "function h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n";
    for (decl, call) in [
        ("function ChainRulesCore.rrule(::typeof(h), x)\n    h(x), d -> (NoTangent(), d)\nend", "gradient(h, rand(3))"),
        ("ChainRulesCore.rrule(::typeof(h), x) = (h(x), d -> (NoTangent(), d))", "gradient(h, rand(3))"),
        ("const CRC = ChainRulesCore\nfunction CRC.rrule(::typeof(h), x)\n    h(x), d -> (NoTangent(), d)\nend", "gradient(h, rand(3))"),
        ("function ChainRulesCore.rrule(::RuleConfig{>:HasReverseMode}, ::typeof(h), x)\n    h(x), d -> (NoTangent(), d)\nend", "gradient(h, rand(3))"),
        ("import ChainRulesCore: rrule\nfunction rrule(::typeof(h), x)\n    h(x), d -> (NoTangent(), d)\nend", "gradient(h, rand(3))"),
        ("import ChainRulesCore.rrule\nrrule(::typeof(h), x) = (h(x), d -> (NoTangent(), d))", "gradient(h, rand(3))"),
        ("@scalar_rule h(x) 1.0", "gradient(h, rand(3))"),
        ("@non_differentiable h(x)", "gradient(h, rand(3))"),
        ("ChainRulesCore.@non_differentiable h(::Any)", "gradient(h, rand(3))"),
        ("Zygote.@adjoint h(x) = h(x), d -> (d,)", "gradient(h, rand(3))"),
        ("Zygote.@adjoint! function h(x)\n    h(x), d -> (d,)\nend", "gradient(h, rand(3))"),
        ("Zygote.@nograd h", "gradient(h, rand(3))"),
        ("", "gradient(x -> ignore_derivatives(() -> h(x)) + sum(x), rand(3))"),
        ("", "gradient(rand(3)) do x\n    ignore_derivatives() do\n        h(x)\n    end\n    sum(x)\nend"),
        ("", "gradient(x -> (@ignore_derivatives h(x)) + sum(x), rand(3))"),
        ("", "gradient(x -> (Zygote.@ignore h(x)) + sum(x), rand(3))"),
        ("", "gradient(x -> Zygote.ignore(() -> h(x)) + sum(x), rand(3))"),
        ("", "gradient(x -> sum(Zygote.forwarddiff(h, x)), rand(3))"),
        ("", "gradient(x -> sum(ForwardDiff.gradient(h, x)), rand(3))"),
    ] {
        let src = format!("using Zygote, ChainRulesCore, ForwardDiff\n{helper}{decl}\n{call}\n");
        assert_eq!(rules_at(&src), Vec::<String>::new(), "{decl} / {call}");
    }
}

#[test]
fn a_bare_rrule_after_using_alone_is_no_rule() {
    // `using ChainRulesCore` does not let `function rrule(...)` extend ChainRulesCore's
    // function: it defines one of its own that Zygote never calls (zygote-semantics.md
    // §6.1), so `h` is still traversed. In a module, the import must be the module's.
    let src = "using Zygote, ChainRulesCore\n\
        function h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n\
        function rrule(::typeof(h), x)\n    h(x), d -> (NoTangent(), d)\nend\n\
        gradient(h, rand(3))\n";
    assert_eq!(
        rules_at(src),
        ["index-assignment@4:5", "rrule-not-imported@7:10"]
    );
    // Not reported: the function it covers is not differentiated; no ChainRulesCore in
    // scope (some other `rrule`); the name imported.
    let unreached = src.replace("gradient(h, rand(3))", "h(rand(3))");
    assert_eq!(rules_at(&unreached), Vec::<String>::new());
    let other = src.replace("using Zygote, ChainRulesCore", "using Zygote");
    assert_eq!(rules_at(&other), ["index-assignment@4:5"]);
    let imported = src.replace(
        "using Zygote, ChainRulesCore",
        "using Zygote, ChainRulesCore\nimport ChainRulesCore: rrule",
    );
    assert_eq!(rules_at(&imported), Vec::<String>::new());
    let src = "module M\nusing Zygote\nimport ChainRulesCore: rrule\n\
        function h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n\
        rrule(::typeof(h), x) = (h(x), d -> (d,))\n\
        loss(x) = gradient(h, x)\nend\n";
    assert_eq!(rules_at(src), Vec::<String>::new());
}

#[test]
fn opt_out_restores_traversal() {
    let src = "using Zygote, ChainRulesCore\nfunction h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n@non_differentiable h(x)\n@opt_out rrule(::typeof(h), x)\ngradient(h, rand(3))\n";
    assert_eq!(rules_at(src), ["index-assignment@4:5"]);
}

#[test]
fn higher_order_traversal_follows_knowledge() {
    let h = "function h(v)\n    z = zeros(2)\n    z[1] = v\n    v\nend\n";
    for (call, expected) in [
        ("gradient(x -> sum(map(h, x)), rand(3))", true),
        ("gradient(x -> sum(h, x), rand(3))", true),
        ("gradient(x -> sum([h(v) for v in x]), rand(3))", true),
        (
            "gradient(x -> foldl((a, v) -> a + h(v), x; init = 0.0), rand(3))",
            true,
        ),
        (
            "gradient(x -> sum(filter(v -> h(v) > 0, x)), rand(3))",
            false,
        ),
        (
            "gradient(x -> count(v -> h(v) > 0, x) + sum(x), rand(3))",
            false,
        ),
        ("gradient(x -> sum(sort(x; by = h)), rand(3))", false),
        ("gradient(x -> sum(h.(x)), rand(3))", false),
        ("gradient(x -> sum((v -> h(v)).(x)), rand(3))", true),
    ] {
        let src = format!("using Zygote\n{h}{call}\n");
        let got = rules_at(&src);
        assert_eq!(!got.is_empty(), expected, "{call}: {got:?}");
    }
}

#[test]
fn a_function_passed_to_a_helper_is_followed_into_it() {
    // `f(x)` inside `apply` runs whatever its callers pass: known only once the call
    // sites of `apply` (and of `twice`, which hands its own parameter on) are resolved.
    let src = "using Zygote\nfunction g!(x)\n    x[1] = 0.0\n    x\nend\napply(f, x) = f(x)\ntwice(f, x) = apply(f, x)\nloss(x) = sum(twice(g!, copy(x)))\ngradient(loss, rand(3))\n";
    assert_eq!(rules_at(src), ["index-assignment@3:5"]);
    // The same helper handed a function that does not mutate reports nothing.
    let clean = src.replace("twice(g!,", "twice(sin,");
    assert_eq!(rules_at(&clean), Vec::<String>::new());
}

#[test]
fn code_outside_differentiation_is_not_reached() {
    // After gradient returns, in the function that calls pullback, and in functions that
    // no entry reaches.
    let src = r#"using Zygote
unused(x) = (x[1] = 0.0; x)
function train(x)
    acc = zeros(3)
    g, = gradient(v -> sum(v .^ 2), x)
    acc .+= g
    y, back = pullback(v -> sum(v), x)
    acc[1] = y
    return acc
end
train(rand(3))
"#;
    assert_eq!(rules_at(src), Vec::<String>::new());
}

#[test]
fn same_name_in_two_modules_resolves_by_scope() {
    let src = r#"module A
export f
f(x) = (x .= 0; sum(x))
end
module B
export f
f(x) = 2 * sum(x)
end
using .B
using Zygote
gradient(f, rand(3))
"#;
    assert_eq!(rules_at(src), Vec::<String>::new());
    let a = src.replace("using .B", "using .A");
    assert_eq!(rules_at(&a), ["broadcast-assignment@3:9"]);
}

#[test]
fn custom_flux_layer_reached_through_chain() {
    let src = r#"using Flux
struct Scale
    w::Vector{Float64}
end
Flux.@layer Scale
function (s::Scale)(x)
    y = similar(x)
    y .= s.w .* x
    return y
end
model = Chain(Dense(3 => 3), Scale(ones(3)))
loss(m, x) = sum(m(x))
x = rand(3)
Flux.gradient(m -> loss(m, x), model)
"#;
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    let f = findings(&a);
    assert_eq!(
        f,
        [(
            "broadcast-assignment".to_string(),
            "main.jl".to_string(),
            8,
            5
        )]
    );
    let chain = &a.diagnostics[0].chain;
    assert_eq!(&*chain.last().unwrap().function, "(Scale)(...)");
    // The `Chain` built in the program flows to `m`: the layer it holds runs for certain.
    assert!(
        !chain.last().unwrap().possible,
        "a model call on a value that flows there is a certain step"
    );
}

#[test]
fn include_chain_across_files() {
    let p = Project::new(&[
        (
            "src/Pkg.jl",
            "module Pkg\nusing Zygote\ninclude(\"model.jl\")\ninclude(\"train.jl\")\nend\n",
        ),
        (
            "src/model.jl",
            "function g_inner!(x, y)\n    x[1] = y[1]\n    return x\nend\n",
        ),
        (
            "src/train.jl",
            "loss(y) = sum(g_inner!(similar(y), y))\nrun() = gradient(loss, rand(3))\n",
        ),
    ]);
    let a = p.analyze();
    assert_eq!(
        findings(&a),
        [("index-assignment".to_string(), "model.jl".to_string(), 2, 5)]
    );
    let d = &a.diagnostics[0];
    let e = d.entry.as_ref().unwrap();
    assert!(a.workspace.files[e.location.file as usize]
        .path
        .ends_with("src/train.jl"));
}

#[test]
fn include_outside_root_is_refused_and_cycles_end() {
    let p = Project::new(&[
        (
            "a.jl",
            "include(\"b.jl\")\ninclude(\"../../etc/passwd.jl\")\n",
        ),
        ("b.jl", "include(\"a.jl\")\n"),
    ]);
    let a = p.analyze();
    assert!(a
        .workspace
        .warnings
        .iter()
        .any(|w| w.contains("not followed")));
    assert_eq!(a.diagnostics.len(), 0);
}

#[test]
fn reporting_is_limited_to_the_paths_given() {
    let p = Project::new(&[
        (
            "src/model.jl",
            "function g!(x)\n    x[1] = 0.0\n    x\nend\n",
        ),
        (
            "src/train.jl",
            "using Zygote\ngradient(x -> sum(g!(x)), rand(3))\n",
        ),
    ]);
    let only_train = adlint::workspace::Workspace::discover(&[p.path("src/train.jl")]).unwrap();
    let a = adlint::analysis::analyze(only_train, &Default::default());
    assert_eq!(
        a.diagnostics.len(),
        0,
        "the finding is in model.jl, not in the path given"
    );
    let only_model = adlint::workspace::Workspace::discover(&[p.path("src/model.jl")]).unwrap();
    let a = adlint::analysis::analyze(only_model, &Default::default());
    assert_eq!(
        findings(&a).len(),
        1,
        "the entry in train.jl still reaches model.jl"
    );
}

#[test]
fn a_lux_compact_layer_runs_its_do_block() {
    // `@compact(...) do x ... end` makes a layer whose forward pass is the do-block:
    // differentiating the model (here through a composition) reaches it, `@return`
    // included. Building the layer alone differentiates nothing.
    let layer = "using Zygote, Random, Lux\n\
        model = @compact(; d = Dense(5 => 5)) do x\n    y = d(x)\n    y[1] = 0\n    @return y .+ Zygote.gradient(sum, x)[1]\nend\n\
        ps, st = Lux.setup(Random.default_rng(), model)\n\
        x = randn(Float32, 5, 3)\n";
    let src = format!("{layer}Zygote.gradient(Base.Fix1(sum, abs2) ∘ first ∘ model, x, ps, st)\n");
    assert_eq!(rules_at(&src), ["index-assignment@4:5", "nested-ad@5:18"]);
    assert_eq!(rules_at(layer), Vec::<String>::new());
}

#[test]
fn rules_cover_the_argument_types_they_declare() {
    // zygote-semantics.md §6.1: a rule stops traversal "for matching argument types". A
    // declared type that cannot hold what the method takes leaves the method traversed;
    // untyped, overlapping or unknown types keep the rule.
    let src = |decl: &str, method: &str| {
        format!(
            "using Zygote, ChainRulesCore\n\
             function h({method})\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n\
             {decl}\n\
             gradient(h, rand(3, 3))\n"
        )
    };
    for (decl, method, reported) in [
        ("@non_differentiable h(::Vector{Vector{Int}})", "x::AbstractMatrix", true),
        ("@non_differentiable h(::AbstractVector)", "x::Matrix{Float64}", true),
        ("@non_differentiable h(::Real)", "x::AbstractArray", true),
        ("@non_differentiable h(::String)", "x::AbstractMatrix", true),
        ("@non_differentiable h(::AbstractMatrix)", "x::Matrix", false),
        ("@non_differentiable h(::AbstractArray)", "x::AbstractVector", false),
        ("@non_differentiable h(::Any)", "x::AbstractMatrix", false),
        ("@non_differentiable h(::MyArray)", "x::AbstractMatrix", false),
        ("@non_differentiable h(::AbstractVector)", "x", false),
        // No signature: ChainRulesCore refuses the form, so there is no rule.
        ("@non_differentiable h", "x", true),
        (
            "function ChainRulesCore.rrule(::typeof(h), x::AbstractVector)\n    h(x), d -> (NoTangent(), d)\nend",
            "x::AbstractMatrix",
            true,
        ),
        (
            "function ChainRulesCore.rrule(::typeof(h), x::AbstractMatrix)\n    h(x), d -> (NoTangent(), d)\nend",
            "x::AbstractMatrix",
            false,
        ),
    ] {
        let expected: &[&str] = match reported {
            true => &["index-assignment@4:5"],
            false => &[],
        };
        assert_eq!(rules_at(&src(decl, method)), expected, "{decl} / h({method})");
    }
    // Two different struct types of the workspace hold no common value.
    let structs = |declared: &str| {
        format!(
            "using Zygote, ChainRulesCore\nstruct Triggered end\nstruct Reset end\n\
             function h(x, ::Triggered)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n\
             @non_differentiable h(::Any, ::{declared})\n\
             gradient(x -> h(x, Triggered()), rand(3))\n"
        )
    };
    assert_eq!(rules_at(&structs("Reset")), ["index-assignment@6:5"]);
    assert_eq!(rules_at(&structs("Triggered")), Vec::<String>::new());
}

#[test]
fn messages_name_the_written_view_and_the_file_that_made_the_array() {
    let main = "using Zygote\ninclude(\"helper.jl\")\nfunction loss(x)\n    z = similar(x)\n    fill_first!(z)\n    sum(z)\nend\ngradient(loss, rand(3))\n";
    let helper = "function fill_first!(y)\n    y[:, 1] .= 0.0\n    return y\nend\n";
    let p = Project::new(&[("main.jl", main), ("helper.jl", helper)]);
    let a = p.analyze();
    assert_eq!(a.diagnostics.len(), 1);
    let m = &a.diagnostics[0].message;
    assert!(m.starts_with("`y[...] .= ...` writes into an array"), "{m}");
    // The path as every format shows paths (absolute here: the project is not below the
    // working directory).
    let place = format!("made by `similar(...)` ({}:4)", p.path("main.jl").display());
    assert!(m.ends_with(&place), "{m}");
}

#[test]
fn a_fields_declared_type_is_its_origin() {
    // A write into a field declared `Dict` is supported; one declared `Vector` is a write
    // into an array, and the message says where that is known from.
    let src = "using Zygote\nstruct Model\n    w::Vector{Float64}\n    cache::Dict{Int,Float64}\n    other\nend\n\
        function (m::Model)(x)\n    m.cache[1] = sum(x)\n    m.w[1] = 0.0\n    m.other[1] = 0.0\n    sum(m.w .* x)\nend\n\
        m = Model(zeros(3), Dict{Int,Float64}(), zeros(3))\ngradient(x -> m(x), rand(3))\n";
    assert_eq!(
        rules_at(src),
        ["index-assignment@9:5", "index-assignment@10:5"]
    );
    let a = Project::new(&[("main.jl", src)]).analyze();
    assert!(a.diagnostics[0]
        .message
        .ends_with("`m.w` is an array, the field `Model.w` declared `Vector{Float64}`"));
    assert!(a.diagnostics[1]
        .message
        .ends_with("`m.other` is a field whose type is not known"));
}
