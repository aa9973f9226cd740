//! Deterministic generator of realistic Flux/Zygote Julia code for the benchmark.
//!
//! No external crates: a splitmix64 generator seeded with a constant, so every run (and
//! every child process of the RSS measurement) sees exactly the same corpus. The code looks
//! like what users write (see `/work/shared/corpus/dev/cases`): modules that `using Flux,
//! Zygote`, layers as `struct`/`mutable struct` with functor methods, loss functions,
//! helpers with loops, broadcasts, index writes, `push!`, closures, do-blocks,
//! comprehensions, `try`/`catch`, and `gradient`/`withgradient`/`pullback` entry points
//! called with do-blocks, named functions and closures. Function names repeat across
//! modules and files (`normalize_3` exists in many modules) so that resolution has real
//! work to do, and some calls are qualified with other modules' names.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;

/// splitmix64: small, fast, and good enough for picking templates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// A small float literal as Julia users write them.
    pub fn float(&mut self) -> String {
        match self.below(4) {
            0 => format!("{}.{}", self.below(10), self.below(100)),
            1 => format!("{}f0", self.below(5) + 1),
            2 => format!("1e-{}", self.below(6) + 1),
            _ => format!("0.{}", self.below(1000)),
        }
    }
}

const HELPER_STEMS: &[&str] = &[
    "normalize",
    "project",
    "smooth",
    "score",
    "penalty",
    "activate",
    "rescale",
    "accumulate_stats",
    "window_mean",
    "kernel",
    "transform",
    "features",
    "encode",
    "decode",
    "mix",
    "attention",
    "residual",
    "embed",
    "pool",
    "regularize",
    "clip_values",
    "logits",
    "energy",
    "step_state",
    "integrate",
    "discretize",
    "interpolate",
    "weights_of",
];
const LOSS_STEMS: &[&str] = &["loss", "objective", "nll", "mse_loss", "elbo", "risk"];
const LAYER_STEMS: &[&str] = &[
    "Dense",
    "Affine",
    "Gate",
    "Cell",
    "Block",
    "Encoder",
    "Decoder",
    "Mixer",
    "Head",
    "Embedding",
    "Norm",
    "Residual",
];
const MODULE_STEMS: &[&str] = &[
    "Models",
    "Training",
    "Layers",
    "Physics",
    "Utils",
    "Losses",
    "Data",
    "Solvers",
    "Kernels",
    "Experiments",
];
const ACTIVATIONS: &[&str] = &["tanh", "relu", "sigmoid", "identity", "softplus", "elu"];
const REDUCERS: &[&str] = &["sum", "mean", "maximum", "prod"];

/// Number of distinct suffixes per helper stem: names repeat across modules.
const NAME_SPREAD: usize = 40;

/// Names defined so far in the module being generated, by category.
#[derive(Default)]
struct ModState {
    name: String,
    helpers: Vec<String>,
    losses: Vec<String>,
    layers: Vec<String>,
    exports: Vec<String>,
}

pub struct Generator {
    rng: Rng,
    /// Modules generated so far (for qualified cross-module calls and `using`).
    modules: Vec<(String, Vec<String>)>,
    uid: usize,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            modules: Vec::new(),
            uid: 0,
        }
    }

    fn fresh(&mut self) -> usize {
        self.uid += 1;
        self.uid
    }

    fn helper_name(&mut self) -> String {
        let stem = *self.rng.pick(HELPER_STEMS);
        format!("{stem}_{}", self.rng.below(NAME_SPREAD))
    }

    /// A call to an already defined helper of this module, else to a library function.
    fn some_helper(&mut self, st: &ModState) -> String {
        if !st.helpers.is_empty() && self.rng.chance(80) {
            self.rng.pick(&st.helpers).clone()
        } else if !self.modules.is_empty() && self.rng.chance(50) {
            // A helper of another module, qualified.
            let (m, hs) = &self.modules[self.rng.below(self.modules.len())];
            if hs.is_empty() {
                "sum".to_string()
            } else {
                format!("{m}.{}", hs[self.rng.below(hs.len())])
            }
        } else {
            self.rng.pick(REDUCERS).to_string()
        }
    }

    /// One file of roughly `target_lines` lines.
    pub fn file(&mut self, index: usize, target_lines: usize) -> String {
        let mut out = String::with_capacity(target_lines * 34);
        writeln!(
            out,
            "# Generated benchmark file {index}: models, losses and training code."
        )
        .unwrap();
        writeln!(out, "# This file is deterministic; see benches/gen.rs.").unwrap();
        writeln!(out).unwrap();
        let mut lines = 3;
        while lines < target_lines {
            let budget = (target_lines - lines).max(200);
            let module_lines = self.rng.range(400, 1600).min(budget);
            let text = self.module(module_lines);
            lines += text.lines().count();
            out.push_str(&text);
            out.push('\n');
            lines += 1;
        }
        // A script part at the end, outside any module, as in the dev corpus.
        let script = self.script();
        out.push_str(&script);
        out
    }

    fn module(&mut self, target_lines: usize) -> String {
        let stem = *self.rng.pick(MODULE_STEMS);
        let id = self.fresh();
        let mut st = ModState {
            name: format!("{stem}{id}"),
            ..ModState::default()
        };
        let mut body = String::new();
        let mut lines = 0;
        while lines < target_lines {
            let piece = match self.rng.below(20) {
                0..=2 => self.layer(&mut st),
                3 => self.mutable_layer(&mut st),
                4..=5 => self.loss(&mut st),
                6..=7 => self.loop_helper(&mut st),
                8..=9 => self.inplace_helper(&mut st),
                10..=11 => self.closure_helper(&mut st),
                12 => self.try_helper(&mut st),
                13 => self.dict_helper(&mut st),
                14..=15 => self.short_helpers(&mut st),
                16..=17 => self.train_loop(&mut st),
                18 => self.fit_function(&mut st),
                _ => self.rule_and_nograd(&mut st),
            };
            lines += piece.lines().count() + 1;
            body.push_str(&piece);
            body.push('\n');
        }
        let mut out = String::with_capacity(body.len() + 256);
        writeln!(out, "module {}", st.name).unwrap();
        writeln!(out).unwrap();
        writeln!(out, "using Flux, Zygote").unwrap();
        writeln!(out, "using LinearAlgebra: dot, norm").unwrap();
        if self.rng.chance(30) {
            writeln!(out, "import ChainRulesCore").unwrap();
        }
        if !st.exports.is_empty() {
            let n = st.exports.len().min(6);
            writeln!(out, "export {}", st.exports[..n].join(", ")).unwrap();
        }
        writeln!(out).unwrap();
        out.push_str(&body);
        writeln!(out, "end # module {}", st.name).unwrap();
        self.modules.push((st.name.clone(), st.helpers.clone()));
        out
    }

    fn layer(&mut self, st: &mut ModState) -> String {
        let name = format!("{}{}", self.rng.pick(LAYER_STEMS), self.fresh());
        let act = *self.rng.pick(ACTIVATIONS);
        let mut s = String::new();
        if self.rng.chance(50) {
            writeln!(s, "struct {name}{{M<:AbstractMatrix,V<:AbstractVector,F}}").unwrap();
            writeln!(s, "    weight::M").unwrap();
            writeln!(s, "    bias::V").unwrap();
            writeln!(s, "    σ::F").unwrap();
            writeln!(s, "end").unwrap();
        } else {
            writeln!(s, "struct {name}").unwrap();
            writeln!(s, "    weight::Matrix{{Float32}}").unwrap();
            writeln!(s, "    bias::Vector{{Float32}}").unwrap();
            writeln!(s, "    σ").unwrap();
            writeln!(s, "end").unwrap();
        }
        writeln!(s).unwrap();
        writeln!(s, "Flux.@layer {name}").unwrap();
        writeln!(
            s,
            "{name}(nin::Integer, nout::Integer; σ = {act}) = {name}(randn(Float32, nout, nin) ./ sqrt(Float32(nin)), zeros(Float32, nout), σ)"
        )
        .unwrap();
        writeln!(s).unwrap();
        match self.rng.below(3) {
            0 => writeln!(s, "(m::{name})(x) = m.σ.(m.weight * x .+ m.bias)").unwrap(),
            1 => {
                let h = self.some_helper(st);
                writeln!(s, "function (m::{name})(x::AbstractArray)").unwrap();
                writeln!(s, "    z = m.weight * x .+ m.bias").unwrap();
                writeln!(s, "    y = m.σ.(z)").unwrap();
                if self.rng.chance(40) {
                    writeln!(s, "    y = y .+ {h}(y) .* {}", self.rng.float()).unwrap();
                }
                writeln!(s, "    return y").unwrap();
                writeln!(s, "end").unwrap();
            }
            _ => {
                writeln!(s, "function (m::{name})(x)").unwrap();
                writeln!(s, "    h = similar(x, size(m.weight, 1))").unwrap();
                writeln!(s, "    for i in axes(m.weight, 1)").unwrap();
                writeln!(s, "        h[i] = m.σ(dot(m.weight[i, :], x) + m.bias[i])").unwrap();
                writeln!(s, "    end").unwrap();
                writeln!(s, "    h").unwrap();
                writeln!(s, "end").unwrap();
            }
        }
        st.layers.push(name.clone());
        if self.rng.chance(40) {
            st.exports.push(name);
        }
        s
    }

    fn mutable_layer(&mut self, st: &mut ModState) -> String {
        let name = format!("{}State{}", self.rng.pick(LAYER_STEMS), self.fresh());
        let mut s = String::new();
        writeln!(s, "mutable struct {name}").unwrap();
        writeln!(s, "    h::Vector{{Float32}}").unwrap();
        writeln!(s, "    cell").unwrap();
        writeln!(s, "    count::Int").unwrap();
        writeln!(s, "end").unwrap();
        writeln!(s).unwrap();
        writeln!(s, "Flux.@layer {name} trainable=(cell,)").unwrap();
        writeln!(s).unwrap();
        writeln!(s, "function (s::{name})(x)").unwrap();
        writeln!(s, "    h = s.cell(vcat(x, s.h))").unwrap();
        if self.rng.chance(60) {
            writeln!(s, "    s.h = h").unwrap();
        }
        writeln!(s, "    s.count += 1").unwrap();
        writeln!(s, "    return h").unwrap();
        writeln!(s, "end").unwrap();
        writeln!(s).unwrap();
        writeln!(
            s,
            "reset_{}!(s::{name}) = (s.h .= 0; s.count = 0; s)",
            self.uid
        )
        .unwrap();
        st.layers.push(name);
        s
    }

    fn loss(&mut self, st: &mut ModState) -> String {
        let name = format!(
            "{}_{}",
            self.rng.pick(LOSS_STEMS),
            self.rng.below(NAME_SPREAD)
        );
        let h = self.some_helper(st);
        let mut s = String::new();
        match self.rng.below(3) {
            0 => {
                writeln!(s, "function {name}(model, x, y)").unwrap();
                writeln!(s, "    ŷ = model(x)").unwrap();
                writeln!(s, "    l = Flux.mse(ŷ, y)").unwrap();
                writeln!(
                    s,
                    "    reg = {}f0 * sum(abs2, {h}(ŷ))",
                    self.rng.below(9) + 1
                )
                .unwrap();
                writeln!(s, "    return l + reg").unwrap();
                writeln!(s, "end").unwrap();
                writeln!(s).unwrap();
                writeln!(s, "{name}(model, data) = sum({name}(model, x, y) for (x, y) in data) / length(data)").unwrap();
            }
            1 => {
                writeln!(s, "function {name}(θ, xs::AbstractVector, ys)").unwrap();
                writeln!(s, "    total = zero(eltype(θ))").unwrap();
                writeln!(s, "    for (x, y) in zip(xs, ys)").unwrap();
                writeln!(s, "        pred = θ[1] .* x .+ θ[2]").unwrap();
                writeln!(s, "        total += sum(abs2, pred .- y)").unwrap();
                writeln!(s, "    end").unwrap();
                writeln!(s, "    total / length(xs) + {}", self.rng.float()).unwrap();
                writeln!(s, "end").unwrap();
            }
            _ => {
                writeln!(
                    s,
                    "{name}(m, x, y; λ = {}) = Flux.logitcrossentropy(m(x), y) + λ * sum(p -> sum(abs2, p), Flux.params(m))",
                    self.rng.float()
                )
                .unwrap();
            }
        }
        if !st.losses.contains(&name) {
            st.losses.push(name.clone());
        }
        if self.rng.chance(30) {
            st.exports.push(name);
        }
        s
    }

    fn loop_helper(&mut self, st: &mut ModState) -> String {
        let name = self.helper_name();
        let c = self.rng.float();
        let h = self.some_helper(st);
        let mut s = String::new();
        writeln!(
            s,
            "function {name}(x::AbstractVector, k = {})",
            self.rng.below(5) + 1
        )
        .unwrap();
        writeln!(s, "    out = similar(x)").unwrap();
        writeln!(s, "    acc = Float64[]").unwrap();
        writeln!(s, "    n = length(x)").unwrap();
        writeln!(s, "    for i in eachindex(x)").unwrap();
        writeln!(s, "        out[i] = x[i] * k + {c}").unwrap();
        writeln!(s, "        if out[i] > {c}").unwrap();
        writeln!(s, "            push!(acc, out[i])").unwrap();
        writeln!(s, "        elseif i > 1").unwrap();
        writeln!(s, "            out[i] += out[i - 1] / n").unwrap();
        writeln!(s, "        else").unwrap();
        writeln!(s, "            out[i] = zero(eltype(x))").unwrap();
        writeln!(s, "        end").unwrap();
        writeln!(s, "    end").unwrap();
        if self.rng.chance(50) {
            writeln!(s, "    total = 0.0").unwrap();
            writeln!(s, "    while total < {c} && !isempty(acc)").unwrap();
            writeln!(s, "        total += pop!(acc)").unwrap();
            writeln!(s, "    end").unwrap();
        } else {
            writeln!(s, "    total = isempty(acc) ? 1.0 : {h}(acc)").unwrap();
        }
        writeln!(s, "    for j in 1:n, l in 1:2").unwrap();
        writeln!(s, "        total += abs(out[j]) * l / n").unwrap();
        writeln!(s, "    end").unwrap();
        writeln!(s, "    return out .* total").unwrap();
        writeln!(s, "end").unwrap();
        st.helpers.push(name);
        s
    }

    fn inplace_helper(&mut self, st: &mut ModState) -> String {
        let name = format!("{}!", self.helper_name());
        let mut s = String::new();
        writeln!(s, "function {name}(y, x, w)").unwrap();
        writeln!(s, "    y .= w .* x .+ {}", self.rng.float()).unwrap();
        writeln!(s, "    @. y = y * {} + x", self.rng.float()).unwrap();
        writeln!(s, "    y[1] += sum(x)").unwrap();
        writeln!(s, "    y[end] = y[1] - x[end]").unwrap();
        writeln!(s, "    y[2:end] .*= {}", self.rng.float()).unwrap();
        writeln!(s, "    fill!(view(y, 1:1), {})", self.rng.float()).unwrap();
        writeln!(s, "    return y").unwrap();
        writeln!(s, "end").unwrap();
        writeln!(s).unwrap();
        let wrapper = self.helper_name();
        writeln!(s, "function {wrapper}(x, w)").unwrap();
        writeln!(s, "    y = zeros(eltype(x), length(x))").unwrap();
        writeln!(s, "    {name}(y, x, w)").unwrap();
        writeln!(s, "    return sum(y)").unwrap();
        writeln!(s, "end").unwrap();
        st.helpers.push(wrapper);
        s
    }

    fn closure_helper(&mut self, st: &mut ModState) -> String {
        let name = self.helper_name();
        let h = self.some_helper(st);
        let h2 = self.some_helper(st);
        let mut s = String::new();
        writeln!(s, "function {name}(xs, θ)").unwrap();
        writeln!(s, "    f = z -> z^2 * θ[1] + {}", self.rng.float()).unwrap();
        writeln!(s, "    g(z) = f(z) - θ[2] * z").unwrap();
        writeln!(s, "    vals = [f(x) + g(x) for x in xs if x > 0]").unwrap();
        writeln!(s, "    pairs = [(i, x) for (i, x) in enumerate(xs)]").unwrap();
        writeln!(s, "    s = map(xs) do x").unwrap();
        writeln!(s, "        y = {h}(x .* θ)").unwrap();
        writeln!(s, "        y + f(x)").unwrap();
        writeln!(s, "    end").unwrap();
        writeln!(s, "    t = sum(x -> {h2}(x), xs; init = 0.0)").unwrap();
        writeln!(
            s,
            "    u = foldl((a, b) -> a + b * {}, vals; init = 0.0)",
            self.rng.float()
        )
        .unwrap();
        writeln!(s, "    return sum(s) + t + u + length(pairs)").unwrap();
        writeln!(s, "end").unwrap();
        st.helpers.push(name);
        s
    }

    fn try_helper(&mut self, st: &mut ModState) -> String {
        let name = self.helper_name();
        let h = self.some_helper(st);
        let mut s = String::new();
        writeln!(s, "function {name}(x)").unwrap();
        writeln!(s, "    try").unwrap();
        writeln!(s, "        return log({h}(x)) - {}", self.rng.float()).unwrap();
        writeln!(s, "    catch e").unwrap();
        writeln!(s, "        e isa DomainError || rethrow()").unwrap();
        writeln!(s, "        return -Inf").unwrap();
        if self.rng.chance(30) {
            writeln!(s, "    finally").unwrap();
            writeln!(s, "        nothing").unwrap();
        }
        writeln!(s, "    end").unwrap();
        writeln!(s, "end").unwrap();
        st.helpers.push(name);
        s
    }

    fn dict_helper(&mut self, st: &mut ModState) -> String {
        let name = self.helper_name();
        let mut s = String::new();
        writeln!(s, "function {name}(x)").unwrap();
        writeln!(s, "    cache = Dict{{Symbol,Any}}()").unwrap();
        writeln!(s, "    cache[:sum] = sum(x)").unwrap();
        writeln!(s, "    buf = Zygote.Buffer(x)").unwrap();
        writeln!(s, "    for i in eachindex(x)").unwrap();
        writeln!(s, "        buf[i] = x[i] * {}", self.rng.float()).unwrap();
        writeln!(s, "    end").unwrap();
        writeln!(s, "    r = Ref(0.0)").unwrap();
        writeln!(s, "    r[] = cache[:sum]").unwrap();
        writeln!(s, "    return copy(buf) .+ r[]").unwrap();
        writeln!(s, "end").unwrap();
        st.helpers.push(name);
        s
    }

    fn short_helpers(&mut self, st: &mut ModState) -> String {
        let mut s = String::new();
        for _ in 0..self.rng.range(2, 5) {
            let name = self.helper_name();
            let h = self.some_helper(st);
            match self.rng.below(4) {
                0 => writeln!(s, "{name}(x) = {h}(x) .* {}", self.rng.float()).unwrap(),
                1 => writeln!(s, "{name}(x, y) = sum(abs2, x .- y) / length(x)").unwrap(),
                2 => writeln!(
                    s,
                    "{name}(x::AbstractArray{{T}}) where {{T}} = T(0.5) .* x .+ {h}(x)"
                )
                .unwrap(),
                _ => writeln!(s, "{name}(xs...) = reduce(+, xs)").unwrap(),
            }
            st.helpers.push(name.clone());
            if self.rng.chance(20) {
                st.exports.push(name);
            }
        }
        s
    }

    fn model_expr(&mut self, st: &ModState) -> String {
        if st.layers.len() >= 2 && self.rng.chance(50) {
            let a = self.rng.pick(&st.layers).clone();
            let b = self.rng.pick(&st.layers).clone();
            format!("Chain({a}(4, 8), {b}(8, 2))")
        } else if let Some(l) = st.layers.first().cloned() {
            format!("{l}(4, 2)")
        } else {
            "Dense(4 => 2, relu)".to_string()
        }
    }

    fn train_loop(&mut self, st: &mut ModState) -> String {
        let name = format!("train_{}!", self.fresh());
        let mut s = String::new();
        if st.losses.is_empty() {
            // Every training loop calls a loss of its own module.
            s.push_str(&self.loss(st));
            s.push('\n');
        }
        let loss = self.rng.pick(&st.losses).clone();
        writeln!(
            s,
            "function {name}(model, data, opt_state; epochs = {})",
            self.rng.range(1, 20)
        )
        .unwrap();
        writeln!(s, "    losses = Float32[]").unwrap();
        writeln!(s, "    for epoch in 1:epochs").unwrap();
        writeln!(s, "        for (x, y) in data").unwrap();
        match self.rng.below(4) {
            0 => {
                writeln!(
                    s,
                    "            grads = Zygote.gradient(m -> {loss}(m, x, y), model)"
                )
                .unwrap();
                writeln!(s, "            Flux.update!(opt_state, model, grads[1])").unwrap();
            }
            1 => {
                writeln!(s, "            val, grads = Flux.withgradient(model) do m").unwrap();
                writeln!(s, "                ŷ = m(x)").unwrap();
                writeln!(s, "                {loss}(m, x, y) + 0.1f0 * sum(ŷ)").unwrap();
                writeln!(s, "            end").unwrap();
                writeln!(s, "            push!(losses, val)").unwrap();
                writeln!(s, "            Flux.update!(opt_state, model, grads[1])").unwrap();
            }
            2 => {
                writeln!(s, "            l, back = Zygote.pullback(model) do m").unwrap();
                writeln!(s, "                {loss}(m, x, y)").unwrap();
                writeln!(s, "            end").unwrap();
                writeln!(s, "            grads = back(one(l))").unwrap();
                writeln!(s, "            Flux.update!(opt_state, model, grads[1])").unwrap();
            }
            _ => {
                writeln!(s, "            ps = Flux.params(model)").unwrap();
                writeln!(
                    s,
                    "            gs = gradient(() -> {loss}(model, x, y), ps)"
                )
                .unwrap();
                writeln!(s, "            Flux.Optimise.update!(opt_state, ps, gs)").unwrap();
            }
        }
        writeln!(s, "        end").unwrap();
        writeln!(s, "        if epoch % 10 == 0").unwrap();
        writeln!(
            s,
            "            @info \"epoch $epoch\" loss = {loss}(model, data)"
        )
        .unwrap();
        writeln!(s, "        end").unwrap();
        writeln!(s, "    end").unwrap();
        writeln!(s, "    return losses").unwrap();
        writeln!(s, "end").unwrap();
        s
    }

    fn fit_function(&mut self, st: &mut ModState) -> String {
        let name = format!("fit_{}", self.fresh());
        let h = self.some_helper(st);
        let h2 = self.some_helper(st);
        let named = if !st.helpers.is_empty() {
            self.rng.pick(&st.helpers).clone()
        } else {
            "sum".to_string()
        };
        let mut s = String::new();
        writeln!(s, "function {name}(θ, xs)").unwrap();
        writeln!(s, "    val, grad = Flux.withgradient(θ) do p").unwrap();
        writeln!(s, "        sum({h}(xs .* p[1]))").unwrap();
        writeln!(s, "    end").unwrap();
        writeln!(
            s,
            "    l, back = pullback(p -> sum({h2}(p)) + {}, θ)",
            self.rng.float()
        )
        .unwrap();
        writeln!(s, "    g = Zygote.gradient({named}, θ)").unwrap();
        writeln!(s, "    results = [back(1.0), g]").unwrap();
        writeln!(s, "    return val, grad, results").unwrap();
        writeln!(s, "end").unwrap();
        s
    }

    fn rule_and_nograd(&mut self, st: &mut ModState) -> String {
        let name = self.helper_name();
        let mut s = String::new();
        writeln!(s, "function {name}(x::AbstractVector)").unwrap();
        writeln!(s, "    y = copy(x)").unwrap();
        writeln!(s, "    sort!(y)").unwrap();
        writeln!(s, "    return y").unwrap();
        writeln!(s, "end").unwrap();
        if self.rng.chance(50) {
            writeln!(s, "Zygote.@nograd {name}").unwrap();
        } else {
            writeln!(
                s,
                "function ChainRulesCore.rrule(::typeof({name}), x::AbstractVector)"
            )
            .unwrap();
            writeln!(s, "    y = {name}(x)").unwrap();
            writeln!(
                s,
                "    {name}_pullback(ȳ) = (ChainRulesCore.NoTangent(), ȳ)"
            )
            .unwrap();
            writeln!(s, "    return y, {name}_pullback").unwrap();
            writeln!(s, "end").unwrap();
        }
        st.helpers.push(name);
        s
    }

    /// Top-level script code using the last modules.
    fn script(&mut self) -> String {
        let mut s = String::new();
        let (m, hs) = self.modules.last().cloned().unwrap_or_default();
        writeln!(s, "using .{m}").unwrap();
        writeln!(s, "using Flux, Zygote").unwrap();
        writeln!(s).unwrap();
        writeln!(
            s,
            "const DATA = [(randn(Float32, 4), randn(Float32, 2)) for _ in 1:{}]",
            self.rng.range(8, 64)
        )
        .unwrap();
        writeln!(s, "θ0 = randn({})", self.rng.range(2, 10)).unwrap();
        if let Some(h) = hs.first() {
            writeln!(s, "g0 = Zygote.gradient(θ -> sum({m}.{h}(θ)), θ0)").unwrap();
        }
        writeln!(s, "results = Float64[]").unwrap();
        writeln!(s, "for k in 1:3").unwrap();
        writeln!(s, "    push!(results, sum(θ0) * k)").unwrap();
        writeln!(s, "end").unwrap();
        s
    }
}

/// The benchmark corpus: about `mb` MiB of Julia in files of 2,000-5,000 lines.
pub fn corpus(mb: usize) -> Vec<(PathBuf, String)> {
    let target = mb * 1024 * 1024;
    let mut g = Generator::new(0x5EED_AD11_2026);
    let mut files = Vec::new();
    let mut total = 0;
    while total < target {
        let i = files.len();
        let lines = g.rng.range(2000, 5000);
        let text = g.file(i, lines);
        total += text.len();
        let dir = ["src", "src/models", "src/training", "scripts"][i % 4];
        files.push((
            PathBuf::from(format!("/adlint-bench/{dir}/file_{i:04}.jl")),
            text,
        ));
    }
    files
}
