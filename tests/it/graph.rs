//! `adlint graph`: the DOT text of the bundled example (a snapshot, `docs/graph-example.dot`,
//! rewritten by `ADLINT_BLESS=1 cargo test --test it graph`), escape hatches and guessed
//! calls, `--entry`, its errors, and the SVG through Graphviz when `dot` is installed.

use crate::common::{run_adlint as adlint, Project};
use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn has_dot() -> bool {
    let found = Command::new("dot").arg("-V").output().is_ok();
    if !found {
        eprintln!("note: Graphviz's `dot` is not installed; the SVG rendering is not checked");
    }
    found
}

/// The project of the escape-hatch cases: `∂f` writes into an array and calls `covered`
/// (`@non_differentiable`) and `σ`, which holds an `@ignore_derivatives` region and a
/// write; `Base.copy` of a struct is a guessed call from `guess`; `other` is a second
/// entry's function.
fn hatches() -> Project {
    Project::new(&[(
        "src/M.jl",
        r#"module M
using Zygote, ChainRulesCore

function ∂f(x)
    y = copy(x)
    y[1] = 0.0
    return sum(y) + covered(x) + σ(x)
end

function covered(x)
    z = copy(x)
    z[1] = 1.0
    return sum(z)
end
ChainRulesCore.@non_differentiable covered(::Any)

function σ(x)
    Zygote.@ignore_derivatives println("logging")
    w = zeros(3)
    w[2] = 1.0
    return sum(w .* x)
end

function other(x)
    v = copy(x)
    v[1] = 0
    sum(v)
end

struct MyT
    v::Vector{Float64}
end
function Base.copy(t::MyT)
    t.v[1] = 0.0
    return t
end
guess(x) = sum(copy(x))

loss(x) = ∂f(x)
train() = Zygote.gradient(loss, rand(3))
train2() = Zygote.gradient(other, rand(3))
train3() = Zygote.gradient(guess, rand(3))
end
"#,
    )])
}

/// The label of each node of a DOT text, by its id.
fn labels(dot: &str) -> std::collections::BTreeMap<String, String> {
    dot.lines()
        .filter(|l| !l.contains("->"))
        .filter_map(|l| {
            let (id, rest) = l.trim().split_once(" [ label = \"")?;
            let end = rest.find("\" ")?;
            Some((id.to_string(), rest[..end].to_string()))
        })
        .collect()
}

/// The arrow lines of a DOT text as (from label's first line, to label's first line,
/// attributes).
fn arrows(dot: &str) -> Vec<(String, String, String)> {
    let names = labels(dot);
    let first = |id: &str| names[id].split("\\n").next().unwrap().to_string();
    dot.lines()
        .filter_map(|l| {
            let (ends, attrs) = l.trim().split_once(" [ ")?;
            let (a, b) = ends.split_once(" -> ")?;
            Some((
                first(a),
                first(b),
                attrs.trim_end_matches(']').trim().to_string(),
            ))
        })
        .collect()
}

#[test]
fn the_example_graph_matches_its_snapshot_and_renders() {
    let (code, dot, err) = adlint(&["graph", "examples"], repo());
    assert_eq!(code, 0, "{err}");
    let snapshot = repo().join("docs/graph-example.dot");
    if std::env::var_os("ADLINT_BLESS").is_some() {
        std::fs::write(&snapshot, &dot).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap();
    assert_eq!(
        dot, expected,
        "docs/graph-example.dot is out of date; run ADLINT_BLESS=1 cargo test --test it graph and regenerate docs/graph-example.svg (docs/graph.md says how)"
    );
    // Entry, the functions of the chains, the three findings.
    let a = arrows(&dot);
    for (from, to) in [
        ("entry: Flux.withgradient", "anonymous function at line 15"),
        ("anonymous function at line 15", "loss"),
        ("loss", "add_squares"),
        ("loss", "(Scaled)(...)"),
        ("add_squares", "error: index-assignment"),
        ("(Scaled)(...)", "error: broadcast-assignment"),
    ] {
        assert!(
            a.iter().any(|(f, t, _)| f == from && t == to),
            "{from} -> {to} in {a:?}"
        );
    }
    assert_eq!(
        labels(&dot)
            .values()
            .filter(|l| l.starts_with("error: "))
            .count(),
        3
    );
    // `standardize` is called but holds no finding: not drawn.
    assert!(!dot.contains("standardize"), "{dot}");
    if has_dot() {
        let (code, svg, err) = adlint(&["graph", "examples", "--format", "svg"], repo());
        assert_eq!(code, 0, "{err}");
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{svg}"
        );
        // One drawn group per node and per arrow, with the labels as text.
        assert_eq!(
            svg.matches("class=\"node\"").count(),
            labels(&dot).len(),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"edge\"").count(), a.len(), "{svg}");
        assert!(svg.contains(">entry: Flux.withgradient</text>"), "{svg}");
        assert!(svg.contains(">examples/src/layers.jl:15:5</text>"), "{svg}");
    }
}

#[test]
fn escape_hatches_guesses_and_unicode_names_are_drawn() {
    let p = hatches();
    let (code, dot, err) = adlint(&["graph", "."], p.dir.path());
    assert_eq!(code, 0, "{err}");
    let a = arrows(&dot);
    let find = |from: &str, to: &str| {
        (a.iter())
            .find(|(f, t, _)| f == from && t == to)
            .map(|(_, _, attrs)| attrs.clone())
            .unwrap_or_else(|| panic!("{from} -> {to} in {a:?}"))
    };
    assert_eq!(find("loss", "∂f"), "label = \"line 39\"");
    // The rule-covered callee and the region stop Zygote: tee arrows to octagons.
    assert!(find("∂f", "covered").contains("arrowhead = tee"), "{dot}");
    assert!(
        find("σ", "@ignore_derivatives region").contains("arrowhead = tee"),
        "{dot}"
    );
    let names = labels(&dot);
    assert!(
        names
            .values()
            .any(|l| l == "covered\\nsrc/M.jl:10\\ncovered by @non_differentiable (src/M.jl:15)"),
        "{names:?}"
    );
    assert!(dot.contains("shape = octagon"), "{dot}");
    // Nothing behind the hatch: `covered`'s own write is no finding.
    assert!(
        !names.values().any(|l| l.contains("src/M.jl:12:")),
        "{names:?}"
    );
    // The guessed call into `Base.copy` is dashed; certain calls are not.
    assert!(
        find("guess", "Base.copy").contains("style = dashed"),
        "{dot}"
    );
    assert!(!find("loss", "∂f").contains("dashed"), "{dot}");
    // Three entries reach findings.
    assert_eq!(
        names.values().filter(|l| l.starts_with("entry: ")).count(),
        3
    );
    // The same code gives the same text.
    let (_, again, _) = adlint(&["graph", "."], p.dir.path());
    assert_eq!(dot, again);
}

#[test]
fn entry_selects_one_entry_point() {
    let p = hatches();
    let (code, dot, err) = adlint(&["graph", ".", "--entry", "src/M.jl:41"], p.dir.path());
    assert_eq!(code, 0, "{err}");
    let names = labels(&dot);
    let entries: Vec<&String> = names
        .values()
        .filter(|l| l.starts_with("entry: "))
        .collect();
    assert_eq!(entries, ["entry: Zygote.gradient\\nsrc/M.jl:41"], "{dot}");
    assert!(names.values().any(|l| l.starts_with("other\\n")), "{dot}");
    assert!(!names.values().any(|l| l.starts_with("∂f\\n")), "{dot}");
    assert_eq!(
        names
            .values()
            .filter(|l| l.starts_with("error: "))
            .collect::<Vec<_>>(),
        ["error: index-assignment\\nsrc/M.jl:26:5"]
    );
    // The absolute path names the same file.
    let abs = format!("{}:41", p.path("src/M.jl").display());
    let (code, by_abs, _) = adlint(&["graph", ".", "--entry", &abs], p.dir.path());
    assert_eq!(code, 0);
    assert_eq!(by_abs, dot);
}

#[test]
fn a_bad_entry_is_a_clear_error() {
    let p = hatches();
    for (arg, says) in [
        ("src/M.jl", "is not FILE:LINE"),
        ("src/M.jl:x", "`x` is not a line number"),
        ("src/M.jl:0", "`0` is not a line number"),
        ("src/M.jl:3", "no entry point at src/M.jl:3; the entry points are:\n  src/M.jl:40 Zygote.gradient\n  src/M.jl:41 Zygote.gradient\n  src/M.jl:42 Zygote.gradient"),
        ("src/nothere.jl:40", "no entry point at src/nothere.jl:40"),
    ] {
        let (code, out, err) = adlint(&["graph", ".", "--entry", arg], p.dir.path());
        assert_eq!(code, 2, "{arg}: {err}");
        assert!(out.is_empty(), "{arg}: {out}");
        assert!(err.contains(says), "{arg}: {err}");
    }
}

#[test]
fn svg_without_graphviz_says_how_to_get_it() {
    let p = hatches();
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_adlint"))
        .args(["graph", ".", "--format", "svg"])
        .current_dir(p.dir.path())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs Graphviz's `dot` on PATH"), "{err}");
}

#[test]
fn output_file_holds_what_stdout_would() {
    let p = hatches();
    let (_, dot, _) = adlint(&["graph", "."], p.dir.path());
    let (code, out, err) = adlint(&["graph", ".", "-o", "g.dot"], p.dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    assert_eq!(std::fs::read_to_string(p.path("g.dot")).unwrap(), dot);
}

#[test]
fn dot_strings_are_escaped() {
    use adlint::render::graph::escape;
    assert_eq!(escape(r#"say "hi""#), r#"say \"hi\""#);
    assert_eq!(escape(r"a\b"), r"a\\b");
    assert_eq!(escape("∂f σ"), "∂f σ");
    // A line break or escape character in a name is shown, not obeyed.
    assert_eq!(escape("a\nb"), r"a\\nb");
    assert_eq!(escape("a\u{1b}b"), r"a\\u{1b}b");
}

#[test]
fn a_path_with_quotes_and_backslashes_gives_valid_dot() {
    let text = "using Zygote\nfunction f(x)\n    y = copy(x)\n    y[1] = 0.0\n    sum(y)\nend\ngradient(f, rand(3))\n";
    let p = Project::new(&[(r#"src/we"ird\name.jl"#, text)]);
    let (code, dot, err) = adlint(&["graph", "."], p.dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(dot.contains(r#"src/we\"ird\\name.jl:7"#), "{dot}");
    if has_dot() {
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        // The label's text, quote and backslash included (as XML).
        assert!(svg.contains(r"src/we&quot;ird\name.jl:7"), "{svg}");
    }
}

#[test]
fn a_region_adlint_cannot_read_is_no_escape_hatch() {
    // Zygote goes into `@turbo` code; adlint only cannot read it. `@ignore_derivatives`
    // keeps Zygote out.
    let text = "using Zygote, LoopVectorization\nfunction f(x)\n    s = 0.0\n    @turbo for i in eachindex(x)\n        s += x[i]\n    end\n    Zygote.@ignore_derivatives println(s)\n    y = copy(x)\n    y[1] = s\n    sum(y)\nend\ngradient(f, rand(3))\n";
    let p = Project::new(&[("main.jl", text)]);
    let (code, dot, err) = adlint(&["graph", "."], p.dir.path());
    assert_eq!(code, 0, "{err}");
    let names = labels(&dot);
    let hatches: Vec<&String> = names.values().filter(|l| l.contains(" region")).collect();
    assert_eq!(
        hatches,
        ["@ignore_derivatives region\\nmain.jl:7\\nnot differentiated"],
        "{dot}"
    );
}
