using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>Cost of launching an empty kernel: with a synchronize per launch (latency) and many launches per synchronize (enqueue cost).</summary>
public class LaunchBenchmarks : AcceleratorBenchmark
{
    private const int LaunchesPerSynchronize = 100;

    private Action<Index1D, ArrayView<int>> _empty = null!;
    private MemoryBuffer1D<int, Stride1D.Dense> _buffer = null!;

    protected override void Setup()
    {
        _buffer = Device.Allocate1D<int>(1);
        _empty = Device.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(SubstrateKernels.Empty);
        _empty(1, _buffer.View);
    }

    protected override void Cleanup() => _buffer.Dispose();

    [Benchmark(Description = "launch+sync")]
    public void LaunchAndSynchronize()
    {
        _empty(1, _buffer.View);
        Stream.Synchronize();
    }

    [Benchmark(Description = "launch (100 per sync)", OperationsPerInvoke = LaunchesPerSynchronize)]
    public void LaunchOnly()
    {
        for (int i = 0; i < LaunchesPerSynchronize; i++)
            _empty(1, _buffer.View);
        Stream.Synchronize();
    }
}
