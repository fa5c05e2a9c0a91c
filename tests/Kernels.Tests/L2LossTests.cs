using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// L2Loss.cs: sum(x^2)/2 against a double loop on sizes around the reduction's boundaries, determinism (bit-identical
// across runs and accelerators), the gradient against finite differences.
public sealed class L2LossTests
{
    public static TheoryData<string, int> Sizes
    {
        get
        {
            var data = new TheoryData<string, int>();
            // 1, odd, one group's share (256*8) and one more, many groups, and beyond 1024 groups (grid-stride passes).
            foreach (string name in AcceleratorCatalog.Names)
                foreach (int n in new[] { 1, 7, 2048, 2049, 100003, 2500001 })
                    data.Add(name, n);
            return data;
        }
    }

    [Theory, MemberData(nameof(Sizes))]
    public void ForwardIsHalfTheSumOfSquares(string accelerator, int n)
    {
        var acc = TestAccelerators.Get(accelerator);
        if (n > 100_000) TestAccelerators.SkipScaleTestOnDebugDevice(accelerator);
        float[] x = Host.Random(31, n);
        float first = Run(acc, x), second = Run(acc, x);
        double expected = 0;
        foreach (float v in x) expected += (double)v * v;
        expected /= 2;
        // A float tree sum of non-negative terms: |a - ref| <= 1e-6 + 1e-5 |ref|.
        Check.Close([expected], [(double)first], 1e-6, 1e-5, $"l2_loss of {n} values");
        Check.Equal(BitConverter.SingleToInt32Bits(first), BitConverter.SingleToInt32Bits(second), "two runs (bit-identical)");
        if (accelerator != "cpu")
            Check.Equal(BitConverter.SingleToInt32Bits(Run(TestAccelerators.Cpu, x)), BitConverter.SingleToInt32Bits(first), "CPU vs " + accelerator + " (bit-identical)");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ScalarOutputsAndEmptyInput(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc, ownStream: true);
        var scalar = scope.Allocate<float>();
        L2Loss.Forward(scope.Stream, scope.Upload([3f, 4f], 1, 2), scalar);
        Assert.Equal([12.5f], scope.Download(scalar));
        var one = scope.Allocate<float>(1);
        L2Loss.Forward(scope.Stream, scope.Allocate<float>(0, 3), one);
        Assert.Equal([0f], scope.Download(one));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        const int n = 19;
        float[] x = Host.Random(32, n, -2f, 2f);
        double[] numeric = FiniteDifference.Gradient(v =>
        {
            double sum = 0;
            foreach (double e in v) sum += e * e;
            return [sum / 2];
        }, FiniteDifference.ToDouble(x), [1.75]);
        var dx = scope.Allocate<float>(n);
        L2Loss.Backward(acc.DefaultStream, scope.Upload([1.75f], 1), scope.Upload(x, n), dx);
        Check.Close(numeric, FiniteDifference.ToDouble(Host.Download(dx)), 1e-6, 1e-5, "dx vs central differences");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardIsUpstreamTimesX(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        const int n = 7 * 10001;
        float[] x = Host.Random(33, n);
        var dx = scope.Allocate<float>(7, 10001);
        L2Loss.Backward(acc.DefaultStream, scope.Upload([-0.3f]), scope.Upload(x, 7, 10001), dx);
        Check.Equal<float>(Array.ConvertAll(x, v => -0.3f * v), Host.Download(dx), "dy * x (exact)");
    }

    [Fact]
    public void ErrorsNameTheOpTheShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope(acc);
        var x = scope.Allocate<float>(3, 4);
        var error = Assert.Throws<ArgumentException>(() => L2Loss.Forward(acc.DefaultStream, x, scope.Allocate<float>(2)));
        Assert.Contains("L2Loss.Forward: output must be a scalar, shape [] or [1]", error.Message);
        Assert.Contains("x [3, 4]", error.Message);
        Assert.Contains("but it is [2]", error.Message);
        error = Assert.Throws<ArgumentException>(() => L2Loss.Backward(acc.DefaultStream, scope.Allocate<float>(1, 1), x, x));
        Assert.Contains("L2Loss.Backward: outputGrad must be a scalar", error.Message);
        Assert.Contains("but it is [1, 1]", error.Message);
        error = Assert.Throws<ArgumentException>(() => L2Loss.Backward(acc.DefaultStream, scope.Allocate<float>(1), x, scope.Allocate<float>(4, 3)));
        Assert.Contains("L2Loss.Backward: inputGrad must have shape [3, 4] (the same shape as x), but it is [4, 3]", error.Message);
    }

    // On a stream of its own: the reduction uses the stream's scratch memory.
    private static float Run(Accelerator acc, float[] x)
    {
        using var scope = new TensorScope(acc, ownStream: true);
        var output = scope.Allocate<float>(1);
        L2Loss.Forward(scope.Stream, scope.Upload(x, x.Length), output);
        return scope.Download(output)[0];
    }
}
