using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Conv2d = GpuDeconv.Layers.Conv2d;

namespace GpuDeconv.Training;

/// <summary>The nonlinearity after each LeNet-5 layer but the last.</summary>
public enum Activation
{
    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
}

/// <summary>What one LeNet-5 forward pass computed: the activated conv maps, the fc2 features and the logits.</summary>
/// <param name="Conv1">[N, 28, 28, 6] after the activation.</param>
/// <param name="Conv2">[N, 10, 10, 16] after the activation.</param>
/// <param name="Fc2">[N, 84] after the activation (the tutorial's per-class feature map).</param>
/// <param name="Logits">[N, 10].</param>
public sealed record LeNetActivations(Tensor Conv1, Tensor Conv2, Tensor Fc2, Tensor Logits);

/// <summary>
/// The LeNet-5 tutorial (seed 003) for 32x32x1 input: conv 5x5x1x6 VALID, max-pool 2, conv 5x5x6x16 VALID, max-pool 2,
/// fc 400-120-84-10, with ReLU or sigmoid after every layer but the last. Weights truncated-normal (mean 0, sigma 0.1),
/// biases zero, as the tutorial.
/// </summary>
public sealed class LeNet5 : Module
{
    /// <summary>The input height and width.</summary>
    public const int InputSize = 32;

    /// <summary>The tutorial's sigma.</summary>
    public const float Sigma = 0.1f;

    /// <summary>Creates the network; layer i is seeded with seed + i.</summary>
    public LeNet5(Accelerator accelerator, Activation activation = Activation.Relu, int classes = 10, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Activation = activation;
        Conv1 = Register("conv1", new Conv2d(accelerator, 1, 6, 5, seed, padding: Padding.Valid, stddev: Sigma, biasValue: 0f));
        Conv2 = Register("conv2", new Conv2d(accelerator, 6, 16, 5, seed + 1, padding: Padding.Valid, stddev: Sigma, biasValue: 0f));
        Fc1 = Register("fc1", new Linear(accelerator, 400, 120, seed + 2, stddev: Sigma, biasValue: 0f));
        Fc2 = Register("fc2", new Linear(accelerator, 120, 84, seed + 3, stddev: Sigma, biasValue: 0f));
        Fc3 = Register("fc3", new Linear(accelerator, 84, classes, seed + 4, stddev: Sigma, biasValue: 0f));
    }

    /// <summary>ReLU or sigmoid.</summary>
    public Activation Activation { get; }

    /// <summary>conv 5x5x1x6 VALID.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>conv 5x5x6x16 VALID.</summary>
    public Conv2d Conv2 { get; }

    /// <summary>fc 400-120.</summary>
    public Linear Fc1 { get; }

    /// <summary>fc 120-84.</summary>
    public Linear Fc2 { get; }

    /// <summary>fc 84-classes (no activation: logits).</summary>
    public Linear Fc3 { get; }

    /// <summary>The logits [N, classes] of images [N, 32, 32, 1].</summary>
    /// <exception cref="ArgumentException">The images are not [N, 32, 32, 1].</exception>
    public override Tensor Forward(Tensor input)
    {
        CheckImages(input);
        // Only the logits go to the caller: every other activation is the graph's alone.
        using var intermediates = TensorScope.ForIntermediates();
        if (Activation != Activation.Relu) return intermediates.Keep(Run(input).Logits);
        // relu(conv) and the 2x2 max-pool as one op per block (the same values and gradients as Run's ops): the
        // conv maps, which only Run hands out, are freed as soon as they are pooled instead of living through the step.
        var pool = new PoolOptions(2, 2, Padding.Valid);
        var (h, _) = Conv1.ForwardReluMaxPool(input, pool);
        (h, _) = Conv2.ForwardReluMaxPool(h, pool);
        return intermediates.Keep(Classify(h).Logits);
    }

    /// <summary>The forward pass with its intermediate activations (for feature-map images and the fc2 class maps).</summary>
    /// <exception cref="ArgumentException">The images are not [N, 32, 32, 1].</exception>
    public LeNetActivations Run(Tensor images)
    {
        CheckImages(images);
        var conv1 = Activate(Conv1, images);                                                       // [N, 28, 28, 6]
        var h = Functional.MaxPool(conv1, size: 2, stride: 2, padding: Padding.Valid);             // [N, 14, 14, 6]
        var conv2 = Activate(Conv2, h);                                                            // [N, 10, 10, 16]
        h = Functional.MaxPool(conv2, size: 2, stride: 2, padding: Padding.Valid);                 // [N, 5, 5, 16]
        var (fc2, logits) = Classify(h);
        return new LeNetActivations(conv1, conv2, fc2, logits);
    }

    private static void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Shape.Rank != 4 || images.Shape[1] != InputSize || images.Shape[2] != InputSize || images.Shape[3] != 1)
            throw new ArgumentException($"LeNet5: images {images.Shape} must be [N, 32, 32, 1] (NHWC; 28x28 MNIST is padded by 2).", nameof(images));
    }

    // fc 400-120-84-classes on the pooled [N, 5, 5, 16] maps: the activated fc2 features and the logits.
    private (Tensor Fc2, Tensor Logits) Classify(Tensor pooled)
    {
        var h = Activate(Fc1.Forward(pooled.Reshape([pooled.Shape[0], 400])));
        var fc2 = Activate(Fc2.Forward(h));
        return (fc2, Fc3.Forward(fc2));
    }

    private Tensor Activate(Tensor x) => Activation == Activation.Sigmoid ? Functional.Sigmoid(x) : Functional.Relu(x);

    // ReLU convolutions run as one op, so the step does not keep their pre-activations.
    private Tensor Activate(Conv2d conv, Tensor x) => Activation == Activation.Sigmoid ? Functional.Sigmoid(conv.Forward(x)) : conv.ForwardRelu(x);
}

/// <summary>
/// The LeNet-5 tutorial as the trainer knows it (<c>--model lenet5</c>): gray 28x28 images padded to 32x32 (or 32x32
/// ones), 3e-3 for eight epochs, and in TensorBoard the tutorial's histograms of every weight and bias, its kernels and
/// fully connected weights as images, the feature maps of one input, and after training the fc2 features per class.
/// </summary>
internal sealed class LeNet5Model : ITrainerModel
{
    /// <summary>Test samples per class in the fc2 feature-map images.</summary>
    public const int ClassFeatureSamples = 100;

    // A library's module initializer is how a model registers without a list of models anywhere else.
#pragma warning disable CA2255
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => TrainerModels.Register(new LeNet5Model());

    public string Name => "lenet5";

    public string CheckpointName => "LeNet5";

    public string Description => "the LeNet-5 tutorial (2 convolutions, 3 fully connected layers; relu or sigmoid)";

    public bool TakesCifar10 => false;

    /// <summary>3e-3 constant for 8 epochs: the tutorial's 0.01 leaves the test accuracy on Fashion-MNIST swinging by a point or two from epoch to epoch.</summary>
    public TrainingDefaults Defaults(string dataset) => new(3e-3f, LearningRateSchedule.Constant, 0, 8);

    public (Preprocess Train, Preprocess Test) Inputs(Shape imageShape, bool distort)
    {
        ArgumentNullException.ThrowIfNull(imageShape);
        if (imageShape == Preprocess.LeNet.Input) return (Preprocess.LeNet, Preprocess.LeNet);
        var padded = new Shape(LeNet5.InputSize, LeNet5.InputSize, 1);
        if (imageShape == padded) return (Preprocess.Scale(padded), Preprocess.Scale(padded));
        throw new ArgumentException($"Trainer: LeNet-5 takes gray 28x28 images (padded to 32x32) or 32x32 ones, [28, 28, 1] or [32, 32, 1], but the data set's images are {imageShape}; use --model cifar-gap for other data.", nameof(imageShape));
    }

    public Module Create(Accelerator accelerator, ModelSetup setup) => new LeNet5(accelerator, setup.Activation, setup.Classes, setup.Seed);

    public void LogImages(TrainingSummaries summaries, Module model, long step)
    {
        var lenet = (LeNet5)model;
        foreach (var (name, parameter) in lenet.NamedParameters()) summaries.Writer.AddHistogram(name, parameter.ToArray(), step);
        AddKernels(summaries, "conv1/kernels", lenet.Conv1.Weight, step);
        AddKernels(summaries, "conv2/kernels", lenet.Conv2.Weight, step);
        foreach (var (name, fc) in new[] { ("fc1", lenet.Fc1), ("fc2", lenet.Fc2), ("fc3", lenet.Fc3) })
            summaries.AddImage(name + "/weights", ByteImage.FromFloats(TrainingSummaries.MinMax(fc.Weight.ToArray()), fc.InFeatures, fc.OutFeatures, 1, ImageLayout.Hwc), step);
        var run = lenet.Run(summaries.FirstImages(1));
        AddFeatureMaps(summaries, "conv1/features", run.Conv1, step);
        AddFeatureMaps(summaries, "conv2/features", run.Conv2, step);
    }

    /// <summary>
    /// The tutorial's picture of what fc2 learned: per class, the fc2 activations of its first 100 test samples (fewer
    /// when the test set holds fewer) as a [samples x 84] gray image, min-max scaled over that image; logged as
    /// fc2/class/&lt;k&gt; and saved as fc2-class-&lt;k&gt;.png in the log directory. Classes without test samples are skipped.
    /// </summary>
    public void LogFinal(TrainingSummaries summaries, Module model, long step)
    {
        var lenet = (LeNet5)model;
        using var noGrad = Autograd.NoGrad();
        var test = summaries.Test;
        for (int label = 0; label < test.ClassNames.Count; label++)
        {
            var indices = new List<int>(ClassFeatureSamples);
            for (int i = 0; i < test.Count && indices.Count < ClassFeatureSamples; i++)
                if (test.Label(i) == label) indices.Add(i);
            if (indices.Count == 0) continue;
            using var scope = new TensorScope();
            var fc2 = lenet.Run(summaries.Images(indices)).Fc2;
            var image = ByteImage.FromFloats(TrainingSummaries.MinMax(fc2.ToArray()), indices.Count, fc2.Shape[1], 1, ImageLayout.Hwc);
            summaries.AddImageAndSave(TrainingSummaries.Name($"fc2/class/{label}"), image, TrainingSummaries.Name($"fc2-class-{label}.png"), step);
        }
    }

    /// <summary>A filter [kh, kw, in, out] as a grid of kh x kw cells, one row per output channel, min-max scaled over the whole filter as the tutorial's <c>_conv_visual</c>.</summary>
    private static void AddKernels(TrainingSummaries summaries, string tag, Tensor filter, long step)
    {
        int kh = filter.Shape[0], kw = filter.Shape[1], inputs = filter.Shape[2], outputs = filter.Shape[3];
        float[] w = TrainingSummaries.MinMax(filter.ToArray());
        var cells = new byte[outputs * inputs * kh * kw];
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        cells[((o * inputs + i) * kh + y) * kw + x] = (byte)MathF.Round(w[((y * kw + x) * inputs + i) * outputs + o] * 255f);
        var images = new ByteImage[outputs * inputs];
        for (int c = 0; c < images.Length; c++) images[c] = ByteImage.FromBytes(cells.AsSpan(c * kh * kw, kh * kw), kh, kw, 1, ImageLayout.Hwc);
        summaries.AddImage(tag, ImageGrid.Tile(images, columns: inputs == 1 ? Math.Min(outputs, ImageGrid.DefaultColumns) : inputs, padding: 1), step);
    }

    /// <summary>The first image's feature maps [1, H, W, C] as a grid of C gray cells, each scaled on its own.</summary>
    private static void AddFeatureMaps(TrainingSummaries summaries, string tag, Tensor maps, long step)
    {
        int h = maps.Shape[1], w = maps.Shape[2], c = maps.Shape[3];
        float[] values = maps.ToArray();
        var planes = new float[c * h * w];
        for (int k = 0; k < c; k++)
            for (int p = 0; p < h * w; p++) planes[k * h * w + p] = values[p * c + k];
        summaries.AddImageGrid(tag, planes, h, w, 1, step);
    }
}
