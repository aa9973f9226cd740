using Zygote

# Exact: `1:n` over `zeros(n)`.
function exact(x)
    n = length(x)
    z = [2 * x[i] for i in 1:n]
    return sum(z)
end

# Partial: the last element would stay zero. Refused.
function partial(x)
    n = length(x)
    z = zeros(n)
    for i in 1:n-1
        z[i] = 2 * x[i]
    end
    return sum(z)
end

# Offset range: the first element would stay zero. Refused.
function offset_range(x)
    n = length(x)
    z = zeros(n)
    for i in 2:n
        z[i] = 2 * x[i]
    end
    return sum(z)
end

# Offset index: writes z[2] to z[n+1]. Refused.
function offset_index(x)
    n = length(x)
    z = zeros(n + 1)
    for i in 1:n
        z[i+1] = 2 * x[i]
    end
    return sum(z)
end

# Reversed: the same elements; the comprehension runs forward.
function reversed(x)
    n = length(x)
    z = [2 * x[i] for i in 1:n]
    return sum(z)
end

# Reversed with random numbers: the draws would land elsewhere. Refused.
function reversed_noise(x)
    n = length(x)
    z = zeros(n)
    for i in n:-1:1
        z[i] = x[i] + rand()
    end
    return sum(z)
end

# A linear index over a matrix: reshaped, not a vector.
function matrix_eachindex(X)
    Z = similar(X)
    Z = reshape([2 * X[I] for I in eachindex(Z)], size(X))
    return sum(Z)
end

# Nested loops over the axes: a matrix comprehension.
function matrix_nested(a, b)
    m, n = length(a), length(b)
    Z = [a[i] * b[j] for i in 1:m, j in 1:n]
    return sum(Z)
end

# Row by row with random numbers: the comprehension would draw them column by column.
function matrix_noise(a, b)
    m, n = length(a), length(b)
    Z = zeros(m, n)
    for i in 1:m, j in 1:n
        Z[i, j] = a[i] * b[j] * randn()
    end
    return sum(Z)
end

# A filter becomes the comprehension's `if`.
function filtered(xs)
    out = [2x for x in xs if x > 0]
    return sum(out)
end

# `push!` onto a vector that is not empty: the comprehension would drop its elements.
function push_onto(xs)
    out = zeros(2)
    for x in xs
        push!(out, 2x)
    end
    return sum(out)
end

# Copying into `similar(y)`: safe.
function copied(y)
    z = copy(y)
    return sum(abs2, z)
end

# The twin of `step!` must not shadow `Base.step`.
function step!(x)
    x .= 2 .* x
    return x
end

step_nonmutating(x) = 2 .* x

# An in-place helper that returns `nothing`: its rule goes on a twin.
function fill_doubled!(out, x)
    out .= 2 .* x
    return nothing
end

function uses_helper(x)
    out = similar(x)
    fill_doubled!(out, x)
    return sum(out)
end

# `rand` in the loss: ForwardDiff would run it once per chunk, with other numbers.
function noisy!(y::AbstractVector{<:Real})
    y .= y .+ rand(length(y))
    return sum(y)
end

# One entry point per shape, so that `--verify` judges each fix on its own.
gradient(exact, rand(3))
gradient(partial, rand(3))
gradient(offset_range, rand(3))
gradient(offset_index, rand(3))
gradient(reversed, rand(3))
gradient(reversed_noise, rand(3))
gradient(matrix_eachindex, rand(3))
gradient(filtered, rand(3))
gradient(push_onto, rand(3))
gradient(copied, rand(3))
gradient(uses_helper, rand(3))
gradient(x -> matrix_nested(x, x), rand(3))
gradient(x -> matrix_noise(x, x), rand(3))
gradient(x -> sum(step_nonmutating(copy(x))), rand(3))
gradient(x -> noisy!(copy(x)), rand(3))
