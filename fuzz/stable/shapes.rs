//! Input shapes for the size-scaling mode of the stable fuzz driver (`--scale`, in
//! `scale.rs`): generators of Julia text parameterised by `n`, each repeating or nesting one
//! construct `n` times, so that the text grows linearly with `n` (no indentation that grows
//! with depth). Most put a finding where the rules look (a write into an array under a
//! `gradient`), so that every phase has work to do: rules, fixes, the interpreter's entry.
//!
//! `tests/it/scaling.rs` includes this file to build its inputs.

use std::fmt::Write as _;

/// Files of a generated package: (path under the package root, text). The first is the
/// one a phase starts from (the file the language server opens, the one `confirm` runs).
pub type Files = Vec<(String, String)>;

pub struct Shape {
    pub name: &'static str,
    pub gen: fn(usize) -> Files,
}

const HEAD: &str = "using Zygote\n";
const TAIL: &str = "gradient(f, rand(3))\n";

fn one(text: String) -> Files {
    vec![("src/main.jl".to_string(), text)]
}

/// `function f(x)` around `body` (which ends its lines), then an entry on `f`.
fn in_f(body: &str) -> Files {
    one(format!(
        "{HEAD}function f(x)\n{body}    sum(x)\nend\n{TAIL}"
    ))
}

/// `y = <e>` in `f`, then a write into `x`.
fn expr(e: &str) -> Files {
    in_f(&format!("    y = {e}\n    x[1] = 0.0\n"))
}

/// `y = first sep item sep item ...` (`n` operands) in `f`, then a write into `x`.
fn chain(n: usize, first: &str, sep: &str, item: &str) -> Files {
    let mut s = String::from(first);
    for _ in 1..n {
        s.push_str(sep);
        s.push_str(item);
    }
    expr(&s)
}

/// `open` n times, `inner`, `close` n times, inside `f`.
fn nest(n: usize, open: &str, inner: &str, close: &str) -> Files {
    let mut s = String::new();
    s.push_str(&open.repeat(n));
    s.push_str(inner);
    s.push_str(&close.repeat(n));
    in_f(&s)
}

/// Each line of `line(i)` for i in 0..n, inside `f`.
fn lines_in_f(n: usize, line: impl Fn(usize) -> String) -> Files {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&line(i));
    }
    in_f(&s)
}

/// The shapes, by name.
pub const SHAPES: &[Shape] = &[
    // Long chains of binary operators, left- and right-associative.
    Shape {
        name: "plus-chain",
        gen: |n| chain(n, "x", " + ", "x"),
    },
    Shape {
        name: "broadcast-chain",
        gen: |n| chain(n, "x", " .+ ", "x"),
    },
    Shape {
        name: "times-chain",
        gen: |n| chain(n, "x", " * ", "1.0"),
    },
    Shape {
        name: "pipe-chain",
        gen: |n| chain(n, "x", " |> ", "identity"),
    },
    Shape {
        name: "and-chain",
        gen: |n| chain(n, "true", " && ", "true"),
    },
    Shape {
        name: "compare-chain",
        gen: |n| chain(n, "1", " <= ", "1"),
    },
    Shape {
        name: "power-chain",
        gen: |n| chain(n, "1.0", "^", "1.0"),
    },
    Shape {
        name: "ternary-chain",
        gen: |n| expr(&format!("{}0.0", "true ? 1.0 : ".repeat(n))),
    },
    Shape {
        name: "pair-chain",
        gen: |n| chain(n, "1", " => ", "1"),
    },
    Shape {
        name: "string-concat",
        gen: |n| chain(n, "\"a\"", " * ", "\"a\""),
    },
    Shape {
        name: "assign-chain",
        gen: |n| {
            let mut s = String::from("    ");
            for i in 0..n {
                write!(s, "a{i} = ").unwrap();
            }
            s.push_str("x\n    a0[1] = 0.0\n");
            in_f(&s)
        },
    },
    Shape {
        name: "unary-chain",
        gen: |n| expr(&format!("{}x", "- ".repeat(n))),
    },
    Shape {
        name: "closure-chain",
        gen: |n| {
            let mut s = String::from("    g = ");
            for i in 0..n {
                write!(s, "a{i} -> ").unwrap();
            }
            s.push_str("x\n    x[1] = 0.0\n");
            in_f(&s)
        },
    },
    Shape {
        name: "macro-chain",
        gen: |n| in_f(&format!("    {}x[1] = 0.0\n", "@inbounds ".repeat(n))),
    },
    Shape {
        name: "index-chain",
        gen: |n| expr(&format!("x{}", "[1]".repeat(n))),
    },
    Shape {
        name: "field-chain",
        gen: |n| expr(&format!("x{}", ".a".repeat(n))),
    },
    // Deep nesting of each bracket kind (refused past the nesting cap) and of each block.
    Shape {
        name: "nested-parens",
        gen: |n| expr(&format!("{}x{}", "(".repeat(n), ")".repeat(n))),
    },
    Shape {
        name: "nested-brackets",
        gen: |n| expr(&format!("{}x{}", "[".repeat(n), "]".repeat(n))),
    },
    Shape {
        name: "nested-calls",
        gen: |n| expr(&format!("{}x{}", "identity(".repeat(n), ")".repeat(n))),
    },
    Shape {
        name: "nested-begin",
        gen: |n| nest(n, "begin\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-if",
        gen: |n| nest(n, "if true\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-for",
        gen: |n| nest(n, "for i in 1:1\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-while",
        gen: |n| nest(n, "while false\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-let",
        gen: |n| nest(n, "let\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-try",
        gen: |n| nest(n, "try\n", "x[1] = 0.0\n", "catch\nend\n"),
    },
    Shape {
        name: "nested-function",
        gen: |n| nest(n, "function g(x)\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-closure",
        gen: |n| nest(n, "h = function (x)\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        // Each level re-binds the captured `g` (a boxed-variable finding) and writes into
        // `x` (an index-assignment finding), reached through a chain as long as its depth.
        name: "nested-closure-writes",
        gen: |n| nest(n, "g = y -> begin\nx[1] = 0.0\n", "", "end\n"),
    },
    Shape {
        // Each closure captures `g`, which `f` re-binds before each: one boxed variable
        // seen by every closure, assigned as often.
        name: "many-closures-one-boxed",
        gen: |n| lines_in_f(n, |i| format!("    g = {i}.0\n    h{i} = y -> y + g\n")),
    },
    Shape {
        // A local allocated again before each write into it.
        name: "reallocated-writes",
        gen: |n| lines_in_f(n, |_| "    y = zeros(3)\n    y[1] = x[1]\n".to_string()),
    },
    Shape {
        name: "nested-function-writes",
        gen: |n| nest(n, "function g(y)\nx[1] = 0.0\n", "", "end\n"),
    },
    Shape {
        name: "nested-if-writes",
        gen: |n| nest(n, "if x[1] > 0\nx[1] = 0.0\n", "", "end\n"),
    },
    Shape {
        name: "nested-do",
        gen: |n| nest(n, "foreach(1:1) do i\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-quote",
        gen: |n| nest(n, "quote\n", "x[1] = 0.0\n", "end\n"),
    },
    Shape {
        name: "nested-module",
        gen: |n| {
            let mut s = String::from(HEAD);
            s.push_str(&"module M\n".repeat(n));
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(x)\nend\n");
            s.push_str(TAIL);
            s.push_str(&"end\n".repeat(n));
            one(s)
        },
    },
    Shape {
        name: "unclosed-begin",
        gen: |n| {
            one(format!(
                "{HEAD}function f(x)\n    x[1] = 0.0\n{}",
                "begin\n".repeat(n)
            ))
        },
    },
    // Many of one thing.
    Shape {
        name: "many-functions",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "h{i}(x) = x .+ {i}").unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(h0(x))\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "call-chain",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "f{i}(x) = f{}(x)", i + 1).unwrap();
            }
            writeln!(s, "function f{n}(x)\n    x[1] = 0.0\n    sum(x)\nend").unwrap();
            s.push_str("gradient(f0, rand(3))\n");
            one(s)
        },
    },
    Shape {
        // A finding in each function of the chain, each reached through all before it.
        name: "call-chain-writes",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(
                    s,
                    "function f{i}(x)\n    x[1] = 0.0\n    f{}(x)\nend",
                    i + 1
                )
                .unwrap();
            }
            writeln!(s, "f{n}(x) = sum(x)").unwrap();
            s.push_str("gradient(f0, rand(3))\n");
            one(s)
        },
    },
    Shape {
        name: "call-chain-reversed",
        gen: |n| {
            let mut s = String::from(HEAD);
            writeln!(s, "function f{n}(x)\n    x[1] = 0.0\n    sum(x)\nend").unwrap();
            for i in (0..n).rev() {
                writeln!(s, "f{i}(x) = f{}(x)", i + 1).unwrap();
            }
            s.push_str("gradient(f0, rand(3))\n");
            one(s)
        },
    },
    Shape {
        name: "call-cycle",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(
                    s,
                    "f{i}(x, k) = k > 0 ? f{}(x, k - 1) : sum(x)",
                    (i + 1) % n
                )
                .unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n    f0(x, 3)\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-methods",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "g(x, ::Val{{{i}}}) = x .+ {i}").unwrap();
            }
            s.push_str("g(x) = (x[1] = 0.0; x)\nf(x) = sum(g(x)) + sum(g(x, Val(0)))\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "methods-one-per-type",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "struct T{i} end\ng(::T{i}, x) = x .+ {i}").unwrap();
            }
            s.push_str("struct Bad end\ng(::Bad, x) = (x[1] = 0.0; x)\nfunction f(x)\n");
            for i in 0..n {
                writeln!(s, "    x = g(T{i}(), x)").unwrap();
            }
            s.push_str("    sum(g(Bad(), x))\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-calls-one-name",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "g(x::Val{{{i}}}) = {i}").unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n");
            for i in 0..n {
                writeln!(s, "    g(Val({i}))").unwrap();
            }
            s.push_str("    sum(x)\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-entries",
        gen: |n| {
            let mut s = String::from(HEAD);
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(x)\nend\n");
            for _ in 0..n {
                s.push_str(TAIL);
            }
            one(s)
        },
    },
    Shape {
        name: "many-entry-functions",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(
                    s,
                    "f{i}(x) = (x[1] = {i}.0; sum(x))\ngradient(f{i}, rand(3))"
                )
                .unwrap();
            }
            one(s)
        },
    },
    Shape {
        name: "many-findings",
        gen: |n| lines_in_f(n, |_| "    x[1] = 0.0\n".to_string()),
    },
    Shape {
        name: "many-findings-one-line",
        gen: |n| {
            // Non-ASCII before each finding, so that columns in UTF-16 differ from bytes.
            let mut s = String::from("    ");
            for _ in 0..n {
                s.push_str("α = 1; x[1] = α; ");
            }
            s.push('\n');
            in_f(&s)
        },
    },
    Shape {
        name: "many-fixable-functions",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(
                    s,
                    "function b{i}(y)\n    z = similar(y)\n    z .= sin.(y)\n    return sum(z)\nend\ngradient(b{i}, rand(3))"
                )
                .unwrap();
            }
            one(s)
        },
    },
    Shape {
        name: "fixable-one-function",
        gen: |n| {
            let mut s = String::from(HEAD);
            s.push_str("function f(y)\n    t = 0.0\n");
            for i in 0..n {
                writeln!(
                    s,
                    "    z{i} = similar(y)\n    z{i} .= sin.(y)\n    t += sum(z{i})"
                )
                .unwrap();
            }
            s.push_str("    return t\nend\ngradient(f, rand(3))\n");
            one(s)
        },
    },
    Shape {
        name: "fill-loops-one-function",
        gen: |n| {
            let mut s = String::from(HEAD);
            s.push_str("function f(y)\n    t = 0.0\n");
            for i in 0..n {
                writeln!(
                    s,
                    "    z{i} = similar(y)\n    for i in eachindex(y)\n        z{i}[i] = 2 * y[i]\n    end\n    t += sum(z{i})"
                )
                .unwrap();
            }
            s.push_str("    return t\nend\ngradient(f, rand(3))\n");
            one(s)
        },
    },
    Shape {
        name: "many-lines",
        gen: |n| {
            lines_in_f(n, |i| format!("    a{i} = {i}\n"))
                .map_first(|t| t.replace("    sum(x)\n", "    x[1] = 0.0\n    sum(x)\n"))
        },
    },
    Shape {
        name: "long-line",
        gen: |n| {
            let mut s = String::from("    ");
            for i in 0..n {
                write!(s, "a{i} = {i}; ").unwrap();
            }
            s.push_str("x[1] = 0.0\n");
            in_f(&s)
        },
    },
    Shape {
        name: "many-locals-flow",
        gen: |n| {
            let mut s = String::from("    y0 = x\n");
            for i in 1..n {
                writeln!(s, "    y{i} = y{}", i - 1).unwrap();
            }
            writeln!(s, "    y{}[1] = 0.0", n.saturating_sub(1)).unwrap();
            in_f(&s)
        },
    },
    Shape {
        name: "rebinding",
        gen: |n| {
            let mut s = String::from("    y = x\n");
            for _ in 0..n {
                s.push_str("    y = identity(y)\n");
            }
            s.push_str("    y[1] = 0.0\n");
            in_f(&s)
        },
    },
    Shape {
        name: "elseif-chain",
        gen: |n| {
            let mut s = String::from("    if x[1] > 0\n        x[1] = 0.0\n");
            for i in 0..n {
                writeln!(s, "    elseif x[1] > {i}\n        x[2] = {i}.0").unwrap();
            }
            s.push_str("    end\n");
            in_f(&s)
        },
    },
    Shape {
        name: "many-try",
        gen: |n| {
            lines_in_f(n, |_| {
                "    try\n        x[1] = 0.0\n    catch\n    end\n".into()
            })
        },
    },
    Shape {
        name: "many-loops",
        gen: |n| {
            lines_in_f(n, |_| {
                "    for i in 1:2\n        x[i] = 0.0\n    end\n".into()
            })
        },
    },
    Shape {
        name: "many-closures",
        gen: |n| {
            lines_in_f(n, |i| {
                format!("    g{i} = v -> (x[1] = v; v)\n    g{i}(1.0)\n")
            })
        },
    },
    Shape {
        name: "many-args",
        gen: |n| {
            let mut s = String::from("    y = max(x[1]");
            for _ in 1..n {
                s.push_str(", x[1]");
            }
            s.push_str(")\n    x[1] = y\n");
            in_f(&s)
        },
    },
    Shape {
        name: "many-params",
        gen: |n| {
            let mut s = String::from(HEAD);
            s.push_str("function g(x");
            for i in 0..n {
                write!(s, ", a{i}=1").unwrap();
            }
            s.push_str(")\n    x[1] = 0.0\n    sum(x)\nend\nf(x) = g(x)\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "destructure",
        gen: |n| {
            let mut s = String::from("    ");
            for i in 0..n {
                write!(s, "a{i}, ").unwrap();
            }
            s.push_str("b = x\n    x[1] = a0\n");
            in_f(&s)
        },
    },
    Shape {
        name: "vector-literal",
        gen: |n| expr(&format!("[{}x[1]]", "1.0, ".repeat(n))),
    },
    Shape {
        name: "matrix-wide",
        gen: |n| {
            expr(&format!(
                "[{}1.0; {}2.0]",
                "1.0 ".repeat(n),
                "2.0 ".repeat(n)
            ))
        },
    },
    Shape {
        name: "matrix-tall",
        gen: |n| expr(&format!("[{}1.0 2.0]", "1.0 2.0; ".repeat(n))),
    },
    Shape {
        name: "big-string",
        gen: |n| expr(&format!("\"{}\"", "abcdefgh".repeat(n))),
    },
    Shape {
        name: "big-docstring",
        gen: |n| {
            let doc = "documentation line\n".repeat(n);
            one(format!(
                "{HEAD}\"\"\"\n{doc}\"\"\"\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\n{TAIL}"
            ))
        },
    },
    Shape {
        name: "interpolations",
        gen: |n| expr(&format!("\"{}\"", "$(x[1])".repeat(n))),
    },
    Shape {
        name: "big-block-comment",
        gen: |n| {
            let c = "comment text\n".repeat(n);
            one(format!(
                "{HEAD}#=\n{c}=#\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\n{TAIL}"
            ))
        },
    },
    Shape {
        name: "many-comments",
        gen: |n| {
            lines_in_f(n, |_| "    # a comment\n".into())
                .map_first(|t| t.replace("    sum(x)\n", "    x[1] = 0.0\n    sum(x)\n"))
        },
    },
    Shape {
        name: "many-ignores",
        gen: |n| {
            lines_in_f(n, |_| {
                "    # adlint: ignore[index-assignment] why\n    x[1] = 0.0\n".into()
            })
        },
    },
    Shape {
        name: "unused-ignores",
        gen: |n| {
            lines_in_f(n, |_| {
                "    # adlint: ignore[index-assignment] why\n    a = 1\n".into()
            })
        },
    },
    Shape {
        name: "many-macros",
        gen: |n| lines_in_f(n, |_| "    @inbounds x[1] = 0.0\n".into()),
    },
    Shape {
        name: "macro-definitions",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "macro m{i}(ex)\n    esc(ex)\nend").unwrap();
            }
            s.push_str("function f(x)\n    @m0 x[1] = 0.0\n    sum(x)\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-structs",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "struct L{i}; w; end\n(m::L{i})(x) = m.w .* x").unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(L0(2.0)(x))\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "wide-struct",
        gen: |n| {
            let mut s = String::from(HEAD);
            s.push_str("struct S\n");
            for i in 0..n {
                writeln!(s, "    a{i}::Float64").unwrap();
            }
            s.push_str("end\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-adjoints",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "Zygote.@adjoint h{i}(x) = h{i}(x), Δ -> (Δ,)").unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(x)\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-usings",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(s, "using Pkg{i}").unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(x)\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "many-modules",
        gen: |n| {
            let mut s = String::from(HEAD);
            for i in 0..n {
                writeln!(
                    s,
                    "module M{i}\nh(x) = x .+ {i}\nexport h\nend\nusing .M{i}"
                )
                .unwrap();
            }
            s.push_str("function f(x)\n    x[1] = 0.0\n    sum(M0.h(x))\nend\n");
            s.push_str(TAIL);
            one(s)
        },
    },
    Shape {
        name: "syntax-errors",
        gen: |n| {
            lines_in_f(n, |_| "    y = (1 +\n    ) ]\n".into())
                .map_first(|t| t.replace("    sum(x)\n", "    x[1] = 0.0\n    sum(x)\n"))
        },
    },
    Shape {
        name: "crlf-findings",
        gen: |n| {
            lines_in_f(n, |_| "    x[1] = 0.0\n".into()).map_first(|t| t.replace('\n', "\r\n"))
        },
    },
    // Many files.
    Shape {
        name: "many-includes",
        gen: |n| {
            let mut main = String::from(HEAD);
            let mut files = vec![];
            for i in 0..n {
                writeln!(main, "include(\"p{i}.jl\")").unwrap();
                files.push((format!("src/p{i}.jl"), format!("h{i}(x) = x .+ {i}\n")));
            }
            main.push_str("function f(x)\n    x[1] = 0.0\n    sum(h0(x))\nend\n");
            main.push_str(TAIL);
            files.insert(0, ("src/main.jl".to_string(), main));
            files
        },
    },
    Shape {
        name: "include-chain",
        gen: |n| {
            let mut files = vec![(
                "src/main.jl".to_string(),
                format!("{HEAD}include(\"p0.jl\")\nf(x) = h0(x)\n{TAIL}"),
            )];
            for i in 0..n {
                let next = if i + 1 < n {
                    format!("include(\"p{}.jl\")\n", i + 1)
                } else {
                    String::new()
                };
                let body = if i + 1 < n {
                    format!("h{i}(x) = h{}(x)\n", i + 1)
                } else {
                    format!("h{i}(x) = (x[1] = 0.0; sum(x))\n")
                };
                files.push((format!("src/p{i}.jl"), format!("{next}{body}")));
            }
            files
        },
    },
    Shape {
        name: "many-files-cross-calls",
        gen: |n| {
            let mut main = String::from(HEAD);
            let mut files = vec![];
            for i in 0..n {
                writeln!(main, "include(\"p{i}.jl\")").unwrap();
                let body = if i + 1 < n {
                    format!("h{i}(x) = h{}(x)\n", i + 1)
                } else {
                    format!("h{i}(x) = (x[1] = 0.0; sum(x))\n")
                };
                files.push((format!("src/p{i}.jl"), body));
            }
            main.push_str("f(x) = h0(x)\n");
            main.push_str(TAIL);
            files.insert(0, ("src/main.jl".to_string(), main));
            files
        },
    },
];

/// Applies a change to the text of the first file.
trait MapFirst {
    fn map_first(self, f: impl FnOnce(String) -> String) -> Files;
}

impl MapFirst for Files {
    fn map_first(mut self, f: impl FnOnce(String) -> String) -> Files {
        let text = std::mem::take(&mut self[0].1);
        self[0].1 = f(text);
        self
    }
}

/// The total size of the files.
pub fn bytes(files: &Files) -> usize {
    files.iter().map(|(_, t)| t.len()).sum()
}

/// The smallest power of two `n` whose input has at least `bytes` bytes (or 2^24).
pub fn start_n(shape: &Shape, want: usize) -> usize {
    let mut n = 1;
    while n < 1 << 24 && bytes(&(shape.gen)(n)) < want {
        n *= 2;
    }
    n
}
