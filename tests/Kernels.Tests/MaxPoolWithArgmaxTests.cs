using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// MaxPoolWithArgmax against docs/reference/op-semantics.md 7(b)/7(c) literally, a plain-loop reference (PoolReference) and finite
// differences. Values and indices must match the reference exactly (max pooling does no arithmetic); the backward sums
// at most KH*KW float terms, checked with |a-b| <= 1e-6 + 1e-5*|ref| against double sums.
public sealed class MaxPoolWithArgmaxTests
{
    private static readonly PoolOptions Pool2x2Same = new(2, 2, Padding.Same);

    internal static (float[] Values, long[] Argmax) Forward(Accelerator accelerator, float[] x, Shape shape, PoolOptions options, bool includeBatch = false)
    {
        var outShape = MaxPoolWithArgmax.OutputShape(shape, options);
        var input = Host.Upload(accelerator, x, shape);
        using var inputBuffer = input.Buffer;
        var output = Host.Allocate<float>(accelerator, outShape);
        using var outputBuffer = output.Buffer;
        var argmax = Host.Allocate<long>(accelerator, outShape);
        using var argmaxBuffer = argmax.Buffer;
        MaxPoolWithArgmax.Forward(accelerator.DefaultStream, input.View, output.View, argmax.View, options, includeBatch);
        return (Host.Download(output.View), Host.Download(argmax.View));
    }

    private static float[] Backward(Accelerator accelerator, float[] dy, long[] argmaxValues, Shape inputShape, PoolOptions options, bool includeBatch)
    {
        var outShape = MaxPoolWithArgmax.OutputShape(inputShape, options);
        var outputGrad = Host.Upload(accelerator, dy, outShape);
        using var outputGradBuffer = outputGrad.Buffer;
        var argmax = Host.Upload(accelerator, argmaxValues, outShape);
        using var argmaxBuffer = argmax.Buffer;
        var inputGrad = Host.Allocate<float>(accelerator, inputShape);
        using var inputGradBuffer = inputGrad.Buffer;
        MaxPoolWithArgmax.Backward(accelerator.DefaultStream, outputGrad.View, argmax.View, inputGrad.View, options, includeBatch);
        return Host.Download(inputGrad.View);
    }

    /// <summary>7(b): 1x4x4x2, row r holds the pixel [r, r+4], batch image repeated <paramref name="batch"/> times.</summary>
    internal static float[] RowsInput(int batch)
    {
        var x = new float[batch * 4 * 4 * 2];
        for (int b = 0; b < batch; b++)
        for (int r = 0; r < 4; r++)
        for (int col = 0; col < 4; col++)
        {
            x[((b * 4 + r) * 4 + col) * 2] = r;
            x[((b * 4 + r) * 4 + col) * 2 + 1] = r + 4;
        }
        return x;
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExample7b(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var (values, argmax) = Forward(acc, RowsInput(1), new Shape(1, 4, 4, 2), Pool2x2Same);
        Assert.Equal([1f, 5f, 1f, 5f, 3f, 7f, 3f, 7f], values);
        Assert.Equal([8L, 9, 12, 13, 24, 25, 28, 29], argmax);
        // PyTorch indexes each channel plane: h*W + w = (m - c) / C.
        for (int c = 0; c < 2; c++)
        {
            var plane = new long[4];
            for (int o = 0; o < 4; o++) plane[o] = (argmax[o * 2 + c] - c) / 2;
            Assert.Equal([4L, 6, 12, 14], plane);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExample7bWithBatchInIndex(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var shape = new Shape(2, 4, 4, 2);
        var (_, inclusive) = Forward(acc, RowsInput(2), shape, Pool2x2Same, includeBatch: true);
        Assert.Equal([8L, 9, 12, 13, 24, 25, 28, 29, 40, 41, 44, 45, 56, 57, 60, 61], inclusive);
        var (_, perImage) = Forward(acc, RowsInput(2), shape, Pool2x2Same, includeBatch: false);
        Assert.Equal([8L, 9, 12, 13, 24, 25, 28, 29, 8, 9, 12, 13, 24, 25, 28, 29], perImage);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void PyTorchDocsExample(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var (values, argmax) = Forward(acc, Host.Iota(16), new Shape(1, 4, 4, 1), new PoolOptions(2, 2, Padding.Valid));
        Assert.Equal([6f, 8f, 14f, 16f], values);
        Assert.Equal([5L, 7, 13, 15], argmax);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExample7cSamePaddingAndEqualValues(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var (values, argmax) = Forward(acc, Host.Iota(9), new Shape(1, 3, 3, 1), Pool2x2Same);
        Assert.Equal([5f, 6f, 8f, 9f], values);
        Assert.Equal([4L, 5, 7, 8], argmax);

        var (equalValue, equalIndex) = Forward(acc, [7f, 7f, 7f, 7f], new Shape(1, 2, 2, 1), Pool2x2Same);
        Assert.Equal([7f], equalValue);
        Assert.Equal([0L], equalIndex);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TiesGoToTheFirstMaximumInRowMajorOrder(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // 2x2 stride-1 windows over [[1,2,2],[2,0,2],[2,2,1]]: each window holds several 2s.
        var shape = new Shape(1, 3, 3, 1);
        var options = new PoolOptions(2, 1, Padding.Valid);
        var (values, argmax) = Forward(acc, [1, 2, 2, 2, 0, 2, 2, 2, 1], shape, options);
        Assert.Equal([2f, 2f, 2f, 2f], values);
        Assert.Equal([1L, 1, 3, 5], argmax);
        // Overlap: cell 1 is the switch of two windows, so it receives both gradients.
        var dx = Backward(acc, [1, 10, 100, 1000], argmax, shape, options, includeBatch: false);
        Assert.Equal([0f, 11f, 0f, 100f, 0f, 1000f, 0f, 0f, 0f], dx);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardIgnoresSwitchesOutsideTheirWindow(string accelerator)
    {
        // 2x2 stride-2 windows (the scatter path) over a 2x4 image: window 0 holds cells 0, 1, 4, 5 and window 1 cells
        // 2, 3, 6, 7. Window 0's switch (5) is its own; window 1's (0) lies in window 0, so its gradient goes nowhere.
        var acc = TestAccelerators.Get(accelerator);
        var shape = new Shape(1, 2, 4, 1);
        var dx = Backward(acc, [2, 3], [5L, 0L], shape, new PoolOptions(2, 2, Padding.Valid), includeBatch: false);
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 2f, 0f, 0f], dx);
        // With the batch in the index, image 1's switches are offset by its 8 cells.
        var batch = Backward(acc, [2, 3, 4, 5], [5L, 0L, 8 + 1L, 8 + 7L], new Shape(2, 2, 4, 1), new PoolOptions(2, 2, Padding.Valid), includeBatch: true);
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 2f, 0f, 0f, 0f, 4f, 0f, 0f, 0f, 0f, 0f, 5f], batch);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void NaNPropagatesAndTheFirstNaNWins(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        float nan = float.NaN, ninf = float.NegativeInfinity;
        // Window 0 holds 1, NaN (index 1), NaN (index 4), 5; window 1 is all -inf.
        var shape = new Shape(1, 2, 4, 1);
        var options = new PoolOptions(2, 2, Padding.Valid);
        var (values, argmax) = Forward(acc, [1, nan, ninf, ninf, nan, 5, ninf, ninf], shape, options);
        Assert.True(float.IsNaN(values[0]));
        Assert.Equal(float.NegativeInfinity, values[1]);
        Assert.Equal([1L, 2], argmax);
        var dx = Backward(acc, [2, 3], argmax, shape, options, includeBatch: false);
        Assert.Equal([0f, 2f, 3f, 0f, 0f, 0f, 0f, 0f], dx);

        // A NaN after a larger number still wins; random data with NaNs matches the reference.
        var g = new PoolReference.Geometry(2, 6, 7, 3, 3, 3, 2, 1, Padding.Same);
        var x = Host.Random(17, g.InputSize);
        for (long i = 0; i < x.Length; i += 7) x[i] = float.NaN;
        var expected = PoolReference.MaxWithArgmax(x, g, includeBatch: true);
        var actual = Forward(acc, x, g.InputShape, g.Options, includeBatch: true);
        Check.Equal<float>(expected.Values, actual.Values, $"max values with NaNs, {g}");
        Check.Equal<long>(expected.Argmax, actual.Argmax, $"argmax with NaNs, {g}");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int k = 0; k < PoolReference.Cases.Length; k++)
        {
            var g = PoolReference.Cases[k];
            // Multiples of 1/4 in [-1, 1): plenty of ties inside windows.
            var x = Array.ConvertAll(Host.Random(100 + k, g.InputSize), v => MathF.Round(v * 4) / 4);
            foreach (bool includeBatch in new[] { false, true })
            {
                var expected = PoolReference.MaxWithArgmax(x, g, includeBatch);
                var actual = Forward(acc, x, g.InputShape, g.Options, includeBatch);
                Check.Equal<float>(expected.Values, actual.Values, $"values, {g}, includeBatch {includeBatch}");
                Check.Equal<long>(expected.Argmax, actual.Argmax, $"argmax, {g}, includeBatch {includeBatch}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int k = 0; k < PoolReference.Cases.Length; k++)
        {
            var g = PoolReference.Cases[k];
            var x = Array.ConvertAll(Host.Random(200 + k, g.InputSize), v => MathF.Round(v * 4) / 4);
            var dy = Host.Random(300 + k, g.OutputSize);
            foreach (bool includeBatch in new[] { false, true })
            {
                var (_, argmax) = Forward(acc, x, g.InputShape, g.Options, includeBatch);
                var expected = PoolReference.MaxBackward(argmax, dy, g, includeBatch);
                var actual = Backward(acc, dy, argmax, g.InputShape, g.Options, includeBatch);
                Check.Close(expected, FiniteDifference.ToDouble(actual), 1e-6, 1e-5, $"dx, {g}, includeBatch {includeBatch}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        PoolReference.Geometry[] cases =
        [
            new(1, 4, 5, 2, 3, 3, 1, 1, Padding.Same),
            new(1, 5, 5, 1, 2, 2, 2, 2, Padding.Same),
            new(2, 5, 4, 2, 2, 2, 3, 3, Padding.Valid),
            new(1, 6, 5, 1, 3, 3, 2, 2, Padding.Valid),
        ];
        foreach (var g in cases)
        {
            var x = PoolReference.Distinct(7, g.InputSize);
            var dy = Host.Random(8, g.OutputSize);
            var expected = FiniteDifference.Gradient(v => PoolReference.Max(v, g), FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(dy));
            var (_, argmax) = Forward(acc, x, g.InputShape, g.Options, includeBatch: true);
            var actual = Backward(acc, dy, argmax, g.InputShape, g.Options, includeBatch: true);
            Check.Close(expected, FiniteDifference.ToDouble(actual), 1e-5, 1e-4, $"dx vs finite differences, {g}");
        }
    }

    [Fact]
    public void BackwardIsBitIdenticalOnCpuAndOpenCl()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        var g = new PoolReference.Geometry(3, 9, 8, 5, 3, 3, 1, 1, Padding.Same);
        var x = Array.ConvertAll(Host.Random(41, g.InputSize), v => MathF.Round(v * 2) / 2);
        var dy = Host.Random(42, g.OutputSize);
        var (cpuValues, cpuArgmax) = Forward(cpu, x, g.InputShape, g.Options);
        var (clValues, clArgmax) = Forward(opencl, x, g.InputShape, g.Options);
        Check.Equal<float>(cpuValues, clValues, "values CPU vs OpenCL");
        Check.Equal<long>(cpuArgmax, clArgmax, "argmax CPU vs OpenCL");
        Check.Equal<float>(Backward(cpu, dy, cpuArgmax, g.InputShape, g.Options, false),
                           Backward(opencl, dy, clArgmax, g.InputShape, g.Options, false), "dx CPU vs OpenCL");
    }

    [Fact]
    public void ShapeErrorsNameTheOpShapesAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var x = Host.Upload(acc, Host.Random(1, 75), new Shape(1, 5, 5, 3));
        using var xBuffer = x.Buffer;
        var good = Host.Allocate<float>(acc, new Shape(1, 3, 3, 3));
        using var goodBuffer = good.Buffer;
        var goodArgmax = Host.Allocate<long>(acc, new Shape(1, 3, 3, 3));
        using var goodArgmaxBuffer = goodArgmax.Buffer;

        var rank3 = x.View with { Shape = new Shape(5, 5, 3) };
        var error = Assert.Throws<ArgumentException>(() => MaxPoolWithArgmax.Forward(stream, rank3, good.View, goodArgmax.View, Pool2x2Same));
        Assert.Contains("MaxPoolWithArgmax", error.Message);
        Assert.Contains("[5, 5, 3]", error.Message);
        Assert.Contains("rank 4", error.Message);

        var small = Host.Allocate<float>(acc, new Shape(1, 2, 2, 3));
        using var smallBuffer = small.Buffer;
        error = Assert.Throws<ArgumentException>(() => MaxPoolWithArgmax.Forward(stream, x.View, small.View, goodArgmax.View, Pool2x2Same));
        Assert.Contains("MaxPoolWithArgmax: output must have shape [1, 3, 3, 3]", error.Message);
        Assert.Contains("input [1, 5, 5, 3] pooled with window 2x2, stride 2x2, SAME", error.Message);
        Assert.Contains("but it is [1, 2, 2, 3]", error.Message);
        Assert.Equal("output", error.ParamName);

        var wrongArgmax = Host.Allocate<long>(acc, new Shape(1, 3, 3, 2));
        using var wrongArgmaxBuffer = wrongArgmax.Buffer;
        error = Assert.Throws<ArgumentException>(() => MaxPoolWithArgmax.Forward(stream, x.View, good.View, wrongArgmax.View, Pool2x2Same));
        Assert.Contains("MaxPoolWithArgmax: argmax must have shape [1, 3, 3, 3]", error.Message);
        Assert.Contains("[1, 3, 3, 2]", error.Message);
        Assert.Contains("pooled with window 2x2", error.Message);

        error = Assert.Throws<ArgumentException>(() => MaxPoolWithArgmax.Backward(stream, good.View, wrongArgmax.View, x.View, Pool2x2Same));
        Assert.Contains("MaxPoolWithArgmax.Backward: argmax must have shape [1, 3, 3, 3]", error.Message);
        Assert.Contains("input [1, 5, 5, 3]", error.Message);
        Assert.Contains("[1, 3, 3, 2]", error.Message);

        error = Assert.Throws<ArgumentException>(() => MaxPoolWithArgmax.Forward(stream, x.View, good.View, goodArgmax.View, new PoolOptions(7, 1, Padding.Valid)));
        Assert.Contains("MaxPoolWithArgmax", error.Message);
        Assert.Contains("height of 5", error.Message);
        Assert.Contains("window of 7", error.Message);

        var shortView = x.View with { Data = x.View.Data.SubView(0, 74) };
        error = Assert.Throws<ArgumentException>(() => MaxPoolWithArgmax.Forward(stream, shortView, good.View, goodArgmax.View, Pool2x2Same));
        Assert.Contains("MaxPoolWithArgmax: input has shape [1, 5, 5, 3] (75 elements) but its view holds 74", error.Message);
    }
}
