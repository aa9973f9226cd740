# Prelude of the reference interpreter: the Flux/NNlib/Optimisers pieces typical models use,
# written in the subset the interpreter supports (no array mutation inside model code, so it
# never adds Zygote failures of its own). Initialisation is deterministic (the interpreter's
# seeded generator), not Flux's.

struct Dense
  weight
  bias
  σ
end

function __glorot(out, in)
  scale = sqrt(24.0 / (in + out))
  return (rand(out, in) .- 0.5) .* scale
end

Dense(p::Pair, σ = identity; bias = true) = __new(:Dense, __glorot(p.second, p.first), zeros(p.second), σ)
Dense(in::Integer, out::Integer, σ = identity) = __new(:Dense, __glorot(out, in), zeros(out), σ)

function (a::Dense)(x)
  σ = a.σ
  return σ.(a.weight * x .+ a.bias)
end

struct Chain
  layers
end

Chain(xs...) = __new(:Chain, xs)

function (c::Chain)(x)
  for l in c.layers
    x = l(x)
  end
  return x
end

function logsoftmax(x::AbstractVector)
  m = maximum(x)
  return x .- (m + log(sum(exp.(x .- m))))
end

logsoftmax(x::AbstractMatrix) = reduce(hcat, [logsoftmax(c) for c in eachcol(x)])
softmax(x::AbstractMatrix) = reduce(hcat, [softmax(c) for c in eachcol(x)])

mse(ŷ, y) = sum((ŷ .- y) .^ 2) / length(y)

logitcrossentropy(ŷ::AbstractVector, y) = -sum(y .* logsoftmax(ŷ))
logitcrossentropy(ŷ::AbstractMatrix, y) = -sum(y .* logsoftmax(ŷ)) / size(y, 2)

crossentropy(ŷ::AbstractVector, y) = -sum(y .* log.(ŷ))
crossentropy(ŷ::AbstractMatrix, y) = -sum(y .* log.(ŷ)) / size(y, 2)

# ---------------------------------------------------------------- optimisers

struct Descent
  eta
end
Descent() = __new(:Descent, 0.1)

struct Adam
  eta
  beta1
  beta2
  epsilon
end
Adam() = __new(:Adam, 0.001, 0.9, 0.999, 1.0e-8)
Adam(eta) = __new(:Adam, eta, 0.9, 0.999, 1.0e-8)

mutable struct __Leaf
  rule
  m
  v
  t
end

__setup(rule, x::AbstractArray) = __new(:__Leaf, rule, zero(x), zero(x), 0)
__setup(rule, x::Number) = nothing
__setup(rule, x::Function) = nothing
__setup(rule, x::Nothing) = nothing
__setup(rule, x::Tuple) = map(y -> __setup(rule, y), x)
__setup(rule, x) = map(n -> __setup(rule, getfield(x, n)), propertynames(x))

setup(rule, model) = __setup(rule, model)

function __apply!(r::Descent, s, x, g)
  x .-= r.eta .* g
  return nothing
end

function __apply!(r::Adam, s, x, g)
  s.t = s.t + 1
  s.m = r.beta1 .* s.m .+ (1 - r.beta1) .* g
  s.v = r.beta2 .* s.v .+ (1 - r.beta2) .* g .^ 2
  mhat = s.m ./ (1 - r.beta1 ^ s.t)
  vhat = s.v ./ (1 - r.beta2 ^ s.t)
  x .-= r.eta .* mhat ./ (sqrt.(vhat) .+ r.epsilon)
  return nothing
end

__update!(s::Nothing, x, g) = nothing
__update!(s::__Leaf, x, g) = g === nothing ? nothing : __apply!(s.rule, s, x, g)

function __update!(s::Tuple, x::Tuple, g)
  g === nothing && return nothing
  for i in 1:length(s)
    __update!(s[i], x[i], g[i])
  end
  return nothing
end

function __update!(s::Tuple, x, g)
  g === nothing && return nothing
  names = propertynames(x)
  for i in 1:length(s)
    __update!(s[i], getfield(x, names[i]), g[i])
  end
  return nothing
end

function update!(state, model, grad)
  __update!(state, model, grad)
  return state, model
end

# Optimisers.update: the same step on copies, so neither the model nor the state given is
# changed.
__copy_leaves(x::AbstractArray) = copy(x)
__copy_leaves(x::Tuple) = map(__copy_leaves, x)
__copy_leaves(x::NamedTuple) = __namedtuple(propertynames(x), map(n -> __copy_leaves(getfield(x, n)), propertynames(x)))
__copy_leaves(s::__Leaf) = __new(:__Leaf, s.rule, __copy_leaves(s.m), __copy_leaves(s.v), s.t)
__copy_leaves(x) = x
update(state, model, grad) = update!(__copy_leaves(state), __copy_leaves(model), grad)

__batch(d::Tuple) = d
__batch(d) = (d,)

function train!(loss, model, data, opt)
  for d in data
    g = gradient(m -> loss(m, __batch(d)...), model)
    update!(opt, model, g[1])
  end
  return nothing
end

# ---------------------------------------------------------------- Statistics

function var(x; dims = nothing, corrected = true)
  if dims === nothing
    n = length(x)
    return sum(abs2, x .- mean(x)) / (corrected ? n - 1 : n)
  end
  m = mean(x; dims = dims)
  n = size(x, dims)
  return sum(abs2.(x .- m); dims = dims) ./ (corrected ? n - 1 : n)
end

std(x; dims = nothing, corrected = true) = sqrt.(var(x; dims = dims, corrected = corrected))

# ---------------------------------------------------------------- implicit parameters (Flux <= 0.14)

struct Params
  order
end
Params(xs::AbstractVector) = __new(:Params, Any[x for x in xs])

function params(m...)
  ps = Any[]
  for x in m
    __collect_params!(ps, x)
  end
  return __new(:Params, ps)
end

function __collect_params!(ps, x::AbstractArray)
  if eltype(x) == Float64 || eltype(x) == Float32
    any(p -> p === x, ps) || push!(ps, x)
  else
    for y in x
      __collect_params!(ps, y)
    end
  end
  return nothing
end
__collect_params!(ps, x::Number) = nothing
__collect_params!(ps, x::Function) = nothing
__collect_params!(ps, x::Nothing) = nothing
__collect_params!(ps, x::Symbol) = nothing
__collect_params!(ps, x::AbstractString) = nothing
function __collect_params!(ps, x::Tuple)
  for y in x
    __collect_params!(ps, y)
  end
  return nothing
end
function __collect_params!(ps, x)
  for n in propertynames(x)
    __collect_params!(ps, getfield(x, n))
  end
  return nothing
end

function update!(opt::Descent, ps::Params, gs)
  for p in ps
    g = gs[p]
    g === nothing || (p .-= opt.eta .* g)
  end
  return nothing
end

const __adam_state = Dict()

function update!(opt::Adam, ps::Params, gs)
  for p in ps
    g = gs[p]
    g === nothing && continue
    haskey(__adam_state, p) || (__adam_state[p] = __new(:__Leaf, opt, zero(p), zero(p), 0))
    __apply!(opt, __adam_state[p], p, g)
  end
  return nothing
end

function train!(loss, ps::Params, data, opt)
  for d in data
    gs = gradient(() -> loss(__batch(d)...), ps)
    update!(opt, ps, gs)
  end
  return nothing
end

# ---------------------------------------------------------------- LinearAlgebra

# `I`: arithmetic with it (`A + I`, `2I`, `I * x`) and `Matrix(I, m, n)` are builtins.
struct UniformScaling
  λ
end
const I = UniformScaling(true)
# Julia's `I(n)` is a `Diagonal`; here it is the dense matrix with the same entries.
(J::UniformScaling)(n::Integer) = Matrix(J, n, n)

# `qr(A)` (square A) returns one: `F.Q`, `F.R`, or `Q, R = qr(A)`.
struct QRCompactWY
  Q
  R
end

# ---------------------------------------------------------------- Flux: one-hot, trainable, destructure

onehot(x, labels) = [x == l for l in labels]
onehotbatch(xs, labels) = reduce(hcat, [onehot(x, labels) for x in xs])
onecold(y::AbstractVector, labels = 1:length(y)) = labels[argmax(y)]
onecold(y::AbstractMatrix, labels = 1:size(y, 1)) = [labels[argmax(c)] for c in eachcol(y)]

trainable(d::Dense) = (weight = d.weight, bias = d.bias)
trainable(c::Chain) = (layers = c.layers,)

# `destructure(m)`: the Float arrays reachable from `m` (fields in order), flattened into one
# vector, and the closure that rebuilds `m` with them from such a vector. An array reached
# twice is counted twice (Flux counts it once).
__flat(x::AbstractArray) = (eltype(x) == Float64 || eltype(x) == Float32) ? Any[vec(x)] : reduce(vcat, [__flat(y) for y in x]; init = Any[])
__flat(x::Number) = Any[]
__flat(x::Function) = Any[]
__flat(x::Nothing) = Any[]
__flat(x::Symbol) = Any[]
__flat(x::AbstractString) = Any[]
__flat(x::Tuple) = reduce(vcat, [__flat(y) for y in x]; init = Any[])
__flat(x::NamedTuple) = reduce(vcat, [__flat(y) for y in x]; init = Any[])
__flat(x) = reduce(vcat, [__flat(getfield(x, n)) for n in propertynames(x)]; init = Any[])

# Rebuild `x` from `θ` starting after position `at`; returns (rebuilt, new position).
function __rebuild(x::AbstractArray, θ, at)
  if eltype(x) == Float64 || eltype(x) == Float32
    n = length(x)
    return reshape(θ[at+1:at+n], size(x)), at + n
  end
  parts, at = __rebuild_all(x, θ, at)
  return parts, at
end
__rebuild(x::Number, θ, at) = (x, at)
__rebuild(x::Function, θ, at) = (x, at)
__rebuild(x::Nothing, θ, at) = (x, at)
__rebuild(x::Symbol, θ, at) = (x, at)
__rebuild(x::AbstractString, θ, at) = (x, at)
function __rebuild(x::Tuple, θ, at)
  parts, at = __rebuild_all(x, θ, at)
  return (parts...,), at
end
function __rebuild(x, θ, at)
  parts, at = __rebuild_all([getfield(x, n) for n in propertynames(x)], θ, at)
  return __new(typeof(x), parts...), at
end

function __rebuild_all(xs, θ, at)
  parts = Any[]
  for y in xs
    p, at = __rebuild(y, θ, at)
    parts = vcat(parts, Any[p])
  end
  return parts, at
end

function destructure(m)
  parts = __flat(m)
  flat = isempty(parts) ? Float64[] : reduce(vcat, parts)
  re(θ) = __rebuild(m, θ, 0)[1]
  return flat, re
end

# ---------------------------------------------------------------- Flux: Conv (stride 1)

struct Conv
  weight
  bias
  σ
  pad
end

__int_pad(p::Integer) = nothing
__int_pad(p) = __unsupported("Conv with a padding other than an integer")

function Conv(k::Tuple, ch::Pair, σ = identity; pad = 0, stride = 1, bias = true)
  stride == 1 || all(s -> s == 1, stride) || __unsupported("Conv with a stride other than 1")
  __int_pad(pad)
  (length(k) == 1 || length(k) == 2) || __unsupported("Conv of more than 2 spatial dimensions")
  fan = prod(k) * ch.first
  w = (rand(k..., ch.first, ch.second) .- 0.5) .* sqrt(24.0 / (fan + prod(k) * ch.second))
  return __new(:Conv, w, zeros(ch.second), σ, pad)
end
Conv(w::AbstractArray, b, σ = identity; pad = 0) = __new(:Conv, w, b, σ, pad)

trainable(c::Conv) = (weight = c.weight, bias = c.bias)

function __pad(x, p, dims)
  p == 0 && return x
  for d in dims
    z = zeros([k == d ? p : size(x, k) for k in 1:ndims(x)]...)
    x = cat(z, x, z; dims = d)
  end
  return x
end

# NNlib's `conv` is a true convolution: the kernel is flipped.
function __conv_at(w, x, i, o, n)
  K, C, _ = size(w)
  s = 0.0
  for c in 1:C
    for k in 1:K
      s = s + w[K - k + 1, c, o] * x[i + k - 1, c, n]
    end
  end
  return s
end

function __conv_at(w, x, i, j, o, n)
  K1, K2, C, _ = size(w)
  s = 0.0
  for c in 1:C
    for b in 1:K2
      for a in 1:K1
        s = s + w[K1 - a + 1, K2 - b + 1, c, o] * x[i + a - 1, j + b - 1, c, n]
      end
    end
  end
  return s
end

function (c::Conv)(x)
  w = c.weight
  nd = ndims(w)
  ndims(x) == nd || __unsupported("Conv input without the batch dimension (expected $(nd) dimensions)")
  size(x, nd - 1) == size(w, nd - 1) || throw(DimensionMismatch("Conv input has $(size(x, nd - 1)) channels, the layer expects $(size(w, nd - 1))"))
  σ = c.σ
  if nd == 3
    xp = __pad(x, c.pad, (1,))
    W = size(xp, 1) - size(w, 1) + 1
    O = size(w, 3)
    N = size(x, 3)
    y = [__conv_at(w, xp, i, o, n) + c.bias[o] for n in 1:N for o in 1:O for i in 1:W]
    return σ.(reshape(y, W, O, N))
  end
  xp = __pad(x, c.pad, (1, 2))
  W = size(xp, 1) - size(w, 1) + 1
  H = size(xp, 2) - size(w, 2) + 1
  O = size(w, 4)
  N = size(x, 4)
  y = [__conv_at(w, xp, i, j, o, n) + c.bias[o] for n in 1:N for o in 1:O for j in 1:H for i in 1:W]
  return σ.(reshape(y, W, H, O, N))
end

# ---------------------------------------------------------------- Flux: BatchNorm

# Training mode (inside a gradient) normalises with the batch statistics and updates the
# running statistics behind `ignore_derivatives`, as Flux does; outside, it uses them.
# Input: features × batch.
mutable struct BatchNorm
  σ
  β
  γ
  μ
  σ²
  ϵ
  momentum
end

BatchNorm(ch::Integer, σ = identity; momentum = 0.1, eps = 1.0e-5, ϵ = eps) =
  __new(:BatchNorm, σ, zeros(ch), ones(ch), zeros(ch), ones(ch), ϵ, momentum)

trainable(bn::BatchNorm) = (β = bn.β, γ = bn.γ)

function (bn::BatchNorm)(x)
  ndims(x) == 2 || __unsupported("BatchNorm of other than a features × batch matrix")
  σ = bn.σ
  if __within_gradient()
    μ = mean(x; dims = 2)
    σ² = mean((x .- μ) .^ 2; dims = 2)
    # once per entry call: not in the finite-difference evaluations the interpreter adds
    __forward_pass() && ignore_derivatives() do
      m = bn.momentum
      n = size(x, 2)
      bn.μ = (1 - m) .* bn.μ .+ m .* vec(μ)
      bn.σ² = (1 - m) .* bn.σ² .+ m .* (n / (n - 1)) .* vec(σ²)
      nothing
    end
  else
    μ = bn.μ
    σ² = bn.σ²
  end
  return σ.(bn.γ .* (x .- μ) ./ sqrt.(σ² .+ bn.ϵ) .+ bn.β)
end

# ---------------------------------------------------------------- Flux: recurrent cells

# Two call conventions: Flux <= 0.14 `cell(h, x) -> (h′, y)` and Flux >= 0.15
# `cell(x, h) -> h′` (and `cell(x)` from the zero state). An RNNCell tells them apart by the
# sizes; when the input and output sizes are equal it takes the Flux <= 0.14 order.
struct RNNCell
  σ
  Wi
  Wh
  b
end

RNNCell(p::Pair, σ = tanh) = __new(:RNNCell, σ, __glorot(p.second, p.first), __glorot(p.second, p.second), zeros(p.second))

trainable(c::RNNCell) = (Wi = c.Wi, Wh = c.Wh, b = c.b)

__state0(c::RNNCell) = zeros(size(c.Wh, 1), 1)
__rnn_step(c::RNNCell, x, h) = c.σ.(c.Wi * x .+ c.Wh * h .+ c.b)

function (c::RNNCell)(a, b)
  out, in = size(c.Wi)
  if in != out && size(a, 1) == in
    return __rnn_step(c, a, b)
  end
  h = __rnn_step(c, b, a)
  return h, h
end
(c::RNNCell)(x) = __rnn_step(c, x, zeros(size(c.Wh, 1)))

struct LSTMCell
  Wi
  Wh
  b
end

LSTMCell(p::Pair) = __new(:LSTMCell, __glorot(4 * p.second, p.first), __glorot(4 * p.second, p.second), zeros(4 * p.second))

trainable(c::LSTMCell) = (Wi = c.Wi, Wh = c.Wh, b = c.b)

__state0(c::LSTMCell) = (zeros(size(c.Wh, 2), 1), zeros(size(c.Wh, 2), 1))
__gate(g, k, o) = ndims(g) == 1 ? g[(k - 1) * o + 1:k * o] : g[(k - 1) * o + 1:k * o, :]

function __lstm_step(m::LSTMCell, x, h, c)
  o = size(m.Wh, 2)
  g = m.Wi * x .+ m.Wh * h .+ m.b
  c′ = sigmoid.(__gate(g, 2, o)) .* c .+ sigmoid.(__gate(g, 1, o)) .* tanh.(__gate(g, 3, o))
  h′ = sigmoid.(__gate(g, 4, o)) .* tanh.(c′)
  return h′, c′
end

# Flux <= 0.14: m((h, c), x) -> ((h′, c′), h′); Flux >= 0.15: m(x, (h, c)) -> (h′, c′).
function (m::LSTMCell)(a::Tuple, b)
  h′, c′ = __lstm_step(m, b, a[1], a[2])
  return (h′, c′), h′
end
(m::LSTMCell)(a, b::Tuple) = __lstm_step(m, a, b[1], b[2])
(m::LSTMCell)(x) = __lstm_step(m, x, zeros(size(m.Wh, 2)), zeros(size(m.Wh, 2)))

# Flux <= 0.14's stateful wrapper (`RNN(in => out)`, `LSTM(in => out)`): one step per call,
# the state kept in the (mutable) wrapper.
mutable struct Recur
  cell
  state
end
Recur(cell) = __new(:Recur, cell, __state0(cell))

function (m::Recur)(x)
  m.state, y = m.cell(m.state, x)
  return y
end

reset!(m::Recur) = (m.state = __state0(m.cell); nothing)

RNN(p::Pair, σ = tanh) = Recur(RNNCell(p, σ))
LSTM(p::Pair) = Recur(LSTMCell(p))

# ---------------------------------------------------------------- ADTypes, DifferentiationInterface

struct AutoZygote
end

# `DI.gradient(f, AutoZygote(), x)` and friends; the gradient call inside is attributed to
# the user's call. Only the Zygote backend is modelled.
__backend(b::AutoZygote) = nothing
__backend(b) = __unsupported("a differentiation backend other than AutoZygote")

__di_gradient(f, b, x) = (__backend(b); gradient(f, x)[1])
function __di_value_and_gradient(f, b, x)
  __backend(b)
  r = withgradient(f, x)
  return r.val, r.grad[1]
end
__di_pullback(f, b, x, ty) = (__backend(b); (pullback(f, x)[2](ty[1])[1],))
function __di_value_and_pullback(f, b, x, ty)
  __backend(b)
  y, back = pullback(f, x)
  return y, (back(ty[1])[1],)
end
__di_jacobian(f, b, x) = (__backend(b); jacobian(f, x)[1])

const DifferentiationInterface = (gradient = __di_gradient, value_and_gradient = __di_value_and_gradient,
  pullback = __di_pullback, value_and_pullback = __di_value_and_pullback, jacobian = __di_jacobian)
const DI = DifferentiationInterface

# Flux's `Flux.gradient(f, AutoZygote(), args...)` (§1.2)
gradient(f, b::AutoZygote, args...) = gradient(f, args...)
withgradient(f, b::AutoZygote, args...) = withgradient(f, args...)

# ---------------------------------------------------------------- Lux

# The `(x, ps, st)` convention: layers hold no arrays; `Lux.setup(rng, model)` returns the
# parameters and states as named tuples. Reached as `Lux.Dense`, `Lux.Chain`, ...
struct __LuxDense
  in
  out
  σ
  use_bias
end

struct __LuxChain
  layers
end

struct StatefulLuxLayer
  model
  ps
  st
end

__lux_Dense(p::Pair, σ = identity; use_bias = true) = __new(:__LuxDense, p.first, p.second, σ, use_bias)
__lux_Chain(layers...) = __new(:__LuxChain, layers)

__lux_names(n) = ([Symbol(string("layer_", i)) for i in 1:n]...,)

__lux_ps(rng, d::__LuxDense) = d.use_bias ? (weight = __glorot(d.out, d.in), bias = zeros(d.out)) : (weight = __glorot(d.out, d.in),)
__lux_ps(rng, c::__LuxChain) = __namedtuple(__lux_names(length(c.layers)), ([__lux_ps(rng, l) for l in c.layers]...,))
__lux_ps(rng, f::Function) = __namedtuple((), ())
__lux_ps(rng, m) = __unsupported("Lux.setup of a $(typeof(m)) (only Lux's Dense and Chain are modelled)")
__lux_st(rng, d::__LuxDense) = __namedtuple((), ())
__lux_st(rng, c::__LuxChain) = __namedtuple(__lux_names(length(c.layers)), ([__lux_st(rng, l) for l in c.layers]...,))
__lux_st(rng, f::Function) = __namedtuple((), ())

__lux_setup(rng, model) = (__lux_ps(rng, model), __lux_st(rng, model))

function (d::__LuxDense)(x, ps, st)
  σ = d.σ
  y = d.use_bias ? ps.weight * x .+ ps.bias : ps.weight * x
  return σ.(y), st
end

function (c::__LuxChain)(x, ps, st)
  sts = Any[]
  for i in 1:length(c.layers)
    x, s = c.layers[i](x, ps[i], st[i])
    sts = vcat(sts, Any[s])
  end
  return x, __namedtuple(__lux_names(length(c.layers)), (sts...,))
end

__lux_apply(model, x, ps, st) = model(x, ps, st)

function (s::StatefulLuxLayer)(x)
  y, st = s.model(x, s.ps, s.st)
  return y
end
(s::StatefulLuxLayer)(x, ps) = s.model(x, ps, s.st)[1]

# `using Lux`: its exported layer names become the bare ones.
function __using_lux()
  global Dense = __lux_Dense
  global Chain = __lux_Chain
  return nothing
end

const Lux = (Dense = __lux_Dense, Chain = __lux_Chain, setup = __lux_setup, apply = __lux_apply,
  StatefulLuxLayer = StatefulLuxLayer)
