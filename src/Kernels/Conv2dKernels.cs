// Conv2d: tf.nn.conv2d (cross-correlation, no kernel flip) and its two gradients.
//   x: [N,H,W,Cin] NHWC, w: [KH,KW,Cin,Cout] HWIO, y: [N,OH,OW,Cout] NHWC, optional bias: [Cout].
//   y[b,oy,ox,co] = sum_{kh,kw,ci} x[b, oy*sh + kh*dh - padTop, ox*sw + kw*dw - padLeft, ci] * w[kh,kw,ci,co]
//   (taps outside x read 0). OH, OW and the padding split come from TF's GetWindowedOutputSizeVerbose
//   (docs/reference/op-semantics.md section 1, Windowing.Compute): SAME OH = ceil(H/sh), VALID OH = ceil((H - eh + 1)/sh)
//   with the dilated window eh = (KH-1)*dh + 1.
//
// All three ops are one implicit GEMM kernel (ImplicitGemmKernel) with a different gather:
//   Forward        C[M = N*OH*OW, Cout]   = im2col(x)[M, K = KH*KW*Cin] * w[K, Cout]   (HWIO is row-major [K, Cout])
//   BackwardInput  C[M = N*H*W, Cin]      = gather(dy)[M, K = KH*KW*Cout] * w^T         (Conv2DBackpropInput, gather form)
//   BackwardFilter C[KH*KW*Cin, Cout]     = im2col(x)^T [K, M = N*OH*OW] * dy[M, Cout]   (Conv2DBackpropFilter, split-K over M)
// Every output element sums its contributions in a fixed order: no atomics, results are deterministic and
// bit-identical between accelerators that do not contract multiply-adds (the substrate disables FMA contraction).

using System.Globalization;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>The GEMM an <see cref="Conv2dKernels.ImplicitGemmKernel"/> launch computes, passed by value.</summary>
internal struct ConvGemm
{
    /// <summary>Which gather: <see cref="Conv2dKernels.ModeForward"/>, <see cref="Conv2dKernels.ModeBackwardInput"/> or <see cref="Conv2dKernels.ModeBackwardFilter"/>.</summary>
    public int Mode;
    /// <summary>Rows of C.</summary>
    public int M;
    /// <summary>Columns of C.</summary>
    public int N;
    /// <summary>Reduction length.</summary>
    public int K;
    /// <summary>Columns per tile: 64 (64x64 tiles, 16x16 lanes), 16 (256x16 tiles, 64x4 lanes) or 4 (1024x4 tiles, 256x1 lanes) for narrow C.</summary>
    public int TileN;
    /// <summary>Reduction depth of one shared-memory stage: 16, or 4 with 1024-row tiles (so the A tile still fits).</summary>
    public int TileK;
    /// <summary>1 when a bias[N] is added in the epilogue.</summary>
    public int HasBias;
    /// <summary>Reduction length per grid-z slice (split-K; a multiple of the K tile); slice z writes C at offset z*M*N.</summary>
    public int Chunk;
}

/// <summary>2-D convolution over NHWC data with HWIO filters (tf.nn.conv2d) and its input and filter gradients.</summary>
public static class Conv2dKernels
{
    /// <summary>ConvGemm.Mode: y = conv(x, w).</summary>
    internal const int ModeForward = 0;
    /// <summary>ConvGemm.Mode: dx from dy and w.</summary>
    internal const int ModeBackwardInput = 1;
    /// <summary>ConvGemm.Mode: dw from x and dy.</summary>
    internal const int ModeBackwardFilter = 2;

    /// <summary>Lanes per group (one-dimensional).</summary>
    public const int Threads = 256;
    // Shared memory: A holds TileK x (tileM + 1) floats, at most 16 x 257 (64- and 16-wide tiles) or 4 x 1025 (4-wide);
    // B holds TileK x (TileN + 1), at most 16 x 65.
    private const int TileK = 16;
    private const int ATileFloats = TileK * (256 + 1);
    private const int BTileFloats = TileK * (64 + 1);

    // Split-K for BackwardFilter: aim for about this many groups (a few waves on a 132-SM H100)...
    private const int TargetGroups = 512;
    // ...but give every group at least this much reduction, so that the partials stay small next to the inputs.
    private const int MinChunk = 512;

    /// <summary>The output shape <c>[N, OH, OW, Cout]</c> of conv2d(input, filter) under TF's window rule.</summary>
    /// <exception cref="ArgumentException">A rank is not 4, the channels disagree, or the options or sizes are invalid.</exception>
    public static Shape OutputShape(Shape input, Shape filter, Conv2dOptions options)
    {
        var g = Geometry(input, filter, options);
        return new Shape(g.Batch, g.OutH, g.OutW, g.OutC);
    }

    /// <summary>The window geometry of conv2d(input, filter): sizes, strides, dilations and TF's pad_top / pad_left.</summary>
    /// <exception cref="ArgumentException">A rank is not 4, the channels disagree, or the options or sizes are invalid.</exception>
    internal static WindowGeometry Geometry(Shape input, Shape filter, Conv2dOptions options) =>
        Geometry("Conv2d", "input", input, "filter", filter, options);

    /// <summary>
    /// y = conv2d(input, filter) (+ bias[Cout] broadcast over N, H, W when given). A <c>filterCache</c> keeps what the CPU
    /// accelerator's routes derive from the filter for the next calls, for a filter whose values do not change (see
    /// <see cref="Conv2dFilterCache"/>); other accelerators ignore it.
    /// </summary>
    /// <exception cref="ArgumentException">A shape disagrees with the input, the filter or the options, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> input, TensorView<float> filter,
                               TensorView<float> output, Conv2dOptions options, TensorView<float>? bias = null,
                               ConvAlgorithm algorithm = ConvAlgorithm.Auto, Conv2dFilterCache? filterCache = null)
    {
        const string op = "Conv2d";
        ArgumentNullException.ThrowIfNull(stream);
        CheckViews(op, stream, ("input", input), ("filter", filter), ("output", output));
        var g = Geometry(op, "input", input.Shape, "filter", filter.Shape, options);
        ShapeCheck.Equal(op, nameof(output), output.Shape, new Shape(g.Batch, g.OutH, g.OutW, g.OutC),
            $"[N, OH, OW, Cout] of input {input.Shape}, filter {filter.Shape}, {options}");
        if (bias is { } b)
        {
            CheckViews(op, stream, ("bias", b));
            ShapeCheck.Equal(op, nameof(bias), b.Shape, new Shape(g.OutC), $"[Cout] of filter {filter.Shape}");
        }
        LaunchForward(stream, input.Data, filter.Data, bias?.Data, output.Data, g, algorithm, filterCache);
    }

    /// <summary>dx = d(sum y*dy)/dx (Conv2DBackpropInput); inputGrad's shape names the forward input's shape.</summary>
    /// <exception cref="ArgumentException">The shapes disagree with each other or the options (the message gives the accepted sizes), or a view lives on another accelerator.</exception>
    public static void BackwardInput(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> filter,
                                     TensorView<float> inputGrad, Conv2dOptions options, ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        const string op = "Conv2d.BackwardInput";
        ArgumentNullException.ThrowIfNull(stream);
        CheckViews(op, stream, ("outputGrad", outputGrad), ("filter", filter), ("inputGrad", inputGrad));
        var g = CheckTransposed(op, "outputGrad", outputGrad.Shape, filter.Shape, "inputGrad", inputGrad.Shape, options, "input", "forward output");
        LaunchBackwardInput(stream, outputGrad.Data, filter.Data, inputGrad.Data, g, algorithm);
    }

    /// <summary>dw = d(sum y*dy)/dw (Conv2DBackpropFilter); overwrites filterGrad.</summary>
    /// <exception cref="ArgumentException">The shapes disagree with each other or the options, or a view lives on another accelerator.</exception>
    public static void BackwardFilter(AcceleratorStream stream, TensorView<float> input, TensorView<float> outputGrad,
                                      TensorView<float> filterGrad, Conv2dOptions options, ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        const string op = "Conv2d.BackwardFilter";
        ArgumentNullException.ThrowIfNull(stream);
        CheckViews(op, stream, ("input", input), ("outputGrad", outputGrad), ("filterGrad", filterGrad));
        var g = Geometry(op, "input", input.Shape, "filterGrad", filterGrad.Shape, options);
        ShapeCheck.Equal(op, nameof(outputGrad), outputGrad.Shape, new Shape(g.Batch, g.OutH, g.OutW, g.OutC),
            $"the forward output [N, OH, OW, Cout] of input {input.Shape}, filter {filterGrad.Shape}, {options}");
        LaunchBackwardFilter(stream, input.Data, outputGrad.Data, filterGrad.Data, g, algorithm);
    }

    /// <summary>Whether <paramref name="algorithm"/> means the CPU-shaped convolutions (Float8 kernels or host code) on <paramref name="stream"/>'s device.</summary>
    internal static bool UsesVector(AcceleratorStream stream, ConvAlgorithm algorithm) => algorithm switch
    {
        ConvAlgorithm.Vector or ConvAlgorithm.Host or ConvAlgorithm.Winograd => true,
        ConvAlgorithm.ImplicitGemm => false,
        ConvAlgorithm.Auto => stream.Accelerator.Device.RunsHostKernels,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Conv2d: the algorithm is Auto, ImplicitGemm, Vector, Host or Winograd."),
    };

    /// <summary>The CPU accelerator that runs the convolution as host code (<see cref="ConvAlgorithm.Host"/>, or Auto where it is available); null for kernels.</summary>
    internal static CPUAccelerator? HostOf(AcceleratorStream stream, ConvAlgorithm algorithm) => algorithm switch
    {
        ConvAlgorithm.Auto => HostRoute.Of(stream),
        ConvAlgorithm.Host or ConvAlgorithm.Winograd => HostRoute.Of(stream) ?? throw new NotSupportedException(
            $"Conv2d: ConvAlgorithm.{algorithm} runs on the CPU accelerator of a CPU with 512-bit vectors (AVX-512) and without GPUDECONV_CPU_VECTOR=256; " +
            $"this stream belongs to {stream.Accelerator.Device.Name}{(HostRoute.Available ? "" : " and this CPU or setting has no 512-bit route")}. Use Auto or Vector."),
        _ => null,
    };

    /// <summary>
    /// The CPU accelerator that runs this convolution by Winograd (<see cref="ConvAlgorithm.Winograd"/>, or Auto where
    /// <paramref name="pays"/>); null for the other routes. Winograd asked for a geometry it does not fit fails, naming both.
    /// </summary>
    private static CPUAccelerator? WinogradOf(AcceleratorStream stream, ConvAlgorithm algorithm, WindowGeometry g, bool pays, string op)
    {
        if (algorithm == ConvAlgorithm.Winograd)
        {
            var cpu = HostOf(stream, algorithm);
            if (!HostWinograd.Fits(g))
                throw new NotSupportedException($"{op}: ConvAlgorithm.Winograd computes square 3x3 and 5x5 filters with stride 1 and no dilation; " +
                    $"this one is {g.KH}x{g.KW}, stride ({g.StrideH}, {g.StrideW}), dilation ({g.DilationH}, {g.DilationW}). Use Auto or Host.");
            return cpu;
        }
        return algorithm == ConvAlgorithm.Auto && pays ? HostRoute.Of(stream) : null;
    }

    // ---- launches (shapes already validated) ----

    internal static void LaunchForward(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> w, ArrayView<float>? bias,
                                       ArrayView<float> y, WindowGeometry g, ConvAlgorithm algorithm = ConvAlgorithm.Auto,
                                       Conv2dFilterCache? cache = null)
    {
        int m = g.Batch * g.OutH * g.OutW;
        if ((long)m * g.OutC == 0) return;
        if (algorithm == ConvAlgorithm.Auto && HostFewOutputs.TakesForward(g) && HostRoute.Of(stream) is { } few)
        {
            var taps = Scratch.Get<float>(stream, Scratch.ConvFilter, (long)g.KH * g.KW * HostFewOutputs.ForwardRows * g.InC);
            HostFewOutputs.TransposeTaps(w, taps, g, HostFewOutputs.ForwardRows);
            HostFewOutputs.Forward(few, x, taps, bias, y, g);
            return;
        }
        bool winogradPays = cache is null ? HostWinograd.Pays(g) : HostWinograd.PaysPrepared(g);
        if (WinogradOf(stream, algorithm, g, winogradPays, "Conv2d") is { } winograd)
        {
            HostWinograd.Forward(winograd, x, w, bias, y, g, cache);
            return;
        }
        if (UsesVector(stream, algorithm))
        {
            Conv2dVector.Forward(stream, x, w, bias, y, g, HostOf(stream, algorithm), cache);
            return;
        }
        var p = Gemm(ModeForward, m, g.OutC, g.KH * g.KW * g.InC);
        p.HasBias = bias is null ? 0 : 1;
        // Without a bias the kernel never reads that view; pass the filter so every argument is a real view.
        LaunchGemm(stream, x, w, bias ?? w, y, g, p, 1);
    }

    internal static void LaunchBackwardInput(AcceleratorStream stream, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, WindowGeometry g,
                                             ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        int m = g.Batch * g.InH * g.InW;
        if ((long)m * g.InC == 0) return;
        if (algorithm == ConvAlgorithm.Auto && HostFewOutputs.TakesBackwardInput(g) && HostRoute.Of(stream) is { } few)
        {
            var taps = Scratch.Get<float>(stream, Scratch.ConvFilter, (long)g.KH * g.KW * g.OutC * g.InC);
            HostFewOutputs.TransposeTaps(w, taps, g, g.OutC);
            HostFewOutputs.BackwardInput(few, dy, taps, dx, g);
            return;
        }
        if (WinogradOf(stream, algorithm, g, HostWinograd.PaysBackwardInput(g), "Conv2d.BackwardInput") is { } winograd)
        {
            HostWinograd.BackwardInput(winograd, dy, w, dx, g);
            return;
        }
        if (UsesVector(stream, algorithm))
        {
            Conv2dVector.BackwardInput(stream, dy, w, dx, g, HostOf(stream, algorithm));
            return;
        }
        LaunchGemm(stream, dy, w, w, dx, g, Gemm(ModeBackwardInput, m, g.InC, g.KH * g.KW * g.OutC), 1);
    }

    internal static void LaunchBackwardFilter(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g,
                                              ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        int rows = g.KH * g.KW * g.InC;
        if ((long)rows * g.OutC == 0) return;
        if (algorithm == ConvAlgorithm.Auto && HostFewOutputs.Takes(g) && HostRoute.Of(stream) is { } few)
        {
            // dy's rows copied with a whole block of channels each (zeros after OutC).
            long positions = (long)g.Batch * g.OutH * g.OutW;
            var rowsOfDy = dy;
            if (g.OutC != HostFewOutputs.OutputBlock)
            {
                rowsOfDy = Scratch.Get<float>(stream, Scratch.ConvInput, positions * HostFewOutputs.OutputBlock);
                HostConv.PadChannels(few, dy, rowsOfDy, positions, g.OutC, HostFewOutputs.OutputBlock);
            }
            HostFewOutputs.FilterGradient(few, x, rowsOfDy, dw, g);
            return;
        }
        if (WinogradOf(stream, algorithm, g, HostWinograd.PaysBackwardFilter(g), "Conv2d.BackwardFilter") is { } winograd)
        {
            HostWinograd.BackwardFilter(winograd, x, dy, dw, g);
            return;
        }
        if (UsesVector(stream, algorithm))
        {
            Conv2dVector.BackwardFilter(stream, x, dy, dw, g, HostOf(stream, algorithm));
            return;
        }
        var p = Gemm(ModeBackwardFilter, rows, g.OutC, g.Batch * g.OutH * g.OutW);
        int tiles = CeilDiv(p.M, Threads * 16 / p.TileN) * CeilDiv(p.N, p.TileN);
        int wanted = Math.Max(1, Math.Min(CeilDiv(p.K, MinChunk), CeilDiv(TargetGroups, tiles)));
        p.Chunk = Math.Max(TileK, CeilDiv(CeilDiv(p.K, wanted), TileK) * TileK);
        int splits = Math.Max(1, CeilDiv(p.K, p.Chunk));
        if (splits == 1)
        {
            LaunchGemm(stream, x, dy, dy, dw, g, p, 1);
            return;
        }
        // Each slice z writes its partial dW into scratch[z]; the reduce adds the slices in order z = 0, 1, ...
        int length = rows * g.OutC;
        var partials = Scratch.Get<float>(stream, Scratch.SplitK, (long)splits * length);
        LaunchGemm(stream, x, dy, dy, partials, g, p, splits);
        SumSlices(stream, partials, dw, splits, length);
    }

    /// <summary>sum[i] = partials[0 * length + i] + partials[1 * length + i] + ... in slice order (the split-K reduce of both filter gradients).</summary>
    internal static void SumSlices(AcceleratorStream stream, ArrayView<float> partials, ArrayView<float> sum, int slices, int length)
    {
        if (HostRoute.Of(stream) is { } cpu)
            HostOps.SumSlices(cpu, partials, sum, slices, length);
        else
            stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SumSlicesKernel)(
                stream, length, partials, sum, slices, length);
    }

    private static ConvGemm Gemm(int mode, int m, int n, int k)
    {
        var p = new ConvGemm();
        p.Mode = mode;
        p.M = m;
        p.N = n;
        p.K = k;
        // Narrow C (Cout or Cin of 3, 4, 10) would leave most of a 64-wide tile idle: use taller, narrower tiles.
        p.TileN = n <= 4 ? 4 : n <= 16 ? 16 : 64;
        p.TileK = n <= 4 ? 4 : TileK;
        p.Chunk = Math.Max(TileK, CeilDiv(k, TileK) * TileK);
        return p;
    }

    private static void LaunchGemm(AcceleratorStream stream, ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias,
                                   ArrayView<float> c, WindowGeometry g, ConvGemm p, int splits)
    {
        int tileM = Threads * 16 / p.TileN;
        var config = new KernelConfig(new Index3D(CeilDiv(p.M, tileM), CeilDiv(p.N, p.TileN), splits), new Index3D(Threads, 1, 1));
        stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvGemm>(
            ImplicitGemmKernel)(stream, config, a, b, bias, c, g, p);
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    // ---- kernels ----

    /// <summary>
    /// C[M, N] (+ bias) = A[M, K] * B[K, N] where A and B are gathered from the conv's tensors (see the file header).
    /// One group of 256 lanes computes a tileM x TileN block of C (64x64, or 256x16 / 1024x4 for narrow C); each lane holds a
    /// 4x4 register block, rows strided by the lanes down and columns by the lanes across, so neighbouring lanes
    /// store neighbouring channels. Each stage gathers a tileM x TileK slice of A and a TileK x TileN slice of B into
    /// shared memory (zero outside the matrices), in the order that makes neighbouring lanes read neighbouring
    /// channels of the NHWC / HWIO source. Grid: (M tiles, N tiles, K slices); slice z reduces
    /// [z*Chunk, (z+1)*Chunk) and writes C at offset z*M*N.
    /// </summary>
    internal static void ImplicitGemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> c,
                                          WindowGeometry g, ConvGemm p)
    {
        // [TileK][tileM + 1] and [TileK][TileN + 1]: the padding column keeps the k-first stores free of bank conflicts.
        var aTile = SharedMemory.Allocate<float>(ATileFloats);
        var bTile = SharedMemory.Allocate<float>(BTileFloats);
        int tileK = p.TileK;
        int lane = Group.IdxX;
        int tileN = p.TileN;
        int lanesN = tileN / 4;
        int lanesM = Threads / lanesN;
        int tileM = lanesM * 4;
        int lda = tileM + 1;
        int ldb = tileN + 1;
        int laneN = lane % lanesN;
        int laneM = lane / lanesN;
        int row0 = Grid.IdxX * tileM;
        int col0 = Grid.IdxY * tileN;
        int kBegin = Grid.IdxZ * p.Chunk;
        int kEnd = Math.Min(p.K, kBegin + p.Chunk);

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        // Index decoding hoisted out of the per-element gathers (the same elements, the same values, fewer divisions).
        // Forward / BackwardInput A and BackwardInput B: element e = r * tileK + k with Threads % tileK == 0, so a lane's
        // reduction offset kLane is fixed and its rows step by rowStep = Threads / tileK.
        int kLane = lane % tileK;
        int rowStep = Threads / tileK;
        int rLane = lane / tileK;
        // BackwardFilter A: element e = k * tileM + r; a lane's rows step by bfRowStep, its reductions by bfKStep.
        int bfRowStep = Math.Min(tileM, Threads);
        int bfKStep = Threads / bfRowStep;
        int bfRLane = lane % bfRowStep;
        int bfKLane = lane / bfRowStep;
        // Forward / BackwardFilter B: element e = k * tileN + n (tileN divides Threads): one column per lane.
        int bKStep = Threads / tileN;
        int bKLane = lane / tileN;
        int bCol = col0 + lane % tileN;
        // Forward / BackwardInput: the (b, y, x) of the lane's first A row and of the row step, over the output
        // (Forward) or the input (BackwardInput) plane.
        int planeH = Math.Max(1, p.Mode == ModeBackwardInput ? g.InH : g.OutH);
        int planeW = Math.Max(1, p.Mode == ModeBackwardInput ? g.InW : g.OutW);
        int chans = p.Mode == ModeForward ? g.InC : g.OutC;
        int firstRow = row0 + rLane;
        int firstB = firstRow / (planeH * planeW);
        int firstRest = firstRow - firstB * (planeH * planeW);
        int firstY = firstRest / planeW;
        int firstX = firstRest - firstY * planeW;
        int stepX = rowStep % planeW;
        int stepY = (rowStep / planeW) % planeH;
        int stepB = rowStep / (planeW * planeH);

        for (int k0 = kBegin; k0 < kEnd; k0 += tileK)
        {
            if (p.Mode == ModeBackwardFilter)
            {
                // A[row = (kh, kw, ci), red = (b, oy, ox)] = x[b, oy*sh + kh*dh - padTop, ox*sw + kw*dw - padLeft, ci].
                for (int r = bfRLane; r < tileM; r += bfRowStep)
                {
                    int row = row0 + r;
                    int rowLength = g.KW * g.InC;
                    int kh = row / rowLength;
                    int kRest = row - kh * rowLength;
                    int kw = kRest / g.InC;
                    int ci = kRest - kw * g.InC;
                    int yOff = kh * g.DilationH - g.PadTop;
                    int xOff = kw * g.DilationW - g.PadLeft;
                    int red0 = k0 + bfKLane;
                    int plane = g.OutH * g.OutW;
                    int bb = red0 / plane;
                    int rest = red0 - bb * plane;
                    int oy = rest / g.OutW;
                    int ox = rest - oy * g.OutW;
                    for (int k = bfKLane; k < tileK; k += bfKStep)
                    {
                        int red = k0 + k;
                        float value = 0f;
                        if (row < p.M && red < kEnd)
                        {
                            int iy = oy * g.StrideH + yOff;
                            int ix = ox * g.StrideW + xOff;
                            if (iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW)
                                value = a[(((long)bb * g.InH + iy) * g.InW + ix) * g.InC + ci];
                        }
                        aTile[k * lda + r] = value;
                        // Advance (b, oy, ox) by bfKStep (at most Threads / 64 = 4): one output position at a time.
                        for (int s = 0; s < bfKStep; s++)
                        {
                            ox++;
                            if (ox == g.OutW)
                            {
                                ox = 0;
                                oy++;
                                if (oy == g.OutH)
                                {
                                    oy = 0;
                                    bb++;
                                }
                            }
                        }
                    }
                }
                for (int k = bKLane; k < tileK; k += bKStep)
                {
                    int red = k0 + k;
                    bTile[k * ldb + lane % tileN] = bCol < p.N && red < kEnd ? b[(long)red * p.N + bCol] : 0f;
                }
            }
            else
            {
                // The lane's reduction index (kh, kw, ch), decoded once per stage.
                int red = k0 + kLane;
                bool redOk = red < kEnd;
                int rowLength = g.KW * chans;
                int kh = red / rowLength;
                int kRest = red - kh * rowLength;
                int kw = kRest / chans;
                int ch = kRest - kw * chans;
                int by = firstB;
                int yy = firstY;
                int xx = firstX;
                for (int r = rLane; r < tileM; r += rowStep)
                {
                    int row = row0 + r;
                    float value = 0f;
                    if (row < p.M && redOk)
                    {
                        if (p.Mode == ModeForward)
                        {
                            int iy = yy * g.StrideH + kh * g.DilationH - g.PadTop;
                            int ix = xx * g.StrideW + kw * g.DilationW - g.PadLeft;
                            if (iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW)
                                value = a[(((long)by * g.InH + iy) * g.InW + ix) * g.InC + ch];
                        }
                        else
                        {
                            // The dgrad gather (see "What the tile loads gather" below).
                            int ty = yy + g.PadTop - kh * g.DilationH;
                            int tx = xx + g.PadLeft - kw * g.DilationW;
                            if (ty >= 0 && tx >= 0)
                            {
                                int oy = g.StrideH == 1 ? ty : ty / g.StrideH;
                                int ox = g.StrideW == 1 ? tx : tx / g.StrideW;
                                if (oy * g.StrideH == ty && ox * g.StrideW == tx && oy < g.OutH && ox < g.OutW)
                                    value = a[(((long)by * g.OutH + oy) * g.OutW + ox) * g.OutC + ch];
                            }
                        }
                    }
                    aTile[kLane * lda + r] = value;
                    // Advance (b, y, x) by rowStep: each part once, then one carry each.
                    xx += stepX;
                    yy += stepY;
                    by += stepB;
                    if (xx >= planeW)
                    {
                        xx -= planeW;
                        yy++;
                    }
                    if (yy >= planeH)
                    {
                        yy -= planeH;
                        by++;
                    }
                }
                if (p.Mode == ModeForward)
                {
                    for (int k = bKLane; k < tileK; k += bKStep)
                    {
                        int redB = k0 + k;
                        bTile[k * ldb + lane % tileN] = bCol < p.N && redB < kEnd ? b[(long)redB * p.N + bCol] : 0f;
                    }
                }
                else
                {
                    // w[kh, kw, ci = col, co] with red = (tap, co): the lane's red is fixed, so decode it once.
                    int tap = red / g.OutC;
                    int co = red - tap * g.OutC;
                    for (int n = rLane; n < tileN; n += rowStep)
                    {
                        int col = col0 + n;
                        bTile[kLane * ldb + n] = col < p.N && redOk ? b[((long)tap * g.InC + col) * g.OutC + co] : 0f;
                    }
                }
            }
            Group.Barrier();
            for (int k = 0; k < tileK; k++)
            {
                int ak = k * lda + laneM;
                float a0 = aTile[ak];
                float a1 = aTile[ak + lanesM];
                float a2 = aTile[ak + 2 * lanesM];
                float a3 = aTile[ak + 3 * lanesM];
                int bk = k * ldb + laneN;
                float b0 = bTile[bk];
                float b1 = bTile[bk + lanesN];
                float b2 = bTile[bk + 2 * lanesN];
                float b3 = bTile[bk + 3 * lanesN];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        long offset = (long)Grid.IdxZ * p.M * p.N;
        int rowA = row0 + laneM;
        int colA = col0 + laneN;
        Store(c, bias, p, offset, rowA, colA, lanesN, c00, c01, c02, c03);
        Store(c, bias, p, offset, rowA + lanesM, colA, lanesN, c10, c11, c12, c13);
        Store(c, bias, p, offset, rowA + 2 * lanesM, colA, lanesN, c20, c21, c22, c23);
        Store(c, bias, p, offset, rowA + 3 * lanesM, colA, lanesN, c30, c31, c32, c33);
    }

    /// <summary>dst[i] = sum over z = 0..slices-1 of partials[z*length + i], in that order (the split-K reduce).</summary>
    public static void SumSlicesKernel(Index1D i, ArrayView<float> partials, ArrayView<float> dst, int slices, int length)
    {
        float sum = 0f;
        for (int z = 0; z < slices; z++)
            sum += partials[(long)z * length + i];
        dst[i] = sum;
    }

    // One row of a lane's register block: four columns strided by the lanes across.
    private static void Store(ArrayView<float> c, ArrayView<float> bias, ConvGemm p, long offset, int row, int col, int step,
                              float v0, float v1, float v2, float v3)
    {
        if (row >= p.M) return;
        long at = offset + (long)row * p.N;
        StoreOne(c, bias, p, at, col, v0);
        StoreOne(c, bias, p, at, col + step, v1);
        StoreOne(c, bias, p, at, col + 2 * step, v2);
        StoreOne(c, bias, p, at, col + 3 * step, v3);
    }

    private static void StoreOne(ArrayView<float> c, ArrayView<float> bias, ConvGemm p, long rowStart, int col, float value)
    {
        if (col >= p.N) return;
        c[rowStart + col] = p.HasBias != 0 ? value + bias[col] : value;
    }

    // What the tile loads gather (the kernel decodes the indices once per stage or row, then steps them):
    //   im2col(x)[m, k]: m = (b, oy, ox) over the output, k = (kh, kw, ci); x at (oy*sh + kh*dh - padTop,
    //     ox*sw + kw*dw - padLeft), 0 for padded taps. Forward's A, and BackwardFilter's A transposed.
    //   dgrad A[m, k]: m = (b, iy, ix) over the input, k = (kh, kw, co); output (oy, ox) used input (iy, ix) through
    //     tap (kh, kw) when oy = (iy + padTop - kh*dh) / sh divides exactly and lies in [0, OH) (likewise ox); else 0.
    //   B[red, col]: BackwardInput reads w[kh, kw, ci = col, co] with red = (kh, kw, co); otherwise B is row-major
    //     [K, n] (the HWIO filter as [KH*KW*Cin, Cout], or dy as [N*OH*OW, Cout]).

    // ---- validation ----

    // Rank 4 (or 1 for a bias), a view that holds the shape, and the stream's accelerator.
    internal static void CheckViews(string op, AcceleratorStream stream, params ReadOnlySpan<(string Name, TensorView<float> View)> views)
    {
        foreach (var (name, view) in views)
        {
            if (name == "bias") ShapeCheck.Tensor(op, name, view, 1, "[Cout]");
            else ShapeCheck.Tensor(op, name, view, 4, name.StartsWith("filter", StringComparison.Ordinal) ? "HWIO [KH, KW, Cin, Cout]" : "NHWC [N, H, W, C]");
            ShapeCheck.SameAccelerator(op, stream, name, view);
        }
    }

    // The options alone: positive strides and dilations, dilation above 1 only with stride 1, SAME or VALID.
    internal static void CheckOptions(string op, Conv2dOptions options)
    {
        if (options.Stride.Height < 1 || options.Stride.Width < 1)
            throw new ArgumentException($"{op}: stride {options.Stride} must be at least 1x1.", nameof(options));
        if (options.Dilation.Height < 1 || options.Dilation.Width < 1)
            throw new ArgumentException($"{op}: dilation {options.Dilation} must be at least 1x1.", nameof(options));
        if ((options.Dilation.Height > 1 && options.Stride.Height > 1) || (options.Dilation.Width > 1 && options.Stride.Width > 1))
            throw new ArgumentException($"{op}: dilation {options.Dilation} with stride {options.Stride}; as in TensorFlow, dilation above 1 needs stride 1 along that dimension.", nameof(options));
        if (options.Padding != Padding.Same && options.Padding != Padding.Valid)
            throw new ArgumentException($"{op}: padding {options.Padding} is neither SAME nor VALID.", nameof(options));
    }

    // The forward geometry of input [N,H,W,Cin] with filter [KH,KW,Cin,Cout].
    internal static WindowGeometry Geometry(string op, string inputName, Shape input, string filterName, Shape filter, Conv2dOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(filter);
        if (input.Rank != 4)
            throw new ArgumentException($"{op}: {inputName} must be rank 4 (NHWC [N, H, W, C]), but its shape is {input}.", inputName);
        if (filter.Rank != 4)
            throw new ArgumentException($"{op}: {filterName} must be rank 4 (HWIO [KH, KW, Cin, Cout]), but its shape is {filter}.", filterName);
        if (input[3] != filter[2])
            throw new ArgumentException($"{op}: {inputName} {input} has {input[3]} channels but {filterName} {filter} expects {filter[2]} (HWIO: dimension 2 is the input channels; the rule is {inputName}[3] == {filterName}[2]).", filterName);
        CheckOptions(op, options);
        var h = Windowing.Compute(op, "height", input[1], filter[0], options.Stride.Height, options.Dilation.Height, options.Padding);
        var w = Windowing.Compute(op, "width", input[2], filter[1], options.Stride.Width, options.Dilation.Width, options.Padding);
        var g = new WindowGeometry();
        g.Batch = input[0];
        g.InH = input[1];
        g.InW = input[2];
        g.InC = input[3];
        g.OutH = h.Output;
        g.OutW = w.Output;
        g.OutC = filter[3];
        g.KH = filter[0];
        g.KW = filter[1];
        g.StrideH = options.Stride.Height;
        g.StrideW = options.Stride.Width;
        g.DilationH = options.Dilation.Height;
        g.DilationW = options.Dilation.Width;
        g.PadTop = h.PadBefore;
        g.PadLeft = w.PadBefore;
        return g;
    }

    /// <summary>
    /// The checks of a transposed direction (dx from dy, or conv2d_transpose): <paramref name="small"/> [N, n_h, n_w, Cs]
    /// plays the forward output, <paramref name="large"/> [N, o_h, o_w, Cl] the forward input, the filter is
    /// [KH, KW, Cl, Cs]; TF requires windowed_out(o) == n per spatial dimension. Returns the forward geometry.
    /// </summary>
    internal static WindowGeometry CheckTransposed(string op, string smallName, Shape small, Shape filter, string largeName, Shape large,
                                                   Conv2dOptions options, string largeRole, string smallRole, string filterName = "filter")
    {
        ArgumentNullException.ThrowIfNull(small);
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(large);
        if (small.Rank != 4)
            throw new ArgumentException($"{op}: {smallName} must be rank 4 (NHWC [N, H, W, C]), but its shape is {small}.", smallName);
        if (filter.Rank != 4)
            throw new ArgumentException($"{op}: {filterName} must be rank 4 ([KH, KW, {largeRole} channels, {smallRole} channels]), but its shape is {filter}.", filterName);
        if (large.Rank != 4)
            throw new ArgumentException($"{op}: {largeName} must be rank 4 (NHWC [N, H, W, C]), but its shape is {large}.", largeName);
        if (small[3] != filter[3])
            throw new ArgumentException($"{op}: {smallName} {small} has {small[3]} channels but {filterName} {filter} has {filter[3]} in dimension 3 (the {smallRole} channels; the rule is {smallName}[3] == {filterName}[3]).", smallName);
        if (large[3] != filter[2])
            throw new ArgumentException($"{op}: {largeName} {large} has {large[3]} channels but {filterName} {filter} has {filter[2]} in dimension 2 (the {largeRole} channels; the rule is {largeName}[3] == {filterName}[2]).", largeName);
        if (large[0] != small[0])
            throw new ArgumentException($"{op}: {largeName} {large} and {smallName} {small} must have the same batch size ({large[0]} != {small[0]}).", largeName);
        CheckOptions(op, options);
        var s = options.Stride;
        var d = options.Dilation;
        int impliedH = ImpliedSize(large[1], filter[0], s.Height, d.Height, options.Padding);
        int impliedW = ImpliedSize(large[2], filter[1], s.Width, d.Width, options.Padding);
        if (impliedH != small[1] || impliedW != small[2])
        {
            var h = Conv2dTranspose.AcceptedOutputSizes(small[1], filter[0], s.Height, d.Height, options.Padding);
            var w = Conv2dTranspose.AcceptedOutputSizes(small[2], filter[1], s.Width, d.Width, options.Padding);
            string implied = impliedH < 0 || impliedW < 0
                ? $"leaves no room for a {Effective(filter[0], d.Height)}x{Effective(filter[1], d.Width)} window"
                : $"implies a {smallRole} of {impliedH}x{impliedW} ({Rule(large[1], filter[0], s.Height, d.Height, options.Padding, impliedH)}"
                  + (large[1] == large[2] && filter[0] == filter[1] && s.Height == s.Width && d.Height == d.Width
                      ? ")" : $", {Rule(large[2], filter[1], s.Width, d.Width, options.Padding, impliedW)})");
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{op}: {largeName} {large} with kernel {filter[0]}x{filter[1]}, {options} {implied}, but {smallName} is {small}; " +
                $"for a {small[1]}x{small[2]} {smallName} this stride and padding accept {largeRole} sizes {h.Min}..{h.Max} (height) and {w.Min}..{w.Max} (width)."),
                largeName);
        }
        return Geometry(op, largeName, large, filterName, filter, options);
    }

    // TF's windowed output size for input o, or -1 where VALID would go negative.
    internal static int ImpliedSize(int o, int kernel, int stride, int dilation, Padding padding)
    {
        int e = Effective(kernel, dilation);
        if (padding == Padding.Same) return (o + stride - 1) / stride;
        return o - e + stride < 0 ? -1 : (o - e + stride) / stride;
    }

    private static int Effective(int kernel, int dilation) => (kernel - 1) * dilation + 1;

    private static string Rule(int o, int kernel, int stride, int dilation, Padding padding, int implied) =>
        padding == Padding.Same
            ? string.Create(CultureInfo.InvariantCulture, $"ceil({o}/{stride}) = {implied}")
            : string.Create(CultureInfo.InvariantCulture, $"({o} - {Effective(kernel, dilation)} + {stride}) div {stride} = {implied}");
}
