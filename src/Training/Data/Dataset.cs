using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>
/// Labelled images held as raw bytes, HWC row-major (the formats on disk are 8-bit, and bytes take a quarter of the
/// memory of floats: 150 MB instead of 600 MB for CIFAR-10's training set); preprocessing turns them into floats.
/// </summary>
public sealed class Dataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Wraps <paramref name="pixels"/> (<paramref name="labels"/>.Length images of height x width x channels bytes, HWC) without copying.</summary>
    /// <exception cref="ArgumentException">A dimension is not positive, the pixel count does not match, there are no class names, or a label is not a class index.</exception>
    public Dataset(string name, byte[] pixels, int[] labels, int height, int width, int channels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (height <= 0 || width <= 0 || channels <= 0)
            throw new ArgumentException($"Dataset {name}: image size {height}x{width}x{channels} must be positive in every dimension.");
        long imageSize = (long)height * width * channels;
        if (pixels.LongLength != imageSize * labels.Length)
            throw new ArgumentException(
                $"Dataset {name}: {labels.Length} labels of {height}x{width}x{channels} images need {imageSize * labels.Length} pixel bytes, but pixels holds {pixels.LongLength}.",
                nameof(pixels));
        if (classNames.Count == 0)
            throw new ArgumentException($"Dataset {name}: needs at least one class name.", nameof(classNames));
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException(
                    $"Dataset {name}: label {i} is {labels[i]}, but there are {classNames.Count} classes (labels 0..{classNames.Count - 1}).",
                    nameof(labels));
        }

        Name = name;
        _pixels = pixels;
        _labels = labels;
        Height = height;
        Width = width;
        Channels = channels;
        ImageSize = (int)imageSize;
        ClassNames = classNames.ToArray();
    }

    /// <summary>What the data is, for messages and logs (e.g. <c>CIFAR-10 train</c>).</summary>
    public string Name { get; }

    /// <summary>The number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Channels per pixel (1 gray, 3 RGB).</summary>
    public int Channels { get; }

    /// <summary>Bytes per image (height x width x channels).</summary>
    public int ImageSize { get; }

    /// <summary>One image's shape, <c>[H, W, C]</c>.</summary>
    public Shape ImageShape => new(Height, Width, Channels);

    /// <summary>The class names; label i names class <c>ClassNames[i]</c>.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>All labels, one per image.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>All pixels, image after image, each HWC.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>The label of image <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside 0..Count-1.</exception>
    public int Label(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    /// <summary>The bytes of image <paramref name="index"/>, HWC row-major.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside 0..Count-1.</exception>
    public ReadOnlySpan<byte> ImageSpan(int index)
    {
        CheckIndex(index);
        return _pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>Writes image <paramref name="index"/> as floats holding the byte values 0..255 (the form TF's cifar10_input works on).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside 0..Count-1.</exception>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="ImageSize"/>.</exception>
    public void CopyImage(int index, Span<float> destination)
    {
        var image = ImageSpan(index);
        if (destination.Length < image.Length)
            throw new ArgumentException($"Dataset {Name}: an image has {image.Length} values, but the destination holds {destination.Length}.", nameof(destination));
        for (int i = 0; i < image.Length; i++) destination[i] = image[i];
    }

    /// <summary>A copy holding images <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the data set.</exception>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Dataset {Name}: range {start}..{start + count - 1} is outside 0..{Count - 1}.");
        return new Dataset(
            Name, _pixels.AsSpan(start * ImageSize, count * ImageSize).ToArray(), _labels.AsSpan(start, count).ToArray(),
            Height, Width, Channels, ClassNames);
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Dataset {Name}: image {index} is outside 0..{Count - 1}.");
    }
}
