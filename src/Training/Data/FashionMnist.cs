namespace GpuDeconv.Training;

/// <summary>Fashion-MNIST (Zalando): MNIST's file layout and sizes with 10 classes of clothing.</summary>
public static class FashionMnist
{
    /// <summary>Where the Debian/Ubuntu package <c>dataset-fashion-mnist</c> installs the four <c>.gz</c> files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads a split from <paramref name="directory"/>, by default <see cref="DefaultDirectory"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to get the files.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or truncated, the images are not 28x28, the counts differ, or a label is not 0..9.</exception>
    public static Dataset Load(DatasetSplit split, string? directory = null) =>
        Mnist.Load(directory ?? DefaultDirectory, split, ClassNames, "Fashion-MNIST",
            "with `apt-get install dataset-fashion-mnist` (installs them in /usr/share/datasets/fashion-mnist) or from https://github.com/zalandoresearch/fashion-mnist");
}
