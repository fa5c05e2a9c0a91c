namespace GpuDeconv.Compute.Conformance;

// ILGPU's MatrixMultiply sample (Samples/MatrixMultiply/Program.cs), ported by changing only
// the using lines, with TILE_SIZE 16 and one fix: the sample's tile loop runs to
// aView.IntExtent.X (the row count), which misses columns whenever K > M; it must run to
// aView.IntExtent.Y (K). Sizes do not divide the tile, so the edge guards are exercised.
internal static class MatrixMultiplyCases
{
    private const int TILE_SIZE = 16;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("matmul.tiled-37x53x29", "matmul", a => Run(a, 37, 53, 29, tiled: true));
        yield return new("matmul.tiled-1x1x1", "matmul", a => Run(a, 1, 1, 1, tiled: true));
        yield return new("matmul.tiled-64x16x33", "matmul", a => Run(a, 64, 16, 33, tiled: true));
        yield return new("matmul.naive-37x53x29", "matmul", a => Run(a, 37, 53, 29, tiled: false));
    }

    private static void Run(Accelerator accelerator, int m, int k, int n, bool tiled)
    {
        if (tiled) GroupCases.RequireGroupSize(accelerator, TILE_SIZE * TILE_SIZE);
        var random = new Random(m * 10000 + k * 100 + n);
        var a = new float[m, k];
        var b = new float[k, n];
        for (int i = 0; i < m; i++) for (int j = 0; j < k; j++) a[i, j] = random.Next(-100, 100);
        for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) b[i, j] = random.Next(-100, 100);

        float[,] expected = MatrixMultiplyNaive(a, b);
        float[,] actual = tiled ? MatrixMultiplyTiled(accelerator, a, b) : MatrixMultiplyAccelerated(accelerator, a, b);

        // Integer entries below 100 with K <= 53: every partial sum is an exact float.
        Check.Equal(m, actual.GetLength(0), "result rows");
        Check.Equal(n, actual.GetLength(1), "result columns");
        Check.Equal<float>(expected.Cast<float>().ToArray(), actual.Cast<float>().ToArray(),
            $"{(tiled ? "tiled" : "naive")} [{m}x{k}] * [{k}x{n}]", i => $"(row {i / n}, column {i % n})");
    }

    private static float[,] MatrixMultiplyNaive(float[,] a, float[,] b)
    {
        var m = a.GetLength(0);
        var ka = a.GetLength(1);
        var n = b.GetLength(1);
        var c = new float[m, n];
        for (var x = 0; x < m; x++)
            for (var y = 0; y < n; y++)
            {
                c[x, y] = 0;
                for (var z = 0; z < ka; z++)
                    c[x, y] += a[x, z] * b[z, y];
            }
        return c;
    }

    private static float[,] MatrixMultiplyAccelerated(Accelerator accelerator, float[,] a, float[,] b)
    {
        var m = a.GetLength(0);
        var ka = a.GetLength(1);
        var n = b.GetLength(1);

        var kernel = accelerator.LoadAutoGroupedStreamKernel<
            Index2D,
            ArrayView2D<float, Stride2D.DenseX>,
            ArrayView2D<float, Stride2D.DenseX>,
            ArrayView2D<float, Stride2D.DenseX>>(
            MatrixMultiplyAcceleratedKernel);

        using var aBuffer = accelerator.Allocate2DDenseX<float>(new Index2D(m, ka));
        using var bBuffer = accelerator.Allocate2DDenseX<float>(new Index2D(ka, n));
        using var cBuffer = accelerator.Allocate2DDenseX<float>(new Index2D(m, n));
        aBuffer.CopyFromCPU(a);
        bBuffer.CopyFromCPU(b);

        kernel(cBuffer.Extent.ToIntIndex(), aBuffer.View, bBuffer.View, cBuffer.View);

        return cBuffer.GetAsArray2D();
    }

    private static void MatrixMultiplyAcceleratedKernel(
        Index2D index,
        ArrayView2D<float, Stride2D.DenseX> aView,
        ArrayView2D<float, Stride2D.DenseX> bView,
        ArrayView2D<float, Stride2D.DenseX> cView)
    {
        var x = index.X;
        var y = index.Y;
        var sum = 0.0f;

        for (var i = 0; i < aView.IntExtent.Y; i++)
            sum += aView[new Index2D(x, i)] * bView[new Index2D(i, y)];

        cView[index] = sum;
    }

    private static float[,] MatrixMultiplyTiled(Accelerator accelerator, float[,] a, float[,] b)
    {
        var m = a.GetLength(0);
        var ka = a.GetLength(1);
        var n = b.GetLength(1);

        var kernel = accelerator.LoadStreamKernel<
            ArrayView2D<float, Stride2D.DenseX>,
            ArrayView2D<float, Stride2D.DenseX>,
            ArrayView2D<float, Stride2D.DenseX>>(
            MatrixMultiplyTiledKernel);
        var groupSize = new Index2D(TILE_SIZE, TILE_SIZE);
        var numGroups = new Index2D((m + TILE_SIZE - 1) / TILE_SIZE, (n + TILE_SIZE - 1) / TILE_SIZE);

        using var aBuffer = accelerator.Allocate2DDenseX<float>(new Index2D(m, ka));
        using var bBuffer = accelerator.Allocate2DDenseX<float>(new Index2D(ka, n));
        using var cBuffer = accelerator.Allocate2DDenseX<float>(new Index2D(m, n));
        aBuffer.CopyFromCPU(a);
        bBuffer.CopyFromCPU(b);

        kernel((numGroups, groupSize), aBuffer, bBuffer, cBuffer);

        return cBuffer.GetAsArray2D();
    }

    private static void MatrixMultiplyTiledKernel(
        ArrayView2D<float, Stride2D.DenseX> aView,
        ArrayView2D<float, Stride2D.DenseX> bView,
        ArrayView2D<float, Stride2D.DenseX> cView)
    {
        var global = Grid.GlobalIndex.XY;
        var x = Group.IdxX;
        var y = Group.IdxY;

        var aTile = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(TILE_SIZE, TILE_SIZE), new Stride2D.DenseX(TILE_SIZE));
        var bTile = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(TILE_SIZE, TILE_SIZE), new Stride2D.DenseX(TILE_SIZE));
        var sum = 0.0f;

        for (var i = 0; i < aView.IntExtent.Y; i += TILE_SIZE)
        {
            if (global.X < aView.IntExtent.X && y + i < aView.IntExtent.Y)
                aTile[x, y] = aView[global.X, y + i];
            else
                aTile[x, y] = 0;

            if (x + i < bView.IntExtent.X && global.Y < bView.IntExtent.Y)
                bTile[x, y] = bView[x + i, global.Y];
            else
                bTile[x, y] = 0;
            Group.Barrier();

            for (var k = 0; k < TILE_SIZE; k++)
                sum += aTile[new Index2D(x, k)] * bTile[new Index2D(k, y)];
            Group.Barrier();
        }

        if (global.X < cView.IntExtent.X && global.Y < cView.IntExtent.Y)
            cView[global] = sum;
    }
}
