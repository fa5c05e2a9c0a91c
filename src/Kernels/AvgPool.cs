// AvgPool: tf.nn.avg_pool and its gradient (TF's AvgPoolGrad).
//
// Shapes: input x: [N, H, W, C] NHWC; output y: [N, OutH, OutW, C].
// Sizes (docs/reference/op-semantics.md section 1, TF GetWindowedOutputSizeVerbose, dilation 1):
//   VALID: Out = (n - k + s) div s;  SAME: Out = ceil(n / s), P = max(0, (Out-1)*s + k - n), pad_before = P div 2.
// y[b,oy,ox,c] = (sum of the real cells of the window) / count, where count is the number of real (non-padded)
// cells (docs/reference/op-semantics.md section 3: TF divides by it, count_include_pad = false). Cells are added in row-major
// window order in float, then divided once, as TF does.
//
// Backward (gather, deterministic): dx[b,y,x,c] = sum over the windows covering (y, x), in row-major window order,
// of dy[b,oy,ox,c] / count(oy, ox) (TF's AvgPoolGrad divides each term the same way).
//
// Design: implicitly grouped, one thread per element, channels innermost for coalesced access; no atomics.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Average pooling over NHWC windows (<c>tf.nn.avg_pool</c>, padded cells not counted) and its gradient.</summary>
public static class AvgPool
{
    private const string Op = "AvgPool";
    private const string BackwardOp = "AvgPool.Backward";

    /// <summary>The pooled shape <c>[N, OutH, OutW, C]</c> of an NHWC input.</summary>
    /// <exception cref="ArgumentException">The input is not rank 4, or the window, stride or VALID size is out of range.</exception>
    public static Shape OutputShape(Shape input, PoolOptions options) => Pooling.OutputShape(Pooling.Geometry(Op, nameof(input), input, options));

    /// <summary>Writes the mean of the real (non-padded) cells of each window of <paramref name="input"/> to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">A shape is wrong (input not rank 4, output not the pooled shape), the window does not fit, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> input, TensorView<float> output, PoolOptions options)
    {
        var g = Pooling.CheckFull(Op, stream, nameof(input), input, options);
        Pooling.CheckPooled(Op, stream, nameof(output), output, input.Shape, g, options);
        if (output.Shape.Size == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry>(ForwardKernel)(
            stream, (int)output.Shape.Size, input.Data, output.Data, g);
    }

    /// <summary>Overwrites <paramref name="inputGrad"/> with the gradient: each window's <paramref name="outputGrad"/> divided by its count, spread over its real cells.</summary>
    /// <exception cref="ArgumentException">A shape is wrong (inputGrad not rank 4, outputGrad not the pooled shape of inputGrad), the window does not fit, or a view lives on another accelerator.</exception>
    public static void Backward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> inputGrad, PoolOptions options)
    {
        var g = Pooling.CheckFull(BackwardOp, stream, nameof(inputGrad), inputGrad, options);
        Pooling.CheckPooled(BackwardOp, stream, nameof(outputGrad), outputGrad, inputGrad.Shape, g, options);
        if (inputGrad.Shape.Size == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry>(BackwardKernel)(
            stream, (int)inputGrad.Shape.Size, outputGrad.Data, inputGrad.Data, g);
    }

    /// <summary>One thread per output element (b, oy, ox, c), c fastest: the mean of the window's real cells.</summary>
    internal static void ForwardKernel(Index1D index, ArrayView<float> input, ArrayView<float> output, WindowGeometry g)
    {
        int o = index;
        int c = o % g.OutC;
        int rest = o / g.OutC;
        int ox = rest % g.OutW;
        rest /= g.OutW;
        int oy = rest % g.OutH;
        int b = rest / g.OutH;
        int top = oy * g.StrideH - g.PadTop;
        int left = ox * g.StrideW - g.PadLeft;
        int yBegin = Math.Max(top, 0);
        int yEnd = Math.Min(top + g.KH, g.InH);
        int xBegin = Math.Max(left, 0);
        int xEnd = Math.Min(left + g.KW, g.InW);
        long batchBase = (long)b * g.InH * g.InW * g.InC;
        float sum = 0f;
        for (int y = yBegin; y < yEnd; y++)
        {
            for (int x = xBegin; x < xEnd; x++)
                sum += input[batchBase + ((long)y * g.InW + x) * g.InC + c];
        }
        output[o] = sum / ((yEnd - yBegin) * (xEnd - xBegin));
    }

    /// <summary>
    /// One thread per input element (b, y, x, c), c fastest: sums dy / count over the covering windows in row-major
    /// window order (output rows with oy*sH - pad_top &lt;= y &lt;= oy*sH - pad_top + KH - 1, columns alike).
    /// </summary>
    internal static void BackwardKernel(Index1D index, ArrayView<float> outputGrad, ArrayView<float> inputGrad, WindowGeometry g)
    {
        int i = index;
        int c = i % g.InC;
        int rest = i / g.InC;
        int x = rest % g.InW;
        rest /= g.InW;
        int y = rest % g.InH;
        int b = rest / g.InH;
        int oyBegin = MaxPoolWithArgmax.FirstCoveringWindow(y + g.PadTop, g.KH, g.StrideH);
        int oyEnd = Math.Min((y + g.PadTop) / g.StrideH + 1, g.OutH);
        int oxBegin = MaxPoolWithArgmax.FirstCoveringWindow(x + g.PadLeft, g.KW, g.StrideW);
        int oxEnd = Math.Min((x + g.PadLeft) / g.StrideW + 1, g.OutW);
        float sum = 0f;
        for (int oy = oyBegin; oy < oyEnd; oy++)
        {
            int top = oy * g.StrideH - g.PadTop;
            int rows = Math.Min(top + g.KH, g.InH) - Math.Max(top, 0);
            for (int ox = oxBegin; ox < oxEnd; ox++)
            {
                int left = ox * g.StrideW - g.PadLeft;
                int columns = Math.Min(left + g.KW, g.InW) - Math.Max(left, 0);
                sum += outputGrad[(((long)b * g.OutH + oy) * g.OutW + ox) * g.OutC + c] / (rows * columns);
            }
        }
        inputGrad[i] = sum;
    }
}
