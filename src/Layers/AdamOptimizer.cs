namespace GpuDeconv.Layers;

/// <summary>
/// Adam as tf.train.AdamOptimizer (defaults lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8; the tutorials use 1e-4), on
/// the fused kernel GpuDeconv.Kernels.Adam: step t uses <c>lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)</c>.
/// State: <c>adam/step</c> (t), <c>adam/m/&lt;parameter&gt;</c> and <c>adam/v/&lt;parameter&gt;</c>.
/// </summary>
public sealed class AdamOptimizer : Optimizer
{
    private readonly Tensor[] _m, _v;

    /// <summary>Adam over the parameters of <paramref name="module"/>.</summary>
    /// <exception cref="ArgumentException">The learning rate or epsilon is negative or not finite, or a beta lies outside [0, 1).</exception>
    public AdamOptimizer(Module module, float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base("adam", module, learningRate) => (_m, _v) = Init(beta1, beta2, epsilon);

    /// <summary>Adam over <paramref name="parameters"/> (state named after <see cref="Tensor.Name"/>, or the position when unnamed).</summary>
    /// <exception cref="ArgumentException">A tensor is not a parameter or is listed twice, the learning rate or epsilon is negative or not finite, or a beta lies outside [0, 1).</exception>
    public AdamOptimizer(IEnumerable<Tensor> parameters, float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base("adam", parameters, learningRate) => (_m, _v) = Init(beta1, beta2, epsilon);

    private (Tensor[] M, Tensor[] V) Init(float beta1, float beta2, float epsilon)
    {
        if (!(beta1 >= 0f && beta1 < 1f))
            throw new ArgumentException($"AdamOptimizer: beta1 is {beta1}; it must lie in [0, 1).", nameof(beta1));
        if (!(beta2 >= 0f && beta2 < 1f))
            throw new ArgumentException($"AdamOptimizer: beta2 is {beta2}; it must lie in [0, 1).", nameof(beta2));
        if (!float.IsFinite(epsilon) || epsilon < 0f)
            throw new ArgumentException($"AdamOptimizer: epsilon is {epsilon}; it must be finite and zero or positive.", nameof(epsilon));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        return (AddSlot("m"), AddSlot("v"));
    }

    /// <summary>The decay of the first-moment estimate.</summary>
    public float Beta1 { get; private set; }

    /// <summary>The decay of the second-moment estimate.</summary>
    public float Beta2 { get; private set; }

    /// <summary>TF's "epsilon hat", added outside the square root.</summary>
    public float Epsilon { get; private set; }

    /// <inheritdoc/>
    protected override void Apply(int index, Tensor parameter, Tensor gradient) =>
        Kernels.Adam.Step(parameter.Stream, parameter.View, gradient.View, _m[index].View, _v[index].View, LearningRate, StepCount, Beta1, Beta2, Epsilon);
}
