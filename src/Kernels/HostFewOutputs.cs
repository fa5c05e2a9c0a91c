// HostFewOutputs: the filter gradient of a convolution with few output channels (a classifier's last layer: the CIFAR
//   network's conv3, 64 -> 10) as host code for the CPU accelerator with 512-bit vectors.
//   HostConv's filter gradient runs its vectors along the output channels: ten of them fill ten lanes of sixteen, and a
//   block of eight input channels against one vector makes nine loads for eight multiply-adds. Here the vectors run along
//   the input channels instead (two vectors, 32 of them) and each of up to 12 output channels is a broadcast: per output
//   position, two loads of x and twelve of dy feed 24 multiply-adds. Each block is one tap (kh, kw) and walks only the
//   positions whose tap falls inside x, so the taps on SAME padding (36% of conv3's on its 6x6 maps) cost nothing.
//   Every dw element is one sum over the batch's positions in order (image, row, column), one rounding per term: the
//   result does not depend on the number of cores, but it is not the Vector kernels' sum order (they add position
//   slices), so it differs from them in rounding, within the reference tests' bound.

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>The filter gradient of convolutions with at most <see cref="OutputBlock"/> output channels, as host code.</summary>
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
                if (g.InC - ci0 >= InputBlock) TapBlock<TwoVectors>(g, (float*)xp, (float*)dp, tap, ci0, tile);
                else TapBlock<OneVector>(g, (float*)xp, (float*)dp, tap, ci0, tile);
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
    private static void TapBlock<TColumns>(in WindowGeometry g, float* x, float* dy, int tap, int ci0, Vector512<float>* tile)
        where TColumns : struct, IColumns
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

    // The first output index o >= 0 with o * stride + offset >= 0.
    private static int FirstInside(int offset, int stride) => offset >= 0 ? 0 : (-offset + stride - 1) / stride;

    private static void Require(ArrayView<float> view, long length, string what)
    {
        if (view.Length < length)
            throw new ArgumentException($"Conv2d (host, few outputs): {what} has {view.Length} elements; the geometry needs {length}.");
    }
}
