using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>Base of every benchmark: one accelerator per parameter value, CPU first (the baseline of the "vs cpu" column).</summary>
public abstract class AcceleratorBenchmark
{

    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = "cpu";

    /// <summary>The accelerator kinds that have a device here (<see cref="BenchmarkAccelerators.Kinds"/>): cpu always, the others when found.</summary>
    public static IEnumerable<string> Accelerators() => BenchmarkAccelerators.Kinds;

    protected Accelerator Device { get; private set; } = null!;

    protected AcceleratorStream Stream => Device.DefaultStream;

    [GlobalSetup]
    public void GlobalSetup()
    {
        Device = BenchmarkAccelerators.Create(Accelerator);
        Setup();
        // Compile and run once outside the measurement so the first iteration is not a kernel build.
        Device.Synchronize();
    }

    protected abstract void Setup();

    protected abstract void Cleanup();

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        Cleanup();
        Device?.Dispose();
    }
}
