namespace GpuDeconv.Training;

/// <summary>
/// MNIST-style data sets in IDX files (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each plain or <c>.gz</c>): 28x28 gray images in 10 classes.
/// MNIST and Fashion-MNIST share names, format and sizes (<see cref="FashionMnist"/>).
/// </summary>
public static class Mnist
{
    /// <summary>Image height and width in pixels.</summary>
    public const int Size = 28;

    /// <summary>The digit classes 0..9.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>The base names (without <c>.gz</c>) of a split's images and labels files.</summary>
    public static (string Images, string Labels) FileNames(DatasetSplit split) => split switch
    {
        DatasetSplit.Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        DatasetSplit.Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown split."),
    };

    /// <summary>Loads a split of MNIST (or of any data set in its layout, named by <paramref name="classNames"/>) from <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing under both its plain and its <c>.gz</c> name.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or truncated, the images are not 28x28, the image and label counts differ, or a label is not a class index.</exception>
    public static Dataset Load(string directory, DatasetSplit split, IReadOnlyList<string>? classNames = null) =>
        Load(directory, split, classNames ?? ClassNames, "MNIST", "from http://yann.lecun.com/exdb/mnist/ (or a mirror)");

    internal static Dataset Load(string directory, DatasetSplit split, IReadOnlyList<string> classNames, string name, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var (imagesName, labelsName) = FileNames(split);
        string imagesPath = Find(directory, imagesName, name, source);
        string labelsPath = Find(directory, labelsName, name, source);

        var images = Idx.ReadImages(imagesPath);
        if (images.Rows != Size || images.Columns != Size)
            throw new InvalidDataException(
                $"{imagesPath}: images are {images.Rows}x{images.Columns} (dimensions at offsets 8 and 12), expected {Size}x{Size} for {name}.");
        var labelBytes = Idx.ReadLabels(labelsPath);
        if (labelBytes.Length != images.Count)
            throw new InvalidDataException(
                $"{labelsPath}: holds {labelBytes.Length} labels, but {imagesPath} holds {images.Count} images; expected one label per image (files from different sets?).");

        var labels = new int[labelBytes.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labelBytes[i] >= classNames.Count)
                throw new InvalidDataException(
                    $"{labelsPath}: label {i} at offset {8 + i} is {labelBytes[i]}, expected 0..{classNames.Count - 1}.");
            labels[i] = labelBytes[i];
        }
        return new Dataset($"{name} {split.ToString().ToLowerInvariant()}", images.Pixels, labels, Size, Size, 1, classNames);
    }

    /// <summary>The path of <paramref name="baseName"/> in the directory, plain or gzip-compressed.</summary>
    private static string Find(string directory, string baseName, string name, string source)
    {
        foreach (string candidate in new[] { baseName, baseName + ".gz" })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"{name}: neither {baseName} nor {baseName}.gz is in {Path.GetFullPath(directory)}. Put the four IDX files " +
            $"(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or .gz) there; get them {source}.",
            Path.Combine(directory, baseName + ".gz"));
    }
}
