using GpuDeconv.Compute.Conformance;
using GpuDeconv.Compute.Conformance.Ilgpu;
using GpuDeconv.Compute.Ilgpu;
using Xunit;

namespace GpuDeconv.Compute.Ilgpu.Tests;

/// <summary>
/// Every conformance case (the ones tests/Compute.Tests runs on cpu, opencl and cuda) on ILGPU's accelerators, with the
/// same checks and tolerances. ilgpu-cpu runs everywhere; ilgpu-cuda and ilgpu-opencl skip with ILGPU's reason when
/// there is no such device. Host-shaped cases (Float8) skip with the reason ILGPU cannot run them.
/// </summary>
public sealed class ConformanceOnIlgpuTests
{
    static ConformanceOnIlgpuTests() => IlgpuCatalog.Register();

    public static TheoryData<string, string> CasesOnIlgpu()
    {
        IlgpuCatalog.Register();
        var data = new TheoryData<string, string>();
        foreach (string kind in IlgpuBackend.Kinds)
            foreach (var conformanceCase in ConformanceSuite.Cases)
                data.Add(kind, conformanceCase.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CasesOnIlgpu))]
    public void Run(string accelerator, string caseName)
    {
        var conformanceCase = ConformanceSuite.Find(caseName);
        try
        {
            AcceleratorCatalog.Run(accelerator, conformanceCase);
        }
        catch (ConformanceSkip skip)
        {
            Assert.Skip(skip.Message);
        }
        catch (HostShapedKernelException hostShaped)
        {
            Assert.Skip(hostShaped.Message);
        }
        catch (ConformanceFailure failure)
        {
            Assert.Fail($"{caseName} on {accelerator}: {failure.Message}");
        }
    }
}
