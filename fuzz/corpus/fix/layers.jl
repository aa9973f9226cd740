# A custom layer: scales its input element-wise, then adds a bias.
struct Scaled{V}
    scale::V
    bias::V
end

Flux.@layer Scaled

Scaled(n::Integer) = Scaled(ones(Float32, n), zeros(Float32, n))

function (s::Scaled)(x)
    y = similar(x)
    # Writing into a preallocated buffer is fine for plain Julia, but Zygote cannot
    # differentiate it: this is what adlint reports.
    y .= s.scale .* x .+ s.bias
    return y
end

build_model(nin, nout) = Chain(Dense(nin => 8, relu), Scaled(8), Dense(8 => nout))
