using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>Base of every benchmark: one accelerator per parameter value, CPU first (the baseline of the "vs cpu" column).</summary>
public abstract class AcceleratorBenchmark
{
    private Context? _context;

    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = "cpu";

    /// <summary>The accelerator kinds that have a device here: cpu always, opencl and cuda when found.</summary>
    public static IEnumerable<string> Accelerators() => AvailableAccelerators.Value;

    private static readonly Lazy<string[]> AvailableAccelerators = new(() =>
    {
        using var context = Context.CreateDefault();
        return [.. new[] { AcceleratorType.CPU, AcceleratorType.OpenCL, AcceleratorType.Cuda }
            .Where(type => context.Any(device => device.AcceleratorType == type))
            .Select(type => type.ToString().ToLowerInvariant())];
    });

    protected Accelerator Device { get; private set; } = null!;

    protected AcceleratorStream Stream => Device.DefaultStream;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _context = Context.CreateDefault();
        var type = Enum.Parse<AcceleratorType>(Accelerator, ignoreCase: true);
        var device = _context.FirstOrDefault(d => d.AcceleratorType == type)
            ?? throw new InvalidOperationException($"No {Accelerator} device here; found: {string.Join(", ", _context)}");
        Device = device.CreateAccelerator(_context);
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
        Device.Dispose();
        _context?.Dispose();
    }
}
