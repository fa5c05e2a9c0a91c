using System.Reflection;
using GpuDeconv.Compute;
using GpuDeconv.Compute.Ilgpu;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.CPU;
using ILGPU;
using Xunit;

namespace GpuDeconv.Compute.Ilgpu.Tests;

/// <summary>
/// Every ILGPU twin compiles to PTX with ILGPU for sm_70, sm_80 and sm_90, with no GPU present: what an ilgpu-cuda
/// accelerator would load. A kernel that does not compile fails with its name and ILGPU's message.
/// </summary>
public sealed class PtxTests
{
    private static readonly Lazy<ILGPU.Context> SharedContext = new(() => ILGPU.Context.Create(b => IlgpuBackend.Configure(b.CPU())), LazyThreadSafetyMode.ExecutionAndPublication);

    public static TheoryData<string, string> ArchitecturesAndKernels()
    {
        Twins.EnsureLoaded();
        var data = new TheoryData<string, string>();
        foreach (string arch in new[] { "sm_70", "sm_80", "sm_90" })
            foreach (var twin in IlgpuKernelTwins.All)
                data.Add(arch, twin.KernelKey);
        return data;
    }

    [Fact]
    public void EveryGpuShapedLibraryKernelHasATwin()
    {
        Twins.EnsureLoaded();
        var keys = IlgpuKernelTwins.All.Select(t => t.KernelKey).ToHashSet(StringComparer.Ordinal);
        var hostShaped = IlgpuKernelTwins.HostShapedKernels;
        var library = KernelRegistry.All.Where(d => d.Key.StartsWith("GpuDeconv.Kernels.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(library);
        var missing = library.Where(d => !keys.Contains(d.Key) && !hostShaped.ContainsKey(d.Key[..d.Key.IndexOf('(')])).Select(d => d.Key).ToList();
        Assert.True(missing.Count == 0, "kernels with neither an ILGPU twin nor a host-shaped reason: " + string.Join(", ", missing));
        // Host-shaped kernels are the Float8 ones; everything else has a twin.
        Assert.All(hostShaped.Values, reason => Assert.Contains("Float8", reason));
    }

    [Theory]
    [MemberData(nameof(ArchitecturesAndKernels))]
    public void TwinCompilesToPtx(string arch, string kernelKey)
    {
        Twins.EnsureLoaded();
        var twin = IlgpuKernelTwins.All.Single(t => t.KernelKey == kernelKey);
        var architecture = arch switch
        {
            "sm_70" => CudaArchitecture.SM_70,
            "sm_80" => CudaArchitecture.SM_80,
            _ => CudaArchitecture.SM_90,
        };
        string ptx = IlgpuPtx.Compile(SharedContext.Value, twin, architecture);
        Assert.Contains(".entry", ptx);
        // ILGPU targets the lowest architecture that has the capabilities it uses (sm_80 at most for these kernels),
        // so sm_90 gets sm_80 PTX, which the driver JIT-compiles for the device. What matters: never above the device.
        var target = System.Text.RegularExpressions.Regex.Match(ptx, @"\.target sm_(\d+)");
        Assert.True(target.Success, "no .target line in: " + ptx[..Math.Min(400, ptx.Length)]);
        Assert.InRange(int.Parse(target.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 50, int.Parse(arch[3..], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>Makes sure the library kernels and their twins are registered before a theory enumerates them.</summary>
internal static class Twins
{
    public static void EnsureLoaded()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof(GpuDeconv.Kernels.Gemm).Module.ModuleHandle);
        _ = IlgpuKernelTwins.All;
    }
}
