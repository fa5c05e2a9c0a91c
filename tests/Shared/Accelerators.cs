using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Testing;

/// <summary>
/// The accelerators every kernel test runs on (an xunit theory over <see cref="Names"/>): CPU always,
/// OpenCL and CUDA skip with the reason when the machine has none, never a silent pass.
/// </summary>
public static class TestAccelerators
{
    /// <summary>Theory data: one row per accelerator name (as GPUDECONV_TEST_ACCELERATORS lets through).</summary>
    public static TheoryData<string> Names => Rows(AcceleratorCatalog.Names);

    /// <summary>Theory data: one row per accelerator other than cpu, for tests that compare each with cpu.</summary>
    public static TheoryData<string> OtherThanCpu => Rows(AcceleratorCatalog.Names.Where(name => name != "cpu"));

    // A filter that leaves no row is a visible skip, not xunit's "No data found" failure.
    private static TheoryData<string> Rows(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (string name in names) data.Add(name);
        if (data.Count == 0)
            data.Add(new TheoryDataRow<string>("none") { Skip = AcceleratorCatalog.NothingSelected(AcceleratorCatalog.All) });
        return data;
    }

    /// <summary>The shared accelerator called <paramref name="name"/>; skips the test when it is missing.</summary>
    public static Accelerator Get(string name)
    {
        if (!AcceleratorCatalog.TryGet(name, out var accelerator, out string reason))
            Assert.Skip($"{name} accelerator unavailable: {reason}");
        return accelerator!;
    }

    /// <summary>
    /// Skips a scale test (millions of elements, many training steps) on ILGPU's CPU accelerator, a debugging device
    /// that runs kernels one thread per lane, hundreds of times slower than ours; the same semantics are checked there
    /// by the smaller cases of the same class.
    /// </summary>
    public static void SkipScaleTestOnDebugDevice(string name)
    {
        if (name == "ilgpu-cpu")
            Assert.Skip("scale test: ILGPU's CPU accelerator is a debugging device (one thread per lane); the smaller cases cover it.");
    }

    /// <summary>Skips a test of a host-shaped kernel variant (Float8 lanes) on a device that cannot compile one (ILGPU's).</summary>
    public static void RequireHostShaped(Accelerator accelerator)
    {
        if (!accelerator.Device.CompilesHostShapedKernels)
            Assert.Skip($"{accelerator} compiles only GPU-shaped kernels; the host-shaped (Float8) variants are for our own backends.");
    }

    /// <summary>The shared CPU accelerator (always present): the reference for cross-accelerator comparisons.</summary>
    public static Accelerator Cpu => Get("cpu");
}
