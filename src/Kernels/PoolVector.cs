// PoolVector: max pooling with argmax, its backward and unpooling, shaped for devices that run on the host CPU (the CPU
// accelerator, pocl). Same ops and bit-identical results as MaxPoolWithArgmax.cs and Unpool.cs, whose headers define
// the semantics (ties, NaN, argmax formula, padding); those files pick these kernels when Device.RunsHostKernels.
//   The GPU kernels run one lane per element and decode (b, y, x, c) from the lane id with four divisions. A CPU runs
//   the lanes of a group one after another, so those divisions (tens of cycles each, by a run-time divisor) dominate.
//   Here a lane owns a whole row: it decodes its row once and walks pixels and channels with running offsets.
//   Forward        x: [N, H, W, C] -> y, argmax: [N, OH, OW, C]. Lane = (b, oy). For each output pixel and block of 8
//                  channels it scans the window's real cells in row-major order with Float8.SelectIfAbove (the first
//                  maximum, the first NaN) and carries, per channel, the winning cell's position in the window as a float
//                  rel = dy*W + dx (exact: below KH*W, which the caller keeps under 2^24). The argmax is then
//                  first + rel*C + c, with first the window's first real cell (Float8.StoreIndices converts all eight
//                  at once): no division anywhere. Whole 2x2 windows are unrolled.
//   Backward       (windows that do not overlap, KH <= sH and KW <= sW) dx: [N, H, W, C]. Lane = (b, oy) output row and
//                  the band of input rows down to the next window. Each cell lies in at most one window; per window and
//                  8 channels the lane reads the switches once (Float8.LoadOffsets: float offsets within the window,
//                  exact below 2^24) and writes every cell of the window with dy or 0 by Float8 selects; cells in no
//                  window get 0 (a scan skipped when the windows tile the input). Every dx element is written once, so
//                  no zero-fill pass; the values equal the scatter's (one term per cell).
//   Unpool         values, argmax: [N, h, w, C] -> output [N, H, W, C]. Lane = (b, i) row of values. A gather: the
//                  lane owns the blocks of its row of values (rows i*bh .. (i+1)*bh - 1, columns j*bw .. (j+1)*bw - 1,
//                  bh = ceil(H/h), bw = ceil(W/w); they cover every cell once) and writes every cell of them, the value
//                  whose switch names the cell or 0, as the backward writes dx: no zero-fill pass, no scattered stores.
//                  If every switch names a cell of its own block (own image and channel), no two elements share a
//                  target and this is the scatter's sum. Pooling switches with stride >= size and no top/left padding
//                  satisfy this (the tutorial's 2x2 SAME pools, odd sizes included). A switch that names no cell of its
//                  block (out of range, duplicates, other layouts) flags its lane. Validate then reruns Unpool.cs's
//                  general path, which also reports bad indices; TrustedUnique (unique targets promised) stores the
//                  flagged lanes' in-range values in a second pass, without synchronising.

using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Sizes of the host unpooling kernel, passed by value.</summary>
internal struct UnpoolRows
{
    /// <summary>Images (N).</summary>
    public int Batch;
    /// <summary>Rows of values (h).</summary>
    public int InH;
    /// <summary>Columns of values (w).</summary>
    public int InW;
    /// <summary>Channels (C).</summary>
    public int Channels;
    /// <summary>Rows of the output (H).</summary>
    public int OutH;
    /// <summary>Columns of the output (W).</summary>
    public int OutW;
    /// <summary>Output rows per block (Validate's gather): ceil(H / h).</summary>
    public int BlockH;
    /// <summary>Output columns per block: ceil(W / w).</summary>
    public int BlockW;
    /// <summary>1 when indices include the batch.</summary>
    public int IncludeBatch;
}

/// <summary>The pooling and unpooling kernels for devices that run on the host CPU; <see cref="MaxPoolWithArgmax"/> and <see cref="Unpool"/> pick them there.</summary>
internal static class PoolVector
{
    /// <summary>Status word 1 after a validated unpool pass: some target lies outside its element's block.</summary>
    public const int OutsideBlock = 1;

    // Channels per Float8.
    private const int Width = 8;

    /// <summary>Whether the forward kernel's float window positions are exact for <paramref name="g"/> (KH*W at most 2^24).</summary>
    public static bool ForwardFits(WindowGeometry g) => (long)g.KH * g.InW <= 1 << 24;

    /// <summary>Whether the backward kernel's float offsets are exact for <paramref name="g"/> (KH*W*C at most 2^24).</summary>
    public static bool BackwardFits(WindowGeometry g) => (long)g.KH * g.InW * g.InC <= 1 << 24;

    /// <summary>y and argmax for the validated geometry.</summary>
    public static void Forward(AcceleratorStream stream, ArrayView<float> input, ArrayView<float> output, ArrayView<long> argmax,
                               WindowGeometry g, bool includeBatch)
    {
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostPool.Forward(cpu, input, output, argmax, g, includeBatch);
            return;
        }
        HostLanes.Launch(g.Batch * g.OutH, (config, lanes) =>
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<long>, WindowGeometry, int, int>(ForwardKernel)(
                stream, config, input, output, argmax, g, includeBatch ? 1 : 0, lanes));
    }

    /// <summary>dx for non-overlapping windows; overwrites every element of dx.</summary>
    public static void Backward(AcceleratorStream stream, ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad,
                                WindowGeometry g, bool includeBatch)
    {
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostPool.Backward(cpu, outputGrad, argmax, inputGrad, g, includeBatch);
            return;
        }
        HostLanes.Launch(g.Batch * g.OutH, (config, lanes) =>
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, WindowGeometry, int, int>(BackwardKernel)(
                stream, config, outputGrad, argmax, inputGrad, g, includeBatch ? 1 : 0, lanes));
    }

    /// <summary>Whether the gather unpool's float offsets are exact for <paramref name="u"/> (BlockH*W*C at most 2^24).</summary>
    public static bool GatherFits(UnpoolRows u) => (long)u.BlockH * u.OutW * u.Channels <= 1 << 24;

    /// <summary>
    /// Writes every cell of the output from the switches that name a cell of their own block; for each lane (row of
    /// values) misses[lane] is 1 when some switch did not, and then status[1] (reset by the caller when it reads it)
    /// becomes <see cref="OutsideBlock"/>. misses holds Batch*InH ints.
    /// </summary>
    public static void UnpoolGather(AcceleratorStream stream, ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output,
                                    ArrayView<int> status, ArrayView<int> misses, UnpoolRows u)
    {
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostPool.UnpoolGather(cpu, values, argmax, output, status, misses, u);
            return;
        }
        HostLanes.Launch(u.Batch * u.InH, (config, lanes) =>
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, ArrayView<int>, UnpoolRows, int>(UnpoolGatherKernel)(
                stream, config, values, argmax, output, status, misses, u, lanes));
    }

    /// <summary>After <see cref="UnpoolGather"/>, for unique targets: stores the in-range values of the rows that missed.</summary>
    public static void UnpoolMissed(AcceleratorStream stream, ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output,
                                    ArrayView<int> misses, UnpoolRows u)
    {
        HostLanes.Launch(u.Batch * u.InH, (config, lanes) =>
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, UnpoolRows, int>(UnpoolMissedKernel)(
                stream, config, values, argmax, output, misses, u, lanes));
    }


    // ---- kernels ----

    /// <summary>
    /// Lane = output row (b, oy): for every output pixel and block of 8 channels, the window's first maximum (first NaN)
    /// and its flat index. The scan starts from the first real cell and compares it with itself too, which never
    /// replaces (equal, or a NaN current), so the loop over cells has no special case.
    /// </summary>
    public static void ForwardKernel(ArrayView<float> input, ArrayView<float> output, ArrayView<long> argmax, WindowGeometry g,
                                     int includeBatch, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes) return;
        int b = lane / g.OutH;
        int oy = lane - b * g.OutH;
        long rowLength = (long)g.InW * g.InC;
        long batchBase = (long)b * g.InH * rowLength;
        long indexBase = includeBatch != 0 ? batchBase : 0;
        int top = oy * g.StrideH - g.PadTop;
        int yBegin = Math.Max(top, 0);
        int yEnd = Math.Min(top + g.KH, g.InH);
        long o = (long)lane * g.OutW * g.OutC;
        for (int ox = 0; ox < g.OutW; ox++)
        {
            int left = ox * g.StrideW - g.PadLeft;
            int xBegin = Math.Max(left, 0);
            int xEnd = Math.Min(left + g.KW, g.InW);
            long first = ((long)yBegin * g.InW + xBegin) * g.InC;
            // Whole blocks pass the constant Width, so the compiler drops the partial loads' tail handling from them.
            long window = batchBase + first;
            long index = indexBase + first;
            int c0 = 0;
            for (; c0 + Width <= g.InC; c0 += Width) ForwardBlock(input, output, argmax, g, window + c0, index + c0, o + c0, yEnd - yBegin, xEnd - xBegin, Width);
            if (c0 < g.InC) ForwardBlock(input, output, argmax, g, window + c0, index + c0, o + c0, yEnd - yBegin, xEnd - xBegin, g.InC - c0);
            o += g.OutC;
        }
    }

    /// <summary>
    /// One output pixel's first <paramref name="count"/> channels from <paramref name="start"/>, the window's first real
    /// cell (rows x columns real cells): y and the argmax, <paramref name="index"/> being the first cell's index.
    /// </summary>
    private static void ForwardBlock(ArrayView<float> input, ArrayView<float> output, ArrayView<long> argmax, WindowGeometry g,
                                     long start, long index, long o, int rows, int columns, int count)
    {
        long rowLength = (long)g.InW * g.InC;
        var best = Load(input, start, count);
        var position = Float8.Splat(0f);
        if (rows == 2 && columns == 2)
        {
            // A whole 2x2 window (the tutorial's pools) unrolled: loops that run twice cost more than the compares.
            var right = Load(input, start + g.InC, count);
            position = Float8.SelectIfAbove(right, best, Float8.Splat(1f), position);
            best = Float8.SelectIfAbove(right, best, right, best);
            var below = Load(input, start + rowLength, count);
            position = Float8.SelectIfAbove(below, best, Float8.Splat(g.InW), position);
            best = Float8.SelectIfAbove(below, best, below, best);
            var diagonal = Load(input, start + rowLength + g.InC, count);
            position = Float8.SelectIfAbove(diagonal, best, Float8.Splat(g.InW + 1), position);
            best = Float8.SelectIfAbove(diagonal, best, diagonal, best);
        }
        else
        {
            for (int y = 0; y < rows; y++)
            {
                long cell = start + y * rowLength;
                float rel = y * g.InW;
                for (int x = 0; x < columns; x++)
                {
                    var value = Load(input, cell, count);
                    position = Float8.SelectIfAbove(value, best, Float8.Splat(rel), position);
                    best = Float8.SelectIfAbove(value, best, value, best);
                    cell += g.InC;
                    rel += 1f;
                }
            }
        }
        Store(best, output, o, count);
        Float8.StoreIndices(position, index, g.InC, argmax, o, count);
    }

    /// <summary>
    /// Lane = output row (b, oy), windows not overlapping; it owns the band of input rows from its window's top to the
    /// next window's (the first band from row 0, the last to row H-1). Cells of the band in no window get 0. For each
    /// window and block of 8 channels it turns the switches into floats rel = argmax - (index of the window's first real
    /// cell in that channel), and every cell of the window gets dy where rel equals the cell's own offset
    /// ((y - yBegin)*W + x - xBegin)*C, else 0: two SelectIfAbove (neither above the other) make the equality.
    /// The caller keeps KH*W*C at most 2^24, so every offset of a cell is exact and any other index (another cell,
    /// channel or image) converts to a different float.
    /// </summary>
    public static void BackwardKernel(ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad, WindowGeometry g,
                                      int includeBatch, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes) return;
        int b = lane / g.OutH;
        int oy = lane - b * g.OutH;
        var zero = Float8.Splat(0f);
        long rowLength = (long)g.InW * g.InC;
        long batchBase = (long)b * g.InH * rowLength;
        long indexBase = includeBatch != 0 ? batchBase : 0;
        int top = oy * g.StrideH - g.PadTop;
        int yBegin = Math.Max(top, 0);
        int yEnd = Math.Min(top + g.KH, g.InH);
        int bandBegin = oy == 0 ? 0 : top;
        int bandEnd = oy == g.OutH - 1 ? g.InH : Math.Min(top + g.StrideH, g.InH);

        // Cells of the band that lie in no window: rows below the window (stride > size, or past the last window), and
        // columns between or after the windows. Windows that tile the input (size = stride, no padding, sizes that are
        // multiples: the tutorial's 2x2 pools at even sizes) leave none, and the scan for them is skipped.
        bool tiled = g.KH == g.StrideH && g.KW == g.StrideW && g.PadTop == 0 && g.PadLeft == 0
                     && g.OutH * g.StrideH == g.InH && g.OutW * g.StrideW == g.InW;
        if (tiled) bandEnd = bandBegin;
        for (int y = bandBegin; y < bandEnd; y++)
        {
            bool rowInWindow = y >= yBegin && y < yEnd;
            long i = batchBase + y * rowLength;
            int ox = 0;
            int column = g.PadLeft;   // x + pad_left - ox*sW; PadLeft < KW <= sW, so one step per cell keeps it in [0, sW)
            for (int x = 0; x < g.InW; x++)
            {
                if (column >= g.StrideW)
                {
                    column -= g.StrideW;
                    ox++;
                }
                if (!(rowInWindow && ox < g.OutW && column < g.KW))
                {
                    for (int c0 = 0; c0 < g.InC; c0 += Width) Store(zero, inputGrad, i + c0, g.InC - c0);
                }
                i += g.InC;
                column++;
            }
        }

        long o = (long)lane * g.OutW * g.OutC;
        for (int ox = 0; ox < g.OutW; ox++)
        {
            int left = ox * g.StrideW - g.PadLeft;
            int xBegin = Math.Max(left, 0);
            int xEnd = Math.Min(left + g.KW, g.InW);
            long first = ((long)yBegin * g.InW + xBegin) * g.InC;
            // Whole blocks pass the constant Width (see ForwardKernel).
            long window = batchBase + first;
            long index = indexBase + first;
            int c0 = 0;
            for (; c0 + Width <= g.InC; c0 += Width) BackwardBlock(outputGrad, argmax, inputGrad, g, window + c0, index + c0, o + c0, yEnd - yBegin, xEnd - xBegin, Width);
            if (c0 < g.InC) BackwardBlock(outputGrad, argmax, inputGrad, g, window + c0, index + c0, o + c0, yEnd - yBegin, xEnd - xBegin, g.InC - c0);
            o += g.OutC;
        }
    }

    /// <summary>
    /// One window's first <paramref name="count"/> channels from <paramref name="start"/> (its first real cell, rows x
    /// columns real cells): each cell gets dy where the switch names it, else 0.
    /// </summary>
    private static void BackwardBlock(ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> inputGrad, WindowGeometry g,
                                      long start, long index, long o, int rows, int columns, int count)
    {
        long rowLength = (long)g.InW * g.InC;
        var rel = Float8.LoadOffsets(argmax, o, index, count);
        var grad = Load(outputGrad, o, count);
        for (int y = 0; y < rows; y++)
        {
            long cell = start + y * rowLength;
            float offset = y * rowLength;
            for (int x = 0; x < columns; x++)
            {
                Store(Named(rel, offset, grad), inputGrad, cell, count);
                cell += g.InC;
                offset += g.InC;
            }
        }
    }

    /// <summary>
    /// <paramref name="value"/> in the lanes whose switch offset <paramref name="rel"/> equals <paramref name="offset"/>, 0
    /// elsewhere: equal is neither above the other (offsets are exact, see BackwardFits and GatherFits).
    /// </summary>
    private static Float8 Named(Float8 rel, float offset, Float8 value)
    {
        var zero = Float8.Splat(0f);
        var own = Float8.Splat(offset);
        return Float8.SelectIfAbove(own, rel, zero, Float8.SelectIfAbove(rel, own, zero, value));
    }

    /// <summary>
    /// TrustedUnique's second pass, after the gather: a lane whose row had a switch outside its block stores each
    /// in-range value of the row at its target (out-of-range ones skipped); other lanes do nothing. The gather wrote
    /// every cell, and with unique targets no other element names these cells, so plain stores give the scatter.
    /// </summary>
    public static void UnpoolMissedKernel(ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output, ArrayView<int> misses,
                                          UnpoolRows u, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes || misses[lane] == 0) return;
        int b = lane / u.InH;
        long image = (long)u.OutH * u.OutW * u.Channels;
        long outputBase = u.IncludeBatch != 0 ? 0 : b * image;
        long limit = u.IncludeBatch != 0 ? image * u.Batch : image;
        long e = (long)lane * u.InW * u.Channels;
        long end = e + (long)u.InW * u.Channels;
        for (; e < end; e++)
        {
            long m = argmax[e];
            if (m >= 0 && m < limit) output[outputBase + m] = values[e];
        }
    }

    /// <summary>
    /// Lane = row (b, i) of values; it owns that row's blocks of the output (rows i*bh .. , columns j*bw ..,
    /// which together cover every cell once) and writes every cell of them: the value whose switch names the cell, else
    /// 0. A switch that names no cell of its own block (out of range, another block, image or channel) sets misses[lane]
    /// to 1 (else 0) and status[1] to <see cref="OutsideBlock"/>; its value is then missing: Validate reruns the general
    /// path, TrustedUnique stores the lane's values in a second pass.
    /// </summary>
    public static void UnpoolGatherKernel(ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output, ArrayView<int> status,
                                          ArrayView<int> misses, UnpoolRows u, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes) return;
        int b = lane / u.InH;
        int i = lane - b * u.InH;
        var flags = LocalMemory.Allocate<float>(Width);
        long image = (long)u.OutH * u.OutW * u.Channels;
        // The index that names output cell (y, x, c) of this image is cellBase + (y*W + x)*C + c.
        long cellBase = u.IncludeBatch != 0 ? b * image : 0;
        long rowLength = (long)u.OutW * u.Channels;
        int yBegin = i * u.BlockH;
        int rows = Math.Max(Math.Min(yBegin + u.BlockH, u.OutH) - yBegin, 0);
        long e = (long)lane * u.InW * u.Channels;
        var missing = Float8.Splat(0f);
        for (int j = 0; j < u.InW; j++)
        {
            int xBegin = j * u.BlockW;
            int columns = Math.Max(Math.Min(xBegin + u.BlockW, u.OutW) - xBegin, 0);
            long block = yBegin * rowLength + (long)xBegin * u.Channels;
            // Whole blocks pass the constant Width (see ForwardKernel).
            int c0 = 0;
            for (; c0 + Width <= u.Channels; c0 += Width)
                missing = Float8.Add(missing, GatherBlock(values, argmax, output, rowLength, u.Channels, e + c0, cellBase + block + c0, b * image + block + c0, rows, columns, Width));
            if (c0 < u.Channels)
                missing = Float8.Add(missing, GatherBlock(values, argmax, output, rowLength, u.Channels, e + c0, cellBase + block + c0, b * image + block + c0, rows, columns, u.Channels - c0));
            e += u.Channels;
        }
        Float8.Store(missing, flags, 0);
        bool miss = false;
        for (int l = 0; l < Width; l++) miss = miss || flags[l] != 0f;
        misses[lane] = miss ? 1 : 0;
        // Every lane that writes stores the same value, so a plain store suffices.
        if (miss) status[1] = OutsideBlock;
    }

    /// <summary>
    /// One block's cells for the first <paramref name="count"/> channels of elements <paramref name="e"/> ..: the cell at
    /// <paramref name="o"/> + dy*rowLength + dx*C gets the value if the switch's offset from <paramref name="origin"/> (the
    /// index of the block's first cell) is that cell's, else 0. Returns 1 in every lane whose switch named no cell.
    /// </summary>
    private static Float8 GatherBlock(ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output, long rowLength, int channels,
                                      long e, long origin, long o, int rows, int columns, int count)
    {
        var one = Float8.Splat(1f);
        var rel = Float8.LoadOffsets(argmax, e, origin, count);
        var value = Load(values, e, count);
        var hits = Float8.Splat(0f);
        for (int y = 0; y < rows; y++)
        {
            long cell = o + y * rowLength;
            float offset = y * rowLength;
            for (int x = 0; x < columns; x++)
            {
                Store(Named(rel, offset, value), output, cell, count);
                hits = Float8.Add(hits, Named(rel, offset, one));
                cell += channels;
                offset += channels;
            }
        }
        return Float8.SelectIfAbove(Float8.Splat(0.5f), hits, one, Float8.Splat(0f));
    }

    /// <summary>Writes eight floats at <paramref name="index"/>, or the first <paramref name="count"/> of them in a channel tail.</summary>
    private static void Store(Float8 value, ArrayView<float> view, long index, int count)
    {
        if (count >= Width) Float8.Store(value, view, index);
        else Float8.StorePartial(value, view, index, count);
    }

    /// <summary>Eight floats from <paramref name="index"/>, or the first <paramref name="count"/> of them in a channel tail.</summary>
    private static Float8 Load(ArrayView<float> view, long index, int count) =>
        count >= Width ? Float8.Load(view, index) : Float8.LoadPartial(view, index, count);
}
