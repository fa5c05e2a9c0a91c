using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;
using static GpuDeconv.Layers.Tests.GradientCheck;

namespace GpuDeconv.Layers.Tests;

// MaxPoolWithArgmax, Unpool, MaxPool and AvgPool: forward against plain loops, backward against finite differences
// (on distinct values, so a small step never changes which cell is the maximum).
public sealed class FunctionalPoolTests
{
    public static TheoryData<string, int, int, bool> PoolCases()
    {
        var data = new TheoryData<string, int, int, bool>();
        foreach (string name in AcceleratorCatalog.Names)
        {
            data.Add(name, 2, 2, true);    // the tutorial's 2x2 s2 SAME, odd input: padded cells after the data
            data.Add(name, 3, 2, true);    // overlapping windows
            data.Add(name, 2, 3, false);   // stride > size, VALID
        }
        return data;
    }

    [Theory, MemberData(nameof(PoolCases))]
    public void MaxPoolWithArgmaxMatchesLoopsAndFiniteDifferences(string name, int size, int stride, bool same)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 5, 4, 3];
        var padding = same ? Padding.Same : Padding.Valid;
        float[] data = TestData.Distinct(11, 120);
        foreach (bool includeBatch in new[] { false, true })
        {
            using (var scope = new TensorScope())
            {
                var (values, argmax) = Functional.MaxPoolWithArgmax(Tensor.FromArray(acc, data, xs), size, stride, padding, includeBatch);
                var (refValues, refArgmax) = Reference.MaxPoolWithArgmax(FiniteDifference.ToDouble(data), xs, size, size, stride, stride, same, includeBatch);
                Assert.Equal(DType.Int64, argmax.DType);
                Assert.Equal(values.Shape, argmax.Shape);
                Check.Close(refValues, FiniteDifference.ToDouble(values.ToArray()), 0, 0, "MaxPoolWithArgmax values");
                Check.Equal<long>(refArgmax, argmax.ToArray<long>(), $"argmax as long (includeBatch {includeBatch})");
                Check.Equal<int>(Array.ConvertAll(refArgmax, v => (int)v), argmax.ToArray<int>(), "argmax as int");
            }
            Run(acc, $"MaxPoolWithArgmax {size}/{stride} {padding} batch {includeBatch}",
                t => Functional.MaxPoolWithArgmax(t[0], size, stride, padding, includeBatch).Values,
                x => Reference.MaxPoolWithArgmax(x[0], xs, size, size, stride, stride, same, includeBatch).Values,
                [In(data, xs)]);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MaxPoolWithArgmaxAndUnpoolReproduceTheTutorialExample(string name)
    {
        // docs/reference/op-semantics.md 7(b): every row r holds the pixel [r, r+4]; 2x2 s2 SAME.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var data = new float[32];
        for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
        {
            data[(r * 4 + c) * 2] = r;
            data[(r * 4 + c) * 2 + 1] = r + 4;
        }
        var x = Tensor.FromArray(acc, data, [1, 4, 4, 2]);
        var (values, argmax) = Functional.MaxPoolWithArgmax(x, 2, 2, Padding.Same);
        Assert.Equal([1f, 5, 1, 5, 3, 7, 3, 7], values.ToArray());
        Assert.Equal([8L, 9, 12, 13, 24, 25, 28, 29], argmax.ToArray<long>());
        var unpooled = Functional.Unpool(values, argmax, x.Shape).ToArray();
        var expected = new float[32];
        foreach (int cell in new[] { 4, 6, 12, 14 })   // (1,0), (1,2), (3,0), (3,2)
        {
            expected[cell * 2] = cell < 8 ? 1 : 3;
            expected[cell * 2 + 1] = cell < 8 ? 5 : 7;
        }
        Assert.Equal(expected, unpooled);
    }

    public static TheoryData<string, bool, bool> UnpoolCases()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string name in AcceleratorCatalog.Names)
        {
            data.Add(name, false, false);
            data.Add(name, true, false);
            data.Add(name, false, true);   // trusted unique switches
        }
        return data;
    }

    [Theory, MemberData(nameof(UnpoolCases))]
    public void UnpoolMatchesLoopsAndFiniteDifferences(string name, bool includeBatch, bool trusted)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 5, 5, 2];   // odd pre-pool size: 5x5 -> 3x3 -> 5x5
        float[] data = TestData.Distinct(12, 100);
        var (_, switches) = Reference.MaxPoolWithArgmax(FiniteDifference.ToDouble(data), xs, 2, 2, 2, 2, true, includeBatch);
        int[] vs = [2, 3, 3, 2];
        var mode = trusted ? UnpoolIndices.TrustedUnique : UnpoolIndices.Validate;
        Run(acc, $"Unpool batch {includeBatch} {mode}",
            t => Functional.Unpool(t[0], Tensor.FromArray(acc, switches, vs), xs, includeBatch, mode),
            x => Reference.Unpool(x[0], switches, vs, xs, includeBatch),
            [In(TestData.Uniform(13, 36), vs)]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void UnpoolSumsDuplicateSwitches(string name)
    {
        // Overlapping windows can share a maximum; scatter_nd adds both values there.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var values = Tensor.FromArray(acc, [1f, 2f, 4f], [1, 1, 3, 1]);
        var argmax = Tensor.FromArray(acc, [2L, 2L, 0L], [1, 1, 3, 1]);
        Assert.Equal([4f, 0f, 3f, 0f], Functional.Unpool(values, argmax, [1, 2, 2, 1]).ToArray());
    }

    [Theory, MemberData(nameof(PoolCases))]
    public void MaxPoolMatchesLoopsAndFiniteDifferences(string name, int size, int stride, bool same)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 5, 4, 3];
        var padding = same ? Padding.Same : Padding.Valid;
        Run(acc, $"MaxPool {size}/{stride} {padding}",
            t => Functional.MaxPool(t[0], size, stride, padding),
            x => Reference.MaxPoolWithArgmax(x[0], xs, size, size, stride, stride, same, false).Values,
            [In(TestData.Distinct(14, 120), xs)]);
    }

    [Theory, MemberData(nameof(PoolCases))]
    public void AvgPoolMatchesLoopsAndFiniteDifferences(string name, int size, int stride, bool same)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 5, 4, 3];
        var padding = same ? Padding.Same : Padding.Valid;
        Run(acc, $"AvgPool {size}/{stride} {padding}",
            t => Functional.AvgPool(t[0], size, stride, padding),
            x => Reference.AvgPool(x[0], xs, size, size, stride, stride, same),
            [In(TestData.Uniform(15, 120), xs)]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void PoolingTakesAHeightWidthPair(string name)
    {
        // docs/reference/op-semantics.md 7(c) in one dimension: a 3x1 column pooled with (2, 1) windows, SAME: pad one row after.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var x = Tensor.FromArray(acc, [1f, 5f, 3f], [1, 3, 1, 1]);
        Assert.Equal([5f, 3f], Functional.MaxPool(x, (2, 1), (2, 1)).ToArray());
        Assert.Equal([3f, 3f], Functional.AvgPool(x, (2, 1), (2, 1)).ToArray());
    }
}
