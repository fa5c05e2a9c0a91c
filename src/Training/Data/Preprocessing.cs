namespace GpuDeconv.Training;

/// <summary>
/// TF's image preprocessing as in <c>cifar10_input.py</c> and the LeNet tutorial, on single HWC images held as floats
/// (raw 0..255 values, as TF works on them): crops, flips, brightness, contrast and per-image standardisation.
/// </summary>
public static class Preprocessing
{
    /// <summary>The side of the CIFAR-10 crops (<c>IMAGE_SIZE</c> in cifar10_input.py).</summary>
    public const int CifarCrop = 24;

    /// <summary>The side of LeNet's input (28x28 MNIST padded with 2 zeros each side).</summary>
    public const int LeNetSize = 32;

    /// <summary>
    /// TF's <c>resize_image_with_crop_or_pad</c>: crops or zero-pads each axis centrally (offset (larger - smaller) / 2,
    /// rounded down) from height x width to targetHeight x targetWidth; for 32 to 24 it keeps rows and columns 4..27.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive or a span does not match its size.</exception>
    public static void CropOrPad(
        ReadOnlySpan<float> image, int height, int width, int channels, Span<float> output, int targetHeight, int targetWidth)
    {
        CheckImage(nameof(CropOrPad), image.Length, height, width, channels, nameof(image));
        CheckImage(nameof(CropOrPad), output.Length, targetHeight, targetWidth, channels, nameof(output));
        int cropTop = Math.Max((height - targetHeight) / 2, 0), cropLeft = Math.Max((width - targetWidth) / 2, 0);
        int padTop = Math.Max((targetHeight - height) / 2, 0), padLeft = Math.Max((targetWidth - width) / 2, 0);
        int rows = Math.Min(height, targetHeight), columns = Math.Min(width, targetWidth);
        output.Clear();
        for (int y = 0; y < rows; y++)
        {
            image.Slice(((cropTop + y) * width + cropLeft) * channels, columns * channels)
                .CopyTo(output.Slice(((padTop + y) * targetWidth + padLeft) * channels));
        }
    }

    /// <summary>Copies the cropHeight x cropWidth window whose top-left pixel is (top, left) (TF's <c>crop_to_bounding_box</c>).</summary>
    /// <exception cref="ArgumentException">The window is not inside the image, or a span does not match its size.</exception>
    public static void Crop(
        ReadOnlySpan<float> image, int height, int width, int channels, int top, int left, Span<float> output, int cropHeight, int cropWidth)
    {
        CheckImage(nameof(Crop), image.Length, height, width, channels, nameof(image));
        CheckImage(nameof(Crop), output.Length, cropHeight, cropWidth, channels, nameof(output));
        if (top < 0 || left < 0 || top + cropHeight > height || left + cropWidth > width)
            throw new ArgumentException(
                $"Crop: window {cropHeight}x{cropWidth} at ({top}, {left}) is not inside the {height}x{width} image.", nameof(top));
        for (int y = 0; y < cropHeight; y++)
        {
            image.Slice(((top + y) * width + left) * channels, cropWidth * channels)
                .CopyTo(output.Slice(y * cropWidth * channels));
        }
    }

    /// <summary>Mirrors the image left to right in place (TF's <c>flip_left_right</c>).</summary>
    /// <exception cref="ArgumentException">The span does not hold height x width x channels values.</exception>
    public static void FlipLeftRight(Span<float> image, int height, int width, int channels)
    {
        CheckImage(nameof(FlipLeftRight), image.Length, height, width, channels, nameof(image));
        for (int y = 0; y < height; y++)
        {
            var row = image.Slice(y * width * channels, width * channels);
            for (int left = 0, right = width - 1; left < right; left++, right--)
            {
                for (int c = 0; c < channels; c++)
                    (row[left * channels + c], row[right * channels + c]) = (row[right * channels + c], row[left * channels + c]);
            }
        }
    }

    /// <summary>Adds <paramref name="delta"/> to every value, without clipping (TF's <c>adjust_brightness</c> on floats).</summary>
    public static void AdjustBrightness(Span<float> image, float delta)
    {
        for (int i = 0; i < image.Length; i++) image[i] += delta;
    }

    /// <summary>
    /// Scales each channel's deviation from that channel's mean over the image: x = (x - mean_c) * factor + mean_c
    /// (TF's <c>adjust_contrast</c>, AdjustContrastv2).
    /// </summary>
    /// <exception cref="ArgumentException">The span is empty or not a whole number of pixels.</exception>
    public static void AdjustContrast(Span<float> image, int channels, float factor)
    {
        if (channels <= 0 || image.Length == 0 || image.Length % channels != 0)
            throw new ArgumentException($"AdjustContrast: {image.Length} values are not a whole, non-zero number of {channels}-channel pixels.", nameof(image));
        int pixels = image.Length / channels;
        Span<double> means = channels <= 16 ? stackalloc double[channels] : new double[channels];
        means.Clear();
        for (int i = 0; i < image.Length; i++) means[i % channels] += image[i];
        for (int c = 0; c < channels; c++) means[c] /= pixels;
        for (int i = 0; i < image.Length; i++)
        {
            float mean = (float)means[i % channels];
            image[i] = (image[i] - mean) * factor + mean;
        }
    }

    /// <summary>
    /// TF's <c>per_image_standardization</c>: x = (x - mean) / max(stddev, 1/sqrt(N)) over all N values, with the
    /// population stddev; the floor keeps uniform images finite.
    /// </summary>
    /// <exception cref="ArgumentException">The span is empty.</exception>
    public static void Standardize(Span<float> image)
    {
        if (image.IsEmpty) throw new ArgumentException("Standardize: the image is empty.", nameof(image));
        // Two passes in double: the one-pass E[x^2] - E[x]^2 of TF 1.x loses digits on 0..255 data with small spread.
        double sum = 0;
        foreach (float v in image) sum += v;
        double mean = sum / image.Length;
        double squares = 0;
        foreach (float v in image) squares += (v - mean) * (v - mean);
        double stddev = Math.Sqrt(squares / image.Length);
        double scale = 1 / Math.Max(stddev, 1 / Math.Sqrt(image.Length));
        for (int i = 0; i < image.Length; i++) image[i] = (float)((image[i] - mean) * scale);
    }

    /// <summary>CIFAR-10 evaluation input (<c>cifar10_input.inputs</c>): the central 24x24 of a 32x32x3 byte image, standardised.</summary>
    /// <exception cref="ArgumentException">The image is not 3072 bytes or the output not 1728 floats.</exception>
    public static void CifarEval(ReadOnlySpan<byte> image, Span<float> output)
    {
        CheckImage(nameof(CifarEval), image.Length, Cifar10.Height, Cifar10.Width, Cifar10.Channels, nameof(image));
        Span<float> values = stackalloc float[Cifar10.Height * Cifar10.Width * Cifar10.Channels];
        for (int i = 0; i < values.Length; i++) values[i] = image[i];
        CropOrPad(values, Cifar10.Height, Cifar10.Width, Cifar10.Channels, output, CifarCrop, CifarCrop);
        Standardize(output);
    }

    /// <summary>
    /// CIFAR-10 training input (<c>cifar10_input.distorted_inputs</c>): a random 24x24 crop, a random left-right flip,
    /// a random brightness shift and contrast factor, then standardisation; the draws come from <paramref name="exampleSeed"/> only.
    /// </summary>
    /// <exception cref="ArgumentException">The image is not 3072 bytes or the output not 1728 floats.</exception>
    public static void CifarTrain(ReadOnlySpan<byte> image, Span<float> output, ulong exampleSeed) =>
        CifarTrain(image, output, CifarDistortion.Draw(exampleSeed));

    /// <summary>CIFAR-10 training input with the given draws (see <see cref="CifarTrain(ReadOnlySpan{byte}, Span{float}, ulong)"/>).</summary>
    /// <exception cref="ArgumentException">The image is not 3072 bytes, the output not 1728 floats, or the crop offsets not 0..8.</exception>
    public static void CifarTrain(ReadOnlySpan<byte> image, Span<float> output, CifarDistortion distortion)
    {
        CheckImage(nameof(CifarTrain), image.Length, Cifar10.Height, Cifar10.Width, Cifar10.Channels, nameof(image));
        Span<float> values = stackalloc float[Cifar10.Height * Cifar10.Width * Cifar10.Channels];
        for (int i = 0; i < values.Length; i++) values[i] = image[i];
        Crop(values, Cifar10.Height, Cifar10.Width, Cifar10.Channels, distortion.Top, distortion.Left, output, CifarCrop, CifarCrop);
        if (distortion.Flip) FlipLeftRight(output, CifarCrop, CifarCrop, Cifar10.Channels);
        AdjustBrightness(output, distortion.BrightnessDelta);
        AdjustContrast(output, Cifar10.Channels, distortion.ContrastFactor);
        Standardize(output);
    }

    /// <summary>LeNet's MNIST input: a 28x28 byte image scaled by 1/255 and padded with 2 zeros on each side to 32x32.</summary>
    /// <exception cref="ArgumentException">The image is not 784 bytes or the output not 1024 floats.</exception>
    public static void LeNet(ReadOnlySpan<byte> image, Span<float> output)
    {
        CheckImage(nameof(LeNet), image.Length, Mnist.Size, Mnist.Size, 1, nameof(image));
        CheckImage(nameof(LeNet), output.Length, LeNetSize, LeNetSize, 1, nameof(output));
        const int pad = (LeNetSize - Mnist.Size) / 2;
        output.Clear();
        for (int y = 0; y < Mnist.Size; y++)
        {
            for (int x = 0; x < Mnist.Size; x++)
                output[(y + pad) * LeNetSize + x + pad] = image[y * Mnist.Size + x] / 255f;
        }
    }

    /// <summary>
    /// The seed of one example's random draws, from the run's seed, the epoch and the example's index in the data set, so
    /// a distortion does not depend on batch order or thread scheduling.
    /// </summary>
    public static ulong ExampleSeed(ulong seed, int epoch, int index) =>
        SplitMix.Mix(SplitMix.Mix(SplitMix.Mix(seed) ^ (uint)epoch) ^ ((ulong)(uint)index << 32));

    private static void CheckImage(string op, int length, int height, int width, int channels, string name)
    {
        if (height <= 0 || width <= 0 || channels <= 0)
            throw new ArgumentException($"{op}: image size {height}x{width}x{channels} must be positive in every dimension.", name);
        if (length != height * width * channels)
            throw new ArgumentException($"{op}: {name} holds {length} values, expected {height}x{width}x{channels} = {height * width * channels}.", name);
    }
}
