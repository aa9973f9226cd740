using Zygote
loss(x) = sum(x .^ 2)
gradient(loss, [1.0, 2.0])
