using Zygote

function copied(y)
    z = similar(y)
    z .= y
    return sum(abs2, z)
end

function doubled(y)
    z = similar(y)
    z .= 2 .* y
    return sum(z)
end

gradient(y -> copied(y) + doubled(y), rand(3))
