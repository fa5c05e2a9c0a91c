using GpuDeconv.Compute.Ilgpu;

namespace GpuDeconv.Compute.Conformance.Ilgpu;

/// <summary>
/// Adds ILGPU's accelerators to <see cref="AcceleratorCatalog"/>: ilgpu-cpu everywhere, ilgpu-cuda and ilgpu-opencl
/// where ILGPU finds (and accepts) such a device, otherwise a skip with ILGPU's reason. They share one ILGPU context.
/// </summary>
public static class IlgpuCatalog
{
    private static readonly Lazy<IlgpuBackend> Backend = new(IlgpuBackend.Create, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lock RegistrationLock = new();
    private static bool _registered;

    /// <summary>The shared ILGPU backend the catalog's ilgpu-* accelerators come from.</summary>
    public static IlgpuBackend Shared => Backend.Value;

    /// <summary>
    /// Registers the given ILGPU kinds (all of <see cref="IlgpuBackend.Kinds"/> by default) once per process; a caller on
    /// another thread returns only after the kinds are in the catalog (tests run in parallel).
    /// </summary>
    public static void Register(params string[] kinds)
    {
        lock (RegistrationLock)
        {
            if (_registered) return;
            foreach (string kind in kinds.Length == 0 ? IlgpuBackend.Kinds : kinds)
                AcceleratorCatalog.Register(kind, () => Create(kind));
            _registered = true;
        }
    }

    private static (Accelerator?, string?) Create(string kind)
    {
        try
        {
            var probe = Shared.Probes.FirstOrDefault(p => p.Kind == kind && p.Device is not null);
            if (probe is null)
                return (null, string.Join("; ", Shared.Probes.Where(p => p.Kind == kind).Select(p => p.ToString())));
            return (Shared.CreateAccelerator(kind), null);
        }
        catch (Exception e)
        {
            return (null, $"creating the {kind} accelerator failed: {e.GetType().Name}: {e.Message}");
        }
    }
}
