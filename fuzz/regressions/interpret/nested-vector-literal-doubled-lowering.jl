using Flux

function train_loop!(loss, model, data, opt)
    ps = Fes(3), zeros(3), zeros(3), ones(3), 0.1)
x = randn(3, 16)
Zygote.gradient(b -> sumros[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]](3), zeros(3), ones(3), 0.1)
x = randn(3, 16)
Zygote.gradient(b -> suros(3), zeros(3), ones(3), 0.1)
x = randn(3, 16)
Zygote.gradient(b -> suros(3), zeros(3), ones(3), 0.1)
x = zeros(3), zeros(3), ones(3), 0.1)
x = randn(3, 16)
Zygote.gradient(b -> sum(abs2, b(x)), bn)
