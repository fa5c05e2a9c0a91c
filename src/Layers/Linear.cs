using GpuDeconv.Compute;

namespace GpuDeconv.Layers;

/// <summary>
/// A fully connected layer as the tutorials write it, <c>tf.matmul(x, W) + b</c> with <c>weight</c> [in, out] and
/// <c>bias</c> [out]; initialised like <see cref="Conv2d"/> (truncated normal with <c>stddev</c>, constant bias).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer with weights drawn from a truncated normal (redrawn beyond 2 stddev) seeded by <paramref name="seed"/> and a constant bias.</summary>
    /// <exception cref="ArgumentException">A feature count is not positive, or stddev is negative or not finite.</exception>
    public Linear(Accelerator accelerator, int inFeatures, int outFeatures, ulong seed, bool useBias = true, float stddev = 0.01f, float biasValue = 0.01f)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear: inFeatures {inFeatures} and outFeatures {outFeatures} must both be positive.", inFeatures <= 0 ? nameof(inFeatures) : nameof(outFeatures));
        if (!float.IsFinite(stddev) || stddev < 0f)
            throw new ArgumentException($"Linear: stddev is {stddev}; it must be finite and zero or positive.", nameof(stddev));
        Weight = RegisterParameter("weight", Tensor.TruncatedNormal(accelerator, [inFeatures, outFeatures], stddev, seed));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Fill(accelerator, [outFeatures], biasValue));
    }

    /// <summary>The weights [in, out].</summary>
    public Tensor Weight { get; }

    /// <summary>The bias [out], or null when the layer has none.</summary>
    public Tensor? Bias { get; }

    /// <summary>The number of input features.</summary>
    public int InFeatures => Weight.Shape[0];

    /// <summary>The number of output features.</summary>
    public int OutFeatures => Weight.Shape[1];

    /// <summary>input [B, in] times weight, plus bias: [B, out].</summary>
    /// <exception cref="ArgumentException">The input is not [B, <see cref="InFeatures"/>] (flatten images first), or lives on another accelerator.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 2 || input.Shape[1] != InFeatures)
            throw new ArgumentException($"Linear '{Weight.Name}': input {input.Shape} must be [B, {InFeatures}] to multiply the weights {Weight.Shape} (flatten images with Flatten or Reshape first).", nameof(input));
        var product = Functional.MatMul(input, Weight);
        return Bias is null ? product : Functional.BiasAdd(product, Bias);
    }
}
