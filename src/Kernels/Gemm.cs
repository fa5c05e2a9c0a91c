// Gemm: C = alpha * op(A) * op(B) + beta * C for row-major float matrices (tf.matmul with transpose_a /
// transpose_b, plus the BLAS alpha/beta epilogue that fully connected layers and their backwards use).
//   a: [M, K], or [K, M] when transposeA      op(A) = transposeA ? A^T : A      op(A): [M, K]
//   b: [K, N], or [N, K] when transposeB      op(B) = transposeB ? B^T : B      op(B): [K, N]
//   c: [M, N]                                 c[m, n] = alpha * sum_k op(A)[m, k] * op(B)[k, n] + beta * c[m, n]
// Sizes (tf.matmul shape rule): the inner dimensions must agree, K of op(A) == K of op(B); C is [M, N].
//
// Design: one group of 16 x 16 = 256 threads computes a 64 x 64 tile of C. Each thread owns a 4 x 4 register
// block at rows ty + 16i and columns tx + 16j (i, j = 0..3): strided rather than contiguous so that neighbouring
// lanes read neighbouring shared-memory words (no bank conflicts) and store neighbouring columns of C (coalesced).
// The K dimension is walked in tiles of 16: per tile the group stages op(A)[64 x 16] and op(B)[16 x 64] in shared
// memory, both k-major (tile[k * Pitch + m]), transposing on the load so the global reads run along whichever
// dimension is contiguous in memory for that transpose combination. Out-of-range rows, columns and k read 0, so
// any M, N, K work. Every c[m, n] sums its products in ascending k with one accumulator: the result is
// deterministic and, with no FMA contraction anywhere, bit-identical across accelerators.
//
// On devices that run on the host CPU (the CPU accelerator, pocl) that tile is slow: a core runs the 256 lanes one
// after another and the shared-memory stages become copies. There op(B) is first packed k-major into a panel
// [K, N rounded up to 16] with zero columns, and each lane computes 4 rows x 16 columns of C with Float8 vectors:
// per k, two vector loads of the panel and four broadcasts of op(A). The products and sums are rounded separately,
// in ascending k, exactly as the tiled kernel does, so both algorithms give the same bits.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>General matrix multiply for fully connected layers (<c>tf.matmul</c> with transposes, plus alpha/beta).</summary>
public static class Gemm
{
    /// <summary>Rows and columns of the C tile of one group.</summary>
    private const int TileM = 64, TileN = 64;

    /// <summary>The depth of one K step staged in shared memory.</summary>
    private const int TileK = 16;

    /// <summary>Threads along each side of the group (16 x 16 = 256); each computes 4 x 4 elements of the tile.</summary>
    private const int Threads = 16;

    /// <summary>The row pitch of the shared tiles: 64 plus 4 words of padding, which spreads the transposing stores over the banks.</summary>
    private const int Pitch = TileM + 4;

    /// <summary>CUDA's limit on the grid's Y dimension, which counts the row tiles.</summary>
    private const int MaxGridY = 65535;

    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C, row-major, where op(X) is X or its transpose; with beta = 0, C is only
    /// written (it may hold garbage such as NaN). C must not overlap A or B.
    /// </summary>
    /// <exception cref="ArgumentException">A matrix is not rank 2, the inner dimensions of op(A) and op(B) differ, C is not
    /// [M, N], a matrix exceeds int.MaxValue elements, M exceeds 65535 * 64 rows, or a view belongs to another accelerator.</exception>
    public static void Multiply(AcceleratorStream stream, TensorView<float> a, bool transposeA, TensorView<float> b, bool transposeB,
                                TensorView<float> c, float alpha = 1f, float beta = 0f) =>
        Multiply(stream, a, transposeA, b, transposeB, c, GemmAlgorithm.Auto, alpha, beta);

    /// <summary>As <see cref="Multiply(AcceleratorStream, TensorView{float}, bool, TensorView{float}, bool, TensorView{float}, float, float)"/>, with the kernels chosen: the same bits either way.</summary>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    internal static void Multiply(AcceleratorStream stream, TensorView<float> a, bool transposeA, TensorView<float> b, bool transposeB,
                                TensorView<float> c, GemmAlgorithm algorithm, float alpha = 1f, float beta = 0f)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string op = "Gemm";
        ShapeCheck.Tensor(op, nameof(a), a, 2, transposeA ? "[K, M] (transposeA)" : "[M, K]");
        ShapeCheck.Tensor(op, nameof(b), b, 2, transposeB ? "[N, K] (transposeB)" : "[K, N]");
        ShapeCheck.Tensor(op, nameof(c), c, 2, "[M, N]");
        ShapeCheck.SameAccelerator(op, stream, nameof(a), a);
        ShapeCheck.SameAccelerator(op, stream, nameof(b), b);
        ShapeCheck.SameAccelerator(op, stream, nameof(c), c);

        int m = transposeA ? a.Shape[1] : a.Shape[0];
        int kA = transposeA ? a.Shape[0] : a.Shape[1];
        int kB = transposeB ? b.Shape[1] : b.Shape[0];
        int n = transposeB ? b.Shape[0] : b.Shape[1];
        if (kA != kB)
            throw new ArgumentException(
                $"{op}: the inner dimensions must match (op(a) is [M, K], op(b) is [K, N]), but a {a.Shape} (transposeA {transposeA}) " +
                $"gives K = {kA} and b {b.Shape} (transposeB {transposeB}) gives K = {kB}.", nameof(b));
        ShapeCheck.Equal(op, nameof(c), c.Shape, new Shape(m, n), $"[M, N] of op(a) {Shape.Format([m, kA])} times op(b) {Shape.Format([kB, n])}");
        foreach (var (name, view) in new[] { (nameof(a), a), (nameof(b), b), (nameof(c), c) })
        {
            if (view.Shape.Size > int.MaxValue)
                throw new ArgumentException($"{op}: {name} {view.Shape} has {view.Shape.Size} elements; the kernel indexes with int, at most {int.MaxValue}.", name);
        }
        if ((m + TileM - 1) / TileM > MaxGridY)
            throw new ArgumentException($"{op}: M = {m} needs {(m + TileM - 1) / TileM} row tiles of {TileM}; the grid's Y dimension allows at most {MaxGridY} (M <= {MaxGridY * TileM}).", nameof(a));
        if (m == 0 || n == 0) return;
        if (algorithm == GemmAlgorithm.Vector || (algorithm == GemmAlgorithm.Auto && stream.Accelerator.Device.RunsHostKernels))
        {
            MultiplyVector(stream, a.Data, transposeA, b.Data, transposeB, c.Data, m, n, kA, alpha, beta);
            return;
        }

        var grid = new Index2D((n + TileN - 1) / TileN, (m + TileM - 1) / TileM);
        stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, bool, bool, float, float>(MultiplyKernel)(
            stream, new KernelConfig(grid, new Index2D(Threads, Threads)), a.Data, b.Data, c.Data, m, n, kA, transposeA, transposeB, alpha, beta);
    }

    /// <summary>One 64 x 64 tile of C per group of 16 x 16 threads; see the file header.</summary>
    public static void MultiplyKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k,
                                      bool transposeA, bool transposeB, float alpha, float beta)
    {
        var aTile = SharedMemory.Allocate<float>(TileK * Pitch);
        var bTile = SharedMemory.Allocate<float>(TileK * Pitch);
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int lane = ty * Threads + tx;
        int row0 = Grid.IdxY * TileM;
        int column0 = Grid.IdxX * TileN;

        // The 4 x 4 register block: cIJ accumulates row ty + 16i, column tx + 16j of the tile.
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            LoadTile(a, aTile, !transposeA, m, k, row0, k0, lane);
            LoadTile(b, bTile, transposeB, n, k, column0, k0, lane);
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                int at = kk * Pitch + ty;
                int bt = kk * Pitch + tx;
                float a0 = aTile[at], a1 = aTile[at + 16], a2 = aTile[at + 32], a3 = aTile[at + 48];
                float b0 = bTile[bt], b1 = bTile[bt + 16], b2 = bTile[bt + 32], b3 = bTile[bt + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int r = row0 + ty;
        int col = column0 + tx;
        Store(c, m, n, r, col, c00, alpha, beta); Store(c, m, n, r, col + 16, c01, alpha, beta);
        Store(c, m, n, r, col + 32, c02, alpha, beta); Store(c, m, n, r, col + 48, c03, alpha, beta);
        Store(c, m, n, r + 16, col, c10, alpha, beta); Store(c, m, n, r + 16, col + 16, c11, alpha, beta);
        Store(c, m, n, r + 16, col + 32, c12, alpha, beta); Store(c, m, n, r + 16, col + 48, c13, alpha, beta);
        Store(c, m, n, r + 32, col, c20, alpha, beta); Store(c, m, n, r + 32, col + 16, c21, alpha, beta);
        Store(c, m, n, r + 32, col + 32, c22, alpha, beta); Store(c, m, n, r + 32, col + 48, c23, alpha, beta);
        Store(c, m, n, r + 48, col, c30, alpha, beta); Store(c, m, n, r + 48, col + 16, c31, alpha, beta);
        Store(c, m, n, r + 48, col + 32, c32, alpha, beta); Store(c, m, n, r + 48, col + 48, c33, alpha, beta);
    }

    /// <summary>
    /// Stages a 64 x 16 panel (64 "outer" indices by 16 k) of a matrix into <paramref name="tile"/>[k * Pitch + outer],
    /// zero outside the matrix. The matrix is [outer, k] row-major when <paramref name="outerMajor"/> (A, or B^T stored
    /// as [N, K]) and [k, outer] otherwise (A^T stored as [K, M], or B stored as [K, N]); lanes walk the contiguous
    /// dimension so the global reads coalesce, 4 elements per lane.
    /// </summary>
    private static void LoadTile(ArrayView<float> matrix, ArrayView<float> tile, bool outerMajor, int outerSize, int k, int outer0, int k0, int lane)
    {
        if (outerMajor)
        {
            // 16 lanes cover the 16 k of one outer index; the 256 lanes cover 16 outer indices per pass.
            int kk = lane % TileK;
            int depth = k0 + kk;
            for (int pass = 0; pass < 4; pass++)
            {
                int o = lane / TileK + pass * 16;
                int outer = outer0 + o;
                tile[kk * Pitch + o] = outer < outerSize && depth < k ? matrix[outer * k + depth] : 0f;
            }
        }
        else
        {
            // 64 lanes cover the 64 outer indices of one k; the 256 lanes cover 4 k per pass.
            int o = lane % TileM;
            int outer = outer0 + o;
            for (int pass = 0; pass < 4; pass++)
            {
                int kk = lane / TileM + pass * 4;
                int depth = k0 + kk;
                tile[kk * Pitch + o] = outer < outerSize && depth < k ? matrix[depth * outerSize + outer] : 0f;
            }
        }
    }

    /// <summary>Writes alpha * sum (+ beta * c when beta is not 0; beta = 0 never reads c) if (row, column) lies inside C.</summary>
    private static void Store(ArrayView<float> c, int m, int n, int row, int column, float sum, float alpha, float beta)
    {
        if (row >= m || column >= n) return;
        int index = row * n + column;
        float value = alpha * sum;
        if (beta != 0f) value += beta * c[index];
        c[index] = value;
    }

    // ---- the host-CPU algorithm ----

    /// <summary>Columns per lane (two Float8) and rows per lane.</summary>
    private const int VectorColumns = 16, VectorRows = 4;

    private static void MultiplyVector(AcceleratorStream stream, ArrayView<float> a, bool transposeA, ArrayView<float> b, bool transposeB,
                                       ArrayView<float> c, int m, int n, int k, float alpha, float beta)
    {
        int stride = (n + VectorColumns - 1) / VectorColumns * VectorColumns;
        long panelLength = Math.Max(1L, (long)k * stride);
        if (panelLength > int.MaxValue)
            throw new ArgumentException($"Gemm: the packed op(b) panel of K = {k} by {stride} columns exceeds {int.MaxValue} elements.", nameof(b));
        var panel = Scratch.Get<float>(stream, Scratch.GemmPanel, panelLength);
        if (HostRoute.Of(stream) is { } cpu)
        {
            if (k > 0) HostOps.PackPanel(cpu, b, panel, n, k, stride, transposeB);
            if (m > 0) HostOps.Gemm(cpu, a, panel, c, m, n, k, stride, transposeA, alpha, beta);
            return;
        }
        if (k > 0)
            stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, bool>(PackPanelKernel)(
                stream, (int)panelLength, b, panel, n, k, stride, transposeB);
        HostLanes.Launch((m + VectorRows - 1) / VectorRows * (stride / VectorColumns), (config, lanes) =>
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, bool, float, float, int>(VectorKernel)(
                stream, config, a, panel, c, m, n, k, stride, transposeA, alpha, beta, lanes));
    }

    /// <summary>panel[kk, j] = op(B)[kk, j] for j &lt; n, else 0: op(B) k-major with rows of <paramref name="stride"/> columns.</summary>
    public static void PackPanelKernel(Index1D index, ArrayView<float> b, ArrayView<float> panel, int n, int k, int stride, bool transposeB)
    {
        int kk = index / stride;
        int j = index - kk * stride;
        panel[index] = j >= n ? 0f : transposeB ? b[j * k + kk] : b[kk * n + j];
    }

    /// <summary>
    /// One lane = rows r0..r0+3 x columns j0..j0+15 of C (lanes run the column blocks fastest), summing
    /// op(A)[r, kk] * panel[kk, j] in ascending kk; rows past M read row M-1 and are not stored.
    /// </summary>
    public static void VectorKernel(ArrayView<float> a, ArrayView<float> panel, ArrayView<float> c, int m, int n, int k, int stride,
                                    bool transposeA, float alpha, float beta, int lanes)
    {
        int lane = Grid.IdxX * Group.DimX + Group.IdxX;
        if (lane >= lanes) return;
        int columnBlocks = stride / VectorColumns;
        int r0 = lane / columnBlocks * VectorRows;
        int j0 = (lane - lane / columnBlocks * columnBlocks) * VectorColumns;
        int r1 = Math.Min(r0 + 1, m - 1), r2 = Math.Min(r0 + 2, m - 1), r3 = Math.Min(r0 + 3, m - 1);
        // op(A)[r, kk] is a[r * k + kk], or a[kk * m + r] when A is stored transposed.
        int rowStep = transposeA ? 1 : k;
        int kStep = transposeA ? m : 1;
        var s00 = Float8.Splat(0f);
        var s01 = Float8.Splat(0f);
        var s10 = Float8.Splat(0f);
        var s11 = Float8.Splat(0f);
        var s20 = Float8.Splat(0f);
        var s21 = Float8.Splat(0f);
        var s30 = Float8.Splat(0f);
        var s31 = Float8.Splat(0f);
        for (int kk = 0; kk < k; kk++)
        {
            long p = (long)kk * stride + j0;
            var b0 = Float8.Load(panel, p);
            var b1 = Float8.Load(panel, p + 8);
            long ak = (long)kk * kStep;
            var v0 = Float8.Splat(a[ak + (long)r0 * rowStep]);
            var v1 = Float8.Splat(a[ak + (long)r1 * rowStep]);
            var v2 = Float8.Splat(a[ak + (long)r2 * rowStep]);
            var v3 = Float8.Splat(a[ak + (long)r3 * rowStep]);
            s00 = Float8.Add(s00, Float8.Multiply(v0, b0));
            s01 = Float8.Add(s01, Float8.Multiply(v0, b1));
            s10 = Float8.Add(s10, Float8.Multiply(v1, b0));
            s11 = Float8.Add(s11, Float8.Multiply(v1, b1));
            s20 = Float8.Add(s20, Float8.Multiply(v2, b0));
            s21 = Float8.Add(s21, Float8.Multiply(v2, b1));
            s30 = Float8.Add(s30, Float8.Multiply(v3, b0));
            s31 = Float8.Add(s31, Float8.Multiply(v3, b1));
        }
        StoreRow(c, m, n, r0, j0, s00, s01, alpha, beta);
        StoreRow(c, m, n, r0 + 1, j0, s10, s11, alpha, beta);
        StoreRow(c, m, n, r0 + 2, j0, s20, s21, alpha, beta);
        StoreRow(c, m, n, r0 + 3, j0, s30, s31, alpha, beta);
    }

    // c[row, j0..j0+15] = alpha * sum (+ beta * c, read only when beta is not 0), inside C only: as Store, 8 at a time.
    private static void StoreRow(ArrayView<float> c, int m, int n, int row, int j0, Float8 low, Float8 high, float alpha, float beta)
    {
        if (row >= m) return;
        long index = (long)row * n + j0;
        int lowCount = Math.Min(8, n - j0);
        int highCount = Math.Min(8, n - j0 - 8);
        var scaledLow = Float8.Multiply(Float8.Splat(alpha), low);
        var scaledHigh = Float8.Multiply(Float8.Splat(alpha), high);
        if (beta != 0f)
        {
            scaledLow = Float8.Add(scaledLow, Float8.Multiply(Float8.Splat(beta), Float8.LoadPartial(c, index, lowCount)));
            if (highCount > 0) scaledHigh = Float8.Add(scaledHigh, Float8.Multiply(Float8.Splat(beta), Float8.LoadPartial(c, index + 8, highCount)));
        }
        Float8.StorePartial(scaledLow, c, index, lowCount);
        if (highCount > 0) Float8.StorePartial(scaledHigh, c, index + 8, highCount);
    }
}

/// <summary>Which kernels compute a <see cref="Gemm"/>: the same bits either way.</summary>
internal enum GemmAlgorithm
{
    /// <summary><see cref="Vector"/> on devices that run on the host CPU (the CPU accelerator, pocl), <see cref="Tiled"/> elsewhere.</summary>
    Auto,
    /// <summary>64 x 64 tiles per 256-lane group through shared memory; shaped for GPUs.</summary>
    Tiled,
    /// <summary>A packed op(B) panel and Float8 lanes of 4 x 16; shaped for CPUs.</summary>
    Vector,
}
