using GpuDeconv.Compute.Conformance.Ilgpu;
using GpuDeconv.Testing;
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
        return ConformanceRunner.Cases(IlgpuBackend.Kinds);
    }

    [Theory]
    [MemberData(nameof(CasesOnIlgpu))]
    public void Run(string accelerator, string caseName) =>
        ConformanceRunner.Run(accelerator, caseName, e => e is HostShapedKernelException);
}
