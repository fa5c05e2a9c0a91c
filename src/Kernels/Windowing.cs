using System.Globalization;

namespace GpuDeconv.Kernels;

/// <summary>One spatial dimension of a windowed op: its output size and the zeros added before and after the data.</summary>
internal readonly record struct WindowedSize(int Output, int PadBefore, int PadAfter);

/// <summary>
/// The geometry of a 2-D windowed op over NHWC data, passed to kernels by value.
/// Input <c>[Batch, InH, InW, InC]</c>, output <c>[Batch, OutH, OutW, OutC]</c>, window <c>KH x KW</c>
/// with strides, dilations and the padding before the data (TF's pad_top / pad_left).
/// Window tap (kh, kw) of output (oy, ox) reads input row <c>oy*StrideH + kh*DilationH - PadTop</c>
/// and column <c>ox*StrideW + kw*DilationW - PadLeft</c>; taps outside the input read zero (convolution)
/// or are not part of the window (pooling).
/// </summary>
internal struct WindowGeometry
{
    /// <summary>Images in the batch (N).</summary>
    public int Batch;
    /// <summary>Input height.</summary>
    public int InH;
    /// <summary>Input width.</summary>
    public int InW;
    /// <summary>Input channels.</summary>
    public int InC;
    /// <summary>Output height.</summary>
    public int OutH;
    /// <summary>Output width.</summary>
    public int OutW;
    /// <summary>Output channels (equal to InC for pooling).</summary>
    public int OutC;
    /// <summary>Window (kernel) height.</summary>
    public int KH;
    /// <summary>Window (kernel) width.</summary>
    public int KW;
    /// <summary>Vertical stride.</summary>
    public int StrideH;
    /// <summary>Horizontal stride.</summary>
    public int StrideW;
    /// <summary>Vertical dilation (1 for pooling).</summary>
    public int DilationH;
    /// <summary>Horizontal dilation (1 for pooling).</summary>
    public int DilationW;
    /// <summary>Zero rows before the data (TF pad_top).</summary>
    public int PadTop;
    /// <summary>Zero columns before the data (TF pad_left).</summary>
    public int PadLeft;
}

/// <summary>TensorFlow's window arithmetic (<c>GetWindowedOutputSizeVerbose</c>, docs/reference/op-semantics.md section 1).</summary>
internal static class Windowing
{
    /// <summary>
    /// The output size and padding of one spatial dimension: VALID gives <c>(n - e + s) div s</c>, SAME gives
    /// <c>(n + s - 1) div s</c> with <c>P = max(0, (out-1)*s + e - n)</c> split <c>floor(P/2)</c> before and the rest after,
    /// where <c>e = (k-1)*d + 1</c> is the dilated window size.
    /// </summary>
    /// <exception cref="ArgumentException">A size is out of range, or VALID would give a negative output (the window is larger than the input).</exception>
    public static WindowedSize Compute(string op, string dimension, int input, int kernel, int stride, int dilation, Padding padding)
    {
        if (input < 0) throw new ArgumentException($"{op}: the input {dimension} is {input}; it must be zero or positive.", nameof(input));
        if (kernel < 1) throw new ArgumentException($"{op}: the window {dimension} is {kernel}; it must be at least 1.", nameof(kernel));
        if (stride < 1) throw new ArgumentException($"{op}: the stride along {dimension} is {stride}; it must be at least 1.", nameof(stride));
        if (dilation < 1) throw new ArgumentException($"{op}: the dilation along {dimension} is {dilation}; it must be at least 1.", nameof(dilation));
        if (dilation > 1 && stride > 1)
            throw new ArgumentException($"{op}: dilation {dilation} with stride {stride} along {dimension}; as in TensorFlow, dilation above 1 needs stride 1.", nameof(dilation));
        int effective = (kernel - 1) * dilation + 1;
        switch (padding)
        {
            case Padding.Valid:
            {
                int output = (input - effective + stride) / stride;
                if (input - effective + stride < 0 || output < 0)
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"{op}: VALID padding with a {dimension} of {input} and a window of {effective} (kernel {kernel}, dilation {dilation}) would give a negative output size; VALID needs input >= window."), nameof(input));
                return new WindowedSize(output, 0, 0);
            }
            case Padding.Same:
            {
                int output = (input + stride - 1) / stride;
                int needed = Math.Max(0, (output - 1) * stride + effective - input);
                return new WindowedSize(output, needed / 2, needed - needed / 2);
            }
            default:
                throw new ArgumentException($"{op}: padding {padding} is neither SAME nor VALID.", nameof(padding));
        }
    }
}
