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

    private static bool TryCreateIlgpuAccelerator(string kind, string why, TextWriter output, TextWriter error, out IDisposable owner, out Accelerator accelerator)
    {
        var backend = IlgpuBackend.Create();
        var probe = backend.Probes.FirstOrDefault(p => p.Kind == kind && p.Device is not null);
        if (probe is null)
        {
            string reasons = string.Join("; ", backend.Probes.Where(p => p.Kind == kind).Select(p => p.Name == "-" ? p.Reason : $"{p.Name}: {p.Reason}"));
            error.WriteLine($"error: no {kind} accelerator: {reasons}. Run 'gpudeconv devices' to see what is available, or use --accelerator auto.");
            backend.Dispose();
            owner = null!;
            accelerator = null!;
            return false;
        }
        accelerator = backend.CreateAccelerator(kind);
        output.WriteLine($"accelerator: {kind} {probe.Name} (ILGPU){why}");
        owner = backend;
        return true;
    }

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

    private static bool TryCreateIlgpuAccelerator(string kind, string why, TextWriter output, TextWriter error, out IDisposable owner, out Accelerator accelerator)
    {
        error.WriteLine($"error: no {kind} accelerator: this gpudeconv was built without ILGPU (-p:GpuDeconvIlgpu=false, or a trimmed publish); use cuda, opencl or cpu.");
        owner = null!;
        accelerator = null!;
        return false;
    }

    private static void DescribeIlgpu(TextWriter output) =>
        output.WriteLine("ILGPU: not built in (-p:GpuDeconvIlgpu=false, or a trimmed publish).");
#endif
}
