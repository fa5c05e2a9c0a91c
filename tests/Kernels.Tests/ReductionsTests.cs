using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Reductions.Sum/Mean/Max/Argmax and SumBackward/MeanBackward against plain-loop double references.
// Tolerance for sums and means: |a - ref| <= 1e-6 * count + 1e-5 * |ref| (values in [-1, 1); count = reduced elements),
// max and argmax are exact; larger sums derive their tolerance from the size where they are used.
public sealed class ReductionsTests
{
    public enum Kind { Sum, Mean, Max }

    // (shape, axes): every axis of a rank-4 tensor, contiguous and non-contiguous sets, negative axes, size-1 dims,
    // rows long enough for the group kernel and its split, columns long enough for the split over R, the CIFAR
    // global average pool (mean over H, W of [128, 6, 6, 10]) and the bias-gradient-like (0, 1, 2).
    private static readonly (int[] Shape, int[] Axes)[] Cases =
    [
        ([1], [0]),
        ([7], [0]),
        ([1000], [0]),
        ([3, 5], [1]),
        ([3, 5], [0]),
        ([2, 3, 4, 5], [0]),
        ([2, 3, 4, 5], [1]),
        ([2, 3, 4, 5], [2]),
        ([2, 3, 4, 5], [3]),
        ([2, 3, 4, 5], [1, 2]),
        ([2, 3, 4, 5], [0, 1, 2]),
        ([2, 3, 4, 5], [0, 2]),
        ([2, 3, 4, 5], [1, 3]),
        ([2, 3, 4, 5], [3, 0]),
        ([2, 3, 4, 5], [0, 1, 2, 3]),
        ([2, 3, 4, 5], []),
        ([2, 3, 4, 5], [-1, -3]),
        ([5, 1, 7], [1]),
        ([1, 1, 1], [0, 2]),
        ([300, 40], [1]),
        ([4, 3000], [1]),
        ([3000, 5], [0]),
        ([9, 13, 3], [0, 1]),
        ([128, 6, 6, 10], [1, 2]),
        ([128, 5, 5, 3], [0, 1, 2]),
    ];

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SumMeanMaxMatchReferenceOnAwkwardShapes(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int c = 0; c < Cases.Length; c++)
        {
            var (dims, axes) = Cases[c];
            var shape = new Shape(dims);
            float[] data = Host.Random(100 + c, shape.Size);
            bool keepDims = c % 2 == 0;
            foreach (var kind in new[] { Kind.Sum, Kind.Mean, Kind.Max })
            {
                string what = $"{kind} of {shape} over {Shape.Format(axes)} keepDims={keepDims}";
                float[] actual = Run(acc, kind, data, shape, axes, keepDims);
                double[] expected = Reference(kind, data, shape, axes, out long count);
                if (kind == Kind.Max) Check.Equal<float>(ToFloat(expected), actual, what);
                else Check.Close(expected, FiniteDifference.ToDouble(actual), 1e-6 * count, 1e-5, what);
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void FullSumOfAMillionAndOneElements(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int n = 1_048_577;
        var shape = new Shape(n);

        // Integers in [-8, 8]: every partial sum is an integer below 2^24, so any order is exact and a lost or doubled
        // element shows up as a wrong integer.
        var random = new Random(7);
        float[] integers = new float[n];
        for (int i = 0; i < n; i++) integers[i] = random.Next(-8, 9);
        double exact = Reference(Kind.Sum, integers, shape, [0], out _)[0];
        Check.Equal((float)exact, Run(acc, Kind.Sum, integers, shape, [0], keepDims: false)[0], "sum of integers");

        // Random values: a fixed-order float sum of n terms in a tree of depth d errs by at most about d * eps * sum|x|,
        // with d <= log2(n) + (elements per lane) <= 2 * log2(n) here; the mean's tolerance is that divided by n.
        float[] values = Host.Random(8, n);
        double sumAbs = 0;
        foreach (float v in values) sumAbs += Math.Abs(v);
        double tolerance = 2 * Math.Log2(n) * Math.Pow(2, -24) * sumAbs;
        double sum = Reference(Kind.Sum, values, shape, [0], out _)[0];
        Check.Close([sum], [(double)Run(acc, Kind.Sum, values, shape, [0], keepDims: true)[0]], tolerance, 0, "sum of 1,048,577 values");
        Check.Close([sum / n], [(double)Run(acc, Kind.Mean, values, shape, [0], keepDims: false)[0]], tolerance / n + 1e-7 * Math.Abs(sum / n), 0, "mean of 1,048,577 values");
        Check.Equal((float)Reference(Kind.Max, values, shape, [0], out _)[0], Run(acc, Kind.Max, values, shape, [0], keepDims: false)[0], "max");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ResultsAreBitIdenticalAcrossRunsAndAccelerators(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // A split full reduction, a split column reduction and a multi-step non-contiguous one.
        (int[] Shape, int[] Axes)[] cases = [([200_003], [0]), ([20_000, 3], [0]), ([37, 5, 41, 3], [0, 2])];
        foreach (var (dims, axes) in cases)
        {
            var shape = new Shape(dims);
            float[] data = Host.Random(11, shape.Size);
            foreach (var kind in new[] { Kind.Sum, Kind.Mean, Kind.Max })
            {
                string what = $"{kind} of {shape} over {Shape.Format(axes)}";
                float[] first = Run(acc, kind, data, shape, axes, keepDims: false);
                float[] second = Run(acc, kind, data, shape, axes, keepDims: false);
                Check.Equal<float>(first, second, what + ", second run");
                // The order of every sum depends only on the shape, and no backend contracts to FMA.
                Check.Equal<float>(Run(TestAccelerators.Cpu, kind, data, shape, axes, keepDims: false), first, what + ", vs the CPU accelerator");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void EmptyReductionsGiveTheIdentityAndEmptyOutputsLaunchNothing(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var shape = new Shape(2, 0, 3);
        Check.Equal<float>([0, 0, 0, 0, 0, 0], Run(acc, Kind.Sum, [], shape, [1], keepDims: false), "sum over an empty axis");
        Assert.All(Run(acc, Kind.Mean, [], shape, [1], keepDims: true), v => Assert.True(float.IsNaN(v), "mean of nothing is 0/0 = NaN"));
        Assert.All(Run(acc, Kind.Max, [], shape, [1], keepDims: false), v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Empty(Run(acc, Kind.Sum, [], shape, [2], keepDims: false));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MaxPropagatesNaN(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // Rows of 5 and a long row (group kernel): a NaN anywhere makes the row's max NaN.
        float[] small = [1, float.NaN, 3, 2, 0, 4, 5, -1, 2, 1];
        float[] result = Run(acc, Kind.Max, small, new Shape(2, 5), [1], keepDims: false);
        Assert.True(float.IsNaN(result[0]));
        Assert.Equal(5f, result[1]);
        float[] longRow = Host.Random(3, 5000);
        longRow[4321] = float.NaN;
        Assert.True(float.IsNaN(Run(acc, Kind.Max, longRow, new Shape(5000), [0], keepDims: false)[0]));
        Assert.True(float.IsNaN(Run(acc, Kind.Sum, longRow, new Shape(5000), [0], keepDims: false)[0]));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ArgmaxMatchesReferenceAlongEachAxis(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var shape = new Shape(3, 7, 5, 2);
        // Few distinct values, so ties are common and "first wins" is exercised on every axis.
        var random = new Random(21);
        float[] data = new float[shape.Size];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(0, 4);
        for (int axis = -4; axis < 4; axis++)
        {
            long[] actual = RunArgmax(acc, data, shape, axis);
            Check.Equal<long>(ReferenceArgmax(data, shape, axis), actual, $"argmax of {shape} along {axis}");
        }
        // A long axis and a batch-128 case of the training shape.
        float[] longAxis = Host.Random(22, 3 * 1000);
        Check.Equal<long>(ReferenceArgmax(longAxis, new Shape(3, 1000), 1), RunArgmax(acc, longAxis, new Shape(3, 1000), 1), "argmax [3, 1000]");
        float[] logits = Host.Random(23, 128 * 10);
        Check.Equal<long>(ReferenceArgmax(logits, new Shape(128, 10), 1), RunArgmax(acc, logits, new Shape(128, 10), 1), "argmax [128, 10]");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ArgmaxTiesTakeTheFirstAndNaNCountsAsLargest(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        float[] data =
        [
            2, 5, 5, 1,                       // tie: first 5 wins -> 1
            7, 7, 7, 7,                       // all equal -> 0
            1, float.NaN, 9, float.NaN,       // first NaN wins -> 1
            float.NegativeInfinity, float.NegativeInfinity, -3, -3, // -> 2
        ];
        Check.Equal<long>([1, 0, 1, 2], RunArgmax(acc, data, new Shape(4, 4), 1), "argmax rows");
        // Along axis 0 of the same data: columns [2,7,1,-inf], [5,7,NaN,-inf], [5,7,9,-3], [1,7,NaN,-3].
        Check.Equal<long>([1, 2, 2, 2], RunArgmax(acc, data, new Shape(4, 4), 0), "argmax columns");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardBroadcastsMatchReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        (int[] Shape, int[] Axes)[] cases =
        [
            ([7], [0]), ([2, 3, 4, 5], [1, 2]), ([2, 3, 4, 5], [0, 2]), ([2, 3, 4, 5], [1, 3]), ([2, 3, 4, 5], []),
            ([2, 3, 4, 5], [0, 1, 2, 3]), ([5, 1, 7], [0]), ([128, 6, 6, 10], [1, 2]), ([2, 1, 3, 1, 2, 1, 3, 1, 2], [0, 4, 8]),
        ];
        for (int c = 0; c < cases.Length; c++)
        {
            var (dims, axes) = cases[c];
            var shape = new Shape(dims);
            bool keepDims = c % 2 == 1;
            var outShape = Reductions.OutputShape(shape, axes, keepDims);
            float[] dy = Host.Random(40 + c, outShape.Size);
            Reference(Kind.Sum, new float[shape.Size], shape, axes, out long count);
            foreach (bool mean in new[] { false, true })
            {
                float[] actual = RunBackward(acc, mean, dy, outShape, axes, shape);
                float[] expected = new float[shape.Size];
                for (long i = 0; i < expected.Length; i++)
                    expected[i] = dy[OutputIndex(shape, axes, i)] / (mean ? count : 1);
                Check.Equal<float>(expected, actual, $"{(mean ? "MeanBackward" : "SumBackward")} of {shape} over {Shape.Format(axes)}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        (int[] Shape, int[] Axes)[] cases = [([2, 3, 4], [1]), ([2, 3, 4], [0, 2]), ([3, 5], [0, 1])];
        foreach (var (dims, axes) in cases)
        {
            var shape = new Shape(dims);
            var outShape = Reductions.OutputShape(shape, axes, keepDims: false);
            double[] x = FiniteDifference.ToDouble(Host.Random(50, shape.Size));
            float[] dy = Host.Random(51, outShape.Size);
            foreach (var kind in new[] { Kind.Sum, Kind.Mean })
            {
                double[] numeric = FiniteDifference.Gradient(v => Reference(kind, v, shape, axes, out _), x, FiniteDifference.ToDouble(dy));
                float[] analytic = RunBackward(acc, kind == Kind.Mean, dy, outShape, axes, shape);
                Check.Close(numeric, FiniteDifference.ToDouble(analytic), 1e-6, 1e-5, $"{kind}Backward of {shape} over {Shape.Format(axes)} vs finite differences");
            }
        }
    }

    [Fact]
    public void OutputShapeKeepsOrDropsReducedDims()
    {
        var shape = new Shape(128, 6, 6, 10);
        Assert.Equal(new Shape(128, 1, 1, 10), Reductions.OutputShape(shape, [1, 2], keepDims: true));
        Assert.Equal(new Shape(128, 10), Reductions.OutputShape(shape, [2, -3], keepDims: false));
        Assert.Equal(new Shape(), Reductions.OutputShape(shape, [0, 1, 2, 3], keepDims: false));
        Assert.Equal(shape, Reductions.OutputShape(shape, [], keepDims: false));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ShapeErrorsNameTheOpTheShapesAndTheRule(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        var x = Host.Upload(acc, Host.Random(1, 2 * 3 * 4 * 5), new Shape(2, 3, 4, 5));
        using var xBuffer = x.Buffer;
        var y = Host.Allocate<float>(acc, new Shape(2, 5));
        using var yBuffer = y.Buffer;
        var indices = Host.Allocate<long>(acc, new Shape(2, 4, 5));
        using var indicesBuffer = indices.Buffer;

        var bad = Assert.Throws<ArgumentException>(() => Reductions.Sum(stream, x.View, [4], y.View));
        AssertMentions(bad, "Reductions.Sum", "axis 4", "[2, 3, 4, 5]", "[-4, 4)");
        bad = Assert.Throws<ArgumentException>(() => Reductions.Mean(stream, x.View, [1, -3], y.View));
        AssertMentions(bad, "Reductions.Mean", "[1, -3]", "dimension 1", "twice", "[2, 3, 4, 5]");
        bad = Assert.Throws<ArgumentException>(() => Reductions.Max(stream, x.View, [1, 3], y.View));
        AssertMentions(bad, "Reductions.Max", "output", "[2, 1, 4, 1]", "[2, 4]", "keepDims", "[2, 3, 4, 5]", "[1, 3]", "but it is [2, 5]");
        bad = Assert.Throws<ArgumentException>(() => Reductions.Argmax(stream, x.View, 2, indices.View));
        AssertMentions(bad, "Reductions.Argmax", "output", "[2, 3, 5]", "without axis 2", "[2, 4, 5]");
        bad = Assert.Throws<ArgumentException>(() => Reductions.Argmax(stream, x.View, -5, indices.View));
        AssertMentions(bad, "Reductions.Argmax", "axis -5", "[2, 3, 4, 5]");
        bad = Assert.Throws<ArgumentException>(() => Reductions.SumBackward(stream, y.View, [1], x.View));
        AssertMentions(bad, "Reductions.SumBackward", "outputGrad", "[2, 1, 4, 5]", "[2, 4, 5]", "inputGrad [2, 3, 4, 5]", "but it is [2, 5]");
        bad = Assert.Throws<ArgumentException>(() => Reductions.MeanBackward(stream, y.View, [1, 1], x.View));
        AssertMentions(bad, "Reductions.MeanBackward", "twice");
        var empty = Host.Allocate<float>(acc, new Shape(2, 0));
        using var emptyBuffer = empty.Buffer;
        var emptyIndices = Host.Allocate<long>(acc, new Shape(2));
        using var emptyIndicesBuffer = emptyIndices.Buffer;
        bad = Assert.Throws<ArgumentException>(() => Reductions.Argmax(stream, empty.View, 1, emptyIndices.View));
        AssertMentions(bad, "Reductions.Argmax", "axis 1", "[2, 0]", "empty");
    }

    internal static void AssertMentions(ArgumentException error, params string[] parts)
    {
        foreach (string part in parts)
            Assert.True(error.Message.Contains(part, StringComparison.Ordinal), $"'{part}' missing from: {error.Message}");
    }

    // ---- running the ops ----

    private static float[] Run(Accelerator acc, Kind kind, float[] data, Shape shape, int[] axes, bool keepDims)
    {
        var x = Host.Upload(acc, data, shape);
        using var xBuffer = x.Buffer;
        var y = Host.Allocate<float>(acc, Reductions.OutputShape(shape, axes, keepDims));
        using var yBuffer = y.Buffer;
        var stream = acc.DefaultStream;
        switch (kind)
        {
            case Kind.Sum: Reductions.Sum(stream, x.View, axes, y.View); break;
            case Kind.Mean: Reductions.Mean(stream, x.View, axes, y.View); break;
            default: Reductions.Max(stream, x.View, axes, y.View); break;
        }
        return Host.Download(y.View);
    }

    private static long[] RunArgmax(Accelerator acc, float[] data, Shape shape, int axis)
    {
        var x = Host.Upload(acc, data, shape);
        using var xBuffer = x.Buffer;
        var y = Host.Allocate<long>(acc, Reductions.OutputShape(shape, [axis], keepDims: false));
        using var yBuffer = y.Buffer;
        Reductions.Argmax(acc.DefaultStream, x.View, axis, y.View);
        return Host.Download(y.View);
    }

    private static float[] RunBackward(Accelerator acc, bool mean, float[] dy, Shape outShape, int[] axes, Shape inShape)
    {
        var g = Host.Upload(acc, dy, outShape);
        using var gBuffer = g.Buffer;
        var dx = Host.Allocate<float>(acc, inShape);
        using var dxBuffer = dx.Buffer;
        if (mean) Reductions.MeanBackward(acc.DefaultStream, g.View, axes, dx.View);
        else Reductions.SumBackward(acc.DefaultStream, g.View, axes, dx.View);
        return Host.Download(dx.View);
    }

    // ---- slow references ----

    private static double[] Reference(Kind kind, float[] data, Shape shape, int[] axes, out long count) =>
        Reference(kind, FiniteDifference.ToDouble(data), shape, axes, out count);

    // Plain loops: every input element adds into the output element its kept coordinates name (double accumulation).
    private static double[] Reference(Kind kind, double[] data, Shape shape, int[] axes, out long count)
    {
        long outSize = 1;
        count = 1;
        for (int d = 0; d < shape.Rank; d++)
        {
            if (IsReduced(shape, axes, d)) count *= shape[d];
            else outSize *= shape[d];
        }
        var result = new double[outSize];
        Array.Fill(result, kind == Kind.Max ? double.NegativeInfinity : 0);
        for (long i = 0; i < data.Length; i++)
        {
            long o = OutputIndex(shape, axes, i);
            result[o] = kind == Kind.Max ? Math.Max(result[o], data[i]) : result[o] + data[i];
        }
        if (kind == Kind.Mean)
            for (long o = 0; o < outSize; o++) result[o] /= count;
        return result;
    }

    private static long OutputIndex(Shape shape, int[] axes, long linear)
    {
        long outIndex = 0, outStride = 1, rest = linear;
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            long coordinate = rest % shape[d];
            rest /= shape[d];
            if (IsReduced(shape, axes, d)) continue;
            outIndex += coordinate * outStride;
            outStride *= shape[d];
        }
        return outIndex;
    }

    private static bool IsReduced(Shape shape, int[] axes, int d)
    {
        foreach (int a in axes) if ((a < 0 ? a + shape.Rank : a) == d) return true;
        return false;
    }

    private static long[] ReferenceArgmax(float[] data, Shape shape, int axis)
    {
        int a = axis < 0 ? axis + shape.Rank : axis;
        long outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= shape[d];
        for (int d = a + 1; d < shape.Rank; d++) inner *= shape[d];
        int k = shape[a];
        var result = new long[outer * inner];
        for (long o = 0; o < outer; o++)
        for (long i = 0; i < inner; i++)
        {
            long best = 0;
            for (int j = 1; j < k; j++)
            {
                float v = data[(o * k + j) * inner + i], b = data[(o * k + best) * inner + i];
                if (v > b || (float.IsNaN(v) && !float.IsNaN(b))) best = j;
            }
            result[o * inner + i] = best;
        }
        return result;
    }

    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);
}
