// tf.nn.l2_loss and its gradient (TF's L2Loss kernel: output = sum(x^2) / 2; the gradient is dx = dy * x).
//   x, inputGrad: any rank, the same shape; output, outputGrad: a scalar, shape [] or [1].
// The sum is a deterministic two-pass tree reduction without atomics:
//   1. G = min(ceil(n / (GroupSize*ItemsPerLane)), MaxGroups) groups of GroupSize = 256 threads; thread t of group g adds
//      x[k]^2 for k = g*GroupSize + t, then k += G*GroupSize (a grid stride: each pass over the data is coalesced), then
//      the group adds its 256 lane sums as a tree in shared memory (halving strides) into partials[g];
//   2. one group of 256 threads: lane t adds partials t, t+256, ..., the same tree, and lane 0 writes sum / 2.
// G depends only on n, so the order of every addition, and hence every bit of the result, is the same on every run
// and every accelerator.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>tf.nn.l2_loss: half the sum of squares, as a scalar, and its gradient.</summary>
public static class L2Loss
{
    /// <summary>Threads per group of both reduction passes (a power of two: the tree halves it).</summary>
    public const int GroupSize = 256;

    // Elements per thread before another group is added, and the cap on the groups of pass 1 (and so on the
    // partial sums of pass 2).
    private const int ItemsPerLane = 8;
    private const int MaxGroups = 1024;

    /// <summary>output[0] = sum(x^2) / 2 over all elements of x (0 for an empty x); deterministic, the same bits on every run and accelerator.</summary>
    /// <exception cref="ArgumentException">output is not a scalar ([] or [1]), a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> x, TensorView<float> output)
    {
        const string op = "L2Loss.Forward";
        ArgumentNullException.ThrowIfNull(stream);
        ShapeCheck.View(op, "x", x);
        CheckScalar(op, "output", output, x.Shape);
        ShapeCheck.SameAccelerator(op, stream, "x", x);
        ShapeCheck.SameAccelerator(op, stream, "output", output);
        int n = Elementwise.CheckedSize(op, "x", x.Shape);
        int groups = Groups(n);
        var partials = Scratch.Get<float>(stream, Scratch.SplitK, Math.Max(1, groups));
        if (groups > 0)
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int>(SquareSumPartialsKernel)(
                stream, new KernelConfig(groups, GroupSize), x.Data, partials, n);
        stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int>(HalfSumKernel)(
            stream, new KernelConfig(1, GroupSize), partials, output.Data, groups);
    }

    /// <summary>inputGrad = outputGrad[0] * x (the gradient of sum(x^2)/2 scaled by the upstream scalar).</summary>
    /// <exception cref="ArgumentException">outputGrad is not a scalar ([] or [1]), inputGrad's shape differs from x's, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Backward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> x, TensorView<float> inputGrad)
    {
        const string op = "L2Loss.Backward";
        int n = Elementwise.Unary(stream, op, x, "x", inputGrad, "inputGrad");
        CheckScalar(op, "outputGrad", outputGrad, x.Shape);
        ShapeCheck.SameAccelerator(op, stream, "outputGrad", outputGrad);
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel)(
            stream, n, outputGrad.Data, x.Data, inputGrad.Data);
    }

    /// <summary>The groups of the first pass for <paramref name="n"/> elements (a function of n only: it fixes the summation order).</summary>
    public static int Groups(int n) => (int)Math.Min(MaxGroups, ((long)n + GroupSize * ItemsPerLane - 1) / (GroupSize * ItemsPerLane));

    /// <summary>Pass 1: partials[g] = the sum of x[k]^2 over the grid-stride elements of group g, added as a tree.</summary>
    public static void SquareSumPartialsKernel(ArrayView<float> x, ArrayView<float> partials, int n)
    {
        var lanes = SharedMemory.Allocate<float>(GroupSize);
        int t = Group.IdxX;
        int stride = Grid.DimX * GroupSize;
        float sum = 0f;
        // long: k + stride must not wrap for n near 2^31.
        for (long k = Grid.IdxX * GroupSize + t; k < n; k += stride)
        {
            float v = x[k];
            sum += v * v;
        }
        lanes[t] = sum;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (t < half) lanes[t] += lanes[t + half];
            Group.Barrier();
        }
        if (t == 0) partials[Grid.IdxX] = lanes[0];
    }

    /// <summary>Pass 2 (one group): output[0] = (the sum of partials[0..count-1], strided per lane, then as a tree) / 2.</summary>
    public static void HalfSumKernel(ArrayView<float> partials, ArrayView<float> output, int count)
    {
        var lanes = SharedMemory.Allocate<float>(GroupSize);
        int t = Group.IdxX;
        float sum = 0f;
        for (int k = t; k < count; k += GroupSize)
            sum += partials[k];
        lanes[t] = sum;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (t < half) lanes[t] += lanes[t + half];
            Group.Barrier();
        }
        if (t == 0) output[0] = lanes[0] * 0.5f;
    }

    /// <summary>dx = dy[0] * x.</summary>
    public static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> dx) => dx[i] = dy[0] * x[i];

    private static void CheckScalar(string op, string name, TensorView<float> view, Shape xShape)
    {
        ShapeCheck.View(op, name, view);
        if (view.Shape.Size != 1 || view.Shape.Rank > 1)
            throw new ArgumentException($"{op}: {name} must be a scalar, shape [] or [1] (l2_loss reduces x {xShape} to one value), but it is {view.Shape}.", name);
    }
}
