// Conv2dVector: the convolutions shaped for devices that run on the host CPU (the CPU accelerator, pocl).
//   Same ops and results as Conv2d's implicit GEMM (see Conv2d.cs): y = conv2d(x, w) (+ bias), dx, dw.
//   A CPU runs a group's lanes one after another on one core, and LLVM does not vectorise the loops inside
//   a lane, so the GPU kernel's 256-lane tiles and shared-memory stages turn into scalar loops. Here each lane
//   computes a block of outputs with Float8 vector arithmetic instead:
//   Forward        x is first copied into a zero-bordered buffer that holds every position any tap reads, and w (when
//                  Cout is not a multiple of 16) into one with zero channels up to the next multiple: the main loop
//                  then has no conditions. One lane = 6 consecutive output pixels of the row-major plane x 16 output
//                  channels (12 Float8 accumulators, enough independent chains to cover the FMA latency); per input
//                  channel of a tap: two vector loads of w, six broadcasts of x.
//   BackwardInput  (stride 1) the same kernel over dy with the filter transposed per tap to [KH, KW, Cout, Cin]:
//                  dx[b, iy, ix, ci] = sum dy[b, iy + padTop - kh*dh, ix + padLeft - kw*dw, co] * w[kh, kw, ci, co],
//                  i.e. a "forward" conv with stride 1, dilation -d and padding -pad.
//   BackwardFilter one lane = 16 output channels x one slice of the output positions: it walks its positions in chunks
//                  of about 64, and for each chunk runs every tap and every block of 4 input channels, adding
//                  x[.., ci..ci+3] (broadcast) times dy[.., co..co+15] into its partial dw, so the chunk of dy stays in L1
//                  (a lane per tap would stream all of dy once per tap). The slices' partial sums are added in slice
//                  order (Conv2d.SumSlices). Input channels not a multiple of 4, or output channels not a multiple of
//                  16, are first copied with zero channels up to the next multiple, so the inner loop reads whole blocks.
// Every output sums its terms in a fixed order (taps, then input channels; or output positions in order), with
// Float8.FusedMultiplyAdd rounding once per term: CPU and pocl results are bit-identical.

using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>
/// A direct convolution as <see cref="Conv2dVector"/>'s kernels see it:
/// out[b, oy, ox, co] = sum over kh, kw, ci of in[b, oy*StrideH + kh*DilationH - PadTop, ox*StrideW + kw*DilationW - PadLeft, ci]
/// * filter[kh, kw, ci, co] (+ bias[co]), taps outside <c>in</c> reading 0. Dilation and padding may be negative
/// (the input gradient runs as such a convolution).
/// </summary>
internal struct DirectConv
{
    /// <summary>Images.</summary>
    public int Batch;
    /// <summary>Input rows.</summary>
    public int InH;
    /// <summary>Input columns.</summary>
    public int InW;
    /// <summary>Input channels.</summary>
    public int InC;
    /// <summary>Output rows.</summary>
    public int OutH;
    /// <summary>Output columns.</summary>
    public int OutW;
    /// <summary>Output channels.</summary>
    public int OutC;
    /// <summary>Filter rows.</summary>
    public int KH;
    /// <summary>Filter columns.</summary>
    public int KW;
    /// <summary>Input rows between output rows.</summary>
    public int StrideH;
    /// <summary>Input columns between output columns.</summary>
    public int StrideW;
    /// <summary>Input rows between filter rows (may be negative).</summary>
    public int DilationH;
    /// <summary>Input columns between filter columns (may be negative).</summary>
    public int DilationW;
    /// <summary>Input row of output row 0's first tap, negated.</summary>
    public int PadTop;
    /// <summary>Input column of output column 0's first tap, negated.</summary>
    public int PadLeft;
    /// <summary>1 when bias[OutC] is added.</summary>
    public int HasBias;
    /// <summary>Output rows (b, oy) per chunk of the filter gradient's walk.</summary>
    public int RowsPerChunk;
    /// <summary>Chunks per position slice of the filter gradient (slice z writes its partial dw at offset z * dw's length).</summary>
    public int ChunksPerSlice;
    /// <summary>Rows of the zero-bordered input copy.</summary>
    public int PaddedH;
    /// <summary>Columns of the zero-bordered input copy.</summary>
    public int PaddedW;
    /// <summary>The input row stored in the copy's row 0 (negative: zero rows above the input).</summary>
    public int OriginH;
    /// <summary>The input column stored in the copy's column 0.</summary>
    public int OriginW;
    /// <summary>Floats per (tap, input channel) row of the filter the forward kernel reads: OutC rounded up to 16.</summary>
    public int FilterStride;
    /// <summary>Floats per position of the input the filter gradient reads: InC rounded up to 4 (zero channels after InC).</summary>
    public int XStride;
    /// <summary>Floats per position of the dy the filter gradient reads: OutC rounded up to 16 (zero channels after OutC).</summary>
    public int DyStride;
    /// <summary>Rows of the tensor the input copy reads: InH, or fewer when its rows are spread out (<see cref="SpreadH"/>).</summary>
    public int SourceH;
    /// <summary>Columns of the tensor the input copy reads.</summary>
    public int SourceW;
    /// <summary>Input rows per source row: input row iy holds source row iy / SpreadH when iy % SpreadH == 0, else zeros (1: the source itself).</summary>
    public int SpreadH;
    /// <summary>Input columns per source column, as <see cref="SpreadH"/>.</summary>
    public int SpreadW;
}

/// <summary>The convolution kernels for devices that run on the host CPU; <see cref="Conv2dKernels"/> picks them there.</summary>
internal static class Conv2dVector
{
    /// <summary>Output channels per lane (two Float8).</summary>
    public const int ChannelBlock = 16;
    /// <summary>Output pixels per forward lane.</summary>
    public const int PixelBlock = 6;
    /// <summary>Input channels per step of the filter gradient.</summary>
    public const int InputBlock = 4;
    // Output positions per chunk of the filter gradient's walk: dy's 16 channels and x's channels for them stay in L1
    // while the lane runs every tap and input channel over them.
    private const int PositionsPerChunk = 64;
    // Filter-gradient lanes to aim for (channel blocks x position slices), and the fewest chunks per slice.
    private const int TargetLanes = 64;
    private const int MinChunksPerSlice = 4;

    /// <summary>y = conv2d(x, w) (+ bias) for the validated geometry; as host code when <paramref name="host"/> is given.</summary>
    internal static void Forward(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> w, ArrayView<float>? bias,
                                 ArrayView<float> y, WindowGeometry g, CPUAccelerator? host = null, Conv2dFilterCache? cache = null)
    {
        var c = Direct(g.Batch, g.InH, g.InW, g.InC, g.OutH, g.OutW, g.OutC, g);
        c.HasBias = bias is null ? 0 : 1;
        c.FilterStride = RoundUp(g.OutC, ChannelBlock);
        var filter = w;
        if (c.FilterStride != g.OutC)
        {
            long length = (long)g.KH * g.KW * g.InC * c.FilterStride;
            filter = PadChannels(stream, w, Scratch.ConvFilter, (long)g.KH * g.KW * g.InC, g.OutC, c.FilterStride, host);
        }
        LaunchForward(stream, x, filter, bias, y, c, host, cache is null || host is null ? null : new HostConv.Prepared(cache, HostView.Address(w)));
    }

    /// <summary>
    /// dx from dy and w: the forward kernel over dy with each tap's filter transposed. A stride above 1 spreads dy's rows and
    /// columns that far apart with zeros between them (in the input copy, SpreadH/SpreadW), so the convolution has stride 1.
    /// </summary>
    internal static void BackwardInput(AcceleratorStream stream, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, WindowGeometry g,
                                       CPUAccelerator? host = null)
    {
        // dx[iy] = sum over kh of dz[iy + padTop - kh*dh] * w[kh], dz being dy spread: dz[oy*sh] = dy[oy], zeros between.
        var c = Direct(g.Batch, (g.OutH - 1) * g.StrideH + 1, (g.OutW - 1) * g.StrideW + 1, g.OutC, g.InH, g.InW, g.InC, g);
        c.SourceH = g.OutH;
        c.SourceW = g.OutW;
        c.SpreadH = g.StrideH;
        c.SpreadW = g.StrideW;
        c.StrideH = 1;
        c.StrideW = 1;
        c.DilationH = -g.DilationH;
        c.DilationW = -g.DilationW;
        c.PadTop = -g.PadTop;
        c.PadLeft = -g.PadLeft;
        c.FilterStride = RoundUp(g.InC, ChannelBlock);
        long length = (long)g.KH * g.KW * g.OutC * c.FilterStride;
        var transposed = Scratch.Get<float>(stream, Scratch.ConvFilter, length);
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(TransposeTapsKernel)(
            stream, CheckedLength(length), w, transposed, g.InC, g.OutC, c.FilterStride);
        LaunchForward(stream, dy, transposed, null, dx, c, host);
    }

    /// <summary>dw from x and dy; overwrites dw. As host code when <paramref name="host"/> is given (the same slices and sums).</summary>
    internal static void BackwardFilter(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g,
                                        CPUAccelerator? host = null)
    {
        var c = Direct(g.Batch, g.InH, g.InW, g.InC, g.OutH, g.OutW, g.OutC, g);
        c.RowsPerChunk = Math.Max(1, PositionsPerChunk / Math.Max(1, g.OutW));
        int coBlocks = CeilDiv(g.OutC, ChannelBlock);
        int chunks = Math.Max(1, CeilDiv(g.Batch * g.OutH, c.RowsPerChunk));
        // Slices of the positions: enough lanes to spread over the cores, each slice at least a few chunks long.
        int slices = Math.Clamp(CeilDiv(TargetLanes, coBlocks), 1, Math.Max(1, chunks / MinChunksPerSlice));
        c.ChunksPerSlice = CeilDiv(chunks, slices);
        slices = CeilDiv(chunks, c.ChunksPerSlice);
        int length = CheckedLength((long)g.KH * g.KW * g.InC * g.OutC);
        // Channel counts that do not fill the lane's 4 inputs x 16 outputs (conv1's 3 inputs, conv3's 10 outputs) read
        // zero-padded copies, so the inner loop never needs partial loads or conditions.
        c.XStride = RoundUp(g.InC, InputBlock);
        c.DyStride = RoundUp(g.OutC, ChannelBlock);
        // One to three input channels (an image's grey or RGB): the host route takes a filter row's taps and channels as its
        // inputs (HostConv.FilterGradientRowTaps) from an unpadded copy of x with a few floats of slack.
        bool rowTaps = host is not null && HostConv.TakesRowTaps(c);
        if (rowTaps)
            (x, c.XStride) = (HostConv.CopyWithSlack(x, Scratch.Get<float>(stream, Scratch.ConvInput, x.Length + HostConv.Slack)), g.InC);
        else
            x = PadChannels(stream, x, Scratch.ConvInput, (long)g.Batch * g.InH * g.InW, g.InC, c.XStride, host);
        dy = PadChannels(stream, dy, Scratch.ConvFilter, (long)g.Batch * g.OutH * g.OutW, g.OutC, c.DyStride, host);
        var target = slices == 1 ? dw : Scratch.Get<float>(stream, Scratch.SplitK, (long)slices * length);
        if (rowTaps)
            HostConv.FilterGradientRowTaps(host!, c, x, dy, target, slices);
        else if (host is not null)
            HostConv.FilterGradient(host, c, x, dy, target, slices);
        else
            HostLanes.Launch(coBlocks * slices, (config, count) =>
                stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, DirectConv, int>(FilterGradientKernel)(
                    stream, config, x, dy, target, c, count));
        if (slices > 1) Conv2dKernels.SumSlices(stream, target, dw, slices, length);
    }

    // rows x channels -> rows x stride in a scratch slot, zeros after the channels; the view itself when nothing is missing.
    private static ArrayView<float> PadChannels(AcceleratorStream stream, ArrayView<float> source, int slot, long rows, int channels, int stride,
                                                CPUAccelerator? host)
    {
        if (stride == channels || rows == 0) return source;
        long length = rows * stride;
        var padded = Scratch.Get<float>(stream, slot, length);
        if (host is not null)
        {
            HostConv.PadChannels(host, source, padded, rows, channels, stride);
            return padded;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(PadChannelsKernel)(
            stream, CheckedLength(length), source, padded, channels, stride);
        return padded;
    }

    // Copies x into the zero-bordered buffer, then runs ForwardKernel (or HostConv.Forward) over it.
    private static void LaunchForward(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> w, ArrayView<float>? bias,
                                      ArrayView<float> y, DirectConv c, CPUAccelerator? host, HostConv.Prepared? prepared = null)
    {
        // Pixel blocks run along each image's whole plane, rows included, so narrow maps (conv3's 6x6) waste no lanes.
        long lanes = (long)c.Batch * CeilDiv(c.OutH * c.OutW, PixelBlock) * CeilDiv(c.OutC, ChannelBlock);
        if (lanes == 0) return;
        // Rows and columns any tap reads (those of output rows 0..OutH-1 and columns 0..OutW-1), plus the input itself.
        (c.OriginH, c.PaddedH) = Span(c.OutH, c.StrideH, c.KH, c.DilationH, c.PadTop, c.InH);
        (c.OriginW, c.PaddedW) = Span(c.OutW, c.StrideW, c.KW, c.DilationW, c.PadLeft, c.InW);
        long padded = (long)c.Batch * c.PaddedH * c.PaddedW * c.InC;
        var input = Scratch.Get<float>(stream, Scratch.ConvInput, padded);
        if (host is not null)
        {
            HostConv.PadInput(host, c, x, input);
            HostConv.Forward(host, c, input, w, bias, y, prepared);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, DirectConv>(PadInputKernel)(
            stream, CheckedLength((long)c.Batch * c.PaddedH), x, input, c);
        // Without a bias the kernel never reads that view; pass the filter so every argument is a real view.
        HostLanes.Launch(CheckedLength(lanes), (config, count) =>
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DirectConv, int>(ForwardKernel)(
                stream, config, input, w, bias ?? w, y, c, count));
    }

    // The first input index read along one axis and how many indices the copy spans (reads and the input itself).
    private static (int Origin, int Length) Span(int outputs, int stride, int taps, int dilation, int pad, int size)
    {
        int reach = (taps - 1) * dilation;
        int low = Math.Min(0, Math.Min(0, reach) - pad);
        int high = Math.Max(size - 1, (outputs - 1) * stride + Math.Max(0, reach) - pad);
        return (low, high - low + 1);
    }

    private static int CheckedLength(long length) =>
        length <= int.MaxValue ? (int)length : throw new ArgumentException($"Conv2d: {length} elements exceed the vector kernels' launch limit of {int.MaxValue}.");


    private static DirectConv Direct(int batch, int inH, int inW, int inC, int outH, int outW, int outC, WindowGeometry g)
    {
        var c = new DirectConv();
        c.Batch = batch;
        c.InH = inH;
        c.InW = inW;
        c.InC = inC;
        c.OutH = outH;
        c.OutW = outW;
        c.OutC = outC;
        c.KH = g.KH;
        c.KW = g.KW;
        c.StrideH = g.StrideH;
        c.StrideW = g.StrideW;
        c.DilationH = g.DilationH;
        c.DilationW = g.DilationW;
        c.PadTop = g.PadTop;
        c.PadLeft = g.PadLeft;
        c.RowsPerChunk = 1;
        c.SourceH = inH;
        c.SourceW = inW;
        c.SpreadH = 1;
        c.SpreadW = 1;
        return c;
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static int RoundUp(int a, int b) => CeilDiv(a, b) * b;

    // ---- kernels ----

    /// <summary>
    /// p[b, r, col, ci] = in[b, r + OriginH, col + OriginW, ci], or 0 outside it, where the input is the source with its rows and
    /// columns spread out: in[b, iy, ix, ci] = x[b, iy / SpreadH, ix / SpreadW, ci] at multiples of the spreads, else 0.
    /// One lane per (b, r) row of the copy.
    /// </summary>
    public static void PadInputKernel(Index1D index, ArrayView<float> x, ArrayView<float> p, DirectConv c)
    {
        int b = index / c.PaddedH;
        int iy = index - b * c.PaddedH + c.OriginH;
        long target = (long)index.X * c.PaddedW * c.InC;
        bool rowInside = iy >= 0 && iy < c.InH && iy % c.SpreadH == 0;
        long source = ((long)b * c.SourceH + iy / c.SpreadH) * c.SourceW * c.InC;
        for (int col = 0; col < c.PaddedW; col++)
        {
            int ix = col + c.OriginW;
            bool inside = rowInside && ix >= 0 && ix < c.InW && ix % c.SpreadW == 0;
            long t = target + (long)col * c.InC;
            long s = source + (long)(ix / c.SpreadW) * c.InC;
            for (int ci = 0; ci < c.InC; ci++) p[t + ci] = inside ? x[s + ci] : 0f;
        }
    }

    /// <summary>p[row, co] = w[row, co] for co &lt; outC, else 0, with rows of <paramref name="stride"/> channels (a filter's (tap, ci) rows, or a tensor's positions).</summary>
    public static void PadChannelsKernel(Index1D index, ArrayView<float> w, ArrayView<float> p, int outC, int stride)
    {
        int row = index / stride;
        int co = index - row * stride;
        p[index] = co < outC ? w[(long)row * outC + co] : 0f;
    }

    /// <summary>t[tap, co, ci] = w[tap, ci, co] (0 for ci &gt;= inC, rows of <paramref name="stride"/>): each tap's matrix transposed, so dx's channels are contiguous.</summary>
    public static void TransposeTapsKernel(Index1D index, ArrayView<float> w, ArrayView<float> t, int inC, int outC, int stride)
    {
        int row = index / stride;
        int ci = index - row * stride;
        int tap = row / outC;
        int co = row - tap * outC;
        t[index] = ci < inC ? w[((long)tap * inC + ci) * outC + co] : 0f;
    }

    /// <summary>
    /// <see cref="DirectConv"/> over the zero-bordered copy of the input: lane = (16-channel block, block of 6 consecutive
    /// pixels of the image's row-major plane, image), channel blocks fastest so that neighbouring lanes share their input
    /// pixels. Every tap of every pixel reads the copy and every filter row has <see cref="DirectConv.FilterStride"/>
    /// channels, so the loop has no conditions; the store drops the pixels past the plane and the channels past OutC.
    /// </summary>
    public static void ForwardKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, DirectConv c, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes) return;
        int coBlocks = (c.OutC + ChannelBlock - 1) / ChannelBlock;
        int plane = c.OutH * c.OutW;
        int pixelBlocks = (plane + PixelBlock - 1) / PixelBlock;
        int coBlock = lane % coBlocks;
        int rest = lane / coBlocks;
        int pixel0 = rest % pixelBlocks * PixelBlock;
        int b = rest / pixelBlocks;
        int co0 = coBlock * ChannelBlock;
        int channels = c.OutC - co0;
        int pixels = Math.Min(PixelBlock, plane - pixel0);
        // Each pixel's first tap in the copy; a block past the end of the plane repeats its last pixel (computed, not stored).
        long p0 = FirstTap(c, b, pixel0, plane);
        long p1 = FirstTap(c, b, pixel0 + 1, plane);
        long p2 = FirstTap(c, b, pixel0 + 2, plane);
        long p3 = FirstTap(c, b, pixel0 + 3, plane);
        long p4 = FirstTap(c, b, pixel0 + 4, plane);
        long p5 = FirstTap(c, b, pixel0 + 5, plane);

        // 12 accumulators: each is updated once per input channel, so 12 independent chains cover the FMA latency.
        var a00 = Float8.Splat(0f);
        var a01 = Float8.Splat(0f);
        var a10 = Float8.Splat(0f);
        var a11 = Float8.Splat(0f);
        var a20 = Float8.Splat(0f);
        var a21 = Float8.Splat(0f);
        var a30 = Float8.Splat(0f);
        var a31 = Float8.Splat(0f);
        var a40 = Float8.Splat(0f);
        var a41 = Float8.Splat(0f);
        var a50 = Float8.Splat(0f);
        var a51 = Float8.Splat(0f);
        for (int kh = 0; kh < c.KH; kh++)
        {
            for (int kw = 0; kw < c.KW; kw++)
            {
                long tap = ((long)kh * c.DilationH * c.PaddedW + kw * c.DilationW) * c.InC;
                long wi = (long)(kh * c.KW + kw) * c.InC * c.FilterStride + co0;
                for (int ci = 0; ci < c.InC; ci++)
                {
                    var w0 = Float8.Load(w, wi);
                    var w1 = Float8.Load(w, wi + 8);
                    var v = Float8.Splat(x[p0 + tap + ci]);
                    a00 = Float8.FusedMultiplyAdd(v, w0, a00);
                    a01 = Float8.FusedMultiplyAdd(v, w1, a01);
                    v = Float8.Splat(x[p1 + tap + ci]);
                    a10 = Float8.FusedMultiplyAdd(v, w0, a10);
                    a11 = Float8.FusedMultiplyAdd(v, w1, a11);
                    v = Float8.Splat(x[p2 + tap + ci]);
                    a20 = Float8.FusedMultiplyAdd(v, w0, a20);
                    a21 = Float8.FusedMultiplyAdd(v, w1, a21);
                    v = Float8.Splat(x[p3 + tap + ci]);
                    a30 = Float8.FusedMultiplyAdd(v, w0, a30);
                    a31 = Float8.FusedMultiplyAdd(v, w1, a31);
                    v = Float8.Splat(x[p4 + tap + ci]);
                    a40 = Float8.FusedMultiplyAdd(v, w0, a40);
                    a41 = Float8.FusedMultiplyAdd(v, w1, a41);
                    v = Float8.Splat(x[p5 + tap + ci]);
                    a50 = Float8.FusedMultiplyAdd(v, w0, a50);
                    a51 = Float8.FusedMultiplyAdd(v, w1, a51);
                    wi += c.FilterStride;
                }
            }
        }
        var b0 = Float8.Splat(0f);
        var b1 = Float8.Splat(0f);
        if (c.HasBias != 0)
        {
            b0 = Float8.LoadPartial(bias, co0, channels);
            b1 = Float8.LoadPartial(bias, co0 + 8, channels - 8);
        }
        // The plane's pixels are contiguous in NHWC, so the block's pixels are OutC apart even across rows.
        long o = ((long)b * plane + pixel0) * c.OutC + co0;
        StoreRow(y, o, channels, a00, a01, b0, b1, c.HasBias);
        if (pixels > 1) StoreRow(y, o + c.OutC, channels, a10, a11, b0, b1, c.HasBias);
        if (pixels > 2) StoreRow(y, o + 2L * c.OutC, channels, a20, a21, b0, b1, c.HasBias);
        if (pixels > 3) StoreRow(y, o + 3L * c.OutC, channels, a30, a31, b0, b1, c.HasBias);
        if (pixels > 4) StoreRow(y, o + 4L * c.OutC, channels, a40, a41, b0, b1, c.HasBias);
        if (pixels > 5) StoreRow(y, o + 5L * c.OutC, channels, a50, a51, b0, b1, c.HasBias);
    }

    /// <summary>Stores one pixel's 16 channels (two Float8, plus the bias when <paramref name="hasBias"/> is 1), cut to <paramref name="channels"/>.</summary>
    private static void StoreRow(ArrayView<float> target, long offset, int channels, Float8 low, Float8 high, Float8 biasLow, Float8 biasHigh, int hasBias)
    {
        if (hasBias != 0)
        {
            low = Float8.Add(low, biasLow);
            high = Float8.Add(high, biasHigh);
        }
        Float8.StorePartial(low, target, offset, channels);
        Float8.StorePartial(high, target, offset + 8, channels - 8);
    }

    /// <summary>Where tap (0, 0) of output pixel <paramref name="pixel"/> (row-major in the plane, clamped to its last pixel) of image <paramref name="b"/> reads the zero-bordered copy.</summary>
    private static long FirstTap(DirectConv c, int b, int pixel, int plane)
    {
        int p = Math.Min(pixel, plane - 1);
        int oy = p / c.OutW;
        int ox = p - oy * c.OutW;
        return (((long)b * c.PaddedH + oy * c.StrideH - c.PadTop - c.OriginH) * c.PaddedW + ox * c.StrideW - c.PadLeft - c.OriginW) * c.InC;
    }

    /// <summary>Stores the first <paramref name="rows"/> of a 4 x 16 block (rows <paramref name="stride"/> apart), each cut to <paramref name="channels"/>.</summary>
    private static void StoreBlock(ArrayView<float> target, long offset, int stride, int rows, int channels,
                                   Float8 a00, Float8 a01, Float8 a10, Float8 a11, Float8 a20, Float8 a21, Float8 a30, Float8 a31)
    {
        Float8.StorePartial(a00, target, offset, channels);
        Float8.StorePartial(a01, target, offset + 8, channels - 8);
        if (rows > 1)
        {
            Float8.StorePartial(a10, target, offset + stride, channels);
            Float8.StorePartial(a11, target, offset + stride + 8, channels - 8);
        }
        if (rows > 2)
        {
            Float8.StorePartial(a20, target, offset + 2L * stride, channels);
            Float8.StorePartial(a21, target, offset + 2L * stride + 8, channels - 8);
        }
        if (rows > 3)
        {
            Float8.StorePartial(a30, target, offset + 3L * stride, channels);
            Float8.StorePartial(a31, target, offset + 3L * stride + 8, channels - 8);
        }
    }

    /// <summary>
    /// dw[kh, kw, ci, co] = sum over (b, oy, ox) of x[b, oy*sh + kh*dh - padTop, ox*sw + kw*dw - padLeft, ci] * dy[b, oy, ox, co],
    /// one partial per slice. Lane = (16-channel block, slice of <see cref="DirectConv.ChunksPerSlice"/> chunks of
    /// <see cref="DirectConv.RowsPerChunk"/> output rows). Per chunk it runs every tap and block of 4 input channels,
    /// reloading those 4 x 16 sums from its partial (zero at the slice's first chunk), adding the chunk's positions in
    /// order and storing them back; slice z writes at offset z * KH*KW*Cin*Cout.
    /// </summary>
    public static void FilterGradientKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, DirectConv c, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes) return;
        int coBlocks = (c.OutC + ChannelBlock - 1) / ChannelBlock;
        int coBlock = lane % coBlocks;
        int slice = lane / coBlocks;
        int co0 = coBlock * ChannelBlock;
        int channels = c.OutC - co0;
        int rows = c.Batch * c.OutH;
        long sliceOffset = (long)slice * c.KH * c.KW * c.InC * c.OutC;

        // At least one chunk, so that dw is written (zero) even when no output position exists.
        int chunks = Math.Max(1, (rows + c.RowsPerChunk - 1) / c.RowsPerChunk);
        int chunkBegin = slice * c.ChunksPerSlice;
        int chunkEnd = Math.Min(chunks, chunkBegin + c.ChunksPerSlice);
        for (int chunk = chunkBegin; chunk < chunkEnd; chunk++)
        {
            int row0 = chunk * c.RowsPerChunk;
            int rowEnd = Math.Min(rows, row0 + c.RowsPerChunk);
            for (int tap = 0; tap < c.KH * c.KW; tap++)
            {
                int kh = tap / c.KW;
                int kw = tap - kh * c.KW;
                // Output columns whose tap lands inside the input: ix = ox*sw + offset in [0, InW).
                int offset = kw * c.DilationW - c.PadLeft;
                int oxBegin = offset >= 0 ? 0 : (-offset + c.StrideW - 1) / c.StrideW;
                int oxEnd = c.InW - offset <= 0 ? 0 : Math.Min(c.OutW, (c.InW - offset + c.StrideW - 1) / c.StrideW);
                for (int ci0 = 0; ci0 < c.InC; ci0 += InputBlock)
                {
                    int inputs = Math.Min(InputBlock, c.InC - ci0);
                    long d = sliceOffset + ((long)tap * c.InC + ci0) * c.OutC + co0;
                    var a00 = Float8.Splat(0f);
                    var a01 = Float8.Splat(0f);
                    var a10 = Float8.Splat(0f);
                    var a11 = Float8.Splat(0f);
                    var a20 = Float8.Splat(0f);
                    var a21 = Float8.Splat(0f);
                    var a30 = Float8.Splat(0f);
                    var a31 = Float8.Splat(0f);
                    if (chunk > chunkBegin)
                    {
                        a00 = Float8.LoadPartial(dw, d, channels);
                        a01 = Float8.LoadPartial(dw, d + 8, channels - 8);
                        if (inputs > 1)
                        {
                            a10 = Float8.LoadPartial(dw, d + c.OutC, channels);
                            a11 = Float8.LoadPartial(dw, d + c.OutC + 8, channels - 8);
                        }
                        if (inputs > 2)
                        {
                            a20 = Float8.LoadPartial(dw, d + 2 * c.OutC, channels);
                            a21 = Float8.LoadPartial(dw, d + 2 * c.OutC + 8, channels - 8);
                        }
                        if (inputs > 3)
                        {
                            a30 = Float8.LoadPartial(dw, d + 3 * c.OutC, channels);
                            a31 = Float8.LoadPartial(dw, d + 3 * c.OutC + 8, channels - 8);
                        }
                    }
                    for (int r = row0; r < rowEnd; r++)
                    {
                        int b = r / c.OutH;
                        int oy = r - b * c.OutH;
                        int iy = oy * c.StrideH + kh * c.DilationH - c.PadTop;
                        if (iy < 0 || iy >= c.InH) continue;
                        long xRow = ((long)b * c.InH + iy) * c.InW;
                        long dyRow = (long)r * c.OutW;
                        // x and dy have XStride and DyStride channels per position, zeros past InC and OutC: whole
                        // blocks can be read whatever the channel counts, and the store below drops the extra sums.
                        long xi = (xRow + oxBegin * c.StrideW + offset) * c.XStride + ci0;
                        long xStep = (long)c.StrideW * c.XStride;
                        long di = (dyRow + oxBegin) * c.DyStride + co0;
                        for (int ox = oxBegin; ox < oxEnd; ox++)
                        {
                            var d0 = Float8.Load(dy, di);
                            var d1 = Float8.Load(dy, di + 8);
                            var v0 = Float8.Splat(x[xi]);
                            var v1 = Float8.Splat(x[xi + 1]);
                            var v2 = Float8.Splat(x[xi + 2]);
                            var v3 = Float8.Splat(x[xi + 3]);
                            a00 = Float8.FusedMultiplyAdd(v0, d0, a00);
                            a01 = Float8.FusedMultiplyAdd(v0, d1, a01);
                            a10 = Float8.FusedMultiplyAdd(v1, d0, a10);
                            a11 = Float8.FusedMultiplyAdd(v1, d1, a11);
                            a20 = Float8.FusedMultiplyAdd(v2, d0, a20);
                            a21 = Float8.FusedMultiplyAdd(v2, d1, a21);
                            a30 = Float8.FusedMultiplyAdd(v3, d0, a30);
                            a31 = Float8.FusedMultiplyAdd(v3, d1, a31);
                            xi += xStep;
                            di += c.DyStride;
                        }
                    }
                    StoreBlock(dw, d, c.OutC, inputs, channels, a00, a01, a10, a11, a20, a21, a30, a31);
                }
            }
        }
    }
}
