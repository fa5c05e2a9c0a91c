using System.Globalization;
using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Benchmarks;

// The kernels at the shapes of the deconv tutorial's CIFAR network (docs/reference/perf-anchors.md section B):
// 24x24x3 -> conv 5x5 64 -> pool 2 -> conv 5x5 64 -> pool 2 -> conv 5x5 10, batch 128 (or
// GPUDECONV_BENCH_BATCH), and at the benchmark issue's larger shape (batch 512, 64 -> 128 channels,
// 32x32). benchmarks/compare/torch_ops.py times the same cases in PyTorch.

/// <summary>
/// Batch sizes: the tutorial's cases run at 128 (or GPUDECONV_BENCH_BATCH), the larger shape at 512 (or
/// GPUDECONV_BENCH_LARGE_BATCH; 1024 for the GPU pooling target), ResNet-18's layers at 16 (GPUDECONV_BENCH_RESNET_BATCH).
/// </summary>
internal static class KernelShapes
{
    public static int Batch { get; } = FromEnvironment("GPUDECONV_BENCH_BATCH", 128);

    public static int LargeBatch { get; } = FromEnvironment("GPUDECONV_BENCH_LARGE_BATCH", 512);

    /// <summary>The batch of the ResNet-18 layer cases (224x224 images).</summary>
    public static int ResNetBatch { get; } = FromEnvironment("GPUDECONV_BENCH_RESNET_BATCH", 16);

    private static int FromEnvironment(string variable, int fallback)
    {
        string? text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text)) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{variable}={text}: expected a positive whole number (a batch size).");
    }
}

/// <summary>
/// A SAME convolution (stride 1 unless given); 2*N*OH*OW*Cout*K*K*Cin FLOP for the forward and each gradient, OH and OW
/// the output's size (TF's SAME: ceil(H / stride)).
/// </summary>
public sealed record ConvCase(string Name, int Batch, int Height, int Width, int InChannels, int OutChannels, int Kernel, int Stride = 1) : IWorkload
{
    /// <summary>The CIFAR network's three 5x5 convolutions at the tutorial's batch.</summary>
    public static IEnumerable<ConvCase> Tutorial() =>
    [
        new("conv1", KernelShapes.Batch, 24, 24, 3, 64, 5),
        new("conv2", KernelShapes.Batch, 12, 12, 64, 64, 5),
        new("conv3", KernelShapes.Batch, 6, 6, 64, 10, 5),
    ];

    /// <summary>The larger shape of the benchmark issue: batch 512, 64 -> 128 channels at 32x32, 3x3.</summary>
    public static IEnumerable<ConvCase> Large() => [new("conv-large", KernelShapes.LargeBatch, 32, 32, 64, 128, 3)];

    /// <summary>
    /// ImageNet ResNet-18's convolutions at 224x224 input: the 7x7 stride-2 stem and the 3x3 convolution of each stage
    /// (56, 28, 14 and 7 pixels; 64 to 512 channels), at GPUDECONV_BENCH_RESNET_BATCH (16).
    /// </summary>
    public static IEnumerable<ConvCase> ResNet() =>
    [
        new("resnet-stem", KernelShapes.ResNetBatch, 224, 224, 3, 64, 7, 2),
        new("resnet-56", KernelShapes.ResNetBatch, 56, 56, 64, 64, 3),
        new("resnet-28", KernelShapes.ResNetBatch, 28, 28, 128, 128, 3),
        new("resnet-14", KernelShapes.ResNetBatch, 14, 14, 256, 256, 3),
        new("resnet-7", KernelShapes.ResNetBatch, 7, 7, 512, 512, 3),
    ];

    public int OutHeight => (Height + Stride - 1) / Stride;

    public int OutWidth => (Width + Stride - 1) / Stride;

    public Conv2dOptions Options => new(Stride, Padding.Same, 1);

    public double GigaUnits(string method) =>
        2.0 * Batch * OutHeight * OutWidth * OutChannels * Kernel * Kernel * InChannels / 1e9;

    public override string ToString() => Name;
}

/// <summary>A 2x2 stride-2 argmax pooling and the unpooling that undoes it; work counted in bytes moved.</summary>
public sealed record PoolCase(string Name, int Batch, int Height, int Width, int Channels) : IWorkload
{
    /// <summary>The pools after conv1 and conv2 of the CIFAR network, and the pool of the larger shape's output.</summary>
    public static IEnumerable<PoolCase> All() =>
    [
        new("pool1", KernelShapes.Batch, 24, 24, 64),
        new("pool2", KernelShapes.Batch, 12, 12, 64),
        new("pool-large", KernelShapes.LargeBatch, 32, 32, 128),
    ];

    private long Big => (long)Batch * Height * Width * Channels;

    private long Small => (long)Batch * (Height / 2) * (Width / 2) * Channels;

    public double GigaUnits(string method) => method switch
    {
        // Read the input; write the pooled values (4 B) and int64 argmax (8 B).
        nameof(PoolBenchmarks.MaxPoolWithArgmax) => (Big * 4 + Small * 12) / 1e9,
        // Unpooling and the backward: read values (or dy) and argmax; write the whole output (zeros included).
        _ => (Small * 12 + Big * 4) / 1e9,
    };

    public override string ToString() => Name;
}

/// <summary>The transposed convolutions of the deconv pass: layer-2 (12x12, 64 -> 64) and layer-1 (24x24, 64 -> 3) projections.</summary>
public sealed record DeconvCase(string Name, int Height, int Width, int ValueChannels, int OutputChannels, int Kernel) : IWorkload
{
    public static IEnumerable<DeconvCase> Tutorial() => [new("deconv2", 12, 12, 64, 64, 5), new("deconv1", 24, 24, 64, 3, 5)];

    public double GigaUnits(string method) =>
        2.0 * KernelShapes.Batch * Height * Width * ValueChannels * Kernel * Kernel * OutputChannels / 1e9;

    public override string ToString() => Name;
}

/// <summary>Device tensors with seeded uniform [-1, 1) contents, freed together.</summary>
internal sealed class BenchmarkTensors(Accelerator accelerator) : IDisposable
{
    private readonly List<MemoryBuffer> _buffers = [];
    private int _seed;

    public TensorView<float> Random(params int[] dims)
    {
        var shape = new Shape(dims);
        var random = new Random(++_seed);
        var host = new float[shape.Size];
        for (long i = 0; i < host.Length; i++) host[i] = random.NextSingle() * 2 - 1;
        var buffer = accelerator.Allocate1D(host);
        _buffers.Add(buffer);
        return new TensorView<float>(buffer.View.BaseView, shape);
    }

    public TensorView<T> Empty<T>(params int[] dims) where T : unmanaged
    {
        var shape = new Shape(dims);
        var buffer = accelerator.Allocate1D<T>(shape.Size);
        _buffers.Add(buffer);
        return new TensorView<T>(buffer.View.BaseView, shape);
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }
}

/// <summary>Conv2d forward, input gradient and filter gradient of one <see cref="ConvCase"/> with one algorithm.</summary>
public abstract class ConvBenchmarkBase : AcceleratorBenchmark
{
    private BenchmarkTensors _tensors = null!;
    private TensorView<float> _x, _w, _y, _dy, _dx, _dw;
    private Conv2dOptions _options = Conv2dOptions.Default;

    protected abstract ConvCase Case { get; }

    protected abstract ConvAlgorithm ChosenAlgorithm { get; }

    protected override void Setup()
    {
        var c = Case;
        _options = c.Options;
        _tensors = new BenchmarkTensors(Device);
        _x = _tensors.Random(c.Batch, c.Height, c.Width, c.InChannels);
        _w = _tensors.Random(c.Kernel, c.Kernel, c.InChannels, c.OutChannels);
        _y = _tensors.Empty<float>(c.Batch, c.OutHeight, c.OutWidth, c.OutChannels);
        _dy = _tensors.Random(c.Batch, c.OutHeight, c.OutWidth, c.OutChannels);
        _dx = _tensors.Empty<float>(c.Batch, c.Height, c.Width, c.InChannels);
        _dw = _tensors.Empty<float>(c.Kernel, c.Kernel, c.InChannels, c.OutChannels);
        Forward();
        BackwardInput();
        BackwardFilter();
    }

    protected override void Cleanup() => _tensors.Dispose();

    [Benchmark(Description = "conv2d forward")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = "Layer")]
    public void Forward()
    {
        Conv2dKernels.Forward(Stream, _x, _w, _y, _options, algorithm: ChosenAlgorithm);
        Stream.Synchronize();
    }

    [Benchmark(Description = "conv2d backward input")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = "Layer")]
    public void BackwardInput()
    {
        Conv2dKernels.BackwardInput(Stream, _dy, _w, _dx, _options, ChosenAlgorithm);
        Stream.Synchronize();
    }

    [Benchmark(Description = "conv2d backward filter")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = "Layer")]
    public void BackwardFilter()
    {
        Conv2dKernels.BackwardFilter(Stream, _x, _dy, _dw, _options, ChosenAlgorithm);
        Stream.Synchronize();
    }
}

/// <summary>
/// The tutorial's three convolutions on every accelerator with what Auto picks (Host on the CPU accelerator of an AVX-512 CPU,
/// Vector on pocl, ImplicitGemm on GPUs) and with the Float8 kernels (Vector: the 256-bit route of CPUs without AVX-512).
/// </summary>
public class ConvBenchmarks : ConvBenchmarkBase
{
    [ParamsSource(nameof(Layers))]
    public ConvCase Layer { get; set; } = ConvCase.Tutorial().First();

    public static IEnumerable<ConvCase> Layers() => ConvCase.Tutorial();

    [Params(ConvAlgorithm.Auto, ConvAlgorithm.Vector)]
    public ConvAlgorithm Algorithm { get; set; } = ConvAlgorithm.Vector;

    protected override ConvCase Case => Layer;

    protected override ConvAlgorithm ChosenAlgorithm => Algorithm;
}

/// <summary>The larger shape (batch 512, 64 -> 128 at 32x32, 3x3) with the algorithm each accelerator picks (Auto); the other one would take minutes per case on a CPU.</summary>
public class LargeConvBenchmarks : ConvBenchmarkBase
{
    [ParamsSource(nameof(Layers))]
    public ConvCase Layer { get; set; } = ConvCase.Large().First();

    public static IEnumerable<ConvCase> Layers() => ConvCase.Large();

    protected override ConvCase Case => Layer;

    protected override ConvAlgorithm ChosenAlgorithm => ConvAlgorithm.Auto;
}

/// <summary>2x2 stride-2 argmax pooling, its backward, and unpooling at the tutorial's shapes and the larger one.</summary>
public class PoolBenchmarks : AcceleratorBenchmark
{
    [ParamsSource(nameof(Layers))]
    public PoolCase Layer { get; set; } = PoolCase.All().First();

    public static IEnumerable<PoolCase> Layers() => PoolCase.All();

    private BenchmarkTensors _tensors = null!;
    private TensorView<float> _x, _pooled, _dy, _dx, _unpooled;
    private TensorView<long> _argmax;
    private readonly PoolOptions _options = new(2, 2, Padding.Same);

    protected override void Setup()
    {
        int n = Layer.Batch;
        _tensors = new BenchmarkTensors(Device);
        _x = _tensors.Random(n, Layer.Height, Layer.Width, Layer.Channels);
        _pooled = _tensors.Empty<float>(n, Layer.Height / 2, Layer.Width / 2, Layer.Channels);
        _argmax = _tensors.Empty<long>(n, Layer.Height / 2, Layer.Width / 2, Layer.Channels);
        _dy = _tensors.Random(n, Layer.Height / 2, Layer.Width / 2, Layer.Channels);
        _dx = _tensors.Empty<float>(n, Layer.Height, Layer.Width, Layer.Channels);
        _unpooled = _tensors.Empty<float>(n, Layer.Height, Layer.Width, Layer.Channels);
        MaxPoolWithArgmax();
        Unpool();
        UnpoolTrusted();
        MaxPoolBackward();
    }

    protected override void Cleanup() => _tensors.Dispose();

    [Benchmark(Description = "max pool with argmax")]
    [Throughput(0, "GB/s", WorkloadParameter = nameof(Layer))]
    public void MaxPoolWithArgmax()
    {
        Kernels.MaxPoolWithArgmax.Forward(Stream, _x, _pooled, _argmax, _options);
        Stream.Synchronize();
    }

    [Benchmark(Description = "max pool backward")]
    [Throughput(0, "GB/s", WorkloadParameter = nameof(Layer))]
    public void MaxPoolBackward()
    {
        Kernels.MaxPoolWithArgmax.Backward(Stream, _dy, _argmax, _dx, _options);
        Stream.Synchronize();
    }

    [Benchmark(Description = "unpool (validated)")]
    [Throughput(0, "GB/s", WorkloadParameter = nameof(Layer))]
    public void Unpool()
    {
        Kernels.Unpool.Forward(Stream, _pooled, _argmax, _unpooled);
        Stream.Synchronize();
    }

    [Benchmark(Description = "unpool (trusted unique)")]
    [Throughput(0, "GB/s", WorkloadParameter = nameof(Layer))]
    public void UnpoolTrusted()
    {
        Kernels.Unpool.Forward(Stream, _pooled, _argmax, _unpooled, indices: UnpoolIndices.TrustedUnique);
        Stream.Synchronize();
    }
}

/// <summary>The conv2d_transpose calls of the deconv pass (both stride 1, SAME, 5x5, with the forward filters).</summary>
public class DeconvBenchmarks : AcceleratorBenchmark
{
    [ParamsSource(nameof(Layers))]
    public DeconvCase Layer { get; set; } = DeconvCase.Tutorial().First();

    public static IEnumerable<DeconvCase> Layers() => DeconvCase.Tutorial();

    private BenchmarkTensors _tensors = null!;
    private TensorView<float> _value, _filter, _output;
    private readonly Conv2dOptions _options = new(1, Padding.Same, 1);

    protected override void Setup()
    {
        int n = KernelShapes.Batch;
        _tensors = new BenchmarkTensors(Device);
        _value = _tensors.Random(n, Layer.Height, Layer.Width, Layer.ValueChannels);
        _filter = _tensors.Random(Layer.Kernel, Layer.Kernel, Layer.OutputChannels, Layer.ValueChannels);
        _output = _tensors.Empty<float>(n, Layer.Height, Layer.Width, Layer.OutputChannels);
        Transpose();
    }

    protected override void Cleanup() => _tensors.Dispose();

    [Benchmark(Description = "conv2d transpose")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = nameof(Layer))]
    public void Transpose()
    {
        Conv2dTranspose.Forward(Stream, _value, _filter, _output, _options);
        Stream.Synchronize();
    }
}
