using GpuDeconv.Compute;
using GpuDeconv.Kernels;

namespace GpuDeconv.Layers;

/// <summary>
/// A 2-D convolution layer, <c>conv2d(x, W, strides, padding) + b</c> with an HWIO filter <c>weight</c>
/// [kh, kw, in, out] and a per-channel <c>bias</c> [out]. Initialised as the deconv tutorial's complete program
/// (seed 001, the GAP network: <c>weight_variable</c> = tf.truncated_normal(stddev=0.01), <c>bias_variable</c> =
/// tf.constant(0.01)); its notebook version (seed 000) uses 0.1 for both, LeNet (seed 003) sigma and zeros.
/// </summary>
/// <remarks>Files that import both GpuDeconv.Kernels and GpuDeconv.Layers need an alias: <c>using Conv2d = GpuDeconv.Layers.Conv2d;</c>.</remarks>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer with weights drawn from a truncated normal (redrawn beyond 2 stddev) seeded by <paramref name="seed"/> and a constant bias.</summary>
    /// <exception cref="ArgumentException">A channel count or kernel size is not positive, a stride is not positive, or stddev is negative or not finite.</exception>
    public Conv2d(Accelerator accelerator, int inChannels, int outChannels, Size2d kernelSize, ulong seed,
                  Size2d? stride = null, Padding padding = Padding.Same, bool useBias = true, float stddev = 0.01f, float biasValue = 0.01f)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        const string op = "Conv2d";
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentException($"{op}: inChannels {inChannels} and outChannels {outChannels} must both be positive.", inChannels <= 0 ? nameof(inChannels) : nameof(outChannels));
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0)
            throw new ArgumentException($"{op}: kernelSize {kernelSize} must be positive in both dimensions.", nameof(kernelSize));
        Size2d strides = stride ?? 1;
        if (strides.Height <= 0 || strides.Width <= 0)
            throw new ArgumentException($"{op}: stride {strides} must be positive in both dimensions.", nameof(stride));
        if (!float.IsFinite(stddev) || stddev < 0f)
            throw new ArgumentException($"{op}: stddev is {stddev}; it must be finite and zero or positive.", nameof(stddev));
        Stride = strides;
        Padding = padding;
        Weight = RegisterParameter("weight", Tensor.TruncatedNormal(accelerator, [kernelSize.Height, kernelSize.Width, inChannels, outChannels], stddev, seed));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Fill(accelerator, [outChannels], biasValue));
    }

    /// <summary>The filter, HWIO [kh, kw, in, out].</summary>
    public Tensor Weight { get; }

    /// <summary>The per-output-channel bias [out], or null when the layer has none.</summary>
    public Tensor? Bias { get; }

    /// <summary>The (height, width) stride.</summary>
    public Size2d Stride { get; }

    /// <summary>SAME or VALID, as tf.nn.conv2d.</summary>
    public Padding Padding { get; }

    /// <summary>The number of input channels (the filter's third dimension).</summary>
    public int InChannels => Weight.Shape[2];

    /// <summary>The number of output channels (the filter's fourth dimension).</summary>
    public int OutChannels => Weight.Shape[3];

    /// <summary>conv2d(input, weight) + bias on an NHWC input [N, H, W, in].</summary>
    /// <exception cref="ArgumentException">The input is not rank 4 with <see cref="InChannels"/> channels, or lives on another accelerator.</exception>
    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        return Functional.Conv2d(input, Weight, Stride, Padding, bias: Bias);
    }

    /// <summary>relu(conv2d(input, weight) + bias) as one op (<see cref="Functional.Conv2dRelu"/>): the pre-activation is not kept.</summary>
    /// <exception cref="ArgumentException">The input is not rank 4 with <see cref="InChannels"/> channels, or lives on another accelerator.</exception>
    public Tensor ForwardRelu(Tensor input)
    {
        CheckInput(input);
        return Functional.Conv2dRelu(input, Weight, Stride, Padding, bias: Bias);
    }

    /// <summary>
    /// relu(conv2d(input, weight) + bias) pooled by max_pool_with_argmax as one op (<see cref="Functional.Conv2dReluMaxPool"/>,
    /// which frees the pre-pool activations), or, with a <paramref name="trace"/>, recorded there as a whole layer.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 4 with <see cref="InChannels"/> channels, lives on another accelerator, or the window does not fit.</exception>
    public (Tensor Values, Tensor Argmax) ForwardReluMaxPool(Tensor input, PoolOptions pool, ForwardTrace? trace = null)
    {
        CheckInput(input);
        var convolution = new Conv2dOptions(Stride, Padding);
        return trace is null
            ? Functional.Conv2dReluMaxPool(input, Weight, Bias, convolution, pool)
            : trace.Conv2dReluMaxPool(input, Weight, Bias, convolution, pool);
    }

    private void CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 4 || input.Shape[3] != InChannels)
            throw new ArgumentException($"Conv2d '{Weight.Name}': input {input.Shape} must be NHWC [N, H, W, {InChannels}] to match the filter {Weight.Shape} (HWIO).", nameof(input));
    }
}
