using Zygote
function f!(x)
    x .= 2 .* x
    return x
end
gradient(x -> sum(f!(x)), rand(3))
