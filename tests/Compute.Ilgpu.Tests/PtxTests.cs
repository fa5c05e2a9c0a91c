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

    /// <summary>
    /// One row per architecture and twin. The arguments are short and unique (<c>sm_80</c>, <c>Gemm.MultiplyKernel</c>,
    /// overloads numbered in key order), so test names stay readable: xunit cuts string arguments at 50 characters,
    /// which the full kernel keys all exceed.
    /// </summary>
    public static TheoryData<string, string> ArchitecturesAndKernels()
    {
        var data = new TheoryData<string, string>();
        foreach (string arch in new[] { "sm_70", "sm_80", "sm_90" })
            foreach (string kernel in TwinsByTestName().Keys)
                data.Add(arch, kernel);
        return data;
    }

    /// <summary>Each twin by its test name: <c>Class.Method</c>, with <c>#2</c>, <c>#3</c>... for further overloads (in key order).</summary>
    internal static IReadOnlyDictionary<string, IlgpuTwin> TwinsByTestName() => TestNames.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, IlgpuTwin>> TestNames = new(() =>
    {
        Twins.EnsureLoaded();
        var byName = new Dictionary<string, IlgpuTwin>(StringComparer.Ordinal);
        // Over 50 characters a name loses its "Kernel" suffix (MatrixMultiplyCases.MatrixMultiplyAcceleratedKernel).
        static string Short(string name) => name.Length > 50 && name.EndsWith("Kernel", StringComparison.Ordinal) ? name[..^"Kernel".Length] : name;
        foreach (var group in IlgpuKernelTwins.All.GroupBy(t => Short(t.Name), StringComparer.Ordinal))
        {
            int n = 0;
            foreach (var twin in group.OrderBy(t => t.KernelKey, StringComparer.Ordinal))
                byName.Add(++n == 1 ? group.Key : $"{group.Key}#{n}", twin);
        }
        return byName;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    [Fact]
    public void PtxTestNamesAreShortAndDistinct()
    {
        var names = TwinsByTestName().Keys.ToList();
        Assert.Equal(IlgpuKernelTwins.All.Count, names.Count);
        var tooLong = names.Where(n => n.Length > 50).ToList();
        Assert.True(tooLong.Count == 0, "names xunit would cut at 50 characters: " + string.Join(", ", tooLong));
        // Loaded explicitly, not by whichever test class happened to run first.
        Assert.Contains(IlgpuKernelTwins.All, t => t.KernelKey.StartsWith("GpuDeconv.Compute.Conformance.", StringComparison.Ordinal));
        Assert.Contains(IlgpuKernelTwins.All, t => t.KernelKey.StartsWith(typeof(TwinSourceTests).FullName + "::", StringComparison.Ordinal));
    }

    /// <summary>ILGPU rejects class instances in kernels; the PTX check must then name the kernel and carry ILGPU's reason.</summary>
    private static void AllocatesAnObject(ILGPU.Index1D index, ILGPU.ArrayView<float> values) => values[index] = new object().GetHashCode();

    [Fact]
    public void AKernelIlgpuCannotCompileFailsWithItsNameAndIlgpusMessage()
    {
        var method = typeof(PtxTests).GetMethod(nameof(AllocatesAnObject), BindingFlags.NonPublic | BindingFlags.Static)!;
        var twin = new IlgpuTwin("test::AllocatesAnObject", method, 0, "PtxTests.cs:1");
        var e = Assert.Throws<KernelCompilationException>(() => IlgpuPtx.Compile(SharedContext.Value, twin, CudaArchitecture.SM_80));
        Assert.Equal("PtxTests.AllocatesAnObject", e.KernelName);
        Assert.Contains("PtxTests.AllocatesAnObject", e.Message);
        Assert.Contains("PtxTests.cs:1", e.Message);
        Assert.Contains("SM_80", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(e.InnerException);
        Assert.Contains(e.InnerException.Message, e.Message);
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
    public void TwinCompilesToPtx(string arch, string kernel)
    {
        var twin = TwinsByTestName()[kernel];
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

/// <summary>
/// Registers the twins the PTX theories enumerate, whatever order xunit discovers the test classes in: the library's
/// kernels (GpuDeconv.Kernels and its GpuDeconv.Kernels.Ilgpu), the conformance kernels (GpuDeconv.Compute.Conformance
/// and its .Ilgpu) and this project's own (TwinSourceTests), each loaded by a type it holds.
/// </summary>
internal static class Twins
{
    public static void EnsureLoaded()
    {
        foreach (var module in new[] { typeof(GpuDeconv.Kernels.Gemm).Module, typeof(GpuDeconv.Compute.Conformance.ConformanceSuite).Module,
                     typeof(GpuDeconv.Compute.Conformance.Ilgpu.IlgpuCatalog).Module, typeof(Twins).Module })
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(module.ModuleHandle);
        _ = IlgpuKernelTwins.All;
    }
}
