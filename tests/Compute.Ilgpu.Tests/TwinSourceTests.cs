using GpuDeconv.Compute;
using Xunit;

namespace GpuDeconv.Compute.Ilgpu.Tests;

/// <summary>
/// A project's own kernels get ILGPU twins from their source (this file is also an AdditionalFiles twin source, see the
/// csproj), also when the loader is called from an instance method, as benchmarks and layers do in their setup.
/// </summary>
public sealed class TwinSourceTests
{
    private Action<Index1D, ArrayView<float>>? _triple;

    private static void Triple(Index1D index, ArrayView<float> values) => values[index] *= 3f;

    private void Load(Accelerator accelerator) => _triple = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(Triple);

    [Fact]
    public void AKernelLoadedFromAnInstanceMethodHasATwinAndRunsOnIlgpu()
    {
        var accelerator = IlgpuCatalogAccess.Cpu;
        Load(accelerator);
        using var buffer = accelerator.Allocate1D([1f, -2f, 0.5f]);
        _triple!(3, buffer.View);
        accelerator.Synchronize();
        Assert.Equal([3f, -6f, 1.5f], buffer.GetAsArray1D());
    }
}
