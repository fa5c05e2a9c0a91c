using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests.Onnx;

/// <summary>
/// Projections through the pretrained ResNet-18: its residual joins (the signal goes down both branches and is summed
/// where they fork), its CNTK pads (cropped on the way down), its max pool switches and its average pool.
/// </summary>
public sealed class ResidualDeconvnetTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("opencl")]
    public void TheGradientProjectionThroughResNet18IsAutogradsInputGradient(string name)
    {
        // Deconvnet's Gradient variant is J^T s by construction; autograd computes the same through Functional's own
        // backward functions, so agreement checks every reverse rule of the graph walk, forks and joins included.
        var acc = TestAccelerators.Get(name);
        using var resnet = OnnxModel.Load(acc, ResNet18Tests.ResNet18);
        using var scope = new TensorScope();
        var image = Tensor.FromArray(acc, TestImages.Photo224().Select(v => v / 255f - 0.5f).ToArray(), [1, 224, 224, 3], requiresGrad: true);
        var trace = new ForwardTrace();
        resnet.Forward(image, trace);
        foreach (int layer in new[] { 4, 13, resnet.Layers.Count - 1 })
        {
            var activations = trace.LayerOutput(layer);
            var seed = Deconvnet.Select(activations, ProjectionSelection.StrongestActivation(StrongestMap(activations)));
            var projected = Deconvnet.Project(trace, layer, DeconvnetVariant.Gradient, seed).ToArray();
            image.ZeroGrad();
            activations.Backward(seed);
            var gradient = image.Grad!.ToArray();
            Assert.Contains(gradient, v => v != 0f);
            ResNet18Tests.AssertClose($"layer {layer} ({resnet.Layers[layer].Node}) gradient projection", gradient, projected);
        }
    }

    [Fact]
    public void EveryVariantReachesThePixelsFromEveryStage()
    {
        var acc = TestAccelerators.Cpu;
        using var resnet = OnnxModel.Load(acc, ResNet18Tests.ResNet18);
        using var scope = new TensorScope();
        var trace = new ForwardTrace();
        resnet.Forward(Tensor.FromArray(acc, TestImages.Photo224(), [1, 224, 224, 3]), trace);
        Assert.Equal(resnet.Layers.Count, trace.LayerCount);
        // The first projection shortcut (1x1/2) ends with its own output, not with the next convolution's padding.
        Assert.Equal(("Convolution295", new Shape(1, 28, 28, 128)), (resnet.Layers[5].Node, trace.LayerOutput(5).Shape));
        foreach (var variant in Enum.GetValues<DeconvnetVariant>())
            foreach (int layer in new[] { 0, 8, resnet.Layers.Count - 2 })
            {
                var pixels = Deconvnet.Project(trace, layer, variant, ProjectionSelection.StrongestActivation(StrongestMap(trace.LayerOutput(layer))));
                Assert.Equal(new Shape(1, 224, 224, 3), pixels.Shape);
                var values = pixels.ToArray();
                Assert.All(values, v => Assert.True(float.IsFinite(v)));
                Assert.Contains(values, v => v != 0f);
            }
    }

    // The feature map with the largest activation (a map that is zero everywhere would project to zero).
    internal static int StrongestMap(Tensor activations)
    {
        var values = activations.ToArray();
        int channels = activations.Shape[3];
        int best = 0;
        for (int i = 0; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best % channels;
    }
}
