// MaxPoolWithArgmax: tf.nn.max_pool_with_argmax and its gradient (TF's MaxPoolGradWithArgmax), the
// switches that unpooling (Unpool.cs) and the deconvnet reverse pass use.
//
// Shapes: input x: [N, H, W, C] NHWC; output y and argmax: [N, OutH, OutW, C].
// Sizes (docs/reference/op-semantics.md section 1, TF GetWindowedOutputSizeVerbose, dilation 1):
//   VALID: Out = (n - k + s) div s;  SAME: Out = ceil(n / s), P = max(0, (Out-1)*s + k - n), pad_before = P div 2.
// Window of output (oy, ox): rows oy*sH - pad_top .. +KH-1, columns ox*sW - pad_left .. +KW-1; padded cells
// are left out of the window, never candidates (every window holds at least one real cell, since pad_before < k).
//
// argmax is TF's flat index (docs/reference/op-semantics.md section 3): (y*W + x)*C + c, or ((b*H + y)*W + x)*C + c with
// includeBatchInIndex; always a real input cell.
// Ties: the first maximum in row-major window order wins (scan rows, then columns; replace only on a strict >),
// as TF's GPU kernel does.
// NaN: propagates. The first NaN in window order wins: y = NaN and argmax = that NaN's index, so the argmax is
// always a real cell and the gradient of a NaN window flows to the NaN. (TF's propagate_nans mode and PyTorch
// also return NaN; their loops replace on every NaN, so with several NaNs in one window they report the last.)
// A window of -inf values reports its first cell (TF's kernel would leave -1 there, starting from lowest()).
//
// Backward (gather, deterministic): dx[b,y,x,c] = sum of dy[b,oy,ox,c] over the windows (oy, ox) that cover
// (y, x) and whose argmax is this cell, added in row-major window order. Correct for overlapping windows
// (stride < size). Each dx element is written once, so no atomics and bit-identical results everywhere.
// An argmax that does not lie in its own window (not produced by Forward) contributes nothing.
//
// Windows that do not overlap (KH <= sH and KW <= sW, the tutorial's 2x2 stride 2) take a scatter instead: dx is
// zeroed and each output element writes dy into the cell of its window that its argmax names (one window per cell,
// so each cell is written at most once: still no atomics, the same values). One thread per output element decodes
// its index once instead of once per input cell, and no thread walks windows that cannot hold its cell.
//
// Design: both passes are implicitly grouped, one thread per element, channels innermost, so consecutive
// threads read and write consecutive addresses (coalesced on GPUs); windows are a few cells, no reuse worth
// staging in shared memory. On devices that run on the host (Device.RunsHostKernels: pocl, the CPU accelerator) the
// forward and the non-overlapping backward take PoolVector.cs instead: a lane per row, 8 channels per Float8,
// the same results bit for bit. Overlapping windows keep the gather above.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Max pooling that also returns the flat index of each window's maximum (<c>tf.nn.max_pool_with_argmax</c>), and its gradient.</summary>
public static class MaxPoolWithArgmax
{
    private const string Op = "MaxPoolWithArgmax";
    private const string BackwardOp = "MaxPoolWithArgmax.Backward";

    /// <summary>The pooled shape <c>[N, OutH, OutW, C]</c> of an NHWC input.</summary>
    /// <exception cref="ArgumentException">The input is not rank 4, or the window, stride or VALID size is out of range.</exception>
    public static Shape OutputShape(Shape input, PoolOptions options) => Pooling.OutputShape(Pooling.Geometry(Op, nameof(input), input, options));

    /// <summary>
    /// Writes each window's maximum to <paramref name="output"/> and its flat input index to <paramref name="argmax"/>
    /// (first maximum in row-major window order; the first NaN wins over numbers).
    /// </summary>
    /// <exception cref="ArgumentException">A shape is wrong (input not rank 4, output or argmax not the pooled shape), the window does not fit, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> input, TensorView<float> output,
                               TensorView<long> argmax, PoolOptions options, bool includeBatchInIndex = false) =>
        ForwardWith(stream, input, output, argmax, options, includeBatchInIndex, hostShaped: null);

    /// <summary><see cref="Forward(AcceleratorStream, TensorView{float}, TensorView{float}, TensorView{long}, PoolOptions, bool)"/> with the kernel family forced (null: by device).</summary>
    internal static void ForwardWith(AcceleratorStream stream, TensorView<float> input, TensorView<float> output,
                                 TensorView<long> argmax, PoolOptions options, bool includeBatchInIndex, bool? hostShaped)
    {
        var g = Pooling.CheckFull(Op, stream, nameof(input), input, options);
        Pooling.CheckPooled(Op, stream, nameof(output), output, input.Shape, g, options);
        Pooling.CheckPooled(Op, stream, nameof(argmax), argmax, input.Shape, g, options);
        if (output.Shape.Size == 0) return;
        if (UsesHostKernels(stream, hostShaped) && PoolVector.ForwardFits(g))
        {
            PoolVector.Forward(stream, input.Data, output.Data, argmax.Data, g, includeBatchInIndex);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<long>, WindowGeometry, bool>(ForwardKernel)(
            stream, (int)output.Shape.Size, input.Data, output.Data, argmax.Data, g, includeBatchInIndex);
    }

    /// <summary>Whether the host-shaped kernels of <see cref="PoolVector"/> run: <paramref name="hostShaped"/> when given (tests compare both paths), else on devices that run on the host.</summary>
    internal static bool UsesHostKernels(AcceleratorStream stream, bool? hostShaped) => hostShaped ?? stream.Accelerator.Device.RunsHostKernels;

    /// <summary>
    /// Overwrites <paramref name="inputGrad"/> with the gradient of the pooled output: each input cell receives the sum of
    /// <paramref name="outputGrad"/> over the windows whose <paramref name="argmax"/> is that cell (deterministic gather).
    /// </summary>
    /// <exception cref="ArgumentException">A shape is wrong (inputGrad not rank 4, outputGrad or argmax not the pooled shape of inputGrad), the window does not fit, or a view lives on another accelerator.</exception>
    public static void Backward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<long> argmax,
                                TensorView<float> inputGrad, PoolOptions options, bool includeBatchInIndex = false) =>
        BackwardWith(stream, outputGrad, argmax, inputGrad, options, includeBatchInIndex, hostShaped: null);

    /// <summary><see cref="Backward(AcceleratorStream, TensorView{float}, TensorView{long}, TensorView{float}, PoolOptions, bool)"/> with the kernel family forced (null: by device).</summary>
    internal static void BackwardWith(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<long> argmax,
                                  TensorView<float> inputGrad, PoolOptions options, bool includeBatchInIndex, bool? hostShaped)
    {
        var g = Pooling.CheckFull(BackwardOp, stream, nameof(inputGrad), inputGrad, options);
        Pooling.CheckPooled(BackwardOp, stream, nameof(outputGrad), outputGrad, inputGrad.Shape, g, options);
        Pooling.CheckPooled(BackwardOp, stream, nameof(argmax), argmax, inputGrad.Shape, g, options);
        LaunchGather(stream, outputGrad.Data, argmax.Data, inputGrad, g, includeBatchInIndex, hostShaped);
    }

    /// <summary>The gather launch shared with <see cref="MaxPool.Backward"/> (already validated).</summary>
    internal static void LaunchGather(AcceleratorStream stream, ArrayView<float> outputGrad, ArrayView<long> argmax,
                                      TensorView<float> inputGrad, WindowGeometry g, bool includeBatchInIndex, bool? hostShaped = null)
    {
        if (inputGrad.Shape.Size == 0) return;
        if (g.KH <= g.StrideH && g.KW <= g.StrideW)
        {
            if (UsesHostKernels(stream, hostShaped) && PoolVector.BackwardFits(g))
            {
                PoolVector.Backward(stream, outputGrad, argmax, inputGrad.Data, g, includeBatchInIndex);
                return;
            }
            inputGrad.Data.MemSetToZero(stream);
            long outputs = (long)g.Batch * g.OutH * g.OutW * g.OutC;
            if (outputs > 0)
                stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, WindowGeometry, bool>(ScatterKernel)(
                    stream, (int)outputs, outputGrad, argmax, inputGrad.Data, g, includeBatchInIndex);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, WindowGeometry, bool>(BackwardKernel)(
            stream, (int)inputGrad.Shape.Size, outputGrad, argmax, inputGrad.Data, g, includeBatchInIndex);
    }

    /// <summary>One thread per output element (b, oy, ox, c), c fastest: the window's maximum and its flat index.</summary>
    internal static void ForwardKernel(Index1D index, ArrayView<float> input, ArrayView<float> output, ArrayView<long> argmax,
                                       WindowGeometry g, bool includeBatch)
    {
        int o = index;
        int c = o % g.OutC;
        int rest = o / g.OutC;
        int ox = rest % g.OutW;
        rest /= g.OutW;
        int oy = rest % g.OutH;
        int b = rest / g.OutH;
        long batchBase = (long)b * g.InH * g.InW * g.InC;
        long best = WindowArgmax(input, g, batchBase, oy, ox, c);
        output[o] = input[batchBase + best];
        argmax[o] = includeBatch ? batchBase + best : best;
    }

    /// <summary>One thread per output element: only the in-batch flat index of the window's maximum (MaxPool's backward).</summary>
    internal static void ArgmaxKernel(Index1D index, ArrayView<float> input, ArrayView<long> argmax, WindowGeometry g)
    {
        int o = index;
        int c = o % g.OutC;
        int rest = o / g.OutC;
        int ox = rest % g.OutW;
        rest /= g.OutW;
        int oy = rest % g.OutH;
        int b = rest / g.OutH;
        argmax[o] = WindowArgmax(input, g, (long)b * g.InH * g.InW * g.InC, oy, ox, c);
    }

    /// <summary>
    /// The in-batch flat index (y*W + x)*C + c of the first maximum of window (oy, ox) in channel c, scanning rows then
    /// columns and replacing on a strict &gt;; the first NaN replaces any number and is never replaced.
    /// </summary>
    internal static long WindowArgmax(ArrayView<float> input, WindowGeometry g, long batchBase, int oy, int ox, int c)
    {
        int top = oy * g.StrideH - g.PadTop;
        int left = ox * g.StrideW - g.PadLeft;
        int yBegin = Math.Max(top, 0);
        int yEnd = Math.Min(top + g.KH, g.InH);
        int xBegin = Math.Max(left, 0);
        int xEnd = Math.Min(left + g.KW, g.InW);
        long best = -1;
        float bestValue = 0f;
        for (int y = yBegin; y < yEnd; y++)
        {
            for (int x = xBegin; x < xEnd; x++)
            {
                long offset = ((long)y * g.InW + x) * g.InC + c;
                float value = input[batchBase + offset];
                if (best < 0 || value > bestValue || (float.IsNaN(value) && !float.IsNaN(bestValue)))
                {
                    best = offset;
                    bestValue = value;
                }
            }
        }
        return best;
    }

    /// <summary>
    /// One thread per input element (b, y, x, c), c fastest: sums dy over the covering windows whose argmax is this cell,
    /// in row-major window order. Output rows covering y are those with oy*sH - pad_top &lt;= y &lt;= oy*sH - pad_top + KH - 1.
    /// </summary>
    internal static void BackwardKernel(Index1D index, ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad,
                                        WindowGeometry g, bool includeBatch)
    {
        int i = index;
        int c = i % g.InC;
        int rest = i / g.InC;
        int x = rest % g.InW;
        rest /= g.InW;
        int y = rest % g.InH;
        int b = rest / g.InH;
        long offset = ((long)y * g.InW + x) * g.InC + c;
        long target = includeBatch ? (long)b * g.InH * g.InW * g.InC + offset : offset;
        int oyBegin = FirstCoveringWindow(y + g.PadTop, g.KH, g.StrideH);
        int oyEnd = Math.Min((y + g.PadTop) / g.StrideH + 1, g.OutH);
        int oxBegin = FirstCoveringWindow(x + g.PadLeft, g.KW, g.StrideW);
        int oxEnd = Math.Min((x + g.PadLeft) / g.StrideW + 1, g.OutW);
        float sum = 0f;
        for (int oy = oyBegin; oy < oyEnd; oy++)
        {
            for (int ox = oxBegin; ox < oxEnd; ox++)
            {
                long o = (((long)b * g.OutH + oy) * g.OutW + ox) * g.OutC + c;
                if (argmax[o] == target) sum += outputGrad[o];
            }
        }
        inputGrad[i] = sum;
    }

    /// <summary>
    /// One thread per output element (b, oy, ox, c), for windows that do not overlap: writes dy to the real cell of the window
    /// that argmax names; an argmax outside the window writes nothing (as in the gather).
    /// </summary>
    internal static void ScatterKernel(Index1D index, ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad,
                                       WindowGeometry g, bool includeBatch)
    {
        int o = index;
        int c = o % g.OutC;
        int rest = o / g.OutC;
        int ox = rest % g.OutW;
        rest /= g.OutW;
        int oy = rest % g.OutH;
        int b = rest / g.OutH;
        long batchBase = (long)b * g.InH * g.InW * g.InC;
        long target = argmax[o] - (includeBatch ? batchBase : 0);
        int top = oy * g.StrideH - g.PadTop;
        int left = ox * g.StrideW - g.PadLeft;
        int yEnd = Math.Min(top + g.KH, g.InH);
        int xEnd = Math.Min(left + g.KW, g.InW);
        for (int y = Math.Max(top, 0); y < yEnd; y++)
        {
            for (int x = Math.Max(left, 0); x < xEnd; x++)
            {
                long offset = ((long)y * g.InW + x) * g.InC + c;
                if (offset == target) inputGrad[batchBase + offset] = outputGrad[o];
            }
        }
    }

    /// <summary>The first window index o with o*stride + size - 1 &gt;= padded (ceil((padded - size + 1) / stride), at least 0).</summary>
    internal static int FirstCoveringWindow(int padded, int size, int stride)
    {
        int low = padded - size + 1;
        return low <= 0 ? 0 : (low + stride - 1) / stride;
    }
}
