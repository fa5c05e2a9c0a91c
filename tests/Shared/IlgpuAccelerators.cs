using System.Runtime.CompilerServices;
using GpuDeconv.Compute.Conformance.Ilgpu;

namespace GpuDeconv.Testing;

/// <summary>
/// Linked into the test projects that also run on ILGPU: before any theory enumerates <see cref="TestAccelerators.Names"/>,
/// the ilgpu-cpu, ilgpu-opencl and ilgpu-cuda accelerators join the catalog, so every kernel test and conformance case
/// runs on them too (skipping with ILGPU's reason where a device is missing).
/// </summary>
internal static class IlgpuAccelerators
{
    [ModuleInitializer]
    internal static void Register() => IlgpuCatalog.Register();
}
