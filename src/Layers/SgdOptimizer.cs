namespace GpuDeconv.Layers;

/// <summary>
/// Stochastic gradient descent as tf.train.MomentumOptimizer (or GradientDescentOptimizer with momentum 0), on the
/// fused kernel GpuDeconv.Kernels.Sgd: <c>velocity = momentum * velocity + g; p -= lr * velocity</c>, or with Nesterov
/// <c>p -= lr * g + lr * momentum * velocity</c>. State: <c>sgd/step</c> and, with momentum, <c>sgd/velocity/&lt;parameter&gt;</c>.
/// </summary>
public sealed class SgdOptimizer : Optimizer
{
    private readonly Tensor[]? _velocity;

    /// <summary>SGD over the parameters of <paramref name="module"/>.</summary>
    /// <exception cref="ArgumentException">The learning rate or momentum is negative or not finite.</exception>
    public SgdOptimizer(Module module, float learningRate, float momentum = 0f, bool nesterov = false)
        : base("sgd", module, learningRate) => _velocity = Init(momentum, nesterov);

    /// <summary>SGD over <paramref name="parameters"/> (state named after <see cref="Tensor.Name"/>, or the position when unnamed).</summary>
    /// <exception cref="ArgumentException">A tensor is not a parameter or is listed twice, or the learning rate or momentum is negative or not finite.</exception>
    public SgdOptimizer(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, bool nesterov = false)
        : base("sgd", parameters, learningRate) => _velocity = Init(momentum, nesterov);

    private Tensor[]? Init(float momentum, bool nesterov)
    {
        if (!float.IsFinite(momentum) || momentum < 0f)
            throw new ArgumentException($"SgdOptimizer: momentum is {momentum}; it must be finite and zero or positive.", nameof(momentum));
        Momentum = momentum;
        Nesterov = nesterov;
        // Plain SGD keeps no state besides the step (TF's GradientDescentOptimizer has no slots).
        return momentum == 0f && !nesterov ? null : AddSlot("velocity");
    }

    /// <summary>The momentum (0: plain gradient descent).</summary>
    public float Momentum { get; private set; }

    /// <summary>Whether the Nesterov form of the update is used.</summary>
    public bool Nesterov { get; private set; }

    /// <inheritdoc/>
    protected override void Apply(int index, Tensor parameter, Tensor gradient)
    {
        if (_velocity is null)
            Kernels.Sgd.Step(parameter.Stream, parameter.View, gradient.View, LearningRate);
        else
            Kernels.Sgd.Step(parameter.Stream, parameter.View, gradient.View, _velocity[index].View, LearningRate, Momentum, Nesterov);
    }
}
