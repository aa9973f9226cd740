//! The reference interpreter's Base/LinearAlgebra/Iterators builtins and prelude models:
//! values and gradients against derivatives written out by hand, Zygote's outcome for the
//! functions it cannot differentiate, and finite differences for the prelude's layers.

use adlint::refad::*;
use std::path::PathBuf;

fn run(src: &str) -> ProgramRun {
    let files = vec![SourceFile {
        path: PathBuf::from("t.jl"),
        text: src.to_string(),
    }];
    run_program(&files, &Options::default())
}

fn last(src: &str) -> EntryRun {
    let r = run(src);
    assert!(r.stopped.is_none(), "stopped: {:?}\n{src}", r.stopped);
    r.entries.last().cloned().expect("an entry ran")
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0))
}

/// The last entry's value and gradient (flattened, column-major) are these, and finite
/// differences agree.
fn value_grad(src: &str, value: f64, grad: &[f64]) {
    let e = last(src);
    let n = e
        .numbers
        .clone()
        .unwrap_or_else(|| panic!("no numbers: {e:?}\n{src}"));
    assert!(
        (n.value - value).abs() <= 1e-9 * value.abs().max(1.0),
        "value {} != {value}\n{src}",
        n.value
    );
    let g = n.gradient.expect("reverse pass ran");
    assert!(close(&g, grad), "gradient {g:?} != {grad:?}\n{src}");
    match e.outcome {
        Outcome::Ok {
            fd_check: Some(fd), ..
        } => assert!(fd.ok, "fd {fd:?}\n{src}"),
        other => panic!("expected Ok with an fd check, got {other:?}\n{src}"),
    }
}

/// The last entry fails as Zygote does, first with a message starting with `prefix`.
fn fails_with(src: &str, prefix: &str) {
    match last(src).outcome {
        Outcome::Failed { message, .. } => {
            assert!(
                message.starts_with(prefix),
                "{message:?} does not start with {prefix:?}"
            )
        }
        other => panic!("expected Failed, got {other:?}\n{src}"),
    }
}

fn not_run_with(src: &str, part: &str) {
    match last(src).outcome {
        Outcome::NotRun(n) => assert!(n.reason.contains(part), "{:?} lacks {part:?}", n.reason),
        other => panic!("expected NotRun, got {other:?}\n{src}"),
    }
}

// 2×2 helpers for the hand-written derivatives (column-major [a11, a21, a12, a22]).
fn inv2(a: [f64; 4]) -> [f64; 4] {
    let d = a[0] * a[3] - a[2] * a[1];
    [a[3] / d, -a[1] / d, -a[2] / d, a[0] / d]
}
fn mul2(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0] * b[0] + a[2] * b[1],
        a[1] * b[0] + a[3] * b[1],
        a[0] * b[2] + a[2] * b[3],
        a[1] * b[2] + a[3] * b[3],
    ]
}
fn t2(a: [f64; 4]) -> [f64; 4] {
    [a[0], a[2], a[1], a[3]]
}

const A: [f64; 4] = [2.0, 1.0, 1.0, 3.0];
const A_SRC: &str = "A = [2.0 1.0; 1.0 3.0]\n";

#[test]
fn solve_vector_rhs() {
    // x = A \ b; d sum(x)/db = A⁻ᵀ·1; d sum(x)/dA = -(A⁻ᵀ·1)·xᵀ
    let ai = inv2(A);
    let b = [1.0, 2.0];
    let x = [ai[0] * b[0] + ai[2] * b[1], ai[1] * b[0] + ai[3] * b[1]];
    let u = [ai[0] + ai[1], ai[2] + ai[3]]; // A⁻ᵀ·1
    let ga = [-u[0] * x[0], -u[1] * x[0], -u[0] * x[1], -u[1] * x[1]];
    let src = format!("{A_SRC}b = [1.0, 2.0]\ngradient((A, b) -> sum(A \\ b), A, b)");
    let mut g = ga.to_vec();
    g.extend(u);
    value_grad(&src, x[0] + x[1], &g);
}

#[test]
fn solve_matrix_rhs() {
    // X = A \ B; d sum(X)/dA = -A⁻ᵀ·1·1ᵀ·Xᵀ, d sum(X)/dB = A⁻ᵀ·1·1ᵀ
    let b = [1.0, 3.0, 2.0, 4.0];
    let x = mul2(inv2(A), b);
    let ones = [1.0; 4];
    let gb = mul2(t2(inv2(A)), ones);
    let ga = mul2(gb, t2(x)).map(|v| -v);
    let src = format!("{A_SRC}B = [1.0 2.0; 3.0 4.0]\ngradient((A, B) -> sum(A \\ B), A, B)");
    let mut g = ga.to_vec();
    g.extend(gb);
    value_grad(&src, x.iter().sum(), &g);
}

#[test]
fn solve_singular_throws_singular_exception() {
    not_run_with(
        "gradient(b -> sum([1.0 2.0; 2.0 4.0] \\ b), [1.0, 2.0])",
        "SingularException(2)",
    );
}

#[test]
fn inv_det_logdet() {
    // d sum(inv(A))/dA = -A⁻ᵀ·1·1ᵀ·A⁻ᵀ
    let ai = inv2(A);
    let g = mul2(mul2(t2(ai), [1.0; 4]), t2(ai)).map(|v| -v);
    value_grad(
        &format!("{A_SRC}gradient(A -> sum(inv(A)), A)"),
        ai.iter().sum(),
        &g,
    );
    // d det(A)/dA = det(A)·A⁻ᵀ; d logdet(A)/dA = A⁻ᵀ
    let d = A[0] * A[3] - A[1] * A[2];
    value_grad(
        &format!("{A_SRC}gradient(det, A)"),
        d,
        &t2(ai).map(|v| d * v),
    );
    value_grad(&format!("{A_SRC}gradient(logdet, A)"), d.ln(), &t2(ai));
}

#[test]
fn uniform_scaling_i() {
    value_grad(
        &format!("{A_SRC}gradient(A -> sum(A + I), A)"),
        9.0,
        &[1.0; 4],
    );
    value_grad(
        &format!("{A_SRC}gradient(A -> sum(abs2, A - 2I), A)"),
        3.0,
        &[0.0, 2.0, 2.0, 2.0],
    );
    value_grad(
        "gradient(x -> sum(I * x) + sum(x * I), [1.0, 2.0])",
        6.0,
        &[2.0, 2.0],
    );
    // Matrix(I, 2, 3) has ones on the diagonal only
    value_grad(
        "gradient(x -> sum(Matrix(I, 2, 3) * x), [1.0, 2.0, 3.0])",
        3.0,
        &[1.0, 1.0, 0.0],
    );
    value_grad("gradient(s -> s * sum(I(3)), 2.0)", 6.0, &[3.0]);
}

#[test]
fn qr_values_and_zygote_foreigncall() {
    // Q is orthogonal and Q R = A (values only: no gradient through them)
    value_grad(
        &format!("{A_SRC}Q, R = qr(A)\nF = qr(A)\ngradient(s -> s * (sum(abs2, Q * R - A) + sum(abs2, F.Q' * F.Q - I) + R[2, 1]), 1.0)"),
        0.0,
        &[0.0],
    );
    fails_with(
        &format!("{A_SRC}gradient(A -> sum(qr(A).R), A)"),
        "Can't differentiate foreigncall expression",
    );
}

#[test]
fn mul_bang_is_foreigncall_for_floats_and_setindex_otherwise() {
    fails_with(
        &format!("{A_SRC}gradient(x -> sum(mul!(zeros(2), A, x)), [1.0, 2.0])"),
        "Can't differentiate foreigncall expression",
    );
    fails_with(
        "gradient(x -> x * sum(mul!(zeros(Int, 2), [1 2; 3 4], [1, 1])), 1.0)",
        "Mutating arrays is not supported -- called setindex!(Vector{Int64}, ...)",
    );
    // the forward value: C = A * B, and the five-argument form α A B + β C
    value_grad(
        &format!(
            "{A_SRC}C = ones(2)\nmul!(C, A, [1.0, 2.0], 2.0, 1.0)\ngradient(s -> s * sum(C), 1.0)"
        ),
        2.0 * (4.0 + 7.0) + 2.0,
        &[24.0],
    );
}

#[test]
fn union_bang_mutates_and_fails_like_zygote() {
    fails_with(
        "f(x) = sum(union!(x, x))\ngradient(f, ones(3))",
        "Mutating arrays is not supported -- called setindex!(Vector{Float64}, ...)",
    );
    // new elements are pushed last: push! is what Zygote meets first
    fails_with(
        "gradient(x -> sum(union!(x, [5.0])), [1.0, 2.0])",
        "Mutating arrays is not supported -- called push!(Vector{Float64}, ...)",
    );
    value_grad(
        "v = [1.0, 2.0, 1.0]\nunion!(v, [3.0, 2.0])\nw = [1.0, 2.0, 3.0]\nintersect!(w, [3.0, 1.0])\nu = [1.0, 2.0]\nsetdiff!(u, [1.0])\ngradient(s -> s * (sum(v) + 10 * length(v) + 100 * sum(w) + 1000 * sum(u)), 1.0)",
        6.0 + 30.0 + 400.0 + 2000.0,
        &[2436.0],
    );
}

#[test]
fn domain_errors_have_julias_messages() {
    let complex = |f: &str| {
        format!("{f} was called with a negative real argument but will only return a complex result if called with a complex argument. Try {f}(Complex(x)).")
    };
    for (call, x, tail) in [
        ("asin(3.0)", "3.0", "asin(x) is not defined for |x| > 1.".to_string()),
        ("acos(-2.0)", "-2.0", "acos(x) not defined for |x| > 1".to_string()),
        ("log(-1.0)", "-1.0", complex("log")),
        ("log10(-1.0)", "-1.0", complex("log10")),
        ("sqrt(-2.0)", "-2.0", complex("sqrt")),
        ("log1p(-2)", "-2.0", "log1p was called with a real argument < -1 but will only return a complex result if called with a complex argument. Try log1p(Complex(x)).".to_string()),
        ("acosh(0.5)", "0.5", "acosh(x) is only defined for x ≥ 1.".to_string()),
        ("atanh(2.0)", "2.0", "atanh(x) is only defined for |x| ≤ 1.".to_string()),
    ] {
        let msg = format!("DomainError with {x}:\n{tail}");
        let src = format!("y = try\n    {call}\n    0.0\ncatch e\n    e.msg == {msg:?} ? 1.0 : 2.0\nend\ngradient(s -> s * y, 1.0)");
        let n = last(&src).numbers.expect("entry ran");
        assert_eq!(n.value, 1.0, "{call}: the message is not {msg:?}");
    }
    // the derivatives inside the domain
    value_grad(
        "gradient(x -> asinh(x) + acosh(x + 2) + atanh(x / 2), 0.5)",
        0.5f64.asinh() + 2.5f64.acosh() + 0.25f64.atanh(),
        &[1.0 / 1.25f64.sqrt() + 1.0 / (2.5f64 * 2.5 - 1.0).sqrt() + 0.5 / (1.0 - 0.0625)],
    );
}

#[test]
fn complex_and_rational_are_unsupported_with_a_reason() {
    let r = run("x = complex(1.0, 2.0)\n");
    assert!(r
        .stopped
        .unwrap()
        .reason
        .contains("complex numbers are not modelled"));
    let r = run("x = 1 // 2\n");
    assert!(r
        .stopped
        .unwrap()
        .reason
        .contains("Rational numbers are not modelled"));
}

#[test]
fn cat_along_any_dimension() {
    // cat(A, B; dims = 3) keeps every element once: d sum(C.^2)/dA = 2A
    value_grad(
        "B = [5.0 6.0; 7.0 8.0]\ngradient(A -> sum(cat(A, B; dims = 3) .^ 2) + 1000 * ndims(cat(A, B; dims = 3)) + 100 * size(cat(A, B; dims = 3), 3), [1.0 2.0; 3.0 4.0])",
        30.0 + 174.0 + 3000.0 + 200.0,
        &[2.0, 6.0, 4.0, 8.0],
    );
    // block diagonal: the weights pick A's block only
    value_grad(
        "W = reshape(collect(1.0:16.0), 4, 4)\ngradient(A -> sum(cat(A, [9.0 9.0; 9.0 9.0]; dims = (1, 2)) .* W), [1.0 2.0; 3.0 4.0])",
        (1.0 * 1.0 + 3.0 * 2.0 + 2.0 * 5.0 + 4.0 * 6.0) + 9.0 * (11.0 + 12.0 + 15.0 + 16.0),
        &[1.0, 2.0, 5.0, 6.0],
    );
}

#[test]
fn circshift_and_float() {
    // circshift(x, 1) = [x3, x1, x2]; weights [1, 2, 3] → d/dx = [2, 3, 1]
    value_grad(
        "gradient(x -> sum(circshift(x, 1) .* [1.0, 2.0, 3.0]), [1.0, 2.0, 4.0])",
        4.0 + 2.0 + 6.0,
        &[2.0, 3.0, 1.0],
    );
    // shifts per dimension of a matrix: (0, 1) moves columns right
    value_grad(
        "gradient(A -> sum(circshift(A, (0, 1)) .* [1.0 10.0; 1.0 10.0]), [1.0 2.0; 3.0 4.0])",
        2.0 + 4.0 + 10.0 + 30.0,
        &[10.0, 10.0, 1.0, 1.0],
    );
    value_grad(
        "gradient(x -> sum(float([1, 2]) .* x), [3.0, 5.0])",
        13.0,
        &[1.0, 2.0],
    );
}

#[test]
fn mapslices_values_and_zygote_outcome() {
    value_grad(
        "M = mapslices(c -> sum(c .^ 2), [1.0 2.0; 3.0 4.0]; dims = 1)\nR = mapslices(r -> r .* 2, [1.0 2.0; 3.0 4.0]; dims = 2)\ngradient(s -> s * (sum(M) + 100 * size(M, 1) + sum(R)), 1.0)",
        10.0 + 20.0 + 100.0 + 20.0,
        &[150.0],
    );
    fails_with(
        "gradient(A -> sum(mapslices(c -> sum(c .^ 2), A; dims = 1)), [1.0 2.0; 3.0 4.0])",
        "Mutating arrays is not supported -- called setindex!(Matrix{Float64}, ...)",
    );
}

#[test]
fn iterators() {
    // Σ_{a,b} a·b over product(x, [1, 2]) = 3·Σx
    value_grad(
        "gradient(x -> sum(a * b for (a, b) in Iterators.product(x, [1.0, 2.0])), [1.0, 3.0])",
        12.0,
        &[3.0, 3.0],
    );
    value_grad(
        "gradient(x -> sum(prod(c) for c in Iterators.partition(x, 2)), [1.0, 3.0, 5.0])",
        3.0 + 5.0,
        &[3.0, 1.0, 1.0],
    );
    value_grad(
        "gradient(x -> sum(Iterators.flatten([x, 2 .* x])) + sum(Iterators.take(x, 1)) + sum(Iterators.drop(x, 1)), [1.0, 3.0])",
        12.0 + 1.0 + 3.0,
        &[4.0, 4.0],
    );
    value_grad(
        "gradient(x -> sum(sum(r) for r in Iterators.repeated(x, 3)) + first(Iterators.peel(x)), [1.0, 2.0])",
        9.0 + 1.0,
        &[4.0, 3.0],
    );
    value_grad(
        "gradient(s -> s * (size(collect(Iterators.product(1:2, 1:3)), 2) + sum(i * v for (i, v) in enumerate([10.0, 20.0])) + sum(a * b for (a, b) in zip([1.0, 2.0], [3.0, 4.0]))), 1.0)",
        3.0 + 50.0 + 11.0,
        &[64.0],
    );
}

// ---------------------------------------------------------------- prelude models

/// The last entry ran, the reverse gradient agrees with finite differences.
fn fd_ok(src: &str) {
    match last(src).outcome {
        Outcome::Ok {
            fd_check: Some(fd), ..
        } => assert!(fd.ok, "fd {fd:?}\n{src}"),
        other => panic!("expected Ok with an fd check, got {other:?}\n{src}"),
    }
}

#[test]
fn conv_layers_shapes_and_finite_differences() {
    fd_ok("c = Conv((2,), 2 => 3, tanh)\nx = reshape(collect(0.1:0.1:1.2), 3, 2, 2)\n@assert size(c(x)) == (2, 3, 2)\nθ, re = destructure(c)\ngradient(θ -> sum(abs2, re(θ)(x)), θ)");
    fd_ok("c = Conv((2, 2), 1 => 2; pad = 1)\nx = reshape(collect(0.1:0.1:0.9), 3, 3, 1, 1)\n@assert size(c(x)) == (4, 4, 2, 1)\ngradient(x -> sum(abs2, c(x)), x)");
    // a true convolution (flipped kernel): weight [1, 2] on [1, 2, 3] gives [2·1 + 1·2, 2·2 + 1·3] + bias
    value_grad(
        "c = Conv(reshape([1.0, 2.0], 2, 1, 1), [0.5])\ngradient(x -> sum(c(x) .* reshape([1.0, 10.0], 2, 1, 1)), reshape([1.0, 2.0, 3.0], 3, 1, 1))",
        4.5 + 10.0 * 7.5,
        &[2.0, 1.0 + 20.0, 10.0],
    );
}

#[test]
fn batchnorm_trains_on_the_batch_and_updates_running_stats() {
    // training mode: the output of each feature has mean β = 0 and the gradient of
    // sum(bn(x)) with respect to x is zero
    value_grad(
        "bn = BatchNorm(2)\ngradient(x -> sum(bn(x)), [1.0 2.0 3.0; 1.0 5.0 2.0])",
        0.0,
        &[0.0; 6],
    );
    fd_ok("bn = BatchNorm(2)\ngradient(x -> sum(bn(x) .* [1.0 2.0 3.0; 4.0 5.0 6.0]), [1.0 2.0 3.0; 1.0 5.0 2.0])");
    // running mean after one training call: 0.9·0 + 0.1·mean; test mode uses it
    value_grad(
        "bn = BatchNorm(1)\ngradient(x -> sum(bn(x)), [1.0 3.0])\ngradient(s -> s * bn.μ[1], 1.0)",
        0.2,
        &[0.2],
    );
}

#[test]
fn recurrent_cells_and_wrappers() {
    fd_ok("cell = RNNCell(2 => 3)\nh, y = cell(zeros(3, 1), reshape([1.0, 2.0], 2, 1))\n@assert size(h) == (3, 1)\nθ, re = destructure(cell)\ngradient(θ -> sum(re(θ)(zeros(3, 1), reshape([1.0, 2.0], 2, 1))[2]), θ)");
    // Flux >= 0.15 order: cell(x, h) -> h′
    fd_ok("cell = RNNCell(2 => 3)\n@assert size(cell([1.0, 2.0], zeros(3))) == (3,)\ngradient(x -> sum(cell(x, zeros(3))), [1.0, 2.0])");
    fd_ok("l = LSTMCell(2 => 3)\n(h, c), y = l((zeros(3), zeros(3)), [1.0, 2.0])\n@assert size(h) == (3,) && size(c) == (3,)\ngradient(x -> sum(l(x, (zeros(3), zeros(3)))[1]), [1.0, 2.0])");
    // a stateful RNN: the second call starts from the first call's state
    fd_ok("r = RNN(1 => 2)\nθ, re = destructure(r)\nfunction run2(θ)\n    m = re(θ)\n    m([1.0])\n    return sum(m([2.0]))\nend\ngradient(run2, θ)");
}

#[test]
fn onehot_onecold_trainable_destructure() {
    value_grad(
        "y = onehotbatch([1, 3, 2], 1:3)\n@assert size(y) == (3, 3) && y[3, 2] && !y[1, 2]\nl = onecold([0.1 0.9; 0.8 0.05; 0.1 0.05], [:a, :b, :c])\n@assert l == [:b, :a]\ngradient(s -> s * sum(y), 1.0)",
        3.0,
        &[3.0],
    );
    // destructure: the flat vector has every parameter; rebuilding gives the same model;
    // the last entry is d sum(m(x))/dθ, whose last component (the output bias) is 1
    let src = "m = Chain(Dense(2 => 3, tanh), Dense(3 => 1))\nθ, re = destructure(m)\n@assert length(θ) == 2 * 3 + 3 + 3 + 1\nx = [0.5, -0.3]\n@assert re(θ)(x) == m(x)\n@assert keys(trainable(m.layers[1])) == (:weight, :bias)\ngradient(θ -> sum(re(θ)(x)), θ)";
    fd_ok(src);
    let g = last(src)
        .numbers
        .and_then(|n| n.gradient)
        .expect("gradient");
    assert_eq!(g.len(), 13);
    assert_eq!(g[12], 1.0);
}

#[test]
fn sort_orders_by_isless_or_the_users_lt() {
    // Each check that fails adds its power of two to the value (1 when all hold).
    let src = r#"using Zygote
s = sort([0.778, NaN, 0.03, -0.0, 0.0, NaN, 2.0, -1])
w = sort(["b", "a", "c", "ab", "B"])
p = sortperm([3.0, 1.0, 2.0, 1.0])
t = sort([(2, "a"), (1, "b"), (1, "a")])
r = sort([3.0, 1.0, 2.0], lt = (a, b) -> a > b)
u = sort([3.0, NaN, 1.0, 2.0], rev = true)
b = sort([-3, 1, -2], by = abs)
q = sortperm([-3, 1, -2], by = abs, rev = true)
big = sort(Any[2^60 + 1, 2.0^60, 2^60 - 1])
checks = [s[1] == -1, 1 / s[2] == -Inf, 1 / s[3] == Inf, s[6] == 2.0, isnan(s[7]), isnan(s[8]),
    w == ["B", "a", "ab", "b", "c"], p == [2, 4, 3, 1], t == [(1, "a"), (1, "b"), (2, "a")],
    r == [3.0, 2.0, 1.0], isnan(u[1]), u[2:4] == [3.0, 2.0, 1.0], b == [1, -2, -3], q == [1, 3, 2],
    big[1] == 2^60 - 1, big[3] == 2^60 + 1,
    maximum([1.0, NaN, 2.0]) === NaN, minimum([1.0, NaN, 2.0]) === NaN, maximum(["a", "c", "b"]) == "c",
    argmax([1.0, NaN, 3.0]) == 2, argmin([1.0, 0.5, NaN]) == 3, argmax([3, 1, 3]) == 1,
    length(sort(rand(200), lt = (a, b) -> rand() < 0.5)) == 200,
    isless(1.0, NaN), !isless(NaN, 1.0), isless(-0.0, 0.0), isless("a", "b")]
thrown = try
    sort([2.0, 1.0], lt = (a, b) -> error("boom"))
    false
catch e
    e.msg == "boom"
end
push!(checks, thrown)
f(x) = x * (1 + sum([c ? 0.0 : 2.0^i for (i, c) in enumerate(checks)]))
gradient(f, 1.0)
"#;
    // (`big` is `Any[...]`: a literal of integers and a float is a Vector{Float64}, where
    // all three round to 2.0^60 and `==` with the integers is false, as in Julia.)
    value_grad(src, 1.0, &[1.0]);
    // Values `isless` does not order are Julia's MethodError.
    let stopped = format!("{:?}", run("using Zygote\ns = sort([1, \"a\"])\n").stopped);
    assert!(
        stopped.contains("MethodError: no method matching isless(::String, ::Int64)"),
        "{stopped}"
    );
}

#[test]
fn sort_of_numbers_with_nan_does_not_panic() {
    // Rust's sort panicked on the comparator `partial_cmp(..).unwrap_or(Equal)`.
    let src = "using Zygote\ns = sort([0.778, 0.393, 0.030, NaN, 0.983, 0.394, NaN, 0.982, 0.540, 0.232, 0.952, 0.459, NaN, 0.957, 0.623, 0.458, 0.861, 0.797, 0.255, 0.673, 0.160])\nf(x) = x * s[1] + x * s[18]\ngradient(f, 1.0)\n";
    value_grad(src, 0.03 + 0.983, &[0.03 + 0.983]);
}
