// HostConv: Conv2dVector's convolutions as host code, for the CPU accelerator on CPUs with 512-bit vectors.
//   The CPU accelerator runs a kernel as C# lanes over ArrayViews: every load checks its range and a lane's block of
//   outputs is sized for OpenCL's float8 and the 16 vector registers of AVX2 (6 pixels x 16 channels). With AVX-512
//   a core has 32 vector registers of 16 floats, so one block here is 12 output pixels x 32 output channels (24
//   accumulators of 16 lanes) read through raw pointers: per input channel of a tap, two filter loads and twelve
//   broadcasts feed 24 fused multiply-adds, enough independent chains to keep both FMA pipes busy.
//   The arithmetic is Conv2dVector's, term for term: the same zero-bordered input copy, the same filter layouts, each
//   output summed in the same order (taps, then input channels; the filter gradient over the same position slices in
//   the same order, added by the same SumSlices) with one rounding per term, and the bias added after the sum. Results
//   are therefore bit-identical to the Float8 kernels on the CPU accelerator and on pocl; only the blocking differs.
//   Without AVX-512 (or with GPUDECONV_CPU_VECTOR=256) the CPU accelerator runs the Float8 kernels, the 256-bit path.

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>The convolutions of <see cref="Conv2dVector"/> as host code with 512-bit vectors (the CPU accelerator's route).</summary>
/// <remarks>Stack buffers are not zeroed (SkipLocalsInit): every one is written before it is read.</remarks>
[SkipLocalsInit]
internal static unsafe class HostConv
{
    // A filter above this size (bytes) makes the forward pass run pixel blocks fastest (see Forward).
    private const long LargeFilterBytes = 1 << 20;

    /// <summary>Output pixels per forward block.</summary>
    public const int PixelBlock = 12;
    /// <summary>Floats per vector.</summary>
    public const int Lanes = 16;
    /// <summary>Output channels per block (two vectors).</summary>
    public const int ChannelBlock = 32;
    // The large-filter order (ForwardFilterMajor): bytes of filter columns per chunk; block tiles per item (96 KB).
    private const int ChunkBytes = 32 << 10, GroupTiles = 64;

    /// <summary>
    /// y[b, pixel, co] = sum over taps and input channels of p[...] * w[tap, ci, co] (+ bias[co]) over the zero-bordered copy
    /// <paramref name="p"/> (as Conv2dVector.ForwardKernel reads it) and the filter <paramref name="w"/> with
    /// <see cref="DirectConv.FilterStride"/> (a multiple of 16) channels per row.
    /// </summary>
    public static void Forward(CPUAccelerator cpu, DirectConv c, ArrayView<float> p, ArrayView<float> w, ArrayView<float>? bias, ArrayView<float> y,
                               Prepared? prepared = null)
    {
        int plane = c.OutH * c.OutW;
        // Blocks run over the batch's pixels as one row (NHWC keeps them contiguous), so a 7x7 plane does not leave most
        // of its last block empty.
        long pixels = (long)c.Batch * plane;
        // Blocks of ten or eight pixels where they compute fewer pixels than blocks of twelve (49 pixels: 50, not 60).
        int blockPixels = BlockRows.For(pixels);
        long pixelBlocks = (pixels + blockPixels - 1) / blockPixels;
        int channelBlocks = CeilDiv(c.FilterStride, ChannelBlock);
        long items = pixelBlocks * channelBlocks;
        if (items == 0) return;
        Require(p, (long)c.Batch * c.PaddedH * c.PaddedW * c.InC, "the input copy");
        Require(w, (long)c.KH * c.KW * c.InC * c.FilterStride, "the filter");
        Require(y, pixels * c.OutC, "the output");
        if (bias is { } b) Require(b, c.OutC, "the bias");
        nint pp = HostView.Address(p), wp = HostView.Address(w), bp = bias is { } bv ? HostView.Address(bv) : 0, yp = HostView.Address(y);
        // Each (tap, input channel) term's place in the copy, relative to a pixel's first tap, in the order of the sum.
        var offsets = new int[c.KH * c.KW * c.InC];
        for (int kh = 0, k = 0; kh < c.KH; kh++)
            for (int kw = 0; kw < c.KW; kw++)
                for (int ci = 0; ci < c.InC; ci++)
                    offsets[k++] = checked((kh * c.DilationH * c.PaddedW + kw * c.DilationW) * c.InC + ci);
        // An output larger than the cache can keep (conv1 of the CIFAR network writes 19 MB) goes straight to memory.
        bool streaming = HostMask.Streams(y.LengthInBytes + p.LengthInBytes);
        using var pinned = offsets.AsMemory().Pin();
        nint op = (nint)pinned.Pointer;
        // Channel blocks fastest, so that the blocks of one pixel block share its input rows in cache, while the filter fits
        // in L2; a larger filter (3x3 x 256 x 256 is 2.4 MB) would stream from memory once per pixel block that way.
        if ((long)c.KH * c.KW * c.InC * c.FilterStride * sizeof(float) > LargeFilterBytes)
        {
            ForwardFilterMajor(cpu, c, (int*)op, pp, wp, bp, yp, pixels, blockPixels, channelBlocks, streaming, prepared);
            return;
        }
        HostParallel.For(cpu, items, (begin, end) =>
        {
            var tile = stackalloc Vector512<float>[2 * PixelBlock];
            // The block's pixels' first taps, kept while consecutive items share the pixel block (its channel blocks).
            var first = stackalloc nint[PixelBlock];
            long placed = -1;
            var block = new ForwardTerms((int*)op, 0, c.KH * c.KW * c.InC, (float*)pp, (float*)wp, c.FilterStride, (float*)bp, (float*)yp, streaming);
            for (long item = begin; item < end; item++)
            {
                long pixelBlock = item / channelBlocks;
                int co0 = (int)(item % channelBlocks) * ChannelBlock;
                long pixel0 = pixelBlock * blockPixels;
                if (pixelBlock != placed) FirstTaps(c, pixel0, pixels, first, blockPixels);
                placed = pixelBlock;
                ForwardBlock(c, block, first, pixel0, pixels, co0, tile, blockPixels);
            }
            HostMask.EndStreaming(streaming);
        });
    }

    // The forward pass of a filter larger than L2 (3x3 x 512 x 512 is 9.4 MB). Each item is a group of channel blocks and
    // a group of pixel blocks; the terms run in chunks of 32 KB of the group's filter columns (in L1), every (channel
    // block, pixel block) pair taking its share of a chunk before the next chunk is read. Each block's accumulators wait
    // in the item's tiles between chunks (stored and loaded as they are: the same sums in the same order as one pass
    // over the terms). The filter is first repacked, both cores reading whole rows one after another, so that each
    // group's columns lie in one run (rows of `width` floats) that the items then read in order: read where they lie,
    // a group's 128 to 1024 bytes of every 2 KB row came from memory at a fraction of its bandwidth. Measured here (2
    // cores, 7x7 x 512 -> 512, batch 1, the filter from memory as a network's layers read it): 2.3 ms with each
    // 32-column block running its pixel blocks over all the terms; 1.8 ms with groups of columns read in place,
    // chunks and a software prefetch of the next chunk; 1.5-1.7 ms repacked (per call or kept in a Conv2dFilterCache);
    // the filter in cache took 1.2 ms. Repacked and with the next chunk prefetched into L2 while this one computes (a
    // share before each block), six filters from memory in turn: 1.25-1.37 ms against 1.47-1.72 without (best of 40
    // calls, five alternating runs), and 14x14 x 256 -> 512 with stride 2 0.71-0.76 against 0.86 ms.
    private static void ForwardFilterMajor(CPUAccelerator cpu, DirectConv c, int* offsets, nint pp, nint wp, nint bp, nint yp, long pixels,
                                           int blockPixels, int channelBlocks, bool streaming, Prepared? prepared)
    {
        long pixelBlocks = (pixels + blockPixels - 1) / blockPixels;
        // Channel blocks per group: enough items for two per core, at most eight blocks (1 KB of each filter row).
        int columns = Math.Clamp(channelBlocks / (2 * Math.Max(1, cpu.IsSequential ? 1 : Environment.ProcessorCount)), 1, 8);
        int columnGroups = CeilDiv(channelBlocks, columns);
        int blocksPerGroup = (int)Math.Min(pixelBlocks, GroupTiles / columns);
        long pixelGroups = (pixelBlocks + blocksPerGroup - 1) / blocksPerGroup;
        int terms = c.KH * c.KW * c.InC, chunkTerms = ChunkBytes / (columns * ChannelBlock * sizeof(float));
        // Group g's columns at packed + terms * g * columns * 32, `width` floats per row (the last group's may be fewer),
        // so that each item reads its filter in one run. Made on every call, or once for a cached filter.
        long floats = (long)terms * c.FilterStride;
        void Pack(nint packed) => HostParallel.For(cpu, terms, (begin, end) =>
        {
            for (long k = begin; k < end; k++)
            {
                float* row = (float*)wp + k * c.FilterStride;
                for (int group = 0; group < columnGroups; group++)
                {
                    int co0 = group * columns * ChannelBlock, width = Math.Min(columns * ChannelBlock, c.FilterStride - co0);
                    float* target = (float*)packed + (long)terms * co0 + k * width;
                    for (int i = 0; i < width; i += Lanes) Vector512.Store(Vector512.Load(row + co0 + i), target + i);
                }
            }
        });
        nint packed;
        if (prepared is { } cached)
            packed = (nint)cached.Cache.Get(Conv2dFilterCache.Packed, cached.Source, new(c.KH, c.KW, c.InC, c.OutC, columns), floats, Pack);
        else
            Pack(packed = (nint)HostScratch.Get(HostScratch.Filter, floats));
        nint op = (nint)offsets;
        HostParallel.For(cpu, columnGroups * pixelGroups, (begin, end) =>
        {
            var tiles = (Vector512<float>*)HostScratch.Get(HostScratch.Work, (long)GroupTiles * 2 * PixelBlock * Lanes);
            var first = stackalloc nint[GroupTiles * PixelBlock];
            for (long item = begin; item < end; item++)
            {
                int block0 = (int)(item / pixelGroups) * columns, blockEnd = Math.Min(channelBlocks, block0 + columns);
                int groupCo0 = block0 * ChannelBlock, width = Math.Min(columns * ChannelBlock, c.FilterStride - groupCo0);
                // Row k, channel co of the group at w + k * width + co, as ForwardBlock reads it.
                float* w = (float*)packed + (long)terms * groupCo0 - groupCo0;
                long pixelBlock0 = item % pixelGroups * blocksPerGroup;
                int count = (int)Math.Min(blocksPerGroup, pixelBlocks - pixelBlock0);
                for (int b = 0; b < count; b++)
                    FirstTaps(c, (pixelBlock0 + b) * blockPixels, pixels, first + b * PixelBlock, blockPixels);
                int pairs = (blockEnd - block0) * count;
                for (int k0 = 0; k0 < terms; k0 += chunkTerms)
                {
                    int k1 = Math.Min(terms, k0 + chunkTerms);
                    var chunk = new ForwardTerms((int*)op, k0, k1, (float*)pp, w, width, (float*)bp, (float*)yp, streaming);
                    // The next chunk's filter rows (one run, from memory) come in a share before each block of this one.
                    var next = new HostPrefetch(w + (nint)k1 * width + groupCo0, (long)(Math.Min(terms, k1 + chunkTerms) - k1) * width * sizeof(float));
                    long share = next.Share(pairs);
                    var tile = tiles;
                    for (int block = block0; block < blockEnd; block++)
                        for (int b = 0; b < count; b++, tile += 2 * PixelBlock)
                        {
                            next.Ahead(share);
                            ForwardBlock(c, chunk, first + b * PixelBlock, (pixelBlock0 + b) * blockPixels, pixels, block * ChannelBlock, tile, blockPixels);
                        }
                }
            }
            HostMask.EndStreaming(streaming);
        });
        // The cache's finalizer frees what `packed` points at: the cache lives until the products are done.
        if (prepared is { } kept) GC.KeepAlive(kept.Cache);
    }

    /// <summary>A cache for the forward pass's repacked filter and the address of the filter it was made from.</summary>
    public readonly record struct Prepared(Conv2dFilterCache Cache, nint Source);

    /// <summary>
    /// The terms k0 .. k1 of a forward block's sums (offsets[k] places term k in the copy, filter row k holds its weights)
    /// and where the block reads and writes: the block starts from zero at term 0 and writes y after the last term.
    /// </summary>
    private readonly struct ForwardTerms(int* offsets, int k0, int k1, float* p, float* w, nint stride, float* bias, float* y, bool streaming)
    {
        public readonly int* Offsets = offsets;
        public readonly int K0 = k0, K1 = k1;
        /// <summary>Floats from one filter row to the next.</summary>
        public readonly nint Stride = stride;
        public readonly float* P = p, W = w, Bias = bias, Y = y;
        public readonly bool Streaming = streaming;
    }

    /// <summary>
    /// One partial dw per slice of the output positions, as Conv2dVector.FilterGradientKernel computes it: slice z holds
    /// sum over its positions, in order, of x[...] * dy[...], at offset z * KH*KW*InC*OutC of <paramref name="target"/>.
    /// <paramref name="x"/> has <see cref="DirectConv.XStride"/> channels per position, <paramref name="dy"/>
    /// <see cref="DirectConv.DyStride"/> (zeros past InC and OutC).
    /// </summary>
    public static void FilterGradient(CPUAccelerator cpu, DirectConv c, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> target, int slices)
    {
        int taps = c.KH * c.KW;
        long length = (long)taps * c.InC * c.OutC;
        Require(x, (long)c.Batch * c.InH * c.InW * c.XStride, "the input");
        Require(dy, (long)c.Batch * c.OutH * c.OutW * c.DyStride, "the output gradient");
        Require(target, slices * length, "the partial sums");
        nint xp = HostView.Address(x), dp = HostView.Address(dy), tp = HostView.Address(target);
        HostParallel.For(cpu, (long)slices * taps, (begin, end) =>
        {
            for (long item = begin; item < end; item++)
            {
                int slice = (int)(item / taps);
                int tap = (int)(item % taps);
                float* partial = (float*)tp + slice * length;
                for (int ci0 = 0; ci0 < c.InC; ci0 += 8)
                {
                    for (int co0 = 0; co0 < c.OutC; co0 += ChannelBlock)
                    {
                        bool eight = c.XStride - ci0 >= 8;
                        if (!eight && ci0 + 4 >= c.InC && c.DyStride - co0 >= 2 * ChannelBlock)
                        {
                            // The last four inputs (an image's channels) against 64 outputs: twice the work per x read.
                            FilterBlock<FourInputsWide, TwoVectors>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0, co0);
                            co0 += ChannelBlock;
                            continue;
                        }
                        bool two = c.DyStride - co0 >= ChannelBlock;
                        if (eight && two) FilterBlock<EightInputs, TwoVectors>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0, co0);
                        else if (eight) FilterBlock<EightInputs, OneVector>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0, co0);
                        else if (two) FilterBlock<FourInputs, TwoVectors>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0, co0);
                        else FilterBlock<FourInputs, OneVector>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0, co0);
                        // Four inputs cover only half of an eight-channel step: the second half runs as its own block.
                        if (!eight && ci0 + 4 < c.InC)
                        {
                            if (two) FilterBlock<FourInputs, TwoVectors>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0 + 4, co0);
                            else FilterBlock<FourInputs, OneVector>(c, (float*)xp, (float*)dp, partial, slice, tap, ci0 + 4, co0);
                        }
                    }
                }
            }
        });
    }

    /// <summary>Floats of slack after the copy of x that <see cref="FilterGradientRowTaps"/> reads.</summary>
    public const int Slack = 8;

    /// <summary>
    /// Whether <see cref="FilterGradientRowTaps"/> computes this filter gradient: at most three input channels (an image's
    /// grey or RGB, padded to four otherwise), no dilation.
    /// </summary>
    public static bool TakesRowTaps(in DirectConv c) => c.InC <= 3 && c.DilationW == 1 && c.DilationH == 1;

    /// <summary>
    /// <see cref="FilterGradient"/> for inputs of one to three channels: the KW x InC values of a filter row's taps are
    /// consecutive floats of x's row (j = kw * InC + ci), so the blocks take eight of them where the input channels
    /// stand, instead of one tap's channels padded to four. A position where a tap falls outside the row (padding) adds
    /// nothing to that tap's sums, as in FilterBlock: every (tap, channel, output channel) sum has the same terms in the
    /// same order, one rounding per term, so the bits are the Float8 kernels'. <paramref name="x"/> is unpadded (InC
    /// floats per position) with <see cref="Slack"/> readable floats after it: a block's last inputs read past its row.
    /// </summary>
    public static void FilterGradientRowTaps(CPUAccelerator cpu, DirectConv c, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> target, int slices)
    {
        int rowInputs = c.KW * c.InC;
        long length = (long)c.KH * rowInputs * c.OutC;
        Require(x, (long)c.Batch * c.InH * c.InW * c.InC + Slack, "the input copy");
        Require(dy, (long)c.Batch * c.OutH * c.OutW * c.DyStride, "the output gradient");
        Require(target, slices * length, "the partial sums");
        nint xp = HostView.Address(x), dp = HostView.Address(dy), tp = HostView.Address(target);
        // valid[block][ox] bit j: input 8 * block + j's tap is inside the row at output column ox (the same for every row).
        int blocks = CeilDiv(rowInputs, 8);
        var valid = new int[blocks * c.OutW];
        for (int block = 0; block < blocks; block++)
            for (int ox = 0; ox < c.OutW; ox++)
                for (int j = 0; j < Math.Min(8, rowInputs - 8 * block); j++)
                {
                    int ix = ox * c.StrideW - c.PadLeft + (8 * block + j) / c.InC;
                    if ((uint)ix < (uint)c.InW) valid[block * c.OutW + ox] |= 1 << j;
                }
        using var pinned = valid.AsMemory().Pin();
        nint vp = (nint)pinned.Pointer;
        HostParallel.For(cpu, (long)slices * c.KH, (begin, end) =>
        {
            for (long item = begin; item < end; item++)
            {
                int slice = (int)(item / c.KH);
                int kh = (int)(item % c.KH);
                float* partial = (float*)tp + slice * length;
                for (int block = 0; block < blocks; block++)
                {
                    int j0 = 8 * block, inputs = Math.Min(8, rowInputs - j0);
                    int* columns = (int*)vp + block * c.OutW;
                    for (int co0 = 0; co0 < c.OutC; co0 += ChannelBlock)
                    {
                        if (c.DyStride - co0 >= ChannelBlock)
                            RowTapBlock<TwoVectors>(c, (float*)xp, (float*)dp, partial, slice, kh, j0, inputs, co0, columns);
                        else
                            RowTapBlock<OneVector>(c, (float*)xp, (float*)dp, partial, slice, kh, j0, inputs, co0, columns);
                    }
                }
            }
        });
    }

    /// <summary>x copied to <paramref name="copy"/>, then <see cref="Slack"/> zeros.</summary>
    public static ArrayView<float> CopyWithSlack(ArrayView<float> x, ArrayView<float> copy)
    {
        Require(copy, x.Length + Slack, "the input copy");
        float* source = (float*)HostView.Address(x), target = (float*)HostView.Address(copy);
        new Span<float>(source, checked((int)x.Length)).CopyTo(new Span<float>(target, checked((int)x.Length)));
        new Span<float>(target + x.Length, Slack).Clear();
        return copy;
    }

    /// <summary>p = x copied into its zero-bordered buffer (Conv2dVector.PadInputKernel's copy, with whole rows moved at once).</summary>
    public static void PadInput(CPUAccelerator cpu, DirectConv c, ArrayView<float> x, ArrayView<float> p)
    {
        Require(x, (long)c.Batch * c.SourceH * c.SourceW * c.InC, "the input");
        Require(p, (long)c.Batch * c.PaddedH * c.PaddedW * c.InC, "the input copy");
        nint xp = HostView.Address(x), pp = HostView.Address(p);
        HostParallel.For(cpu, (long)c.Batch * c.PaddedH, (begin, end) =>
        {
            for (long row = begin; row < end; row++)
            {
                int b = (int)(row / c.PaddedH);
                int vy = (int)(row - (long)b * c.PaddedH) + c.OriginH;
                float* target = (float*)pp + row * c.PaddedW * c.InC;
                var span = new Span<float>(target, c.PaddedW * c.InC);
                span.Clear();
                if (vy < 0 || vy >= c.InH || vy % c.SpreadH != 0) continue;
                float* source = (float*)xp + ((long)b * c.SourceH + vy / c.SpreadH) * c.SourceW * c.InC;
                // Columns of the copy that hold input columns: vx = col + OriginW in [0, InW) with vx % SpreadW == 0.
                int first = Math.Max(0, -c.OriginW);
                int last = Math.Min(c.PaddedW, c.InW - c.OriginW);
                if (c.SpreadW == 1)
                {
                    new Span<float>(source + (long)(first + c.OriginW) * c.InC, (last - first) * c.InC)
                        .CopyTo(new Span<float>(target + (long)first * c.InC, (last - first) * c.InC));
                    continue;
                }
                for (int col = first; col < last; col++)
                {
                    int vx = col + c.OriginW;
                    if (vx % c.SpreadW != 0) continue;
                    new Span<float>(source + (long)(vx / c.SpreadW) * c.InC, c.InC).CopyTo(new Span<float>(target + (long)col * c.InC, c.InC));
                }
            }
        });
    }

    /// <summary>p[row, c] = x[row, c] for c &lt; channels, else 0, rows of <paramref name="stride"/> floats (Conv2dVector.PadChannelsKernel's copy).</summary>
    public static void PadChannels(CPUAccelerator cpu, ArrayView<float> x, ArrayView<float> p, long rows, int channels, int stride)
    {
        Require(x, rows * channels, "the tensor to pad");
        Require(p, rows * stride, "the padded copy");
        nint xp = HostView.Address(x), pp = HostView.Address(p);
        const long RowsPerPart = 4096;
        HostParallel.For(cpu, (rows + RowsPerPart - 1) / RowsPerPart, (begin, end) =>
        {
            for (long row = begin * RowsPerPart; row < Math.Min(rows, end * RowsPerPart); row++)
            {
                float* source = (float*)xp + row * channels, target = (float*)pp + row * stride;
                for (int c = 0; c < channels; c++) target[c] = source[c];
                for (int c = channels; c < stride; c++) target[c] = 0f;
            }
        });
    }

    // ---- blocks ----

    // A forward block of `rows` (8, 10 or 12) pixels, 16 or 32 channels.
    private static void ForwardBlock(in DirectConv c, in ForwardTerms terms, nint* first, long pixel0, long pixels, int co0, Vector512<float>* tile, int rows)
    {
        bool two = c.FilterStride - co0 >= ChannelBlock;
        switch (rows)
        {
            case 8 when two: ForwardBlock<TwoVectors, EightRows>(c, terms, first, pixel0, pixels, co0, tile); break;
            case 8: ForwardBlock<OneVector, EightRows>(c, terms, first, pixel0, pixels, co0, tile); break;
            case 10 when two: ForwardBlock<TwoVectors, TenRows>(c, terms, first, pixel0, pixels, co0, tile); break;
            case 10: ForwardBlock<OneVector, TenRows>(c, terms, first, pixel0, pixels, co0, tile); break;
            case 12 when two: ForwardBlock<TwoVectors, TwelveRows>(c, terms, first, pixel0, pixels, co0, tile); break;
            default: ForwardBlock<OneVector, TwelveRows>(c, terms, first, pixel0, pixels, co0, tile); break;
        }
    }

    // 8, 10 or 12 pixels x 16 or 32 channels over terms k0 .. k1 (see ForwardTerms); between chunks the accumulators wait in
    // `tile` (2 x 12 vectors). A block past the batch's last pixel repeats it (computed, not stored).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock<TColumns, TPixels>(in DirectConv c, in ForwardTerms terms, nint* first, long pixel0, long pixels, int co0, Vector512<float>* tile)
        where TColumns : struct, IColumns where TPixels : struct, IRows
    {
        float* p = terms.P;
        float* p0 = p + first[0], p1 = p + first[1], p2 = p + first[2], p3 = p + first[3], p4 = p + first[4], p5 = p + first[5];
        float* p6 = p + first[6], p7 = p + first[7];
        float* p8 = TPixels.Count > 8 ? p + first[8] : p, p9 = TPixels.Count > 8 ? p + first[9] : p;
        float* p10 = TPixels.Count > 10 ? p + first[10] : p, p11 = TPixels.Count > 10 ? p + first[11] : p;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default,
            b6 = default, b7 = default, b8 = default, b9 = default, b10 = default, b11 = default;
        if (terms.K0 > 0)
        {
            a0 = tile[0]; a1 = tile[2]; a2 = tile[4]; a3 = tile[6]; a4 = tile[8]; a5 = tile[10];
            a6 = tile[12]; a7 = tile[14]; a8 = tile[16]; a9 = tile[18]; a10 = tile[20]; a11 = tile[22];
            if (TColumns.Two)
            {
                b0 = tile[1]; b1 = tile[3]; b2 = tile[5]; b3 = tile[7]; b4 = tile[9]; b5 = tile[11];
                b6 = tile[13]; b7 = tile[15]; b8 = tile[17]; b9 = tile[19]; b10 = tile[21]; b11 = tile[23];
            }
        }
        // One loop over every (tap, input channel) term, in the order Conv2dVector sums them: `offsets` holds each term's
        // place in the copy relative to a pixel's first tap, and the filter rows follow one another.
        nint stride = terms.Stride;
        float* wr = terms.W + (nint)terms.K0 * stride + co0;
        int* end = terms.Offsets + terms.K1;
        for (int* k = terms.Offsets + terms.K0; k < end; k++, wr += stride)
        {
            nint ci = *k;
            var w0 = Vector512.Load(wr);
            var w1 = TColumns.Two ? Vector512.Load(wr + Lanes) : default;
            var v = Vector512.Create(p0[ci]);
            a0 = Vector512.FusedMultiplyAdd(v, w0, a0);
            if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v, w1, b0);
            v = Vector512.Create(p1[ci]);
            a1 = Vector512.FusedMultiplyAdd(v, w0, a1);
            if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v, w1, b1);
            v = Vector512.Create(p2[ci]);
            a2 = Vector512.FusedMultiplyAdd(v, w0, a2);
            if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v, w1, b2);
            v = Vector512.Create(p3[ci]);
            a3 = Vector512.FusedMultiplyAdd(v, w0, a3);
            if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v, w1, b3);
            v = Vector512.Create(p4[ci]);
            a4 = Vector512.FusedMultiplyAdd(v, w0, a4);
            if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, w1, b4);
            v = Vector512.Create(p5[ci]);
            a5 = Vector512.FusedMultiplyAdd(v, w0, a5);
            if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, w1, b5);
            v = Vector512.Create(p6[ci]);
            a6 = Vector512.FusedMultiplyAdd(v, w0, a6);
            if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, w1, b6);
            v = Vector512.Create(p7[ci]);
            a7 = Vector512.FusedMultiplyAdd(v, w0, a7);
            if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, w1, b7);
            if (TPixels.Count <= 8) continue;
            v = Vector512.Create(p8[ci]);
            a8 = Vector512.FusedMultiplyAdd(v, w0, a8);
            if (TColumns.Two) b8 = Vector512.FusedMultiplyAdd(v, w1, b8);
            v = Vector512.Create(p9[ci]);
            a9 = Vector512.FusedMultiplyAdd(v, w0, a9);
            if (TColumns.Two) b9 = Vector512.FusedMultiplyAdd(v, w1, b9);
            if (TPixels.Count <= 10) continue;
            v = Vector512.Create(p10[ci]);
            a10 = Vector512.FusedMultiplyAdd(v, w0, a10);
            if (TColumns.Two) b10 = Vector512.FusedMultiplyAdd(v, w1, b10);
            v = Vector512.Create(p11[ci]);
            a11 = Vector512.FusedMultiplyAdd(v, w0, a11);
            if (TColumns.Two) b11 = Vector512.FusedMultiplyAdd(v, w1, b11);
        }
        // The accumulators go to the stack tile before anything that may call: across a call (every vector register is
        // caller-saved on x64 Unix) the JIT would keep them in memory inside the loop as well.
        tile[0] = a0; tile[1] = b0; tile[2] = a1; tile[3] = b1; tile[4] = a2; tile[5] = b2;
        tile[6] = a3; tile[7] = b3; tile[8] = a4; tile[9] = b4; tile[10] = a5; tile[11] = b5;
        tile[12] = a6; tile[13] = b6; tile[14] = a7; tile[15] = b7; tile[16] = a8; tile[17] = b8;
        tile[18] = a9; tile[19] = b9; tile[20] = a10; tile[21] = b10; tile[22] = a11; tile[23] = b11;
        if (terms.K1 < c.KH * c.KW * c.InC) return;
        // The batch's pixels are contiguous in NHWC, so the block's pixels are OutC apart even across rows and images.
        WriteTile(tile, (int)Math.Min(TPixels.Count, pixels - pixel0), Math.Min(TColumns.Two ? ChannelBlock : Lanes, c.OutC - co0),
            terms.Y + (nint)pixel0 * c.OutC + co0, c.OutC, c.HasBias != 0 ? terms.Bias + co0 : null, terms.Streaming);
    }

    // 4 or 8 input channels x 16 or 32 output channels of one tap, summed over the slice's positions in order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterBlock<TInputs, TColumns>(in DirectConv c, float* x, float* dy, float* partial, int slice, int tap, int ci0, int co0)
        where TInputs : struct, IInputs where TColumns : struct, IColumns
    {
        // Allocated (and zeroed, a call) before the accumulators exist, as in ForwardBlock.
        var tile = stackalloc Vector512<float>[16];
        int kh = tap / c.KW;
        int kw = tap - kh * c.KW;
        int offset = kw * c.DilationW - c.PadLeft;
        int oxBegin = offset >= 0 ? 0 : (-offset + c.StrideW - 1) / c.StrideW;
        int oxEnd = c.InW - offset <= 0 ? 0 : Math.Min(c.OutW, (c.InW - offset + c.StrideW - 1) / c.StrideW);
        int rows = c.Batch * c.OutH;
        int chunks = Math.Max(1, CeilDiv(rows, c.RowsPerChunk));
        int rowBegin = slice * c.ChunksPerSlice * c.RowsPerChunk;
        int rowEnd = Math.Min(rows, Math.Min(chunks, (slice + 1) * c.ChunksPerSlice) * c.RowsPerChunk);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        nint xStep = (nint)c.StrideW * c.XStride, dyStep = c.DyStride;
        int columns = oxEnd - oxBegin;
        for (int r = rowBegin; r < rowEnd; r++)
        {
            int b = r / c.OutH;
            int oy = r - b * c.OutH;
            int iy = oy * c.StrideH + kh * c.DilationH - c.PadTop;
            if (iy < 0 || iy >= c.InH) continue;
            float* xi = x + (((nint)b * c.InH + iy) * c.InW + (nint)oxBegin * c.StrideW + offset) * c.XStride + ci0;
            float* di = dy + ((nint)r * c.OutW + oxBegin) * c.DyStride + co0;
            for (int n = 0; n < columns; n++, xi += xStep, di += dyStep)
            {
                var d0 = Vector512.Load(di);
                var d1 = TColumns.Two ? Vector512.Load(di + Lanes) : default;
                var v0 = Vector512.Create(xi[0]);
                var v1 = Vector512.Create(xi[1]);
                var v2 = Vector512.Create(xi[2]);
                var v3 = Vector512.Create(xi[3]);
                a0 = Vector512.FusedMultiplyAdd(v0, d0, a0);
                if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v0, d1, b0);
                a1 = Vector512.FusedMultiplyAdd(v1, d0, a1);
                if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v1, d1, b1);
                a2 = Vector512.FusedMultiplyAdd(v2, d0, a2);
                if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v2, d1, b2);
                a3 = Vector512.FusedMultiplyAdd(v3, d0, a3);
                if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v3, d1, b3);
                if (TInputs.Wide)
                {
                    // Four inputs x 64 channels: the second 32 channels in the accumulators eight inputs would use.
                    var d2 = Vector512.Load(di + 2 * Lanes);
                    var d3 = Vector512.Load(di + 3 * Lanes);
                    a4 = Vector512.FusedMultiplyAdd(v0, d2, a4);
                    b4 = Vector512.FusedMultiplyAdd(v0, d3, b4);
                    a5 = Vector512.FusedMultiplyAdd(v1, d2, a5);
                    b5 = Vector512.FusedMultiplyAdd(v1, d3, b5);
                    a6 = Vector512.FusedMultiplyAdd(v2, d2, a6);
                    b6 = Vector512.FusedMultiplyAdd(v2, d3, b6);
                    a7 = Vector512.FusedMultiplyAdd(v3, d2, a7);
                    b7 = Vector512.FusedMultiplyAdd(v3, d3, b7);
                }
                if (!TInputs.Eight) continue;
                var v = Vector512.Create(xi[4]);
                a4 = Vector512.FusedMultiplyAdd(v, d0, a4);
                if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, d1, b4);
                v = Vector512.Create(xi[5]);
                a5 = Vector512.FusedMultiplyAdd(v, d0, a5);
                if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, d1, b5);
                v = Vector512.Create(xi[6]);
                a6 = Vector512.FusedMultiplyAdd(v, d0, a6);
                if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, d1, b6);
                v = Vector512.Create(xi[7]);
                a7 = Vector512.FusedMultiplyAdd(v, d0, a7);
                if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, d1, b7);
            }
        }
        tile[0] = a0; tile[1] = b0; tile[2] = a1; tile[3] = b1; tile[4] = a2; tile[5] = b2; tile[6] = a3; tile[7] = b3;
        tile[8] = a4; tile[9] = b4; tile[10] = a5; tile[11] = b5; tile[12] = a6; tile[13] = b6; tile[14] = a7; tile[15] = b7;
        float* target = partial + ((nint)tap * c.InC + ci0) * c.OutC + co0;
        int inputs = Math.Min(TInputs.Eight ? 8 : 4, c.InC - ci0);
        WriteTile(tile, inputs, Math.Min(TColumns.Two ? ChannelBlock : Lanes, c.OutC - co0), target, c.OutC, null);
        if (TInputs.Wide) WriteTile(tile + 8, inputs, Math.Min(ChannelBlock, c.OutC - co0 - ChannelBlock), target + ChannelBlock, c.OutC, null);
    }

    // Inputs j0 .. j0 + 7 of filter row kh (j = kw * InC + ci; `inputs` of them real) x 16 or 32 output channels, summed over
    // the slice's positions in order; at a column whose mask lacks an input, that input neither reads x nor adds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTapBlock<TColumns>(in DirectConv c, float* x, float* dy, float* partial, int slice, int kh, int j0, int inputs, int co0, int* valid)
        where TColumns : struct, IColumns
    {
        var tile = stackalloc Vector512<float>[16];
        int all = (1 << inputs) - 1;
        int rows = c.Batch * c.OutH;
        int chunks = Math.Max(1, CeilDiv(rows, c.RowsPerChunk));
        int rowBegin = slice * c.ChunksPerSlice * c.RowsPerChunk;
        int rowEnd = Math.Min(rows, Math.Min(chunks, (slice + 1) * c.ChunksPerSlice) * c.RowsPerChunk);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        nint xStep = (nint)c.StrideW * c.InC;
        for (int r = rowBegin; r < rowEnd; r++)
        {
            int b = r / c.OutH;
            int oy = r - b * c.OutH;
            int iy = oy * c.StrideH + kh - c.PadTop;
            if (iy < 0 || iy >= c.InH) continue;
            // Column ox's first input: x[b, iy, ox * stride - pad, 0] + j0 (left of the row where padding is: never read there).
            float* xi = x + (((nint)b * c.InH + iy) * c.InW - c.PadLeft) * c.InC + j0;
            float* di = dy + (nint)r * c.OutW * c.DyStride + co0;
            for (int ox = 0; ox < c.OutW; ox++, xi += xStep, di += c.DyStride)
            {
                int mask = valid[ox];
                if (mask == 0) continue;
                var d0 = Vector512.Load(di);
                var d1 = TColumns.Two ? Vector512.Load(di + Lanes) : default;
                if (mask == all)
                {
                    // Every real input inside the row; inputs past `inputs` read the next floats (slack) into sums not stored.
                    var v = Vector512.Create(xi[0]);
                    a0 = Vector512.FusedMultiplyAdd(v, d0, a0);
                    if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v, d1, b0);
                    v = Vector512.Create(xi[1]);
                    a1 = Vector512.FusedMultiplyAdd(v, d0, a1);
                    if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v, d1, b1);
                    v = Vector512.Create(xi[2]);
                    a2 = Vector512.FusedMultiplyAdd(v, d0, a2);
                    if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v, d1, b2);
                    v = Vector512.Create(xi[3]);
                    a3 = Vector512.FusedMultiplyAdd(v, d0, a3);
                    if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v, d1, b3);
                    v = Vector512.Create(xi[4]);
                    a4 = Vector512.FusedMultiplyAdd(v, d0, a4);
                    if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, d1, b4);
                    v = Vector512.Create(xi[5]);
                    a5 = Vector512.FusedMultiplyAdd(v, d0, a5);
                    if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, d1, b5);
                    v = Vector512.Create(xi[6]);
                    a6 = Vector512.FusedMultiplyAdd(v, d0, a6);
                    if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, d1, b6);
                    v = Vector512.Create(xi[7]);
                    a7 = Vector512.FusedMultiplyAdd(v, d0, a7);
                    if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, d1, b7);
                    continue;
                }
                // An edge column: only the inputs whose taps are inside the row.
                if ((mask & 1) != 0) { var v = Vector512.Create(xi[0]); a0 = Vector512.FusedMultiplyAdd(v, d0, a0); if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v, d1, b0); }
                if ((mask & 2) != 0) { var v = Vector512.Create(xi[1]); a1 = Vector512.FusedMultiplyAdd(v, d0, a1); if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v, d1, b1); }
                if ((mask & 4) != 0) { var v = Vector512.Create(xi[2]); a2 = Vector512.FusedMultiplyAdd(v, d0, a2); if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v, d1, b2); }
                if ((mask & 8) != 0) { var v = Vector512.Create(xi[3]); a3 = Vector512.FusedMultiplyAdd(v, d0, a3); if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v, d1, b3); }
                if ((mask & 16) != 0) { var v = Vector512.Create(xi[4]); a4 = Vector512.FusedMultiplyAdd(v, d0, a4); if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, d1, b4); }
                if ((mask & 32) != 0) { var v = Vector512.Create(xi[5]); a5 = Vector512.FusedMultiplyAdd(v, d0, a5); if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, d1, b5); }
                if ((mask & 64) != 0) { var v = Vector512.Create(xi[6]); a6 = Vector512.FusedMultiplyAdd(v, d0, a6); if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, d1, b6); }
                if ((mask & 128) != 0) { var v = Vector512.Create(xi[7]); a7 = Vector512.FusedMultiplyAdd(v, d0, a7); if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, d1, b7); }
            }
        }
        tile[0] = a0; tile[1] = b0; tile[2] = a1; tile[3] = b1; tile[4] = a2; tile[5] = b2; tile[6] = a3; tile[7] = b3;
        tile[8] = a4; tile[9] = b4; tile[10] = a5; tile[11] = b5; tile[12] = a6; tile[13] = b6; tile[14] = a7; tile[15] = b7;
        float* target = partial + ((nint)kh * c.KW * c.InC + j0) * c.OutC + co0;
        WriteTile(tile, inputs, Math.Min(TColumns.Two ? ChannelBlock : Lanes, c.OutC - co0), target, c.OutC, null);
    }

    // ---- helpers ----

    // Where tap (0, 0) of output pixels pixel0 .. pixel0 + count - 1 of the batch (row-major, images one after another;
    // past the last, the last) reads the copy: one division for the block, then column steps.
    private static void FirstTaps(in DirectConv c, long pixel0, long pixels, nint* first, int count)
    {
        int plane = c.OutH * c.OutW;
        int image = (int)(pixel0 / plane);
        int q = (int)(pixel0 - (long)image * plane);
        int oy = q / c.OutW;
        int ox = q - oy * c.OutW;
        for (int i = 0; i < count; i++)
        {
            first[i] = (((nint)image * c.PaddedH + oy * c.StrideH - c.PadTop - c.OriginH) * c.PaddedW + ox * c.StrideW - c.PadLeft - c.OriginW) * c.InC;
            if (pixel0 + i + 1 >= pixels) continue;
            if (++ox < c.OutW) continue;
            ox = 0;
            if (++oy < c.OutH) continue;
            oy = 0;
            image++;
        }
    }

    // Writes `rows` rows of a tile (two vectors per row), each cut to `channels` (+ bias[channel]), rows `stride` floats apart.
    private static void WriteTile(Vector512<float>* tile, int rows, int channels, float* target, nint stride, float* bias, bool streaming = false)
    {
        var bias0 = bias != null && channels >= Lanes ? Vector512.Load(bias) : Vector512<float>.Zero;
        var bias1 = bias != null && channels >= ChannelBlock ? Vector512.Load(bias + Lanes) : Vector512<float>.Zero;
        for (int r = 0; r < rows; r++, target += stride)
        {
            // No bias, no addition: x + 0 would turn a -0 sum into +0.
            if (channels >= Lanes) HostMask.Store(target, bias != null ? tile[2 * r] + bias0 : tile[2 * r], Lanes, default, streaming);
            if (channels >= ChannelBlock) HostMask.Store(target + Lanes, bias != null ? tile[2 * r + 1] + bias1 : tile[2 * r + 1], Lanes, default, streaming);
            // A tail of fewer than 16 channels, element by element (the bias added as the vectors add it: once, after the sum).
            int done = channels >= ChannelBlock ? ChannelBlock : channels >= Lanes ? Lanes : 0;
            float* row = (float*)(tile + 2 * r);
            for (int i = done; i < channels; i++) target[i] = bias != null ? row[i] + bias[i] : row[i];
        }
    }

    private static void Require(ArrayView<float> view, long length, string what)
    {
        if (view.Length < length)
            throw new ArgumentException($"Conv2d (host): {what} has {view.Length} elements; the geometry needs {length}.");
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private interface IInputs
    {
        static abstract bool Eight { get; }

        /// <summary>Four inputs x 64 output channels (two column blocks at once).</summary>
        static abstract bool Wide { get; }
    }

    private struct FourInputs : IInputs
    {
        public static bool Eight => false;
        public static bool Wide => false;
    }

    private struct FourInputsWide : IInputs
    {
        public static bool Eight => false;
        public static bool Wide => true;
    }

    private struct EightInputs : IInputs
    {
        public static bool Eight => true;
        public static bool Wide => false;
    }
}
