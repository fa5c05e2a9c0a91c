using System.Globalization;

namespace GpuDeconv.Layers;

/// <summary>Stride, padding and dilation of a 2-D convolution (TF's <c>strides</c>, <c>padding</c>, <c>dilations</c> for NHWC).</summary>
/// <param name="Stride">Rows and columns between window positions.</param>
/// <param name="Padding">SAME or VALID, with TF's split (the odd zero after the data).</param>
/// <param name="Dilation">Rows and columns between window taps; above 1 it needs stride 1 (as in TF).</param>
public readonly record struct Conv2dOptions(Size2d Stride, Padding Padding, Size2d Dilation)
{
    /// <summary>Stride <paramref name="stride"/>, the given padding and no dilation.</summary>
    public Conv2dOptions(Size2d stride, Padding padding) : this(stride, padding, 1)
    {
    }

    /// <summary>Stride 1, SAME, dilation 1 (tf.nn.conv2d's usual call).</summary>
    public static Conv2dOptions Default => new(1, Padding.Same, 1);

    /// <summary>Formats the options as in shape messages, e.g. <c>stride 3, SAME</c> or <c>stride 1, VALID, dilation 2</c>.</summary>
    public override string ToString()
    {
        string text = $"stride {Format(Stride)}, {(Padding == Padding.Same ? "SAME" : Padding == Padding.Valid ? "VALID" : Padding.ToString())}";
        return Dilation == new Size2d(1, 1) ? text : $"{text}, dilation {Format(Dilation)}";
    }

    internal static string Format(Size2d size) =>
        size.Height == size.Width ? size.Height.ToString(CultureInfo.InvariantCulture) : size.ToString();
}

/// <summary>Which kernels compute a convolution.</summary>
public enum ConvAlgorithm
{
    /// <summary>
    /// On the CPU accelerator of a CPU with 512-bit vectors, <see cref="Winograd"/> where it pays (3x3 and 5x5 filters, stride 1,
    /// 16 to 256 channels) and <see cref="Host"/> otherwise, except a layer with at most 12 output channels and input
    /// channels in whole 16-float vectors (a classifier's last convolution), which a route of its own sums in order in
    /// all three directions, skipping the taps on padding (rounding differs from <see cref="Host"/>'s, within the same bound);
    /// <see cref="Vector"/> on other devices that run on the host CPU (pocl, the CPU accelerator without AVX-512);
    /// <see cref="ImplicitGemm"/> elsewhere. Never a GPU-shaped kernel on a CPU.
    /// </summary>
    Auto,
    /// <summary>The tiled implicit GEMM (<c>Conv2dKernels.ImplicitGemmKernel</c>): 256-lane groups, shared-memory stages; shaped for GPUs.</summary>
    ImplicitGemm,
    /// <summary>Direct convolution with Float8 lanes (<c>Conv2dVector</c>); shaped for CPUs (256-bit vectors, 6 pixels x 16 channels per lane).</summary>
    Vector,
    /// <summary>
    /// <see cref="Vector"/>'s arithmetic as host code with 512-bit vectors and 12 pixels x 32 channels per block (<c>HostConv</c>):
    /// the CPU accelerator on AVX-512 CPUs only. Results are bit-identical to <see cref="Vector"/>'s.
    /// </summary>
    Host,
    /// <summary>
    /// Winograd's minimal filtering with 4x4 output tiles (F(4x4, 3x3) on 6x6 tiles, F(4x4, 5x5) on 8x8, and their
    /// gradients; <c>HostWinograd</c>): 3x3 and 5x5 filters with stride 1 and no dilation, on the CPU accelerator of an
    /// AVX-512 CPU. 4x (3x3) and 6.25x (5x5) fewer multiplications than a direct convolution; results differ from it by
    /// rounding (the transforms add and scale before the products), about 1e-5 of the largest output at 64 channels.
    /// </summary>
    Winograd,
}
