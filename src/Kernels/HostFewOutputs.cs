// HostFewOutputs: a convolution with few output channels (a classifier's last layer: the CIFAR network's
//   conv3, 64 -> 10) as host code for the CPU accelerator with 512-bit vectors.
//   HostConv runs its vectors along the output channels of what it computes: y's and dw's ten output channels fill ten
//   lanes of sixteen, and its filter-gradient blocks make nine loads per eight multiply-adds; its forward pass and input
//   gradient multiply every tap of a zero-bordered copy, 36% of them zeros on conv3's 6x6 maps (5x5 SAME).
//   - Forward: a block is one output position of four images, whose taps fall inside x at the same places, and five
//     output channels (conv3's ten in two passes): vectors along 16 input channels, one accumulator per (image, output
//     channel), four x loads and five filter loads per 20 multiply-adds; each output adds its accumulator's 16 lanes
//     at the end. Measured here (AMD EPYC, 2 cores), the loads bound this block: two images by every output channel
//     (twelve loads per 20 multiply-adds) ran 10-15% slower on conv3.
//   - Filter gradient: vectors along 32 input channels, a broadcast per output channel (up to 12: 24 accumulators), per
//     output position two loads of x and twelve of dy for 24 multiply-adds. A block is one tap (kh, kw) and walks only
//     the positions whose tap falls inside x. Every dw element is one sum over the batch's positions in order (image,
//     row, column).
//   - Input gradient (stride 1): a block is one dx position of six images, whose taps fall inside dy at the same
//     places, and 64 dx channels: per (tap, dy channel) term four filter loads and six broadcasts feed 24 multiply-adds,
//     and taps outside dy are never visited. Every dx element sums its taps in order (kh, kw), each tap's dy channels
//     in order.
//   One rounding per term; the results do not depend on the number of cores, but the sum orders are not the Vector
//   kernels' (they add position slices, and multiply the zero border), so they differ from them in rounding, within
//   the reference tests' bound.

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Convolutions with at most <see cref="OutputBlock"/> output channels and their gradients, as host code.</summary>
/// <remarks>Stack buffers are not zeroed (SkipLocalsInit): every one is written before it is read.</remarks>
[SkipLocalsInit]
internal static unsafe class HostFewOutputs
{
    /// <summary>Output channels per block: dy's rows are copied with this stride (zeros after OutC).</summary>
    public const int OutputBlock = 12;

    private const int Lanes = 16;
    private const int InputBlock = 2 * Lanes;

    /// <summary>
    /// Whether Auto takes it for the filter gradient: at most <see cref="OutputBlock"/> output channels, input channels in
    /// whole vectors (at least two). Measured here (2 cores): conv3's (128 x 6x6, 64 -> 10, 5x5 SAME) ran in about half
    /// the time of the Winograd and direct routes.
    /// </summary>
    public static bool Takes(WindowGeometry g) => g.OutC <= OutputBlock && g.InC >= InputBlock && g.InC % Lanes == 0;

    /// <summary>
    /// dw = the filter gradient of x and dy; overwrites dw. <paramref name="dy"/> has <see cref="OutputBlock"/> floats per
    /// position (OutC values, then zeros).
    /// </summary>
    public static void FilterGradient(CPUAccelerator cpu, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g)
    {
        Require(x, (long)g.Batch * g.InH * g.InW * g.InC, "the input");
        Require(dy, (long)g.Batch * g.OutH * g.OutW * OutputBlock, "the output gradient copy");
        Require(dw, (long)g.KH * g.KW * g.InC * g.OutC, "the filter gradient");
        nint xp = HostView.Address(x), dp = HostView.Address(dy), wp = HostView.Address(dw);
        int inputBlocks = (g.InC + InputBlock - 1) / InputBlock;
        HostParallel.For(cpu, (long)g.KH * g.KW * inputBlocks, (begin, end) =>
        {
            var tile = stackalloc Vector512<float>[2 * OutputBlock];
            for (long item = begin; item < end; item++)
            {
                int tap = (int)(item / inputBlocks);
                int ci0 = (int)(item % inputBlocks) * InputBlock;
                bool two = g.InC - ci0 >= InputBlock;
                if (g.OutC > TenRows.Count)
                {
                    if (two) TapBlock<TwoVectors, TwelveRows>(g, (float*)xp, (float*)dp, tap, ci0, tile);
                    else TapBlock<OneVector, TwelveRows>(g, (float*)xp, (float*)dp, tap, ci0, tile);
                }
                else if (two) TapBlock<TwoVectors, TenRows>(g, (float*)xp, (float*)dp, tap, ci0, tile);
                else TapBlock<OneVector, TenRows>(g, (float*)xp, (float*)dp, tap, ci0, tile);
                // dw[kh, kw, ci, co] (HWIO): lane l of vector (co, v) is input channel ci0 + 16 v + l.
                float* target = (float*)wp + ((long)tap * g.InC + ci0) * g.OutC;
                float* values = (float*)tile;
                int channels = Math.Min(InputBlock, g.InC - ci0);
                for (int ci = 0; ci < channels; ci++)
                    for (int co = 0; co < g.OutC; co++)
                        target[ci * g.OutC + co] = values[(2 * co + ci / Lanes) * Lanes + ci % Lanes];
            }
        });
    }

    // One tap's sums for input channels ci0 .. ci0 + 31 (or 15) and every output channel, into tile[2 co + v].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TapBlock<TColumns, TOutputs>(in WindowGeometry g, float* x, float* dy, int tap, int ci0, Vector512<float>* tile)
        where TColumns : struct, IColumns where TOutputs : struct, IRows
    {
        int kh = tap / g.KW, kw = tap % g.KW;
        // Output rows and columns whose tap (kh, kw) falls inside x.
        int rowOffset = kh * g.DilationH - g.PadTop, columnOffset = kw * g.DilationW - g.PadLeft;
        int oyBegin = FirstInside(rowOffset, g.StrideH), oyEnd = Math.Max(oyBegin, Math.Min(g.OutH, FirstInside(rowOffset - g.InH, g.StrideH)));
        int oxBegin = FirstInside(columnOffset, g.StrideW), oxEnd = Math.Max(oxBegin, Math.Min(g.OutW, FirstInside(columnOffset - g.InW, g.StrideW)));
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default,
            b6 = default, b7 = default, b8 = default, b9 = default, b10 = default, b11 = default;
        nint xStep = (nint)g.StrideW * g.InC;
        for (int b = 0; b < g.Batch; b++)
            for (int oy = oyBegin; oy < oyEnd; oy++)
            {
                float* xs = x + (((nint)b * g.InH + oy * g.StrideH + rowOffset) * g.InW + oxBegin * g.StrideW + columnOffset) * g.InC + ci0;
                float* d = dy + (((nint)b * g.OutH + oy) * g.OutW + oxBegin) * OutputBlock;
                float* dEnd = d + (nint)(oxEnd - oxBegin) * OutputBlock;
                for (; d < dEnd; d += OutputBlock, xs += xStep)
                {
                    var x0 = Vector512.Load(xs);
                    var x1 = TColumns.Two ? Vector512.Load(xs + Lanes) : default;
                    var v = Vector512.Create(d[0]);
                    a0 = Vector512.FusedMultiplyAdd(v, x0, a0);
                    if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v, x1, b0);
                    v = Vector512.Create(d[1]);
                    a1 = Vector512.FusedMultiplyAdd(v, x0, a1);
                    if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v, x1, b1);
                    v = Vector512.Create(d[2]);
                    a2 = Vector512.FusedMultiplyAdd(v, x0, a2);
                    if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v, x1, b2);
                    v = Vector512.Create(d[3]);
                    a3 = Vector512.FusedMultiplyAdd(v, x0, a3);
                    if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v, x1, b3);
                    v = Vector512.Create(d[4]);
                    a4 = Vector512.FusedMultiplyAdd(v, x0, a4);
                    if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, x1, b4);
                    v = Vector512.Create(d[5]);
                    a5 = Vector512.FusedMultiplyAdd(v, x0, a5);
                    if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, x1, b5);
                    v = Vector512.Create(d[6]);
                    a6 = Vector512.FusedMultiplyAdd(v, x0, a6);
                    if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, x1, b6);
                    v = Vector512.Create(d[7]);
                    a7 = Vector512.FusedMultiplyAdd(v, x0, a7);
                    if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, x1, b7);
                    v = Vector512.Create(d[8]);
                    a8 = Vector512.FusedMultiplyAdd(v, x0, a8);
                    if (TColumns.Two) b8 = Vector512.FusedMultiplyAdd(v, x1, b8);
                    v = Vector512.Create(d[9]);
                    a9 = Vector512.FusedMultiplyAdd(v, x0, a9);
                    if (TColumns.Two) b9 = Vector512.FusedMultiplyAdd(v, x1, b9);
                    if (TOutputs.Count <= 10) continue;
                    v = Vector512.Create(d[10]);
                    a10 = Vector512.FusedMultiplyAdd(v, x0, a10);
                    if (TColumns.Two) b10 = Vector512.FusedMultiplyAdd(v, x1, b10);
                    v = Vector512.Create(d[11]);
                    a11 = Vector512.FusedMultiplyAdd(v, x0, a11);
                    if (TColumns.Two) b11 = Vector512.FusedMultiplyAdd(v, x1, b11);
                }
            }
        tile[0] = a0; tile[1] = b0; tile[2] = a1; tile[3] = b1; tile[4] = a2; tile[5] = b2;
        tile[6] = a3; tile[7] = b3; tile[8] = a4; tile[9] = b4; tile[10] = a5; tile[11] = b5;
        tile[12] = a6; tile[13] = b6; tile[14] = a7; tile[15] = b7; tile[16] = a8; tile[17] = b8;
        tile[18] = a9; tile[19] = b9; tile[20] = a10; tile[21] = b10; tile[22] = a11; tile[23] = b11;
    }

    /// <summary>
    /// Whether Auto takes it for the input gradient: stride 1, at most <see cref="OutputBlock"/> dy channels, dx channels in
    /// whole vectors (at least two). Measured here (2 cores): conv3's (128 x 6x6, 64 -> 10, 5x5 SAME) ran in about
    /// two thirds of the Winograd route's time.
    /// </summary>
    public static bool TakesBackwardInput(WindowGeometry g) =>
        g.StrideH == 1 && g.StrideW == 1 && g.OutC <= OutputBlock && g.InC >= InputBlock && g.InC % Lanes == 0;

    /// <summary>
    /// dx = the input gradient of dy through w (stride 1); overwrites dx. <paramref name="taps"/> is w with each tap's
    /// matrix transposed: taps[(kh * KW + kw) * OutC + co][ci] = w[kh, kw, ci, co]. A block is one dx position of
    /// <see cref="ImageBlock"/> images (the same taps fall inside dy for each) and 64 dx channels: per (tap, dy channel)
    /// term, four filter loads and six broadcasts feed 24 multiply-adds, and the taps that fall outside dy (SAME padding)
    /// are never visited. Each dx element sums its taps in order (kh, kw), each tap's dy channels in order.
    /// </summary>
    public static void BackwardInput(CPUAccelerator cpu, ArrayView<float> dy, ArrayView<float> taps, ArrayView<float> dx, WindowGeometry g)
    {
        Require(dy, (long)g.Batch * g.OutH * g.OutW * g.OutC, "the output gradient");
        Require(taps, (long)g.KH * g.KW * g.OutC * g.InC, "the transposed filter");
        Require(dx, (long)g.Batch * g.InH * g.InW * g.InC, "the input gradient");
        nint dp = HostView.Address(dy), tp = HostView.Address(taps), xp = HostView.Address(dx);
        int channelBlocks = (g.InC + WideBlock - 1) / WideBlock;
        int imageBlocks = (g.Batch + ImageBlock - 1) / ImageBlock;
        long positions = (long)g.InH * g.InW;
        HostParallel.For(cpu, positions * imageBlocks * channelBlocks, (begin, end) =>
        {
            var tile = stackalloc Vector512<float>[4 * ImageBlock];
            for (long item = begin; item < end; item++)
            {
                long rest = item / channelBlocks;
                int position = (int)(rest % positions);
                int n0 = (int)(rest / positions) * ImageBlock;
                int images = Math.Min(ImageBlock, g.Batch - n0);
                // The item's 64 channels as four vectors; a rest of fewer as two, then one.
                int ci0 = (int)(item % channelBlocks) * WideBlock, cEnd = Math.Min(g.InC, ci0 + WideBlock);
                for (int c0 = ci0, vectors; c0 < cEnd; c0 += vectors * Lanes)
                {
                    int left = (cEnd - c0) / Lanes;
                    vectors = left >= 4 ? 4 : left >= 2 ? 2 : 1;
                    if (vectors == 4) ImageBlockSums<FourVectors>(g, (float*)dp, (float*)tp, position, n0, c0, tile);
                    else if (vectors == 2) ImageBlockSums<TwoVectorsWide>(g, (float*)dp, (float*)tp, position, n0, c0, tile);
                    else ImageBlockSums<OneVectorWide>(g, (float*)dp, (float*)tp, position, n0, c0, tile);
                    for (int i = 0; i < images; i++)
                    {
                        float* target = (float*)xp + ((long)(n0 + i) * positions + position) * g.InC + c0;
                        for (int v = 0; v < vectors; v++) Vector512.Store(tile[4 * i + v], target + v * Lanes);
                    }
                }
            }
        });
    }

    /// <summary>
    /// w[kh, kw, ci, co] to taps[(kh * KW + kw) * rows + co][ci], zeros for co from OutC to <paramref name="rows"/>: the
    /// filter of <see cref="BackwardInput"/> (rows = OutC) and of <see cref="Forward"/> (rows = <see cref="ForwardRows"/>).
    /// </summary>
    public static void TransposeTaps(ArrayView<float> w, ArrayView<float> taps, WindowGeometry g, int rows)
    {
        Require(w, (long)g.KH * g.KW * g.InC * g.OutC, "the filter");
        Require(taps, (long)g.KH * g.KW * rows * g.InC, "the transposed filter");
        float* source = (float*)HostView.Address(w), target = (float*)HostView.Address(taps);
        for (int tap = 0; tap < g.KH * g.KW; tap++, source += g.InC * g.OutC, target += rows * g.InC)
        {
            new Span<float>(target + g.OutC * g.InC, (rows - g.OutC) * g.InC).Clear();
            for (int ci = 0; ci < g.InC; ci++)
                for (int co = 0; co < g.OutC; co++)
                    target[co * g.InC + ci] = source[ci * g.OutC + co];
        }
    }

    /// <summary>Images per input-gradient block.</summary>
    public const int ImageBlock = 6;
    private const int WideBlock = 4 * Lanes;

    // dx channels ci0 .. ci0 + 16 * Vectors of position `position` of images n0 .. n0 + 5 (past the batch: the last
    // image again, computed, not stored), into tile[4 i + v].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ImageBlockSums<TWidth>(in WindowGeometry g, float* dy, float* taps, int position, int n0, int ci0, Vector512<float>* tile)
        where TWidth : struct, IWidth
    {
        int iy = position / g.InW, ix = position % g.InW;
        nint image = (nint)g.OutH * g.OutW * g.OutC;
        // Images past the batch read the last one (their sums are not stored).
        nint last = g.Batch - 1 - n0;
        nint step1 = Math.Min(1, last) * image, step2 = Math.Min(2, last) * image, step3 = Math.Min(3, last) * image;
        nint step4 = Math.Min(4, last) * image, step5 = Math.Min(5, last) * image;
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        Vector512<float> a02 = default, a03 = default, a12 = default, a13 = default, a22 = default, a23 = default, a32 = default, a33 = default, a42 = default, a43 = default, a52 = default, a53 = default;
        for (int kh = 0; kh < g.KH; kh++)
        {
            // dx[iy] gathers dy[oy] through tap kh where oy = iy + PadTop - kh * DilationH.
            int oy = iy + g.PadTop - kh * g.DilationH;
            if ((uint)oy >= (uint)g.OutH) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ox = ix + g.PadLeft - kw * g.DilationW;
                if ((uint)ox >= (uint)g.OutW) continue;
                float* d0 = dy + (((nint)n0 * g.OutH + oy) * g.OutW + ox) * g.OutC;
                float* w = taps + ((nint)(kh * g.KW + kw) * g.OutC) * g.InC + ci0;
                for (int co = 0; co < g.OutC; co++, w += g.InC)
                {
                    var w0 = Vector512.Load(w);
                    var w1 = TWidth.Vectors >= 2 ? Vector512.Load(w + Lanes) : default;
                    var w2 = TWidth.Vectors == 4 ? Vector512.Load(w + 2 * Lanes) : default;
                    var w3 = TWidth.Vectors == 4 ? Vector512.Load(w + 3 * Lanes) : default;
                    var v = Vector512.Create(d0[co]);
                    a00 = Vector512.FusedMultiplyAdd(v, w0, a00);
                    if (TWidth.Vectors >= 2) a01 = Vector512.FusedMultiplyAdd(v, w1, a01);
                    if (TWidth.Vectors == 4) a02 = Vector512.FusedMultiplyAdd(v, w2, a02);
                    if (TWidth.Vectors == 4) a03 = Vector512.FusedMultiplyAdd(v, w3, a03);
                    v = Vector512.Create(d0[step1 + co]);
                    a10 = Vector512.FusedMultiplyAdd(v, w0, a10);
                    if (TWidth.Vectors >= 2) a11 = Vector512.FusedMultiplyAdd(v, w1, a11);
                    if (TWidth.Vectors == 4) a12 = Vector512.FusedMultiplyAdd(v, w2, a12);
                    if (TWidth.Vectors == 4) a13 = Vector512.FusedMultiplyAdd(v, w3, a13);
                    v = Vector512.Create(d0[step2 + co]);
                    a20 = Vector512.FusedMultiplyAdd(v, w0, a20);
                    if (TWidth.Vectors >= 2) a21 = Vector512.FusedMultiplyAdd(v, w1, a21);
                    if (TWidth.Vectors == 4) a22 = Vector512.FusedMultiplyAdd(v, w2, a22);
                    if (TWidth.Vectors == 4) a23 = Vector512.FusedMultiplyAdd(v, w3, a23);
                    v = Vector512.Create(d0[step3 + co]);
                    a30 = Vector512.FusedMultiplyAdd(v, w0, a30);
                    if (TWidth.Vectors >= 2) a31 = Vector512.FusedMultiplyAdd(v, w1, a31);
                    if (TWidth.Vectors == 4) a32 = Vector512.FusedMultiplyAdd(v, w2, a32);
                    if (TWidth.Vectors == 4) a33 = Vector512.FusedMultiplyAdd(v, w3, a33);
                    v = Vector512.Create(d0[step4 + co]);
                    a40 = Vector512.FusedMultiplyAdd(v, w0, a40);
                    if (TWidth.Vectors >= 2) a41 = Vector512.FusedMultiplyAdd(v, w1, a41);
                    if (TWidth.Vectors == 4) a42 = Vector512.FusedMultiplyAdd(v, w2, a42);
                    if (TWidth.Vectors == 4) a43 = Vector512.FusedMultiplyAdd(v, w3, a43);
                    v = Vector512.Create(d0[step5 + co]);
                    a50 = Vector512.FusedMultiplyAdd(v, w0, a50);
                    if (TWidth.Vectors >= 2) a51 = Vector512.FusedMultiplyAdd(v, w1, a51);
                    if (TWidth.Vectors == 4) a52 = Vector512.FusedMultiplyAdd(v, w2, a52);
                    if (TWidth.Vectors == 4) a53 = Vector512.FusedMultiplyAdd(v, w3, a53);
                }
            }
        }
        tile[0] = a00; tile[1] = a01; tile[2] = a02; tile[3] = a03;
        tile[4] = a10; tile[5] = a11; tile[6] = a12; tile[7] = a13;
        tile[8] = a20; tile[9] = a21; tile[10] = a22; tile[11] = a23;
        tile[12] = a30; tile[13] = a31; tile[14] = a32; tile[15] = a33;
        tile[16] = a40; tile[17] = a41; tile[18] = a42; tile[19] = a43;
        tile[20] = a50; tile[21] = a51; tile[22] = a52; tile[23] = a53;
    }

    private interface IWidth
    {
        static abstract int Vectors { get; }
    }

    private struct OneVectorWide : IWidth
    {
        public static int Vectors => 1;
    }

    private struct TwoVectorsWide : IWidth
    {
        public static int Vectors => 2;
    }

    private struct FourVectors : IWidth
    {
        public static int Vectors => 4;
    }

    /// <summary>
    /// Whether Auto takes it for the forward pass: at most <see cref="OutputBlock"/> output channels, input channels in
    /// whole vectors (at least two). Measured here (2 cores): conv3's (128 x 6x6, 64 -> 10, 5x5 SAME) forward pass ran
    /// in about three quarters of the Winograd route's time.
    /// </summary>
    public static bool TakesForward(WindowGeometry g) => Takes(g);

    /// <summary>Rows of the forward pass's transposed filter: output channels padded to whole passes of <see cref="PassOutputs"/>.</summary>
    public const int ForwardRows = (OutputBlock + PassOutputs - 1) / PassOutputs * PassOutputs;

    private const int PassOutputs = 5;
    private const int ForwardImages = 4;

    /// <summary>
    /// y = conv2d(x, w) (+ bias). <paramref name="taps"/> is w with each tap's matrix transposed and padded to
    /// <see cref="ForwardRows"/> rows: taps[(kh * KW + kw) * ForwardRows + co][ci] = w[kh, kw, ci, co], zeros for co past
    /// OutC. A block is one output position of four images (the same taps fall inside x for each) and five output
    /// channels: the vectors run along 16 input channels (four x loads and five filter loads feed 20 multiply-adds) and
    /// each output is one vector's lanes added at the end, so the taps outside x (SAME padding) are never visited. Each
    /// output sums its taps in order (kh, kw), within a tap its input channels as 16 lane-wise partial sums, then the lanes.
    /// </summary>
    public static void Forward(CPUAccelerator cpu, ArrayView<float> x, ArrayView<float> taps, ArrayView<float>? bias, ArrayView<float> y, WindowGeometry g)
    {
        Require(x, (long)g.Batch * g.InH * g.InW * g.InC, "the input");
        Require(taps, (long)g.KH * g.KW * ForwardRows * g.InC, "the transposed filter");
        Require(y, (long)g.Batch * g.OutH * g.OutW * g.OutC, "the output");
        if (bias is { } b) Require(b, g.OutC, "the bias");
        nint xp = HostView.Address(x), tp = HostView.Address(taps), yp = HostView.Address(y), bp = bias is { } bv ? HostView.Address(bv) : 0;
        long positions = (long)g.OutH * g.OutW;
        int imageBlocks = (g.Batch + ForwardImages - 1) / ForwardImages;
        int passes = (g.OutC + PassOutputs - 1) / PassOutputs;
        HostParallel.For(cpu, positions * imageBlocks * passes, (begin, end) =>
        {
            var tile = stackalloc Vector512<float>[ForwardImages * PassOutputs];
            for (long item = begin; item < end; item++)
            {
                // The passes of one block follow one another: they read the same x.
                int c0 = (int)(item % passes) * PassOutputs;
                long rest = item / passes;
                int position = (int)(rest % positions);
                int n0 = (int)(rest / positions) * ForwardImages;
                ImageBlockPassSums(g, (float*)xp, (float*)tp, position, n0, c0, tile);
                int outputs = Math.Min(PassOutputs, g.OutC - c0);
                for (int i = 0; i < Math.Min(ForwardImages, g.Batch - n0); i++)
                {
                    float* target = (float*)yp + ((n0 + i) * positions + position) * g.OutC + c0;
                    for (int r = 0; r < outputs; r++)
                    {
                        float sum = Vector512.Sum(tile[i * PassOutputs + r]);
                        target[r] = bp != 0 ? sum + ((float*)bp)[c0 + r] : sum;
                    }
                }
            }
        });
    }

    // The 16-lane partial sums of output channels c0 .. c0 + 4 at output position `position` of images n0 .. n0 + 3
    // (past the batch: the last image again, computed, not stored), into tile[5 i + r].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ImageBlockPassSums(in WindowGeometry g, float* x, float* taps, int position, int n0, int c0, Vector512<float>* tile)
    {
        int oy = position / g.OutW, ox = position % g.OutW;
        nint image = (nint)g.InH * g.InW * g.InC;
        nint last = g.Batch - 1 - n0;
        nint step1 = Math.Min(1, last) * image, step2 = Math.Min(2, last) * image, step3 = Math.Min(3, last) * image;
        nint stride = g.InC;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default;
        for (int kh = 0; kh < g.KH; kh++)
        {
            int iy = oy * g.StrideH + kh * g.DilationH - g.PadTop;
            if ((uint)iy >= (uint)g.InH) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ix = ox * g.StrideW + kw * g.DilationW - g.PadLeft;
                if ((uint)ix >= (uint)g.InW) continue;
                float* xs = x + (((nint)n0 * g.InH + iy) * g.InW + ix) * g.InC;
                float* wr = taps + ((nint)(kh * g.KW + kw) * ForwardRows + c0) * g.InC;
                for (float* xEnd = xs + g.InC; xs < xEnd; xs += Lanes, wr += Lanes)
                {
                    var x0 = Vector512.Load(xs);
                    var x1 = Vector512.Load(xs + step1);
                    var x2 = Vector512.Load(xs + step2);
                    var x3 = Vector512.Load(xs + step3);
                    var w = Vector512.Load(wr);
                    a00 = Vector512.FusedMultiplyAdd(x0, w, a00);
                    a10 = Vector512.FusedMultiplyAdd(x1, w, a10);
                    a20 = Vector512.FusedMultiplyAdd(x2, w, a20);
                    a30 = Vector512.FusedMultiplyAdd(x3, w, a30);
                    w = Vector512.Load(wr + 1 * stride);
                    a01 = Vector512.FusedMultiplyAdd(x0, w, a01);
                    a11 = Vector512.FusedMultiplyAdd(x1, w, a11);
                    a21 = Vector512.FusedMultiplyAdd(x2, w, a21);
                    a31 = Vector512.FusedMultiplyAdd(x3, w, a31);
                    w = Vector512.Load(wr + 2 * stride);
                    a02 = Vector512.FusedMultiplyAdd(x0, w, a02);
                    a12 = Vector512.FusedMultiplyAdd(x1, w, a12);
                    a22 = Vector512.FusedMultiplyAdd(x2, w, a22);
                    a32 = Vector512.FusedMultiplyAdd(x3, w, a32);
                    w = Vector512.Load(wr + 3 * stride);
                    a03 = Vector512.FusedMultiplyAdd(x0, w, a03);
                    a13 = Vector512.FusedMultiplyAdd(x1, w, a13);
                    a23 = Vector512.FusedMultiplyAdd(x2, w, a23);
                    a33 = Vector512.FusedMultiplyAdd(x3, w, a33);
                    w = Vector512.Load(wr + 4 * stride);
                    a04 = Vector512.FusedMultiplyAdd(x0, w, a04);
                    a14 = Vector512.FusedMultiplyAdd(x1, w, a14);
                    a24 = Vector512.FusedMultiplyAdd(x2, w, a24);
                    a34 = Vector512.FusedMultiplyAdd(x3, w, a34);
                }
            }
        }
        tile[0] = a00; tile[1] = a01; tile[2] = a02; tile[3] = a03; tile[4] = a04;
        tile[5] = a10; tile[6] = a11; tile[7] = a12; tile[8] = a13; tile[9] = a14;
        tile[10] = a20; tile[11] = a21; tile[12] = a22; tile[13] = a23; tile[14] = a24;
        tile[15] = a30; tile[16] = a31; tile[17] = a32; tile[18] = a33; tile[19] = a34;
    }

    // The first output index o >= 0 with o * stride + offset >= 0.
    private static int FirstInside(int offset, int stride) => offset >= 0 ? 0 : (-offset + stride - 1) / stride;

    private static void Require(ArrayView<float> view, long length, string what)
    {
        if (view.Length < length)
            throw new ArgumentException($"Conv2d (host, few outputs): {what} has {view.Length} elements; the geometry needs {length}.");
    }
}
