module TinyRegression

using Flux, Zygote

export Scaled, build_model, loss, train_model

include("layers.jl")
include("features.jl")
include("train.jl")

end
