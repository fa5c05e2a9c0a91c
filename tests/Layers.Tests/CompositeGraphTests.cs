using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;
using static GpuDeconv.Layers.Tests.GradientCheck;

namespace GpuDeconv.Layers.Tests;

// Graphs where gradients meet: shared parameters, a tensor used twice, diamonds, repeated Backward calls, NoGrad and
// StopGradient. Gradients are checked against finite differences of the whole graph's double-precision reference.
public sealed class CompositeGraphTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ASharedFilterUsedInTwoBranchesGetsTheSumOfBothGradients(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [1, 4, 4, 2], ws = [2, 2, 2, 3];
        float[] first = TestData.Uniform(51, 32), second = TestData.Uniform(52, 32);
        double[] x1 = FiniteDifference.ToDouble(first), x2 = FiniteDifference.ToDouble(second);
        Run(acc, "conv(x1, w) + relu(conv(x2, w))",
            t => Functional.Add(
                Functional.Conv2d(Tensor.FromArray(acc, first, xs), t[0]),
                Functional.Tanh(Functional.Conv2d(Tensor.FromArray(acc, second, xs), t[0], stride: 1, padding: Padding.Same))),
            x =>
            {
                double[] a = Reference.Conv2d(x1, xs, x[0], ws, 1, 1, true), b = Reference.Conv2d(x2, xs, x[0], ws, 1, 1, true);
                return a.Zip(b, (p, q) => p + Math.Tanh(q)).ToArray();
            },
            [In(TestData.Uniform(53, 24), ws)]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ATensorUsedTwiceAndDiamondsAccumulateGradients(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] shape = [2, 3];
        var input = In(TestData.AwayFromZero(54, 6), shape);
        // x * x + x: one op sees the tensor twice, a second op sees it again.
        Run(acc, "x * x + x", t => Functional.Add(Functional.Multiply(t[0], t[0]), t[0]), x => x[0].Select(v => v * v + v).ToArray(), [input]);
        // Diamond: s = sigmoid(x); y = 2 s + s * relu(x) - x.
        Run(acc, "diamond",
            t =>
            {
                var s = Functional.Sigmoid(t[0]);
                return Functional.Subtract(Functional.Add(Functional.Scale(s, 2f), Functional.Multiply(s, Functional.Relu(t[0]))), t[0]);
            },
            x => x[0].Select(v =>
            {
                double s = 1 / (1 + Math.Exp(-v));
                return 2 * s + s * Math.Max(v, 0) - v;
            }).ToArray(),
            [input]);
        // Two parameters meeting twice: a matmul chain with a reused weight, y = (x w) w^T.
        int[] ws = [3, 3];
        Run(acc, "(x w) w^T",
            t => Functional.MatMul(Functional.MatMul(t[0], t[1]), t[1], transposeB: true),
            x => Reference.MatMul(Reference.MatMul(x[0], shape, x[1], ws, false, false), shape, x[1], ws, false, true),
            [input, In(TestData.Uniform(55, 9), ws)]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void CustomOpsThatHandTheirGradientOnUnchangedKeepItForEveryInput(string name)
    {
        // Backward disposes each gradient once it is spent; an op recorded with Autograd.Record may hand the tensor it
        // was given straight on, to one input or to several, and every input must still get the right sum.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2, 3], [3], requiresGrad: true);
        var b = Tensor.FromArray(acc, [4f, 5, 6], [3], requiresGrad: true);
        Tensor sum, twice, same;
        using (Autograd.NoGrad())
        {
            sum = Functional.Add(a, b);
            twice = Functional.Add(a, a);
            same = a.Clone();
        }
        sum = Autograd.Record(sum, [a, b], grad => [grad, grad]);        // a + b
        twice = Autograd.Record(twice, [a, a], grad => [grad, grad]);    // a + a
        same = Autograd.Record(same, [a], grad => [grad]);               // identity
        // loss = sum(sum^2) + sum(twice) + sum(same^2): d/da = 2 (a + b) + 2 + 2 a, d/db = 2 (a + b).
        var loss = Functional.Add(Functional.Add(Functional.ReduceSum(Functional.Multiply(sum, sum)), Functional.ReduceSum(twice)),
            Functional.ReduceSum(Functional.Multiply(same, same)));
        loss.Backward();
        Assert.Equal([2 * 5f + 2 + 2, 2 * 7f + 2 + 4, 2 * 9f + 2 + 6], a.Grad!.ToArray());
        Assert.Equal([10f, 14, 18], b.Grad!.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void GradientsAccumulateAcrossBackwardCallsAndScopesUntilZeroGrad(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var outer = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2f, 3f], [3], requiresGrad: true);
        using (var step = new TensorScope())
        {
            Functional.ReduceSum(Functional.Multiply(a, a)).Backward();   // 2a
        }
        // The gradient belongs to the parameter: it outlives the scope the backward pass ran in.
        Assert.False(a.Grad!.IsDisposed);
        Assert.Equal([2f, 4f, 6f], a.Grad.ToArray());
        using (var step = new TensorScope())
        {
            var loss = Functional.ReduceSum(Functional.Scale(a, 3f));
            loss.Backward();                                              // + 3
            Assert.Equal([5f, 7f, 9f], a.Grad.ToArray());
            loss.Backward();                                              // the same graph again: + 3
        }
        Assert.Equal([8f, 10f, 12f], a.Grad.ToArray());
        a.ZeroGrad();
        Assert.Null(a.Grad);
        Functional.ReduceSum(a).Backward();
        Assert.Equal([1f, 1f, 1f], a.Grad!.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void OnlyLeavesThatRequireGradientsReceiveOne(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var w = Tensor.FromArray(acc, [1f, -2f], [2], requiresGrad: true);
        var data = Tensor.FromArray(acc, [3f, 4f], [2]);
        var hidden = Functional.Multiply(w, data);
        Assert.True(hidden.RequiresGrad);
        Assert.True(hidden.HasGradFunction);
        Functional.ReduceSum(Functional.Relu(hidden)).Backward();
        Assert.Equal([3f, 0f], w.Grad!.ToArray());
        Assert.Null(data.Grad);
        Assert.Null(hidden.Grad);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void NoGradRecordsNothing(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var w = Tensor.FromArray(acc, [1f, 2f], [2], requiresGrad: true);
        Tensor y;
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsRecording);
            using (Autograd.NoGrad()) y = Functional.Relu(w);
            Assert.False(Autograd.IsRecording);   // still inside the outer NoGrad
            var z = Functional.ReduceSum(Functional.Scale(y, 2f));
            Assert.False(z.RequiresGrad);
            Assert.False(z.HasGradFunction);
        }
        Assert.True(Autograd.IsRecording);
        Assert.False(y.RequiresGrad);
        Assert.False(y.HasGradFunction);
        var error = Assert.Throws<InvalidOperationException>(() => Functional.ReduceSum(y).Backward());
        Assert.Contains("does not depend on any tensor that requires a gradient", error.Message);
        Assert.Null(w.Grad);
        // Recording resumes after the scope.
        Functional.ReduceSum(Functional.Relu(w)).Backward();
        Assert.Equal([1f, 1f], w.Grad!.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void StopGradientOnTheUnpooledSignalCutsTheGraphAsTheTutorialDoes(string name)
    {
        // The tutorial's projection reuses the forward pass's pooled values and switches without differentiating
        // through them: loss = sum(unpool(stop(pooled), argmax) * x) has d/dx = the unpooled map and nothing else.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        float[] data = TestData.Distinct(56, 32);
        var x = Tensor.FromArray(acc, data, [1, 4, 4, 2], requiresGrad: true);
        var (pooled, argmax) = Functional.MaxPoolWithArgmax(x, 2, 2);
        var stopped = Functional.StopGradient(pooled);
        var unpooled = Functional.Unpool(stopped, argmax, x.Shape);
        Assert.False(unpooled.RequiresGrad);
        Functional.ReduceSum(Functional.Multiply(unpooled, x)).Backward();
        Assert.Equal(unpooled.ToArray(), x.Grad!.ToArray());

        // Without the stop, the pooled path adds x at the switches: d/dx = unpooled + unpool(x at switches) = 2 * unpooled.
        x.ZeroGrad();
        var through = Functional.Unpool(pooled, argmax, x.Shape);
        Functional.ReduceSum(Functional.Multiply(through, x)).Backward();
        Assert.Equal(unpooled.ToArray().Select(v => 2 * v).ToArray(), x.Grad!.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void DetachSharesDataButNotTheGraph(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var w = Tensor.FromArray(acc, [1f, 2f, 3f], [3], requiresGrad: true);
        var detached = w.Detach();
        Assert.False(detached.RequiresGrad);
        Assert.Equal(w.Shape, detached.Shape);
        Fill.Forward(detached.Stream, detached.View, 7f);   // a write through the detached tensor ...
        Assert.Equal([7f, 7f, 7f], w.ToArray());             // ... is seen by the parameter: no copy
        var error = Assert.Throws<InvalidOperationException>(() => Functional.ReduceSum(detached).Backward());
        Assert.Contains("does not depend", error.Message);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardWithASeedWeightsEveryOutput(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2f, 3f, 4f], [2, 2], requiresGrad: true);
        var y = Functional.Multiply(a, a);
        y.Backward(Tensor.FromArray(acc, [1f, 0f, -1f, 0.5f], [2, 2]));
        Check.Close([2f, 0f, -6f, 4f], a.Grad!.ToArray(), 0, 0, "seeded gradient of a^2");
    }
}
