using GpuDeconv.Compute;

namespace GpuDeconv.Layers;

/// <summary>
/// Accelerators by kind, for research code that imports only <c>GpuDeconv.Layers</c>:
/// <c>using var accelerator = Accelerators.Create("auto");</c>. The kinds are <c>cpu</c>, <c>opencl</c>, <c>cuda</c>,
/// <c>ilgpu-cuda</c>, <c>ilgpu-opencl</c> and <c>ilgpu-cpu</c> (with the <c>GpuDeconv.Compute.Ilgpu</c> package), and
/// <c>auto</c>: CUDA (ILGPU's route when NVRTC is missing), then OpenCL, then the CPU. The accelerator owns its context:
/// disposing it frees both. The trainer's <c>--accelerator</c> makes its accelerator with this same call.
/// </summary>
public static class Accelerators
{
    /// <summary>Every kind <see cref="Create(string)"/> takes here.</summary>
    public static IReadOnlyList<string> Kinds => AcceleratorKinds.All;

    /// <summary>A new accelerator of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The kind is not one of <see cref="Kinds"/>.</exception>
    /// <exception cref="AcceleratorUnavailableException">No usable device of that kind here; the message says why.</exception>
    public static Accelerator Create(string kind = "auto") => AcceleratorKinds.Create(kind);

    /// <summary>As <see cref="Create(string)"/>; <paramref name="description"/> names the device and, for auto, why it was chosen.</summary>
    /// <exception cref="ArgumentException">The kind is not one of <see cref="Kinds"/>.</exception>
    /// <exception cref="AcceleratorUnavailableException">No usable device of that kind here; the message says why.</exception>
    public static Accelerator Create(string kind, out string description) => AcceleratorKinds.Create(kind, out description);
}
