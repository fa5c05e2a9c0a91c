// MaxPool: tf.nn.max_pool and its gradient (TF's MaxPoolGrad).
//
// Shapes: input x: [N, H, W, C] NHWC; output y: [N, OutH, OutW, C].
// Sizes (docs/reference/op-semantics.md section 1, TF GetWindowedOutputSizeVerbose, dilation 1):
//   VALID: Out = (n - k + s) div s;  SAME: Out = ceil(n / s), P = max(0, (Out-1)*s + k - n), pad_before = P div 2.
// Padded cells are left out of the window. Ties and NaN as MaxPoolWithArgmax.cs: the first maximum in row-major
// window order, the first NaN wins (so y is NaN where a window holds a NaN).
//
// Backward, as TF: the gradient of each window goes to its (first) maximum, recomputed from the input.
// Two passes on the stream: (1) the switches: one thread per output element finds its window's argmax into
// scratch memory (Scratch.Owners: each switch owns the gradient of its window); (2) MaxPoolWithArgmax's gather:
// one thread per input element sums, in row-major window order, the dy of the covering windows whose switch
// is this cell. Deterministic and correct for overlapping windows; recomputing the argmax once per window
// instead of once per covering window keeps the cost at (windows * KH*KW) + (cells * covering windows).
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Max pooling over NHWC windows (<c>tf.nn.max_pool</c>) and its gradient.</summary>
public static class MaxPool
{
    private const string Op = "MaxPool";
    private const string BackwardOp = "MaxPool.Backward";

    /// <summary>The pooled shape <c>[N, OutH, OutW, C]</c> of an NHWC input.</summary>
    /// <exception cref="ArgumentException">The input is not rank 4, or the window, stride or VALID size is out of range.</exception>
    public static Shape OutputShape(Shape input, PoolOptions options) => Pooling.OutputShape(Pooling.Geometry(Op, nameof(input), input, options));

    /// <summary>Writes the maximum of each window of <paramref name="input"/> to <paramref name="output"/> (NaN if the window holds one).</summary>
    /// <exception cref="ArgumentException">A shape is wrong (input not rank 4, output not the pooled shape), the window does not fit, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> input, TensorView<float> output, PoolOptions options)
    {
        var g = Pooling.CheckFull(Op, stream, nameof(input), input, options);
        Pooling.CheckPooled(Op, stream, nameof(output), output, input.Shape, g, options);
        if (output.Shape.Size == 0) return;
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostPool.MaxPool(cpu, input.Data, output.Data, g);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry>(ForwardKernel)(
            stream, (int)output.Shape.Size, input.Data, output.Data, g);
    }

    /// <summary>
    /// Overwrites <paramref name="inputGrad"/> with the gradient: each window's <paramref name="outputGrad"/> goes to the
    /// window's first maximum in <paramref name="input"/>, summed where windows overlap.
    /// </summary>
    /// <exception cref="ArgumentException">A shape is wrong (input not rank 4, inputGrad not the input's shape, outputGrad not the pooled shape), the window does not fit, or a view lives on another accelerator.</exception>
    public static void Backward(AcceleratorStream stream, TensorView<float> input, TensorView<float> outputGrad,
                                TensorView<float> inputGrad, PoolOptions options)
    {
        var g = Pooling.CheckFull(BackwardOp, stream, nameof(input), input, options);
        ShapeCheck.Equal(BackwardOp, nameof(inputGrad), inputGrad.Shape ?? throw new ArgumentException($"{BackwardOp}: inputGrad has no shape.", nameof(inputGrad)),
            input.Shape, "the gradient has the input's shape");
        ShapeCheck.View(BackwardOp, nameof(inputGrad), inputGrad);
        ShapeCheck.SameAccelerator(BackwardOp, stream, nameof(inputGrad), inputGrad);
        Pooling.CheckPooled(BackwardOp, stream, nameof(outputGrad), outputGrad, input.Shape, g, options);
        if (input.Shape.Size == 0) return;
        long windows = outputGrad.Shape.Size;
        var switches = Scratch.Get<long>(stream, Scratch.Owners, windows);
        if (windows > 0)
        {
            stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, WindowGeometry>(MaxPoolWithArgmax.ArgmaxKernel)(
                stream, (int)windows, input.Data, switches, g);
        }
        MaxPoolWithArgmax.LaunchGather(stream, outputGrad.Data, switches, inputGrad, g, includeBatchInIndex: false);
    }

    /// <summary>One thread per output element (b, oy, ox, c), c fastest: the first maximum of its window.</summary>
    internal static void ForwardKernel(Index1D index, ArrayView<float> input, ArrayView<float> output, WindowGeometry g)
    {
        int o = index;
        int c = o % g.OutC;
        int rest = o / g.OutC;
        int ox = rest % g.OutW;
        rest /= g.OutW;
        int oy = rest % g.OutH;
        int b = rest / g.OutH;
        long batchBase = (long)b * g.InH * g.InW * g.InC;
        output[o] = input[batchBase + MaxPoolWithArgmax.WindowArgmax(input, g, batchBase, oy, ox, c)];
    }
}
