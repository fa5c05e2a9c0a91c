using GpuDeconv.Compute.Conformance;
using GpuDeconv.Testing;
using Xunit;

namespace GpuDeconv.Compute.Tests;

// Every conformance case on every accelerator. A missing accelerator or feature is a visible
// skip with its reason, never a silent pass.
public sealed class ConformanceTests
{
    public static TheoryData<string, string> CasesOnAccelerators() => ConformanceRunner.Cases(AcceleratorCatalog.Names);

    [Theory]
    [MemberData(nameof(CasesOnAccelerators))]
    public void Run(string accelerator, string caseName) => ConformanceRunner.Run(accelerator, caseName);
}
