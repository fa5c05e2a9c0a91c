// tf.nn.bias_add over the last axis (NHWC: channels), its deconv-tutorial inverse and its bias gradient.
//   x, output, outputGrad: [..., C] with rank >= 2 (TF's BiasOp: "Input tensor must be at least 2D");
//   bias, biasGrad: [C].
//   Forward:      y[r, c] = x[r, c] + b[c]          (r runs over the R = size / C rows of all leading axes)
//   Subtract:     y[r, c] = x[r, c] - b[c]          (docs/reference/op-semantics.md section 4: the tutorial subtracts the conv
//                                                    bias from every cell of the unpooled map)
//   BackwardBias: db[c] = sum over r of dy[r, c]    (TF's BiasAddGrad)
// The forward kernels are elementwise (one thread per element, c = i mod C). The gradient is a column reduction
// over R rows that can be 128*24*24 = 73,728 and more, done in two deterministic passes without atomics:
//   1. a grid of (ceil(C/32), P) groups of 32x8 threads: group (t, p) owns columns 32t..32t+31 and the rows of
//      chunk p; lane (tx, ty) sums rows ty, ty+8, ... of the chunk in column 32t+tx (a warp reads 32 consecutive
//      floats of one row: coalesced), then lane ty = 0 adds the 8 lane sums in order and writes partials[p, c]
//      (scratch slot SplitK);
//   2. one thread per column adds partials[0..P-1, c] in order.
// P and the chunk length depend only on (R, C), so the summation order, and hence every bit of the result, is
// the same on every run and every accelerator (no FMA contraction anywhere, see docs/kernel-abi.md section 6).
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>tf.nn.bias_add over the last axis (NHWC channels), its inverse used by the deconv projection, and the bias gradient.</summary>
public static class BiasAdd
{
    /// <summary>Columns per group of the gradient's first pass (one warp wide).</summary>
    public const int GradColumns = 32;

    /// <summary>Row lanes per group of the gradient's first pass; groups are GradColumns x GradRowLanes = 256 threads.</summary>
    public const int GradRowLanes = 8;

    // Rows per chunk of pass 1: at least MinChunkRows (32 rows per lane), and long enough that P <= MaxChunks so
    // that pass 2 stays short.
    private const int MinChunkRows = 256;
    private const int MaxChunks = 4096;

    /// <summary>output = x + bias, with bias[c] added along the last axis.</summary>
    /// <exception cref="ArgumentException">x has rank below 2, bias is not [C], output's shape differs from x's, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> x, TensorView<float> bias, TensorView<float> output) =>
        Launch(stream, "BiasAdd.Forward", x, bias, output, 1f);

    /// <summary>output = x - bias, with bias[c] subtracted along the last axis (the deconv tutorial's "subtract the conv bias" step).</summary>
    /// <exception cref="ArgumentException">x has rank below 2, bias is not [C], output's shape differs from x's, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Subtract(AcceleratorStream stream, TensorView<float> x, TensorView<float> bias, TensorView<float> output) =>
        Launch(stream, "BiasAdd.Subtract", x, bias, output, -1f);

    /// <summary>biasGrad[c] = the sum of outputGrad[..., c] over all other axes, deterministic (the same bits on every run and accelerator).</summary>
    /// <exception cref="ArgumentException">outputGrad has rank below 2, biasGrad is not [C], a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void BackwardBias(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> biasGrad)
    {
        const string op = "BiasAdd.BackwardBias";
        ArgumentNullException.ThrowIfNull(stream);
        int channels = CheckInput(op, "outputGrad", outputGrad);
        CheckBias(op, "biasGrad", biasGrad, "outputGrad", outputGrad.Shape, channels);
        ShapeCheck.SameAccelerator(op, stream, "outputGrad", outputGrad);
        ShapeCheck.SameAccelerator(op, stream, "biasGrad", biasGrad);
        int size = Elementwise.CheckedSize(op, "outputGrad", outputGrad.Shape);
        if (channels == 0) return;
        int rows = size / channels;
        int chunkRows = ChunkRows(rows);
        int chunks = (rows + chunkRows - 1) / chunkRows;
        var partials = Scratch.Get<float>(stream, Scratch.SplitK, Math.Max(1L, (long)chunks * channels));
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostOps.BiasGrad(cpu, outputGrad.Data, partials, biasGrad.Data, rows, channels, chunkRows, chunks);
            return;
        }
        if (chunks > 0)
        {
            var config = new KernelConfig(new Index2D((channels + GradColumns - 1) / GradColumns, chunks), new Index2D(GradColumns, GradRowLanes));
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int, int, int>(BiasGradPartialsKernel)(
                stream, config, outputGrad.Data, partials, rows, channels, chunkRows);
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(BiasGradSumKernel)(
            stream, channels, partials, biasGrad.Data, chunks, channels);
    }

    /// <summary>The rows per chunk of the gradient's first pass for <paramref name="rows"/> rows (a function of the shape only).</summary>
    public static int ChunkRows(int rows) => Math.Max(MinChunkRows, (int)((rows + (long)MaxChunks - 1) / MaxChunks));

    /// <summary>output[i] = x[i] + sign * bias[i mod C].</summary>
    public static void BiasKernel(Index1D i, ArrayView<float> x, ArrayView<float> bias, ArrayView<float> output, int channels, float sign) =>
        output[i] = x[i] + sign * bias[i % channels];

    /// <summary>Pass 1 of the bias gradient: partials[p, c] = sum of dy[r, c] over the rows r of chunk p (groups of GradColumns x GradRowLanes).</summary>
    public static void BiasGradPartialsKernel(ArrayView<float> dy, ArrayView<float> partials, int rows, int channels, int chunkRows)
    {
        var lanes = SharedMemory.Allocate<float>(GradColumns * GradRowLanes);
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int column = Grid.IdxX * GradColumns + tx;
        int chunk = Grid.IdxY;
        int rowEnd = Math.Min(rows, (chunk + 1) * chunkRows);
        float sum = 0f;
        if (column < channels)
        {
            for (int r = chunk * chunkRows + ty; r < rowEnd; r += GradRowLanes)
                sum += dy[r * channels + column];
        }
        lanes[ty * GradColumns + tx] = sum;
        Group.Barrier();
        if (ty == 0 && column < channels)
        {
            float total = lanes[tx];
            for (int k = 1; k < GradRowLanes; k++)
                total += lanes[k * GradColumns + tx];
            partials[chunk * channels + column] = total;
        }
    }

    /// <summary>Pass 2 of the bias gradient: biasGrad[c] = partials[0, c] + partials[1, c] + ... in order.</summary>
    public static void BiasGradSumKernel(Index1D c, ArrayView<float> partials, ArrayView<float> biasGrad, int chunks, int channels)
    {
        float total = 0f;
        for (int p = 0; p < chunks; p++)
            total += partials[p * channels + c];
        biasGrad[c] = total;
    }

    private static void Launch(AcceleratorStream stream, string op, TensorView<float> x, TensorView<float> bias, TensorView<float> output, float sign)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int channels = CheckInput(op, "x", x);
        CheckBias(op, "bias", bias, "x", x.Shape, channels);
        ShapeCheck.View(op, "output", output);
        ShapeCheck.Equal(op, "output", output.Shape, x.Shape, "the same shape as x");
        ShapeCheck.SameAccelerator(op, stream, "x", x);
        ShapeCheck.SameAccelerator(op, stream, "bias", bias);
        ShapeCheck.SameAccelerator(op, stream, "output", output);
        int size = Elementwise.CheckedSize(op, "x", x.Shape);
        if (size == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(BiasKernel)(
            stream, size, x.Data, bias.Data, output.Data, channels, sign);
    }

    // Rank >= 2 as in TF; returns C, the size of the last axis.
    private static int CheckInput(string op, string name, TensorView<float> view)
    {
        ShapeCheck.View(op, name, view);
        if (view.Shape.Rank < 2)
            throw new ArgumentException($"{op}: {name} must be at least 2-D ([..., C], channels last), but its shape is {view.Shape}.", name);
        return view.Shape[-1];
    }

    private static void CheckBias(string op, string name, TensorView<float> bias, string inputName, Shape inputShape, int channels)
    {
        ShapeCheck.View(op, name, bias);
        if (bias.Shape.Rank != 1 || bias.Shape[0] != channels)
            throw new ArgumentException($"{op}: {name} must be [C] = [{channels}] for {inputName} {inputShape} (one value per channel of the last axis), but it is {bias.Shape}.", name);
    }
}
