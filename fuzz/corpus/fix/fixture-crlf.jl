using Zygote

function scaled(y)
    z = similar(y)
    z .= 3 .* y # scale
    return sum(z)
end

function squares(n, y)
    out = []
    for i in 1:n
        push!(out, y[i]^2)
    end
    return sum(out)
end

gradient(y -> scaled(y) + squares(2, y), rand(3))
