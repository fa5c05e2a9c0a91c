using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>
/// Turns one raw HWC byte image into <paramref name="output"/> floats; <paramref name="exampleSeed"/>
/// (<see cref="Preprocessing.ExampleSeed"/>) drives any random draws. Called from several threads at once.
/// </summary>
public delegate void PreprocessFunction(ReadOnlySpan<byte> image, Span<float> output, ulong exampleSeed);

/// <summary>What the batch loader does to each example: the image shape it accepts, the shape it produces (both [H, W, C]) and the function.</summary>
public sealed record Preprocess
{
    /// <summary>Describes a preprocessing step.</summary>
    /// <exception cref="ArgumentException">A shape is not [H, W, C] with positive sizes.</exception>
    public Preprocess(string name, Shape input, Shape output, PreprocessFunction apply)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(apply);
        CheckShape(name, input, nameof(input));
        CheckShape(name, output, nameof(output));
        Name = name;
        Input = input;
        Output = output;
        Apply = apply;
    }

    /// <summary>A short name for logs.</summary>
    public string Name { get; }

    /// <summary>The image shape accepted, [H, W, C].</summary>
    public Shape Input { get; }

    /// <summary>The shape produced, [H, W, C].</summary>
    public Shape Output { get; }

    /// <summary>The function applied to each example.</summary>
    public PreprocessFunction Apply { get; }

    /// <summary>CIFAR-10 evaluation input: central 24x24 crop, standardised (also what the deconv tutorial trains on).</summary>
    public static Preprocess CifarEval { get; } = new(
        "cifar-eval", new Shape(Cifar10.Height, Cifar10.Width, Cifar10.Channels),
        new Shape(Preprocessing.CifarCrop, Preprocessing.CifarCrop, Cifar10.Channels),
        (image, output, _) => Preprocessing.CifarEval(image, output));

    /// <summary>CIFAR-10 training input with TF's random distortions, seeded per example.</summary>
    public static Preprocess CifarTrain { get; } = new(
        "cifar-train", new Shape(Cifar10.Height, Cifar10.Width, Cifar10.Channels),
        new Shape(Preprocessing.CifarCrop, Preprocessing.CifarCrop, Cifar10.Channels),
        Preprocessing.CifarTrain);

    /// <summary>LeNet's MNIST input: scaled to [0, 1] and padded to 32x32.</summary>
    public static Preprocess LeNet { get; } = new(
        "lenet", new Shape(Mnist.Size, Mnist.Size, 1), new Shape(Preprocessing.LeNetSize, Preprocessing.LeNetSize, 1),
        (image, output, _) => Preprocessing.LeNet(image, output));

    /// <summary>The byte values as floats 0..255, unchanged, for images of <paramref name="shape"/> [H, W, C].</summary>
    /// <exception cref="ArgumentException">The shape is not [H, W, C] with positive sizes.</exception>
    public static Preprocess Raw(Shape shape) => new("raw", shape, shape, (image, output, _) =>
    {
        for (int i = 0; i < image.Length; i++) output[i] = image[i];
    });

    /// <summary>The byte values scaled by 1/255 to [0, 1], for images of <paramref name="shape"/> [H, W, C].</summary>
    /// <exception cref="ArgumentException">The shape is not [H, W, C] with positive sizes.</exception>
    public static Preprocess Scale(Shape shape) => new("scale", shape, shape, (image, output, _) =>
    {
        for (int i = 0; i < image.Length; i++) output[i] = image[i] / 255f;
    });

    /// <summary>
    /// The whole image standardised as TF's <c>per_image_standardization</c> (what the CIFAR pipeline does after its crop),
    /// for images of <paramref name="shape"/> [H, W, C]: the CIFAR network's input for other data sets.
    /// </summary>
    /// <exception cref="ArgumentException">The shape is not [H, W, C] with positive sizes.</exception>
    public static Preprocess Standardized(Shape shape) => new("standardized", shape, shape, (image, output, _) =>
    {
        for (int i = 0; i < image.Length; i++) output[i] = image[i];
        Preprocessing.Standardize(output[..image.Length]);
    });

    private static void CheckShape(string name, Shape shape, string parameter)
    {
        ArgumentNullException.ThrowIfNull(shape, parameter);
        if (shape.Rank != 3 || shape.Size == 0)
            throw new ArgumentException($"Preprocess {name}: {parameter} shape {shape} must be [H, W, C] with positive sizes.", parameter);
    }
}
