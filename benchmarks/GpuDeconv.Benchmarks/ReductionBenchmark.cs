using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>Sum of 64 Mi floats (256 MiB): per-group partial sums over a contiguous block, a shared-memory tree per group, one atomic add per group.</summary>
/// <remarks>
/// Each group owns one contiguous block of <see cref="BlockElements"/> values and its lanes step through it by the
/// group size: coalesced on GPUs, and on CPU OpenCL drivers (pocl runs a group's work-items one after another) the
/// block stays in cache. A grid-stride loop made every pocl work-item stream the whole array, about 16 times the traffic.
/// </remarks>
public class ReductionBenchmark : AcceleratorBenchmark
{
    private const long Bytes = 256L << 20;
    private const int Length = (int)(Bytes / sizeof(float));
    private const int GroupSize = 256;
    private const int BlockElements = GroupSize * 64;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>> _sum = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _values = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _total = null!;
    private KernelConfig _config;

    private static void Sum(ArrayView<float> values, ArrayView<float> total)
    {
        var partial = SharedMemory.Allocate<float>(GroupSize);
        int lane = Group.IdxX;
        long start = (long)Grid.IdxX * BlockElements;
        long end = Math.Min(start + BlockElements, values.Length);
        float sum = 0f;
        for (long i = start + lane; i < end; i += GroupSize)
            sum += values[i];
        partial[lane] = sum;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (lane < half)
                partial[lane] += partial[lane + half];
            Group.Barrier();
        }
        if (lane == 0)
            Atomic.Add(ref total[0], partial[0]);
    }

    protected override void Setup()
    {
        _values = Device.Allocate1D<float>(Length);
        _values.MemSetToZero();
        _total = Device.Allocate1D<float>(1);
        _config = new KernelConfig((Length + BlockElements - 1) / BlockElements, GroupSize);
        _sum = Device.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(Sum);
        _sum(_config, _values.View, _total.View);
    }

    protected override void Cleanup()
    {
        _values.Dispose();
        _total.Dispose();
    }

    [Benchmark(Description = "sum 256 MiB")]
    [Throughput(Bytes / 1e9, "GB/s")]
    public void Reduce()
    {
        _total.MemSetToZero();
        _sum(_config, _values.View, _total.View);
        Stream.Synchronize();
    }
}
