using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Testing;

/// <summary>
/// Runs one conformance case as an xunit test: a <see cref="ConformanceSkip"/> (or an exception <paramref name="isSkip"/>
/// accepts) is a visible skip with its reason, a <see cref="ConformanceFailure"/> a failure naming case and accelerator.
/// </summary>
internal static class ConformanceRunner
{
    /// <summary>One row per accelerator (as GPUDECONV_TEST_ACCELERATORS lets through) and conformance case.</summary>
    public static TheoryData<string, string> Cases(IEnumerable<string> accelerators)
    {
        var data = new TheoryData<string, string>();
        foreach (string accelerator in AcceleratorCatalog.Selected(accelerators))
            foreach (var conformanceCase in ConformanceSuite.Cases)
                data.Add(accelerator, conformanceCase.Name);
        // A filter that leaves none of these accelerators is a visible skip, not xunit's "No data found" failure.
        if (data.Count == 0)
            data.Add(new TheoryDataRow<string, string>("none", "none") { Skip = AcceleratorCatalog.NothingSelected(accelerators) });
        return data;
    }

    public static void Run(string accelerator, string caseName, Func<Exception, bool>? isSkip = null)
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
        catch (Exception e) when (isSkip?.Invoke(e) == true)
        {
            Assert.Skip(e.Message);
        }
    }
}
