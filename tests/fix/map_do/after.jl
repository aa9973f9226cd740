using Zygote

# central differences, written the obvious imperative way
function fd_grad(f, x; h = 1e-6)
    g = reshape(map(eachindex(x)) do i
        e = [j == i ? h : 0.0 for j in eachindex(x)]
        (f(x .+ e) - f(x .- e)) / (2h)
    end, size(x))
    return g
end

function column_sums(w, x)
    result = map(1:size(x, 2)) do i
        h = w[:, i] .+ x[:, i]
        h
    end
    stacked = hcat(result...)
    return sum(stacked)
end

# The temporary is read after the loop: not a map.
function last_temp(w, x)
    result = []
    h = 0.0
    for i in 1:size(x, 2)
        h = w[:, i] .+ x[:, i]
        push!(result, h)
    end
    return sum(hcat(result...)) + sum(h)
end

Zygote.gradient(p -> sum(fd_grad(y -> sum(y .^ 3), p)), rand(3))
Zygote.gradient(w -> column_sums(w, rand(2, 2)) + last_temp(w, rand(2, 2)), rand(2, 2))
