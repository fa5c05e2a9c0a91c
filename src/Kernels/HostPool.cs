// HostPool: PoolVector's argmax pooling and its backward as host code with 512-bit vectors, for the CPU accelerator.
//   The same walk as PoolVector (a part of the work = whole output rows, windows scanned cell by cell in row-major order
//   keeping the first maximum and the first NaN; the backward writes every input cell once, dy where the switch names
//   the cell, else 0), 16 channels per vector instead of 8 and without the lanes' range checks. Window positions are
//   kept as integers and the switches compared as 64-bit integers, so no float conversion bounds the sizes; the values
//   written are the kernels' (no arithmetic, only selects).

using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Argmax max pooling and its backward as host code for the CPU accelerator (the same bits as PoolVector's kernels).</summary>
internal static unsafe class HostPool
{
    private const int Lanes = 16;

    /// <summary>y and argmax for the validated geometry (PoolVector.ForwardKernel's results).</summary>
    public static void Forward(CPUAccelerator cpu, ArrayView<float> input, ArrayView<float> output, ArrayView<long> argmax, WindowGeometry g, bool includeBatch)
    {
        nint xp = HostView.Address(input), yp = HostView.Address(output), ap = HostView.Address(argmax);
        HostParallel.For(cpu, (long)g.Batch * g.OutH, (begin, end) =>
        {
            for (long lane = begin; lane < end; lane++)
                ForwardRow(g, (float*)xp, (float*)yp, (long*)ap, (int)lane, includeBatch);
        });
    }

    /// <summary>dx for windows that do not overlap (KH &lt;= sH, KW &lt;= sW); writes every element of dx (PoolVector.BackwardKernel's results).</summary>
    public static void Backward(CPUAccelerator cpu, ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad, WindowGeometry g, bool includeBatch)
    {
        nint dp = HostView.Address(outputGrad), ap = HostView.Address(argmax), xp = HostView.Address(inputGrad);
        HostParallel.For(cpu, (long)g.Batch * g.OutH, (begin, end) =>
        {
            for (long lane = begin; lane < end; lane++)
                BackwardRow(g, (float*)dp, (long*)ap, (float*)xp, (int)lane, includeBatch);
        });
    }

    private static void ForwardRow(in WindowGeometry g, float* input, float* output, long* argmax, int lane, bool includeBatch)
    {
        int b = lane / g.OutH;
        int oy = lane - b * g.OutH;
        long rowLength = (long)g.InW * g.InC;
        long batchBase = (long)b * g.InH * rowLength;
        long indexBase = includeBatch ? batchBase : 0;
        int top = oy * g.StrideH - g.PadTop;
        int yBegin = Math.Max(top, 0);
        int rows = Math.Min(top + g.KH, g.InH) - yBegin;
        long o = (long)lane * g.OutW * g.OutC;
        var iota = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);
        for (int ox = 0; ox < g.OutW; ox++, o += g.OutC)
        {
            int left = ox * g.StrideW - g.PadLeft;
            int xBegin = Math.Max(left, 0);
            int columns = Math.Min(left + g.KW, g.InW) - xBegin;
            long first = ((long)yBegin * g.InW + xBegin) * g.InC;
            float* window = input + batchBase + first;
            long index = indexBase + first;
            int c0 = 0;
            for (; c0 + Lanes <= g.InC; c0 += Lanes)
            {
                float* start = window + c0;
                var best = Vector512.Load(start);
                var position = Vector512<int>.Zero;
                for (int y = 0; y < rows; y++)
                {
                    float* cell = start + y * rowLength;
                    int rel = y * g.InW;
                    for (int x = 0; x < columns; x++, cell += g.InC, rel++)
                    {
                        var value = Vector512.Load(cell);
                        // Above: not (value <= best), which also holds for a NaN value, and best is not NaN.
                        var above = Vector512.AndNot(Vector512.Equals(best, best), Vector512.LessThanOrEqual(value, best));
                        position = Vector512.ConditionalSelect(above.AsInt32(), Vector512.Create(rel), position);
                        best = Vector512.ConditionalSelect(above, value, best);
                    }
                }
                Vector512.Store(best, output + o + c0);
                // argmax = index of the first cell + position * C + channel.
                var (low, high) = Vector512.Widen(position);
                var origin = Vector512.Create(index + c0) + iota;
                Vector512.Store(origin + low * g.InC, argmax + o + c0);
                Vector512.Store(origin + Vector512.Create(8L) + high * g.InC, argmax + o + c0 + 8);
            }
            for (; c0 < g.InC; c0++)
            {
                float* start = window + c0;
                float best = *start;
                int position = 0;
                for (int y = 0; y < rows; y++)
                {
                    float* cell = start + y * rowLength;
                    int rel = y * g.InW;
                    for (int x = 0; x < columns; x++, cell += g.InC, rel++)
                    {
                        float value = *cell;
                        if (!(value <= best) && !float.IsNaN(best))
                        {
                            best = value;
                            position = rel;
                        }
                    }
                }
                output[o + c0] = best;
                argmax[o + c0] = index + c0 + (long)position * g.InC;
            }
        }
    }

    private static void BackwardRow(in WindowGeometry g, float* outputGrad, long* argmax, float* inputGrad, int lane, bool includeBatch)
    {
        int b = lane / g.OutH;
        int oy = lane - b * g.OutH;
        long rowLength = (long)g.InW * g.InC;
        long batchBase = (long)b * g.InH * rowLength;
        long indexBase = includeBatch ? batchBase : 0;
        int top = oy * g.StrideH - g.PadTop;
        int yBegin = Math.Max(top, 0);
        int rows = Math.Min(top + g.KH, g.InH) - yBegin;
        // The band of input rows this output row owns: from its window's top (row 0 for the first) to the next window's.
        int bandBegin = oy == 0 ? 0 : top;
        int bandEnd = oy == g.OutH - 1 ? g.InH : Math.Min(top + g.StrideH, g.InH);
        // Windows that tile the input leave no cell outside every window; otherwise the band starts from zeros and the
        // windows' cells are overwritten below (each is written once more, with dy or 0).
        bool tiled = g.KH == g.StrideH && g.KW == g.StrideW && g.PadTop == 0 && g.PadLeft == 0
                     && g.OutH * g.StrideH == g.InH && g.OutW * g.StrideW == g.InW;
        if (!tiled && bandEnd > bandBegin)
            new Span<float>(inputGrad + batchBase + bandBegin * rowLength, checked((int)((bandEnd - bandBegin) * rowLength))).Clear();
        long o = (long)lane * g.OutW * g.OutC;
        var iota = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);
        for (int ox = 0; ox < g.OutW; ox++, o += g.OutC)
        {
            int left = ox * g.StrideW - g.PadLeft;
            int xBegin = Math.Max(left, 0);
            int columns = Math.Min(left + g.KW, g.InW) - xBegin;
            long first = ((long)yBegin * g.InW + xBegin) * g.InC;
            float* window = inputGrad + batchBase + first;
            long index = indexBase + first;
            int c0 = 0;
            for (; c0 + Lanes <= g.InC; c0 += Lanes)
            {
                // The switches as offsets from the window's first cell in their own channel.
                var origin = Vector512.Create(index + c0) + iota;
                var relLow = Vector512.Load(argmax + o + c0) - origin;
                var relHigh = Vector512.Load(argmax + o + c0 + 8) - origin - Vector512.Create(8L);
                var grad = Vector512.Load(outputGrad + o + c0);
                for (int y = 0; y < rows; y++)
                {
                    float* cell = window + c0 + y * rowLength;
                    long offset = y * rowLength;
                    for (int x = 0; x < columns; x++, cell += g.InC, offset += g.InC)
                    {
                        var own = Vector512.Create(offset);
                        var named = Vector512.Narrow(Vector512.Equals(relLow, own), Vector512.Equals(relHigh, own)).AsSingle();
                        Vector512.Store(Vector512.ConditionalSelect(named, grad, Vector512<float>.Zero), cell);
                    }
                }
            }
            for (; c0 < g.InC; c0++)
            {
                long rel = argmax[o + c0] - (index + c0);
                float grad = outputGrad[o + c0];
                for (int y = 0; y < rows; y++)
                {
                    float* cell = window + c0 + y * rowLength;
                    long offset = y * rowLength;
                    for (int x = 0; x < columns; x++, cell += g.InC, offset += g.InC)
                        *cell = rel == offset ? grad : 0f;
                }
            }
        }
    }
}
