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
