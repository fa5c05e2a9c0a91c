using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>
/// ILGPU's kinds (ilgpu-cuda, ilgpu-opencl, ilgpu-cpu) for <see cref="AcceleratorKinds.Create(string)"/>: registered
/// when this assembly loads, so referencing the package is all a program needs.
/// </summary>
internal sealed class IlgpuAcceleratorProvider : IAcceleratorProvider
{
    // A library's module initializer is what registers a backend without the program having to call anything.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => AcceleratorKinds.Register(new IlgpuAcceleratorProvider());

    public IReadOnlyList<string> Kinds => IlgpuBackend.Kinds;

    public Accelerator? TryCreate(string kind, out string description)
    {
        var backend = IlgpuBackend.Create();
        try
        {
            var probe = backend.Probes.FirstOrDefault(p => p.Kind == kind && p.Device is not null);
            if (probe is null)
            {
                description = string.Join("; ", backend.Probes.Where(p => p.Kind == kind).Select(p => p.Name == "-" ? p.Reason : $"{p.Name}: {p.Reason}"));
                backend.Dispose();
                return null;
            }
            var accelerator = backend.CreateAccelerator(kind);
            accelerator.DisposeAlso(backend);
            description = $"{kind} {probe.Name} (ILGPU)";
            return accelerator;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }
}
