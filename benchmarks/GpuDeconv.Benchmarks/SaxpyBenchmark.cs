using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>y = a*x + y over 256 MiB per array: a memory-bandwidth test (reads x and y, writes y).</summary>
public class SaxpyBenchmark : AcceleratorBenchmark
{
    private const long BytesPerArray = 256L << 20;
    private const int Length = (int)(BytesPerArray / sizeof(float));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, float> _saxpy = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _x = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _y = null!;

    protected override void Setup()
    {
        _x = Device.Allocate1D<float>(Length);
        _y = Device.Allocate1D<float>(Length);
        _x.MemSetToZero();
        _y.MemSetToZero();
        _saxpy = Device.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(SubstrateKernels.Saxpy);
        _saxpy(Length, _y.View, _x.View, 0.5f);
    }

    protected override void Cleanup()
    {
        _x.Dispose();
        _y.Dispose();
    }

    [Benchmark(Description = "saxpy 256 MiB")]
    [Throughput(3 * BytesPerArray / 1e9, "GB/s")]
    public void Saxpy()
    {
        _saxpy(Length, _y.View, _x.View, 0.5f);
        Stream.Synchronize();
    }
}
