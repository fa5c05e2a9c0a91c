using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class LeNet5Tests
{
    [Fact]
    public void ParametersAreTheTutorialsLayers()
    {
        using var model = new LeNet5(TestAccelerators.Cpu);
        var shapes = model.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Shape.ToString());
        Assert.Equal(new Dictionary<string, string>
        {
            ["conv1/weight"] = "[5, 5, 1, 6]", ["conv1/bias"] = "[6]",
            ["conv2/weight"] = "[5, 5, 6, 16]", ["conv2/bias"] = "[16]",
            ["fc1/weight"] = "[400, 120]", ["fc1/bias"] = "[120]",
            ["fc2/weight"] = "[120, 84]", ["fc2/bias"] = "[84]",
            ["fc3/weight"] = "[84, 10]", ["fc3/bias"] = "[10]",
        }, shapes);
        Assert.Equal(["conv1/weight", "conv1/bias", "conv2/weight", "conv2/bias", "fc1/weight", "fc1/bias", "fc2/weight", "fc2/bias", "fc3/weight", "fc3/bias"],
            model.NamedParameters().Keys);
        Assert.All(model.Fc1.Bias!.ToArray(), b => Assert.Equal(0f, b));
        Assert.All(model.Fc1.Weight.ToArray(), w => Assert.InRange(w, -0.2f, 0.2f));
    }

    [Theory]
    [MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardBackwardOnATinyBatch(string name)
    {
        var accelerator = TestAccelerators.Get(name);
        foreach (var activation in new[] { Activation.Relu, Activation.Sigmoid })
        {
            using var model = new LeNet5(accelerator, activation, seed: 5);
            using var scope = new TensorScope();
            var images = Tensor.Uniform(accelerator, [2, 32, 32, 1], 0f, 1f, seed: 9);
            var run = model.Run(images);
            Assert.Equal(new[] { 2, 28, 28, 6 }, run.Conv1.Shape.Dims);
            Assert.Equal(new[] { 2, 10, 10, 16 }, run.Conv2.Shape.Dims);
            Assert.Equal(new[] { 2, 84 }, run.Fc2.Shape.Dims);
            Assert.Equal(new[] { 2, 10 }, run.Logits.Shape.Dims);
            if (activation == Activation.Sigmoid) Assert.All(run.Fc2.ToArray(), v => Assert.InRange(v, 0f, 1f));
            else Assert.All(run.Conv1.ToArray(), v => Assert.True(v >= 0f));
            var loss = Functional.SoftmaxCrossEntropy(run.Logits, Tensor.FromArray(accelerator, new[] { 1, 7 }, [2]));
            model.ZeroGrad();
            loss.Backward();
            foreach (var (path, parameter) in model.NamedParameters())
                Assert.True(parameter.Grad!.ToArray().All(float.IsFinite), $"{activation} {path}: non-finite gradient");
            Assert.True(model.Conv1.Weight.Grad!.ToArray().Any(g => g != 0f), $"{activation}: conv1 gradient is all zero");
        }
    }

    [Theory]
    [MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardIsRunBitForBit(string name)
    {
        // With ReLU, Forward pools through switches (Conv2dReluMaxPool) where Run pools the kept maps (MaxPool): the
        // same maxima, the same first-of-ties cells (windows of ReLU zeros), so the same logits and gradients.
        var accelerator = TestAccelerators.Get(name);
        foreach (var activation in new[] { Activation.Relu, Activation.Sigmoid })
        {
            using var scope = new TensorScope();
            var images = Tensor.Uniform(accelerator, [3, 32, 32, 1], -1f, 1f, seed: 12);
            var labels = Tensor.FromArray(accelerator, new[] { 4, 0, 9 }, [3]);
            (float[] Logits, float[][] Grads) Step(Func<LeNet5, Tensor> forward)
            {
                using var model = new LeNet5(accelerator, activation, seed: 3);
                var logits = forward(model);
                float[] values = logits.ToArray();
                Functional.SoftmaxCrossEntropy(logits, labels).Backward(freeIntermediates: true);
                return (values, [.. model.Parameters().Select(p => p.Grad!.ToArray())]);
            }
            var run = Step(m => m.Run(images).Logits);
            var forward = Step(m => m.Forward(images));
            Assert.Equal(run.Logits, forward.Logits);
            for (int i = 0; i < run.Grads.Length; i++) Assert.Equal(run.Grads[i], forward.Grads[i]);
        }
    }

    [Fact]
    public void RejectsUnpaddedImages()
    {
        using var model = new LeNet5(TestAccelerators.Cpu);
        using var scope = new TensorScope();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(TestAccelerators.Cpu, [1, 28, 28, 1])));
        Assert.Contains("[1, 28, 28, 1]", e.Message);
        Assert.Contains("[N, 32, 32, 1]", e.Message);
    }
}
