using Zygote

function bcast(y)
    z = similar(y)
    z .= sin.(y)
    return sum(z)
end

function fill1(y)
    z = similar(y)
    for i in eachindex(y)
        z[i] = 2 * y[i]
    end
    return sum(z)
end

function fill2(a, b)
    m = zeros(length(a), length(b))
    for i in 1:length(a)
        for j in 1:length(b)
            m[i, j] = a[i] * b[j]
        end
    end
    return sum(m)
end

function collect_pos(xs)
    out = Float64[]
    for x in xs
        if x > 0
            push!(out, 2x)
        end
    end
    return sum(out)
end

function aliased(y::AbstractVector{<:Real})
    z = similar(y)
    w = z
    z .= 2 .* y
    return sum(w)
end

function second_effect(y)
    z = similar(y)
    total = 0.0
    for i in eachindex(y)
        z[i] = 2 * y[i]
        total += y[i]
    end
    return sum(z) + total
end

function reads_z(y)
    z = similar(y)
    z[1] = y[1]
    for i in 2:length(y)
        z[i] = z[i-1] + y[i]
    end
    return sum(z)
end

function uses_shape(y)
    z = zeros(length(y))
    n = length(z)
    for i in eachindex(z)
        z[i] = y[i] / n
    end
    return sum(z)
end

loss(y) = bcast(y) + fill1(y) + fill2(y, y) + collect_pos(y) + aliased(y) + second_effect(y) + reads_z(y) + uses_shape(y)
gradient(loss, rand(3))
