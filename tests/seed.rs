//! The examples of Zygote's limitations page (../shared/seed/zygote-limitations.txt).

mod common;
use common::rules_at;

#[test]
fn f_bang_in_do_block_is_a_broadcast_assignment() {
    let src = r#"using Zygote

function f!(x)
    x .= 2 .* x
    return x
end

gradient(rand(3)) do x
    sum(f!(x))
end
"#;
    assert_eq!(rules_at(src), ["broadcast-assignment@4:5"]);
}

#[test]
fn g_outer_reaches_g_inner_bang_and_g_better_is_clean() {
    let src = r#"using Zygote

function g_inner!(x, y)
    for i in eachindex(x, y)
        x[i] = 2 * y[i]
    end
    return x
end

function g_outer(y)
    z = similar(y)
    g_inner!(z, y)
    return z
end

g_better(y) = 2 .* y

gradient(y -> sum(g_outer(y)), rand(3))
gradient(y -> sum(g_better(y)), rand(3))
"#;
    assert_eq!(rules_at(src), ["index-assignment@5:9"]);
}

#[test]
fn g_inner_chain_and_origin_are_explained() {
    let src = r#"using Zygote

function g_inner!(x, y)
    for i in eachindex(x, y)
        x[i] = 2 * y[i]
    end
    return x
end

function g_outer(y)
    z = similar(y)
    g_inner!(z, y)
    return z
end

gradient(y -> sum(g_outer(y)), rand(3))
"#;
    let p = common::Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    assert_eq!(a.diagnostics.len(), 1);
    let d = &a.diagnostics[0];
    let chain: Vec<&str> = d.chain.iter().map(|s| s.function.as_str()).collect();
    assert_eq!(
        chain,
        ["anonymous function at line 16", "g_outer", "g_inner!"]
    );
    assert!(
        d.message
            .contains("`x` is an array, made by `similar(...)` (line 11)"),
        "{}",
        d.message
    );
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.entry.as_ref().unwrap().api, "Zygote.gradient");
}

#[test]
fn jclock_with_rrule_is_cut() {
    // The foreign call itself is the foreigncall rule's business; with an rrule nothing
    // inside jclock is differentiated, so no mutation can be reported there either.
    let src = r#"using Zygote, ChainRulesCore

function jclock(x)
    buf = zeros(2)
    buf[1] = x
    return ccall(:clock, Int32, ()) * x
end

function ChainRulesCore.rrule(::typeof(jclock), x)
    y = jclock(x)
    pb(ȳ) = (ChainRulesCore.NoTangent(), ȳ * y)
    return y, pb
end

gradient(jclock, rand())
"#;
    assert_eq!(rules_at(src), Vec::<String>::new());
}
