using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>C = A*B for square row-major N x N matrices, 16x16 shared-memory tiles; 2*N^3 FLOP per op.</summary>
/// <remarks>
/// N is 128 by default because the CPU accelerator runs barrier kernels with one OS thread per lane and
/// takes minutes per 512 GEMM on 2 cores (over BenchmarkDotNet's in-process limit). On a GPU machine set
/// GPUDECONV_BENCH_GEMM=512,1024 (every listed size runs on every accelerator, the CPU included).
/// </remarks>
public class GemmBenchmark : AcceleratorBenchmark
{
    private const int Tile = 16;

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; } = 128;

    public static IEnumerable<int> Sizes() =>
        Environment.GetEnvironmentVariable("GPUDECONV_BENCH_GEMM") is { Length: > 0 } sizes
            ? sizes.Split(',').Select(size => int.Parse(size, System.Globalization.CultureInfo.InvariantCulture))
            : [128];

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _gemm = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _a = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _b = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _c = null!;

    /// <summary>a, b, c: [n, n] row-major. One thread per element of c; group (Tile, Tile) covers a Tile x Tile block.</summary>
    private static void TiledGemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n)
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

    protected override void Setup()
    {
        var random = new Random(1);
        var host = new float[N * N];
        for (int i = 0; i < host.Length; i++) host[i] = (float)random.NextDouble();
        _a = Device.Allocate1D(host);
        _b = Device.Allocate1D(host);
        _c = Device.Allocate1D<float>(N * N);
        _gemm = Device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(TiledGemm);
        Run();
    }

    protected override void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
    }

    private void Run()
    {
        int groups = (N + Tile - 1) / Tile;
        _gemm(new KernelConfig(new Index2D(groups, groups), new Index2D(Tile, Tile)), _a.View, _b.View, _c.View, N);
    }

    [Benchmark(Description = "tiled gemm")]
    [Throughput(2.0 / 1e9, "GFLOP/s", CubedParameter = nameof(N))]
    public void Gemm()
    {
        Run();
        Stream.Synchronize();
    }
}
