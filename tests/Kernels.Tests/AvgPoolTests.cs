using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// AvgPool against docs/reference/op-semantics.md 7(c) literally (padded cells not counted), the plain-loop double reference and
// finite differences. Float sums of at most KH*KW terms (36 for the 6x6 pool) and one division:
// |a-b| <= 1e-6 + 1e-5*|ref|. The same float operations in the same order on every accelerator: bit-identical.
public sealed class AvgPoolTests
{
    private static float[] Forward(Accelerator accelerator, float[] x, Shape shape, PoolOptions options)
    {
        var input = Host.Upload(accelerator, x, shape);
        using var inputBuffer = input.Buffer;
        var output = Host.Allocate<float>(accelerator, AvgPool.OutputShape(shape, options));
        using var outputBuffer = output.Buffer;
        AvgPool.Forward(accelerator.DefaultStream, input.View, output.View, options);
        return Host.Download(output.View);
    }

    private static float[] Backward(Accelerator accelerator, float[] dy, Shape shape, PoolOptions options)
    {
        var outputGrad = Host.Upload(accelerator, dy, AvgPool.OutputShape(shape, options));
        using var outputGradBuffer = outputGrad.Buffer;
        var inputGrad = Host.Allocate<float>(accelerator, shape);
        using var inputGradBuffer = inputGrad.Buffer;
        AvgPool.Backward(accelerator.DefaultStream, outputGrad.View, inputGrad.View, options);
        return Host.Download(inputGrad.View);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExample7cCountsOnlyRealCells(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var options = new PoolOptions(2, 2, Padding.Same);
        Assert.Equal([3f, 4.5f, 7.5f, 9f], Forward(acc, Host.Iota(9), new Shape(1, 3, 3, 1), options));
        // Backward: window counts 4, 2, 2, 1.
        Assert.Equal([1f, 1f, 2f, 1f, 1f, 2f, 4f, 4f, 8f], Backward(acc, [4, 4, 8, 8], new Shape(1, 3, 3, 1), options));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void GlobalAveragePoolIsThePlainMean(string accelerator)
    {
        // docs/reference/op-semantics.md section 1: the CIFAR net's 6x6 s6 SAME pool over 6x6 has no padding: the mean of 36.
        var acc = TestAccelerators.Get(accelerator);
        var x = Host.Iota(36 * 2);
        var y = Forward(acc, x, new Shape(1, 6, 6, 2), new PoolOptions(6, 6, Padding.Same));
        Assert.Equal([36f, 37f], y);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int k = 0; k < PoolReference.Cases.Length; k++)
        {
            var g = PoolReference.Cases[k];
            var x = Host.Random(700 + k, g.InputSize);
            var expected = PoolReference.Avg(FiniteDifference.ToDouble(x), g);
            Check.Close(expected, FiniteDifference.ToDouble(Forward(acc, x, g.InputShape, g.Options)), 1e-6, 1e-5, $"avg pool, {g}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int k = 0; k < PoolReference.Cases.Length; k++)
        {
            var g = PoolReference.Cases[k];
            var dy = Host.Random(800 + k, g.OutputSize);
            var expected = PoolReference.AvgBackward(dy, g);
            Check.Close(expected, FiniteDifference.ToDouble(Backward(acc, dy, g.InputShape, g.Options)), 1e-6, 1e-5, $"avg pool dx, {g}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        PoolReference.Geometry[] cases =
        [
            new(1, 5, 4, 2, 3, 3, 1, 1, Padding.Same),
            new(2, 3, 5, 1, 2, 2, 2, 2, Padding.Same),
            new(1, 7, 5, 2, 2, 3, 3, 2, Padding.Valid),
            new(1, 5, 5, 1, 3, 3, 2, 2, Padding.Same),
        ];
        foreach (var g in cases)
        {
            var x = Host.Random(5, g.InputSize);
            var dy = Host.Random(6, g.OutputSize);
            var expected = FiniteDifference.Gradient(v => PoolReference.Avg(v, g), FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(dy));
            Check.Close(expected, FiniteDifference.ToDouble(Backward(acc, dy, g.InputShape, g.Options)), 1e-5, 1e-4, $"avg pool dx vs finite differences, {g}");
        }
    }

    [Fact]
    public void BitIdenticalOnCpuAndOpenCl()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        var g = new PoolReference.Geometry(3, 9, 8, 5, 3, 3, 2, 1, Padding.Same);
        var x = Host.Random(81, g.InputSize);
        var dy = Host.Random(82, g.OutputSize);
        Check.Equal<float>(Forward(cpu, x, g.InputShape, g.Options), Forward(opencl, x, g.InputShape, g.Options), "y CPU vs OpenCL");
        Check.Equal<float>(Backward(cpu, dy, g.InputShape, g.Options), Backward(opencl, dy, g.InputShape, g.Options), "dx CPU vs OpenCL");
    }

    [Fact]
    public void ShapeErrorsNameTheOpShapesAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var options = new PoolOptions(2, 2, Padding.Same);
        var x = Host.Upload(acc, Host.Random(1, 75), new Shape(1, 5, 5, 3));
        using var xBuffer = x.Buffer;
        var y = Host.Allocate<float>(acc, new Shape(1, 3, 3, 3));
        using var yBuffer = y.Buffer;

        var error = Assert.Throws<ArgumentException>(() => AvgPool.Forward(stream, x.View with { Shape = new Shape(1, 25, 3) }, y.View, options));
        Assert.Contains("AvgPool: input must be rank 4", error.Message);
        Assert.Contains("[1, 25, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => AvgPool.Forward(stream, x.View, y.View with { Shape = new Shape(1, 3, 9, 1) }, options));
        Assert.Contains("AvgPool: output must have shape [1, 3, 3, 3] (input [1, 5, 5, 3] pooled with window 2x2, stride 2x2, SAME), but it is [1, 3, 9, 1]", error.Message);

        error = Assert.Throws<ArgumentException>(() => AvgPool.Backward(stream, x.View, x.View, options));
        Assert.Contains("AvgPool.Backward: outputGrad must have shape [1, 3, 3, 3] (input [1, 5, 5, 3] pooled with window 2x2, stride 2x2, SAME), but it is [1, 5, 5, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => AvgPool.Backward(stream, y.View, y.View with { Shape = new Shape(27) }, options));
        Assert.Contains("AvgPool.Backward: inputGrad must be rank 4", error.Message);
        Assert.Contains("[27]", error.Message);
    }
}
