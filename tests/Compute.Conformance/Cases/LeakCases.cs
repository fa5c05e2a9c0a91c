using System.Diagnostics;

namespace GpuDeconv.Compute.Conformance;

// Native memory is released on Dispose: 50 allocations of 64 MiB (3.2 GiB in total, each one
// written so that it is really committed) must leave free device memory, or the process's
// resident memory where the device can't report it, where it started.
internal static class LeakCases
{
    private const long BufferBytes = 64L << 20;
    private const int Iterations = 50;
    private const long Margin = 3 * BufferBytes;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("leaks.allocate-free-64mib-x50", "leaks", AllocateAndFree);
    }

    private static void AllocateAndFree(Accelerator accelerator)
    {
        bool deviceReports = accelerator.FreeMemory >= 0;
        // Host-memory devices (CPU accelerator, pocl) show leaks in the process's resident set.
        bool hostMemory = accelerator.AcceleratorType == AcceleratorType.CPU
            || (accelerator.AcceleratorType == AcceleratorType.OpenCL && !deviceReports);
        if (!deviceReports && !hostMemory)
            throw new ConformanceSkip($"{accelerator} reports no free memory (FreeMemory is -1) and its memory is not host memory.");

        // Warm up once so that pools and code paths exist before the baseline.
        using (var warm = accelerator.Allocate1D<byte>(BufferBytes)) warm.MemSetToZero();
        accelerator.Synchronize();
        long freeBefore = accelerator.FreeMemory;
        long residentBefore = Resident();

        for (int i = 0; i < Iterations; i++)
        {
            using var buffer = accelerator.Allocate1D<byte>(BufferBytes);
            buffer.MemSetToZero();
            buffer.View.SubView(BufferBytes - 4, 4).CopyFromCPU(new byte[] { 1, 2, 3, 4 });
        }
        accelerator.Synchronize();

        if (deviceReports)
        {
            long freeAfter = accelerator.FreeMemory;
            Check.True(freeAfter >= freeBefore - Margin,
                $"free device memory fell from {freeBefore >> 20} MiB to {freeAfter >> 20} MiB after {Iterations} x 64 MiB allocate/dispose (allowed: {Margin >> 20} MiB).");
        }
        if (hostMemory)
        {
            long residentAfter = Resident();
            Check.True(residentAfter <= residentBefore + Margin,
                $"resident memory grew from {residentBefore >> 20} MiB to {residentAfter >> 20} MiB after {Iterations} x 64 MiB allocate/dispose (allowed: {Margin >> 20} MiB).");
        }
    }

    private static long Resident()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}
