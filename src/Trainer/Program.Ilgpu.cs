using GpuDeconv.Compute;
#if GPUDECONV_ILGPU
using GpuDeconv.Compute.Ilgpu;
#endif

namespace GpuDeconv.Trainer;

// ILGPU's accelerators (ilgpu-cuda, ilgpu-opencl, ilgpu-cpu). Built in by default; `-p:GpuDeconvIlgpu=false` (and any
// trimmed publish, which ILGPU does not survive) leaves ILGPU out, and then these kinds say so.
public static partial class Program
{
#if GPUDECONV_ILGPU
    private static bool IlgpuAvailable => true;

    private static void DescribeIlgpu(TextWriter output)
    {
        using var backend = IlgpuBackend.Create();
        output.WriteLine("ILGPU (the same kernels, compiled by ILGPU; GPU-shaped kernels only):");
        foreach (var probe in backend.Probes)
            output.WriteLine(probe.Device is { } device
                ? $"    {probe.Kind,-12} {probe.Name}: {device.MaxNumThreadsPerGroup} threads/group, warp {device.WarpSize}, {device.MemorySize / (1024.0 * 1024 * 1024):F1} GiB ({device.Details})"
                : $"    {probe.Kind,-12} refused: {(probe.Name == "-" ? "" : probe.Name + ": ")}{probe.Reason}");
    }
#else
    private static bool IlgpuAvailable => false;

    private static void DescribeIlgpu(TextWriter output) =>
        output.WriteLine("ILGPU: not built in (-p:GpuDeconvIlgpu=false, or a trimmed publish).");
#endif
}
