using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// MaxPool against docs/reference/op-semantics.md 7(c) literally, the plain-loop reference (exact: max does no arithmetic) and
// finite differences. The backward sums at most KH*KW float terms: |a-b| <= 1e-6 + 1e-5*|ref| against double sums.
public sealed class MaxPoolTests
{
    private static float[] Forward(Accelerator accelerator, float[] x, Shape shape, PoolOptions options)
    {
        var input = Host.Upload(accelerator, x, shape);
        using var inputBuffer = input.Buffer;
        var output = Host.Allocate<float>(accelerator, MaxPool.OutputShape(shape, options));
        using var outputBuffer = output.Buffer;
        MaxPool.Forward(accelerator.DefaultStream, input.View, output.View, options);
        return Host.Download(output.View);
    }

    private static float[] Backward(Accelerator accelerator, float[] x, float[] dy, Shape shape, PoolOptions options)
    {
        var input = Host.Upload(accelerator, x, shape);
        using var inputBuffer = input.Buffer;
        var outputGrad = Host.Upload(accelerator, dy, MaxPool.OutputShape(shape, options));
        using var outputGradBuffer = outputGrad.Buffer;
        var inputGrad = Host.Allocate<float>(accelerator, shape);
        using var inputGradBuffer = inputGrad.Buffer;
        MaxPool.Backward(accelerator.DefaultStream, input.View, outputGrad.View, inputGrad.View, options);
        return Host.Download(inputGrad.View);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExample7c(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var options = new PoolOptions(2, 2, Padding.Same);
        Assert.Equal([5f, 6f, 8f, 9f], Forward(acc, Host.Iota(9), new Shape(1, 3, 3, 1), options));
        // The gradient of each window lands on its maximum, the argmax cells 4, 5, 7, 8.
        Assert.Equal([0f, 0f, 0f, 0f, 1f, 2f, 0f, 3f, 4f], Backward(acc, Host.Iota(9), [1, 2, 3, 4], new Shape(1, 3, 3, 1), options));
        // A window of equal values: the gradient goes to the first cell only.
        Assert.Equal([5f, 0f, 0f, 0f], Backward(acc, [7, 7, 7, 7], [5], new Shape(1, 2, 2, 1), options));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void NaNPropagatesAndReceivesTheGradient(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        float nan = float.NaN;
        var shape = new Shape(1, 2, 4, 1);
        var options = new PoolOptions(2, 2, Padding.Valid);
        float[] x = [3, nan, 1, 1, nan, 5, 1, 1];
        var y = Forward(acc, x, shape, options);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(1f, y[1]);
        Assert.Equal([0f, 2f, 3f, 0f, 0f, 0f, 0f, 0f], Backward(acc, x, [2, 3], shape, options));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int k = 0; k < PoolReference.Cases.Length; k++)
        {
            var g = PoolReference.Cases[k];
            var x = Host.Random(400 + k, g.InputSize);
            var expected = PoolReference.MaxWithArgmax(x, g, includeBatch: false).Values;
            Check.Equal<float>(expected, Forward(acc, x, g.InputShape, g.Options), $"max pool, {g}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int k = 0; k < PoolReference.Cases.Length; k++)
        {
            var g = PoolReference.Cases[k];
            // Multiples of 1/4: many ties, whose gradient must go to the first maximum only.
            var x = Array.ConvertAll(Host.Random(500 + k, g.InputSize), v => MathF.Round(v * 4) / 4);
            var dy = Host.Random(600 + k, g.OutputSize);
            var expected = PoolReference.MaxBackward(PoolReference.MaxWithArgmax(x, g, includeBatch: false).Argmax, dy, g, includeBatch: false);
            Check.Close(expected, FiniteDifference.ToDouble(Backward(acc, x, dy, g.InputShape, g.Options)), 1e-6, 1e-5, $"max pool dx, {g}");
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
        ];
        foreach (var g in cases)
        {
            var x = PoolReference.Distinct(3, g.InputSize);
            var dy = Host.Random(4, g.OutputSize);
            var expected = FiniteDifference.Gradient(v => PoolReference.Max(v, g), FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(dy));
            Check.Close(expected, FiniteDifference.ToDouble(Backward(acc, x, dy, g.InputShape, g.Options)), 1e-5, 1e-4, $"max pool dx vs finite differences, {g}");
        }
    }

    [Fact]
    public void BitIdenticalOnCpuAndOpenCl()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        var g = new PoolReference.Geometry(3, 9, 8, 5, 3, 3, 2, 1, Padding.Same);
        var x = Array.ConvertAll(Host.Random(71, g.InputSize), v => MathF.Round(v * 2) / 2);
        var dy = Host.Random(72, g.OutputSize);
        Check.Equal<float>(Forward(cpu, x, g.InputShape, g.Options), Forward(opencl, x, g.InputShape, g.Options), "y CPU vs OpenCL");
        Check.Equal<float>(Backward(cpu, x, dy, g.InputShape, g.Options), Backward(opencl, x, dy, g.InputShape, g.Options), "dx CPU vs OpenCL");

        // 21 channels: a whole 16-lane vector and a tail on the CPU's host route (HostPool.MaxPool), ResNet's 3x3 stride-2
        // window, with ties, signed zeros, infinities and NaNs for the first-maximum and first-NaN rules.
        var wide = new PoolReference.Geometry(2, 11, 10, 21, 3, 3, 2, 2, Padding.Same);
        float[] specials = [0f, -0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, -float.NaN];
        var random = new Random(73);
        var z = Array.ConvertAll(Host.Random(74, wide.InputSize), v => random.Next(8) == 0 ? specials[random.Next(specials.Length)] : MathF.Round(v * 2) / 2);
        Check.Equal<float>(Forward(cpu, z, wide.InputShape, wide.Options), Forward(opencl, z, wide.InputShape, wide.Options), "21-channel y CPU vs OpenCL");
    }

    [Fact]
    public void ShapeErrorsNameTheOpShapesAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var options = new PoolOptions((3, 2), (2, 1), Padding.Valid);
        var x = Host.Upload(acc, Host.Random(1, 2 * 7 * 5 * 3), new Shape(2, 7, 5, 3));
        using var xBuffer = x.Buffer;
        Assert.Equal(new Shape(2, 3, 4, 3), MaxPool.OutputShape(x.View.Shape, options));
        var y = Host.Allocate<float>(acc, new Shape(2, 3, 4, 3));
        using var yBuffer = y.Buffer;

        var error = Assert.Throws<ArgumentException>(() => MaxPool.Forward(stream, x.View with { Shape = new Shape(14, 5, 3) }, y.View, options));
        Assert.Contains("MaxPool: input must be rank 4", error.Message);
        Assert.Contains("[14, 5, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => MaxPool.Forward(stream, x.View, y.View with { Shape = new Shape(2, 4, 3, 3) }, options));
        Assert.Contains("MaxPool: output must have shape [2, 3, 4, 3] (input [2, 7, 5, 3] pooled with window 3x2, stride 2x1, VALID), but it is [2, 4, 3, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => MaxPool.Backward(stream, x.View, y.View, y.View, options));
        Assert.Contains("MaxPool.Backward: inputGrad must have shape [2, 7, 5, 3]", error.Message);
        Assert.Contains("but it is [2, 3, 4, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => MaxPool.Backward(stream, x.View, x.View, x.View, options));
        Assert.Contains("MaxPool.Backward: outputGrad must have shape [2, 3, 4, 3]", error.Message);
        Assert.Contains("but it is [2, 7, 5, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => MaxPool.Forward(stream, x.View, y.View, new PoolOptions(2, 0, Padding.Same)));
        Assert.Contains("MaxPool: the stride along height is 0", error.Message);
    }
}
