using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// The substrate's measurement kernels, compiled into both the BenchmarkDotNet suite and tools/GpuCheck
/// (linked source, so GpuCheck's trimmed publish needs no BenchmarkDotNet).
/// </summary>
internal static class SubstrateKernels
{
    /// <summary>The side of the square tiles of <see cref="TiledGemm"/>: launch with groups of (Tile, Tile).</summary>
    public const int Tile = 16;

    /// <summary>Does nothing: launch latency.</summary>
    public static void Empty(Index1D index, ArrayView<int> data)
    {
    }

    /// <summary>y = a*x + y over y's length: 12 bytes of traffic per element.</summary>
    public static void Saxpy(Index1D i, ArrayView<float> y, ArrayView<float> x, float a)
    {
        y[i] = a * x[i] + y[i];
    }

    /// <summary>c = a*b for row-major [n, n] matrices; one thread per element of c, a group covers a Tile x Tile block; 2*n^3 FLOP.</summary>
    public static void TiledGemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n)
    {
        var aTile = SharedMemory.Allocate<float>(Tile * Tile);
        var bTile = SharedMemory.Allocate<float>(Tile * Tile);
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int column = Grid.IdxX * Tile + tx;
        int row = Grid.IdxY * Tile + ty;
        float sum = 0f;
        for (int k0 = 0; k0 < n; k0 += Tile)
        {
            aTile[ty * Tile + tx] = row < n && k0 + tx < n ? a[row * n + k0 + tx] : 0f;
            bTile[ty * Tile + tx] = column < n && k0 + ty < n ? b[(k0 + ty) * n + column] : 0f;
            Group.Barrier();
            for (int k = 0; k < Tile; k++)
                sum += aTile[ty * Tile + k] * bTile[k * Tile + tx];
            Group.Barrier();
        }
        if (row < n && column < n)
            c[row * n + column] = sum;
    }
}
