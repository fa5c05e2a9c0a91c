using System.Globalization;
using BenchmarkDotNet.Attributes;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using GpuDeconv.Training;

namespace GpuDeconv.Benchmarks;

// Beyond the tutorials: ImageNet ResNet-18's convolutions at 224x224 and the whole pretrained network (the one the
// visualisation commands import), and how the cost of a convolution grows with the batch and the image size.
// OnnxRuntimeBenchmarks.cs runs the same forward work in ONNX Runtime; benchmarks/compare/torch_ops.py in PyTorch.

/// <summary>One forward convolution with what Auto picks, on the case the subclass names.</summary>
public abstract class ForwardConvBenchmark : AcceleratorBenchmark
{
    private ConvTensors _tensors = null!;

    protected abstract ConvCase Case { get; }

    protected override void Setup()
    {
        _tensors = new ConvTensors(Device, Case);
        Forward();
    }

    protected override void Cleanup() => _tensors.Dispose();

    [Benchmark(Description = "conv2d forward")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = "Layer")]
    public void Forward()
    {
        _tensors.Forward(Stream, ConvAlgorithm.Auto);
        Stream.Synchronize();
    }
}

/// <summary>ResNet-18's layers at 224x224 (<see cref="ConvCase.ResNet"/>), forward, with what Auto picks.</summary>
public class ResNetLayerBenchmarks : ForwardConvBenchmark
{
    [ParamsSource(nameof(Layers))]
    public ConvCase Layer { get; set; } = ConvCase.ResNet().First();

    public static IEnumerable<ConvCase> Layers() => ConvCase.ResNet();

    protected override ConvCase Case => Layer;
}

/// <summary>
/// One point of the scaling sweep: a 3x3 SAME convolution, 64 -> 64 channels (ResNet's first stage), at a batch and a
/// square image size. The batch sweep runs 32 to 1024 images of 32x32; the size sweep 32 to 224 pixels at batch 32.
/// </summary>
public sealed record ScalingCase(int Batch, int Size) : IWorkload
{
    public const int Channels = 64, Kernel = 3;

    /// <summary>The sweep; with GPUDECONV_BENCH_SCALING=small (compare.py --quick) only its first points, to prove it runs.</summary>
    public static IEnumerable<ScalingCase> Sweep()
    {
        bool small = Environment.GetEnvironmentVariable("GPUDECONV_BENCH_SCALING") == "small";
        int[] batches = small ? [32, 64] : [32, 64, 128, 256, 512, 1024], sizes = small ? [56] : [56, 112, 224];
        return batches.Select(batch => new ScalingCase(batch, 32)).Concat(sizes.Select(size => new ScalingCase(32, size)));
    }

    public ConvCase Conv => new(ToString(), Batch, Size, Size, Channels, Channels, Kernel);

    public double GigaUnits(string method) => Conv.GigaUnits(method);

    /// <summary>compare.py reads batch and size back from this name: scale-b{batch}-s{size}.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"scale-b{Batch}-s{Size}");
}

/// <summary>The scaling sweep (<see cref="ScalingCase"/>), forward with what Auto picks; compare.py tabulates ms per GFLOP.</summary>
public class ScalingBenchmarks : ForwardConvBenchmark
{
    [ParamsSource(nameof(Points))]
    public ScalingCase Layer { get; set; } = ScalingCase.Sweep().First();

    public static IEnumerable<ScalingCase> Points() => ScalingCase.Sweep();

    protected override ConvCase Case => Layer.Conv;
}

/// <summary>The pretrained network of Microsoft.ML.DnnImageFeaturizer.ResNet18, at batch <see cref="Batch"/> (its file fixes it).</summary>
public sealed record ResNetModelCase(string Name, int Batch) : IWorkload
{
    /// <summary>The ONNX file, copied next to the benchmarks from the NuGet package (the csproj).</summary>
    public static string ResNet18Path => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static IEnumerable<ResNetModelCase> All() => [new("resnet18", 1)];

    /// <summary>
    /// Multiply-adds of ResNet-18's convolutions for one 224x224 image (the featurizer ends at the average pool: no
    /// classifier): the 7x7/2 stem, then four stages of two basic blocks (two 3x3 convolutions each), the first block of
    /// stages 2 to 4 with stride 2 and a 1x1 projection of its input.
    /// </summary>
    public static double MultiplyAddsPerImage()
    {
        double macs = 112.0 * 112 * 64 * 7 * 7 * 3;
        int size = 56, channels = 64;
        for (int stage = 0; stage < 4; stage++)
        {
            int input = channels;
            if (stage > 0)
            {
                size /= 2;
                channels *= 2;
                macs += (double)size * size * channels * input;    // the 1x1 stride-2 projection
            }
            double pixels = (double)size * size * channels * 9;
            macs += pixels * input + 3 * pixels * channels;          // first conv from the stage's input, three more
        }
        return macs;
    }

    public double GigaUnits(string method) => 2 * MultiplyAddsPerImage() * Batch / 1e9;

    public override string ToString() => Name;
}

/// <summary>The imported pretrained ResNet-18 (<see cref="OnnxModel"/>), forward on a random image.</summary>
public class ResNet18Benchmarks : AcceleratorBenchmark
{
    [ParamsSource(nameof(Models))]
    public ResNetModelCase Model { get; set; } = ResNetModelCase.All().First();

    public static IEnumerable<ResNetModelCase> Models() => ResNetModelCase.All();

    private OnnxModel _model = null!;
    private Tensor _image = null!;

    protected override void Setup()
    {
        _model = OnnxModel.Load(Device, ResNetModelCase.ResNet18Path);
        var random = new Random(11);
        var pixels = new float[Model.Batch * 224 * 224 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = random.NextSingle() * 255 - 128;
        _image = Tensor.FromArray(Device, pixels, [Model.Batch, 224, 224, 3]);
        Forward();
    }

    protected override void Cleanup()
    {
        _image.Dispose();
        _model.Dispose();
    }

    [Benchmark(Description = "ResNet-18 forward")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = nameof(Model))]
    public void Forward()
    {
        using var scope = new TensorScope();
        _model.Forward(_image);
        Stream.Synchronize();
    }
}

/// <summary>x, w and y of one forward convolution on a device.</summary>
internal sealed class ConvTensors : IDisposable
{
    private readonly BenchmarkTensors _tensors;
    private readonly TensorView<float> _x, _w, _y;
    private readonly Conv2dOptions _options;

    public ConvTensors(GpuDeconv.Compute.Accelerator accelerator, ConvCase c)
    {
        _tensors = new BenchmarkTensors(accelerator);
        _options = c.Options;
        _x = _tensors.Random(c.Batch, c.Height, c.Width, c.InChannels);
        _w = _tensors.Random(c.Kernel, c.Kernel, c.InChannels, c.OutChannels);
        _y = _tensors.Empty<float>(c.Batch, c.OutHeight, c.OutWidth, c.OutChannels);
    }

    public void Forward(GpuDeconv.Compute.AcceleratorStream stream, ConvAlgorithm algorithm) =>
        Conv2dKernels.Forward(stream, _x, _w, _y, _options, algorithm: algorithm);

    public void Dispose() => _tensors.Dispose();
}
