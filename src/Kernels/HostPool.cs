// HostPool: PoolVector's argmax pooling and its backward as host code with 512-bit vectors, for the CPU accelerator.
//   The same walk as PoolVector (a part of the work = whole output rows, windows scanned cell by cell in row-major order
//   keeping the first maximum and the first NaN; the backward writes every input cell once, dy where the switch names
//   the cell, else 0), 16 channels per vector instead of 8 and without the lanes' range checks. Window positions are
//   kept as integers and the switches compared as 64-bit integers (whole 2x2 windows of whole vectors, unrolled, as
//   32-bit offsets from the window's first cell, narrowed with saturation), so no float conversion bounds the sizes;
//   the values written are the kernels' (no arithmetic, only selects).

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
        bool streaming = HostMask.Streams(input.LengthInBytes + output.LengthInBytes + argmax.LengthInBytes);
        HostParallel.For(cpu, (long)g.Batch * g.OutH, (begin, end) =>
        {
            for (long lane = begin; lane < end; lane++)
                ForwardRow(g, (float*)xp, (float*)yp, (long*)ap, (int)lane, includeBatch, streaming);
            HostMask.EndStreaming(streaming);
        });
    }

    /// <summary>
    /// y = the first maximum of each window, the first NaN where the window holds one (MaxPool.ForwardKernel's values:
    /// MaxPoolWithArgmax.WindowArgmax's walk, the padded cells left out), any window and stride.
    /// </summary>
    public static void MaxPool(CPUAccelerator cpu, ArrayView<float> input, ArrayView<float> output, WindowGeometry g)
    {
        nint xp = HostView.Address(input), yp = HostView.Address(output);
        HostParallel.For(cpu, (long)g.Batch * g.OutH, (begin, end) =>
        {
            for (long row = begin; row < end; row++)
            {
                int b = (int)(row / g.OutH), oy = (int)(row % g.OutH);
                float* image = (float*)xp + (long)b * g.InH * g.InW * g.InC;
                int top = oy * g.StrideH - g.PadTop;
                int yBegin = Math.Max(top, 0), yEnd = Math.Min(top + g.KH, g.InH);
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int left = ox * g.StrideW - g.PadLeft;
                    int xBegin = Math.Max(left, 0), xEnd = Math.Min(left + g.KW, g.InW);
                    float* target = (float*)yp + (row * g.OutW + ox) * g.OutC;
                    float* first = image + ((long)yBegin * g.InW + xBegin) * g.InC;
                    for (int c = 0; c < g.InC; c += Lanes)
                    {
                        int count = Math.Min(Lanes, g.InC - c);
                        var mask = HostMask.Lanes(count);
                        var best = HostMask.Load(first + c, count, mask);
                        for (int y = yBegin; y < yEnd; y++)
                            for (int x = y == yBegin ? xBegin + 1 : xBegin; x < xEnd; x++)
                            {
                                var v = HostMask.Load(image + ((long)y * g.InW + x) * g.InC + c, count, mask);
                                // v > best, or v is the window's first NaN (NaN != NaN).
                                var take = Vector512.GreaterThan(v, best) | (~Vector512.Equals(v, v) & Vector512.Equals(best, best));
                                best = Vector512.ConditionalSelect(take, v, best);
                            }
                        HostMask.Store(target + c, best, count, mask);
                    }
                }
            }
        });
    }

    /// <summary>dx for windows that do not overlap (KH &lt;= sH, KW &lt;= sW); writes every element of dx (PoolVector.BackwardKernel's results).</summary>
    public static void Backward(CPUAccelerator cpu, ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad, WindowGeometry g, bool includeBatch)
    {
        nint dp = HostView.Address(outputGrad), ap = HostView.Address(argmax), xp = HostView.Address(inputGrad);
        bool streaming = HostMask.Streams(outputGrad.LengthInBytes + argmax.LengthInBytes + inputGrad.LengthInBytes);
        HostParallel.For(cpu, (long)g.Batch * g.OutH, (begin, end) =>
        {
            for (long lane = begin; lane < end; lane++)
                BackwardRow(g, (float*)dp, (long*)ap, (float*)xp, (int)lane, includeBatch, streaming);
            HostMask.EndStreaming(streaming);
        });
    }

    /// <summary>
    /// PoolVector.UnpoolGatherKernel's pass: every output cell gets the value whose switch names it within its own block, else 0;
    /// misses[row of values] = 1 where some switch named no cell of its block, and then status[1] = PoolVector.OutsideBlock.
    /// </summary>
    public static void UnpoolGather(CPUAccelerator cpu, ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output,
                                    ArrayView<int> status, ArrayView<int> misses, UnpoolRows u)
    {
        nint vp = HostView.Address(values), ap = HostView.Address(argmax), op = HostView.Address(output);
        nint sp = HostView.Address(status), mp = HostView.Address(misses);
        bool streaming = HostMask.Streams(values.LengthInBytes + argmax.LengthInBytes + output.LengthInBytes);
        HostParallel.For(cpu, (long)u.Batch * u.InH, (begin, end) =>
        {
            bool any = false;
            for (long lane = begin; lane < end; lane++)
            {
                bool miss = GatherRow(u, (float*)vp, (long*)ap, (float*)op, (int)lane, streaming);
                ((int*)mp)[lane] = miss ? 1 : 0;
                any |= miss;
            }
            HostMask.EndStreaming(streaming);
            // Every part that writes stores the same value.
            if (any) ((int*)sp)[1] = PoolVector.OutsideBlock;
        });
    }

    // One row (b, i) of values: writes its blocks of the output; true when a switch named no cell of its block.
    private static bool GatherRow(in UnpoolRows u, float* values, long* argmax, float* output, int lane, bool streaming)
    {
        int b = lane / u.InH;
        int i = lane - b * u.InH;
        long image = (long)u.OutH * u.OutW * u.Channels;
        // The index that names output cell (y, x, c) of this image is cellBase + (y*W + x)*C + c.
        long cellBase = u.IncludeBatch != 0 ? b * image : 0;
        long rowLength = (long)u.OutW * u.Channels;
        int yBegin = i * u.BlockH;
        int rows = Math.Max(Math.Min(yBegin + u.BlockH, u.OutH) - yBegin, 0);
        long e = (long)lane * u.InW * u.Channels;
        var iota = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);
        bool miss = false;
        bool quads = Quads(u.Channels, rowLength);
        for (int j = 0; j < u.InW; j++, e += u.Channels)
        {
            int xBegin = j * u.BlockW;
            int columns = Math.Max(Math.Min(xBegin + u.BlockW, u.OutW) - xBegin, 0);
            long block = yBegin * rowLength + (long)xBegin * u.Channels;
            float* first = output + b * image + block;
            if (quads && rows == 2 && columns == 2)
            {
                miss |= ScatterQuads(u.Channels, (int)rowLength, values + e, argmax + e, first, cellBase + block, streaming) != Vector512<int>.Zero;
                continue;
            }
            int c0 = 0;
            for (; c0 + Lanes <= u.Channels; c0 += Lanes)
            {
                var origin = Vector512.Create(cellBase + block + c0) + iota;
                var relLow = Vector512.Load(argmax + e + c0) - origin;
                var relHigh = Vector512.Load(argmax + e + c0 + 8) - origin - Vector512.Create(8L);
                var value = Vector512.Load(values + e + c0);
                var hits = Vector512<int>.Zero;
                for (int y = 0; y < rows; y++)
                {
                    float* cell = first + c0 + y * rowLength;
                    long offset = y * rowLength;
                    for (int x = 0; x < columns; x++, cell += u.Channels, offset += u.Channels)
                    {
                        var own = Vector512.Create(offset);
                        var named = Vector512.Narrow(Vector512.Equals(relLow, own), Vector512.Equals(relHigh, own));
                        HostMask.Store(cell, Vector512.ConditionalSelect(named.AsSingle(), value, Vector512<float>.Zero), Lanes, default, streaming);
                        hits |= named;
                    }
                }
                // A lane whose switch named none of the block's cells.
                miss |= !Vector512.EqualsAll(hits, Vector512<int>.AllBitsSet);
            }
            for (; c0 < u.Channels; c0++)
            {
                long rel = argmax[e + c0] - (cellBase + block + c0);
                float value = values[e + c0];
                bool hit = false;
                for (int y = 0; y < rows; y++)
                {
                    float* cell = first + c0 + y * rowLength;
                    long offset = y * rowLength;
                    for (int x = 0; x < columns; x++, cell += u.Channels, offset += u.Channels)
                    {
                        *cell = rel == offset ? value : 0f;
                        hit |= rel == offset;
                    }
                }
                miss |= !hit;
            }
        }
        return miss;
    }

    private static void ForwardRow(in WindowGeometry g, float* input, float* output, long* argmax, int lane, bool includeBatch, bool streaming)
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
        // Whole 2x2 windows of whole vectors (the tutorials' pools away from a clipped edge) take an unrolled walk that
        // keeps each switch as the cell's offset from the window's first in floats (so argmax needs no multiply).
        bool quads = rows == 2 && Quads(g.InC, rowLength);
        for (int ox = 0; ox < g.OutW; ox++, o += g.OutC)
        {
            int left = ox * g.StrideW - g.PadLeft;
            int xBegin = Math.Max(left, 0);
            int columns = Math.Min(left + g.KW, g.InW) - xBegin;
            long first = ((long)yBegin * g.InW + xBegin) * g.InC;
            float* window = input + batchBase + first;
            long index = indexBase + first;
            if (quads && columns == 2)
            {
                ForwardQuads(g.InC, (int)rowLength, window, output + o, argmax + o, index, streaming);
                continue;
            }
            for (int c0 = 0; c0 < g.InC; c0 += Lanes)
            {
                // The last group of fewer than 16 channels (all of LeNet's 6) through masked loads and stores.
                int count = Math.Min(Lanes, g.InC - c0);
                var mask = HostMask.Lanes(count);
                var (maskLow, maskHigh) = Vector512.Widen(mask.AsInt32());
                float* start = window + c0;
                var best = HostMask.Load(start, count, mask);
                var position = Vector512<int>.Zero;
                for (int y = 0; y < rows; y++)
                {
                    // The window's first cell is best already.
                    int x = y == 0 ? 1 : 0;
                    float* cell = start + y * rowLength + x * g.InC;
                    int rel = y * g.InW + x;
                    for (; x < columns; x++, cell += g.InC, rel++)
                    {
                        var value = HostMask.Load(cell, count, mask);
                        // Above: not (value <= best), which also holds for a NaN value, and best is not NaN.
                        var above = Vector512.AndNot(Vector512.Equals(best, best), Vector512.LessThanOrEqual(value, best));
                        position = Vector512.ConditionalSelect(above.AsInt32(), Vector512.Create(rel), position);
                        best = Vector512.ConditionalSelect(above, value, best);
                    }
                }
                HostMask.Store(output + o + c0, best, count, mask, streaming);
                // argmax = index of the first cell + position * C + channel.
                var (low, high) = Vector512.Widen(position);
                var origin = Vector512.Create(index + c0) + iota;
                HostMask.Store(argmax + o + c0, origin + low * g.InC, count, maskLow, streaming);
                if (count > 8)
                    HostMask.Store(argmax + o + c0 + 8, origin + Vector512.Create(8L) + high * g.InC, count - 8, maskHigh, streaming);
            }
        }
    }

    // The 2x2 windows' cells (0, 0), (0, 1), (1, 0), (1, 1) in that order, `channels` (a multiple of 16) at a time:
    // ForwardRow's comparisons and selects, with the switches kept as offsets in floats.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardQuads(int channels, int rowLength, float* window, float* output, long* argmax, long index, bool streaming)
    {
        var (right, below, diagonal, origin) = QuadStart(channels, rowLength, index);
        for (int c0 = 0; c0 < channels; c0 += Lanes, origin += Vector512.Create((long)Lanes))
        {
            float* cell = window + c0;
            var best = Vector512.Load(cell);
            var position = Vector512<int>.Zero;
            Take(ref best, ref position, Vector512.Load(cell + channels), right);
            Take(ref best, ref position, Vector512.Load(cell + rowLength), below);
            Take(ref best, ref position, Vector512.Load(cell + rowLength + channels), diagonal);
            HostMask.Store(output + c0, best, Lanes, default, streaming);
            var (low, high) = Vector512.Widen(position);
            HostMask.Store(argmax + c0, origin + low, 8, default, streaming);
            HostMask.Store(argmax + c0 + 8, origin + Vector512.Create(8L) + high, 8, default, streaming);
        }
    }

    // The backward pass and unpooling over a 2x2 window (or block) of whole vectors: each of its four cells gets the value
    // whose switch names it, else 0, written in ForwardQuads' order; the lanes whose switch named none of them come back
    // set. The switches become offsets from the window's first cell as 32-bit integers, saturated, so a switch outside
    // the window (however far) still names none of its cells (Quads keeps the offsets below int.MaxValue).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> ScatterQuads(int channels, int rowLength, float* values, long* argmax, float* window, long index, bool streaming)
    {
        var (right, below, diagonal, origin) = QuadStart(channels, rowLength, index);
        var missed = Vector512<int>.Zero;
        for (int c0 = 0; c0 < channels; c0 += Lanes, origin += Vector512.Create((long)Lanes))
        {
            var low = Avx512F.ConvertToVector256Int32WithSaturation(Vector512.Load(argmax + c0) - origin);
            var high = Avx512F.ConvertToVector256Int32WithSaturation(Vector512.Load(argmax + c0 + 8) - origin - Vector512.Create(8L));
            var rel = Vector512.Create(low, high);
            var value = Vector512.Load(values + c0);
            float* cell = window + c0;
            var first = Vector512.Equals(rel, Vector512<int>.Zero);
            var second = Vector512.Equals(rel, right);
            var third = Vector512.Equals(rel, below);
            var fourth = Vector512.Equals(rel, diagonal);
            HostMask.Store(cell, Vector512.ConditionalSelect(first.AsSingle(), value, Vector512<float>.Zero), Lanes, default, streaming);
            HostMask.Store(cell + channels, Vector512.ConditionalSelect(second.AsSingle(), value, Vector512<float>.Zero), Lanes, default, streaming);
            HostMask.Store(cell + rowLength, Vector512.ConditionalSelect(third.AsSingle(), value, Vector512<float>.Zero), Lanes, default, streaming);
            HostMask.Store(cell + rowLength + channels, Vector512.ConditionalSelect(fourth.AsSingle(), value, Vector512<float>.Zero), Lanes, default, streaming);
            missed |= ~(first | second | third | fourth);
        }
        return missed;
    }

    // A 2x2 window's other three cells as offsets in floats from its first, and the first 16 channels' flat indices.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<int> Right, Vector512<int> Below, Vector512<int> Diagonal, Vector512<long> Origin) QuadStart(int channels, int rowLength, long index) =>
        (Vector512.Create(channels), Vector512.Create(rowLength), Vector512.Create(rowLength + channels),
         Vector512.Create(index) + Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7));

    // Whether windows of this row length (floats) and channel count take the unrolled 2x2 walks.
    private static bool Quads(int channels, long rowLength) => channels % Lanes == 0 && rowLength + channels < int.MaxValue;

    // best, position = value, offset where value is above best (see ForwardRow).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(ref Vector512<float> best, ref Vector512<int> position, Vector512<float> value, Vector512<int> offset)
    {
        var above = Vector512.AndNot(Vector512.Equals(best, best), Vector512.LessThanOrEqual(value, best));
        position = Vector512.ConditionalSelect(above.AsInt32(), offset, position);
        best = Vector512.ConditionalSelect(above, value, best);
    }

    private static void BackwardRow(in WindowGeometry g, float* outputGrad, long* argmax, float* inputGrad, int lane, bool includeBatch, bool streaming)
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
        bool quads = rows == 2 && Quads(g.InC, rowLength);
        for (int ox = 0; ox < g.OutW; ox++, o += g.OutC)
        {
            int left = ox * g.StrideW - g.PadLeft;
            int xBegin = Math.Max(left, 0);
            int columns = Math.Min(left + g.KW, g.InW) - xBegin;
            long first = ((long)yBegin * g.InW + xBegin) * g.InC;
            float* window = inputGrad + batchBase + first;
            long index = indexBase + first;
            if (quads && columns == 2)
            {
                ScatterQuads(g.InC, (int)rowLength, outputGrad + o, argmax + o, window, index, streaming);
                continue;
            }
            for (int c0 = 0; c0 < g.InC; c0 += Lanes)
            {
                int count = Math.Min(Lanes, g.InC - c0);
                var mask = HostMask.Lanes(count);
                var (maskLow, maskHigh) = Vector512.Widen(mask.AsInt32());
                // The switches as offsets from the window's first cell in their own channel.
                var origin = Vector512.Create(index + c0) + iota;
                var relLow = HostMask.Load(argmax + o + c0, count, maskLow) - origin;
                var relHigh = count > 8 ? HostMask.Load(argmax + o + c0 + 8, count - 8, maskHigh) - origin - Vector512.Create(8L) : Vector512.Create(-1L);
                var grad = HostMask.Load(outputGrad + o + c0, count, mask);
                for (int y = 0; y < rows; y++)
                {
                    float* cell = window + c0 + y * rowLength;
                    long offset = y * rowLength;
                    for (int x = 0; x < columns; x++, cell += g.InC, offset += g.InC)
                    {
                        var own = Vector512.Create(offset);
                        var named = Vector512.Narrow(Vector512.Equals(relLow, own), Vector512.Equals(relHigh, own)).AsSingle();
                        HostMask.Store(cell, Vector512.ConditionalSelect(named, grad, Vector512<float>.Zero), count, mask, streaming);
                    }
                }
            }
        }
    }
}
