using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using GpuDeconv.Training;

namespace GpuDeconv.Benchmarks;

// Whole steps through the autograd engine, as the trainer runs them: one training step of each tutorial
// model (forward, softmax cross-entropy, backward, Adam), and the tutorial's deconv images of a batch (forward
// with a trace, then the layer-1 and layer-2 projections). benchmarks/compare/torch_ops.py builds the same
// models in PyTorch. Work is counted as dense FLOP of the layers (docs/reference/perf-anchors.md section B), so the
// throughput column reads as GFLOP/s of useful arithmetic.

/// <summary>A tutorial model at a batch size, with the dense FLOP of its training step or deconv images.</summary>
public sealed record ModelCase(string Name, int Batch) : IWorkload
{
    public static IEnumerable<ModelCase> TrainingSteps() => [new("cifar", KernelShapes.Batch), new("lenet5", KernelShapes.Batch)];

    public static IEnumerable<ModelCase> Projections() => [new("cifar", KernelShapes.Batch)];

    // Multiply-adds per image of each layer, forward (SAME 5x5 at 24x24 and 12x12 and 6x6; LeNet VALID).
    private const double CifarConv1 = 24 * 24 * 64 * 25 * 3, CifarConv2 = 12 * 12 * 64 * 25 * 64, CifarConv3 = 6 * 6 * 10 * 25 * 64;
    private const double LeNetConv1 = 28 * 28 * 6 * 25 * 1, LeNetConv2 = 10 * 10 * 16 * 25 * 6, LeNetFc = 400 * 120 + 120 * 84 + 84 * 10;

    /// <summary>Multiply-adds per image: training = forward + filter gradients of every layer + input gradients of all but the first.</summary>
    public static double MultiplyAddsPerImage(string model, string method)
    {
        (double first, double rest) = model switch
        {
            "cifar" => (CifarConv1, CifarConv2 + CifarConv3),
            "lenet5" => (LeNetConv1, LeNetConv2 + LeNetFc),
            _ => throw new ArgumentException($"Unknown model '{model}'; expected cifar or lenet5.", nameof(model)),
        };
        return method switch
        {
            nameof(TrainingStepBenchmarks.TrainingStep) => 3 * (first + rest) - first,
            // Forward, then the layer-1 projection (conv1 transposed) and the layer-2 one (conv2 and conv1 transposed).
            nameof(DeconvImagesBenchmarks.DeconvImages) => first + rest + CifarConv1 + CifarConv2 + CifarConv1,
            _ => throw new ArgumentException($"No work formula for {method}.", nameof(method)),
        };
    }

    public double GigaUnits(string method) => 2 * MultiplyAddsPerImage(Name, method) * Batch / 1e9;

    public override string ToString() => Name;
}

/// <summary>A tutorial model with a fixed batch of random images and labels on the device; disposing frees all three.</summary>
internal sealed class ModelBatch : IDisposable
{
    public ModelBatch(Accelerator accelerator, string model, int batch)
    {
        Model = model switch
        {
            "cifar" => new CifarGapNet(accelerator, 24, 24, 3),
            "lenet5" => new LeNet5(accelerator),
            _ => throw new ArgumentException($"Unknown model '{model}'; expected cifar or lenet5.", nameof(model)),
        };
        var shape = model == "lenet5" ? new Shape(batch, LeNet5.InputSize, LeNet5.InputSize, 1) : new Shape(batch, 24, 24, 3);
        var random = new Random(7);
        var images = new float[shape.Size];
        for (long i = 0; i < images.Length; i++) images[i] = random.NextSingle() * 2 - 1;
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.Next(10);
        Images = Tensor.FromArray(accelerator, images, shape);
        Labels = Tensor.FromArray(accelerator, labels, [batch]);
    }

    public Module Model { get; }

    public Tensor Images { get; }

    public Tensor Labels { get; }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        foreach (var parameter in Model.Parameters()) parameter.Dispose();
    }
}

/// <summary>One training step of each tutorial model (batch 128): forward, loss, backward and an Adam update, with no host read inside.</summary>
public class TrainingStepBenchmarks : AcceleratorBenchmark
{
    [ParamsSource(nameof(Models))]
    public ModelCase Model { get; set; } = ModelCase.TrainingSteps().First();

    public static IEnumerable<ModelCase> Models() => ModelCase.TrainingSteps();

    private TrainingStep _step = null!;

    protected override void Setup()
    {
        _step = new TrainingStep(Device, Model.Name, Model.Batch);
        TrainingStep();
    }

    protected override void Cleanup() => _step.Dispose();

    [Benchmark(Description = "training step")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = nameof(Model))]
    public void TrainingStep()
    {
        _step.Run();
        Device.Synchronize();
    }
}

/// <summary>The tutorial's TensorBoard images of a batch: the traced forward pass and the layer-1 and layer-2 deconv projections (Tutorial variant, all maps).</summary>
public class DeconvImagesBenchmarks : AcceleratorBenchmark
{
    [ParamsSource(nameof(Models))]
    public ModelCase Model { get; set; } = ModelCase.Projections().First();

    public static IEnumerable<ModelCase> Models() => ModelCase.Projections();

    private ModelBatch _batch = null!;

    protected override void Setup()
    {
        _batch = new ModelBatch(Device, Model.Name, Model.Batch);
        DeconvImages();
    }

    protected override void Cleanup() => _batch.Dispose();

    [Benchmark(Description = "deconv images")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = nameof(Model))]
    public void DeconvImages()
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var trace = new ForwardTrace();
        ((CifarGapNet)_batch.Model).Logits(_batch.Images, trace);
        Deconvnet.Project(trace, layer: 0, DeconvnetVariant.Tutorial);
        Deconvnet.Project(trace, layer: 1, DeconvnetVariant.Tutorial);
        Device.Synchronize();
    }
}

/// <summary>A model, its Adam optimizer and a fixed batch: one <see cref="Run"/> is the trainer's step without the logging.</summary>
internal sealed class TrainingStep : IDisposable
{
    private readonly ModelBatch _batch;
    private readonly AdamOptimizer _optimizer;

    public TrainingStep(Accelerator accelerator, string model, int batch)
    {
        _batch = new ModelBatch(accelerator, model, batch);
        _optimizer = new AdamOptimizer(_batch.Model, 1e-4f);
    }

    public void Run()
    {
        using var scope = new TensorScope();
        var loss = Functional.SoftmaxCrossEntropy(_batch.Model.Forward(_batch.Images), _batch.Labels);
        _optimizer.ZeroGrad();
        loss.Backward(freeIntermediates: true);
        _optimizer.Step();
    }

    public void Dispose() => _batch.Dispose();
}
