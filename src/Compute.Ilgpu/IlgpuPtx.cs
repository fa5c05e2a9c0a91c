using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>Compiles a kernel's ILGPU twin to PTX for a CUDA architecture without a GPU (CI's check of the ilgpu-cuda route).</summary>
public static class IlgpuPtx
{
    /// <summary>The PTX text of <paramref name="twin"/> for <paramref name="architecture"/> (PTX ISA 8.0).</summary>
    /// <param name="context">Any ILGPU context; one with only the CPU device is enough.</param>
    /// <param name="twin">The twin, from <see cref="IlgpuKernelTwins.All"/>.</param>
    /// <param name="architecture">sm_70, sm_80, sm_90...</param>
    /// <exception cref="KernelCompilationException">ILGPU cannot compile the twin; the message names the kernel and carries ILGPU's.</exception>
    public static string Compile(ILGPU.Context context, IlgpuTwin twin, CudaArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(twin);
        try
        {
            using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, null);
            bool implicitlyGrouped = twin.Method.GetParameters() is [{ ParameterType: var first }, ..] && typeof(ILGPU.IIndex).IsAssignableFrom(first);
            var entry = implicitlyGrouped
                ? EntryPointDescription.FromImplicitlyGroupedKernel(twin.Method)
                : EntryPointDescription.FromExplicitlyGroupedKernel(twin.Method);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            return compiled.PTXAssembly;
        }
        catch (Exception e) when (e is not KernelCompilationException)
        {
            throw new KernelCompilationException(twin.Name, twin.Location, $"ILGPU PTX {architecture}",
                $"ILGPU could not compile {twin.Name} to PTX for {architecture}: {e.GetType().Name}: {e.Message}", "", e);
        }
    }
}
