// HostWinograd: 3x3 and 5x5 stride-1 convolutions and their gradients by Winograd's minimal filtering, as host code for
// the CPU accelerator (ConvAlgorithm.Winograd; Auto takes it where it pays, see Pays).
//   Two tilings, both with 4x4 output tiles: 3x3 filters on 6x6 tiles (interpolation points 0, 1, -1, 2, -2 and
//   infinity), 5x5 filters on 8x8 tiles (the same and 1/2, -1/2). F(n outputs, k taps) needs n + k - 1 points; the
//   transforms follow from the points (Tiling, docs/reference/perf-anchors.md):
//   Forward         F(4x4, 3x3) or F(4x4, 5x5): per tile, y = AT [ (G g GT) . (BT d B) ] A, the elementwise product
//                   summed over input channels as 36 or 64 GEMMs [tiles x Cin] x [Cin x Cout], one per transformed point.
//   BackwardInput   the same over dy with the filter turned 180 degrees and its channels swapped.
//   BackwardFilter  F(3x3, 4x4) or F(5x5, 4x4): the filter gradient is the correlation of x with dy, so dy's 4x4 tiles play
//                   the filter and x's patches the data; the products are summed over all tiles as one GEMM
//                   [Cin x tiles] x [tiles x Cout] per point, and one output transform per (ci, co) gives dw.
//   Multiplications per output drop from 9 to 2.25 (3x3) and from 25 to 4 (5x5). The results are not the direct
//   convolution's bits: the transforms add and scale before the products (differences near 1e-5 of the largest output at
//   64 channels for both tilings; the tests bound them). Every result is still the same on every run and thread count:
//   each sum has a fixed order (the GEMMs' K loops in order, the filter gradient's tile parts fixed by the shape and
//   added in order).

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Winograd convolutions for the CPU accelerator: 3x3 filters on 6x6 tiles, 5x5 on 8x8 (stride 1, no dilation).</summary>
/// <remarks>Stack buffers are not zeroed (SkipLocalsInit): every one is written before it is read.</remarks>
[SkipLocalsInit]
internal static unsafe class HostWinograd
{
    /// <summary>The largest tiling's transformed points per tile (8 x 8); stack buffers are sized for it.</summary>
    private const int MaxAlpha = 8, MaxPoints = MaxAlpha * MaxAlpha;
    private const int Lanes = 16, RowBlock = 12, ColumnBlock = 32;
    /// <summary>Output tile side of both tilings (and the side of dy's tiles in the filter gradient).</summary>
    private const int TileSide = 4;

    private static readonly Tiling Six = new([0, 1, -1, 2, -2], forwardBatch: 48, filterPart: 384, filterBatch: 96);
    private static readonly Tiling Eight = new([0, 1, -1, 2, -2, 0.5, -0.5], forwardBatch: 24, filterPart: 96, filterBatch: 48);

    /// <summary>The tiling of an r x r filter: alpha = r + 3 points per side, so that every tile gives 4x4 outputs.</summary>
    private static Tiling For(int r) => r == 3 ? Six : Eight;

    /// <summary>Whether the Winograd route computes this convolution: stride 1, no dilation, a square 3x3 or 5x5 filter.</summary>
    public static bool Fits(WindowGeometry g) =>
        g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1 && g.KH == g.KW && (g.KH == 3 || g.KH == 5);

    /// <summary>
    /// Whether Auto takes it: <see cref="Fits"/>, at least 16 input channels and 8 output channels (thin layers spend
    /// their time in the transforms, not the products), and enough work to repay the filter's transform
    /// (<see cref="EnoughWork"/>).
    /// </summary>
    public static bool Pays(WindowGeometry g) => Fits(g) && g.InC >= 16 && g.OutC >= 8 && EnoughWork(g, g.OutH, g.OutW);

    /// <summary>
    /// Whether Auto takes it for the input gradient: dy's channels are the inputs there (at least 16, or 8 with at least 64
    /// dx channels); few dx channels (an image's 3) still pay, since the direct route pads them to a whole vector as well.
    /// Measured here (2 cores, batch 128, 5x5 SAME): 64 -> 10 channels (conv3) ran 1.3-2.2x faster than the direct
    /// route at 6x6 and 12x12, while 16 -> 8 at 12x12 (and 32 -> 8 with 3x3 at 14x14, batch 32) ran 1.3x slower.
    /// </summary>
    public static bool PaysBackwardInput(WindowGeometry g) =>
        Fits(g) && (g.OutC >= 16 || g.OutC >= 8 && g.InC >= 64) && EnoughWork(g, g.InH, g.InW);

    /// <summary>
    /// Whether Auto takes it for the filter gradient (x's patches are the data there: at least 8 input channels), up to 256
    /// channels a side (its per-point sums of a wider layer outgrow the cache), with enough tiles (<see cref="EnoughTiles"/>).
    /// </summary>
    public static bool PaysBackwardFilter(WindowGeometry g) =>
        Fits(g) && g.InC >= 8 && g.OutC >= 8 && g.InC <= 256 && g.OutC <= 256 && EnoughTiles(g, g.OutH, g.OutW);

    /// <summary>
    /// Whether the forward pass (or the input gradient) over an h x w result saves more than the filter's transform and
    /// the fixed costs take. Each 4x4 tile saves a fixed share of the direct route's products (108 multiplications per
    /// channel pair for 3x3, 336 for 5x5: a 5x5 tile counts three times), while the filter's transform costs the same at
    /// any batch. Measured here (2 cores, forward): 16 tiles of 3x3 break even at 256 and 512 channels and win 1.6x at 128
    /// (8x8 planes); a 16x16 plane at 64 channels loses 2.7x with one image and 1.2x with two; 28x28 at 128 channels wins
    /// 1.9x with one image, 7x7 at 512 wins 1.9x with 16 images and loses 3x with one. Hence at least 20 counted tiles and
    /// tiles x InC x OutC at least 3 x 2^16.
    /// </summary>
    private static bool EnoughWork(WindowGeometry g, int h, int w)
    {
        long tiles = (long)g.Batch * CeilDiv(h, TileSide) * CeilDiv(w, TileSide) * (g.KH == 5 ? 3 : 1);
        return tiles >= 20 && tiles * g.InC * g.OutC >= 3 << 16;
    }

    /// <summary>
    /// Whether the 4x4 tiles of an h x w result are at least a quarter of InC + OutC (the filter gradient's rule). The
    /// filter gradient's output transform costs the same at any batch, while each tile saves a fixed share of the direct
    /// route's work: a single 14x14 image at 256 channels (16 tiles) spent three times as long in the transforms as the
    /// direct route takes. A 5x5 tile saves three times a 3x3 tile's work, so the same bound is on the safe side for both.
    /// </summary>
    private static bool EnoughTiles(WindowGeometry g, int h, int w)
    {
        long tiles = (long)g.Batch * CeilDiv(h, TileSide) * CeilDiv(w, TileSide);
        return 4 * tiles >= g.InC + g.OutC;
    }

    /// <summary>
    /// Whether Auto takes it when the transformed filter is cached (<see cref="Conv2dFilterCache"/>): no transform per call
    /// to repay, only the transformed filter to read (four times the filter's bytes for 3x3, 36/9). Measured here (2
    /// cores, filters from memory as a network's layers read them): one 14x14 image at 256 channels (16 tiles) took 0.7
    /// ms against the direct route's 1.4 ms. One 7x7 image at 512 channels (4 tiles) took 1.3 ms against 1.6 ms in quiet
    /// runs but lost in runs where other tenants' traffic slowed memory (its transform is 38 MB a layer), and a whole
    /// ResNet-18 pass ran no faster for it. Hence at least 16 counted tiles (a 5x5 tile counts three times).
    /// </summary>
    public static bool PaysPrepared(WindowGeometry g) =>
        Fits(g) && g.InC >= 16 && g.OutC >= 8 && (long)g.Batch * CeilDiv(g.OutH, TileSide) * CeilDiv(g.OutW, TileSide) * (g.KH == 5 ? 3 : 1) >= 16;

    /// <summary>y = conv2d(x, w) (+ bias); with a cache, the filter's transform is made once and kept there.</summary>
    public static void Forward(CPUAccelerator cpu, ArrayView<float> x, ArrayView<float> w, ArrayView<float>? bias, ArrayView<float> y, WindowGeometry g,
                               Conv2dFilterCache? cache = null)
    {
        var p = new Problem(For(g.KH), HostView.Address(x), g.Batch, g.InH, g.InW, g.InC, g.OutC, g.PadTop, g.PadLeft, g.OutH, g.OutW,
                            bias is { } b ? HostView.Address(b) : 0, HostView.Address(y));
        var filter = new Filter(HostView.Address(w), g.KH, g.InC, g.OutC, Flip: false);
        int columns = CeilDiv(p.CoutP, ColumnBlock);
        float* prepared = cache is null ? null : cache.Get(Conv2dFilterCache.Winograd, filter.Address, new(g.KH, g.KW, g.InC, g.OutC, 0),
            (long)columns * For(g.KH).Points * g.InC * ColumnBlock, u => TransformFilterByColumns(cpu, filter, (float*)u));
        Convolve(cpu, p, filter, prepared);
        // The cache's finalizer frees what `prepared` points at: the cache lives until the products are done.
        GC.KeepAlive(cache);
    }

    /// <summary>dx from dy and w: the forward pass over dy with w turned 180 degrees, its channels swapped, and padding r - 1 - pad.</summary>
    public static void BackwardInput(CPUAccelerator cpu, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, WindowGeometry g)
    {
        int r = g.KH;
        var p = new Problem(For(r), HostView.Address(dy), g.Batch, g.OutH, g.OutW, g.OutC, g.InC, r - 1 - g.PadTop, r - 1 - g.PadLeft,
                            g.InH, g.InW, 0, HostView.Address(dx));
        Convolve(cpu, p, new Filter(HostView.Address(w), r, g.OutC, g.InC, Flip: true));
    }

    /// <summary>dw from x and dy; overwrites dw.</summary>
    public static void BackwardFilter(CPUAccelerator cpu, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g)
    {
        int r = g.KH, m = TileSide;
        var tiling = For(r);
        int points = tiling.Points, filterPart = tiling.FilterPart, filterBatch = tiling.FilterBatch;
        int cinP = RoundUp(g.InC, Lanes), coutP = RoundUp(g.OutC, Lanes);
        int tilesY = CeilDiv(g.OutH, m), tilesX = CeilDiv(g.OutW, m);
        long tiles = (long)g.Batch * tilesY * tilesX;
        int parts = (int)Math.Max(1, (tiles + filterPart - 1) / filterPart);
        long sums = (long)points * cinP * coutP;
        var partial = (float*)NativeMemory.AlignedAlloc((nuint)(parts * sums * sizeof(float)), 64);
        nint xp = HostView.Address(x), dp = HostView.Address(dy), pp = (nint)partial;
        float[] tapsT = tiling.Taps(m);
        // Fewer parts than twice the cores (few tiles: 16 images of 14x14 are one part) also split the points between the
        // cores, each group transforming the part's tiles itself; every point's sum keeps its tiles and order.
        int groups = cpu.IsSequential ? 1 : Math.Clamp(2 * Environment.ProcessorCount / parts, 1, 4);
        try
        {
            HostParallel.For(cpu, (long)parts * groups, (begin, end) =>
            {
                // One batch's transformed x patches [points][batch][cinP] and dy tiles [points][batch][coutP], each plane one
                // cache line longer than its tiles need (see Convolve); the last plane's slack also absorbs the reads of the
                // GEMM's last row block past the last channel.
                long vPlane = (long)filterBatch * cinP + Lanes, wPlane = (long)filterBatch * coutP + Lanes;
                long vLength = points * vPlane, wLength = points * wPlane;
                var v = HostScratch.Get(HostScratch.Work, vLength + wLength);
                var wt = v + vLength;
                new Span<float>(v, (int)(vLength + wLength)).Clear();
                fixed (float* gt = tapsT)
                {
                    for (long item = begin; item < end; item++)
                    {
                        long part = item / groups;
                        int group = (int)(item % groups);
                        int pointBegin = points * group / groups, pointEnd = points * (group + 1) / groups;
                        float* sum = (float*)pp + part * sums;
                        long first = part * filterPart, last = Math.Min(tiles, first + filterPart);
                        for (long t0 = first; t0 < last; t0 += filterBatch)
                        {
                            int count = (int)Math.Min(filterBatch, last - t0);
                            for (int t = 0; t < count; t++)
                            {
                                var (image, ty, tx) = Tile(t0 + t, tilesY, tilesX);
                                // x patch rows oy + kh - pad for the tile's m rows of dy: from ty*m - pad, alpha rows.
                                TransformPatch(tiling, (float*)xp, image, g.InH, g.InW, g.InC, cinP, ty * m - g.PadTop, tx * m - g.PadLeft,
                                               v + (long)t * cinP, vPlane);
                                TransformTile(tiling.Alpha, gt, (float*)dp, image, g.OutH, g.OutW, g.OutC, coutP, ty * m, tx * m,
                                              wt + (long)t * coutP, wPlane);
                            }
                            bool accumulate = t0 > first;
                            for (int point = pointBegin; point < pointEnd; point++)
                            {
                                float* a = v + point * vPlane;
                                float* b = wt + point * wPlane;
                                float* c = sum + (long)point * cinP * coutP;
                                for (int ci0 = 0; ci0 < g.InC; ci0 += RowBlock)
                                    for (int co0 = 0; co0 < coutP; co0 += ColumnBlock)
                                    {
                                        int rows = Math.Min(RowBlock, g.InC - ci0);
                                        if (coutP - co0 >= ColumnBlock)
                                            GemmTransposed<TwoVectors>(a + ci0, cinP, count, b + co0, coutP, c + (long)ci0 * coutP + co0, coutP, rows, accumulate);
                                        else
                                            GemmTransposed<OneVector>(a + ci0, cinP, count, b + co0, coutP, c + (long)ci0 * coutP + co0, coutP, rows, accumulate);
                                    }
                            }
                        }
                    }
                }
            });
            // The parts' sums in part order, then dw = AT M A per (ci, co).
            for (int p = 1; p < parts; p++)
                Add(partial, partial + p * sums, sums);
            nint wp = HostView.Address(dw);
            fixed (float* at = tiling.Outputs(r))
            {
                var block = stackalloc Vector512<float>[2 * MaxPoints];
                for (int ci = 0; ci < g.InC; ci++)
                    for (int co0 = 0; co0 < g.OutC; co0 += Lanes)
                    {
                        for (int point = 0; point < points; point++)
                            block[point] = Vector512.Load(partial + ((long)point * cinP + ci) * coutP + co0);
                        Untransform(tiling.Alpha, at, r, block, block + MaxPoints);
                        int channels = Math.Min(Lanes, g.OutC - co0);
                        for (int a = 0; a < r; a++)
                            for (int b = 0; b < r; b++)
                                Store((float*)wp + (((long)a * r + b) * g.InC + ci) * g.OutC + co0, block[MaxPoints + a * r + b], channels, null);
                    }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(partial);
        }
    }

    // ---- the forward pass (and the input gradient) ----

    // y[N, outH, outW, cout] = conv(src[N, inH, inW, cin], filter), with the filter's transform made here or `prepared`
    // (by columns, TransformFilterByColumns).
    private static void Convolve(CPUAccelerator cpu, Problem p, Filter filter, float* prepared = null)
    {
        long batches = (p.Tiles + p.Tiling.ForwardBatch - 1) / p.Tiling.ForwardBatch;
        // Above 256 x 256 channels the transformed filter (36 or 64 points of it) outgrows the caches that batches share.
        bool wide = (long)p.Cin * p.CoutP > 256 * 256;
        if ((batches >= 2 * Environment.ProcessorCount && !wide) || cpu.IsSequential)
        {
            var u = prepared != null
                ? FilterColumns.Of(prepared, columnMajor: true, p.Tiling.Points, p.Cin, p.CoutP)
                : FilterColumns.Of(TransformFilter(cpu, filter), columnMajor: false, p.Tiling.Points, p.Cin, p.CoutP);
            ConvolveBatches(cpu, p, u, batches);
        }
        else
            ConvolveColumns(cpu, p, filter, prepared);
    }

    // Parallel over batches of tiles: each part transforms its tiles, runs every point's GEMM over all output channels and
    // transforms the products back, the batch's working set in L2.
    private static void ConvolveBatches(CPUAccelerator cpu, Problem p, FilterColumns u, long batches)
    {
        int points = p.Tiling.Points, forwardBatch = p.Tiling.ForwardBatch;
        HostParallel.For(cpu, batches, (begin, end) =>
        {
            // Each transformed point's plane one cache line longer than its tiles need: planes a power-of-two multiple of
            // 4 KiB apart would put the values of one tile in one L1 set.
            long vPlane = (long)forwardBatch * p.CinP + Lanes, mPlane = (long)forwardBatch * p.CoutP + Lanes;
            long vLength = points * vPlane, mLength = points * mPlane;
            var v = HostScratch.Get(HostScratch.Work, vLength + mLength + Lanes);
            var products = v + vLength;
            var block = stackalloc Vector512<float>[2 * MaxPoints];
            for (long batchIndex = begin; batchIndex < end; batchIndex++)
            {
                long t0 = batchIndex * forwardBatch;
                int count = (int)Math.Min(forwardBatch, p.Tiles - t0);
                TransformTiles(p, t0, 0, count, v, vPlane);
                PointGemms(p, v, vPlane, count, u, 0, p.CoutP, products, mPlane, p.CoutP);
                StoreTiles(p, t0, count, products, mPlane, p.CoutP, 0, p.CoutP, block);
            }
        });
    }

    // Few tile batches for the cores (wide layers on small planes: 7x7 at 512 channels is 4 tiles an image): all tiles'
    // transforms first, in parallel, then parallel over 32-channel column blocks, each through every point's GEMM and
    // the transform back, so both cores stay busy. Each part transforms its columns of the filter itself, into its own
    // scratch: at 512 channels the whole transformed filter (38 MB) would go to memory and back. A `prepared` transform
    // (by columns, FilterColumns.Of) is read in place instead.
    private static void ConvolveColumns(CPUAccelerator cpu, Problem p, Filter filter, float* prepared)
    {
        nint pu = (nint)prepared;
        int points = p.Tiling.Points;
        // Tiles per round: the transformed tiles of a round within 8 MB.
        long perRound = Math.Max(RowBlock, 8L * 1024 * 1024 / sizeof(float) / ((long)points * p.CinP) / RowBlock * RowBlock);
        long vPlane0 = Math.Min(perRound, p.Tiles) * p.CinP + Lanes;
        var v = (float*)NativeMemory.AlignedAlloc((nuint)(points * vPlane0 * sizeof(float)), 64);
        nint vp = (nint)v;
        try
        {
            for (long t0 = 0; t0 < p.Tiles; t0 += perRound)
            {
                int count = (int)Math.Min(perRound, p.Tiles - t0);
                long vPlane = vPlane0;
                HostParallel.For(cpu, count, (begin, end) => TransformTiles(p, t0, (int)begin, (int)(end - begin), (float*)vp, vPlane));
                HostParallel.For(cpu, CeilDiv(p.CoutP, ColumnBlock), (begin, end) =>
                {
                    long mPlane = (long)count * ColumnBlock + Lanes, uLength = pu != 0 ? 0 : (long)points * p.Cin * ColumnBlock;
                    var products = HostScratch.Get(HostScratch.Work, points * mPlane + uLength + Lanes);
                    var u = products + points * mPlane;
                    var block = stackalloc Vector512<float>[2 * MaxPoints];
                    for (long column = begin; column < end; column++)
                    {
                        int co0 = (int)column * ColumnBlock, co1 = Math.Min(co0 + ColumnBlock, p.CoutP);
                        // The transformed filter's columns co0 .. co1: cached, or made here (u[point][ci][0 .. 32)).
                        var columnU = pu != 0 ? FilterColumns.Of((float*)pu, columnMajor: true, points, p.Cin, p.CoutP) : FilterColumns.Column(u, co0);
                        if (pu == 0) TransformFilterColumns(filter, 0, filter.Cin, co0, co1, u - co0, ColumnBlock);
                        PointGemms(p, (float*)vp, vPlane, count, columnU, co0, co1, products, mPlane, ColumnBlock);
                        StoreTiles(p, t0, count, products, mPlane, ColumnBlock, co0, co1 - co0, block);
                    }
                });
            }
        }
        finally
        {
            NativeMemory.AlignedFree(v);
        }
    }

    // v[point * vPlane + t * cinP + ci] = the transformed patches of tiles t0 + first .. + count (at t = first ..).
    private static void TransformTiles(in Problem p, long t0, int first, int count, float* v, long vPlane)
    {
        const int m = TileSide;
        for (int t = first; t < first + count; t++)
        {
            var (image, ty, tx) = Tile(t0 + t, p.TilesY, p.TilesX);
            TransformPatch(p.Tiling, (float*)p.Source, image, p.InH, p.InW, p.Cin, p.CinP, ty * m - p.PadTop, tx * m - p.PadLeft,
                           v + (long)t * p.CinP, vPlane);
        }
    }

    // c[point * cPlane + t * ldc + (co - first)] = the products of `count` tiles' transforms with the transformed filter's
    // columns first .. last (multiples of 32, or the end), for every point: 12 tiles x 32 columns per block, columns
    // fastest (or 10 or 8 tiles, where that computes fewer: one 14x14 image's 16 tiles).
    private static void PointGemms(in Problem p, float* v, long vPlane, int count, in FilterColumns u, int first, int last, float* c, long cPlane, int ldc)
    {
        int block = BlockRows.For(count);
        for (int point = 0; point < p.Tiling.Points; point++)
        {
            float* a = v + point * vPlane;
            float* target = c + point * cPlane - first;
            for (int row0 = 0; row0 < count; row0 += block)
            {
                int rows = Math.Min(block, count - row0);
                for (int co0 = first; co0 < last; co0 += ColumnBlock)
                    Gemm(a + (long)row0 * p.CinP, p.CinP, rows, block, p.Cin, u.At(point, p.Cin, co0), u.Ldu, target + (long)row0 * ldc + co0, ldc, last - co0 >= ColumnBlock);
            }
        }
    }

    /// <summary>
    /// Where a transformed filter lies: (point, ci, co) at U + (co / 32) * ColumnStride + (point * Cin + ci) * Ldu + co % 32.
    /// The transform made per call is one block of rows (ColumnStride 32, Ldu = CoutP); a cached one (and a part's own
    /// columns) is one block per 32 columns (Ldu 32), so that each column block's values lie in one run.
    /// </summary>
    private readonly struct FilterColumns(float* u, int ldu, long columnStride)
    {
        public readonly int Ldu = ldu;
        private readonly float* _u = u;
        private readonly long _columnStride = columnStride;

        /// <summary>The transformed filter of a whole cached or per-call transform (see <see cref="TransformFilter"/>).</summary>
        public static FilterColumns Of(float* u, bool columnMajor, int points, int cin, int coutP) =>
            columnMajor ? new(u, ColumnBlock, (long)points * cin * ColumnBlock) : new(u, coutP, ColumnBlock);

        /// <summary>Column block co0 / 32 alone at <paramref name="u"/> (Ldu 32).</summary>
        public static FilterColumns Column(float* u, int co0) => new(u - co0, ColumnBlock, ColumnBlock);

        /// <summary>The first of point's rows of the column block that starts at co0 (a multiple of 32).</summary>
        public float* At(int point, int cin, int co0) => _u + (co0 / ColumnBlock) * _columnStride + (long)point * cin * Ldu + co0 % ColumnBlock;
    }

    // y's 4x4 outputs of tiles t0 .. t0 + count, channels co0 .. co0 + width (cut to cout), + bias, from the products
    // c[point * cPlane + t * ldc + (co - co0)].
    private static void StoreTiles(in Problem p, long t0, int count, float* c, long cPlane, int ldc, int co0, int width, Vector512<float>* block)
    {
        const int m = TileSide;
        int points = p.Tiling.Points;
        fixed (float* at = p.Tiling.Outputs(m))
        {
            for (int t = 0; t < count; t++)
            {
                var (image, ty, tx) = Tile(t0 + t, p.TilesY, p.TilesX);
                for (int co = co0; co < Math.Min(co0 + width, p.Cout); co += Lanes)
                {
                    for (int point = 0; point < points; point++)
                        block[point] = Vector512.Load(c + point * cPlane + (long)t * ldc + co - co0);
                    Untransform(p.Tiling.Alpha, at, m, block, block + MaxPoints);
                    int channels = Math.Min(Lanes, p.Cout - co);
                    float* biasAt = p.Bias == 0 ? null : (float*)p.Bias + co;
                    for (int i = 0; i < m && ty * m + i < p.OutH; i++)
                        for (int j = 0; j < m && tx * m + j < p.OutW; j++)
                            Store((float*)p.Target + (((long)image * p.OutH + ty * m + i) * p.OutW + tx * m + j) * p.Cout + co,
                                  block[MaxPoints + i * m + j], channels, biasAt);
                }
            }
        }
    }

    /// <summary>
    /// A filter to transform: w[kh, kw, ci, co] (HWIO) with Cin x Cout channels, or with Flip, w[r-1-kh, r-1-kw, co, ci] of a
    /// filter whose channels are swapped (the input gradient's: its Cin are the stored filter's output channels).
    /// </summary>
    private readonly record struct Filter(nint Address, int R, int Cin, int Cout, bool Flip);

    /// <summary>One forward convolution's geometry on 4x4 output tiles (the input gradient's as a forward pass over dy).</summary>
    private readonly struct Problem(Tiling tiling, nint source, int batch, int inH, int inW, int cin, int cout, int padTop, int padLeft,
                                    int outH, int outW, nint bias, nint target)
    {
        public Tiling Tiling { get; } = tiling;
        public nint Source { get; } = source;
        public int InH { get; } = inH;
        public int InW { get; } = inW;
        public int Cin { get; } = cin;
        public int CinP { get; } = RoundUp(cin, Lanes);
        public int Cout { get; } = cout;
        public int CoutP { get; } = RoundUp(cout, Lanes);
        public int PadTop { get; } = padTop;
        public int PadLeft { get; } = padLeft;
        public int OutH { get; } = outH;
        public int OutW { get; } = outW;
        public int TilesY { get; } = CeilDiv(outH, TileSide);
        public int TilesX { get; } = CeilDiv(outW, TileSide);
        public long Tiles => (long)batch * TilesY * TilesX;
        public nint Bias { get; } = bias;
        public nint Target { get; } = target;
    }

    // u[point][ci][co] (co padded to 16) = (G g GT)[point] for each r x r filter g of (ci, co), in this thread's filter
    // scratch. Input channels run in parallel parts: a 512 x 512 filter's transform on one core took as long as the products.
    private static float* TransformFilter(CPUAccelerator cpu, Filter filter)
    {
        int coutP = RoundUp(filter.Cout, Lanes);
        var u = HostScratch.Get(HostScratch.Filter, (long)For(filter.R).Points * filter.Cin * coutP);
        nint up = (nint)u;
        HostParallel.For(cpu, filter.Cin, (begin, end) => TransformFilterColumns(filter, (int)begin, (int)end, 0, coutP, (float*)up, coutP));
        return u;
    }

    // The transform in blocks of 32 columns (FilterColumns.Of(.., columnMajor: true, ..)), into `target`; in parallel.
    private static void TransformFilterByColumns(CPUAccelerator cpu, Filter filter, float* target)
    {
        int coutP = RoundUp(filter.Cout, Lanes);
        var u = FilterColumns.Of(target, columnMajor: true, For(filter.R).Points, filter.Cin, coutP);
        HostParallel.For(cpu, CeilDiv(coutP, ColumnBlock), (begin, end) =>
        {
            for (long column = begin; column < end; column++)
            {
                int co0 = (int)column * ColumnBlock;
                // u.At(0, ..) - co0: the base that TransformFilterColumns offsets by co (Ldu 32).
                TransformFilterColumns(filter, 0, filter.Cin, co0, Math.Min(co0 + ColumnBlock, coutP), u.At(0, filter.Cin, co0) - co0, ColumnBlock);
            }
        });
    }

    // u[(point * cin + ci) * ldu + co] = (G g GT)[point] of (ci, co) for ci in [ciBegin, ciEnd), co in [co0, co1) (16 at a
    // time, zero past cout).
    private static void TransformFilterColumns(in Filter filter, int ciBegin, int ciEnd, int co0, int co1, float* u, long ldu)
    {
        int r = filter.R, cin = filter.Cin, cout = filter.Cout;
        var tiling = For(r);
        int alpha = tiling.Alpha;
        float* f = (float*)filter.Address;
        var g = stackalloc float[25 * Lanes];
        var half = stackalloc float[MaxAlpha * 5 * Lanes];
        fixed (float* gt = tiling.Taps(r))
        {
            for (int ci = ciBegin; ci < ciEnd; ci++)
                for (int c0 = co0; c0 < co1; c0 += Lanes)
                {
                    // The 16 output channels' r x r filters, zero past cout.
                    for (int a = 0; a < r; a++)
                        for (int b = 0; b < r; b++)
                        {
                            float* row = g + (a * r + b) * Lanes;
                            if (!filter.Flip && c0 + Lanes <= cout)
                            {
                                Vector512.Store(Vector512.Load(f + (((long)a * r + b) * cin + ci) * cout + c0), row);
                                continue;
                            }
                            for (int l = 0; l < Lanes; l++)
                            {
                                int co = c0 + l;
                                row[l] = co >= cout ? 0f
                                    : filter.Flip ? f[(((long)(r - 1 - a) * r + (r - 1 - b)) * cout + co) * cin + ci]
                                    : f[(((long)a * r + b) * cin + ci) * cout + co];
                            }
                        }
                    // half[i][b] = sum over a of G[i][a] g[a][b]; u[i][j] = sum over b of half[i][b] G[j][b].
                    for (int i = 0; i < alpha; i++)
                        for (int b = 0; b < r; b++)
                        {
                            var sum = Vector512<float>.Zero;
                            for (int a = 0; a < r; a++) sum = Vector512.FusedMultiplyAdd(Vector512.Create(gt[i * r + a]), Vector512.Load(g + (a * r + b) * Lanes), sum);
                            Vector512.Store(sum, half + (i * r + b) * Lanes);
                        }
                    for (int i = 0; i < alpha; i++)
                        for (int j = 0; j < alpha; j++)
                        {
                            var sum = Vector512<float>.Zero;
                            for (int b = 0; b < r; b++) sum = Vector512.FusedMultiplyAdd(Vector512.Load(half + (i * r + b) * Lanes), Vector512.Create(gt[j * r + b]), sum);
                            Vector512.Store(sum, u + ((long)(i * alpha + j) * cin + ci) * ldu + c0);
                        }
                }
        }
    }

    // ---- transforms ----

    // v[point * pointStride + ci] = (BT d B)[point] for the alpha x alpha patch d of image `image` whose first cell is
    // (row, col) (cells outside the image read 0), 16 channels at a time (channels past cin: whatever the transform gives of 0).
    private static void TransformPatch(Tiling tiling, float* source, int image, int height, int width, int channels, int channelsP,
                                       int row, int col, float* v, long pointStride)
    {
        int alpha = tiling.Alpha, points = tiling.Points;
        var d = stackalloc Vector512<float>[2 * MaxPoints];
        bool inside = row >= 0 && col >= 0 && row + alpha <= height && col + alpha <= width;
        float* corner = source + (((long)image * height + row) * width + col) * channels;
        long rowStep = (long)width * channels;
        for (int c0 = 0; c0 < channelsP; c0 += Lanes)
        {
            int count = Math.Min(Lanes, channels - c0);
            if (inside && count == Lanes)
            {
                // The common case: the whole patch inside the image, whole vectors.
                for (int i = 0; i < alpha; i++)
                    for (int j = 0; j < alpha; j++)
                        d[i * alpha + j] = Vector512.Load(corner + i * rowStep + j * channels + c0);
            }
            else
            {
                // A patch over the image's edge (every patch of a small image): zeros, then the cells inside it.
                int i0 = Math.Max(0, -row), i1 = Math.Min(alpha, height - row);
                int j0 = Math.Max(0, -col), j1 = Math.Min(alpha, width - col);
                for (int k = 0; k < alpha * alpha; k++) d[k] = Vector512<float>.Zero;
                for (int i = i0; i < i1; i++)
                {
                    float* cells = source + (((long)image * height + row + i) * width + col) * channels + c0;
                    for (int j = j0; j < j1; j++) d[i * alpha + j] = Load(cells + j * channels, count);
                }
            }
            Transform(alpha, d, d + MaxPoints);
            for (int point = 0; point < points; point++)
                Vector512.Store(d[MaxPoints + point], v + point * pointStride + c0);
        }
    }

    // w[point * pointStride + co] = (G t GT)[point] for dy's 4x4 tile t at (row, col) (cells outside dy read 0).
    private static void TransformTile(int alpha, float* gt, float* source, int image, int height, int width, int channels, int channelsP,
                                      int row, int col, float* w, long pointStride)
    {
        const int m = TileSide;
        var t = stackalloc Vector512<float>[m * m];
        var half = stackalloc Vector512<float>[MaxAlpha * m];
        for (int c0 = 0; c0 < channelsP; c0 += Lanes)
        {
            int count = Math.Min(Lanes, channels - c0);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                {
                    int y = row + i, x = col + j;
                    t[i * m + j] = y < height && x < width
                        ? Load(source + (((long)image * height + y) * width + x) * channels + c0, count)
                        : Vector512<float>.Zero;
                }
            for (int i = 0; i < alpha; i++)
                for (int b = 0; b < m; b++)
                {
                    var sum = Vector512<float>.Zero;
                    for (int a = 0; a < m; a++) sum = Vector512.FusedMultiplyAdd(Vector512.Create(gt[i * m + a]), t[a * m + b], sum);
                    half[i * m + b] = sum;
                }
            for (int i = 0; i < alpha; i++)
                for (int j = 0; j < alpha; j++)
                {
                    var sum = Vector512<float>.Zero;
                    for (int b = 0; b < m; b++) sum = Vector512.FusedMultiplyAdd(half[i * m + b], Vector512.Create(gt[j * m + b]), sum);
                    Vector512.Store(sum, w + (i * alpha + j) * pointStride + c0);
                }
        }
    }

    // result = BT d B for an alpha x alpha block of vectors (result must not alias d), columns first, then rows, with BT's
    // rows written out (Tiling computes the same matrices from the points; the tests hold the two together).
    private static void Transform(int alpha, Vector512<float>* d, Vector512<float>* result)
    {
        var half = stackalloc Vector512<float>[MaxPoints];
        if (alpha == 6)
        {
            for (int j = 0; j < 6; j++) Bt6(d + j, 6, half + j, 6);
            for (int i = 0; i < 6; i++) Bt6(half + i * 6, 1, result + i * 6, 1);
            return;
        }
        for (int j = 0; j < 8; j++) Bt8(d + j, 8, half + j, 8);
        for (int i = 0; i < 8; i++) Bt8(half + i * 8, 1, result + i * 8, 1);
    }

    // Points 0, 1, -1, 2, -2, infinity: 4 d0 - 5 d2 + d4; (d3 + d4) - 4 (d1 + d2); (d4 - d3) + 4 (d1 - d2);
    // (d4 - d2) + 2 (d3 - d1); (d4 - d2) - 2 (d3 - d1); 4 d1 - 5 d3 + d5.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Bt6(Vector512<float>* d, int step, Vector512<float>* r, int rStep)
    {
        var d0 = d[0];
        var d1 = d[step];
        var d2 = d[2 * step];
        var d3 = d[3 * step];
        var d4 = d[4 * step];
        var d5 = d[5 * step];
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var two = Vector512.Create(2f);
        r[0] = Vector512.FusedMultiplyAdd(four, d0, d4 - five * d2);
        r[rStep] = Vector512.FusedMultiplyAdd(-four, d1 + d2, d3 + d4);
        r[2 * rStep] = Vector512.FusedMultiplyAdd(four, d1 - d2, d4 - d3);
        var e = d4 - d2;
        var f = d3 - d1;
        r[3 * rStep] = Vector512.FusedMultiplyAdd(two, f, e);
        r[4 * rStep] = Vector512.FusedMultiplyAdd(-two, f, e);
        r[5 * rStep] = Vector512.FusedMultiplyAdd(four, d1, d5 - five * d3);
    }

    // Points 0, 1, -1, 2, -2, 1/2, -1/2, infinity. Each pair of points +p, -p shares an even part e (d2, d4, d6) and an
    // odd part o (d1, d3, d5): rows e + o and e - o.
    //   r0 = 21/4 (d2 - d4) + d6 - d0            r7 = 21/4 (d3 - d5) + d7 - d1
    //   +-1:   e = d2 - 17/4 d4 + d6             o = d1 - 17/4 d3 + d5
    //   +-2:   e = 1/4 d2 - 5/4 d4 + d6          o = 1/2 d1 - 5/2 d3 + 2 d5
    //   +-1/2: e = 4 d2 - 5 d4 + d6              o = 2 d1 - 5/2 d3 + 1/2 d5
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Bt8(Vector512<float>* d, int step, Vector512<float>* r, int rStep)
    {
        var d0 = d[0];
        var d1 = d[step];
        var d2 = d[2 * step];
        var d3 = d[3 * step];
        var d4 = d[4 * step];
        var d5 = d[5 * step];
        var d6 = d[6 * step];
        var d7 = d[7 * step];
        var c21 = Vector512.Create(21f / 4);
        var c17 = Vector512.Create(-17f / 4);
        var c5h = Vector512.Create(-5f / 2);
        r[0] = Vector512.FusedMultiplyAdd(c21, d2 - d4, d6 - d0);
        r[7 * rStep] = Vector512.FusedMultiplyAdd(c21, d3 - d5, d7 - d1);
        var e = Vector512.FusedMultiplyAdd(c17, d4, d2 + d6);
        var o = Vector512.FusedMultiplyAdd(c17, d3, d1 + d5);
        r[rStep] = e + o;
        r[2 * rStep] = e - o;
        e = Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), d2, Vector512.FusedMultiplyAdd(Vector512.Create(-1.25f), d4, d6));
        o = Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), d1, Vector512.FusedMultiplyAdd(c5h, d3, d5 + d5));
        r[3 * rStep] = e + o;
        r[4 * rStep] = e - o;
        e = Vector512.FusedMultiplyAdd(Vector512.Create(4f), d2, Vector512.FusedMultiplyAdd(Vector512.Create(-5f), d4, d6));
        o = Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), d5, Vector512.FusedMultiplyAdd(c5h, d3, d1 + d1));
        r[5 * rStep] = e + o;
        r[6 * rStep] = e - o;
    }

    // result (n x n) = AT M A for an alpha x alpha block M of vectors, AT being n x alpha. The forward pass's n = 4 (and
    // 6x6's n = 2) written out; the filter gradient's n = 3 and 5 from the matrix.
    private static void Untransform(int alpha, float* at, int n, Vector512<float>* block, Vector512<float>* result)
    {
        var half = stackalloc Vector512<float>[MaxAlpha * 5];
        if (alpha == 6 && (n == 2 || n == 4))
        {
            for (int j = 0; j < 6; j++) At6(n, block + j, 6, half + j, 6);
            for (int i = 0; i < n; i++) At6(n, half + i * 6, 1, result + i * n, 1);
            return;
        }
        if (alpha == 8 && n == 4)
        {
            for (int j = 0; j < 8; j++) At8(block + j, 8, half + j, 8);
            for (int i = 0; i < 4; i++) At8(half + i * 8, 1, result + i * 4, 1);
            return;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < alpha; j++)
            {
                var sum = Vector512<float>.Zero;
                for (int k = 0; k < alpha; k++) sum = Vector512.FusedMultiplyAdd(Vector512.Create(at[i * alpha + k]), block[k * alpha + j], sum);
                half[i * alpha + j] = sum;
            }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                var sum = Vector512<float>.Zero;
                for (int k = 0; k < alpha; k++) sum = Vector512.FusedMultiplyAdd(half[i * alpha + k], Vector512.Create(at[j * alpha + k]), sum);
                result[i * n + j] = sum;
            }
    }

    // AT rows (1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0 or 1), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void At6(int n, Vector512<float>* d, int step, Vector512<float>* r, int rStep)
    {
        var d1 = d[step];
        var d2 = d[2 * step];
        var d3 = d[3 * step];
        var d4 = d[4 * step];
        var d5 = d[5 * step];
        var plus = d1 + d2;
        var minus = d1 - d2;
        var plus34 = d3 + d4;
        var minus34 = d3 - d4;
        r[0] = d[0] + plus + plus34;
        if (n == 2)
        {
            r[rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(2f), minus34, minus) + d5;
            return;
        }
        r[rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(2f), minus34, minus);
        r[2 * rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(4f), plus34, plus);
        r[3 * rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(8f), minus34, minus) + d5;
    }

    // AT rows p^i over the points 0, 1, -1, 2, -2, 1/2, -1/2 (and 1 under infinity in the last), i < 4: sums and
    // differences of each pair, scaled by p^i.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void At8(Vector512<float>* d, int step, Vector512<float>* r, int rStep)
    {
        var d1 = d[step];
        var d2 = d[2 * step];
        var d3 = d[3 * step];
        var d4 = d[4 * step];
        var d5 = d[5 * step];
        var d6 = d[6 * step];
        var s1 = d1 + d2;
        var t1 = d1 - d2;
        var s2 = d3 + d4;
        var t2 = d3 - d4;
        var s3 = d5 + d6;
        var t3 = d5 - d6;
        r[0] = d[0] + s1 + s2 + s3;
        r[rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(2f), t2, Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), t3, t1));
        r[2 * rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(4f), s2, Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), s3, s1));
        r[3 * rStep] = Vector512.FusedMultiplyAdd(Vector512.Create(8f), t2, Vector512.FusedMultiplyAdd(Vector512.Create(0.125f), t3, t1)) + d[7 * step];
    }

    // ---- GEMM blocks (12, 10 or 8 rows x 16 or 32 columns) ----

    // A block of `block` rows, 32 columns when `two`, else 16.
    private static void Gemm(float* a, nint lda, int rows, int block, int k, float* b, nint ldb, float* c, nint ldc, bool two)
    {
        switch (block)
        {
            case 8 when two: Gemm<TwoVectors, EightRows>(a, lda, rows, k, b, ldb, c, ldc); break;
            case 8: Gemm<OneVector, EightRows>(a, lda, rows, k, b, ldb, c, ldc); break;
            case 10 when two: Gemm<TwoVectors, TenRows>(a, lda, rows, k, b, ldb, c, ldc); break;
            case 10: Gemm<OneVector, TenRows>(a, lda, rows, k, b, ldb, c, ldc); break;
            case 12 when two: Gemm<TwoVectors, TwelveRows>(a, lda, rows, k, b, ldb, c, ldc); break;
            default: Gemm<OneVector, TwelveRows>(a, lda, rows, k, b, ldb, c, ldc); break;
        }
    }

    // c[i][0..cols) = sum over k of a[i * lda + k] * b[k * ldb + ..] for i < rows (rows past `rows` repeat the last row).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gemm<TColumns, TRows>(float* a, nint lda, int rows, int k, float* b, nint ldb, float* c, nint ldc)
        where TColumns : struct, IColumns where TRows : struct, IRows
    {
        // Allocated (and zeroed, a call) before the accumulators exist: across a call the JIT would keep them in memory.
        var tile = stackalloc Vector512<float>[2 * RowBlock];
        int last = rows - 1;
        float* p0 = a, p1 = a + Math.Min(1, last) * lda, p2 = a + Math.Min(2, last) * lda, p3 = a + Math.Min(3, last) * lda;
        float* p4 = a + Math.Min(4, last) * lda, p5 = a + Math.Min(5, last) * lda, p6 = a + Math.Min(6, last) * lda, p7 = a + Math.Min(7, last) * lda;
        float* p8 = a + Math.Min(8, last) * lda, p9 = a + Math.Min(9, last) * lda, p10 = a + Math.Min(10, last) * lda, p11 = a + Math.Min(11, last) * lda;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default,
            b6 = default, b7 = default, b8 = default, b9 = default, b10 = default, b11 = default;
        for (nint i = 0; i < k; i++, b += ldb)
        {
            var w0 = Vector512.Load(b);
            var w1 = TColumns.Two ? Vector512.Load(b + Lanes) : default;
            var v = Vector512.Create(p0[i]);
            a0 = Vector512.FusedMultiplyAdd(v, w0, a0);
            if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v, w1, b0);
            v = Vector512.Create(p1[i]);
            a1 = Vector512.FusedMultiplyAdd(v, w0, a1);
            if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v, w1, b1);
            v = Vector512.Create(p2[i]);
            a2 = Vector512.FusedMultiplyAdd(v, w0, a2);
            if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v, w1, b2);
            v = Vector512.Create(p3[i]);
            a3 = Vector512.FusedMultiplyAdd(v, w0, a3);
            if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v, w1, b3);
            v = Vector512.Create(p4[i]);
            a4 = Vector512.FusedMultiplyAdd(v, w0, a4);
            if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, w1, b4);
            v = Vector512.Create(p5[i]);
            a5 = Vector512.FusedMultiplyAdd(v, w0, a5);
            if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, w1, b5);
            v = Vector512.Create(p6[i]);
            a6 = Vector512.FusedMultiplyAdd(v, w0, a6);
            if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, w1, b6);
            v = Vector512.Create(p7[i]);
            a7 = Vector512.FusedMultiplyAdd(v, w0, a7);
            if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, w1, b7);
            if (TRows.Count <= 8) continue;
            v = Vector512.Create(p8[i]);
            a8 = Vector512.FusedMultiplyAdd(v, w0, a8);
            if (TColumns.Two) b8 = Vector512.FusedMultiplyAdd(v, w1, b8);
            v = Vector512.Create(p9[i]);
            a9 = Vector512.FusedMultiplyAdd(v, w0, a9);
            if (TColumns.Two) b9 = Vector512.FusedMultiplyAdd(v, w1, b9);
            if (TRows.Count <= 10) continue;
            v = Vector512.Create(p10[i]);
            a10 = Vector512.FusedMultiplyAdd(v, w0, a10);
            if (TColumns.Two) b10 = Vector512.FusedMultiplyAdd(v, w1, b10);
            v = Vector512.Create(p11[i]);
            a11 = Vector512.FusedMultiplyAdd(v, w0, a11);
            if (TColumns.Two) b11 = Vector512.FusedMultiplyAdd(v, w1, b11);
        }
        tile[0] = a0; tile[1] = b0; tile[2] = a1; tile[3] = b1; tile[4] = a2; tile[5] = b2;
        tile[6] = a3; tile[7] = b3; tile[8] = a4; tile[9] = b4; tile[10] = a5; tile[11] = b5;
        tile[12] = a6; tile[13] = b6; tile[14] = a7; tile[15] = b7; tile[16] = a8; tile[17] = b8;
        tile[18] = a9; tile[19] = b9; tile[20] = a10; tile[21] = b10; tile[22] = a11; tile[23] = b11;
        for (int row = 0; row < rows; row++, c += ldc)
        {
            Vector512.Store(tile[2 * row], c);
            if (TColumns.Two) Vector512.Store(tile[2 * row + 1], c + Lanes);
        }
    }

    // c[i][..] (+)= sum over k of a[k * ldk + i] * b[k * ldb + ..] for i < rows: the filter gradient's products, summed over
    // tiles (k), for 12 consecutive input channels (i). Rows past `rows` read whatever follows (slack) and are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmTransposed<TColumns>(float* a, nint ldk, int k, float* b, nint ldb, float* c, nint ldc, int rows, bool accumulate)
        where TColumns : struct, IColumns
    {
        var tile = stackalloc Vector512<float>[2 * RowBlock];
        for (int row = 0; row < RowBlock; row++)
        {
            bool load = accumulate && row < rows;
            tile[2 * row] = load ? Vector512.Load(c + row * ldc) : Vector512<float>.Zero;
            tile[2 * row + 1] = load && TColumns.Two ? Vector512.Load(c + row * ldc + Lanes) : Vector512<float>.Zero;
        }
        Vector512<float> a0 = tile[0], a1 = tile[2], a2 = tile[4], a3 = tile[6], a4 = tile[8], a5 = tile[10],
            a6 = tile[12], a7 = tile[14], a8 = tile[16], a9 = tile[18], a10 = tile[20], a11 = tile[22];
        Vector512<float> b0 = tile[1], b1 = tile[3], b2 = tile[5], b3 = tile[7], b4 = tile[9], b5 = tile[11],
            b6 = tile[13], b7 = tile[15], b8 = tile[17], b9 = tile[19], b10 = tile[21], b11 = tile[23];
        for (int i = 0; i < k; i++, a += ldk, b += ldb)
        {
            var w0 = Vector512.Load(b);
            var w1 = TColumns.Two ? Vector512.Load(b + Lanes) : default;
            var v = Vector512.Create(a[0]);
            a0 = Vector512.FusedMultiplyAdd(v, w0, a0);
            if (TColumns.Two) b0 = Vector512.FusedMultiplyAdd(v, w1, b0);
            v = Vector512.Create(a[1]);
            a1 = Vector512.FusedMultiplyAdd(v, w0, a1);
            if (TColumns.Two) b1 = Vector512.FusedMultiplyAdd(v, w1, b1);
            v = Vector512.Create(a[2]);
            a2 = Vector512.FusedMultiplyAdd(v, w0, a2);
            if (TColumns.Two) b2 = Vector512.FusedMultiplyAdd(v, w1, b2);
            v = Vector512.Create(a[3]);
            a3 = Vector512.FusedMultiplyAdd(v, w0, a3);
            if (TColumns.Two) b3 = Vector512.FusedMultiplyAdd(v, w1, b3);
            v = Vector512.Create(a[4]);
            a4 = Vector512.FusedMultiplyAdd(v, w0, a4);
            if (TColumns.Two) b4 = Vector512.FusedMultiplyAdd(v, w1, b4);
            v = Vector512.Create(a[5]);
            a5 = Vector512.FusedMultiplyAdd(v, w0, a5);
            if (TColumns.Two) b5 = Vector512.FusedMultiplyAdd(v, w1, b5);
            v = Vector512.Create(a[6]);
            a6 = Vector512.FusedMultiplyAdd(v, w0, a6);
            if (TColumns.Two) b6 = Vector512.FusedMultiplyAdd(v, w1, b6);
            v = Vector512.Create(a[7]);
            a7 = Vector512.FusedMultiplyAdd(v, w0, a7);
            if (TColumns.Two) b7 = Vector512.FusedMultiplyAdd(v, w1, b7);
            v = Vector512.Create(a[8]);
            a8 = Vector512.FusedMultiplyAdd(v, w0, a8);
            if (TColumns.Two) b8 = Vector512.FusedMultiplyAdd(v, w1, b8);
            v = Vector512.Create(a[9]);
            a9 = Vector512.FusedMultiplyAdd(v, w0, a9);
            if (TColumns.Two) b9 = Vector512.FusedMultiplyAdd(v, w1, b9);
            v = Vector512.Create(a[10]);
            a10 = Vector512.FusedMultiplyAdd(v, w0, a10);
            if (TColumns.Two) b10 = Vector512.FusedMultiplyAdd(v, w1, b10);
            v = Vector512.Create(a[11]);
            a11 = Vector512.FusedMultiplyAdd(v, w0, a11);
            if (TColumns.Two) b11 = Vector512.FusedMultiplyAdd(v, w1, b11);
        }
        tile[0] = a0; tile[1] = b0; tile[2] = a1; tile[3] = b1; tile[4] = a2; tile[5] = b2;
        tile[6] = a3; tile[7] = b3; tile[8] = a4; tile[9] = b4; tile[10] = a5; tile[11] = b5;
        tile[12] = a6; tile[13] = b6; tile[14] = a7; tile[15] = b7; tile[16] = a8; tile[17] = b8;
        tile[18] = a9; tile[19] = b9; tile[20] = a10; tile[21] = b10; tile[22] = a11; tile[23] = b11;
        for (int row = 0; row < rows; row++, c += ldc)
        {
            Vector512.Store(tile[2 * row], c);
            if (TColumns.Two) Vector512.Store(tile[2 * row + 1], c + Lanes);
        }
    }

    // ---- for the tests: the written-out transforms against the matrices the points give ----

    /// <summary>BT (alpha x alpha) and AT for 4 outputs (4 x alpha) of an r x r filter's tiling.</summary>
    internal static (int Alpha, float[] Data, float[] Outputs) Matrices(int r) => (For(r).Alpha, For(r).Data, For(r).Outputs(TileSide));

    /// <summary>BT d B by <see cref="Transform"/> for one alpha x alpha block (row-major), in every lane.</summary>
    internal static float[] TransformBlock(int r, float[] d)
    {
        int alpha = For(r).Alpha;
        var source = stackalloc Vector512<float>[MaxPoints];
        var result = stackalloc Vector512<float>[MaxPoints];
        for (int i = 0; i < alpha * alpha; i++) source[i] = Vector512.Create(d[i]);
        Transform(alpha, source, result);
        return Lane0(result, alpha * alpha);
    }

    /// <summary>AT m A (4 x 4) by <see cref="Untransform"/> for one alpha x alpha block (row-major), in every lane.</summary>
    internal static float[] UntransformBlock(int r, float[] m)
    {
        var tiling = For(r);
        var source = stackalloc Vector512<float>[MaxPoints];
        var result = stackalloc Vector512<float>[TileSide * TileSide];
        for (int i = 0; i < tiling.Points; i++) source[i] = Vector512.Create(m[i]);
        fixed (float* at = tiling.Outputs(TileSide)) Untransform(tiling.Alpha, at, TileSide, source, result);
        return Lane0(result, TileSide * TileSide);
    }

    private static float[] Lane0(Vector512<float>* values, int count)
    {
        var lane = new float[count];
        for (int i = 0; i < count; i++) lane[i] = values[i].GetElement(0);
        return lane;
    }

    // ---- helpers ----

    private static (int Image, int TileY, int TileX) Tile(long tile, int tilesY, int tilesX)
    {
        int perImage = tilesY * tilesX;
        int image = (int)(tile / perImage);
        int rest = (int)(tile - (long)image * perImage);
        return (image, rest / tilesX, rest % tilesX);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* source, int count) => HostMask.Load(source, count, HostMask.Lanes(count));

    // The first `count` lanes of value (+ bias) to target.
    private static void Store(float* target, Vector512<float> value, int count, float* bias)
    {
        var mask = HostMask.Lanes(count);
        if (bias != null) value += HostMask.Load(bias, count, mask);
        HostMask.Store(target, value, count, mask);
    }

    private static void Add(float* target, float* source, long count)
    {
        long i = 0;
        for (; i + Lanes <= count; i += Lanes) Vector512.Store(Vector512.Load(target + i) + Vector512.Load(source + i), target + i);
        for (; i < count; i++) target[i] += source[i];
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static int RoundUp(int a, int b) => CeilDiv(a, b) * b;

    /// <summary>
    /// One tiling's matrices, from its finite interpolation points p_j (the last point is infinity, alpha = points + 1):
    /// AT (n x alpha) holds p_j^i; G (alpha x k) holds p_j^c / s_j with s_j = prod over l != j of (p_j - p_l); BT (alpha x
    /// alpha) is the transposed inverse of the alpha x alpha Vandermonde matrix (infinity's row picks the top coefficient),
    /// its row j scaled by s_j. Then y = AT [(G g) . (BT d)] is the correlation of d with g for any n + k - 1 = alpha.
    /// </summary>
    private sealed class Tiling
    {
        private readonly double[] _nodes;
        private readonly float[]?[] _taps = new float[MaxAlpha][], _outputs = new float[MaxAlpha][];

        public Tiling(double[] nodes, int forwardBatch, int filterPart, int filterBatch)
        {
            _nodes = nodes;
            Alpha = nodes.Length + 1;
            ForwardBatch = forwardBatch;
            FilterPart = filterPart;
            FilterBatch = filterBatch;
            Data = DataTransform();
            for (int k = 2; k < Alpha; k++)
            {
                _taps[k] = FilterTransform(k);
                _outputs[k] = OutputTransform(k);
            }
        }

        public int Alpha { get; }
        public int Points => Alpha * Alpha;
        /// <summary>Tiles per batch of the forward pass (a multiple of RowBlock), so that one batch's transforms stay in L2.</summary>
        public int ForwardBatch { get; }
        /// <summary>Tiles per part of the filter gradient (fixed by the shape, not the cores, so sums have one order).</summary>
        public int FilterPart { get; }
        /// <summary>Tiles per batch within a part of the filter gradient.</summary>
        public int FilterBatch { get; }
        /// <summary>BT, alpha x alpha (Bt6 and Bt8 write it out).</summary>
        public float[] Data { get; }

        /// <summary>G for k taps, alpha x k.</summary>
        public float[] Taps(int k) => _taps[k]!;

        /// <summary>AT for n outputs, n x alpha.</summary>
        public float[] Outputs(int n) => _outputs[n]!;

        private double Scale(int j)
        {
            double scale = 1;
            for (int l = 0; l < _nodes.Length; l++)
                if (l != j) scale *= _nodes[j] - _nodes[l];
            return scale;
        }

        private float[] FilterTransform(int k)
        {
            var g = new float[Alpha * k];
            for (int j = 0; j < _nodes.Length; j++)
            {
                double scale = Scale(j);
                for (int c = 0; c < k; c++) g[j * k + c] = (float)(Math.Pow(_nodes[j], c) / scale);
            }
            g[(Alpha - 1) * k + k - 1] = 1;
            return g;
        }

        private float[] OutputTransform(int n)
        {
            var a = new float[n * Alpha];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < _nodes.Length; j++) a[i * Alpha + j] = (float)Math.Pow(_nodes[j], i);
                a[i * Alpha + Alpha - 1] = i == n - 1 ? 1 : 0;
            }
            return a;
        }

        private float[] DataTransform()
        {
            int n = Alpha;
            // [V | I] reduced to [I | V^-1] by Gauss-Jordan elimination with partial pivoting, in double precision.
            var m = new double[n, 2 * n];
            for (int j = 0; j < n; j++)
            {
                for (int k = 0; k < n; k++)
                    m[j, k] = j < _nodes.Length ? Math.Pow(_nodes[j], k) : k == n - 1 ? 1 : 0;
                m[j, n + j] = 1;
            }
            for (int c = 0; c < n; c++)
            {
                int pivot = c;
                for (int r = c + 1; r < n; r++)
                    if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c])) pivot = r;
                for (int k = 0; k < 2 * n; k++) (m[c, k], m[pivot, k]) = (m[pivot, k], m[c, k]);
                double p = m[c, c];
                for (int k = 0; k < 2 * n; k++) m[c, k] /= p;
                for (int r = 0; r < n; r++)
                {
                    if (r == c || m[r, c] == 0) continue;
                    double f = m[r, c];
                    for (int k = 0; k < 2 * n; k++) m[r, k] -= f * m[c, k];
                }
            }
            var bt = new float[n * n];
            for (int j = 0; j < n; j++)
            {
                double scale = j < _nodes.Length ? Scale(j) : 1;
                for (int k = 0; k < n; k++) bt[j * n + k] = (float)(m[k, n + j] * scale);
            }
            return bt;
        }
    }
}
