using GpuDeconv.Layers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = GpuDeconv.Layers.Tensor;
using Xunit;

namespace GpuDeconv.Training.Tests.Onnx;

/// <summary>
/// The pretrained ImageNet ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18 (CNTK export, IR 3) imported and run
/// on every accelerator, against ONNX Runtime on the same file and the same input.
/// </summary>
public sealed class ResNet18Tests
{
    internal static readonly string ModelFolder = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
    internal static readonly string ResNet18 = Path.Combine(ModelFolder, "ResNet18Onnx", "ResNet18.onnx");
    internal static readonly string Preprocess = Path.Combine(ModelFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    [Fact]
    public void TheImporterReadsTheGraphItsFileDeclares()
    {
        using var model = OnnxModel.Load(TestAccelerators.Cpu, ResNet18);
        Assert.Equal("Input247", model.InputName);
        Assert.Equal(new Shape(1, 224, 224, 3), model.InputShape);
        Assert.Equal("Pooling395_Output_0", model.OutputName);
        Assert.StartsWith("CNTK", model.Producer);
        // CNTK's ResNet-18: the 7x7 stem, 2 + 2 + 2 + 3 basic blocks of two 3x3 convolutions, 3 projection shortcuts.
        Assert.Equal(22, model.Layers.Count);
        Assert.Equal(("Convolution249", 64), (model.Layers[0].Node, model.Layers[0].Channels));
        // The last layer runs to the graph output: the last block, its join and ReLU, and the 7x7 average pool.
        Assert.Equal(("Pooling395_Output_0", 512), (model.Layers[^1].Output, model.Layers[^1].Channels));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void PreprocessingAndResNet18MatchOnnxRuntime(string name)
    {
        var acc = TestAccelerators.Get(name);
        TestAccelerators.SkipScaleTestOnDebugDevice(name);
        var rgb = TestImages.Photo224();                                 // NHWC RGB 0..255
        var (bgr, features) = RunOnnxRuntime(rgb);

        using var preprocess = OnnxModel.Load(acc, Preprocess);
        using var resnet = OnnxModel.Load(acc, ResNet18);
        using var scope = new TensorScope();
        var ours = preprocess.Forward(Tensor.FromArray(acc, rgb, [1, 224, 224, 3]));
        AssertClose("preprocessing", Nchw.ToNhwc(bgr, 3, 224, 224), ours.ToArray());
        var output = resnet.Forward(ours);
        Assert.Equal(new Shape(1, 1, 1, 512), output.Shape);
        AssertClose("ResNet-18 features", features, output.ToArray());
    }

    // max |ours - ort| <= 1e-4 * max |ort|, and element-wise within 1e-4 relative plus that floor.
    internal static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            double allowed = 1e-4 * scale + 1e-4 * Math.Abs(expected[i]);
            Assert.True(diff <= allowed,
                $"{what}: element {i} is {actual[i]}, ONNX Runtime gives {expected[i]} (|diff| {diff:g3} > {allowed:g3}; output scale {scale:g4}).");
        }
    }

    internal static (float[] Bgr, float[] Features) RunOnnxRuntime(float[] rgbNhwc)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var prep = new InferenceSession(Preprocess, options);
        using var net = new InferenceSession(ResNet18, options);
        var input = new DenseTensor<float>(Nchw.FromNhwc(rgbNhwc, 3, 224, 224), [1, 3, 224, 224]);
        using var prepared = prep.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", input)]);
        var bgr = prepared.First().AsTensor<float>().ToArray();
        using var features = net.Run([NamedOnnxValue.CreateFromTensor("Input247", new DenseTensor<float>(bgr, [1, 3, 224, 224]))]);
        return (bgr, features.First().AsTensor<float>().ToArray());
    }
}

/// <summary>NCHW (ONNX) and NHWC (ours) for one image.</summary>
internal static class Nchw
{
    public static float[] FromNhwc(float[] nhwc, int c, int h, int w) => Permute(nhwc, c, h, w, toNhwc: false);

    public static float[] ToNhwcBatch(float[] nchw, int n, int c, int h, int w)
    {
        int size = c * h * w;
        var nhwc = new float[nchw.Length];
        for (int i = 0; i < n; i++)
            ToNhwc(nchw.AsSpan(i * size, size).ToArray(), c, h, w).CopyTo(nhwc, i * size);
        return nhwc;
    }

    public static float[] ToNhwc(float[] nchw, int c, int h, int w) => Permute(nchw, c, h, w, toNhwc: true);

    // One image between (c, y, x) and (y, x, c) order.
    private static float[] Permute(float[] source, int c, int h, int w, bool toNhwc)
    {
        var target = new float[source.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                {
                    int nchw = (k * h + y) * w + x, nhwc = (y * w + x) * c + k;
                    if (toNhwc) target[nhwc] = source[nchw];
                    else target[nchw] = source[nhwc];
                }
        return target;
    }
}
