using GpuDeconv.Compute.Conformance;
using Xunit;
using static GpuDeconv.Layers.Tests.GradientCheck;

namespace GpuDeconv.Layers.Tests;

// Softmax, SoftmaxCrossEntropy (int and float labels) and L2Loss: forward against loops, backward against finite differences.
public sealed class FunctionalLossTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SoftmaxMatchesLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        Run(acc, "Softmax", t => Functional.Softmax(t[0]), x => Reference.Softmax(x[0], 3, 4),
            [In(TestData.Uniform(41, 12, -3f, 3f), [3, 4])]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SoftmaxCrossEntropyWithIntLabelsMatchesLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] labels = [2, 0, 3];
        var oneHot = new double[12];
        for (int b = 0; b < 3; b++) oneHot[b * 4 + labels[b]] = 1;
        Run(acc, "SoftmaxCrossEntropy int labels",
            t => Functional.SoftmaxCrossEntropy(t[0], Tensor.FromArray(acc, labels, [3])),
            x => [Reference.CrossEntropy(x[0], oneHot, 3, 4).Average()],
            [In(TestData.Uniform(42, 12, -3f, 3f), [3, 4])]);
        Run(acc, "SoftmaxCrossEntropyPerExample int labels",
            t => Functional.SoftmaxCrossEntropyPerExample(t[0], Tensor.FromArray(acc, labels, [3])),
            x => Reference.CrossEntropy(x[0], oneHot, 3, 4),
            [In(TestData.Uniform(43, 12, -3f, 3f), [3, 4])]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SoftmaxCrossEntropyWithFloatLabelsMatchesLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        // Soft labels (rows sum to 1) and a one-hot row.
        float[] labels = [0.1f, 0.2f, 0.3f, 0.4f, /**/ 0f, 1f, 0f, 0f, /**/ 0.25f, 0.25f, 0.5f, 0f];
        var p = FiniteDifference.ToDouble(labels);
        Run(acc, "SoftmaxCrossEntropy float labels",
            t => Functional.SoftmaxCrossEntropy(t[0], Tensor.FromArray(acc, labels, [3, 4])),
            x => [Reference.CrossEntropy(x[0], p, 3, 4).Average()],
            [In(TestData.Uniform(44, 12, -3f, 3f), [3, 4])]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SoftmaxCrossEntropyIsAScalarThatBackwardAcceptsWithoutASeed(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var logits = Tensor.FromArray(acc, [0f, 0f, 0f, 0f], [2, 2], requiresGrad: true);
        var loss = Functional.SoftmaxCrossEntropy(logits, Tensor.FromArray(acc, [0, 1], [2]));
        Assert.Equal(1, loss.Size);
        Check.Close([(float)Math.Log(2)], loss.ToArray(), 1e-6, 1e-6, "mean cross entropy of uniform logits");
        loss.Backward();
        // d/dz mean = (softmax - onehot) / B = (0.5 - 1) / 2 on the label, 0.5 / 2 elsewhere.
        Check.Close([-0.25f, 0.25f, 0.25f, -0.25f], logits.Grad!.ToArray(), 1e-6, 1e-6, "gradient");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void L2LossMatchesLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        Run(acc, "L2Loss",
            t =>
            {
                var y = Functional.L2Loss(t[0]);
                Assert.Equal(0, y.Shape.Rank);
                return y;
            },
            x => [x[0].Sum(v => v * v) / 2],
            [In(TestData.Uniform(45, 2 * 3 * 2 * 2), [2, 3, 2, 2])]);
    }
}
