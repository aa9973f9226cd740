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
