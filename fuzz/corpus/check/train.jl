# The loss and the training loop.

function loss(model, x, y)
    features = add_squares(standardize(x))
    return Flux.mse(model(features), y)
end

function train_model(; epochs = 10)
    x = rand(Float32, 2, 64)
    y = sum(x; dims = 1) .^ 2
    model = build_model(4, 1)
    opt_state = Flux.setup(Adam(0.01), model)
    history = Float32[]
    for epoch in 1:epochs
        val, grads = Flux.withgradient(m -> loss(m, x, y), model)
        # Runs after differentiation: not reported.
        push!(history, val)
        Flux.update!(opt_state, model, grads[1])
    end
    return model, history
end
