using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>C = A*B for square row-major N x N matrices, 16x16 shared-memory tiles; 2*N^3 FLOP per op.</summary>
/// <remarks>
/// N is 512 by default; GPUDECONV_BENCH_GEMM=512,1024 (a comma-separated list) runs other sizes on every
/// accelerator, the CPU included (which runs this barrier kernel region-split, one group at a time).
/// </remarks>
public class GemmBenchmark : AcceleratorBenchmark
{

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; } = 512;

    public static IEnumerable<int> Sizes() =>
        Environment.GetEnvironmentVariable("GPUDECONV_BENCH_GEMM") is { Length: > 0 } sizes
            ? sizes.Split(',').Select(size => int.Parse(size, System.Globalization.CultureInfo.InvariantCulture))
            : [512];

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _gemm = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _a = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _b = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _c = null!;

    protected override void Setup()
    {
        var random = new Random(1);
        var host = new float[N * N];
        for (int i = 0; i < host.Length; i++) host[i] = (float)random.NextDouble();
        _a = Device.Allocate1D(host);
        _b = Device.Allocate1D(host);
        _c = Device.Allocate1D<float>(N * N);
        _gemm = Device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(SubstrateKernels.TiledGemm);
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
        int groups = (N + SubstrateKernels.Tile - 1) / SubstrateKernels.Tile;
        _gemm(new KernelConfig(new Index2D(groups, groups), new Index2D(SubstrateKernels.Tile, SubstrateKernels.Tile)), _a.View, _b.View, _c.View, N);
    }

    [Benchmark(Description = "tiled gemm")]
    [Throughput(2.0 / 1e9, "GFLOP/s", CubedParameter = nameof(N))]
    public void Gemm()
    {
        Run();
        Stream.Synchronize();
    }
}
