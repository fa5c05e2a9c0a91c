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

    [Fact]
    public void PartialAccessesOutsideTheViewFailAtTheFirstOutsideElement()
    {
        using var buffer = Cpu().Allocate1D(new float[] { 1, 2, 3, 4 });
        var view = buffer.View;
        var error = Assert.Throws<IndexOutOfRangeException>(() => Float8.LoadPartial(view, 2, 3));
        Assert.Equal("Index 4 is outside the view of length 4.", error.Message);
        error = Assert.Throws<IndexOutOfRangeException>(() => Float8.LoadPartial(view, -1, 2));
        Assert.Equal("Index -1 is outside the view of length 4.", error.Message);
        // A partial store writes the elements before the first one outside, as element-wise stores would.
        error = Assert.Throws<IndexOutOfRangeException>(() => Float8.StorePartial(Float8.Splat(9f), view, 2, 5));
        Assert.Equal("Index 4 is outside the view of length 4.", error.Message);
        Assert.Equal([1f, 2f, 9f, 9f], buffer.GetAsArray1D());
        // A count of 0 or less touches nothing, wherever it points.
        Assert.Equal(0f, Float8.LoadPartial(view, 100, 0)[0]);
        Float8.StorePartial(Float8.Splat(5f), view, -3, -1);
        Assert.Equal([1f, 2f, 9f, 9f], buffer.GetAsArray1D());
    }

    [Fact]
    public void PartialAccessesInsideTheViewTouchOnlyTheirElements()
    {
        using var buffer = Cpu().Allocate1D(Enumerable.Range(1, 20).Select(i => (float)i).ToArray());
        for (int count = 1; count < Float8.Width; count++)
        {
            var value = Float8.LoadPartial(buffer.View, 20 - count, count);
            Assert.Equal(Enumerable.Range(0, 8).Select(lane => lane < count ? 21f - count + lane : 0f).ToArray(),
                         Enumerable.Range(0, 8).Select(lane => value[lane]).ToArray());
        }
        Float8.StorePartial(Float8.Splat(-1f), buffer.View, 5, 3);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i is >= 6 and <= 8 ? -1f : i).ToArray(), buffer.GetAsArray1D());
    }

    [Fact]
    public void IndexConversionsOutsideTheViewFailAtTheFirstOutsideElement()
    {
        using var buffer = Cpu().Allocate1D(new long[] { 100, 101, 102, 103, 104, 105 });
        var view = buffer.View;
        // Eight lanes from index 0 do not fit in six elements: the lanes before the first outside one are written.
        var error = Assert.Throws<IndexOutOfRangeException>(() => Float8.StoreIndices(Float8.Splat(2f), 10, 3, view, 0, 8));
        Assert.Equal("Index 6 is outside the view of length 6.", error.Message);
        Assert.Equal([16L, 17, 18, 19, 20, 21], buffer.GetAsArray1D());
        error = Assert.Throws<IndexOutOfRangeException>(() => Float8.LoadOffsets(view, 3, 0, 4));
        Assert.Equal("Index 6 is outside the view of length 6.", error.Message);
        // Inside the view: offsets of each element from origin + lane; lanes past count are 0.
        var offsets = Float8.LoadOffsets(view, 1, 10, 3);
        Assert.Equal([7f, 7f, 7f, 0f, 0f, 0f, 0f, 0f], Enumerable.Range(0, 8).Select(lane => offsets[lane]).ToArray());
    }
}
