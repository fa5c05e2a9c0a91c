using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Compute.Tests;

// Every conformance case on every accelerator. A missing accelerator or feature is a visible
// skip with its reason, never a silent pass.
public sealed class ConformanceTests
{
    public static TheoryData<string, string> CasesOnAccelerators()
    {
        var data = new TheoryData<string, string>();
        foreach (string accelerator in AcceleratorCatalog.Names)
            foreach (var conformanceCase in ConformanceSuite.Cases)
                data.Add(accelerator, conformanceCase.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CasesOnAccelerators))]
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
        catch (ConformanceFailure failure)
        {
            Assert.Fail($"{caseName} on {accelerator}: {failure.Message}");
        }
    }
}
