using Zygote

function scaled(y)
    z = 3 .* y # scale
    return sum(z)
end

function squares(n, y)
    out = [y[i]^2 for i in 1:n]
    return sum(out)
end

gradient(y -> scaled(y) + squares(2, y), rand(3))
