//! The examples of Zygote's limitations page (../shared/seed/zygote-limitations.txt).

use crate::common::rules_at;

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

/// The limitations page's `g_inner!`/`g_outer`, starting at line 3 after `using Zygote`.
const G_OUTER: &str = "function g_inner!(x, y)\n    for i in eachindex(x, y)\n        x[i] = 2 * y[i]\n    end\n    return x\nend\n\nfunction g_outer(y)\n    z = similar(y)\n    g_inner!(z, y)\n    return z\nend\n";

#[test]
fn g_outer_reaches_g_inner_bang_and_g_better_is_clean() {
    let src = format!(
        "using Zygote\n\n{G_OUTER}\ng_better(y) = 2 .* y\n\ngradient(y -> sum(g_outer(y)), rand(3))\ngradient(y -> sum(g_better(y)), rand(3))\n"
    );
    assert_eq!(rules_at(&src), ["index-assignment@5:9"]);
}

#[test]
fn g_inner_chain_and_origin_are_explained() {
    let src = format!("using Zygote\n\n{G_OUTER}\ngradient(y -> sum(g_outer(y)), rand(3))\n");
    let p = crate::common::Project::new(&[("main.jl", &src)]);
    let a = p.analyze();
    assert_eq!(a.diagnostics.len(), 1);
    let d = &a.diagnostics[0];
    let chain: Vec<&str> = d.chain.iter().map(|s| &*s.function).collect();
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
