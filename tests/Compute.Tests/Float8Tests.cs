using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Compute.Tests;

// Float8 on the host (the CPU accelerator runs kernels as C#): reads and writes outside the view are errors that name
// the elements and the view's length, and partial loads never read past count.
public sealed class Float8Tests
{
    private static Accelerator Cpu()
    {
        Assert.True(AcceleratorCatalog.TryGet("cpu", out var cpu, out string reason), reason);
        return cpu!;
    }

    [Fact]
    public void LoadAndStoreOutsideTheViewNameTheElements()
    {
        using var buffer = Cpu().Allocate1D(new float[10]);
        var view = buffer.View;
        var error = Assert.Throws<IndexOutOfRangeException>(() => Float8.Load(view, 3));
        Assert.Equal("Float8: elements 3..10 are outside the view of 10 elements.", error.Message);
        error = Assert.Throws<IndexOutOfRangeException>(() => Float8.Store(Float8.Splat(1f), view, -1));
        Assert.Equal("Float8: elements -1..6 are outside the view of 10 elements.", error.Message);
    }

    [Fact]
    public void PartialLoadsStopAtCount()
    {
        using var buffer = Cpu().Allocate1D(new float[] { 1, 2, 3 });
        // Three elements remain from index 0; a full load would fail, a partial one of 3 reads exactly those.
        var value = Float8.LoadPartial(buffer.View, 0, 3);
        Assert.Equal([1f, 2f, 3f, 0f, 0f, 0f, 0f, 0f], Enumerable.Range(0, 8).Select(lane => value[lane]).ToArray());
        Float8.StorePartial(Float8.Splat(9f), buffer.View, 1, 2);
        Assert.Equal([1f, 9f, 9f], buffer.GetAsArray1D());
    }
}
