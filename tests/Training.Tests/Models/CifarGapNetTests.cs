using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class CifarGapNetTests
{
    [Fact]
    public void ParametersAreTheTutorialsNamesShapesAndInitialValues()
    {
        using var model = new CifarGapNet(TestAccelerators.Cpu, 24, 24, 3);
        var parameters = model.NamedParameters();
        Assert.Equal(["conv1/weight", "conv1/bias", "conv2/weight", "conv2/bias", "conv3/weight", "conv3/bias"], parameters.Keys);
        Assert.Equal(new[] { 5, 5, 3, 64 }, parameters["conv1/weight"].Shape.Dims);
        Assert.Equal(new[] { 5, 5, 64, 64 }, parameters["conv2/weight"].Shape.Dims);
        Assert.Equal(new[] { 5, 5, 64, 10 }, parameters["conv3/weight"].Shape.Dims);
        Assert.All(parameters["conv2/bias"].ToArray(), b => Assert.Equal(0.01f, b));
        // Truncated normal with stddev 0.01: redrawn beyond two standard deviations.
        float[] w = parameters["conv2/weight"].ToArray();
        Assert.All(w, v => Assert.InRange(v, -0.02f, 0.02f));
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.007, 0.0095);
        Assert.Equal((6, 6), (model.PooledHeight, model.PooledWidth));
        using var gray = new CifarGapNet(TestAccelerators.Cpu, 28, 28, 1);
        Assert.Equal((7, 7), (gray.PooledHeight, gray.PooledWidth));
    }

    [Theory]
    [MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardBackwardAndProjectionsOnATinyBatch(string name)
    {
        var accelerator = TestAccelerators.Get(name);
        // 10x10x1: pools to 5x5 then 3x3 (SAME rounds up), so the average pool covers an odd map.
        using var model = new CifarGapNet(accelerator, 10, 10, 1, classes: 3, seed: 7);
        using var scope = new TensorScope();
        var images = Tensor.Uniform(accelerator, [2, 10, 10, 1], -1f, 1f, seed: 3);
        var labels = Tensor.FromArray(accelerator, new[] { 0, 2 }, [2]);
        var trace = new ForwardTrace();
        var logits = model.Logits(images, trace);
        Assert.Equal(new[] { 2, 3 }, logits.Shape.Dims);
        Assert.Equal(2, trace.LayerCount);
        Assert.Equal(new[] { 2, 3, 3, 64 }, trace.LayerOutput(1).Shape.Dims);
        var loss = Functional.SoftmaxCrossEntropy(logits, labels);
        model.ZeroGrad();
        loss.Backward();
        // Near the start every logit is about the same: the loss is about ln(3).
        Assert.InRange(loss.ToArray()[0], MathF.Log(3f) - 0.05f, MathF.Log(3f) + 0.05f);
        foreach (var (path, parameter) in model.NamedParameters())
        {
            float[] grad = parameter.Grad!.ToArray();
            Assert.True(grad.All(float.IsFinite), $"{path}: non-finite gradient");
            Assert.True(grad.Any(g => g != 0f), $"{path}: all-zero gradient");
        }
        using (Autograd.NoGrad())
        {
            var layer1 = Deconvnet.Project(trace, 0, DeconvnetVariant.Tutorial);
            var layer2 = Deconvnet.Project(trace, 1, DeconvnetVariant.Tutorial);
            Assert.Equal(images.Shape, layer1.Shape);
            Assert.Equal(new[] { 2, 10, 30, 1 }, Deconvnet.Stitch(images, layer1, layer2).Shape.Dims);
        }
    }

    [Theory]
    [MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardIsTheTracedPassBitForBit(string name)
    {
        // Forward runs each block as one op and frees what the traced pass keeps; the numbers must not move.
        var accelerator = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var images = Tensor.Uniform(accelerator, [3, 10, 10, 2], -1f, 1f, seed: 4);
        var labels = Tensor.FromArray(accelerator, new[] { 0, 2, 1 }, [3]);
        (float[] Logits, float[][] Grads) Step(Func<CifarGapNet, Tensor> forward, bool freeIntermediates)
        {
            using var model = new CifarGapNet(accelerator, 10, 10, 2, classes: 3, seed: 11);
            var logits = forward(model);
            float[] values = logits.ToArray();
            Functional.SoftmaxCrossEntropy(logits, labels).Backward(freeIntermediates: freeIntermediates);
            return (values, [.. model.Parameters().Select(p => p.Grad!.ToArray())]);
        }
        var traced = Step(m => m.Logits(images, new ForwardTrace()), freeIntermediates: false);
        var plain = Step(m => m.Forward(images), freeIntermediates: true);
        Assert.Equal(traced.Logits, plain.Logits);
        for (int i = 0; i < traced.Grads.Length; i++) Assert.Equal(traced.Grads[i], plain.Grads[i]);
    }

    [Fact]
    public void WrongImageShapeNamesBothShapes()
    {
        using var model = new CifarGapNet(TestAccelerators.Cpu, 24, 24, 3);
        using var scope = new TensorScope();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(TestAccelerators.Cpu, [1, 32, 32, 3])));
        Assert.Contains("[1, 32, 32, 3]", e.Message);
        Assert.Contains("[N, 24, 24, 3]", e.Message);
    }
}
