using GpuDeconv.Compute;
using GpuDeconv.Compute.Ilgpu;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// The accelerator kinds the suite measures, and how each is created: ours (cpu, opencl, cuda) when a device of the kind
/// is here, and ILGPU's beside them (ilgpu-cuda and ilgpu-opencl when ILGPU finds such a device, so a GPU run puts
/// ILGPU-CUDA next to NVRTC-CUDA). ilgpu-cpu, ILGPU's debugging device, runs 256-lane groups on OS threads, about 1000x
/// slower than cpu (docs/results/2026-12-06-ilgpu-cpu.md): it joins only when GPUDECONV_BENCH_ILGPU_CPU=1, best with a
/// small GPUDECONV_BENCH_BATCH (docs/benchmarks.md). GPUDECONV_BENCH_ACCELERATORS (a comma-separated list, for example
/// <c>cuda,ilgpu-cuda</c>) keeps only those kinds: tools/gpu-check.sh leaves out the CPU rows on a GPU lent for minutes.
/// </summary>
internal static class BenchmarkAccelerators
{
    /// <summary>The opt-in for ilgpu-cpu.</summary>
    public const string IlgpuCpuVariable = "GPUDECONV_BENCH_ILGPU_CPU";

    /// <summary>The kinds to keep, comma-separated; unset or empty: every kind found.</summary>
    public const string FilterVariable = "GPUDECONV_BENCH_ACCELERATORS";

    public static IReadOnlyList<string> Kinds => LazyKinds.Value;

    private static readonly Lazy<string[]> LazyKinds = new(() =>
    {
        using var context = Context.CreateDefault();
        var ours = new[] { AcceleratorType.CPU, AcceleratorType.OpenCL, AcceleratorType.Cuda }
            .Where(type => context.Any(device => device.AcceleratorType == type))
            .Select(type => type.ToString().ToLowerInvariant());
        using var ilgpu = IlgpuBackend.Create();
        bool withCpu = Environment.GetEnvironmentVariable(IlgpuCpuVariable) == "1";
        var theirs = IlgpuBackend.Kinds.Where(kind => (kind != "ilgpu-cpu" || withCpu) && ilgpu.Probes.Any(p => p.Kind == kind && p.Device is not null));
        string? filter = Environment.GetEnvironmentVariable(FilterVariable);
        var wanted = filter?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return [.. ours.Concat(theirs).Where(kind => wanted is not { Length: > 0 } || wanted.Contains(kind, StringComparer.OrdinalIgnoreCase))];
    });

    /// <summary>Whether <paramref name="kind"/> is one of ILGPU's (those run only GPU-shaped kernels).</summary>
    public static bool IsIlgpu(string? kind) => kind?.StartsWith("ilgpu-", StringComparison.Ordinal) == true;

    /// <summary>A new accelerator of <paramref name="kind"/>, owning its context (the library's one entry point, <see cref="GpuDeconv.Layers.Accelerators.Create(string)"/>).</summary>
    /// <exception cref="AcceleratorUnavailableException">No device of that kind here.</exception>
    public static Accelerator Create(string kind) => GpuDeconv.Layers.Accelerators.Create(kind);

    /// <summary>The device whose peak <paramref name="kind"/> is measured against: ILGPU's kinds share ours.</summary>
    public static string PeakKind(string kind) => kind switch
    {
        "ilgpu-cuda" => "cuda",
        "ilgpu-opencl" => "opencl",
        "ilgpu-cpu" => "cpu",
        _ => kind,
    };
}
