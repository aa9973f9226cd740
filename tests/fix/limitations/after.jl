using Zygote

function f!(x)
    x .= 2 .* x
    return x
end

f(x) = 2 .* x

gradient(rand(3)) do x
    sum(f(x))
end

function g_inner!(x, y)
    for i in eachindex(x, y)
        x[i] = 2 * y[i]
    end
    return x
end

g_inner(x, y) = reshape([2 * y[i] for i in eachindex(x, y)], size(x))

function g_outer(y)
    z = similar(y)
    z = g_inner(z, y)
    return z
end

Zygote.gradient(y -> sum(g_outer(y)), rand(3))

jclock(x) = ccall(:clock, Int32, ()) * x
gradient(jclock, rand())

jtime(x) = ccall(:clock, Int32, ())
gradient(x -> jtime(x) * x, rand())
