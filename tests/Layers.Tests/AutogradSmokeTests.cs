using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

// The engine end to end on a small conv graph: gradients against central differences computed with the same ops.
// In the allocator-counter collection: its steady-step test reads DeviceAllocations, which parallel tests would change.
public sealed class AutogradSmokeTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ConvReluSumGradientMatchesFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var random = new Random(7);
        float[] xs = Enumerable.Range(0, 2 * 5 * 5 * 2).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        float[] ws = Enumerable.Range(0, 3 * 3 * 2 * 3).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var x = Tensor.FromArray(acc, xs, [2, 5, 5, 2]);
        var w = Tensor.FromArray(acc, ws, [3, 3, 2, 3], requiresGrad: true);

        double Loss(float[] weights)
        {
            using var inner = new TensorScope();
            using var noGrad = Autograd.NoGrad();
            var wt = Tensor.FromArray(acc, weights, [3, 3, 2, 3]);
            return Functional.ReduceSum(Functional.Relu(Functional.Conv2d(x, wt))).ToArray()[0];
        }

        var loss = Functional.ReduceSum(Functional.Relu(Functional.Conv2d(x, w, stride: 1, padding: Padding.Same)));
        loss.Backward();
        float[] grad = w.Grad!.ToArray();
        Assert.Equal(ws.Length, grad.Length);
        const float step = 1e-2f;
        for (int i = 0; i < ws.Length; i += 5)
        {
            float[] plus = (float[])ws.Clone(), minus = (float[])ws.Clone();
            plus[i] += step;
            minus[i] -= step;
            double numeric = (Loss(plus) - Loss(minus)) / (2 * step);
            Assert.True(Math.Abs(numeric - grad[i]) <= 2e-2 + 2e-2 * Math.Abs(numeric), $"w[{i}]: autograd {grad[i]}, finite difference {numeric}");
        }
    }

    [Fact]
    public void GradientsAccumulateWhenATensorIsUsedTwice()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2f, 3f], [3], requiresGrad: true);
        var y = Functional.ReduceSum(Functional.Multiply(a, a));   // d/da sum(a^2) = 2a
        y.Backward();
        Assert.Equal([2f, 4f, 6f], a.Grad!.ToArray());
        Functional.ReduceSum(a).Backward();                        // accumulates +1
        Assert.Equal([3f, 5f, 7f], a.Grad!.ToArray());
    }

    [Fact]
    public void BackwardFromANonScalarNeedsASeed()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2f], [2], requiresGrad: true);
        var error = Assert.Throws<InvalidOperationException>(() => Functional.Relu(a).Backward());
        Assert.Contains("seed", error.Message);
        Assert.Contains("[2]", error.Message);
    }

    [Fact]
    public void GradientsSurviveTheStepScopeUntilZeroGrad()
    {
        var acc = TestAccelerators.Cpu;
        using var a = Tensor.FromArray(acc, [1f, 2f], [2], requiresGrad: true);
        for (int step = 0; step < 2; step++)
        {
            using var scope = new TensorScope();
            Functional.ReduceSum(Functional.Scale(a, 3f)).Backward();
        }
        Assert.Equal([6f, 6f], a.Grad!.ToArray());     // accumulated over two scoped steps
        a.ZeroGrad();
        Assert.Null(a.Grad);
    }
}

// Reads the allocator's process-wide counters, so it must not run beside other tests that allocate.
[Collection(nameof(AllocatorStatistics))]
public sealed class AllocatorSmokeTests
{
    [Fact]
    public void ASteadyStepAllocatesNoDeviceMemory()
    {
        var acc = TestAccelerators.Cpu;
        var w = Tensor.FromArray(acc, Enumerable.Repeat(0.1f, 3 * 3 * 1 * 4).ToArray(), [3, 3, 1, 4], requiresGrad: true);
        var x = Tensor.FromArray(acc, Enumerable.Repeat(1f, 2 * 6 * 6).ToArray(), [2, 6, 6, 1]);
        void Step()
        {
            using var scope = new TensorScope();
            var (pooled, _) = Functional.MaxPoolWithArgmax(Functional.Relu(Functional.Conv2d(x, w)), 2, 2);
            Functional.ReduceMean(pooled).Backward();
            w.ZeroGrad();
        }
        Step();
        Step();
        long before = DeviceAllocator.For(acc).Statistics.DeviceAllocations;
        for (int i = 0; i < 3; i++) Step();
        Assert.Equal(before, DeviceAllocator.For(acc).Statistics.DeviceAllocations);
        w.Dispose();
        x.Dispose();
    }
}
