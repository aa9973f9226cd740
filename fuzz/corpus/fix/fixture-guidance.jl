using Zygote

function safe_sqrt(x)
    try
        sqrt(x)
    catch
        0.
    end
end
gradient(safe_sqrt, 4.)

mutable struct Acc
    a
    b
end
function bump(m, x)
    m.a = m.a + x
    return m.a
end
gradient(x -> bump(Acc(1.0, 2.0), x), 1.0)

function boxed(x)
    s = 0.0
    f = () -> s + x
    s = 1.0
    return f()
end
gradient(boxed, 1.0)

inner(x) = gradient(y -> y^3, x)[1]
gradient(x -> inner(x), 1.0)
