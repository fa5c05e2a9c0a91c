using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;
using static GpuDeconv.Layers.Tests.GradientCheck;

namespace GpuDeconv.Layers.Tests;

// Activations, elementwise arithmetic, MatMul, shape ops and reductions: forward against loops, backward against
// finite differences.
public sealed class FunctionalMathTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ActivationsMatchLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] shape = [2, 3, 5];
        var input = In(TestData.AwayFromZero(21, 30), shape);
        Run(acc, "Relu", t => Functional.Relu(t[0]), x => x[0].Select(v => Math.Max(v, 0)).ToArray(), [input]);
        var wide = In(TestData.Uniform(22, 30, -4f, 4f), shape);
        Run(acc, "Sigmoid", t => Functional.Sigmoid(t[0]), x => x[0].Select(v => 1 / (1 + Math.Exp(-v))).ToArray(), [wide]);
        Run(acc, "Tanh", t => Functional.Tanh(t[0]), x => x[0].Select(Math.Tanh).ToArray(), [wide]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ReluBackwardRulesFollowTheDeconvnetPapers(string name)
    {
        // docs/reference/op-semantics.md section 4: gradient R[f>0], deconvnet R[R>0], guided R[f>0][R>0], for every sign pair.
        var acc = TestAccelerators.Get(name);
        float[] f = [-2f, -1f, 1f, 2f, 0f, 0f];
        float[] r = [-3f, 3f, -3f, 3f, 3f, -3f];
        var expected = new Dictionary<ReluBackwardRule, float[]>
        {
            [ReluBackwardRule.Gradient] = [0f, 0f, -3f, 3f, 0f, 0f],
            [ReluBackwardRule.Deconvnet] = [0f, 3f, 0f, 3f, 3f, 0f],
            [ReluBackwardRule.Guided] = [0f, 0f, 0f, 3f, 0f, 0f],
        };
        foreach (var (rule, want) in expected)
        {
            using var scope = new TensorScope();
            var x = Tensor.FromArray(acc, f, [2, 3], requiresGrad: true);
            var y = Functional.Relu(x, rule);
            Assert.Equal([0f, 0f, 1f, 2f, 0f, 0f], y.ToArray());
            y.Backward(Tensor.FromArray(acc, r, [2, 3]));
            Assert.Equal(want, x.Grad!.ToArray());
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ElementwiseArithmeticMatchesLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] shape = [3, 4];
        var a = In(TestData.Uniform(23, 12), shape);
        var b = In(TestData.Uniform(24, 12), shape);
        Run(acc, "Add", t => Functional.Add(t[0], t[1]), x => x[0].Zip(x[1], (p, q) => p + q).ToArray(), [a, b]);
        Run(acc, "Subtract", t => Functional.Subtract(t[0], t[1]), x => x[0].Zip(x[1], (p, q) => p - q).ToArray(), [a, b]);
        Run(acc, "Multiply", t => Functional.Multiply(t[0], t[1]), x => x[0].Zip(x[1], (p, q) => p * q).ToArray(), [a, b]);
        Run(acc, "Scale", t => Functional.Scale(t[0], -2.5f), x => x[0].Select(p => -2.5 * p).ToArray(), [a]);
    }

    public static TheoryData<string, bool, bool> MatMulCases()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string name in AcceleratorCatalog.Names)
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
            data.Add(name, ta, tb);
        return data;
    }

    [Theory, MemberData(nameof(MatMulCases))]
    public void MatMulMatchesLoopsAndFiniteDifferences(string name, bool transposeA, bool transposeB)
    {
        var acc = TestAccelerators.Get(name);
        const int m = 3, k = 5, n = 2;
        int[] ashape = transposeA ? [k, m] : [m, k], bshape = transposeB ? [n, k] : [k, n];
        Run(acc, $"MatMul transposeA {transposeA} transposeB {transposeB}",
            t =>
            {
                var c = Functional.MatMul(t[0], t[1], transposeA, transposeB);
                Assert.Equal(new Shape(m, n), c.Shape);
                return c;
            },
            x => Reference.MatMul(x[0], ashape, x[1], bshape, transposeA, transposeB),
            [In(TestData.Uniform(25, m * k), ashape), In(TestData.Uniform(26, k * n), bshape)]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ReshapeAndConcatMatchLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        Run(acc, "Reshape", t => Functional.Reshape(t[0], [3, 4]), x => x[0], [In(TestData.Uniform(27, 12), [2, 2, 3])]);
        Run(acc, "Reshape twice", t => Functional.Reshape(Functional.Reshape(t[0], [12]), [6, 2]), x => x[0], [In(TestData.Uniform(28, 12), [2, 6])]);

        // Three inputs of different extents along the axis, on every axis (negative too).
        int[][] shapes = [[2, 1, 3], [2, 2, 3], [2, 3, 3]];
        foreach (int axis in new[] { 1, -2 })
        {
            Run(acc, $"Concat axis {axis}",
                t => Functional.Concat(t, axis),
                x => ConcatReference(x, shapes, 1),
                [In(TestData.Uniform(29, 6), shapes[0]), In(TestData.Uniform(30, 12), shapes[1]), In(TestData.Uniform(31, 18), shapes[2])]);
        }
        int[][] rows = [[1, 2, 2], [2, 2, 2]];
        Run(acc, "Concat axis 0", t => Functional.Concat(t, 0), x => [.. x[0], .. x[1]],
            [In(TestData.Uniform(32, 4), rows[0]), In(TestData.Uniform(33, 8), rows[1])]);
        int[][] last = [[2, 2, 1], [2, 2, 3]];
        Run(acc, "Concat axis -1", t => Functional.Concat(t, -1), x => ConcatReference(x, last, 2),
            [In(TestData.Uniform(34, 4), last[0]), In(TestData.Uniform(35, 12), last[1])]);
    }

    private static double[] ConcatReference(double[][] x, int[][] shapes, int axis)
    {
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= shapes[0][d];
        var result = new List<double>();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < x.Length; i++)
            {
                int slice = x[i].Length / outer;
                result.AddRange(x[i].AsSpan(o * slice, slice).ToArray());
            }
        return [.. result];
    }

    public static TheoryData<string, int[]?, bool> ReduceCases()
    {
        var data = new TheoryData<string, int[]?, bool>();
        foreach (string name in AcceleratorCatalog.Names)
        {
            data.Add(name, null, false);
            data.Add(name, [1], false);
            data.Add(name, [0, 2], true);
            data.Add(name, [-1], true);
            data.Add(name, [1, 2], false);
        }
        return data;
    }

    [Theory, MemberData(nameof(ReduceCases))]
    public void ReductionsMatchLoopsAndFiniteDifferences(string name, int[]? axes, bool keepDims)
    {
        var acc = TestAccelerators.Get(name);
        int[] shape = [2, 3, 4];
        int[] all = axes ?? [0, 1, 2];
        string label = $"axes [{string.Join(", ", all)}] keepDims {keepDims}";
        var expectedShape = Enumerable.Range(0, 3)
            .Where(d => keepDims || !all.Select(a => a < 0 ? a + 3 : a).Contains(d))
            .Select(d => all.Select(a => a < 0 ? a + 3 : a).Contains(d) ? 1 : shape[d]).ToArray();
        foreach (bool mean in new[] { false, true })
        {
            Run(acc, $"{(mean ? "ReduceMean" : "ReduceSum")} {label}",
                t =>
                {
                    var y = mean ? Functional.ReduceMean(t[0], axes, keepDims) : Functional.ReduceSum(t[0], axes, keepDims);
                    Assert.Equal(new Shape(expectedShape), y.Shape);
                    return y;
                },
                x => Reference.Reduce(x[0], shape, all, mean),
                [In(TestData.Uniform(36, 24), shape)]);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ArgmaxFindsTheFirstMaximumAlongAnAxis(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        float[] data = [1f, 7f, 7f, 0f, /**/ 3f, 2f, 9f, 9f, /**/ -1f, -1f, -1f, -2f];
        var x = Tensor.FromArray(acc, data, [3, 4]);
        var rows = Functional.Argmax(x, 1);
        Assert.Equal(DType.Int64, rows.DType);
        Assert.Equal(new Shape(3), rows.Shape);
        Assert.Equal([1L, 2L, 0L], rows.ToArray<long>());
        Assert.Equal([1, 2, 0], Functional.Argmax(x, -1).ToArray<int>());
        Assert.Equal([1L, 0L, 1L, 1L], Functional.Argmax(x, 0).ToArray<long>());
        Assert.False(rows.RequiresGrad);

        // Rank 4 along channels, against a loop on seeded distinct data.
        float[] values = TestData.Distinct(37, 2 * 3 * 2 * 5);
        var expected = new long[12];
        for (int i = 0; i < 12; i++)
            for (int c = 1; c < 5; c++)
                if (values[i * 5 + c] > values[i * 5 + expected[i]]) expected[i] = c;
        Check.Equal<long>(expected, Functional.Argmax(Tensor.FromArray(acc, values, [2, 3, 2, 5]), 3).ToArray<long>(), "Argmax axis 3");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void StopGradientPassesValuesAndNoGradient(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2f, 3f], [3], requiresGrad: true);
        var stopped = Functional.StopGradient(Functional.Scale(a, 2f));
        Assert.Equal([2f, 4f, 6f], stopped.ToArray());
        Assert.False(stopped.RequiresGrad);
        Assert.False(stopped.HasGradFunction);
        // loss = sum(a * stop(2a)): d/da = stop(2a) only, not 4a.
        Functional.ReduceSum(Functional.Multiply(a, stopped)).Backward();
        Assert.Equal([2f, 4f, 6f], a.Grad!.ToArray());
    }
}
